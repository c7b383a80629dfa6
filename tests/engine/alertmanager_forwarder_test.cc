#include "engine/alertmanager_forwarder.h"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/local_http_server.h"
#include "engine/rule_manager.h"
#include "rules/rule_file.h"
#include "storage/memory_sample_store.h"
#include "storage/state_store.h"

namespace alertd {
namespace {

using testing::HttpResponseBytes;
using testing::LocalHttpServer;
using testing::ReceivedRequest;

NotifyAlert MakeAlert(const std::string& name, TimePoint starts, TimePoint ends) {
  NotifyAlert alert;
  alert.labels = Labels{{"alertname", name}, {"replica", "a"}};
  alert.annotations = Labels{{"summary", "s"}};
  alert.starts_at = starts;
  alert.ends_at = ends;
  alert.generator_url = "http://alertd/graph";
  return alert;
}

TEST(AlertmanagerAlertsUrl, JoinsSchemeTargetAndPrefix) {
  EXPECT_EQ(AlertmanagerAlertsUrl("http", "127.0.0.1:9093", "/"),
            "http://127.0.0.1:9093/api/v2/alerts");
  EXPECT_EQ(AlertmanagerAlertsUrl("https", "am:443", "alertmanager/"),
            "https://am:443/alertmanager/api/v2/alerts");
}

TEST(AlertsToApiV2Json, WritesPrometheusFields) {
  auto json = nlohmann::json::parse(
      AlertsToApiV2Json({MakeAlert("A", FromMillis(1700000000120), FromMillis(1700000240000))}));
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0]["labels"]["alertname"], "A");
  EXPECT_EQ(json[0]["annotations"]["summary"], "s");
  EXPECT_EQ(json[0]["startsAt"], "2023-11-14T22:13:20.120Z");
  EXPECT_EQ(json[0]["endsAt"], "2023-11-14T22:17:20.000Z");
  EXPECT_EQ(json[0]["generatorURL"], "http://alertd/graph");
}

TEST(AlertmanagerForwarder, PostsEachBatchToEveryAlertmanager) {
  LocalHttpServer first([](const ReceivedRequest&) { return HttpResponseBytes(200, ""); });
  LocalHttpServer second([](const ReceivedRequest&) { return HttpResponseBytes(200, ""); });
  AlertmanagerForwarderOptions options;
  options.max_batch = 2;
  for (const auto* server : {&first, &second}) {
    RemoteEndpoint endpoint;
    endpoint.url =
        AlertmanagerAlertsUrl("http", "127.0.0.1:" + std::to_string(server->port()), "/");
    endpoint.headers = {{"Authorization", "Bearer t"}};
    options.alertmanagers.push_back(endpoint);
  }
  AlertmanagerForwarder forwarder(options, MakeCurlHttpClient());
  forwarder.Send({MakeAlert("A", FromMillis(0), FromMillis(1000)),
                  MakeAlert("B", FromMillis(0), FromMillis(1000)),
                  MakeAlert("C", FromMillis(0), FromMillis(1000))});
  EXPECT_TRUE(forwarder.SendPending());
  EXPECT_EQ(forwarder.alerts_sent(), 6u);
  for (const auto* server : {&first, &second}) {
    auto requests = server->requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(requests[0].method, "POST");
    EXPECT_EQ(requests[0].target, "/api/v2/alerts");
    EXPECT_EQ(requests[0].Header("content-type"), "application/json");
    EXPECT_EQ(requests[0].Header("authorization"), "Bearer t");
    EXPECT_EQ(nlohmann::json::parse(requests[0].body).size(), 2u);
    EXPECT_EQ(nlohmann::json::parse(requests[1].body).size(), 1u);
  }
}

TEST(AlertmanagerForwarder, OneAlertmanagerDownStillDelivers) {
  LocalHttpServer up([](const ReceivedRequest&) { return HttpResponseBytes(200, ""); });
  AlertmanagerForwarderOptions options;
  RemoteEndpoint down;
  down.url = "http://127.0.0.1:" + std::to_string(testing::ClosedLocalPort()) + "/api/v2/alerts";
  RemoteEndpoint live;
  live.url = up.BaseUrl() + "/api/v2/alerts";
  options.alertmanagers = {down, live};
  AlertmanagerForwarder forwarder(options, MakeCurlHttpClient());
  forwarder.Send({MakeAlert("A", FromMillis(0), FromMillis(1000))});
  EXPECT_TRUE(forwarder.SendPending());
  EXPECT_EQ(forwarder.alerts_sent(), 1u);
  EXPECT_EQ(forwarder.errors(), 1u);
  EXPECT_EQ(forwarder.dropped(), 0u);
}

TEST(AlertmanagerForwarder, FullQueueDropsOldest) {
  AlertmanagerForwarderOptions options;
  options.capacity = 2;
  AlertmanagerForwarder forwarder(options, MakeCurlHttpClient());
  forwarder.Send({MakeAlert("A", FromMillis(0), FromMillis(1)),
                  MakeAlert("B", FromMillis(0), FromMillis(1)),
                  MakeAlert("C", FromMillis(0), FromMillis(1))});
  EXPECT_EQ(forwarder.pending(), 2u);
  EXPECT_EQ(forwarder.dropped(), 1u);
}

// The schedule the forwarder relies on. The rule manager hands over a firing alert again at
// the first evaluation more than resend_delay after the last send, because Prometheus's
// needsSending compares with Before. It is valid for 4 * max(resend_delay, interval), and a
// resolved alert comes with its resolution time.
TEST(AlertmanagerForwarder, RuleManagerResendsOnPrometheusSchedule) {
  std::vector<rules::RuleError> errors;
  auto file = rules::ParseRuleFile(
      "groups:\n  - name: g\n    interval: 20s\n    rules:\n      - alert: A\n        expr: x\n",
      "rules.yml",
      &errors);
  ASSERT_TRUE(file.ok());
  std::vector<rules::RuleFile> files{*file};
  auto store = OpenSqliteStateStore(":memory:");
  ASSERT_TRUE(store.ok());
  MemorySampleStore samples;
  FakeClock clock(FromMillis(1700000000000));
  std::vector<std::pair<TimePoint, NotifyAlert>> handed;
  RuleManagerOptions options;
  options.resend_delay = Duration(60000);
  options.notify = [&](std::vector<NotifyAlert> alerts) {
    for (auto& alert : alerts) {
      handed.emplace_back(clock.Now(), std::move(alert));
    }
  };
  auto manager = RuleManager::Create(files, options, &samples, &samples, store->get(), &clock);
  ASSERT_TRUE(manager.ok());

  samples.Append(Labels{{"__name__", "x"}}, ToMillis(clock.Now()), 1);
  TimePoint start = clock.Now();
  for (int i = 0; i < 7; ++i) {  // 0s .. 120s every 20s
    samples.Append(Labels{{"__name__", "x"}}, ToMillis(clock.Now()), 1);
    (*manager)->EvalGroup(0);
    clock.Advance(std::chrono::seconds(20));
  }
  ASSERT_EQ(handed.size(), 2u);  // at 0s and 80s
  EXPECT_EQ(handed[0].first, start);
  EXPECT_EQ(handed[1].first, start + std::chrono::seconds(80));
  EXPECT_EQ(handed[1].second.ends_at, handed[1].first + std::chrono::minutes(4));

  samples.Append(Labels{{"__name__", "x"}}, ToMillis(clock.Now()), StaleNaN());
  (*manager)->EvalGroup(0);
  ASSERT_EQ(handed.size(), 3u);
  EXPECT_EQ(handed[2].second.ends_at, clock.Now());
}

}  // namespace
}  // namespace alertd
