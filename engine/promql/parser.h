// PromQL parser with Prometheus 2.42 syntax and type checking (promql/parser: the lexer,
// generated_parser.y and checkAST), for float data.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"
#include "engine/promql/ast.h"

namespace alertd::promql {

// Parses and type-checks `query`. On failure returns ErrorCode::kInvalidArgument with
// Prometheus's wording of the cause (for example `unexpected "}" in label matching, expected
// string`) and the 1-based line and column, counted in bytes, of the offending token or
// node inside `query`. Only the first error is returned.
Result<ExprPtr> ParseExpr(std::string_view query);

// Returned by MaxLookbackMs when the expression contains an @ modifier, whose evaluation reads
// samples at a fixed time that is unrelated to the evaluation time.
inline constexpr int64_t kUnboundedLookback = -1;

// Returns how far back from the evaluation time, in milliseconds, evaluating `expr` reads
// samples: the maximum over all selectors of offset + range (range selectors) or offset +
// `lookback_delta_ms` (instant selectors), with subquery ranges and offsets added to what
// their inner expression reads. Negative offsets count as reading less far back; the result
// is never below 0. Returns kUnboundedLookback when any node has an @ modifier.
int64_t MaxLookbackMs(const Expr& expr, int64_t lookback_delta_ms);

}  // namespace alertd::promql
