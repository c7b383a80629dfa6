#include "notifiers/webhook/webhook_notifier.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "notifiers/fakes.h"
#include "notifiers/time_util.h"

namespace alertd {
namespace {

using testing::Utc;

// Bodies Alertmanager 0.25.0 (Debian 12) POSTed to a webhook receiver "team" with group_by
// [alertname, service] and --web.external-url=http://am.example:9093, for the alerts built by
// FiringAlertA and FiringAlertB below.
constexpr std::string_view kAlertmanagerFiringBody =
    R"({"receiver":"team","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"HighLatency","instance":"a:1","service":"api","severity":"page"},"annotations":{"description":"p99 \u003e 1s","summary":"Latency high on a"},"startsAt":"2026-12-04T15:38:11.123456789Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prom:9090/graph?g0.expr=up","fingerprint":"9f843f890eee1d26"},{"status":"firing","labels":{"alertname":"HighLatency","instance":"b:1","service":"api","severity":"page"},"annotations":{"summary":"Latency high on b"},"startsAt":"2026-12-04T15:38:11Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prom:9090/graph?g0.expr=up","fingerprint":"7d4c70b4014d1c6d"}],"groupLabels":{"alertname":"HighLatency","service":"api"},"commonLabels":{"alertname":"HighLatency","service":"api","severity":"page"},"commonAnnotations":{},"externalURL":"http://am.example:9093","version":"4","groupKey":"{}:{alertname=\"HighLatency\", service=\"api\"}","truncatedAlerts":0})"
    "\n";

constexpr std::string_view kAlertmanagerResolvedBody =
    R"({"receiver":"team","status":"resolved","alerts":[{"status":"resolved","labels":{"alertname":"HighLatency","instance":"b:1","service":"api","severity":"page"},"annotations":{"summary":"Latency high on b"},"startsAt":"2026-12-04T15:38:11Z","endsAt":"2026-12-04T15:41:00Z","generatorURL":"http://prom:9090/graph?g0.expr=up","fingerprint":"7d4c70b4014d1c6d"}],"groupLabels":{"alertname":"HighLatency","service":"api"},"commonLabels":{"alertname":"HighLatency","instance":"b:1","service":"api","severity":"page"},"commonAnnotations":{"summary":"Latency high on b"},"externalURL":"http://am.example:9093","version":"4","groupKey":"{}:{alertname=\"HighLatency\", service=\"api\"}","truncatedAlerts":0})"
    "\n";

NotifyAlert FiringAlertA() {
  NotifyAlert alert;
  alert.labels = Labels{
      {"alertname", "HighLatency"}, {"service", "api"}, {"severity", "page"}, {"instance", "a:1"}};
  alert.annotations = Labels{{"summary", "Latency high on a"}, {"description", "p99 > 1s"}};
  alert.starts_at = Utc(2026, 12, 4, 15, 38, 11, 123456789);
  alert.generator_url = "http://prom:9090/graph?g0.expr=up";
  return alert;
}

NotifyAlert FiringAlertB() {
  NotifyAlert alert;
  alert.labels = Labels{
      {"alertname", "HighLatency"}, {"service", "api"}, {"severity", "page"}, {"instance", "b:1"}};
  alert.annotations = Labels{{"summary", "Latency high on b"}};
  alert.starts_at = Utc(2026, 12, 4, 15, 38, 11);
  alert.generator_url = "http://prom:9090/graph?g0.expr=up";
  return alert;
}

const Labels kGroupLabels{{"alertname", "HighLatency"}, {"service", "api"}};
const std::string kGroupKey = "{}:{alertname=\"HighLatency\", service=\"api\"}";

std::unique_ptr<WebhookNotifier> MakeWebhook(std::shared_ptr<HttpClient> client,
                                             int max_alerts = 0) {
  config::WebhookConfig config;
  config.url = "http://127.0.0.1:9/hook/secret-token";
  config.max_alerts = max_alerts;
  auto notifier = WebhookNotifier::Create(config, std::move(client));
  EXPECT_TRUE(notifier.ok());
  return std::move(notifier).value();
}

TEST(WebhookNotifierTest, FiringBodyEqualsAlertmanagerBytes) {
  auto webhook = MakeWebhook(std::make_shared<testing::FakeHttpClient>());
  Notification n = MakeNotification(
      "team", {FiringAlertA(), FiringAlertB()}, kGroupLabels, "http://am.example:9093", kGroupKey);
  EXPECT_EQ(webhook->Render(n), kAlertmanagerFiringBody);
}

TEST(WebhookNotifierTest, ResolvedBodyEqualsAlertmanagerBytes) {
  auto webhook = MakeWebhook(std::make_shared<testing::FakeHttpClient>());
  NotifyAlert b = FiringAlertB();
  b.ends_at = Utc(2026, 12, 4, 15, 41, 0);
  Notification n = MakeNotification("team", {b}, kGroupLabels, "http://am.example:9093", kGroupKey);
  EXPECT_EQ(webhook->Render(n), kAlertmanagerResolvedBody);
}

// Alertmanager 0.25.0 (Debian 12) POSTed "receiver":"team\\.a\\+b" for a receiver named
// "team.a+b": the payload's template.Data quotes the name with regexp.QuoteMeta.
TEST(WebhookNotifierTest, ReceiverIsRegexpQuotedAsAlertmanager) {
  auto webhook = MakeWebhook(std::make_shared<testing::FakeHttpClient>());
  Notification n = MakeNotification(
      "team.a+b", {FiringAlertA()}, kGroupLabels, "http://am.example:9093", kGroupKey);
  std::string body = webhook->Render(n);
  EXPECT_TRUE(body.starts_with(R"({"receiver":"team\\.a\\+b","status":"firing",)")) << body;
}

TEST(WebhookNotifierTest, FiringBodyFieldByField) {
  auto webhook = MakeWebhook(std::make_shared<testing::FakeHttpClient>());
  NotifyAlert b = FiringAlertB();
  b.ends_at = Utc(2026, 12, 4, 15, 40, 0, 500000000);
  Notification n = MakeNotification(
      "team", {FiringAlertA(), b}, kGroupLabels, "http://am.example:9093", kGroupKey);
  nlohmann::json body = nlohmann::json::parse(webhook->Render(n));
  EXPECT_EQ(body.size(), 10u);
  EXPECT_EQ(body["version"], "4");
  EXPECT_EQ(body["groupKey"], kGroupKey);
  EXPECT_EQ(body["truncatedAlerts"], 0);
  EXPECT_EQ(body["status"], "firing");
  EXPECT_EQ(body["receiver"], "team");
  EXPECT_EQ(body["groupLabels"],
            (nlohmann::json{{"alertname", "HighLatency"}, {"service", "api"}}));
  EXPECT_EQ(
      body["commonLabels"],
      (nlohmann::json{{"alertname", "HighLatency"}, {"service", "api"}, {"severity", "page"}}));
  EXPECT_EQ(body["commonAnnotations"], nlohmann::json::object());
  EXPECT_EQ(body["externalURL"], "http://am.example:9093");
  ASSERT_EQ(body["alerts"].size(), 2u);
  const nlohmann::json& first = body["alerts"][0];
  EXPECT_EQ(first.size(), 7u);
  EXPECT_EQ(first["status"], "firing");
  EXPECT_EQ(first["labels"]["instance"], "a:1");
  EXPECT_EQ(first["annotations"]["description"], "p99 > 1s");
  EXPECT_EQ(first["startsAt"], "2026-12-04T15:38:11.123456789Z");
  EXPECT_EQ(first["endsAt"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(first["generatorURL"], "http://prom:9090/graph?g0.expr=up");
  EXPECT_EQ(first["fingerprint"], "9f843f890eee1d26");
  const nlohmann::json& second = body["alerts"][1];
  EXPECT_EQ(second["status"], "resolved");
  EXPECT_EQ(second["endsAt"], "2026-12-04T15:40:00.5Z");
  EXPECT_EQ(second["fingerprint"], "7d4c70b4014d1c6d");
}

TEST(WebhookNotifierTest, MaxAlertsTruncatesAndRecomputesCommonLabels) {
  auto webhook = MakeWebhook(std::make_shared<testing::FakeHttpClient>(), 1);
  Notification n = MakeNotification(
      "team", {FiringAlertA(), FiringAlertB()}, kGroupLabels, "http://am.example:9093", kGroupKey);
  nlohmann::json body = nlohmann::json::parse(webhook->Render(n));
  ASSERT_EQ(body["alerts"].size(), 1u);
  EXPECT_EQ(body["alerts"][0]["labels"]["instance"], "a:1");
  EXPECT_EQ(body["truncatedAlerts"], 1);
  EXPECT_EQ(body["commonLabels"]["instance"], "a:1");
  EXPECT_EQ(body["commonAnnotations"]["summary"], "Latency high on a");
}

TEST(WebhookNotifierTest, MaxAlertsAboveCountKeepsAll) {
  auto webhook = MakeWebhook(std::make_shared<testing::FakeHttpClient>(), 5);
  Notification n = MakeNotification(
      "team", {FiringAlertA(), FiringAlertB()}, kGroupLabels, "http://am.example:9093", kGroupKey);
  nlohmann::json body = nlohmann::json::parse(webhook->Render(n));
  EXPECT_EQ(body["alerts"].size(), 2u);
  EXPECT_EQ(body["truncatedAlerts"], 0);
}

TEST(WebhookNotifierTest, PostsJsonToTheUrl) {
  auto client = std::make_shared<testing::FakeHttpClient>();
  auto webhook = MakeWebhook(client);
  Notification n =
      MakeNotification("team", {FiringAlertA()}, kGroupLabels, "http://am.example:9093", kGroupKey);
  EXPECT_FALSE(webhook->Notify(n).has_value());
  std::vector<HttpRequest> requests = client->requests();
  ASSERT_EQ(requests.size(), 1u);
  const HttpRequest& request = requests[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "http://127.0.0.1:9/hook/secret-token");
  EXPECT_EQ(request.body, webhook->Render(n));
  bool has_json_type = false;
  for (const auto& [name, value] : request.headers) {
    has_json_type = has_json_type || (name == "Content-Type" && value == "application/json");
  }
  EXPECT_TRUE(has_json_type);
}

TEST(WebhookNotifierTest, HttpConfigSetsAuthorizationAndTls) {
  auto client = std::make_shared<testing::FakeHttpClient>();
  config::WebhookConfig config;
  config.url = "https://127.0.0.1:9/hook";
  config.http_config.basic_auth_username = "alertd";
  config.http_config.basic_auth_password = "pa55";
  config.http_config.tls_config.ca_file = "/etc/ssl/ca.pem";
  config.http_config.tls_config.insecure_skip_verify = true;
  auto webhook = WebhookNotifier::Create(config, client);
  ASSERT_TRUE(webhook.ok());
  Notification n =
      MakeNotification("team", {FiringAlertA()}, kGroupLabels, "http://am.example:9093", kGroupKey);
  EXPECT_FALSE((*webhook)->Notify(n).has_value());
  std::vector<HttpRequest> requests = client->requests();
  ASSERT_EQ(requests.size(), 1u);
  std::string authorization;
  for (const auto& [name, value] : requests[0].headers) {
    if (name == "Authorization") {
      authorization = value;
    }
  }
  EXPECT_EQ(authorization, "Basic YWxlcnRkOnBhNTU=");
  EXPECT_EQ(requests[0].tls.ca_file, "/etc/ssl/ca.pem");
  EXPECT_TRUE(requests[0].tls.insecure_skip_verify);
}

TEST(WebhookNotifierTest, CreateRejectsEmptyUrl) {
  auto notifier =
      WebhookNotifier::Create(config::WebhookConfig{}, std::make_shared<testing::FakeHttpClient>());
  ASSERT_FALSE(notifier.ok());
  EXPECT_EQ(notifier.error().message(),
            "webhook url is empty: set webhook_configs[].url or url_file.");
}

TEST(WebhookNotifierTest, CreateRejectsNegativeMaxAlerts) {
  config::WebhookConfig config;
  config.url = "http://127.0.0.1:9/hook";
  config.max_alerts = -1;
  auto notifier = WebhookNotifier::Create(config, std::make_shared<testing::FakeHttpClient>());
  ASSERT_FALSE(notifier.ok());
  EXPECT_EQ(notifier.error().message(),
            "webhook max_alerts is -1: use 0 for no limit or a positive number.");
}

}  // namespace
}  // namespace alertd
