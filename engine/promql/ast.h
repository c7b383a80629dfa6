// PromQL abstract syntax tree, modelled on Prometheus 2.42's promql/parser/ast.go. Every node
// records the byte range of the query text it was parsed from.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/matcher.h"

namespace alertd::promql {

// Half-open byte range [start, end) in the query text.
struct PositionRange {
  uint32_t start = 0;
  uint32_t end = 0;
};

enum class ValueType { kNone, kScalar, kVector, kMatrix, kString };

// Returns "scalar", "instant vector", "range vector" or "string", as in Prometheus errors.
const char* ValueTypeName(ValueType type);

enum class BinaryOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kAtan2,
  kEql,  // ==
  kNeq,  // !=
  kGtr,  // >
  kLss,  // <
  kGte,  // >=
  kLte,  // <=
  kAnd,
  kOr,
  kUnless,
};

// Returns the operator as written in PromQL: "+", "==", "and", "atan2", ...
const char* BinaryOpString(BinaryOp op);
bool IsComparison(BinaryOp op);
bool IsSetOperator(BinaryOp op);

enum class AggregateOp {
  kSum,
  kAvg,
  kCount,
  kMin,
  kMax,
  kGroup,
  kStddev,
  kStdvar,
  kTopk,
  kBottomk,
  kCountValues,
  kQuantile,
};

const char* AggregateOpString(AggregateOp op);

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

struct NumberLiteral {
  double value;
};

struct StringLiteral {
  std::string value;
};

// The @ modifier: a fixed timestamp, or start()/end() of the query.
struct AtModifier {
  enum class Kind { kTimestamp, kStart, kEnd } kind = Kind::kTimestamp;
  int64_t timestamp_ms = 0;  // for kTimestamp
};

struct VectorSelector {
  std::string name;  // metric name written before the braces, may be empty
  // All matchers, including a __name__ matcher for `name` when it was given.
  std::vector<LabelMatcher> matchers;
  int64_t offset_ms = 0;  // may be negative
  std::optional<AtModifier> at;
};

struct MatrixSelector {
  ExprPtr vector_selector;  // always a VectorSelector
  int64_t range_ms = 0;
};

struct SubqueryExpr {
  ExprPtr expr;
  int64_t range_ms = 0;
  int64_t step_ms = 0;  // 0: use the default evaluation interval
  int64_t offset_ms = 0;
  std::optional<AtModifier> at;
};

struct ParenExpr {
  ExprPtr expr;
};

struct UnaryExpr {
  bool negate = false;  // '-' when true, '+' otherwise
  ExprPtr expr;
};

enum class VectorMatchCardinality { kOneToOne, kManyToOne, kOneToMany, kManyToMany };

struct VectorMatching {
  VectorMatchCardinality card = VectorMatchCardinality::kOneToOne;
  // Labels listed in on(...) (matching_on true) or ignoring(...) (matching_on false).
  std::vector<std::string> matching_labels;
  bool matching_on = false;
  // Labels listed in group_left(...) / group_right(...).
  std::vector<std::string> include_labels;
};

struct BinaryExpr {
  BinaryOp op;
  ExprPtr lhs;
  ExprPtr rhs;
  // Set when both sides are instant vectors (set operators are many-to-many).
  std::optional<VectorMatching> matching;
  bool return_bool = false;  // the `bool` modifier of comparisons
};

struct AggregateExpr {
  AggregateOp op;
  ExprPtr expr;
  ExprPtr param;  // topk/bottomk k, quantile q, count_values label; null otherwise
  std::vector<std::string> grouping;
  bool without = false;
};

struct Call {
  std::string func;  // function name as written
  std::vector<ExprPtr> args;
};

struct Expr {
  using Node = std::variant<NumberLiteral, StringLiteral, VectorSelector, MatrixSelector,
                            SubqueryExpr, ParenExpr, UnaryExpr, BinaryExpr, AggregateExpr, Call>;
  Node node;
  PositionRange pos;

  template <typename T>
  const T* As() const {
    return std::get_if<T>(&node);
  }

  template <typename T>
  bool Is() const {
    return std::holds_alternative<T>(node);
  }
};

// The type an expression evaluates to, as Prometheus's Expr.Type().
ValueType TypeOf(const Expr& expr);

}  // namespace alertd::promql
