#include "web/metrics.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace alertd::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(MetricsRegistry, RendersGoldenText) {
  Registry registry;
  // Registered out of order: output is sorted by name.
  Gauge& gauge = registry.AddGauge("alertd_rules_loaded", "Number of loaded rules.");
  Counter& counter = registry.AddCounter("alertd_evaluations_total", "Rule group evaluations.");
  Family<Counter>& sent = registry.AddCounterFamily("alertd_notifications_total",
                                                    "Notifications sent.\nBy receiver.",
                                                    {"receiver", "integration"});
  Histogram& duration = registry.AddHistogram(
      "alertd_evaluation_duration_seconds", "Evaluation time.", {0.1, 1, 2.5});
  registry.AddCallbackGauge("alertd_alerts_active", "Alerts now active.", [] { return 3.0; });
  registry.AddCallbackGaugeFamily("alertd_alerts", "Alerts by state.", {"state"}, [] {
    return std::vector<LabeledValue>{{{"pending"}, 1}, {{"firing"}, 2}};
  });

  gauge.Set(12);
  counter.Inc();
  counter.Inc(2.5);
  sent.WithLabels({"team-b", "slack"}).Inc(4);
  sent.WithLabels({"team-a", "webhook"}).Inc();
  sent.WithLabels({"we\"ird\\\n", "slack"}).Inc();
  duration.Observe(0.05);
  duration.Observe(1);
  duration.Observe(7);

  EXPECT_EQ(registry.Render(),
            "# HELP alertd_alerts Alerts by state.\n"
            "# TYPE alertd_alerts gauge\n"
            "alertd_alerts{state=\"firing\"} 2\n"
            "alertd_alerts{state=\"pending\"} 1\n"
            "# HELP alertd_alerts_active Alerts now active.\n"
            "# TYPE alertd_alerts_active gauge\n"
            "alertd_alerts_active 3\n"
            "# HELP alertd_evaluation_duration_seconds Evaluation time.\n"
            "# TYPE alertd_evaluation_duration_seconds histogram\n"
            "alertd_evaluation_duration_seconds_bucket{le=\"0.1\"} 1\n"
            "alertd_evaluation_duration_seconds_bucket{le=\"1\"} 2\n"
            "alertd_evaluation_duration_seconds_bucket{le=\"2.5\"} 2\n"
            "alertd_evaluation_duration_seconds_bucket{le=\"+Inf\"} 3\n"
            "alertd_evaluation_duration_seconds_sum 8.05\n"
            "alertd_evaluation_duration_seconds_count 3\n"
            "# HELP alertd_evaluations_total Rule group evaluations.\n"
            "# TYPE alertd_evaluations_total counter\n"
            "alertd_evaluations_total 3.5\n"
            "# HELP alertd_notifications_total Notifications sent.\\nBy receiver.\n"
            "# TYPE alertd_notifications_total counter\n"
            "alertd_notifications_total{integration=\"slack\",receiver=\"team-b\"} 4\n"
            "alertd_notifications_total{integration=\"slack\",receiver=\"we\\\"ird\\\\\\n\"} 1\n"
            "alertd_notifications_total{integration=\"webhook\",receiver=\"team-a\"} 1\n"
            "# HELP alertd_rules_loaded Number of loaded rules.\n"
            "# TYPE alertd_rules_loaded gauge\n"
            "alertd_rules_loaded 12\n");
}

TEST(MetricsRegistry, LabeledHistogramPutsLeLast) {
  Registry registry;
  auto& family = registry.AddHistogramFamily("request_seconds", "Request time.", {"route"}, {1});
  family.WithLabels({"/metrics"}).Observe(0.5);

  EXPECT_EQ(registry.Render(),
            "# HELP request_seconds Request time.\n"
            "# TYPE request_seconds histogram\n"
            "request_seconds_bucket{route=\"/metrics\",le=\"1\"} 1\n"
            "request_seconds_bucket{route=\"/metrics\",le=\"+Inf\"} 1\n"
            "request_seconds_sum{route=\"/metrics\"} 0.5\n"
            "request_seconds_count{route=\"/metrics\"} 1\n");
}

TEST(MetricsRegistry, FamilyWithoutChildrenIsOmitted) {
  Registry registry;
  registry.AddCounterFamily("unused_total", "Never used.", {"kind"});

  EXPECT_EQ(registry.Render(), "");
}

TEST(MetricsRegistry, SameRegistrationReturnsSameMetric) {
  Registry registry;
  Counter& first = registry.AddCounter("events_total", "Events.");
  Counter& second = registry.AddCounter("events_total", "Events.");

  first.Inc();
  second.Inc();

  EXPECT_EQ(&first, &second);
  EXPECT_THAT(registry.Render(), HasSubstr("events_total 2\n"));
}

TEST(MetricsRegistry, ConflictingRegistrationIsNotRendered) {
  Registry registry;
  registry.AddCounter("events_total", "Events.").Inc();
  Gauge& other_type = registry.AddGauge("events_total", "Events.");
  Counter& other_labels =
      registry.AddCounterFamily("events_total", "Events.", {"a"}).WithLabels({"x"});
  Histogram& first_buckets = registry.AddHistogram("latency_seconds", "Latency.", {1});
  Histogram& other_buckets = registry.AddHistogram("latency_seconds", "Latency.", {2});

  other_type.Set(100);
  other_labels.Inc(100);
  first_buckets.Observe(0.5);
  other_buckets.Observe(0.5);
  std::string text = registry.Render();

  EXPECT_THAT(text, HasSubstr("# TYPE events_total counter\nevents_total 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("100")));
  EXPECT_THAT(text, Not(HasSubstr("le=\"2\"")));
  EXPECT_THAT(text, HasSubstr("latency_seconds_count 1\n"));
}

TEST(MetricsRegistry, InvalidNamesAreNotRendered) {
  Registry registry;
  registry.AddCounter("1starts_with_digit", "Bad.").Inc();
  registry.AddCounter("has-dash", "Bad.").Inc();
  registry.AddCounterFamily("bad_label_total", "Bad.", {"__reserved"}).WithLabels({"x"}).Inc();
  registry.AddCounterFamily("dup_label_total", "Bad.", {"a", "a"}).WithLabels({"x", "y"}).Inc();
  registry.AddHistogramFamily("le_label", "Bad.", {"le"}, {1}).WithLabels({"x"}).Observe(1);
  registry.AddCallbackGauge("bad name", "Bad.", [] { return 1.0; });

  EXPECT_EQ(registry.Render(), "");
}

TEST(MetricsRegistry, WrongLabelCountIsNotRendered) {
  Registry registry;
  auto& family = registry.AddCounterFamily("jobs_total", "Jobs.", {"job"});
  family.WithLabels({"a", "b"}).Inc();
  family.WithLabels({}).Inc();

  EXPECT_EQ(registry.Render(), "");
}

TEST(MetricsRegistry, RemovedChildDisappears) {
  Registry registry;
  auto& family = registry.AddGaugeFamily("rule_health", "Health.", {"rule"});
  family.WithLabels({"a"}).Set(1);
  family.WithLabels({"b"}).Set(1);

  family.Remove({"a"});
  std::string text = registry.Render();

  EXPECT_THAT(text, Not(HasSubstr("rule=\"a\"")));
  EXPECT_THAT(text, HasSubstr("rule_health{rule=\"b\"} 1\n"));
}

TEST(MetricsRegistry, UnregisterRemovesCallback) {
  Registry registry;
  registry.AddCallbackGauge("temporary", "Temporary.", [] { return 1.0; });

  EXPECT_TRUE(registry.Unregister("temporary"));
  EXPECT_FALSE(registry.Unregister("temporary"));
  EXPECT_EQ(registry.Render(), "");
}

TEST(MetricsRegistry, CallbackIsEvaluatedAtRenderTime) {
  Registry registry;
  int active = 1;
  registry.AddCallbackGauge("active", "Active.", [&active] { return static_cast<double>(active); });

  std::string before = registry.Render();
  active = 5;
  std::string after = registry.Render();

  EXPECT_THAT(before, HasSubstr("active 1\n"));
  EXPECT_THAT(after, HasSubstr("active 5\n"));
}

TEST(MetricsRegistry, CallbackMayUseRegistry) {
  Registry registry;
  registry.AddCallbackGauge("families", "Families.", [&registry] {
    registry.AddCounter("created_by_callback_total", "Created.");
    return 1.0;
  });

  EXPECT_THAT(registry.Render(), HasSubstr("families 1\n"));
}

TEST(MetricsRegistry, ThrowingCallbackIsSkipped) {
  Registry registry;
  registry.AddCallbackGauge("broken", "Broken.", []() -> double { throw std::runtime_error("x"); });
  registry.AddGauge("working", "Working.").Set(1);

  EXPECT_EQ(registry.Render(), "# HELP working Working.\n# TYPE working gauge\nworking 1\n");
}

TEST(MetricsCounter, IgnoresNegativeAndNaNIncrements) {
  Counter counter;
  counter.Inc(2);
  counter.Inc(-1);
  counter.Inc(kNaN);

  EXPECT_EQ(counter.Value(), 2);
}

TEST(MetricsCounter, ConcurrentIncrementsAreCounted) {
  Registry registry;
  Counter& counter = registry.AddCounter("hits_total", "Hits.");
  auto& family = registry.AddCounterFamily("hits_by_worker_total", "Hits.", {"worker"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        counter.Inc();
        family.WithLabels({std::to_string(t % 2)}).Inc();
      }
    });
  }
  std::thread renderer([&] {
    for (int i = 0; i < 50; ++i) {
      (void)registry.Render();
    }
  });
  for (auto& thread : threads) {
    thread.join();
  }
  renderer.join();

  EXPECT_EQ(counter.Value(), 40000);
  EXPECT_EQ(family.WithLabels({"0"}).Value(), 20000);
  EXPECT_EQ(family.WithLabels({"1"}).Value(), 20000);
}

TEST(MetricsGauge, MovesBothWays) {
  Gauge gauge;
  gauge.Set(10);
  gauge.Inc();
  gauge.Dec(3.5);

  EXPECT_EQ(gauge.Value(), 7.5);
}

TEST(MetricsHistogram, BucketBoundsAreInclusive) {
  Histogram histogram({1, 2});
  histogram.Observe(1);
  histogram.Observe(2);
  histogram.Observe(2.0000001);

  Histogram::Snapshot snapshot = histogram.Read();

  EXPECT_EQ(snapshot.cumulative_counts, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(snapshot.count, 3u);
}

TEST(MetricsHistogram, NaNGoesToInfBucketOnly) {
  Histogram histogram({1});
  histogram.Observe(kNaN);

  Histogram::Snapshot snapshot = histogram.Read();

  EXPECT_EQ(snapshot.cumulative_counts, (std::vector<uint64_t>{0, 1}));
  EXPECT_TRUE(std::isnan(snapshot.sum));
}

TEST(MetricsHistogram, BoundsAreSanitized) {
  Histogram histogram({5, 1, kNaN, 1, kInf});

  EXPECT_EQ(histogram.upper_bounds(), (std::vector<double>{1, 5}));
}

TEST(MetricsBuckets, GeneratorsMatchGoClient) {
  EXPECT_EQ(DefaultBuckets(),
            (std::vector<double>{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}));
  EXPECT_EQ(ExponentialBuckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
  EXPECT_EQ(LinearBuckets(0.5, 1, 3), (std::vector<double>{0.5, 1.5, 2.5}));
}

TEST(MetricsFormat, ValuesMatchGoClient) {
  struct Case {
    double value;
    std::string text;
  };

  // Go client_golang writes values with strconv.FormatFloat(v, 'g', -1, 64); the large values
  // below appear that way on Prometheus 2.42's own /metrics (go_memstats_alloc_bytes).
  const std::vector<Case> cases = {
      {0, "0"},
      {1, "1"},
      {-1, "-1"},
      {0.5, "0.5"},
      {123456, "123456"},
      {999999, "999999"},
      {1e6, "1e+06"},
      {8601264, "8.601264e+06"},
      {1.79639926609e9, "1.79639926609e+09"},
      {0.0001, "0.0001"},
      {0.00001, "1e-05"},
      {9.5057e-05, "9.5057e-05"},
      {0.1 + 0.2, "0.30000000000000004"},
      {1e21, "1e+21"},
      {1.5e300, "1.5e+300"},
      {5e-324, "5e-324"},
      {-0.0, "-0"},
      {kInf, "+Inf"},
      {-kInf, "-Inf"},
      {kNaN, "NaN"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(FormatMetricValue(c.value), c.text) << c.text;
  }
}

TEST(MetricsFormat, EscapesLabelValues) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("a\"b"), "a\\\"b");
  EXPECT_EQ(EscapeLabelValue("a\\b"), "a\\\\b");
  EXPECT_EQ(EscapeLabelValue("a\nb"), "a\\nb");
  EXPECT_EQ(EscapeLabelValue("ünïcode\t"), "ünïcode\t");
}

TEST(MetricsFormat, ValidatesNames) {
  EXPECT_TRUE(IsValidMetricName("alertd_up"));
  EXPECT_TRUE(IsValidMetricName("job:rate5m"));
  EXPECT_TRUE(IsValidMetricName("_x9"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_FALSE(IsValidMetricName("9x"));
  EXPECT_FALSE(IsValidMetricName("a-b"));
  EXPECT_TRUE(IsValidLabelName("receiver"));
  EXPECT_TRUE(IsValidLabelName("_a1"));
  EXPECT_FALSE(IsValidLabelName("__name__"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
  EXPECT_FALSE(IsValidLabelName("1a"));
  EXPECT_FALSE(IsValidLabelName(""));
}

// promtool's linter parses the text with Prometheus's own parser, so this checks that the
// output is well-formed for Prometheus, not only that it matches the golden text above.
TEST(MetricsRegistry, RenderedTextPassesPromtoolCheck) {
  if (std::system("command -v promtool > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool is not installed";
  }
  Registry registry;
  registry.AddCounter("alertd_evaluations_total", "Rule group evaluations.").Inc(1234567);
  registry.AddCounterFamily("alertd_notifications_total", "Notifications sent.", {"receiver"})
      .WithLabels({"quote\" and \\ and \n newline"})
      .Inc();
  auto& histogram = registry.AddHistogram(
      "alertd_evaluation_duration_seconds", "Evaluation time.", ExponentialBuckets(1e-4, 10, 8));
  histogram.Observe(0.003);
  registry.AddGauge("alertd_value", "A value.").Set(-kInf);
  registry.AddCallbackGauge("alertd_nan", "Not a number.", [] { return kNaN; });

  std::string path = ::testing::TempDir() + "metrics_promtool.txt";
  {
    std::ofstream file(path);
    file << registry.Render();
  }
  std::string command = "promtool check metrics < " + path + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[512];
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr) {
    output += buffer;
  }
  int status = pclose(pipe);
  std::remove(path.c_str());

  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output, "");
}

}  // namespace
}  // namespace alertd::metrics
