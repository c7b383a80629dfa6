// The notification part of alertd.yml, read as Alertmanager 0.25 reads alertmanager.yml:
// global fields, http_config, receivers of every type, inhibit_rules, time intervals,
// templates and alertmanager_config_file.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/check_config.h"
#include "config/config.h"

namespace alertd::config {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> ErrorStrings(const std::string& text) {
  std::vector<ConfigError> errors;
  Result<Config> config = ParseConfig(text, "alertd.yml", &errors);
  EXPECT_EQ(config.ok(), errors.empty());
  std::vector<std::string> out;
  for (const ConfigError& error : errors) {
    out.push_back(error.ToString());
  }
  return out;
}

Config MustParse(const std::string& text) {
  std::vector<ConfigError> errors;
  Result<Config> config = ParseConfig(text, "alertd.yml", &errors);
  for (const ConfigError& error : errors) {
    ADD_FAILURE() << error.ToString();
  }
  return config.ok() ? *config : Config{};
}

// A receiver "a" routed from the root, followed by `rest` (more keys of the receiver).
std::string WithReceiver(const std::string& rest) {
  return "route:\n  receiver: a\nreceivers:\n- name: a\n" + rest;
}

struct BadCase {
  std::string name;
  std::string text;
  std::vector<std::string> errors;
};

class NotificationBadInputTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(NotificationBadInputTest, ReportsExactErrors) {
  EXPECT_EQ(ErrorStrings(GetParam().text), GetParam().errors);
}

INSTANTIATE_TEST_SUITE_P(
    Global,
    NotificationBadInputTest,
    ::testing::Values(
        BadCase{"SecretAndFile",
                "global:\n  smtp_auth_password: a\n  smtp_auth_password_file: b\n"
                "  opsgenie_api_key: a\n  opsgenie_api_key_file: b\n"
                "  victorops_api_key: a\n  victorops_api_key_file: b\n",
                {"alertd.yml:3:3: at most one of smtp_auth_password and smtp_auth_password_file "
                 "may be set; remove one",
                 "alertd.yml:5:3: at most one of opsgenie_api_key and opsgenie_api_key_file may "
                 "be set; remove one",
                 "alertd.yml:7:3: at most one of victorops_api_key and victorops_api_key_file "
                 "may be set; remove one"}},
        BadCase{"Smarthost",
                "global:\n  smtp_smarthost: localhost\n",
                {"alertd.yml:2:19: invalid smtp_smarthost \"localhost\": the port is missing; "
                 "use host:port, for example localhost:25"}},
        BadCase{"SmarthostEmptyPort",
                "global:\n  smtp_smarthost: 'host:'\n",
                {"alertd.yml:2:19: invalid smtp_smarthost \"host:\": the port is empty; use "
                 "host:port, for example localhost:25"}},
        BadCase{"SmarthostColons",
                "global:\n  smtp_smarthost: 'a:b:25'\n",
                {"alertd.yml:2:19: invalid smtp_smarthost \"a:b:25\": it has too many colons; "
                 "put an IPv6 address in brackets, for example [::1]:25"}},
        BadCase{"ApiUrls",
                "global:\n  pagerduty_url: ftp://x\n  webex_api_url: http://\n",
                {"alertd.yml:2:18: invalid pagerduty_url \"ftp://x\": it must start with http:// "
                 "or https://",
                 "alertd.yml:3:18: invalid webex_api_url \"http://\": it has no host"}},
        BadCase{"SecretFileMissing",
                "global:\n  opsgenie_api_key_file: /nonexistent/key\n",
                {"alertd.yml:2:26: cannot read opsgenie_api_key_file \"/nonexistent/key\": No "
                 "such file or directory"}},
        BadCase{"UnknownField",
                "global:\n  smtp_hell: x\n",
                {"alertd.yml:2:3: unknown field \"smtp_hell\" in global; did you mean "
                 "\"smtp_hello\"?"}}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    HttpConfig,
    NotificationBadInputTest,
    ::testing::Values(
        BadCase{"BasicAndAuthorization",
                "global:\n  http_config:\n    basic_auth: {username: a}\n"
                "    authorization: {credentials: b}\n",
                {"alertd.yml:4:5: at most one of basic_auth and authorization may be set in "
                 "http_config; remove one"}},
        BadCase{"BasicAndBearer",
                "global:\n  http_config:\n    basic_auth: {username: a}\n    bearer_token: b\n",
                {"alertd.yml:4:5: at most one of basic_auth, bearer_token and bearer_token_file "
                 "may be set in http_config; remove the others"}},
        BadCase{"AuthorizationAndBearer",
                "global:\n  http_config:\n    authorization: {credentials: a}\n"
                "    bearer_token: b\n",
                {"alertd.yml:4:5: authorization cannot be combined with bearer_token or "
                 "bearer_token_file; move the token to authorization credentials"}},
        BadCase{"BearerAndFile",
                "global:\n  http_config:\n    bearer_token: a\n    bearer_token_file: b\n",
                {"alertd.yml:4:5: at most one of bearer_token and bearer_token_file may be set; "
                 "remove one"}},
        BadCase{"PasswordAndFile",
                "global:\n  http_config:\n    basic_auth: {username: a, password: b, "
                "password_file: c}\n",
                {"alertd.yml:3:44: at most one of password and password_file may be set; "
                 "remove one"}},
        BadCase{"CredentialsAndFile",
                "global:\n  http_config:\n    authorization: {credentials: b, credentials_file: "
                "c}\n",
                {"alertd.yml:3:37: at most one of credentials and credentials_file may be set; "
                 "remove one"}},
        BadCase{"BasicType",
                "global:\n  http_config:\n    authorization: {type: basic}\n",
                {"alertd.yml:3:27: authorization type \"basic\" is not allowed; use basic_auth "
                 "instead"}},
        BadCase{"ProxyUrl",
                "global:\n  http_config:\n    proxy_url: '::x'\n",
                {"alertd.yml:3:16: proxy_url is not a valid URL: it has no scheme"}},
        BadCase{"TlsVersion",
                "global:\n  http_config:\n    tls_config: {min_version: TLS14, max_version: "
                "TLS13}\n    oauth2: {}\n",
                {"alertd.yml:3:31: unknown TLS version \"TLS14\" in min_version; use TLS10, "
                 "TLS11, TLS12 or TLS13",
                 "alertd.yml:3:38: field \"max_version\" in tls_config is not supported yet by "
                 "alertd; remove it",
                 "alertd.yml:4:5: field \"oauth2\" in http_config is not supported yet by "
                 "alertd; remove it"}}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    Email,
    NotificationBadInputTest,
    ::testing::Values(
        BadCase{"NoTo",
                WithReceiver("  email_configs:\n  - from: a@example.org\n"),
                {"alertd.yml:6:5: email config has no to address; set to"}},
        BadCase{"NoSmarthostOrFrom",
                WithReceiver("  email_configs:\n  - to: a@example.org\n"),
                {"alertd.yml:6:5: email config has no smarthost; set smarthost here or "
                 "smtp_smarthost under global",
                 "alertd.yml:6:5: email config has no from address; set from here or smtp_from "
                 "under global"}},
        BadCase{"BadSmarthost",
                WithReceiver("  email_configs:\n  - to: a\n    from: b\n    smarthost: x\n"),
                {"alertd.yml:8:16: invalid smarthost \"x\": the port is missing; use host:port, "
                 "for example localhost:25"}},
        BadCase{"DuplicateHeader",
                WithReceiver("  email_configs:\n  - to: a\n    from: b\n    smarthost: x:25\n"
                             "    headers: {subject: a, SUBJECT: b}\n"),
                {"alertd.yml:9:27: duplicate header \"Subject\" in email config; header names "
                 "are case-insensitive, keep one"}},
        BadCase{"UnknownField",
                WithReceiver("  email_configs:\n  - to: a\n    form: b\n"),
                {"alertd.yml:6:5: email config has no smarthost; set smarthost here or "
                 "smtp_smarthost under global",
                 "alertd.yml:6:5: email config has no from address; set from here or smtp_from "
                 "under global",
                 "alertd.yml:7:5: unknown field \"form\" in email config; did you mean "
                 "\"from\"?"}}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    Sentry,
    NotificationBadInputTest,
    ::testing::Values(
        BadCase{"NoDsn",
                WithReceiver("  sentry_configs:\n  - environment: prod\n"),
                {"alertd.yml:6:5: sentry config has no dsn; set dsn or dsn_file"}},
        BadCase{"DsnAndFile",
                WithReceiver("  sentry_configs:\n  - dsn: https://k@h/1\n    dsn_file: f\n"),
                {"alertd.yml:7:5: at most one of dsn and dsn_file may be set; remove one"}},
        BadCase{"DsnScheme",
                WithReceiver("  sentry_configs:\n  - dsn: ftp://secretkey@h/1\n"),
                {"alertd.yml:6:10: dsn is not a valid Sentry DSN: it must start with https:// "
                 "or http://"}},
        BadCase{"DsnNoKey",
                WithReceiver("  sentry_configs:\n  - dsn: https://sentry.example.org/1\n"),
                {"alertd.yml:6:10: dsn is not a valid Sentry DSN: it has no public key; the form "
                 "is https://PUBLIC_KEY@HOST/PROJECT_ID"}},
        BadCase{"DsnEmptyKey",
                WithReceiver("  sentry_configs:\n  - dsn: https://@sentry.example.org/1\n"),
                {"alertd.yml:6:10: dsn is not a valid Sentry DSN: the public key before @ is "
                 "empty"}},
        BadCase{"DsnNoHost",
                WithReceiver("  sentry_configs:\n  - dsn: https://secretkey@/1\n"),
                {"alertd.yml:6:10: dsn is not a valid Sentry DSN: it has no host after @"}},
        BadCase{"DsnBadPort",
                WithReceiver("  sentry_configs:\n  - dsn: https://secretkey@h:x/1\n"),
                {"alertd.yml:6:10: dsn is not a valid Sentry DSN: its port must be a number from "
                 "0 to 65535"}},
        BadCase{"DsnNoProject",
                WithReceiver("  sentry_configs:\n  - dsn: https://secretkey@h/\n"),
                {"alertd.yml:6:10: dsn is not a valid Sentry DSN: it has no project ID at the end "
                 "of its path; the form is https://PUBLIC_KEY@HOST/PROJECT_ID"}},
        BadCase{"DsnProjectNotNumber",
                WithReceiver("  sentry_configs:\n  - dsn: https://secretkey@h/path/abc\n"),
                {"alertd.yml:6:10: dsn is not a valid Sentry DSN: its project ID \"abc\" is not "
                 "a number"}},
        BadCase{"DsnEmpty",
                WithReceiver("  sentry_configs:\n  - dsn: ''\n"),
                {"alertd.yml:6:10: dsn is empty; set it to the DSN of the Sentry project"}},
        BadCase{"ResolveFieldsPartly",
                WithReceiver("  sentry_configs:\n  - dsn: https://k@h/1\n    organization: o\n"),
                {"alertd.yml:6:5: sentry config lacks auth_token or auth_token_file and project; "
                 "resolving issues needs auth_token (or auth_token_file), organization and "
                 "project together, so set all three or none"}},
        BadCase{"ApiUrl",
                WithReceiver("  sentry_configs:\n  - dsn: https://k@h/1\n    api_url: sentry.io\n"),
                {"alertd.yml:7:14: invalid api_url \"sentry.io\": it must start with http:// or "
                 "https://"}}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    OtherIntegrations,
    NotificationBadInputTest,
    ::testing::Values(
        BadCase{"PagerdutyNoKey",
                WithReceiver("  pagerduty_configs:\n  - client: x\n"),
                {"alertd.yml:6:5: pagerduty config has no key; set routing_key or "
                 "routing_key_file (Events API v2), or service_key or service_key_file (v1)"}},
        BadCase{"PagerdutyKeyAndFile",
                WithReceiver("  pagerduty_configs:\n  - routing_key: a\n    routing_key_file: b\n"
                             "    url: ftp://x\n"),
                {"alertd.yml:7:5: at most one of routing_key and routing_key_file may be set; "
                 "remove one",
                 "alertd.yml:8:10: invalid url \"ftp://x\": it must start with http:// or "
                 "https://"}},
        BadCase{"PushoverMissing",
                WithReceiver("  pushover_configs:\n  - token: x\n  - user_key: x\n"),
                {"alertd.yml:6:5: pushover config has no user_key; set user_key",
                 "alertd.yml:7:5: pushover config has no token; set token"}},
        BadCase{"OpsgenieNoKey",
                WithReceiver("  opsgenie_configs:\n  - message: x\n"),
                {"alertd.yml:6:5: opsgenie config has no api_key; set api_key or api_key_file "
                 "here, or opsgenie_api_key or opsgenie_api_key_file under global"}},
        BadCase{"OpsgenieResponders",
                WithReceiver("  opsgenie_configs:\n  - api_key: x\n    teams: y\n"
                             "    responders:\n    - type: team\n    - {id: x, type: group}\n"),
                {"alertd.yml:7:5: unknown field \"teams\" in opsgenie config; did you mean "
                 "\"tags\"?",
                 "alertd.yml:9:7: opsgenie responder needs one of id, name or username",
                 "alertd.yml:10:21: invalid opsgenie responder type \"group\": use team, teams, "
                 "user, escalation or schedule"}},
        BadCase{"VictoropsMissing",
                WithReceiver("  victorops_configs:\n  - custom_fields: {entity_id: x}\n"),
                {"alertd.yml:6:5: victorops config has no api_key; set api_key or api_key_file "
                 "here, or victorops_api_key or victorops_api_key_file under global",
                 "alertd.yml:6:5: victorops config has no routing_key; set routing_key",
                 "alertd.yml:6:21: custom field \"entity_id\" in victorops config is one of "
                 "VictorOps's fixed fields; rename it"}},
        BadCase{"WechatMissing",
                WithReceiver("  wechat_configs:\n  - message_type: html\n"),
                {"alertd.yml:6:5: wechat config has no api_secret; set api_secret here or "
                 "wechat_api_secret under global",
                 "alertd.yml:6:5: wechat config has no corp_id; set corp_id here or "
                 "wechat_api_corp_id under global",
                 "alertd.yml:6:19: invalid message_type \"html\" in wechat config: use text or "
                 "markdown"}},
        BadCase{"TelegramMissing",
                WithReceiver("  telegram_configs:\n  - parse_mode: md\n"),
                {"alertd.yml:6:5: telegram config has no bot_token; set bot_token",
                 "alertd.yml:6:5: telegram config has no chat_id; set chat_id to the chat's "
                 "number",
                 "alertd.yml:6:17: invalid parse_mode \"md\" in telegram config: use Markdown, "
                 "MarkdownV2, HTML or an empty string"}},
        BadCase{"SnsTargets",
                WithReceiver("  sns_configs:\n  - subject: x\n  - topic_arn: a\n"
                             "    phone_number: b\n    sigv4: {secret_key: x}\n"),
                {"alertd.yml:6:5: sns config needs one of target_arn, topic_arn or phone_number; "
                 "set one",
                 "alertd.yml:7:5: sns config needs one of target_arn, topic_arn or phone_number; "
                 "set one",
                 "alertd.yml:9:12: sigv4 has secret_key but no access_key; set both or neither"}},
        BadCase{"WebexMissing",
                WithReceiver("  webex_configs:\n  - message: x\n"),
                {"alertd.yml:6:5: webex config has no room_id; set room_id",
                 "alertd.yml:6:5: webex config has no http_config authorization; set "
                 "http_config.authorization.credentials to the bot's access token"}},
        BadCase{"DiscordMissing",
                WithReceiver("  discord_configs:\n  - title: x\n  - webhook_url: discord.com\n"),
                {"alertd.yml:6:5: discord config has no webhook_url; set webhook_url",
                 "alertd.yml:7:18: webhook_url is not a valid URL: it must start with http:// "
                 "or https://"}},
        BadCase{"MsteamsIsNotInAlertmanager025",
                WithReceiver("  msteams_configs: []\n"),
                {"alertd.yml:5:3: unknown field \"msteams_configs\" in receiver; valid fields "
                 "are: name, slack_configs, webhook_configs, email_configs, sentry_configs, "
                 "pagerduty_configs, pushover_configs, opsgenie_configs, victorops_configs, "
                 "wechat_configs, telegram_configs, sns_configs, webex_configs, "
                 "discord_configs"}}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    Slack,
    NotificationBadInputTest,
    ::testing::Values(BadCase{
        "FieldsAndActions",
        WithReceiver("  slack_configs:\n  - api_url: http://127.0.0.1/\n"
                     "    fields: [{value: v}, {title: t}]\n"
                     "    actions:\n    - {text: x}\n    - {type: button}\n"
                     "    - {type: button, text: x}\n"
                     "    - {type: button, text: x, url: u, confirm: {title: x}}\n"),
        {"alertd.yml:7:14: slack field has no title; set title",
         "alertd.yml:7:26: slack field has no value; set value",
         "alertd.yml:9:7: slack action has no type; set type, for example button",
         "alertd.yml:10:7: slack action has no text; set text",
         "alertd.yml:11:7: slack action has neither url nor name; set one of them",
         "alertd.yml:12:48: slack action confirm has no text; set text"}}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    Inhibit,
    NotificationBadInputTest,
    ::testing::Values(
        BadCase{"Errors",
                "inhibit_rules:\n- source_matchers: ['a=~(']\n  target_match: {0bad: x}\n"
                "  target_match_re: {a: '(', b: }\n  equal: ['c-d']\n  foo: 1\n",
                {"alertd.yml:2:21: invalid matcher \"a=~(\" in source_matchers: invalid regular "
                 "expression \"(\": missing ): (?s:()",
                 "alertd.yml:3:18: invalid label name \"0bad\" in target_match: label names must "
                 "match [a-zA-Z_][a-zA-Z0-9_]*",
                 "alertd.yml:4:24: invalid regular expression in target_match_re for \"a\": "
                 "invalid regular expression \"(\": missing ): (?s:()",
                 "alertd.yml:4:29: regular expression for \"b\" in target_match_re is empty; give "
                 "a regular expression, or \"\" to match an absent label",
                 "alertd.yml:5:11: invalid label name \"c-d\" in equal: label names must match "
                 "[a-zA-Z_][a-zA-Z0-9_]*",
                 "alertd.yml:6:3: unknown field \"foo\" in inhibit rule; valid fields are: "
                 "source_matchers, target_matchers, source_match, source_match_re, "
                 "target_match, target_match_re, equal"}},
        BadCase{"NotAList",
                "inhibit_rules: {}\n",
                {"alertd.yml:1:16: inhibit_rules must be a list of inhibit rules, got a "
                 "mapping"}}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    TimeIntervals,
    NotificationBadInputTest,
    ::testing::Values(
        BadCase{"Names",
                "time_intervals:\n- name: x\n- time_intervals: []\nmute_time_intervals:\n"
                "- name: x\n- {}\n",
                {"alertd.yml:3:3: time interval has no name; set name to a unique name",
                 "alertd.yml:5:3: time interval name \"x\" is already used by the time interval "
                 "at line 2; names must be unique across time_intervals and "
                 "mute_time_intervals",
                 "alertd.yml:6:3: mute time interval has no name; set name to a unique name"}},
        BadCase{"Times",
                "time_intervals:\n- name: x\n  time_intervals:\n  - times:\n"
                "    - start_time: '09:00'\n    - {start_time: '9:00', end_time: '10:00'}\n"
                "    - {start_time: '10:00', end_time: '24:01'}\n"
                "    - {start_time: '10:00', end_time: '10:00'}\n",
                {"alertd.yml:5:7: times entry needs both start_time and end_time, as HH:MM",
                 "alertd.yml:6:20: invalid start_time \"9:00\": use HH:MM from 00:00 to 24:00",
                 "alertd.yml:7:39: invalid end_time \"24:01\": use HH:MM from 00:00 to 24:00",
                 "alertd.yml:8:39: end_time 10:00 is not after start_time 10:00; to span "
                 "midnight, use two entries, one ending at 24:00"}},
        BadCase{"InvalidIntervalNamedByRoute",
                "route:\n  receiver: r\n  routes:\n  - receiver: r\n"
                "    mute_time_intervals: [night]\nreceivers:\n- name: r\n"
                "time_intervals:\n- name: night\n  time_intervals:\n"
                "  - times: [{start_time: '22:00', end_time: '06:00'}]\n",
                {"alertd.yml:11:45: end_time 06:00 is not after start_time 22:00; to span "
                 "midnight, use two entries, one ending at 24:00"}},
        BadCase{"Ranges",
                "time_intervals:\n- name: x\n  time_intervals:\n"
                "  - weekdays: [mon, 'friday:monday', 'a:b:c']\n"
                "    days_of_month: ['0', '32', '-3:5', '10:2', '-1:-5']\n"
                "    months: [jan, '13', 'march:january']\n"
                "    years: ['2030:2020', x]\n"
                "    location: Mars/Olympus\n",
                {"alertd.yml:4:16: invalid weekdays entry: \"mon\" is not a valid weekday",
                 "alertd.yml:4:21: invalid weekdays entry: weekday range \"friday:monday\" ends "
                 "before it starts; weeks run from sunday to saturday, so split it",
                 "alertd.yml:4:38: invalid weekdays entry: invalid range \"a:b:c\": use "
                 "START:END",
                 "alertd.yml:5:21: invalid days_of_month entry: day of the month 0 is out of "
                 "range: use 1 to 31, or -31 to -1 counting from the month's end",
                 "alertd.yml:5:26: invalid days_of_month entry: day of the month 32 is out of "
                 "range: use 1 to 31, or -31 to -1 counting from the month's end",
                 "alertd.yml:5:32: invalid days_of_month entry: day range \"-3:5\" starts at a "
                 "negative day and ends at a positive one; make the end negative too",
                 "alertd.yml:5:40: invalid days_of_month entry: day range \"10:2\" ends before it "
                 "starts",
                 "alertd.yml:5:48: invalid days_of_month entry: day range \"-1:-5\" ends before "
                 "it starts",
                 "alertd.yml:6:14: invalid months entry: \"jan\" is not a valid month",
                 "alertd.yml:6:19: invalid months entry: month 13 is out of range: use 1 to 12 "
                 "or a name",
                 "alertd.yml:6:25: invalid months entry: month range \"march:january\" ends "
                 "before it starts; years run from january to december, so split it",
                 "alertd.yml:7:13: invalid years entry: year range \"2030:2020\" ends before it "
                 "starts",
                 "alertd.yml:7:26: invalid years entry: \"x\" is not a valid year",
                 "alertd.yml:8:15: invalid location: unknown time zone \"Mars/Olympus\": use an "
                 "IANA name such as Europe/Berlin, as listed under /usr/share/zoneinfo"}},
        BadCase{"RouteReferences",
                "time_intervals:\n- name: night\nroute:\n  receiver: a\n"
                "  mute_time_intervals: [night]\n  routes:\n"
                "  - mute_time_intervals: [nigth]\n    active_time_intervals: [night, day]\n"
                "    notify_resolved_when_muted: maybe\nreceivers:\n- name: a\n",
                {"alertd.yml:5:3: the root route must not have mute_time_intervals; move them "
                 "to a route under routes",
                 "alertd.yml:7:27: time interval \"nigth\" in mute_time_intervals is not "
                 "defined; add it under time_intervals or use one of: \"night\"",
                 "alertd.yml:8:36: time interval \"day\" in active_time_intervals is not "
                 "defined; add it under time_intervals or use one of: \"night\"",
                 "alertd.yml:9:33: invalid notify_resolved_when_muted \"maybe\": use true or "
                 "false"}},
        BadCase{"Templates",
                "templates: ['[', 'a\\', '[a-]', 'ok/*.tmpl']\n",
                {"alertd.yml:1:13: invalid templates pattern \"[\": a [ in it is not closed by ]",
                 "alertd.yml:1:18: invalid templates pattern \"a\\\": it ends with a lone "
                 "backslash",
                 "alertd.yml:1:24: invalid templates pattern \"[a-]\": a range in a [...] "
                 "character class in it is malformed"}}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(NotificationConfigTest, GlobalDefaultsAreAlertmanagers) {
  Config config = MustParse("");
  EXPECT_EQ(config.global.smtp_hello, "localhost");
  EXPECT_TRUE(config.global.smtp_require_tls);
  EXPECT_EQ(config.global.pagerduty_url, "https://events.pagerduty.com/v2/enqueue");
  EXPECT_EQ(config.global.opsgenie_api_url, "https://api.opsgenie.com/");
  EXPECT_EQ(config.global.wechat_api_url, "https://qyapi.weixin.qq.com/cgi-bin/");
  EXPECT_EQ(config.global.victorops_api_url,
            "https://alert.victorops.com/integrations/generic/20131114/alert/");
  EXPECT_EQ(config.global.telegram_api_url, "https://api.telegram.org");
  EXPECT_EQ(config.global.webex_api_url, "https://webexapis.com/v1/messages");
  EXPECT_TRUE(config.global.http_config.follow_redirects);
}

TEST(NotificationConfigTest, EmailDefaultsComeFromGlobal) {
  Config config = MustParse(
      "global:\n  smtp_from: am@example.org\n  smtp_smarthost: mail:587\n"
      "  smtp_hello: host.example.org\n  smtp_auth_username: user\n"
      "  smtp_auth_password: pass\n  smtp_auth_identity: id\n  smtp_auth_secret: s\n"
      "  smtp_require_tls: false\n" +
      WithReceiver("  email_configs:\n  - to: team@example.org\n"
                   "  - to: other@example.org\n    from: me@example.org\n"
                   "    smarthost: other:25\n    require_tls: true\n"
                   "    headers: {subject: Hi, x-team: a}\n    html: ''\n    text: t\n"));
  ASSERT_EQ(config.receivers.size(), 1u);
  ASSERT_EQ(config.receivers[0].email_configs.size(), 2u);
  const EmailConfig& first = config.receivers[0].email_configs[0];
  EXPECT_EQ(first.from, "am@example.org");
  EXPECT_EQ(first.smarthost, "mail:587");
  EXPECT_EQ(first.hello, "host.example.org");
  EXPECT_EQ(first.auth_username, "user");
  EXPECT_EQ(first.auth_password, "pass");
  EXPECT_EQ(first.auth_identity, "id");
  EXPECT_EQ(first.auth_secret, "s");
  EXPECT_EQ(first.require_tls, false);
  EXPECT_FALSE(first.send_resolved);
  EXPECT_EQ(first.html, R"({{ template "email.default.html" . }})");
  EXPECT_EQ(first.headers.at("Subject"), R"({{ template "email.default.subject" . }})");
  EXPECT_EQ(first.headers.at("To"), "team@example.org");
  EXPECT_EQ(first.headers.at("From"), "am@example.org");
  EXPECT_EQ(first.mark.line, 15);
  const EmailConfig& second = config.receivers[0].email_configs[1];
  EXPECT_EQ(second.from, "me@example.org");
  EXPECT_EQ(second.smarthost, "other:25");
  EXPECT_EQ(second.require_tls, true);
  EXPECT_EQ(second.html, "");
  EXPECT_EQ(second.text, "t");
  EXPECT_EQ(second.headers.at("Subject"), "Hi");
  EXPECT_EQ(second.headers.at("X-Team"), "a");
  EXPECT_EQ(second.headers.at("From"), "me@example.org");
}

TEST(NotificationConfigTest, SentryConfigIsRead) {
  Config config = MustParse(WithReceiver(
      "  sentry_configs:\n  - dsn: https://abc123@o1.ingest.sentry.io:443/path/42\n"
      "    environment: prod\n    release: '1.2'\n    auth_token: tok\n"
      "    organization: org\n    project: proj\n    api_url: https://sentry.io/api/0/\n"
      "    send_resolved: false\n"));
  ASSERT_EQ(config.receivers.at(0).sentry_configs.size(), 1u);
  const SentryConfig& sentry = config.receivers[0].sentry_configs[0];
  EXPECT_EQ(sentry.dsn, "https://abc123@o1.ingest.sentry.io:443/path/42");
  EXPECT_EQ(sentry.environment, "prod");
  EXPECT_EQ(sentry.release, "1.2");
  EXPECT_EQ(sentry.auth_token, "tok");
  EXPECT_EQ(sentry.organization, "org");
  EXPECT_EQ(sentry.project, "proj");
  EXPECT_EQ(sentry.api_url, "https://sentry.io/api/0/");
  EXPECT_FALSE(sentry.send_resolved);
}

TEST(NotificationConfigTest, HttpConfigIsReadAndInherited) {
  Config config = MustParse(
      "global:\n  http_config:\n    bearer_token: tok\n    proxy_url: http://proxy:3128\n"
      "    follow_redirects: false\n    tls_config:\n      ca_file: ca.pem\n"
      "      server_name: x\n      insecure_skip_verify: true\n      min_version: TLS12\n" +
      WithReceiver("  webhook_configs:\n  - url: http://127.0.0.1/\n"
                   "  - url: http://127.0.0.1/\n    http_config:\n"
                   "      basic_auth: {username: u, password: p}\n"
                   "  - url: http://127.0.0.1/\n    http_config:\n"
                   "  slack_configs:\n  - api_url: http://127.0.0.1/\n    http_config:\n"
                   "      authorization: {type: Token, credentials: c}\n"));
  const HttpClientConfig& global = config.global.http_config;
  EXPECT_EQ(global.authorization_type, "Bearer");
  EXPECT_EQ(global.authorization_credentials, "tok");
  EXPECT_EQ(global.proxy_url, "http://proxy:3128");
  EXPECT_FALSE(global.follow_redirects);
  EXPECT_EQ(global.tls_config.ca_file, "ca.pem");
  EXPECT_EQ(global.tls_config.server_name, "x");
  EXPECT_TRUE(global.tls_config.insecure_skip_verify);
  EXPECT_EQ(global.tls_config.min_version, "TLS12");
  const Receiver& receiver = config.receivers.at(0);
  EXPECT_EQ(receiver.webhook_configs.at(0).http_config.authorization_credentials, "tok");
  const HttpClientConfig& own = receiver.webhook_configs.at(1).http_config;
  EXPECT_EQ(own.basic_auth_username, "u");
  EXPECT_EQ(own.basic_auth_password, "p");
  EXPECT_EQ(own.authorization_credentials, "");
  EXPECT_TRUE(own.follow_redirects);
  EXPECT_EQ(receiver.webhook_configs.at(2).http_config.authorization_credentials, "tok");
  EXPECT_EQ(receiver.slack_configs.at(0).http_config.authorization_type, "Token");
  EXPECT_EQ(receiver.slack_configs.at(0).http_config.authorization_credentials, "c");
}

TEST(NotificationConfigTest, SlackFieldsAreRead) {
  Config config = MustParse(WithReceiver(
      "  slack_configs:\n  - api_url: http://127.0.0.1/\n    color: good\n"
      "    title_link: tl\n    pretext: pt\n    footer: ft\n    fallback: fb\n"
      "    callback_id: cb\n    icon_emoji: ':x:'\n    icon_url: iu\n    image_url: im\n"
      "    thumb_url: th\n    short_fields: true\n    link_names: true\n"
      "    mrkdwn_in: [text, pretext]\n    fields:\n    - {title: a, value: b, short: false}\n"
      "    - {title: c, value: d}\n    actions:\n"
      "    - {type: button, text: go, url: u, style: danger, name: n, value: v,\n"
      "       confirm: {text: sure, title: t, ok_text: ok, dismiss_text: no}}\n"));
  const SlackConfig& slack = config.receivers.at(0).slack_configs.at(0);
  EXPECT_EQ(slack.color, "good");
  EXPECT_EQ(slack.title_link, "tl");
  EXPECT_EQ(slack.pretext, "pt");
  EXPECT_EQ(slack.footer, "ft");
  EXPECT_EQ(slack.fallback, "fb");
  EXPECT_EQ(slack.callback_id, "cb");
  EXPECT_EQ(slack.icon_emoji, ":x:");
  EXPECT_EQ(slack.icon_url, "iu");
  EXPECT_EQ(slack.image_url, "im");
  EXPECT_EQ(slack.thumb_url, "th");
  EXPECT_TRUE(slack.short_fields);
  EXPECT_TRUE(slack.link_names);
  EXPECT_EQ(slack.mrkdwn_in, (std::vector<std::string>{"text", "pretext"}));
  ASSERT_EQ(slack.fields.size(), 2u);
  EXPECT_EQ(slack.fields[0].title, "a");
  EXPECT_EQ(slack.fields[0].short_field, false);
  EXPECT_FALSE(slack.fields[1].short_field.has_value());
  ASSERT_EQ(slack.actions.size(), 1u);
  EXPECT_EQ(slack.actions[0].style, "danger");
  EXPECT_EQ(slack.actions[0].value, "v");
  ASSERT_TRUE(slack.actions[0].confirm.has_value());
  EXPECT_EQ(slack.actions[0].confirm->dismiss_text, "no");
}

TEST(NotificationConfigTest, InhibitRulesMergeOldAndNewMatchers) {
  Config config = MustParse(
      "inhibit_rules:\n- source_matchers: ['severity=\"critical\"', 'env=~\"prod|staging\"']\n"
      "  source_match: {team: a}\n  source_match_re: {region: 'eu-.*'}\n"
      "  target_matchers: ['severity!=critical']\n  target_match: {x: y}\n"
      "  equal: [alertname, cluster]\n");
  ASSERT_EQ(config.inhibit_rules.size(), 1u);
  const InhibitRule& rule = config.inhibit_rules[0];
  EXPECT_EQ(rule.source_matchers.size(), 4u);
  EXPECT_EQ(rule.target_matchers.size(), 2u);
  EXPECT_EQ(rule.equal, (std::vector<std::string>{"alertname", "cluster"}));
  EXPECT_EQ(rule.mark.line, 2);
  Labels source({{"severity", "critical"}, {"env", "prod"}, {"team", "a"}, {"region", "eu-1"}});
  for (const LabelMatcher& matcher : rule.source_matchers) {
    EXPECT_TRUE(matcher.Matches(source.Get(matcher.name()))) << matcher.name();
  }
}

TEST(NotificationConfigTest, TimeIntervalsAreParsed) {
  Config config = MustParse(
      "time_intervals:\n- name: work\n  time_intervals:\n"
      "  - times: [{start_time: '09:00', end_time: '17:30'}]\n"
      "    weekdays: ['Monday:friday', sunday]\n    days_of_month: ['1:7', '-3:-1', 15]\n"
      "    months: ['january:march', 12, 'May']\n    years: ['2024:2026', '2030']\n"
      "    location: Europe/Berlin\n"
      "mute_time_intervals:\n- name: holidays\n  time_intervals:\n  - months: [december]\n"
      "    location: UTC\n");
  ASSERT_EQ(config.time_intervals.size(), 2u);
  const TimeInterval& work = config.time_intervals[0];
  EXPECT_EQ(work.name, "work");
  ASSERT_EQ(work.time_intervals.size(), 1u);
  const TimeIntervalSpec& spec = work.time_intervals[0];
  ASSERT_EQ(spec.times.size(), 1u);
  EXPECT_EQ(spec.times[0].begin, 540);
  EXPECT_EQ(spec.times[0].end, 1050);
  ASSERT_EQ(spec.weekdays.size(), 2u);
  EXPECT_EQ(spec.weekdays[0].begin, 1);
  EXPECT_EQ(spec.weekdays[0].end, 5);
  EXPECT_EQ(spec.weekdays[1].begin, 0);
  ASSERT_EQ(spec.days_of_month.size(), 3u);
  EXPECT_EQ(spec.days_of_month[1].begin, -3);
  EXPECT_EQ(spec.days_of_month[1].end, -1);
  ASSERT_EQ(spec.months.size(), 3u);
  EXPECT_EQ(spec.months[0].end, 3);
  EXPECT_EQ(spec.months[1].begin, 12);
  EXPECT_EQ(spec.months[2].begin, 5);
  ASSERT_EQ(spec.years.size(), 2u);
  EXPECT_EQ(spec.years[0].begin, 2024);
  EXPECT_EQ(spec.location, "Europe/Berlin");
  EXPECT_EQ(config.time_intervals[1].name, "holidays");
  EXPECT_EQ(config.time_intervals[1].time_intervals.at(0).location, "");
}

TEST(NotificationConfigTest, RouteTimeIntervalsAndResolvedFlagAreInherited) {
  Config config = MustParse(
      "time_intervals:\n- name: night\n- name: day\nroute:\n  receiver: a\n"
      "  notify_resolved_when_muted: false\n  routes:\n"
      "  - mute_time_intervals: [night]\n    active_time_intervals: [day]\n"
      "    routes:\n    - notify_resolved_when_muted: true\n"
      "  - receiver: a\nreceivers:\n- name: a\n");
  ASSERT_TRUE(config.route.has_value());
  EXPECT_FALSE(config.route->notify_resolved_when_muted);
  ASSERT_EQ(config.route->routes.size(), 2u);
  const Route& first = config.route->routes[0];
  EXPECT_EQ(first.mute_time_intervals, (std::vector<std::string>{"night"}));
  EXPECT_EQ(first.active_time_intervals, (std::vector<std::string>{"day"}));
  EXPECT_FALSE(first.notify_resolved_when_muted);
  EXPECT_TRUE(first.routes.at(0).notify_resolved_when_muted);
  EXPECT_FALSE(config.route->routes[1].notify_resolved_when_muted);
  EXPECT_TRUE(MustParse("").route == std::nullopt);
}

TEST(NotificationConfigTest, TemplatesAreKeptAsWritten) {
  Config config = MustParse("templates: ['/etc/alertd/*.tmpl', 'local/[ab]*.tmpl']\n");
  EXPECT_EQ(config.templates, (std::vector<std::string>{"/etc/alertd/*.tmpl", "local/[ab]*.tmpl"}));
  EXPECT_EQ(config.templates_base_dir, ".");
}

TEST(NotificationConfigTest, UnsupportedIntegrationsAreRecordedAndRefusedByRun) {
  Config config = MustParse(
      "global:\n  opsgenie_api_key: k\n" +
      WithReceiver("  pagerduty_configs:\n  - routing_key: k\n  opsgenie_configs:\n  - {}\n"
                   "  webhook_configs:\n  - url: http://127.0.0.1/\n"));
  const Receiver& receiver = config.receivers.at(0);
  ASSERT_EQ(receiver.unsupported_integrations.size(), 2u);
  EXPECT_EQ(receiver.unsupported_integrations[0].type, "pagerduty_configs");
  EXPECT_EQ(receiver.unsupported_integrations[0].mark.line, 8);
  Status runnable = CheckRunnable(config);
  ASSERT_FALSE(runnable.ok());
  EXPECT_EQ(runnable.error().message(),
            "alertd.yml:8:5: receiver \"a\" uses pagerduty_configs, which alertd cannot send yet; "
            "remove it, or use slack_configs, webhook_configs, email_configs or sentry_configs\n"
            "alertd.yml:10:5: receiver \"a\" uses opsgenie_configs, which alertd cannot send "
            "yet; remove it, or use slack_configs, webhook_configs, email_configs or "
            "sentry_configs");
  EXPECT_TRUE(CheckRunnable(MustParse(WithReceiver(""))).ok());
}

class AlertmanagerFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("alertd-amfile-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "am");
  }

  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }

  std::vector<std::string> Errors(const std::string& path) {
    std::vector<ConfigError> errors;
    Result<Config> config = LoadConfigFile(path, &errors);
    EXPECT_EQ(config.ok(), errors.empty());
    std::vector<std::string> out;
    for (const ConfigError& error : errors) {
      out.push_back(error.ToString());
    }
    return out;
  }

  fs::path dir_;
};

TEST_F(AlertmanagerFileTest, NotificationPartIsReadFromTheFile) {
  Write("am/key", "secret\n");
  std::string am = Write("am/alertmanager.yml",
                         "global:\n  smtp_smarthost: mail:25\n  smtp_from: a@example.org\n"
                         "  opsgenie_api_key_file: key\n"
                         "templates: ['*.tmpl']\nroute:\n  receiver: mail\n"
                         "receivers:\n- name: mail\n  email_configs:\n  - to: b@example.org\n"
                         "inhibit_rules:\n- equal: [x]\ntime_intervals:\n- name: t\n");
  std::string path = Write("alertd.yml",
                           "global:\n  scrape_interval: 15s\n"
                           "alertmanager_config_file: am/alertmanager.yml\n");
  std::vector<ConfigError> errors;
  Result<Config> config = LoadConfigFile(path, &errors);
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->alertmanager_config_file, am);
  EXPECT_EQ(config->global.scrape_interval, Duration(15000));
  EXPECT_EQ(config->global.smtp_smarthost, "mail:25");
  EXPECT_EQ(config->global.opsgenie_api_key, "secret");
  EXPECT_EQ(config->templates, (std::vector<std::string>{"*.tmpl"}));
  EXPECT_EQ(config->templates_base_dir, (dir_ / "am").string());
  ASSERT_TRUE(config->route.has_value());
  EXPECT_EQ(config->route->mark.file, am);
  ASSERT_EQ(config->receivers.size(), 1u);
  EXPECT_EQ(config->receivers[0].email_configs.at(0).mark.file, am);
  EXPECT_EQ(config->receivers[0].email_configs.at(0).mark.line, 11);
  EXPECT_EQ(config->inhibit_rules.size(), 1u);
  EXPECT_EQ(config->time_intervals.size(), 1u);
}

TEST_F(AlertmanagerFileTest, RoutingFollowsTheFile) {
  std::string am = Write("am/alertmanager.yml",
                         "route:\n  receiver: team\n  routes:\n  - matchers: [severity=page]\n"
                         "    receiver: oncall\nreceivers:\n- name: team\n- name: oncall\n");
  std::string path = Write("alertd.yml", "alertmanager_config_file: am/alertmanager.yml\n");
  std::vector<ConfigError> errors;
  Result<Config> config = LoadRoutingFile(path, &errors);
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_TRUE(errors.empty());
  ASSERT_TRUE(config->route.has_value());
  EXPECT_EQ(config->route->receiver, "team");
  EXPECT_EQ(config->route->mark.file, am);
  ASSERT_EQ(config->route->routes.size(), 1u);
  EXPECT_EQ(config->route->routes[0].receiver, "oncall");
  EXPECT_EQ(config->receivers.size(), 2u);
}

TEST_F(AlertmanagerFileTest, ErrorsNameTheFile) {
  std::string am = Write("am/alertmanager.yml",
                         "global:\n  scrape_interval: 1m\nroute:\n  receiver: nope\n"
                         "receivers:\n- name: a\n");
  std::string path =
      Write("alertd.yml", "alertmanager_config_file: am/alertmanager.yml\nweb: {foo: 1}\n");
  EXPECT_EQ(Errors(path),
            (std::vector<std::string>{
                path + ":2:7: unknown field \"foo\" in web; valid fields are: listen_address, "
                       "external_url, config_file",
                am + ":2:3: unknown field \"scrape_interval\" in global; valid fields are: "
                     "resolve_timeout, http_config, smtp_from, smtp_hello, smtp_smarthost, "
                     "smtp_auth_username, smtp_auth_password, smtp_auth_password_file, "
                     "smtp_auth_identity, smtp_auth_secret, smtp_require_tls, slack_api_url, "
                     "slack_api_url_file, pagerduty_url, opsgenie_api_url, opsgenie_api_key, "
                     "opsgenie_api_key_file, wechat_api_url, wechat_api_secret, "
                     "wechat_api_corp_id, victorops_api_url, victorops_api_key, "
                     "victorops_api_key_file, telegram_api_url, webex_api_url",
                am + ":4:13: route receiver \"nope\" is not defined; add it under receivers or "
                     "use one of: \"a\""}));
}

TEST_F(AlertmanagerFileTest, InlineNotificationKeysAreRefused) {
  Write("am/alertmanager.yml", "route:\n  receiver: a\nreceivers:\n- name: a\n");
  std::string path = Write("alertd.yml",
                           "global:\n  smtp_from: a@example.org\n"
                           "alertmanager_config_file: am/alertmanager.yml\n"
                           "route:\n  receiver: a\ntemplates: []\n");
  EXPECT_EQ(Errors(path),
            (std::vector<std::string>{
                path + ":2:3: global smtp_from is an Alertmanager field and "
                       "alertmanager_config_file is set at line 3; move it to the global "
                       "section of \"am/alertmanager.yml\"",
                path + ":4:1: route is set here and alertmanager_config_file is set at line 3; "
                       "remove route and keep it in \"am/alertmanager.yml\", or remove "
                       "alertmanager_config_file",
                path + ":6:1: templates is set here and alertmanager_config_file is set at line "
                       "3; remove templates and keep it in \"am/alertmanager.yml\", or remove "
                       "alertmanager_config_file"}));
}

TEST_F(AlertmanagerFileTest, MissingOrEmptyFile) {
  std::string path = Write("alertd.yml", "alertmanager_config_file: am/absent.yml\n");
  EXPECT_EQ(Errors(path),
            (std::vector<std::string>{path + ":1:27: cannot read alertmanager_config_file \"" +
                                      (dir_ / "am/absent.yml").string() +
                                      "\": No such file or directory"}));
  std::string empty = Write("am/empty.yml", "");
  path = Write("alertd.yml", "alertmanager_config_file: am/empty.yml\n");
  EXPECT_EQ(Errors(path),
            (std::vector<std::string>{
                empty + ":1:1: the Alertmanager configuration has no route; add a route with a "
                        "receiver"}));
  path = Write("alertd.yml", "alertmanager_config_file: ''\n");
  EXPECT_EQ(Errors(path),
            (std::vector<std::string>{path + ":1:27: alertmanager_config_file is empty; set it to "
                                             "the path of an alertmanager.yml"}));
}

TEST_F(AlertmanagerFileTest, CheckTreatsUnreadableSecretFilesAsWarnings) {
  std::string path = Write("alertmanager.yml",
                           "global:\n  slack_api_url_file: /nonexistent/url\n"
                           "route:\n  receiver: a\nreceivers:\n- name: a\n  slack_configs:\n"
                           "  - channel: '#x'\n  pagerduty_configs:\n  - routing_key: k\n");
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(CheckConfig(path, out, err), 0) << err.str();
  EXPECT_EQ(out.str(),
            path + ": 0 rule files found\n" + path +
                ": route, 0 inhibit rules, 1 receiver, 0 templates, 0 time intervals found\n");
  EXPECT_EQ(err.str(),
            path +
                ":2:23: warning: cannot read slack_api_url_file \"/nonexistent/url\": No such "
                "file or directory; alertd run reads it at start\n" +
                path +
                ":10:5: warning: receiver \"a\" uses pagerduty_configs, which alertd cannot send "
                "yet; alertd run rejects this configuration\n");
  std::vector<ConfigError> errors;
  EXPECT_FALSE(LoadConfigFile(path, &errors).ok());
}

}  // namespace
}  // namespace alertd::config
