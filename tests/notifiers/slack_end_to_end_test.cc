// The real path: Dispatcher -> SlackNotifier -> libcurl -> a Slack stand-in on 127.0.0.1, and
// the notification log in SQLite.
#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/local_http_server.h"
#include "notifiers/dispatcher.h"
#include "notifiers/slack/slack_notifier.h"
#include "notifiers/time_util.h"
#include "storage/state_store.h"

namespace alertd {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kStart = testing::Utc(2026, 12, 4, 15, 0, 0);

std::unique_ptr<StateStore> OpenStore() {
  auto store = OpenSqliteStateStore(":memory:");
  EXPECT_TRUE(store.ok()) << store.error().message();
  return std::move(store).value();
}

std::unique_ptr<Notifier> MakeSlack(const std::string& url, bool send_resolved) {
  config::SlackConfig config;
  config.api_url = url;
  config.channel = "#ops";
  config.send_resolved = send_resolved;
  auto slack = SlackNotifier::Create(config, MakeCurlHttpClient());
  EXPECT_TRUE(slack.ok());
  return std::move(slack).value();
}

config::Route MakeRoute() {
  config::Route route;
  route.receiver = "ops";
  route.group_by = {"alertname"};
  route.group_wait = seconds(30);
  route.group_interval = minutes(5);
  route.repeat_interval = minutes(60);
  return route;
}

NotifyAlert MakeAlert() {
  NotifyAlert alert;
  alert.labels = Labels{{"alertname", "DiskFull"}, {"instance", "db:9100"}};
  alert.annotations = Labels{{"summary", "Disk full on db"}, {"description", "/ is 99% full"}};
  alert.starts_at = kStart;
  alert.generator_url = "http://prometheus:9090/graph";
  return alert;
}

// Dispatchers here run sends inline, so each Tick returns after the POST completed.
DispatcherOptions InlineOptions() {
  DispatcherOptions options;
  options.external_url = "http://alertd:9095/";
  options.executor = [](std::function<void()> job) {
    job();
  };
  return options;
}

TEST(SlackEndToEndTest, PostsFiringAndResolvedThroughCurl) {
  testing::LocalHttpServer server(
      [](const testing::ReceivedRequest&) { return testing::HttpResponseBytes(200, "ok"); });
  auto store = OpenStore();
  FakeClock clock(kStart);
  std::map<std::string, std::vector<std::unique_ptr<Notifier>>> receivers;
  receivers["ops"].push_back(MakeSlack(server.BaseUrl() + "/services/T1/B2/secret", true));
  Dispatcher dispatcher(MakeRoute(), std::move(receivers), store.get(), &clock, InlineOptions());

  NotifyAlert alert = MakeAlert();
  dispatcher.Put({alert});
  clock.Advance(seconds(30));
  dispatcher.Tick();
  ASSERT_EQ(server.requests().size(), 1u);
  testing::ReceivedRequest firing = server.requests()[0];
  EXPECT_EQ(firing.method, "POST");
  EXPECT_EQ(firing.target, "/services/T1/B2/secret");
  EXPECT_EQ(firing.Header("content-type"), "application/json");
  nlohmann::json body = nlohmann::json::parse(firing.body);
  EXPECT_EQ(body["channel"], "#ops");
  EXPECT_EQ(body["username"], "Alertmanager");
  const nlohmann::json& attachment = body["attachments"][0];
  EXPECT_EQ(attachment["title"], "[FIRING:1] DiskFull (db:9100)");
  EXPECT_EQ(attachment["title_link"], "http://alertd:9095/#/alerts?receiver=ops");
  EXPECT_EQ(attachment["text"], "*Disk full on db*\n/ is 99% full");
  EXPECT_EQ(attachment["color"], "danger");

  clock.Advance(seconds(10));
  alert.ends_at = clock.Now();
  dispatcher.Put({alert});
  clock.Advance(minutes(5) - seconds(10));
  dispatcher.Tick();
  ASSERT_EQ(server.requests().size(), 2u);
  nlohmann::json resolved = nlohmann::json::parse(server.requests()[1].body);
  EXPECT_EQ(resolved["attachments"][0]["title"], "[RESOLVED] DiskFull (db:9100)");
  EXPECT_EQ(resolved["attachments"][0]["color"], "good");
  EXPECT_EQ(dispatcher.Counters()[0].notifications_sent, 2u);
  EXPECT_EQ(dispatcher.alert_count(), 0u);
}

TEST(SlackEndToEndTest, RetriesAfterServerErrorThenDelivers) {
  std::atomic<int> calls = 0;
  testing::LocalHttpServer server([&](const testing::ReceivedRequest&) {
    return ++calls == 1 ? testing::HttpResponseBytes(503, "try later")
                        : testing::HttpResponseBytes(200, "ok");
  });
  auto store = OpenStore();
  FakeClock clock(kStart);
  std::map<std::string, std::vector<std::unique_ptr<Notifier>>> receivers;
  receivers["ops"].push_back(MakeSlack(server.BaseUrl() + "/services/T1/B2/secret", false));
  Dispatcher dispatcher(MakeRoute(), std::move(receivers), store.get(), &clock, InlineOptions());
  dispatcher.Put({MakeAlert()});
  clock.Advance(seconds(30));
  dispatcher.Tick();
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(dispatcher.Counters()[0].requests_failed, 1u);
  clock.Advance(seconds(1));
  dispatcher.Tick();
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(dispatcher.Counters()[0].notifications_sent, 1u);
}

TEST(SlackEndToEndTest, RestartOverSqliteDoesNotResend) {
  testing::LocalHttpServer server(
      [](const testing::ReceivedRequest&) { return testing::HttpResponseBytes(200, "ok"); });
  auto store = OpenStore();
  FakeClock clock(kStart);
  const std::string url = server.BaseUrl() + "/services/T1/B2/secret";
  {
    std::map<std::string, std::vector<std::unique_ptr<Notifier>>> receivers;
    receivers["ops"].push_back(MakeSlack(url, true));
    Dispatcher dispatcher(MakeRoute(), std::move(receivers), store.get(), &clock, InlineOptions());
    dispatcher.Put({MakeAlert()});
    clock.Advance(seconds(30));
    dispatcher.Tick();
    ASSERT_EQ(server.requests().size(), 1u);
  }
  clock.Advance(minutes(2));
  std::map<std::string, std::vector<std::unique_ptr<Notifier>>> receivers;
  receivers["ops"].push_back(MakeSlack(url, true));
  Dispatcher restarted(MakeRoute(), std::move(receivers), store.get(), &clock, InlineOptions());
  restarted.Put({MakeAlert()});
  restarted.Tick();
  clock.Advance(minutes(5));
  restarted.Tick();
  EXPECT_EQ(server.requests().size(), 1u);
  // Sent at 30s; the flushes at 2m30s + k*5m pass repeat_interval (60m) at 62m30s.
  for (int i = 0; i < 12; ++i) {
    clock.Advance(minutes(5));
    restarted.Tick();
  }
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(SlackEndToEndTest, ConnectionRefusedIsRetryableTransportError) {
  const int port = testing::ClosedLocalPort();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/services/T1/B2/secret";
  auto slack = MakeSlack(url, true);
  Notification n = MakeNotification("ops", {MakeAlert()}, Labels{}, "http://alertd", "{}:{}");
  std::optional<NotifyError> error = slack->Notify(n);
  ASSERT_TRUE(error.has_value());
  EXPECT_TRUE(error->retryable);
  EXPECT_EQ(error->reason, FailureReason::kTransport);
  EXPECT_EQ(error->message.find("secret"), std::string::npos) << error->message;
  EXPECT_EQ(error->message.find("T1/B2"), std::string::npos) << error->message;
}

}  // namespace
}  // namespace alertd
