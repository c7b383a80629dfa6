#include "notifiers/payload.h"

#include <gtest/gtest.h>

#include "notifiers/time_util.h"

namespace alertd {
namespace {

using testing::Utc;

TEST(FormatGoTimeTest, TrimsTrailingZerosOfTheFraction) {
  EXPECT_EQ(FormatGoTime(Utc(2026, 12, 4, 15, 38, 11, 123000000)), "2026-12-04T15:38:11.123Z");
  EXPECT_EQ(FormatGoTime(Utc(2026, 12, 4, 15, 38, 11, 123456789)),
            "2026-12-04T15:38:11.123456789Z");
  EXPECT_EQ(FormatGoTime(Utc(2026, 12, 4, 15, 38, 11, 500000)), "2026-12-04T15:38:11.0005Z");
}

TEST(FormatGoTimeTest, OmitsAZeroFraction) {
  EXPECT_EQ(FormatGoTime(Utc(2026, 1, 2, 3, 4, 5)), "2026-01-02T03:04:05Z");
}

TEST(FormatGoTimeTest, ZeroTimePointIsGoZeroTime) {
  EXPECT_EQ(FormatGoTime(TimePoint{}), "0001-01-01T00:00:00Z");
}

TEST(EncodeGoJsonTest, EscapesHtmlCharactersAsGoDoes) {
  nlohmann::ordered_json value = {{"a", "<b> & \u2028\u2029"}, {"c", "x\by\fz\\b"}};
  EXPECT_EQ(
      EncodeGoJson(value),
      "{\"a\":\"\\u003cb\\u003e \\u0026 \\u2028\\u2029\",\"c\":\"x\\u0008y\\u000cz\\\\b\"}\n");
}

TEST(EncodeGoJsonTest, KeepsInsertionOrderAndUtf8) {
  nlohmann::ordered_json value = {{"z", "\u00e9t\u00e9"}, {"a", 1}};
  EXPECT_EQ(EncodeGoJson(value), "{\"z\":\"\u00e9t\u00e9\",\"a\":1}\n");
}

TEST(QueryEscapeTest, MatchesGoQueryEscape) {
  EXPECT_EQ(QueryEscape("team slack/ops&x=1~_.-"), "team+slack%2Fops%26x%3D1~_.-");
  EXPECT_EQ(QueryEscape("\u00e9"), "%C3%A9");
}

TEST(TemplateDataTest, HasAlertmanagerFieldNames) {
  NotifyAlert alert;
  alert.labels = Labels{{"alertname", "X"}};
  alert.annotations = Labels{{"summary", "s"}};
  alert.starts_at = Utc(2026, 1, 1, 0, 0, 0);
  alert.generator_url = "http://prom/graph";
  Notification n = MakeNotification("team", {alert}, Labels{{"alertname", "X"}}, "http://am", "k");
  nlohmann::json data = TemplateData(n);
  EXPECT_EQ(data["Receiver"], "team");
  EXPECT_EQ(data["Status"], "firing");
  EXPECT_EQ(data["ExternalURL"], "http://am");
  EXPECT_EQ(data["GroupLabels"]["alertname"], "X");
  EXPECT_EQ(data["CommonLabels"]["alertname"], "X");
  EXPECT_EQ(data["CommonAnnotations"]["summary"], "s");
  ASSERT_EQ(data["Alerts"].size(), 1u);
  EXPECT_EQ(data["Alerts"][0]["Status"], "firing");
  EXPECT_EQ(data["Alerts"][0]["Labels"]["alertname"], "X");
  EXPECT_EQ(data["Alerts"][0]["Annotations"]["summary"], "s");
  EXPECT_EQ(data["Alerts"][0]["StartsAt"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(data["Alerts"][0]["EndsAt"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(data["Alerts"][0]["GeneratorURL"], "http://prom/graph");
  EXPECT_EQ(data["Alerts"][0]["Fingerprint"], alert.labels.Fingerprint());
}

TEST(MakeNotificationTest, CommonLabelsAreTheSharedPairs) {
  NotifyAlert a;
  a.labels = Labels{{"alertname", "X"}, {"instance", "a"}, {"severity", "page"}};
  a.annotations = Labels{{"summary", "same"}, {"description", "one"}};
  NotifyAlert b;
  b.labels = Labels{{"alertname", "X"}, {"instance", "b"}, {"severity", "page"}};
  b.annotations = Labels{{"summary", "same"}, {"description", "two"}};
  b.ends_at = Utc(2026, 1, 1, 0, 0, 0);
  Notification n = MakeNotification("r", {a, b}, Labels{}, "", "");
  EXPECT_EQ(n.common_labels, (Labels{{"alertname", "X"}, {"severity", "page"}}));
  EXPECT_EQ(n.common_annotations, (Labels{{"summary", "same"}}));
  EXPECT_EQ(n.status, "firing");
}

TEST(MakeNotificationTest, StatusIsResolvedWhenEveryAlertIs) {
  NotifyAlert a;
  a.labels = Labels{{"alertname", "X"}};
  a.ends_at = Utc(2026, 1, 1, 0, 0, 0);
  EXPECT_EQ(MakeNotification("r", {a}, Labels{}, "", "").status, "resolved");
}

}  // namespace
}  // namespace alertd
