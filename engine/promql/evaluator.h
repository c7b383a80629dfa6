// Internals of the PromQL evaluator shared by engine.cc, binary.cc, aggregations.cc and
// functions.cc. Not part of the public API.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "engine/promql/ast.h"
#include "engine/promql/engine.h"
#include "engine/promql/value.h"
#include "storage/sample_store.h"

namespace alertd::promql::internal {

// Inclusive bounds [mint, maxt] in milliseconds.
struct TimeWindow {
  int64_t mint;
  int64_t maxt;
};

// The selector window rules in one place. Prometheus 2.42 closes both ends: an instant
// selector at reference time t reads samples in [t - lookback, t], and a range selector [r]
// reads [t - r, t]. Prometheus 3 makes both left-open, (t - lookback, t] and (t - r, t], which
// would mean adding 1 to mint here.
inline TimeWindow InstantSelectorWindow(int64_t ref_t, int64_t lookback_ms) {
  return {ref_t - lookback_ms, ref_t};
}

inline TimeWindow RangeSelectorWindow(int64_t ref_t, int64_t range_ms) {
  return {ref_t - range_ms, ref_t};
}

// A range vector argument of a function: the series with their points inside the window, and
// the window itself, which rate() and friends extrapolate to.
struct RangeArg {
  Matrix series;
  int64_t range_start = 0;
  int64_t range_end = 0;
  int64_t range_ms = 0;
};

class Evaluator {
 public:
  Evaluator(const EngineOptions& options,
            const Queryable& storage,
            int64_t query_start,
            int64_t query_end)
      : options_(options), storage_(storage), query_start_(query_start), query_end_(query_end) {
    StartDeadline();
  }

  // Evaluates `expr` at time `t`.
  Result<Value> Eval(const Expr& expr, int64_t t);

  // Evaluates a range selector or subquery at time `t`.
  Result<RangeArg> EvalRange(const Expr& expr, int64_t t);

  // Samples loaded in the current step; fails once options().max_samples is exceeded.
  Status AddSamples(size_t n);

  void ResetSampleCount() { samples_in_step_ = 0; }

  // Fails with "query timed out in expression evaluation" once options().timeout_ms has passed
  // since the Evaluator was made.
  Status CheckDeadline() const;

  const EngineOptions& options() const { return options_; }

 private:
  struct CachedSelect {
    TimeWindow window;
    std::vector<Series> series;
  };

  Result<Value> EvalVectorSelector(const VectorSelector& vs, int64_t t, bool keep_sample_time);
  Result<RangeArg> EvalMatrixSelector(const MatrixSelector& ms, int64_t t);
  Result<RangeArg> EvalSubquery(const SubqueryExpr& sq, int64_t t);
  Result<Value> EvalUnary(const UnaryExpr& e, int64_t t);
  Result<Value> EvalCall(const Call& call, int64_t t);
  Result<Value> EvalAggregate(const AggregateExpr& agg, int64_t t);
  Result<Value> EvalBinary(const BinaryExpr& bin, int64_t t);

  // The reference time of a selector or subquery: its @ time (or t), minus its offset.
  int64_t ReferenceTime(const std::optional<AtModifier>& at, int64_t offset_ms, int64_t t) const;
  // Series of `vs` with their samples in `window`, from storage or from the per-query cache.
  const std::vector<Series>& Select(const VectorSelector& vs, TimeWindow window, int64_t t);

  void StartDeadline();

  const EngineOptions& options_;
  const Queryable& storage_;
  const Clock* clock_ = nullptr;
  TimePoint deadline_{};
  int64_t query_start_;
  int64_t query_end_;
  size_t samples_in_step_ = 0;
  std::map<const VectorSelector*, CachedSelect> cache_;
};

// Error raised when a step would hold more than EngineOptions::max_samples samples.
Error TooManySamplesError();

// Error raised when a query runs past EngineOptions::timeout_ms; its code is kTimeout.
Error QueryTimeoutError();

// Fails with "vector cannot contain metrics with the same labelset" when two elements of
// `vector` share their labels.
Status CheckUniqueLabelsets(const Vector& vector);

// Formats labels as Prometheus's labels.Labels.String() does, which error messages quote:
// {__name__="up", job="x"}, the metric name being an ordinary label.
std::string PrometheusLabelsString(const Labels& labels);

// binary.cc
Result<Value> EvalBinaryValues(const BinaryExpr& bin, Value lhs, Value rhs, int64_t t);

// aggregations.cc
Result<Vector> Aggregate(const AggregateExpr& agg,
                         const Vector& input,
                         double param,
                         const std::string& string_param,
                         int64_t t);
// Prometheus's quantile(): linear interpolation between the closest ranks. Sorts `values`.
double Quantile(double q, std::vector<double>& values);

// functions.cc. `args` contains the evaluated arguments in order: a RangeArg for range vector
// parameters and a Value otherwise.
using FunctionArg = std::variant<Value, RangeArg>;
Result<Value> CallFunction(const Call& call, std::vector<FunctionArg>& args, int64_t t);
// Whether `name` is a function this evaluator implements.
bool IsKnownFunction(const std::string& name);
// Whether argument `index` of function `name` is a range vector.
bool IsRangeArgument(const std::string& name, size_t index);

}  // namespace alertd::promql::internal
