#include "notifiers/inhibit.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "notifiers/time_util.h"

namespace alertd {
namespace {

using std::chrono::minutes;

const TimePoint kNow = testing::Utc(2026, 12, 4, 15, 0, 0);

LabelMatcher Eq(std::string name, std::string value) {
  return *LabelMatcher::Create(MatchType::kEqual, std::move(name), std::move(value));
}

config::InhibitRule CriticalInhibitsWarning(std::vector<std::string> equal) {
  config::InhibitRule rule;
  rule.source_matchers = {Eq("severity", "critical")};
  rule.target_matchers = {Eq("severity", "warning")};
  rule.equal = std::move(equal);
  return rule;
}

NotifyAlert Alert(Labels labels, TimePoint ends_at = TimePoint{}) {
  NotifyAlert alert;
  alert.labels = std::move(labels);
  alert.starts_at = kNow - minutes(10);
  alert.ends_at = ends_at;
  return alert;
}

TEST(InhibitorTest, FiringSourceWithEqualLabelsMutesTarget) {
  Inhibitor inhibitor({CriticalInhibitsWarning({"cluster"})});
  Labels source{{"alertname", "Down"}, {"severity", "critical"}, {"cluster", "eu"}};
  inhibitor.Put({Alert(source)});
  Labels same_cluster{{"alertname", "Slow"}, {"severity", "warning"}, {"cluster", "eu"}};
  Labels other_cluster{{"alertname", "Slow"}, {"severity", "warning"}, {"cluster", "us"}};
  Labels not_target{{"alertname", "Slow"}, {"severity", "info"}, {"cluster", "eu"}};
  EXPECT_EQ(inhibitor.MutedBy(same_cluster, kNow), std::vector<std::string>{source.Fingerprint()});
  EXPECT_TRUE(inhibitor.MutedBy(other_cluster, kNow).empty());
  EXPECT_TRUE(inhibitor.MutedBy(not_target, kNow).empty());
}

TEST(InhibitorTest, MissingEqualLabelCountsAsEmpty) {
  Inhibitor inhibitor({CriticalInhibitsWarning({"cluster"})});
  Labels source{{"alertname", "Down"}, {"severity", "critical"}};
  inhibitor.Put({Alert(source)});
  Labels without{{"alertname", "Slow"}, {"severity", "warning"}};
  Labels with{{"alertname", "Slow"}, {"severity", "warning"}, {"cluster", "eu"}};
  EXPECT_EQ(inhibitor.MutedBy(without, kNow), std::vector<std::string>{source.Fingerprint()});
  EXPECT_TRUE(inhibitor.MutedBy(with, kNow).empty());
}

TEST(InhibitorTest, ResolvedSourceStopsInhibiting) {
  Inhibitor inhibitor({CriticalInhibitsWarning({})});
  Labels source{{"alertname", "Down"}, {"severity", "critical"}};
  Labels target{{"alertname", "Slow"}, {"severity", "warning"}};
  inhibitor.Put({Alert(source, kNow + minutes(5))});  // fires until then
  EXPECT_EQ(inhibitor.MutedBy(target, kNow).size(), 1u);
  EXPECT_TRUE(inhibitor.MutedBy(target, kNow + minutes(5)).empty());
  inhibitor.Put({Alert(source)});
  EXPECT_EQ(inhibitor.MutedBy(target, kNow + minutes(5)).size(), 1u);
  inhibitor.Put({Alert(source, kNow)});
  EXPECT_TRUE(inhibitor.MutedBy(target, kNow).empty());
  inhibitor.Prune(kNow);
  EXPECT_TRUE(inhibitor.MutedBy(target, kNow - minutes(1)).empty());
}

TEST(InhibitorTest, AlertMatchingBothSidesDoesNotInhibitItself) {
  config::InhibitRule rule;
  rule.source_matchers = {Eq("alertname", "Down")};
  rule.target_matchers = {Eq("alertname", "Down")};
  rule.equal = {"cluster"};
  Inhibitor inhibitor({rule});
  Labels a{{"alertname", "Down"}, {"cluster", "eu"}, {"instance", "a"}};
  Labels b{{"alertname", "Down"}, {"cluster", "eu"}, {"instance", "b"}};
  inhibitor.Put({Alert(a)});
  EXPECT_TRUE(inhibitor.MutedBy(a, kNow).empty());
  // As Alertmanager: a source that also matches the target side never inhibits a target
  // that matches the source side.
  inhibitor.Put({Alert(b)});
  EXPECT_TRUE(inhibitor.MutedBy(a, kNow).empty());
  EXPECT_TRUE(inhibitor.MutedBy(b, kNow).empty());
}

TEST(InhibitorTest, TwoSidedTargetNeedsOneSidedSource) {
  config::InhibitRule rule;
  rule.source_matchers = {Eq("team", "db")};
  rule.target_matchers = {Eq("severity", "warning")};
  Inhibitor inhibitor({rule});
  Labels both{{"alertname", "A"}, {"team", "db"}, {"severity", "warning"}};
  Labels source_only{{"alertname", "B"}, {"team", "db"}, {"severity", "critical"}};
  inhibitor.Put({Alert(both)});
  EXPECT_TRUE(inhibitor.MutedBy(both, kNow).empty());
  inhibitor.Put({Alert(source_only)});
  EXPECT_EQ(inhibitor.MutedBy(both, kNow), std::vector<std::string>{source_only.Fingerprint()});
}

TEST(InhibitorTest, ListsEveryInhibitingAlertSorted) {
  Inhibitor inhibitor({CriticalInhibitsWarning({})});
  std::vector<std::string> expected;
  for (std::string name : {"X", "Y", "Z"}) {
    Labels source{{"alertname", name}, {"severity", "critical"}};
    inhibitor.Put({Alert(source)});
    expected.push_back(source.Fingerprint());
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(inhibitor.MutedBy(Labels{{"severity", "warning"}}, kNow), expected);
}

}  // namespace
}  // namespace alertd
