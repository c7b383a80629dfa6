// The PromQL function table of Prometheus 2.42 (promql/parser/functions.go), float functions
// only. Shared by the parser, which type-checks calls, and the evaluator.
#pragma once

#include <string_view>
#include <vector>

#include "engine/promql/ast.h"

namespace alertd::promql {

struct FunctionSignature {
  std::string_view name;
  std::vector<ValueType> arg_types;
  // 0: exactly arg_types.size() arguments. N > 0: the last argument is optional and may be
  // given up to N times, so size()-1 to size()-1+N arguments. -1: the last argument may
  // repeat without limit, so at least size()-1 arguments. Same meaning as Prometheus's
  // FunctionSignature.Variadic.
  int variadic = 0;
  ValueType return_type = ValueType::kVector;

  // Minimum and maximum argument counts; max_args() is -1 when unlimited.
  int min_args() const;
  int max_args() const;
  // The expected type of argument `index`, which must be below max_args() when bounded.
  ValueType ArgType(size_t index) const;
};

// Returns the signature of the function named `name` (case-sensitive), or null when
// Prometheus 2.42 has no such function.
const FunctionSignature* LookupFunction(std::string_view name);

// All functions, sorted by name.
const std::vector<FunctionSignature>& AllFunctions();

}  // namespace alertd::promql
