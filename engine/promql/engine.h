// The PromQL evaluator, with Prometheus 2.42 semantics for float samples.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/clock.h"
#include "common/result.h"
#include "engine/promql/ast.h"
#include "engine/promql/value.h"
#include "storage/sample_store.h"

namespace alertd::promql {

struct EngineOptions {
  // How far back an instant vector selector looks for the newest sample (Prometheus's
  // --query.lookback-delta, default 5m).
  int64_t lookback_delta_ms = 5 * 60 * 1000;
  // Maximum number of samples one evaluation step may load. A query that needs more fails.
  size_t max_samples = 50'000'000;
  // Step of a subquery written without one, such as x[5m:] (Prometheus uses the global
  // evaluation interval, 1m by default).
  int64_t default_subquery_step_ms = 60 * 1000;
  // How long one query may evaluate before it fails with "query timed out in expression
  // evaluation" (Prometheus's --query.timeout, default 2m). 0 or less disables the limit.
  int64_t timeout_ms = 2 * 60 * 1000;
  // The clock the timeout is measured on; nullptr means the system clock. Must outlive the
  // Engine.
  const Clock* clock = nullptr;
};

// Evaluates parsed expressions against a Queryable. Stateless apart from its options, so one
// Engine may serve concurrent queries.
class Engine {
 public:
  explicit Engine(EngineOptions options = {});

  // Evaluates `expr` at `t_ms`. The result is a Vector, Scalar, Matrix (for a range selector
  // or subquery at the top) or String. Errors are the runtime errors Prometheus raises, with
  // its wording, e.g. "vector cannot contain metrics with the same labelset".
  Result<Value> Instant(const Expr& expr, const Queryable& storage, int64_t t_ms) const;

  // Evaluates `expr` at start_ms, start_ms + step_ms, ... up to end_ms and returns one series
  // per label set, with a point for each step at which it had a value. A scalar expression
  // gives one series without labels. REQUIRES: step_ms > 0.
  Result<Matrix> Range(const Expr& expr,
                       const Queryable& storage,
                       int64_t start_ms,
                       int64_t end_ms,
                       int64_t step_ms) const;

  const EngineOptions& options() const { return options_; }

 private:
  EngineOptions options_;
};

}  // namespace alertd::promql
