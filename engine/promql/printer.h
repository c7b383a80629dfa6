// Canonical PromQL text of an expression, as Prometheus 2.42's String() methods print it
// (promql/parser/printer.go): `sum by (le) (rate(x[5m]))`.
#pragma once

#include <string>
#include <string_view>

#include "engine/promql/ast.h"

namespace alertd::promql {

std::string Format(const Expr& expr);

// A float as Go's fmt %v prints it: the shortest digits that round-trip, in exponent form
// when the decimal exponent is below -4 or at least 6 (1e+06), and "+Inf", "-Inf", "NaN".
std::string FormatNumber(double value);

// A string as Go's strconv.Quote quotes it, in double quotes.
std::string QuoteString(std::string_view value);

}  // namespace alertd::promql
