// The alert state machine of one alerting rule, as Prometheus 2.42's rules/alerting.go runs it,
// separated from query evaluation: the caller evaluates the rule's expression and hands the
// instant vector to Eval. Alert state survives restarts through StateStore rows that Eval
// returns and Restore reads back.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/labels.h"
#include "common/result.h"
#include "engine/promql/value.h"
#include "engine/rule_health.h"
#include "rules/template.h"
#include "storage/state_store.h"

namespace alertd {

inline constexpr std::string_view kAlertNameLabel = "alertname";
inline constexpr std::string_view kAlertStateLabel = "alertstate";
inline constexpr std::string_view kAlertsMetricName = "ALERTS";
inline constexpr std::string_view kAlertsForStateMetricName = "ALERTS_FOR_STATE";

// How long a resolved alert is kept so that its resolution is sent again (Prometheus's
// resolvedRetention).
inline constexpr Duration kResolvedRetention = std::chrono::minutes(15);

// Minimum interval between two writes of an alert whose state did not change, which only
// refresh its stored value, annotations and last_eval.
inline constexpr Duration kStoredAlertRefreshInterval = std::chrono::minutes(1);

// Expands one label or annotation template of an alerting rule. `name` is the template name
// ("__alert_" + the alert name, as in Prometheus), `labels` the result sample's labels (the
// template's $labels) and `value` its value ($value). rules/template.h's ExpandAlertTemplate
// fits behind it.
using TemplateExpander = std::function<Result<std::string>(
    std::string_view name, std::string_view text, const Labels& labels, double value)>;

// Returns an expander that returns the text unchanged.
TemplateExpander VerbatimTemplateExpander();

// Returns an expander that runs Prometheus templates through ExpandAlertTemplate, with
// $externalLabels and $externalURL set from the arguments. A template's `query` call fails
// unless `options.query` is set.
TemplateExpander PrometheusTemplateExpander(Labels external_labels,
                                            std::string external_url,
                                            TemplateOptions options = {});

struct AlertingRuleSpec {
  std::string name;       // the alert name, set as label "alertname"
  std::string expr_text;  // the expression as written, for display
  Duration for_{0};
  Duration keep_firing_for{0};
  // Label and annotation templates, in file order.
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<std::pair<std::string, std::string>> annotations;
  // Identity of the rule across restarts; see StoredAlert::rule_key.
  std::string rule_key;
};

// One alert of a rule: pending, firing, or resolved (kInactive with resolved_at set) and kept
// for kResolvedRetention.
struct Alert {
  Labels labels;
  Labels annotations;
  AlertState state = AlertState::kPending;
  double value = 0;  // the expression's value at the last evaluation that returned the alert
  TimePoint active_at{};
  std::optional<TimePoint> fired_at;
  std::optional<TimePoint> resolved_at;
  std::optional<TimePoint> keep_firing_since;
  // Set by AlertsToSend, as Prometheus's Alert.LastSentAt and ValidUntil. A notifier uses
  // valid_until as the end time of an alert that is not resolved.
  TimePoint last_sent_at{};
  TimePoint valid_until{};
  // Whether the alert came from Restore rather than from an evaluation.
  bool restored = false;
};

// A transition of one alert. New alerts go from kInactive to kPending; dropped pending alerts
// and resolved firing alerts go to kInactive.
struct AlertStateChange {
  Labels labels;
  AlertState from = AlertState::kInactive;
  AlertState to = AlertState::kInactive;

  // "Alert state changed alert=NAME from=pending to=firing labels={...}", for an info log.
  std::string LogMessage() const;
};

// Changes made by one evaluation.
struct EvalOutcome {
  // Failure of the evaluation. On failure the fields below are still valid and should be
  // applied: a limit error clears the rule's alerts and lists them in `deletes`.
  Status status;
  std::vector<AlertStateChange> state_changes;
  // Rows for StateStore::WriteAlerts. An alert is written when it is created, changes state,
  // or starts or stops keep_firing_for, and otherwise at most once per
  // kStoredAlertRefreshInterval while its expression returns it.
  std::vector<StoredAlert> upserts;
  std::vector<StoredAlert> deletes;
  // Samples to append at the evaluation time: ALERTS{...} 1 and ALERTS_FOR_STATE{...}
  // active_at (Unix seconds) for each pending and firing alert, and a StaleNaN for each of
  // those series that the previous successful evaluation wrote and this one did not.
  promql::Vector series;
};

// Options of Restore for a pending alert's `for`, after Prometheus 2.42's RestoreForState. The
// defaults set no grace period and no outage limit.
struct AlertRestoreOptions {
  // A restored pending alert keeps its active_at but fires no earlier than this long after
  // `now`, or its rule's `for` after `now` when that is shorter.
  Duration for_grace_period{0};
  // After a longer outage (`now` minus the alert's last evaluation), pending alerts are not
  // restored. Zero means no limit.
  Duration for_outage_tolerance{0};
};

// Thread-safe: Eval and the other mutators may run on the group's thread while readers
// (ActiveAlerts, EvalStatus) run on API threads.
class AlertingRule {
 public:
  explicit AlertingRule(AlertingRuleSpec spec,
                        TemplateExpander expander = VerbatimTemplateExpander());

  const AlertingRuleSpec& spec() const { return spec_; }

  const std::string& name() const { return spec_.name; }

  // Applies the result of the rule's expression at evaluation time `t`: creates pending alerts
  // for new label sets, fires those held for `for`, drops pending alerts that disappeared,
  // resolves firing ones (after keep_firing_for) and removes resolved ones after
  // kResolvedRetention. `limit` > 0 caps the pending and firing alerts: above it every alert
  // is cleared and the status is "exceeded limit of L with N alerts". A result with two
  // samples that give the same alert labels fails with "vector contains metrics with the same
  // labelset after applying alert labels" and changes nothing.
  EvalOutcome Eval(const promql::Vector& result, TimePoint t, int limit = 0);

  // Records that the expression could not be evaluated at `t`. Alerts stay as they are.
  void SetEvaluationFailed(const Error& error, TimePoint t);
  void SetEvaluationDuration(std::chrono::nanoseconds duration);
  RuleEvalStatus EvalStatus() const;

  // Returns pending and firing alerts, plus resolved ones still retained, sorted by labels.
  // /api/v1/alerts shows only those with state != kInactive.
  std::vector<Alert> ActiveAlerts() const;

  // Returns the highest state of the rule's alerts (kFiring > kPending > kInactive).
  AlertState State() const;

  // Returns the alerts to send to the notification pipeline now, as Prometheus's sendAlerts:
  // firing alerts not sent within `resend_delay`, and resolved alerts whose resolution was
  // not sent yet or not within `resend_delay`. Marks them sent at `t`, valid until
  // t + 4 * max(interval, resend_delay).
  std::vector<Alert> AlertsToSend(TimePoint t, Duration resend_delay, Duration interval);

  // Loads the rows of this rule (those whose rule_key equals spec().rule_key; others are
  // skipped) after a restart. Firing alerts stay firing whatever `for` is, with their
  // keep_firing_for state. Pending alerts keep active_at and follow `options`. Label sets the
  // rule already tracks are skipped. Returns the number of alerts restored.
  size_t Restore(const std::vector<StoredAlert>& alerts,
                 TimePoint now,
                 const AlertRestoreOptions& options = {});

  // Until `t`, an evaluation that does not return a restored alert keeps it as it was instead
  // of dropping or resolving it. The caller passes the restart time plus the longest range the
  // expression looks back, because before then the sample window is incomplete.
  void SetHoldUntil(TimePoint t);

  // Returns StaleNaN samples for every series the last successful evaluation wrote, and
  // clears that list. For a rule that is being removed.
  promql::Vector StaleSeries(TimePoint t);

  // Takes over the alerts, written series, hold time and status of `previous`, the same rule
  // before a configuration reload, as Prometheus's Group.CopyState does.
  void CopyStateFrom(const AlertingRule& previous);

  // Returns the store rows of every alert the rule tracks, under spec().rule_key, sorted by
  // labels: what moves when the rule's key changes, or goes when the rule is removed.
  std::vector<StoredAlert> StoredAlerts() const;

 private:
  struct TrackedAlert {
    Alert alert;
    TimePoint last_eval{};    // last evaluation whose result contained the alert
    TimePoint last_stored{};  // last time an upsert of the alert was returned
    // A restored pending alert does not fire before this (AlertRestoreOptions).
    TimePoint fire_not_before{};
    // Within one Eval: whether the result contains the alert, and whether it must be written.
    bool in_result = false;
    bool dirty = false;
  };

  // Alert labels and expanded annotations of one result sample.
  struct ExpandedSample {
    Labels labels;
    Labels annotations;
    double value;
  };

  Result<std::vector<ExpandedSample>> ExpandResult(const promql::Vector& result) const;
  std::string Expand(std::string_view text, const Labels& labels, double value) const;
  void MergeResult(std::vector<ExpandedSample> expanded, TimePoint t, EvalOutcome& outcome);
  // Applies the transitions of one alert; returns false when the alert is to be removed.
  bool Advance(TrackedAlert& tracked, TimePoint t, EvalOutcome& outcome);
  void AppendSeries(const Alert& alert,
                    int64_t t_ms,
                    EvalOutcome& outcome,
                    std::unordered_set<Labels>& written) const;
  StoredAlert ToStored(const TrackedAlert& tracked) const;
  void ClearForLimit(size_t count, int limit, EvalOutcome& outcome);

  const AlertingRuleSpec spec_;
  const TemplateExpander expander_;
  RuleEvalStatusRecorder status_;

  mutable std::mutex mu_;
  std::unordered_map<Labels, TrackedAlert> alerts_;  // guarded by mu_
  std::unordered_set<Labels> written_series_;        // guarded by mu_
  TimePoint hold_until_{};                           // guarded by mu_
};

}  // namespace alertd
