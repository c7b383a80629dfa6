#include "engine/alerting_rule.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "storage/sample_store.h"
#include "storage/state_store.h"

namespace alertd {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kT0 = FromMillis(1'700'000'000'000);

promql::VectorSample Sample(Labels metric, double v) {
  return {std::move(metric), 0, v};
}

promql::Vector ResultAt(promql::Vector result, TimePoint t) {
  for (auto& sample : result) {
    sample.t = ToMillis(t);
  }
  return result;
}

const Labels kUpA{{"__name__", "up"}, {"instance", "a"}, {"job", "node"}};
const Labels kUpB{{"__name__", "up"}, {"instance", "b"}, {"job", "node"}};
const Labels kAlertA{{"alertname", "InstanceDown"}, {"instance", "a"}, {"job", "node"}};
const Labels kAlertB{{"alertname", "InstanceDown"}, {"instance", "b"}, {"job", "node"}};

AlertingRuleSpec Spec(Duration for_duration = Duration::zero(),
                      Duration keep_firing_for = Duration::zero()) {
  AlertingRuleSpec spec;
  spec.name = "InstanceDown";
  spec.expr_text = "up == 0";
  spec.for_ = for_duration;
  spec.keep_firing_for = keep_firing_for;
  spec.rule_key =
      "rules/node.yml\x1fnode\x1f"
      "0\x1fInstanceDown";
  return spec;
}

// Replaces "{{ $labels.NAME }}" and "{{ $value }}" and fails on "{{ fail }}", enough to see
// which labels and value a template was expanded with.
Result<std::string> FakeExpand(std::string_view,
                               std::string_view text,
                               const Labels& labels,
                               double value) {
  if (text.find("{{ fail }}") != std::string_view::npos) {
    return Error::Invalid("fail is not defined");
  }
  std::string out(text);
  for (size_t pos; (pos = out.find("{{ $value }}")) != std::string::npos;) {
    out.replace(pos, 12, std::to_string(static_cast<int>(value)));
  }
  const std::string prefix = "{{ $labels.";
  for (size_t pos; (pos = out.find(prefix)) != std::string::npos;) {
    size_t end = out.find(" }}", pos);
    std::string name = out.substr(pos + prefix.size(), end - pos - prefix.size());
    out.replace(pos, end + 3 - pos, labels.Get(name));
  }
  return out;
}

std::vector<std::string> ChangeMessages(const EvalOutcome& outcome) {
  std::vector<std::string> messages;
  for (const auto& change : outcome.state_changes) {
    messages.push_back(change.LogMessage());
  }
  return messages;
}

class TempDir {
 public:
  TempDir() {
    dir_ = std::filesystem::temp_directory_path() /
           ("alertd-rule-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  ~TempDir() { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
};

TEST(AlertingRuleTest, PendingBecomesFiringAfterFor) {
  AlertingRule rule(Spec(minutes(5)));
  EvalOutcome first = rule.Eval(ResultAt({Sample(kUpA, 0)}, kT0), kT0);
  ASSERT_TRUE(first.status.ok());
  ASSERT_EQ(first.state_changes.size(), 1u);
  EXPECT_EQ(first.state_changes[0].from, AlertState::kInactive);
  EXPECT_EQ(first.state_changes[0].to, AlertState::kPending);
  ASSERT_EQ(rule.ActiveAlerts().size(), 1u);
  EXPECT_EQ(rule.ActiveAlerts()[0].labels, kAlertA);
  EXPECT_EQ(rule.ActiveAlerts()[0].state, AlertState::kPending);
  EXPECT_EQ(rule.ActiveAlerts()[0].active_at, kT0);

  EvalOutcome before = rule.Eval(ResultAt({Sample(kUpA, 0)}, kT0 + minutes(4)), kT0 + minutes(4));
  EXPECT_TRUE(before.state_changes.empty());
  EXPECT_EQ(rule.State(), AlertState::kPending);

  EvalOutcome at_for = rule.Eval(ResultAt({Sample(kUpA, 0)}, kT0 + minutes(5)), kT0 + minutes(5));
  ASSERT_EQ(at_for.state_changes.size(), 1u);
  EXPECT_EQ(at_for.state_changes[0].from, AlertState::kPending);
  EXPECT_EQ(at_for.state_changes[0].to, AlertState::kFiring);
  std::vector<Alert> alerts = rule.ActiveAlerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, AlertState::kFiring);
  EXPECT_EQ(alerts[0].active_at, kT0);
  EXPECT_EQ(alerts[0].fired_at, kT0 + minutes(5));
}

TEST(AlertingRuleTest, ZeroForFiresAtFirstEvaluation) {
  AlertingRule rule(Spec());
  EvalOutcome outcome = rule.Eval(ResultAt({Sample(kUpA, 0)}, kT0), kT0);
  EXPECT_EQ(ChangeMessages(outcome),
            (std::vector<std::string>{
                "Alert state changed alert=InstanceDown from=inactive to=pending "
                "labels=\"{alertname=\\\"InstanceDown\\\", instance=\\\"a\\\", job=\\\"node\\\"}\"",
                "Alert state changed alert=InstanceDown from=pending to=firing "
                "labels=\"{alertname=\\\"InstanceDown\\\", instance=\\\"a\\\", job=\\\"node\\\"}\"",
            }));
  ASSERT_EQ(outcome.upserts.size(), 1u);
  EXPECT_EQ(outcome.upserts[0].state, AlertState::kFiring);
  EXPECT_EQ(outcome.upserts[0].fired_at, kT0);
  EXPECT_EQ(outcome.upserts[0].rule_key, Spec().rule_key);
  EXPECT_EQ(rule.State(), AlertState::kFiring);
}

TEST(AlertingRuleTest, PendingAlertIsDroppedWhenResultDisappears) {
  AlertingRule rule(Spec(minutes(5)));
  ASSERT_TRUE(rule.Eval(ResultAt({Sample(kUpA, 0), Sample(kUpB, 0)}, kT0), kT0).status.ok());
  EvalOutcome outcome = rule.Eval(ResultAt({Sample(kUpB, 0)}, kT0 + minutes(1)), kT0 + minutes(1));
  ASSERT_EQ(outcome.state_changes.size(), 1u);
  EXPECT_EQ(outcome.state_changes[0].labels, kAlertA);
  EXPECT_EQ(outcome.state_changes[0].from, AlertState::kPending);
  EXPECT_EQ(outcome.state_changes[0].to, AlertState::kInactive);
  ASSERT_EQ(outcome.deletes.size(), 1u);
  EXPECT_EQ(outcome.deletes[0].labels, kAlertA);
  std::vector<Alert> alerts = rule.ActiveAlerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].labels, kAlertB);
}

TEST(AlertingRuleTest, ResolvedAlertIsKeptFifteenMinutes) {
  AlertingRule rule(Spec());
  ASSERT_TRUE(rule.Eval(ResultAt({Sample(kUpA, 0)}, kT0), kT0).status.ok());
  const TimePoint resolved_at = kT0 + minutes(1);

  EvalOutcome resolve = rule.Eval({}, resolved_at);
  ASSERT_EQ(resolve.state_changes.size(), 1u);
  EXPECT_EQ(resolve.state_changes[0].from, AlertState::kFiring);
  EXPECT_EQ(resolve.state_changes[0].to, AlertState::kInactive);
  ASSERT_EQ(resolve.upserts.size(), 1u);
  EXPECT_EQ(resolve.upserts[0].state, AlertState::kInactive);
  EXPECT_EQ(resolve.upserts[0].resolved_at, resolved_at);
  EXPECT_TRUE(resolve.deletes.empty());

  EvalOutcome later = rule.Eval({}, resolved_at + minutes(1));
  EXPECT_TRUE(later.state_changes.empty());
  EXPECT_TRUE(later.upserts.empty());

  EvalOutcome at_retention = rule.Eval({}, resolved_at + kResolvedRetention);
  EXPECT_TRUE(at_retention.deletes.empty());
  ASSERT_EQ(rule.ActiveAlerts().size(), 1u);
  EXPECT_EQ(rule.ActiveAlerts()[0].state, AlertState::kInactive);
  EXPECT_EQ(rule.ActiveAlerts()[0].resolved_at, resolved_at);
  EXPECT_EQ(rule.State(), AlertState::kInactive);

  EvalOutcome expired = rule.Eval({}, resolved_at + kResolvedRetention + seconds(1));
  EXPECT_TRUE(expired.state_changes.empty());
  ASSERT_EQ(expired.deletes.size(), 1u);
  EXPECT_EQ(expired.deletes[0].labels, kAlertA);
  EXPECT_TRUE(rule.ActiveAlerts().empty());
}

TEST(AlertingRuleTest, ResolvedAlertReturningStartsNewPendingAlert) {
  AlertingRule rule(Spec(minutes(5)));
  for (int i = 0; i <= 5; ++i) {
    ASSERT_TRUE(rule.Eval({Sample(kUpA, 0)}, kT0 + minutes(i)).status.ok());
  }
  ASSERT_EQ(rule.State(), AlertState::kFiring);
  ASSERT_TRUE(rule.Eval({}, kT0 + minutes(6)).status.ok());
  ASSERT_EQ(rule.State(), AlertState::kInactive);

  EvalOutcome back = rule.Eval({Sample(kUpA, 0)}, kT0 + minutes(7));
  ASSERT_EQ(back.state_changes.size(), 1u);
  EXPECT_EQ(back.state_changes[0].from, AlertState::kInactive);
  EXPECT_EQ(back.state_changes[0].to, AlertState::kPending);
  std::vector<Alert> alerts = rule.ActiveAlerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, AlertState::kPending);
  EXPECT_EQ(alerts[0].active_at, kT0 + minutes(7));
  EXPECT_FALSE(alerts[0].fired_at.has_value());
  EXPECT_FALSE(alerts[0].resolved_at.has_value());
}

TEST(AlertingRuleTest, KeepFiringForHoldsFiringAlert) {
  AlertingRule rule(Spec(Duration::zero(), minutes(10)));
  ASSERT_TRUE(rule.Eval({Sample(kUpA, 0)}, kT0).status.ok());
  const TimePoint gone = kT0 + minutes(1);

  EvalOutcome first_missing = rule.Eval({}, gone);
  EXPECT_TRUE(first_missing.state_changes.empty());
  ASSERT_EQ(first_missing.upserts.size(), 1u);
  EXPECT_EQ(first_missing.upserts[0].state, AlertState::kFiring);
  EXPECT_EQ(first_missing.upserts[0].keep_firing_since, gone);

  EvalOutcome still = rule.Eval({}, gone + minutes(9));
  EXPECT_TRUE(still.state_changes.empty());
  EXPECT_TRUE(still.upserts.empty());
  EXPECT_EQ(rule.State(), AlertState::kFiring);
  EXPECT_EQ(rule.ActiveAlerts()[0].keep_firing_since, gone);

  EvalOutcome expired = rule.Eval({}, gone + minutes(10));
  ASSERT_EQ(expired.state_changes.size(), 1u);
  EXPECT_EQ(expired.state_changes[0].to, AlertState::kInactive);
  EXPECT_EQ(rule.ActiveAlerts()[0].resolved_at, gone + minutes(10));
}

TEST(AlertingRuleTest, ReturningResultClearsKeepFiringSince) {
  AlertingRule rule(Spec(Duration::zero(), minutes(10)));
  ASSERT_TRUE(rule.Eval({Sample(kUpA, 0)}, kT0).status.ok());
  ASSERT_TRUE(rule.Eval({}, kT0 + seconds(15)).status.ok());
  ASSERT_TRUE(rule.ActiveAlerts()[0].keep_firing_since.has_value());

  EvalOutcome back = rule.Eval({Sample(kUpA, 0)}, kT0 + seconds(30));
  EXPECT_TRUE(back.state_changes.empty());
  ASSERT_EQ(back.upserts.size(), 1u);
  EXPECT_FALSE(back.upserts[0].keep_firing_since.has_value());
  EXPECT_FALSE(rule.ActiveAlerts()[0].keep_firing_since.has_value());
  EXPECT_EQ(rule.ActiveAlerts()[0].fired_at, kT0);
}

TEST(AlertingRuleTest, LabelsAndAnnotationsAreTemplated) {
  AlertingRuleSpec spec = Spec(minutes(5));
  spec.labels = {{"severity", "page-{{ $labels.job }}"}, {"job", "overridden"}};
  spec.annotations = {{"summary", "{{ $labels.instance }} is {{ $value }}"}};
  std::vector<std::string> template_names;
  AlertingRule rule(
      spec,
      [&template_names](
          std::string_view name, std::string_view text, const Labels& labels, double value) {
        template_names.emplace_back(name);
        return FakeExpand(name, text, labels, value);
      });

  ASSERT_TRUE(rule.Eval({Sample(kUpA, 3)}, kT0).status.ok());
  Labels want{{"alertname", "InstanceDown"},
              {"instance", "a"},
              {"job", "overridden"},
              {"severity", "page-node"}};
  std::vector<Alert> alerts = rule.ActiveAlerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].labels, want);
  EXPECT_EQ(alerts[0].annotations, (Labels{{"summary", "a is 3"}}));
  EXPECT_EQ(alerts[0].value, 3);
  ASSERT_FALSE(template_names.empty());
  EXPECT_EQ(template_names[0], "__alert_InstanceDown");

  // Annotations follow the current value; the alert keeps its identity and active_at.
  ASSERT_TRUE(rule.Eval({Sample(kUpA, 7)}, kT0 + minutes(1)).status.ok());
  alerts = rule.ActiveAlerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].annotations, (Labels{{"summary", "a is 7"}}));
  EXPECT_EQ(alerts[0].value, 7);
  EXPECT_EQ(alerts[0].active_at, kT0);
}

TEST(AlertingRuleTest, FailedTemplateShowsErrorInAnnotation) {
  AlertingRuleSpec spec = Spec();
  spec.annotations = {{"summary", "{{ fail }}"}};
  AlertingRule rule(spec, FakeExpand);
  EvalOutcome outcome = rule.Eval({Sample(kUpA, 0)}, kT0);
  ASSERT_TRUE(outcome.status.ok());
  EXPECT_EQ(rule.ActiveAlerts()[0].annotations,
            (Labels{{"summary", "<error expanding template: fail is not defined>"}}));
}

TEST(AlertingRuleTest, VerbatimExpanderKeepsTemplateText) {
  AlertingRuleSpec spec = Spec();
  spec.annotations = {{"summary", "{{ $labels.instance }}"}};
  AlertingRule rule(spec);
  ASSERT_TRUE(rule.Eval({Sample(kUpA, 0)}, kT0).status.ok());
  EXPECT_EQ(rule.ActiveAlerts()[0].annotations.Get("summary"), "{{ $labels.instance }}");
}

TEST(AlertingRuleTest, PrometheusExpanderRunsTemplates) {
  AlertingRuleSpec spec = Spec();
  spec.labels = {{"severity", "{{ if eq $labels.job \"node\" }}page{{ end }}"}};
  spec.annotations = {
      {"summary", "{{ $labels.instance }} is {{ $value }} in {{ $externalLabels.dc }}"},
      {"broken", "{{ .Labels.instance"}};
  AlertingRule rule(spec, PrometheusTemplateExpander(Labels{{"dc", "eu1"}}, "http://alertd:9095"));
  ASSERT_TRUE(rule.Eval({Sample(kUpA, 2.5)}, kT0).status.ok());
  std::vector<Alert> alerts = rule.ActiveAlerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].labels.Get("severity"), "page");
  EXPECT_EQ(alerts[0].annotations.Get("summary"), "a is 2.5 in eu1");
  std::string broken(alerts[0].annotations.Get("broken"));
  EXPECT_EQ(
      broken.rfind("<error expanding template: error parsing template __alert_InstanceDown: ", 0),
      0u)
      << broken;
}

TEST(AlertingRuleTest, DuplicateLabelSetFailsWithoutChangingState) {
  AlertingRule rule(Spec(minutes(5)));
  ASSERT_TRUE(rule.Eval({Sample(kUpB, 0)}, kT0).status.ok());
  // The two samples differ only in __name__, which alert labels drop.
  Labels other_name{{"__name__", "node_up"}, {"instance", "a"}, {"job", "node"}};
  EvalOutcome outcome = rule.Eval({Sample(kUpA, 0), Sample(other_name, 0)}, kT0 + minutes(1));
  ASSERT_FALSE(outcome.status.ok());
  EXPECT_EQ(outcome.status.error().message(),
            "vector contains metrics with the same labelset after applying alert labels");
  EXPECT_TRUE(outcome.state_changes.empty());
  EXPECT_TRUE(outcome.upserts.empty());
  EXPECT_TRUE(outcome.deletes.empty());
  EXPECT_TRUE(outcome.series.empty());
  // The alert missing from the failed result is still there.
  std::vector<Alert> alerts = rule.ActiveAlerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].labels, kAlertB);

  RuleEvalStatus status = rule.EvalStatus();
  EXPECT_EQ(status.health, RuleHealth::kErr);
  EXPECT_EQ(status.last_error,
            "vector contains metrics with the same labelset after applying alert labels");
  EXPECT_EQ(status.last_evaluation, kT0 + minutes(1));
}

TEST(AlertingRuleTest, RuleLabelsCanMakeLabelSetsCollide) {
  AlertingRuleSpec spec = Spec();
  spec.labels = {{"instance", "all"}};
  AlertingRule rule(spec);
  EvalOutcome outcome = rule.Eval({Sample(kUpA, 0), Sample(kUpB, 0)}, kT0);
  ASSERT_FALSE(outcome.status.ok());
  EXPECT_EQ(outcome.status.error().message(),
            "vector contains metrics with the same labelset after applying alert labels");
}

TEST(AlertingRuleTest, AlertsSeriesFollowState) {
  AlertingRule rule(Spec(minutes(1)));
  const Labels pending_series{{"__name__", "ALERTS"},
                              {"alertname", "InstanceDown"},
                              {"alertstate", "pending"},
                              {"instance", "a"},
                              {"job", "node"}};
  const Labels firing_series{{"__name__", "ALERTS"},
                             {"alertname", "InstanceDown"},
                             {"alertstate", "firing"},
                             {"instance", "a"},
                             {"job", "node"}};
  const Labels for_state_series{{"__name__", "ALERTS_FOR_STATE"},
                                {"alertname", "InstanceDown"},
                                {"instance", "a"},
                                {"job", "node"}};
  const TimePoint active_at = kT0 + std::chrono::milliseconds(1500);
  const double active_at_seconds = 1'700'000'001;

  EvalOutcome pending = rule.Eval({Sample(kUpA, 0)}, active_at);
  ASSERT_EQ(pending.series.size(), 2u);
  EXPECT_EQ(pending.series[0].metric, pending_series);
  EXPECT_EQ(pending.series[0].v, 1);
  EXPECT_EQ(pending.series[0].t, ToMillis(active_at));
  EXPECT_EQ(pending.series[1].metric, for_state_series);
  EXPECT_EQ(pending.series[1].v, active_at_seconds);

  const TimePoint fired_at = active_at + minutes(1);
  EvalOutcome firing = rule.Eval({Sample(kUpA, 0)}, fired_at);
  ASSERT_EQ(firing.series.size(), 3u);
  EXPECT_EQ(firing.series[0].metric, firing_series);
  EXPECT_EQ(firing.series[0].v, 1);
  EXPECT_EQ(firing.series[1].metric, pending_series);
  EXPECT_TRUE(IsStaleNaN(firing.series[1].v));
  EXPECT_EQ(firing.series[1].t, ToMillis(fired_at));
  EXPECT_EQ(firing.series[2].metric, for_state_series);
  EXPECT_EQ(firing.series[2].v, active_at_seconds);

  EvalOutcome resolved = rule.Eval({}, fired_at + minutes(1));
  ASSERT_EQ(resolved.series.size(), 2u);
  EXPECT_EQ(resolved.series[0].metric, firing_series);
  EXPECT_TRUE(IsStaleNaN(resolved.series[0].v));
  EXPECT_EQ(resolved.series[1].metric, for_state_series);
  EXPECT_TRUE(IsStaleNaN(resolved.series[1].v));

  EvalOutcome after = rule.Eval({}, fired_at + minutes(2));
  EXPECT_TRUE(after.series.empty());
}

TEST(AlertingRuleTest, StaleSeriesEndsEverySeriesOfRemovedRule) {
  AlertingRule rule(Spec());
  ASSERT_TRUE(rule.Eval({Sample(kUpA, 0), Sample(kUpB, 0)}, kT0).status.ok());
  promql::Vector stale = rule.StaleSeries(kT0 + minutes(1));
  ASSERT_EQ(stale.size(), 4u);
  for (const auto& sample : stale) {
    EXPECT_TRUE(IsStaleNaN(sample.v)) << sample.metric.ToString();
    EXPECT_EQ(sample.t, ToMillis(kT0 + minutes(1)));
  }
  EXPECT_TRUE(rule.StaleSeries(kT0 + minutes(2)).empty());
}

TEST(AlertingRuleTest, LimitClearsAllAlerts) {
  AlertingRule rule(Spec());
  ASSERT_TRUE(rule.Eval({Sample(kUpA, 0)}, kT0, /*limit=*/1).status.ok());
  EvalOutcome outcome = rule.Eval({Sample(kUpA, 0), Sample(kUpB, 0)}, kT0 + minutes(1), 1);
  ASSERT_FALSE(outcome.status.ok());
  EXPECT_EQ(outcome.status.error().message(), "exceeded limit of 1 with 2 alerts");
  EXPECT_TRUE(outcome.upserts.empty());
  EXPECT_TRUE(outcome.series.empty());
  ASSERT_EQ(outcome.deletes.size(), 2u);
  EXPECT_EQ(outcome.deletes[0].labels, kAlertA);
  EXPECT_EQ(outcome.deletes[1].labels, kAlertB);
  EXPECT_TRUE(rule.ActiveAlerts().empty());
  EXPECT_EQ(rule.EvalStatus().health, RuleHealth::kErr);
}

TEST(AlertingRuleTest, StatusRecordsHealthAndDuration) {
  AlertingRule rule(Spec());
  EXPECT_EQ(rule.EvalStatus().health, RuleHealth::kUnknown);
  EXPECT_STREQ(RuleHealthName(rule.EvalStatus().health), "unknown");

  ASSERT_TRUE(rule.Eval({}, kT0).status.ok());
  rule.SetEvaluationDuration(std::chrono::microseconds(250));
  RuleEvalStatus ok = rule.EvalStatus();
  EXPECT_EQ(ok.health, RuleHealth::kOk);
  EXPECT_EQ(ok.last_error, "");
  EXPECT_EQ(ok.last_evaluation, kT0);
  EXPECT_EQ(ok.evaluation_duration, std::chrono::microseconds(250));

  rule.SetEvaluationFailed(Error::Invalid("query timed out"), kT0 + minutes(1));
  RuleEvalStatus failed = rule.EvalStatus();
  EXPECT_EQ(failed.health, RuleHealth::kErr);
  EXPECT_STREQ(RuleHealthName(failed.health), "err");
  EXPECT_EQ(failed.last_error, "query timed out");
  EXPECT_EQ(failed.last_evaluation, kT0 + minutes(1));
}

TEST(AlertingRuleTest, StoredValueIsRefreshedAtMostOncePerMinute) {
  AlertingRule rule(Spec(minutes(2)));
  std::vector<int> write_seconds;
  for (int s = 0; s <= 180; s += 15) {
    TimePoint t = kT0 + seconds(s);
    EvalOutcome outcome = rule.Eval({Sample(kUpA, s)}, t);
    ASSERT_TRUE(outcome.status.ok());
    if (!outcome.upserts.empty()) {
      ASSERT_EQ(outcome.upserts.size(), 1u);
      EXPECT_EQ(outcome.upserts[0].value, s);
      EXPECT_EQ(outcome.upserts[0].last_eval, t);
      write_seconds.push_back(s);
    }
  }
  // Created at 0s, refreshed at 60s, fired at 120s (a state change), refreshed at 180s.
  EXPECT_EQ(write_seconds, (std::vector<int>{0, 60, 120, 180}));
}

TEST(AlertingRuleTest, StateChangeIsWrittenImmediately) {
  AlertingRule rule(Spec(seconds(20)));
  ASSERT_EQ(rule.Eval({Sample(kUpA, 0)}, kT0).upserts.size(), 1u);
  EXPECT_TRUE(rule.Eval({Sample(kUpA, 0)}, kT0 + seconds(10)).upserts.empty());
  EvalOutcome fired = rule.Eval({Sample(kUpA, 0)}, kT0 + seconds(20));
  ASSERT_EQ(fired.upserts.size(), 1u);
  EXPECT_EQ(fired.upserts[0].state, AlertState::kFiring);
}

TEST(AlertingRuleTest, AlertsToSendFollowsResendDelay) {
  AlertingRule rule(Spec(minutes(1)));
  const Duration resend_delay = minutes(1);
  const Duration interval = seconds(30);
  ASSERT_TRUE(rule.Eval({Sample(kUpA, 0)}, kT0).status.ok());
  EXPECT_TRUE(rule.AlertsToSend(kT0, resend_delay, interval).empty());  // pending

  ASSERT_TRUE(rule.Eval({Sample(kUpA, 0)}, kT0 + minutes(1)).status.ok());
  std::vector<Alert> first = rule.AlertsToSend(kT0 + minutes(1), resend_delay, interval);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].state, AlertState::kFiring);
  EXPECT_EQ(first[0].last_sent_at, kT0 + minutes(1));
  EXPECT_EQ(first[0].valid_until, kT0 + minutes(1) + 4 * resend_delay);
  EXPECT_TRUE(rule.AlertsToSend(kT0 + minutes(2), resend_delay, interval).empty());
  EXPECT_EQ(rule.AlertsToSend(kT0 + minutes(2) + seconds(1), resend_delay, interval).size(), 1u);

  // A resolution goes out at once, before resend_delay passed.
  const TimePoint resolved_at = kT0 + minutes(2) + seconds(30);
  ASSERT_TRUE(rule.Eval({}, resolved_at).status.ok());
  std::vector<Alert> resolved = rule.AlertsToSend(resolved_at, resend_delay, interval);
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].state, AlertState::kInactive);
  EXPECT_EQ(resolved[0].resolved_at, resolved_at);
  EXPECT_TRUE(rule.AlertsToSend(resolved_at + seconds(30), resend_delay, interval).empty());
}

TEST(AlertingRuleTest, RestoreKeepsActiveAtAcrossRestart) {
  TempDir dir;
  const std::string path = dir.Path("alertd.db");
  AlertingRuleSpec spec = Spec(minutes(10), minutes(5));
  {
    auto store = OpenSqliteStateStore(path);
    ASSERT_TRUE(store.ok()) << store.error().message();
    AlertingRule rule(spec);
    // A is returned from 0m and fires at 10m. B is returned from 5m and stays pending. At 11m
    // A's result stops and keep_firing_for holds it.
    for (int m = 0; m <= 10; ++m) {
      promql::Vector result = {Sample(kUpA, 0)};
      if (m >= 5) {
        result.push_back(Sample(kUpB, 0));
      }
      EvalOutcome outcome = rule.Eval(result, kT0 + minutes(m));
      ASSERT_TRUE((*store)->WriteAlerts(outcome.upserts, outcome.deletes).ok());
    }
    EvalOutcome outcome = rule.Eval({Sample(kUpB, 0)}, kT0 + minutes(11));
    ASSERT_TRUE((*store)->WriteAlerts(outcome.upserts, outcome.deletes).ok());
    ASSERT_EQ(rule.ActiveAlerts()[0].keep_firing_since, kT0 + minutes(11));
  }

  const TimePoint restart = kT0 + minutes(13);
  auto store = OpenSqliteStateStore(path);
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto rows = (*store)->LoadAlerts(restart - kResolvedRetention);
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  AlertingRule rule(spec);
  EXPECT_EQ(rule.Restore(*rows, restart), 2u);

  std::vector<Alert> alerts = rule.ActiveAlerts();
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].labels, kAlertA);
  EXPECT_EQ(alerts[0].state, AlertState::kFiring);
  EXPECT_EQ(alerts[0].active_at, kT0);
  EXPECT_EQ(alerts[0].fired_at, kT0 + minutes(10));
  EXPECT_EQ(alerts[0].keep_firing_since, kT0 + minutes(11));
  EXPECT_TRUE(alerts[0].restored);
  EXPECT_EQ(alerts[1].labels, kAlertB);
  EXPECT_EQ(alerts[1].state, AlertState::kPending);
  EXPECT_EQ(alerts[1].active_at, kT0 + minutes(5));

  // B fires 10 minutes after its original active_at, not 10 minutes after the restart.
  EvalOutcome outcome = rule.Eval({Sample(kUpB, 0)}, kT0 + minutes(16));
  ASSERT_EQ(outcome.state_changes.size(), 2u);
  EXPECT_EQ(outcome.state_changes[0].labels, kAlertA);
  EXPECT_EQ(outcome.state_changes[0].to, AlertState::kInactive);
  EXPECT_EQ(outcome.state_changes[1].labels, kAlertB);
  EXPECT_EQ(outcome.state_changes[1].to, AlertState::kFiring);
  // A's keep_firing_for started before the restart and ends at 11m + 5m.
  EXPECT_EQ(rule.ActiveAlerts()[0].state, AlertState::kInactive);
  EXPECT_EQ(rule.ActiveAlerts()[0].resolved_at, kT0 + minutes(16));
}

TEST(AlertingRuleTest, RestoreKeepsFiringWhateverFor) {
  auto store = OpenSqliteStateStore(":memory:");
  ASSERT_TRUE(store.ok());
  AlertingRuleSpec spec = Spec(minutes(1));
  AlertingRule before(spec);
  EvalOutcome created = before.Eval({Sample(kUpA, 0)}, kT0);
  ASSERT_TRUE((*store)->WriteAlerts(created.upserts, created.deletes).ok());
  EvalOutcome fired = before.Eval({Sample(kUpA, 0)}, kT0 + minutes(1));
  ASSERT_TRUE((*store)->WriteAlerts(fired.upserts, fired.deletes).ok());

  // After the restart the rule has a much longer `for`; the restored alert still fires.
  spec.for_ = std::chrono::hours(1);
  AlertingRule after(spec);
  auto rows = (*store)->LoadAlerts(kT0);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(after.Restore(*rows, kT0 + minutes(2)), 1u);
  EvalOutcome outcome = after.Eval({Sample(kUpA, 0)}, kT0 + minutes(3));
  EXPECT_TRUE(outcome.state_changes.empty());
  EXPECT_EQ(after.State(), AlertState::kFiring);
  EXPECT_EQ(after.ActiveAlerts()[0].fired_at, kT0 + minutes(1));
}

TEST(AlertingRuleTest, RestoreSkipsOtherRulesAndTrackedAlerts) {
  AlertingRule rule(Spec());
  ASSERT_TRUE(rule.Eval({Sample(kUpA, 0)}, kT0).status.ok());
  StoredAlert same_labels;
  same_labels.rule_key = Spec().rule_key;
  same_labels.labels = kAlertA;
  same_labels.state = AlertState::kPending;
  same_labels.active_at = kT0 - minutes(30);
  StoredAlert other_rule = same_labels;
  other_rule.rule_key =
      "rules/other.yml\x1fother\x1f"
      "0\x1fInstanceDown";
  other_rule.labels = kAlertB;

  EXPECT_EQ(rule.Restore({same_labels, other_rule}, kT0), 0u);
  std::vector<Alert> alerts = rule.ActiveAlerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].active_at, kT0);
}

// Writes A pending from kT0 under a rule with `for` 30m, evaluated every minute to `last`.
std::vector<StoredAlert> PendingRows(const AlertingRuleSpec& spec, int last_minute) {
  auto store = OpenSqliteStateStore(":memory:");
  EXPECT_TRUE(store.ok());
  AlertingRule before(spec);
  for (int m = 0; m <= last_minute; ++m) {
    EvalOutcome outcome = before.Eval({Sample(kUpA, 0)}, kT0 + minutes(m));
    EXPECT_TRUE((*store)->WriteAlerts(outcome.upserts, outcome.deletes).ok());
  }
  auto rows = (*store)->LoadAlerts(kT0);
  EXPECT_TRUE(rows.ok());
  return rows.ok() ? *rows : std::vector<StoredAlert>{};
}

TEST(AlertingRuleRestore, GracePeriodDelaysPendingNearItsFor) {
  AlertingRuleSpec spec = Spec(minutes(30));
  // Pending for 25 of 30 minutes at the stop; 5 minutes remain, less than the grace period.
  std::vector<StoredAlert> rows = PendingRows(spec, 25);
  AlertRestoreOptions options;
  options.for_grace_period = minutes(10);
  options.for_outage_tolerance = minutes(60);
  const TimePoint restart = kT0 + minutes(27);
  AlertingRule rule(spec);
  ASSERT_EQ(rule.Restore(rows, restart, options), 1u);
  EXPECT_EQ(rule.ActiveAlerts()[0].active_at, kT0);
  // `for` has passed at 30m, but the alert fires no earlier than the grace period after the
  // restart: 27m + 10m.
  EXPECT_TRUE(rule.Eval({Sample(kUpA, 0)}, kT0 + minutes(30)).state_changes.empty());
  EXPECT_TRUE(rule.Eval({Sample(kUpA, 0)}, restart + minutes(9)).state_changes.empty());
  EvalOutcome fired = rule.Eval({Sample(kUpA, 0)}, restart + minutes(10));
  ASSERT_EQ(fired.state_changes.size(), 1u);
  EXPECT_EQ(fired.state_changes[0].to, AlertState::kFiring);
  EXPECT_EQ(rule.ActiveAlerts()[0].active_at, kT0);
}

TEST(AlertingRuleRestore, PendingFarFromItsForKeepsTheTimer) {
  AlertingRuleSpec spec = Spec(minutes(30));
  // Pending for 5 of 30 minutes at the stop, then down for 3 minutes.
  std::vector<StoredAlert> rows = PendingRows(spec, 5);
  AlertRestoreOptions options;
  options.for_grace_period = minutes(10);
  options.for_outage_tolerance = minutes(60);
  AlertingRule rule(spec);
  ASSERT_EQ(rule.Restore(rows, kT0 + minutes(8), options), 1u);
  EXPECT_EQ(rule.ActiveAlerts()[0].active_at, kT0);
  EXPECT_TRUE(rule.Eval({Sample(kUpA, 0)}, kT0 + minutes(29)).state_changes.empty());
  EvalOutcome fired = rule.Eval({Sample(kUpA, 0)}, kT0 + minutes(30));
  ASSERT_EQ(fired.state_changes.size(), 1u);
  EXPECT_EQ(fired.state_changes[0].to, AlertState::kFiring);
}

TEST(AlertingRuleRestore, OutageLongerThanToleranceStartsForAgain) {
  AlertingRuleSpec spec = Spec(minutes(30));
  std::vector<StoredAlert> rows = PendingRows(spec, 5);
  AlertRestoreOptions options;
  options.for_grace_period = minutes(10);
  options.for_outage_tolerance = minutes(60);
  AlertingRule rule(spec);
  EXPECT_EQ(rule.Restore(rows, kT0 + minutes(5) + minutes(61), options), 0u);
  EXPECT_TRUE(rule.ActiveAlerts().empty());
  // Within the tolerance the same rows are restored.
  AlertingRule within(spec);
  EXPECT_EQ(within.Restore(rows, kT0 + minutes(5) + minutes(59), options), 1u);
}

TEST(AlertingRuleRestore, ForShorterThanGracePeriodWaitsItsFor) {
  AlertingRuleSpec spec = Spec(minutes(5));
  // Pending for 3 of 5 minutes at the stop, restarted a minute later.
  std::vector<StoredAlert> rows = PendingRows(spec, 3);
  AlertRestoreOptions options;
  options.for_grace_period = minutes(10);
  AlertingRule rule(spec);
  const TimePoint restart = kT0 + minutes(4);
  ASSERT_EQ(rule.Restore(rows, restart, options), 1u);
  EXPECT_EQ(rule.ActiveAlerts()[0].active_at, kT0);
  // It must be seen pending for its whole `for` after the restart, as when it starts again.
  EXPECT_TRUE(rule.Eval({Sample(kUpA, 0)}, restart + minutes(4)).state_changes.empty());
  EvalOutcome fired = rule.Eval({Sample(kUpA, 0)}, restart + minutes(5));
  ASSERT_EQ(fired.state_changes.size(), 1u);
  EXPECT_EQ(fired.state_changes[0].to, AlertState::kFiring);
}

TEST(AlertingRuleRestore, FiringIgnoresGracePeriodAndTolerance) {
  AlertingRuleSpec spec = Spec(minutes(5), minutes(10));
  auto store = OpenSqliteStateStore(":memory:");
  ASSERT_TRUE(store.ok());
  {
    AlertingRule before(spec);
    for (int m = 0; m <= 6; ++m) {
      EvalOutcome outcome = before.Eval({Sample(kUpA, 0)}, kT0 + minutes(m));
      ASSERT_TRUE((*store)->WriteAlerts(outcome.upserts, outcome.deletes).ok());
    }
    // The result stops at 7m: keep_firing_for keeps the alert firing until 17m.
    EvalOutcome kept = before.Eval({}, kT0 + minutes(7));
    ASSERT_TRUE((*store)->WriteAlerts(kept.upserts, kept.deletes).ok());
  }
  auto rows = (*store)->LoadAlerts(kT0);
  ASSERT_TRUE(rows.ok());
  AlertRestoreOptions options;
  options.for_grace_period = minutes(10);
  options.for_outage_tolerance = minutes(1);
  AlertingRule rule(spec);
  ASSERT_EQ(rule.Restore(*rows, kT0 + minutes(9), options), 1u);
  std::vector<Alert> alerts = rule.ActiveAlerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, AlertState::kFiring);
  EXPECT_EQ(alerts[0].active_at, kT0);
  EXPECT_EQ(alerts[0].keep_firing_since, kT0 + minutes(7));
  EXPECT_TRUE(rule.Eval({}, kT0 + minutes(16)).state_changes.empty());
  EvalOutcome ended = rule.Eval({}, kT0 + minutes(17));
  ASSERT_EQ(ended.state_changes.size(), 1u);
  EXPECT_EQ(ended.state_changes[0].to, AlertState::kInactive);
}

TEST(AlertingRuleTest, HoldUntilPreventsFalseResolution) {
  auto store = OpenSqliteStateStore(":memory:");
  ASSERT_TRUE(store.ok());
  AlertingRuleSpec spec = Spec(minutes(5));
  {
    AlertingRule before(spec);
    for (int m = 0; m <= 5; ++m) {
      promql::Vector result = {Sample(kUpA, 0)};
      if (m == 5) {
        result.push_back(Sample(kUpB, 0));
      }
      EvalOutcome outcome = before.Eval(result, kT0 + minutes(m));
      ASSERT_TRUE((*store)->WriteAlerts(outcome.upserts, outcome.deletes).ok());
    }
  }
  const TimePoint restart = kT0 + minutes(6);
  auto rows = (*store)->LoadAlerts(restart - kResolvedRetention);
  ASSERT_TRUE(rows.ok());
  AlertingRule rule(spec);
  ASSERT_EQ(rule.Restore(*rows, restart), 2u);
  rule.SetHoldUntil(restart + minutes(10));

  // The sample window is still filling: neither the firing A nor the pending B ends.
  EvalOutcome held = rule.Eval({}, restart + minutes(1));
  EXPECT_TRUE(held.state_changes.empty());
  EXPECT_TRUE(held.deletes.empty());
  EXPECT_TRUE(held.upserts.empty());
  std::vector<Alert> alerts = rule.ActiveAlerts();
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].state, AlertState::kFiring);
  EXPECT_EQ(alerts[1].state, AlertState::kPending);
  EXPECT_EQ(held.series.size(), 4u);

  // Once the window covers the expression, the missing results count.
  EvalOutcome after = rule.Eval({}, restart + minutes(10));
  ASSERT_EQ(after.state_changes.size(), 2u);
  EXPECT_EQ(after.state_changes[0].labels, kAlertA);
  EXPECT_EQ(after.state_changes[0].to, AlertState::kInactive);
  EXPECT_EQ(after.state_changes[1].labels, kAlertB);
  EXPECT_EQ(after.state_changes[1].from, AlertState::kPending);
  ASSERT_EQ(after.deletes.size(), 1u);
  EXPECT_EQ(after.deletes[0].labels, kAlertB);
}

TEST(AlertingRuleTest, HoldDoesNotApplyToAlertsCreatedAfterRestart) {
  AlertingRule rule(Spec(minutes(5)));
  rule.SetHoldUntil(kT0 + minutes(10));
  ASSERT_TRUE(rule.Eval({Sample(kUpA, 0)}, kT0).status.ok());
  EvalOutcome outcome = rule.Eval({}, kT0 + minutes(1));
  ASSERT_EQ(outcome.deletes.size(), 1u);
  EXPECT_TRUE(rule.ActiveAlerts().empty());
}

TEST(AlertingRuleTest, CopyStateFromKeepsAlertsAcrossReload) {
  AlertingRule old_rule(Spec(minutes(5)));
  ASSERT_TRUE(old_rule.Eval({Sample(kUpA, 0)}, kT0).status.ok());
  AlertingRule new_rule(Spec(minutes(5)));
  new_rule.CopyStateFrom(old_rule);
  EvalOutcome outcome = new_rule.Eval({Sample(kUpA, 0)}, kT0 + minutes(5));
  ASSERT_EQ(outcome.state_changes.size(), 1u);
  EXPECT_EQ(outcome.state_changes[0].to, AlertState::kFiring);
  // The pending series written before the reload gets its staleness marker.
  ASSERT_EQ(outcome.series.size(), 3u);
  EXPECT_TRUE(IsStaleNaN(outcome.series[1].v));
  EXPECT_EQ(new_rule.EvalStatus().health, RuleHealth::kOk);
}

}  // namespace
}  // namespace alertd
