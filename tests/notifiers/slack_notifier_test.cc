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
// http://am.example:9093, with "text" replaced by alertd's default text: Alertmanager's
// default text is empty.
constexpr std::string_view kFiringBody =
    R"json({"channel":"#alerts","username":"Alertmanager","attachments":[{"title":"[FIRING:2] HighLatency api (page)","title_link":"http://am.example:9093/#/alerts?receiver=team","text":"*Latency high on a*\np99 \u003e 1s\n*Latency high on b*","fallback":"[FIRING:2] HighLatency api (page) | http://am.example:9093/#/alerts?receiver=team","callback_id":"","footer":"","color":"danger","mrkdwn_in":["fallback","pretext","text"]}]})json"
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
  EXPECT_EQ(attachment["text"], "*Latency high on a*\np99 > 1s\n*Latency high on b*");
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
  EXPECT_EQ(attachment["fallback"],
            "HighLatency on api (firing) | http://am.example:9093/#/alerts?receiver=team");
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

TEST(SlackNotifierTest, TemplateExecutionErrorFailsNotify) {
  config::SlackConfig config;
  config.title = "{{ template \"no.such.template\" . }}";
  auto client = std::make_shared<testing::FakeHttpClient>();
  auto slack = MakeSlack(client, config);
  auto error = slack->Notify(FiringNotification());
  ASSERT_TRUE(error.has_value());
  EXPECT_FALSE(error->retryable);
  EXPECT_EQ(error->reason, FailureReason::kClient);
  EXPECT_TRUE(error->message.starts_with("expanding the Slack title template failed: "))
      << error->message;
  EXPECT_TRUE(client->requests().empty());
}

}  // namespace
}  // namespace alertd
