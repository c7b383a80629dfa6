#include "engine/recording_rule.h"

#include <chrono>

#include <gtest/gtest.h>

#include "storage/sample_store.h"

namespace alertd {
namespace {

using std::chrono::minutes;

const TimePoint kT0 = FromMillis(1'700'000'000'000);

RecordingRuleSpec Spec(std::vector<std::pair<std::string, std::string>> labels = {}) {
  RecordingRuleSpec spec;
  spec.name = "job:up:sum";
  spec.expr_text = "sum by (job, instance) (up)";
  spec.labels = std::move(labels);
  spec.rule_key =
      "rules/node.yml\x1fnode\x1f"
      "1\x1fjob:up:sum";
  return spec;
}

promql::VectorSample Sample(Labels metric, TimePoint t, double v) {
  return {std::move(metric), ToMillis(t), v};
}

TEST(RecordingRuleTest, SetsRecordNameAndRuleLabels) {
  RecordingRule rule(Spec({{"team", "infra"}, {"job", "renamed"}, {"instance", ""}}));
  auto samples = rule.Eval(
      {Sample(
          Labels{{"__name__", "up"}, {"instance", "a"}, {"job", "node"}, {"zone", "z1"}}, kT0, 3)},
      kT0);
  ASSERT_TRUE(samples.ok()) << samples.error().message();
  ASSERT_EQ(samples->size(), 1u);
  // An empty rule label value removes the label, as Prometheus's labels.Builder.Set does.
  Labels want{{"__name__", "job:up:sum"}, {"job", "renamed"}, {"team", "infra"}, {"zone", "z1"}};
  EXPECT_EQ((*samples)[0].metric, want);
  EXPECT_EQ((*samples)[0].t, ToMillis(kT0));
  EXPECT_EQ((*samples)[0].v, 3);
}

TEST(RecordingRuleTest, ResultWithoutNameGetsRecordName) {
  RecordingRule rule(Spec());
  auto samples = rule.Eval({Sample(Labels{{"job", "node"}}, kT0, 1)}, kT0);
  ASSERT_TRUE(samples.ok());
  ASSERT_EQ(samples->size(), 1u);
  EXPECT_EQ((*samples)[0].metric, (Labels{{"__name__", "job:up:sum"}, {"job", "node"}}));
}

TEST(RecordingRuleTest, DuplicateLabelSetAfterRuleLabelsFails) {
  RecordingRule rule(Spec({{"instance", "all"}}));
  auto samples = rule.Eval({Sample(Labels{{"instance", "a"}, {"job", "node"}}, kT0, 1),
                            Sample(Labels{{"instance", "b"}, {"job", "node"}}, kT0, 2)},
                           kT0);
  ASSERT_FALSE(samples.ok());
  EXPECT_EQ(samples.error().message(),
            "vector contains metrics with the same labelset after applying rule labels");
  RuleEvalStatus status = rule.EvalStatus();
  EXPECT_EQ(status.health, RuleHealth::kErr);
  EXPECT_EQ(status.last_error,
            "vector contains metrics with the same labelset after applying rule labels");
}

TEST(RecordingRuleTest, SamplesDifferingOnlyInNameCollide) {
  RecordingRule rule(Spec());
  auto samples = rule.Eval({Sample(Labels{{"__name__", "a"}, {"job", "node"}}, kT0, 1),
                            Sample(Labels{{"__name__", "b"}, {"job", "node"}}, kT0, 2)},
                           kT0);
  ASSERT_FALSE(samples.ok());
  EXPECT_EQ(samples.error().message(),
            "vector contains metrics with the same labelset after applying rule labels");
}

TEST(RecordingRuleTest, LimitRejectsLargerResult) {
  RecordingRule rule(Spec());
  promql::Vector result = {Sample(Labels{{"job", "a"}}, kT0, 1),
                           Sample(Labels{{"job", "b"}}, kT0, 1)};
  ASSERT_TRUE(rule.Eval(result, kT0, /*limit=*/2).ok());
  auto limited = rule.Eval(result, kT0 + minutes(1), /*limit=*/1);
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.error().message(), "exceeded limit of 1 with 2 series");
}

TEST(RecordingRuleTest, VanishedSeriesGetStaleMarker) {
  RecordingRule rule(Spec());
  ASSERT_TRUE(
      rule.Eval({Sample(Labels{{"job", "a"}}, kT0, 1), Sample(Labels{{"job", "b"}}, kT0, 1)}, kT0)
          .ok());
  const TimePoint t1 = kT0 + minutes(1);
  auto samples = rule.Eval({Sample(Labels{{"job", "b"}}, t1, 5)}, t1);
  ASSERT_TRUE(samples.ok());
  ASSERT_EQ(samples->size(), 2u);
  EXPECT_EQ((*samples)[0].metric, (Labels{{"__name__", "job:up:sum"}, {"job", "a"}}));
  EXPECT_TRUE(IsStaleNaN((*samples)[0].v));
  EXPECT_EQ((*samples)[0].t, ToMillis(t1));
  EXPECT_EQ((*samples)[1].metric, (Labels{{"__name__", "job:up:sum"}, {"job", "b"}}));
  EXPECT_EQ((*samples)[1].v, 5);

  // A failed evaluation keeps the written series, so the marker is not lost.
  ASSERT_FALSE(rule.Eval({Sample(Labels{{"job", "c"}}, t1, 1), Sample(Labels{{"job", "c"}}, t1, 2)},
                         kT0 + minutes(2))
                   .ok());
  auto after_failure = rule.Eval({}, kT0 + minutes(3));
  ASSERT_TRUE(after_failure.ok());
  ASSERT_EQ(after_failure->size(), 1u);
  EXPECT_EQ((*after_failure)[0].metric, (Labels{{"__name__", "job:up:sum"}, {"job", "b"}}));
  EXPECT_TRUE(IsStaleNaN((*after_failure)[0].v));

  auto empty_again = rule.Eval({}, kT0 + minutes(4));
  ASSERT_TRUE(empty_again.ok());
  EXPECT_TRUE(empty_again->empty());
}

TEST(RecordingRuleTest, StaleSeriesEndsEverySeries) {
  RecordingRule rule(Spec());
  ASSERT_TRUE(rule.Eval({Sample(Labels{{"job", "a"}}, kT0, 1)}, kT0).ok());
  promql::Vector stale = rule.StaleSeries(kT0 + minutes(1));
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_TRUE(IsStaleNaN(stale[0].v));
  EXPECT_TRUE(rule.StaleSeries(kT0 + minutes(2)).empty());
}

TEST(RecordingRuleTest, StatusFollowsEvaluations) {
  RecordingRule rule(Spec());
  EXPECT_EQ(rule.EvalStatus().health, RuleHealth::kUnknown);
  ASSERT_TRUE(rule.Eval({}, kT0).ok());
  EXPECT_EQ(rule.EvalStatus().health, RuleHealth::kOk);
  EXPECT_EQ(rule.EvalStatus().last_evaluation, kT0);
  rule.SetEvaluationFailed(Error::Invalid("bad query"), kT0 + minutes(1));
  EXPECT_EQ(rule.EvalStatus().health, RuleHealth::kErr);
  EXPECT_EQ(rule.EvalStatus().last_error, "bad query");
  ASSERT_TRUE(rule.Eval({}, kT0 + minutes(2)).ok());
  EXPECT_EQ(rule.EvalStatus().health, RuleHealth::kOk);
  EXPECT_EQ(rule.EvalStatus().last_error, "");
}

TEST(RecordingRuleTest, CopyStateFromCarriesWrittenSeries) {
  RecordingRule old_rule(Spec());
  ASSERT_TRUE(old_rule.Eval({Sample(Labels{{"job", "a"}}, kT0, 1)}, kT0).ok());
  RecordingRule new_rule(Spec());
  new_rule.CopyStateFrom(old_rule);
  auto samples = new_rule.Eval({}, kT0 + minutes(1));
  ASSERT_TRUE(samples.ok());
  ASSERT_EQ(samples->size(), 1u);
  EXPECT_TRUE(IsStaleNaN((*samples)[0].v));
}

}  // namespace
}  // namespace alertd
