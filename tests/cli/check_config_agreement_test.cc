// Runs `alertd check config` on every file of the corpus's REFERENCE-amtool.tsv the way the
// reference was made (`cd DIR && amtool check-config FILE`) and compares verdicts: the exit
// code, the counts amtool reports for a valid file, and for a rejected file the label the
// upstream test expects the message to name. Then compares with a live amtool, when one is
// installed, on files of its own.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;

std::vector<std::string> SplitTabs(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, '\t')) {
    fields.push_back(field);
  }
  return fields;
}

std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

struct RunResult {
  int exit_code = -1;
  std::string output;
};

RunResult RunIn(const fs::path& dir, const std::string& program, const std::string& args) {
  std::string command = "cd " + ShellQuote(dir.string()) + " && " + program + " " + args + " 2>&1";
  RunResult run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return run;
  }
  std::array<char, 4096> buffer{};
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    run.output.append(buffer.data(), n);
  }
  int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

RunResult CheckConfig(const fs::path& dir, const std::string& file) {
  return RunIn(dir, ShellQuote(ALERTD_BINARY), "check config " + ShellQuote(file));
}

// "SUCCESS; found: global config, route, 1 inhibit rules, 9 receivers, 1 templates" as
// alertd's "route, 1 inhibit rule, 9 receivers, 1 template, ..." line.
std::string ExpectedSummary(const std::string& message) {
  std::smatch match;
  static const std::regex kFound(
      R"(found: global config, route, (\d+) inhibit rules, (\d+) receivers, (\d+) templates)");
  if (!std::regex_search(message, match, kFound)) {
    return "";
  }
  auto count = [](const std::string& n, const std::string& singular) {
    return n + " " + singular + (n == "1" ? "" : "s");
  };
  return "route, " + count(match[1], "inhibit rule") + ", " + count(match[2], "receiver") + ", " +
         count(match[3], "template") + ",";
}

TEST(CheckConfigAgreementTest, VerdictsMatchAmtool) {
  fs::path corpus = ALERTD_CORPUS_DIR;
  fs::path reference = corpus / "REFERENCE-amtool.tsv";
  if (!fs::exists(reference)) {
    GTEST_SKIP() << "the upstream corpus is not present at " << corpus;
  }
  std::ifstream in(reference);
  std::string line;
  std::getline(in, line);  // header
  int rows = 0;
  int passed = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> fields = SplitTabs(line);
    if (fields.size() < 4) {
      continue;
    }
    ++rows;
    fs::path path = corpus / fields[0];
    int expected = std::stoi(fields[1]);
    const std::string& message = fields[2];
    const std::string& upstream = fields[3];
    RunResult run = CheckConfig(path.parent_path(), path.filename().string());
    bool agrees = run.exit_code == expected;
    if (agrees && expected == 0) {
      std::string summary = ExpectedSummary(message);
      agrees = !summary.empty() && run.output.find(summary) != std::string::npos;
    }
    static const std::regex kContains(R"(contains (\S+))");
    std::smatch match;
    if (agrees && expected != 0 && std::regex_search(upstream, match, kContains)) {
      agrees = run.output.find(match[1].str()) != std::string::npos;
    }
    EXPECT_TRUE(agrees) << fields[0] << ": amtool exits " << expected << " (" << message
                        << "), alertd exits " << run.exit_code << ":\n"
                        << run.output;
    passed += agrees ? 1 : 0;
  }
  std::cout << "alertd check config agrees with amtool check-config on " << passed << " of " << rows
            << " corpus files\n";
  EXPECT_GT(rows, 0);
}

struct ExtraCase {
  std::string name;
  std::string text;
};

// Files amtool and alertd must judge alike: each starts from a valid base.
const char kBase[] = "route:\n  receiver: a\nreceivers:\n- name: a\n";

std::vector<ExtraCase> ExtraCases() {
  return {
      {"valid", ""},
      {"http_config_basic_and_authorization",
       "  webhook_configs:\n  - url: http://127.0.0.1/\n    http_config:\n"
       "      basic_auth: {username: a}\n      authorization: {credentials: x}\n"},
      {"http_config_basic_type",
       "  webhook_configs:\n  - url: http://127.0.0.1/\n    http_config:\n"
       "      authorization: {type: Basic}\n"},
      {"http_config_bearer_and_file",
       "  webhook_configs:\n  - url: http://127.0.0.1/\n    http_config:\n"
       "      bearer_token: x\n      bearer_token_file: y\n"},
      {"tls_unknown_version",
       "  webhook_configs:\n  - url: http://127.0.0.1/\n    http_config:\n"
       "      tls_config: {min_version: TLS14}\n"},
      {"email_without_to", "  email_configs:\n  - from: a@example.org\n"},
      {"email_without_smarthost", "  email_configs:\n  - to: a@example.org\n"},
      {"email_smarthost_without_port",
       "  email_configs:\n  - to: a@example.org\n    from: b@example.org\n"
       "    smarthost: localhost\n"},
      {"email_duplicate_header",
       "  email_configs:\n  - to: a@example.org\n    from: b@example.org\n"
       "    smarthost: localhost:25\n    headers: {subject: a, Subject: b}\n"},
      {"email_valid",
       "  email_configs:\n  - to: a@example.org\n    from: b@example.org\n"
       "    smarthost: localhost:25\n    headers: {X-Team: a}\n"},
      {"pagerduty_without_key", "  pagerduty_configs:\n  - client: x\n"},
      {"pagerduty_bad_url", "  pagerduty_configs:\n  - routing_key: x\n    url: ftp://x\n"},
      {"pushover_without_token", "  pushover_configs:\n  - user_key: x\n"},
      {"opsgenie_responder_type",
       "  opsgenie_configs:\n  - api_key: x\n    responders: [{type: foo, id: x}]\n"},
      {"victorops_reserved_field",
       "  victorops_configs:\n  - api_key: x\n    routing_key: y\n"
       "    custom_fields: {entity_state: x}\n"},
      {"wechat_message_type",
       "  wechat_configs:\n  - api_secret: x\n    corp_id: y\n    message_type: html\n"},
      {"telegram_parse_mode",
       "  telegram_configs:\n  - bot_token: x\n    chat_id: 1\n    parse_mode: foo\n"},
      {"telegram_without_chat", "  telegram_configs:\n  - bot_token: x\n"},
      {"sns_two_targets", "  sns_configs:\n  - topic_arn: x\n    phone_number: y\n"},
      {"sns_sigv4_half", "  sns_configs:\n  - topic_arn: x\n    sigv4: {access_key: a}\n"},
      {"webex_without_authorization", "  webex_configs:\n  - room_id: x\n"},
      {"discord_without_url", "  discord_configs:\n  - title: x\n"},
      {"msteams_unknown", "  msteams_configs:\n  - webhook_url: http://127.0.0.1/\n"},
      {"slack_field_without_value",
       "  slack_configs:\n  - api_url: http://127.0.0.1/\n    fields: [{title: x}]\n"},
      {"slack_action_without_url",
       "  slack_configs:\n  - api_url: http://127.0.0.1/\n"
       "    actions: [{type: button, text: x}]\n"},
      {"slack_all_fields",
       "  slack_configs:\n  - api_url: http://127.0.0.1/\n    color: good\n    title_link: x\n"
       "    pretext: x\n    footer: x\n    fallback: x\n    callback_id: x\n    icon_emoji: x\n"
       "    image_url: x\n    thumb_url: x\n    short_fields: true\n    link_names: true\n"
       "    mrkdwn_in: [text]\n    fields: [{title: a, value: b, short: false}]\n"
       "    actions: [{type: button, text: x, url: y, confirm: {text: sure}}]\n"},
      {"inhibit_bad_matcher", "inhibit_rules:\n- source_matchers: ['a=~(']\n"},
      {"inhibit_bad_equal", "inhibit_rules:\n- equal: ['0bad']\n"},
      {"inhibit_valid",
       "inhibit_rules:\n- source_matchers: ['severity=\"critical\"']\n"
       "  target_match: {severity: warning}\n  equal: [alertname]\n"},
      {"interval_without_name", "time_intervals:\n- time_intervals: []\n"},
      {"interval_duplicate", "time_intervals:\n- name: x\nmute_time_intervals:\n- name: x\n"},
      {"interval_bad_time",
       "time_intervals:\n- name: x\n  time_intervals:\n"
       "  - times: [{start_time: '25:00', end_time: '26:00'}]\n"},
      {"interval_reversed_time",
       "time_intervals:\n- name: x\n  time_intervals:\n"
       "  - times: [{start_time: '10:00', end_time: '09:00'}]\n"},
      {"interval_bad_weekday",
       "time_intervals:\n- name: x\n  time_intervals:\n  - weekdays: ['friday:monday']\n"},
      {"interval_bad_day",
       "time_intervals:\n- name: x\n  time_intervals:\n  - days_of_month: ['-3:5']\n"},
      {"interval_bad_zone",
       "time_intervals:\n- name: x\n  time_intervals:\n  - location: Mars/Olympus\n"},
      {"interval_valid",
       "time_intervals:\n- name: x\n  time_intervals:\n"
       "  - times: [{start_time: '09:00', end_time: '17:00'}]\n"
       "    weekdays: ['monday:friday']\n    days_of_month: ['1:7', '-1']\n"
       "    months: ['january:march', '12']\n    years: ['2020:2030']\n"
       "    location: Europe/Berlin\n"},
      {"templates_bad_glob", "templates: ['[']\n"},
  };
}

TEST(CheckConfigAgreementTest, VerdictsMatchLiveAmtool) {
  const char* amtool = "/usr/bin/amtool";
  if (::access(amtool, X_OK) != 0) {
    GTEST_SKIP() << "amtool is not installed at " << amtool;
  }
  fs::path dir = fs::temp_directory_path() / ("alertd-amtool-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  int passed = 0;
  std::vector<ExtraCase> cases = ExtraCases();
  for (const ExtraCase& c : cases) {
    std::string name = c.name + ".yml";
    std::ofstream(dir / name) << kBase << c.text;
    RunResult expected = RunIn(dir, amtool, "check-config " + ShellQuote(name));
    RunResult actual = CheckConfig(dir, name);
    EXPECT_EQ(actual.exit_code, expected.exit_code) << c.name << ": amtool says\n"
                                                    << expected.output << "alertd says\n"
                                                    << actual.output;
    passed += actual.exit_code == expected.exit_code ? 1 : 0;
  }
  fs::remove_all(dir);
  std::cout << "alertd check config agrees with amtool check-config on " << passed << " of "
            << cases.size() << " extra files\n";
}

}  // namespace
