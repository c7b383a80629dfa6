#include "engine/alerting_rule.h"

#include <algorithm>

#include "common/logging.h"

namespace alertd {
namespace {

constexpr char kDuplicateLabelSetError[] =
    "vector contains metrics with the same labelset after applying alert labels";

bool IsActive(AlertState state) {
  return state != AlertState::kInactive;
}

constexpr auto kByLabels = [](const auto& a, const auto& b) {
  return a.labels < b.labels;
};

}  // namespace

TemplateExpander VerbatimTemplateExpander() {
  return [](std::string_view, std::string_view text, const Labels&, double) -> Result<std::string> {
    return std::string(text);
  };
}

TemplateExpander PrometheusTemplateExpander(Labels external_labels,
                                            std::string external_url,
                                            TemplateOptions options) {
  return [external_labels = std::move(external_labels),
          external_url = std::move(external_url),
          options = std::move(options)](
             std::string_view name, std::string_view text, const Labels& labels, double value) {
    return ExpandAlertTemplate(name, text, labels, external_labels, external_url, value, options);
  };
}

std::string AlertStateChange::LogMessage() const {
  return "Alert state changed alert=" + LogValue(labels.Get(kAlertNameLabel)) +
         " from=" + AlertStateName(from) + " to=" + AlertStateName(to) +
         " labels=" + LogValue(labels.ToString());
}

AlertingRule::AlertingRule(AlertingRuleSpec spec, TemplateExpander expander)
    : spec_(std::move(spec)),
      expander_(expander ? std::move(expander) : VerbatimTemplateExpander()) {}

std::string AlertingRule::Expand(std::string_view text, const Labels& labels, double value) const {
  Result<std::string> expanded = expander_("__alert_" + spec_.name, text, labels, value);
  if (expanded.ok()) {
    return std::move(expanded).value();
  }
  // As Prometheus: the alert still goes out, carrying the error where the text would be.
  Logger("rules")->warn("Expanding alert template failed alert={} err={}",
                        LogValue(spec_.name),
                        LogValue(expanded.error().message()));
  return "<error expanding template: " + expanded.error().message() + ">";
}

Result<std::vector<AlertingRule::ExpandedSample>> AlertingRule::ExpandResult(
    const promql::Vector& result) const {
  std::vector<ExpandedSample> expanded;
  expanded.reserve(result.size());
  std::unordered_set<Labels> seen;
  for (const promql::VectorSample& sample : result) {
    LabelsBuilder labels(sample.metric);
    labels.Del(kMetricName);
    for (const auto& [name, text] : spec_.labels) {
      labels.Set(name, Expand(text, sample.metric, sample.v));
    }
    labels.Set(kAlertNameLabel, spec_.name);

    std::vector<Label> annotations;
    for (const auto& [name, text] : spec_.annotations) {
      annotations.push_back(Label{name, Expand(text, sample.metric, sample.v)});
    }

    ExpandedSample item{labels.Build(), Labels(std::move(annotations)), sample.v};
    if (!seen.insert(item.labels).second) {
      return Error::Invalid(kDuplicateLabelSetError);
    }
    expanded.push_back(std::move(item));
  }
  return expanded;
}

void AlertingRule::MergeResult(std::vector<ExpandedSample> expanded,
                               TimePoint t,
                               EvalOutcome& outcome) {
  for (ExpandedSample& sample : expanded) {
    auto it = alerts_.find(sample.labels);
    if (it != alerts_.end() && IsActive(it->second.alert.state)) {
      it->second.alert.value = sample.value;
      it->second.alert.annotations = std::move(sample.annotations);
      it->second.in_result = true;
      continue;
    }
    // A new label set, or a resolved alert that became active again: a new pending alert.
    TrackedAlert tracked;
    tracked.alert.labels = sample.labels;
    tracked.alert.annotations = std::move(sample.annotations);
    tracked.alert.state = AlertState::kPending;
    tracked.alert.value = sample.value;
    tracked.alert.active_at = t;
    tracked.in_result = true;
    tracked.dirty = true;
    outcome.state_changes.push_back({sample.labels, AlertState::kInactive, AlertState::kPending});
    alerts_.insert_or_assign(std::move(sample.labels), std::move(tracked));
  }
}

bool AlertingRule::Advance(TrackedAlert& tracked, TimePoint t, EvalOutcome& outcome) {
  Alert& alert = tracked.alert;
  if (tracked.in_result) {
    tracked.last_eval = t;
    if (alert.keep_firing_since) {
      alert.keep_firing_since.reset();
      tracked.dirty = true;
    }
    if (alert.state == AlertState::kPending && t - alert.active_at >= spec_.for_ &&
        t >= tracked.fire_not_before) {
      alert.state = AlertState::kFiring;
      alert.fired_at = t;
      tracked.dirty = true;
      outcome.state_changes.push_back({alert.labels, AlertState::kPending, AlertState::kFiring});
    }
    return true;
  }

  if (alert.state == AlertState::kInactive) {
    return !(alert.resolved_at && t - *alert.resolved_at > kResolvedRetention);
  }
  // The sample window after a restart may not yet cover the expression's ranges, so a missing
  // result is not evidence that a restored alert ended.
  if (alert.restored && t < hold_until_) {
    return true;
  }
  if (alert.state == AlertState::kPending) {
    outcome.state_changes.push_back({alert.labels, AlertState::kPending, AlertState::kInactive});
    return false;
  }
  if (spec_.keep_firing_for > Duration::zero()) {
    if (!alert.keep_firing_since) {
      alert.keep_firing_since = t;
      tracked.dirty = true;
    }
    if (t - *alert.keep_firing_since < spec_.keep_firing_for) {
      return true;
    }
  }
  alert.state = AlertState::kInactive;
  alert.resolved_at = t;
  tracked.dirty = true;
  outcome.state_changes.push_back({alert.labels, AlertState::kFiring, AlertState::kInactive});
  return true;
}

StoredAlert AlertingRule::ToStored(const TrackedAlert& tracked) const {
  const Alert& alert = tracked.alert;
  StoredAlert stored;
  stored.rule_key = spec_.rule_key;
  stored.labels = alert.labels;
  stored.annotations = alert.annotations;
  stored.state = alert.state;
  stored.value = alert.value;
  stored.active_at = alert.active_at;
  stored.fired_at = alert.fired_at;
  stored.resolved_at = alert.resolved_at;
  stored.keep_firing_since = alert.keep_firing_since;
  stored.last_eval = tracked.last_eval;
  return stored;
}

void AlertingRule::AppendSeries(const Alert& alert,
                                int64_t t_ms,
                                EvalOutcome& outcome,
                                std::unordered_set<Labels>& written) const {
  LabelsBuilder alerts_labels(alert.labels);
  alerts_labels.Set(kMetricName, kAlertsMetricName);
  alerts_labels.Set(kAlertNameLabel, spec_.name);
  alerts_labels.Set(kAlertStateLabel, AlertStateName(alert.state));

  LabelsBuilder for_state_labels(alert.labels);
  for_state_labels.Set(kMetricName, kAlertsForStateMetricName);
  for_state_labels.Set(kAlertNameLabel, spec_.name);
  // Prometheus writes time.Time.Unix(), whole seconds.
  auto active_at_seconds =
      std::chrono::floor<std::chrono::seconds>(alert.active_at.time_since_epoch()).count();

  for (auto [labels, value] :
       {std::pair{alerts_labels.Build(), 1.0},
        std::pair{for_state_labels.Build(), static_cast<double>(active_at_seconds)}}) {
    written.insert(labels);
    outcome.series.push_back({std::move(labels), t_ms, value});
  }
}

void AlertingRule::ClearForLimit(size_t count, int limit, EvalOutcome& outcome) {
  // As Prometheus: every alert is removed, so the rule starts over once the result shrinks.
  outcome.upserts.clear();
  outcome.series.clear();
  for (const auto& [labels, tracked] : alerts_) {
    outcome.deletes.push_back(ToStored(tracked));
  }
  alerts_.clear();
  outcome.status = Error::Invalid("exceeded limit of " + std::to_string(limit) + " with " +
                                  std::to_string(count) + " alerts");
}

EvalOutcome AlertingRule::Eval(const promql::Vector& result, TimePoint t, int limit) {
  EvalOutcome outcome;
  // Templates run outside the lock because an expander may run queries.
  Result<std::vector<ExpandedSample>> expanded = ExpandResult(result);
  if (!expanded.ok()) {
    status_.RecordFailure(expanded.error(), t);
    outcome.status = expanded.error();
    return outcome;
  }

  std::lock_guard lock(mu_);
  MergeResult(std::move(expanded).value(), t, outcome);

  const int64_t t_ms = ToMillis(t);
  size_t active_count = 0;
  std::unordered_set<Labels> written;
  for (auto it = alerts_.begin(); it != alerts_.end();) {
    TrackedAlert& tracked = it->second;
    if (!Advance(tracked, t, outcome)) {
      outcome.deletes.push_back(ToStored(tracked));
      it = alerts_.erase(it);
      continue;
    }
    bool refresh_due = tracked.in_result && t - tracked.last_stored >= kStoredAlertRefreshInterval;
    if (tracked.dirty || refresh_due) {
      outcome.upserts.push_back(ToStored(tracked));
      tracked.last_stored = t;
    }
    tracked.dirty = false;
    tracked.in_result = false;
    if (IsActive(tracked.alert.state)) {
      ++active_count;
      AppendSeries(tracked.alert, t_ms, outcome, written);
    }
    ++it;
  }

  if (limit > 0 && active_count > static_cast<size_t>(limit)) {
    ClearForLimit(active_count, limit, outcome);
    status_.RecordFailure(outcome.status.error(), t);
  } else {
    for (const Labels& labels : written_series_) {
      if (!written.contains(labels)) {
        outcome.series.push_back({labels, t_ms, StaleNaN()});
      }
    }
    written_series_ = std::move(written);
    status_.RecordSuccess(t);
  }

  // Stable, so that the pending and firing changes of one alert stay in order.
  std::stable_sort(outcome.state_changes.begin(), outcome.state_changes.end(), kByLabels);
  std::sort(outcome.upserts.begin(), outcome.upserts.end(), kByLabels);
  std::sort(outcome.deletes.begin(), outcome.deletes.end(), kByLabels);
  std::sort(outcome.series.begin(), outcome.series.end(), [](const auto& a, const auto& b) {
    return a.metric < b.metric;
  });
  return outcome;
}

void AlertingRule::SetEvaluationFailed(const Error& error, TimePoint t) {
  status_.RecordFailure(error, t);
}

void AlertingRule::SetEvaluationDuration(std::chrono::nanoseconds duration) {
  status_.SetEvaluationDuration(duration);
}

RuleEvalStatus AlertingRule::EvalStatus() const {
  return status_.Get();
}

std::vector<Alert> AlertingRule::ActiveAlerts() const {
  std::lock_guard lock(mu_);
  std::vector<Alert> alerts;
  alerts.reserve(alerts_.size());
  for (const auto& [labels, tracked] : alerts_) {
    alerts.push_back(tracked.alert);
  }
  std::sort(alerts.begin(), alerts.end(), kByLabels);
  return alerts;
}

AlertState AlertingRule::State() const {
  std::lock_guard lock(mu_);
  AlertState max_state = AlertState::kInactive;
  for (const auto& [labels, tracked] : alerts_) {
    max_state = std::max(max_state, tracked.alert.state);
  }
  return max_state;
}

std::vector<Alert> AlertingRule::AlertsToSend(TimePoint t,
                                              Duration resend_delay,
                                              Duration interval) {
  std::lock_guard lock(mu_);
  // Valid for four intervals, so that two failed evaluations or sends do not end the alert.
  const Duration validity = 4 * std::max(interval, resend_delay);
  std::vector<Alert> to_send;
  for (auto& [labels, tracked] : alerts_) {
    Alert& alert = tracked.alert;
    if (alert.state == AlertState::kPending) {
      continue;
    }
    bool resolved_since_sent = alert.resolved_at && *alert.resolved_at > alert.last_sent_at;
    if (!resolved_since_sent && !(alert.last_sent_at + resend_delay < t)) {
      continue;
    }
    alert.last_sent_at = t;
    alert.valid_until = t + validity;
    to_send.push_back(alert);
  }
  std::sort(to_send.begin(), to_send.end(), kByLabels);
  return to_send;
}

size_t AlertingRule::Restore(const std::vector<StoredAlert>& alerts,
                             TimePoint now,
                             const AlertRestoreOptions& options) {
  std::lock_guard lock(mu_);
  size_t restored = 0;
  for (const StoredAlert& stored : alerts) {
    if (stored.rule_key != spec_.rule_key || alerts_.contains(stored.labels)) {
      continue;
    }
    if (stored.state == AlertState::kInactive && !stored.resolved_at) {
      continue;  // neither active nor resolved: nothing to restore
    }
    TimePoint fire_not_before{};
    if (stored.state == AlertState::kPending) {
      // The last evaluation before the stop stands for the moment alertd went down; a row
      // without one counts as written just now.
      const TimePoint down_at =
          stored.last_eval == TimePoint{} ? now : std::min(stored.last_eval, now);
      if (options.for_outage_tolerance > Duration(0) &&
          now - down_at > options.for_outage_tolerance) {
        continue;  // too long an outage: the next evaluation starts `for` again
      }
      // active_at stays, so the timer goes on, but the alert must be seen pending for the
      // grace period (or its whole `for`, when shorter) after the start before it fires.
      fire_not_before = now + std::min(options.for_grace_period, spec_.for_);
    }
    TrackedAlert tracked;
    Alert& alert = tracked.alert;
    alert.labels = stored.labels;
    alert.annotations = stored.annotations;
    alert.state = stored.state;
    alert.value = stored.value;
    alert.active_at = stored.active_at;
    alert.fired_at = stored.fired_at;
    alert.resolved_at = stored.resolved_at;
    alert.keep_firing_since = stored.keep_firing_since;
    alert.restored = true;
    tracked.last_eval = stored.last_eval;
    tracked.fire_not_before = fire_not_before;
    // The row was just read, so it is as fresh as a write at `now`.
    tracked.last_stored = now;
    alerts_.emplace(stored.labels, std::move(tracked));
    ++restored;
  }
  return restored;
}

void AlertingRule::SetHoldUntil(TimePoint t) {
  std::lock_guard lock(mu_);
  hold_until_ = t;
}

promql::Vector AlertingRule::StaleSeries(TimePoint t) {
  std::lock_guard lock(mu_);
  promql::Vector stale;
  for (const Labels& labels : written_series_) {
    stale.push_back({labels, ToMillis(t), StaleNaN()});
  }
  written_series_.clear();
  std::sort(
      stale.begin(), stale.end(), [](const auto& a, const auto& b) { return a.metric < b.metric; });
  return stale;
}

void AlertingRule::CopyStateFrom(const AlertingRule& previous) {
  if (&previous == this) {
    return;
  }
  std::scoped_lock lock(mu_, previous.mu_);
  alerts_ = previous.alerts_;
  written_series_ = previous.written_series_;
  hold_until_ = previous.hold_until_;
  status_.Set(previous.status_.Get());
}

std::vector<StoredAlert> AlertingRule::StoredAlerts() const {
  std::lock_guard lock(mu_);
  std::vector<StoredAlert> rows;
  rows.reserve(alerts_.size());
  for (const auto& [labels, tracked] : alerts_) {
    rows.push_back(ToStored(tracked));
  }
  std::sort(rows.begin(), rows.end(), kByLabels);
  return rows;
}

}  // namespace alertd
