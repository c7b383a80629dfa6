#include "notifiers/slack/slack_notifier.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "notifiers/fakes.h"
#include "notifiers/time_util.h"

namespace alertd {
namespace {

using testing::Utc;

// Bodies Alertmanager 0.25.0 (Debian 12) POSTed to a Slack api_url for receiver "team",
// channel "#alerts", group_by [alertname, service] and --web.external-url=
// http://am.example:9093, with "text" replaced by alertd's default text, escaped for Slack:
// Alertmanager's default text is empty.
constexpr std::string_view kFiringBody =
    R"json({"channel":"#alerts","username":"Alertmanager","attachments":[{"title":"[FIRING:2] HighLatency api (page)","title_link":"http://am.example:9093/#/alerts?receiver=team","text":"*Latency high on a*\np99 \u0026gt; 1s\n*Latency high on b*","fallback":"[FIRING:2] HighLatency api (page) | http://am.example:9093/#/alerts?receiver=team","callback_id":"","footer":"","color":"danger","mrkdwn_in":["fallback","pretext","text"]}]})json"
    "\n";

constexpr std::string_view kResolvedBody =
    R"json({"channel":"#alerts","username":"Alertmanager","attachments":[{"title":"[RESOLVED] HighLatency api (b:1 page)","title_link":"http://am.example:9093/#/alerts?receiver=team","text":"*Latency high on b* (resolved)","fallback":"[RESOLVED] HighLatency api (b:1 page) | http://am.example:9093/#/alerts?receiver=team","callback_id":"","footer":"","color":"good","mrkdwn_in":["fallback","pretext","text"]}]})json"
    "\n";

const Labels kGroupLabels{{"alertname", "HighLatency"}, {"service", "api"}};
const std::string kGroupKey = "{}:{alertname=\"HighLatency\", service=\"api\"}";

NotifyAlert Alert(std::string instance, std::string summary, std::string description = "") {
  NotifyAlert alert;
  alert.labels = Labels{{"alertname", "HighLatency"},
                        {"service", "api"},
                        {"severity", "page"},
                        {"instance", std::move(instance)}};
  alert.annotations =
      Labels{{"summary", std::move(summary)}, {"description", std::move(description)}};
  alert.starts_at = Utc(2026, 12, 4, 15, 38, 11);
  alert.generator_url = "http://prom:9090/graph?g0.expr=up";
  return alert;
}

std::unique_ptr<SlackNotifier> MakeSlack(std::shared_ptr<HttpClient> client,
                                         config::SlackConfig config = {}) {
  if (config.api_url.empty()) {
    config.api_url = "https://127.0.0.1:9/services/T000/B000/XXXXSECRET";
  }
  if (config.channel.empty()) {
    config.channel = "#alerts";
  }
  auto notifier = SlackNotifier::Create(config, std::move(client));
  EXPECT_TRUE(notifier.ok());
  return std::move(notifier).value();
}

Notification FiringNotification() {
  return MakeNotification(
      "team",
      {Alert("a:1", "Latency high on a", "p99 > 1s"), Alert("b:1", "Latency high on b")},
      kGroupLabels,
      "http://am.example:9093",
      kGroupKey);
}

TEST(SlackNotifierTest, FiringBodyMatchesAlertmanager) {
  auto slack = MakeSlack(std::make_shared<testing::FakeHttpClient>());
  auto body = slack->Render(FiringNotification());
  ASSERT_TRUE(body.ok()) << body.error().message();
  EXPECT_EQ(*body, kFiringBody);
}

TEST(SlackNotifierTest, ResolvedBodyMatchesAlertmanager) {
  auto slack = MakeSlack(std::make_shared<testing::FakeHttpClient>());
  NotifyAlert b = Alert("b:1", "Latency high on b");
  b.ends_at = Utc(2026, 12, 4, 15, 41, 0);
  auto body = slack->Render(
      MakeNotification("team", {b}, kGroupLabels, "http://am.example:9093", kGroupKey));
  ASSERT_TRUE(body.ok()) << body.error().message();
  EXPECT_EQ(*body, kResolvedBody);
}

TEST(SlackNotifierTest, FiringBodyFieldByField) {
  auto slack = MakeSlack(std::make_shared<testing::FakeHttpClient>());
  auto rendered = slack->Render(FiringNotification());
  ASSERT_TRUE(rendered.ok());
  nlohmann::json body = nlohmann::json::parse(*rendered);
  EXPECT_EQ(body.size(), 3u);
  EXPECT_EQ(body["channel"], "#alerts");
  EXPECT_EQ(body["username"], "Alertmanager");
  ASSERT_EQ(body["attachments"].size(), 1u);
  const nlohmann::json& attachment = body["attachments"][0];
  EXPECT_EQ(attachment.size(), 8u);
  EXPECT_EQ(attachment["title"], "[FIRING:2] HighLatency api (page)");
  EXPECT_EQ(attachment["title_link"], "http://am.example:9093/#/alerts?receiver=team");
  EXPECT_EQ(attachment["text"], "*Latency high on a*\np99 &gt; 1s\n*Latency high on b*");
  EXPECT_EQ(attachment["fallback"],
            "[FIRING:2] HighLatency api (page) | http://am.example:9093/#/alerts?receiver=team");
  EXPECT_EQ(attachment["callback_id"], "");
  EXPECT_EQ(attachment["footer"], "");
  EXPECT_EQ(attachment["color"], "danger");
  EXPECT_EQ(attachment["mrkdwn_in"], (nlohmann::json{"fallback", "pretext", "text"}));
}

TEST(SlackNotifierTest, FiringCountIgnoresResolvedAlerts) {
  NotifyAlert b = Alert("b:1", "Latency high on b");
  b.ends_at = Utc(2026, 12, 4, 15, 41, 0);
  Notification n = MakeNotification("team",
                                    {Alert("a:1", "Latency high on a"), b},
                                    kGroupLabels,
                                    "http://am.example:9093",
                                    kGroupKey);
  EXPECT_EQ(SlackDefaultTitle(n), "[FIRING:1] HighLatency api (page)");
  EXPECT_EQ(SlackDefaultText(n), "*Latency high on a*\n*Latency high on b* (resolved)");
}

TEST(SlackNotifierTest, TitleEndsInSpaceWithoutExtraCommonLabels) {
  NotifyAlert alert;
  alert.labels = Labels{{"alertname", "Down"}};
  Notification n = MakeNotification("r", {alert}, Labels{{"alertname", "Down"}}, "", "");
  EXPECT_EQ(SlackDefaultTitle(n), "[FIRING:1] Down ");
}

TEST(SlackNotifierTest, TextShowsLabelsWithoutSummary) {
  NotifyAlert alert;
  alert.labels = Labels{{"alertname", "Down"}, {"job", "node"}};
  Notification n = MakeNotification("r", {alert}, Labels{}, "", "");
  EXPECT_EQ(SlackDefaultText(n), "*{alertname=\"Down\", job=\"node\"}*");
}

TEST(SlackNotifierTest, TitleLinkQueryEscapesReceiver) {
  auto slack = MakeSlack(std::make_shared<testing::FakeHttpClient>());
  Notification n = FiringNotification();
  n.receiver = "team a/b";
  auto rendered = slack->Render(n);
  ASSERT_TRUE(rendered.ok());
  nlohmann::json body = nlohmann::json::parse(*rendered);
  EXPECT_EQ(body["attachments"][0]["title_link"],
            "http://am.example:9093/#/alerts?receiver=team+a%2Fb");
}

TEST(SlackNotifierTest, LongTitleIsTruncatedTo1024Characters) {
  config::SlackConfig config;
  std::string title;
  for (int i = 0; i < 1100; ++i) {
    title += "\u00e9";  // two bytes, one character
  }
  config.title = title;
  auto slack = MakeSlack(std::make_shared<testing::FakeHttpClient>(), config);
  auto rendered = slack->Render(FiringNotification());
  ASSERT_TRUE(rendered.ok());
  std::string got = nlohmann::json::parse(*rendered)["attachments"][0]["title"];
  std::string expected;
  for (int i = 0; i < 1023; ++i) {
    expected += "\u00e9";
  }
  expected += "\u2026";
  EXPECT_EQ(got, expected);
}

TEST(SlackNotifierTest, OmitsEmptyChannelAndUsesConfiguredUsername) {
  config::SlackConfig config;
  config.api_url = "https://127.0.0.1:9/services/x";
  config.username = "alertd";
  auto created = SlackNotifier::Create(config, std::make_shared<testing::FakeHttpClient>());
  ASSERT_TRUE(created.ok());
  auto rendered = (*created)->Render(FiringNotification());
  ASSERT_TRUE(rendered.ok());
  nlohmann::json body = nlohmann::json::parse(*rendered);
  EXPECT_FALSE(body.contains("channel"));
  EXPECT_EQ(body["username"], "alertd");
}

TEST(SlackNotifierTest, PostsRenderedBodyToApiUrl) {
  auto client = std::make_shared<testing::FakeHttpClient>();
  auto slack = MakeSlack(client);
  EXPECT_FALSE(slack->Notify(FiringNotification()).has_value());
  ASSERT_EQ(client->requests().size(), 1u);
  EXPECT_EQ(client->requests()[0].method, "POST");
  EXPECT_EQ(client->requests()[0].url, "https://127.0.0.1:9/services/T000/B000/XXXXSECRET");
  EXPECT_EQ(client->requests()[0].body, kFiringBody);
}

TEST(SlackNotifierTest, JsonOkFalseIsAClientError) {
  auto client = std::make_shared<testing::FakeHttpClient>();
  auto slack = MakeSlack(client);
  client->Push(testing::MakeResponse(
      200, R"({"ok":false,"error":"channel_not_found"})", {{"content-type", "application/json"}}));
  auto error = slack->Notify(FiringNotification());
  ASSERT_TRUE(error.has_value());
  EXPECT_FALSE(error->retryable);
  EXPECT_EQ(error->reason, FailureReason::kClient);
  EXPECT_EQ(error->message,
            "channel #alerts: Slack webhook https://127.0.0.1:9/<redacted> returned an error: "
            "channel_not_found");
}

TEST(SlackNotifierTest, CreateRejectsEmptyApiUrl) {
  auto created =
      SlackNotifier::Create(config::SlackConfig{}, std::make_shared<testing::FakeHttpClient>());
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().message(),
            "Slack api_url is empty: set slack_configs[].api_url, api_url_file or "
            "global.slack_api_url.");
}

TEST(SlackNotifierTest, TitleValuesPutAlertnameFirst) {
  NotifyAlert alert;
  alert.labels = Labels{{"alertname", "Zeta"}, {"cluster", "c1"}, {"zone", "z1"}, {"az", "a1"}};
  Notification n = MakeNotification(
      "r", {alert}, Labels{{"alertname", "Zeta"}, {"cluster", "c1"}}, "http://am", "k");
  EXPECT_EQ(SlackDefaultTitle(n), "[FIRING:1] Zeta c1 (a1 z1)");
}

TEST(SlackNotifierTest, CustomTemplatesSeeAlertmanagerData) {
  config::SlackConfig config;
  config.title = "{{ .CommonLabels.alertname }} on {{ .GroupLabels.service }} ({{ .Status }})";
  config.text = "{{ range .Alerts }}{{ .Labels.instance }}={{ .Annotations.summary }};{{ end }}";
  auto slack = MakeSlack(std::make_shared<testing::FakeHttpClient>(), config);
  auto rendered = slack->Render(FiringNotification());
  ASSERT_TRUE(rendered.ok()) << rendered.error().message();
  nlohmann::json attachment = nlohmann::json::parse(*rendered)["attachments"][0];
  EXPECT_EQ(attachment["title"], "HighLatency on api (firing)");
  EXPECT_EQ(attachment["text"], "a:1=Latency high on a;b:1=Latency high on b;");
  // The default fallback is slack.default.fallback, built from slack.default.title and not
  // from the configured title, as in Alertmanager.
  EXPECT_EQ(attachment["fallback"],
            "[FIRING:2] HighLatency api (page) | http://am.example:9093/#/alerts?receiver=team");
}

TEST(SlackNotifierTest, CustomTemplateCanCallDefaultTitle) {
  config::SlackConfig config;
  config.title = "{{ template \"slack.default.title\" . }}!";
  auto slack = MakeSlack(std::make_shared<testing::FakeHttpClient>(), config);
  Notification n = FiringNotification();
  auto rendered = slack->Render(n);
  ASSERT_TRUE(rendered.ok()) << rendered.error().message();
  EXPECT_EQ(nlohmann::json::parse(*rendered)["attachments"][0]["title"],
            SlackDefaultTitle(n) + "!");
}

TEST(SlackNotifierTest, CreateRejectsUnparsableTemplate) {
  config::SlackConfig config;
  config.api_url = "https://127.0.0.1:9/services/x";
  config.text = "{{ range .Alerts }}";
  auto created = SlackNotifier::Create(config, std::make_shared<testing::FakeHttpClient>());
  ASSERT_FALSE(created.ok());
  EXPECT_TRUE(
      created.error().message().starts_with("Slack text template is invalid: template: text:1:"))
      << created.error().message();
}

TEST(SlackNotifierTest, TemplateExecutionErrorFallsBackToDefault) {
  config::SlackConfig config;
  config.title = "{{ template \"no.such.template\" . }}";
  config.text = "{{ index .Alerts 7 }}";
  auto client = std::make_shared<testing::FakeHttpClient>();
  auto slack = MakeSlack(client, config);
  EXPECT_FALSE(slack->Notify(FiringNotification()).has_value());
  ASSERT_EQ(client->requests().size(), 1u);
  EXPECT_EQ(client->requests()[0].body, kFiringBody);
}

// A body Alertmanager 0.25.0 (Debian 12) POSTed for receiver "team", group_by [alertname],
// --web.external-url=http://am.example:9093, one alert {alertname="X", job="a<b>"} and the
// config of AllFieldsConfig below.
constexpr std::string_view kAllFieldsBody =
    R"json({"channel":"#c","username":"Alertmanager","icon_emoji":":fire:","icon_url":"http://icon","link_names":true,"attachments":[{"title":"[FIRING:1] X (a\u003cb\u003e)","title_link":"http://x/X","pretext":"pre \u003ca\u003cb\u003e\u003e","text":"text \u0026 a\u003cb\u003e","fallback":"fb","callback_id":"cb","fields":[{"title":"f1 firing","value":"v1","short":true},{"title":"f2","value":"v2","short":false}],"actions":[{"type":"button","text":"Runbook X","url":"http://rb","style":"primary"},{"type":"button","text":"Ack","name":"ack","value":"yes","confirm":{"text":"Sure?","title":"Confirm","ok_text":"Yes","dismiss_text":"No"}}],"image_url":"http://img","thumb_url":"http://thumb","footer":"foot","color":"#ff0000","mrkdwn_in":["text"]}]})json"
    "\n";

config::SlackConfig AllFieldsConfig() {
  config::SlackConfig config;
  config.channel = "#c";
  config.color = "{{ if eq .Status \"firing\" }}#ff0000{{ end }}";
  config.title_link = "http://x/{{ .GroupLabels.alertname }}";
  config.pretext = "pre <{{ .CommonLabels.job }}>";
  config.text = "text & {{ .CommonLabels.job }}";
  config.footer = "foot";
  config.fallback = "fb";
  config.callback_id = "cb";
  config.icon_emoji = ":fire:";
  config.icon_url = "http://icon";
  config.image_url = "http://img";
  config.thumb_url = "http://thumb";
  config.link_names = true;
  config.short_fields = true;
  config.mrkdwn_in = {"text"};
  config.fields = {{"f1 {{ .Status }}", "v1", std::nullopt}, {"f2", "v2", false}};
  config::SlackConfig::Action link;
  link.type = "button";
  link.text = "Runbook {{ .GroupLabels.alertname }}";
  link.url = "http://rb";
  link.style = "primary";
  config::SlackConfig::Action ack;
  ack.type = "button";
  ack.text = "Ack";
  ack.name = "ack";
  ack.value = "yes";
  ack.confirm = config::SlackConfig::Confirm{"Sure?", "Confirm", "Yes", "No"};
  config.actions = {link, ack};
  return config;
}

Notification SingleAlertNotification(Labels labels, Labels annotations = {}) {
  NotifyAlert alert;
  alert.labels = std::move(labels);
  alert.annotations = std::move(annotations);
  alert.starts_at = Utc(2026, 12, 4, 15, 38, 11);
  Labels group{{"alertname", std::string(alert.labels.Get("alertname"))}};
  return MakeNotification("team", {alert}, group, "http://am.example:9093", "{}:{}");
}

TEST(SlackNotifierTest, AllFieldsBodyMatchesAlertmanager) {
  auto slack = MakeSlack(std::make_shared<testing::FakeHttpClient>(), AllFieldsConfig());
  auto body = slack->Render(SingleAlertNotification(Labels{{"alertname", "X"}, {"job", "a<b>"}}));
  ASSERT_TRUE(body.ok()) << body.error().message();
  EXPECT_EQ(*body, kAllFieldsBody);
}

TEST(SlackNotifierTest, LinkButtonDropsNameValueAndConfirm) {
  config::SlackConfig config;
  config::SlackConfig::Action action;
  action.type = "button";
  action.text = "Open";
  action.url = "http://x";
  action.name = "n";
  action.value = "v";
  action.confirm = config::SlackConfig::Confirm{"Sure?", "", "", ""};
  config.actions = {action};
  auto slack = MakeSlack(std::make_shared<testing::FakeHttpClient>(), config);
  auto body = slack->Render(FiringNotification());
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(nlohmann::json::parse(*body)["attachments"][0]["actions"],
            nlohmann::json::parse(R"([{"type":"button","text":"Open","url":"http://x"}])"));
}

TEST(SlackNotifierTest, DefaultTextEscapesControlCharacters) {
  auto slack = MakeSlack(std::make_shared<testing::FakeHttpClient>());
  Notification n = SingleAlertNotification(Labels{{"alertname", "X"}, {"path", "<a&b>"}});
  EXPECT_EQ(SlackDefaultText(n), "*{alertname=\"X\", path=\"&lt;a&amp;b&gt;\"}*");
  Notification with_summary = SingleAlertNotification(
      Labels{{"alertname", "X"}}, Labels{{"summary", "<!channel> & co"}, {"description", "a>b"}});
  auto body = slack->Render(with_summary);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(nlohmann::json::parse(*body)["attachments"][0]["text"],
            "*&lt;!channel&gt; &amp; co*\na&gt;b");
}

TEST(SlackNotifierTest, UserTemplateOverridesDefaultTitle) {
  auto templates = NotificationTemplates::Load({}, "");
  ASSERT_TRUE(templates.ok());
  auto mutable_templates = std::const_pointer_cast<NotificationTemplates>(*templates);
  ASSERT_TRUE(mutable_templates
                  ->AddFile("custom.tmpl",
                            "{{ define \"slack.default.title\" }}Custom: {{ .Status }}{{ end }}"
                            "{{ define \"slack.default.text\" }}{{ len .Alerts }} alerts{{ end }}")
                  .ok());
  config::SlackConfig config;
  config.api_url = "https://127.0.0.1:9/services/x";
  auto slack =
      SlackNotifier::Create(config, std::make_shared<testing::FakeHttpClient>(), mutable_templates);
  ASSERT_TRUE(slack.ok());
  auto body = (*slack)->Render(FiringNotification());
  ASSERT_TRUE(body.ok());
  nlohmann::json attachment = nlohmann::json::parse(*body)["attachments"][0];
  EXPECT_EQ(attachment["title"], "Custom: firing");
  EXPECT_EQ(attachment["text"], "2 alerts");
  EXPECT_EQ(attachment["fallback"],
            "Custom: firing | http://am.example:9093/#/alerts?receiver=team");
}

TEST(SlackNotifierTest, LongTextIsCutAtCharacterBoundary) {
  config::SlackConfig config;
  // 39,999 one-byte characters and then four-byte ones: the cut falls inside the multi-byte
  // run, and the kept text must end on a whole character.
  config.text = std::string(39999, 'a') + "{{ \"\U0001F525\U0001F525\U0001F525\" }}";
  auto slack = MakeSlack(std::make_shared<testing::FakeHttpClient>(), config);
  auto body = slack->Render(FiringNotification());
  ASSERT_TRUE(body.ok());
  std::string text = nlohmann::json::parse(*body)["attachments"][0]["text"];
  EXPECT_EQ(text, std::string(39999, 'a') + "\u2026");

  config.text = std::string(39998, 'a') + "\U0001F525{{ \"bc\" }}";
  slack = MakeSlack(std::make_shared<testing::FakeHttpClient>(), config);
  body = slack->Render(FiringNotification());
  ASSERT_TRUE(body.ok());
  text = nlohmann::json::parse(*body)["attachments"][0]["text"];
  EXPECT_EQ(text, std::string(39998, 'a') + "\U0001F525\u2026");
}

TEST(SlackNotifierTest, TextAtLimitIsKept) {
  config::SlackConfig config;
  config.text = std::string(39999, 'a') + "\u00e9";
  auto slack = MakeSlack(std::make_shared<testing::FakeHttpClient>(), config);
  auto body = slack->Render(FiringNotification());
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(nlohmann::json::parse(*body)["attachments"][0]["text"], config.text);
}

TEST(SlackNotifierTest, TruncateInRunesTable) {
  struct Case {
    std::string text;
    size_t max;
    std::string want;
  };

  const std::vector<Case> cases = {
      {"abc", 3, "abc"},
      {"abcd", 3, "ab\u2026"},
      {"\u00e9\u00e9\u00e9\u00e9", 3, "\u00e9\u00e9\u2026"},
      {"a\U0001F525\U0001F525", 2, "a\u2026"},
      {"", 1, ""},
      {"ab", 1, "\u2026"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(TruncateInRunes(c.text, c.max), c.want) << c.text << " " << c.max;
  }
}

TEST(SlackNotifierTest, ChannelIsATemplate) {
  config::SlackConfig config;
  config.channel = "#{{ .CommonLabels.service }}-alerts";
  auto slack = MakeSlack(std::make_shared<testing::FakeHttpClient>(), config);
  auto body = slack->Render(FiringNotification());
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(nlohmann::json::parse(*body)["channel"], "#api-alerts");
}

TEST(SlackNotifierTest, CreateRejectsUnparsableFieldTemplate) {
  config::SlackConfig config;
  config.api_url = "https://127.0.0.1:9/services/x";
  config.fields = {{"ok", "{{ if }}", std::nullopt}};
  auto created = SlackNotifier::Create(config, std::make_shared<testing::FakeHttpClient>());
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().message(),
            "Slack fields[0].value template is invalid: template: fields[0].value:1: missing "
            "value for if");
}

}  // namespace
}  // namespace alertd
