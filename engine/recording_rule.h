// A recording rule, as Prometheus 2.42's rules/recording.go applies it, separated from query
// evaluation: the caller evaluates the expression and Eval turns the instant vector into the
// samples to append under the record name.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/labels.h"
#include "common/result.h"
#include "engine/promql/value.h"
#include "engine/rule_health.h"

namespace alertd {

struct RecordingRuleSpec {
  std::string name;       // the record name: the metric name of the written series
  std::string expr_text;  // the expression as written, for display
  // Labels set on every written series, in file order; an empty value removes the label.
  // Unlike alerting rule labels these are not templates.
  std::vector<std::pair<std::string, std::string>> labels;
  std::string rule_key;  // identity of the rule, as AlertingRuleSpec::rule_key
};

// Thread-safe: Eval may run on the group's thread while EvalStatus runs on API threads.
class RecordingRule {
 public:
  explicit RecordingRule(RecordingRuleSpec spec);

  const RecordingRuleSpec& spec() const { return spec_; }

  const std::string& name() const { return spec_.name; }

  // Returns the samples to append for the result of the expression at `t`. Each sample gets
  // __name__ set to the record name and the rule labels applied. A StaleNaN at `t` is added
  // for each series that the previous successful evaluation wrote and this one did not.
  // Fails, writing nothing, with "vector contains metrics with the same labelset after
  // applying rule labels" when two samples end with equal labels, and with "exceeded limit
  // of L with N series" when `limit` > 0 and the result has more samples.
  Result<promql::Vector> Eval(const promql::Vector& result, TimePoint t, int limit = 0);

  // Records that the expression could not be evaluated at `t`.
  void SetEvaluationFailed(const Error& error, TimePoint t);
  void SetEvaluationDuration(std::chrono::nanoseconds duration);
  RuleEvalStatus EvalStatus() const;

  // Returns StaleNaN samples for every series the last successful evaluation wrote, and
  // clears that list. For a rule that is being removed.
  promql::Vector StaleSeries(TimePoint t);

  // Takes over the written series and status of `previous`, the same rule before a
  // configuration reload.
  void CopyStateFrom(const RecordingRule& previous);

 private:
  Result<promql::Vector> Relabel(const promql::Vector& result) const;

  const RecordingRuleSpec spec_;
  RuleEvalStatusRecorder status_;

  mutable std::mutex mu_;
  std::unordered_set<Labels> written_series_;  // guarded by mu_
};

}  // namespace alertd
