// A runner for Prometheus's PromQL test scripts (the promql/testdata/*.test format of
// Prometheus 2.42): `load <interval>` blocks of series in expanding notation, `clear`, and
// `eval instant at <time> <expr>` (also eval_fail and eval_ordered) with the expected result
// on the indented lines that follow, and Prometheus's later
// `eval range from <time> to <time> step <duration> <expr>` (also eval_fail), whose expected
// series carry one value per step in expanding notation (`_` for a step without a point).
// Native histogram samples (`{{schema:...}}`) are not supported: an eval whose expected result
// has one, or that follows a load block with one (until the next `clear`), is skipped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/labels.h"
#include "common/result.h"
#include "engine/promql/engine.h"

namespace alertd::promql {

// One value of a series in expanding notation: a number, a staleness marker (`stale`, stored
// as StaleNaN()) or an omitted sample (`_`, nullopt).
using SeriesValue = std::optional<double>;

// Parses the values part of a series line: space-separated items such as `1`, `-Inf`, `NaN`,
// `stale`, `_`, `_x3` (three omitted samples), `5x3` (5 four times), `0+10x3` (0 10 20 30) and
// `1-1x2` (1 0 -1). The error names the item that is invalid.
Result<std::vector<SeriesValue>> ParseSeriesValues(std::string_view text);

// A series line: the label set written as in PromQL, `name{a="b"}`, `{a="b"}` or `name`,
// followed by its values.
struct SeriesLine {
  Labels labels;
  std::vector<SeriesValue> values;
};

Result<SeriesLine> ParseSeriesLine(std::string_view line);

// Parses a number as Prometheus's test scripts do: decimal or hex integers, floats, and Inf,
// +Inf, -Inf and NaN in any letter case.
std::optional<double> ParseTestNumber(std::string_view text);

// Whether two values agree within Prometheus's test tolerance (relative 1e-6, NaN equal to NaN).
bool AlmostEqual(double a, double b);

enum class EvalOutcome { kPassed, kFailed, kSkipped };

struct EvalCaseResult {
  int line = 0;  // 1-based line of the eval command
  std::string expr;
  EvalOutcome outcome = EvalOutcome::kFailed;
  std::string reason;  // why it failed or was skipped; empty when passed
};

struct TestScriptResult {
  std::string name;
  std::vector<EvalCaseResult> cases;

  size_t Count(EvalOutcome outcome) const;
};

// Runs every command of the script `text` in order against a fresh in-memory store. A
// malformed `load` block or an unknown command fails the whole run, with the script `name` and
// the line number. A failing eval only marks that case as failed. Each passing instant eval is
// also run as a range query from t-1m to t+1m, and its middle step must match too, as in
// Prometheus's test.go. The default `options` match the lookback (5m) and subquery step (1m)
// Prometheus uses for test scripts, but not its 10000-sample limit.
Result<TestScriptResult> RunTestScript(std::string_view text,
                                       const std::string& name,
                                       const EngineOptions& options = {});

}  // namespace alertd::promql
