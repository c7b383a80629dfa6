#include "engine/recording_rule.h"

#include <algorithm>

#include "storage/sample_store.h"

namespace alertd {
namespace {

constexpr char kDuplicateLabelSetError[] =
    "vector contains metrics with the same labelset after applying rule labels";

void SortByMetric(promql::Vector& samples) {
  std::sort(samples.begin(), samples.end(), [](const auto& a, const auto& b) {
    return a.metric < b.metric;
  });
}

}  // namespace

RecordingRule::RecordingRule(RecordingRuleSpec spec) : spec_(std::move(spec)) {}

Result<promql::Vector> RecordingRule::Relabel(const promql::Vector& result) const {
  promql::Vector samples;
  samples.reserve(result.size());
  std::unordered_set<Labels> seen;
  for (const promql::VectorSample& sample : result) {
    LabelsBuilder labels(sample.metric);
    labels.Set(kMetricName, spec_.name);
    for (const auto& [name, value] : spec_.labels) {
      labels.Set(name, value);
    }
    Labels built = labels.Build();
    if (!seen.insert(built).second) {
      return Error::Invalid(kDuplicateLabelSetError);
    }
    samples.push_back({std::move(built), sample.t, sample.v});
  }
  return samples;
}

Result<promql::Vector> RecordingRule::Eval(const promql::Vector& result, TimePoint t, int limit) {
  Result<promql::Vector> relabelled = Relabel(result);
  if (relabelled.ok() && limit > 0 && relabelled->size() > static_cast<size_t>(limit)) {
    relabelled = Error::Invalid("exceeded limit of " + std::to_string(limit) + " with " +
                                std::to_string(relabelled->size()) + " series");
  }
  if (!relabelled.ok()) {
    status_.RecordFailure(relabelled.error(), t);
    return relabelled.error();
  }

  promql::Vector samples = std::move(relabelled).value();
  std::unordered_set<Labels> written;
  for (const promql::VectorSample& sample : samples) {
    written.insert(sample.metric);
  }
  std::lock_guard lock(mu_);
  for (const Labels& labels : written_series_) {
    if (!written.contains(labels)) {
      samples.push_back({labels, ToMillis(t), StaleNaN()});
    }
  }
  written_series_ = std::move(written);
  status_.RecordSuccess(t);
  SortByMetric(samples);
  return samples;
}

void RecordingRule::SetEvaluationFailed(const Error& error, TimePoint t) {
  status_.RecordFailure(error, t);
}

void RecordingRule::SetEvaluationDuration(std::chrono::nanoseconds duration) {
  status_.SetEvaluationDuration(duration);
}

RuleEvalStatus RecordingRule::EvalStatus() const {
  return status_.Get();
}

promql::Vector RecordingRule::StaleSeries(TimePoint t) {
  std::lock_guard lock(mu_);
  promql::Vector stale;
  for (const Labels& labels : written_series_) {
    stale.push_back({labels, ToMillis(t), StaleNaN()});
  }
  written_series_.clear();
  SortByMetric(stale);
  return stale;
}

void RecordingRule::CopyStateFrom(const RecordingRule& previous) {
  if (&previous == this) {
    return;
  }
  std::scoped_lock lock(mu_, previous.mu_);
  written_series_ = previous.written_series_;
  status_.Set(previous.status_.Get());
}

}  // namespace alertd
