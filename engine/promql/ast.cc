#include "engine/promql/ast.h"

#include "engine/promql/functions_table.h"

namespace alertd::promql {

const char* ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kNone:
      return "none";
    case ValueType::kScalar:
      return "scalar";
    case ValueType::kVector:
      return "instant vector";
    case ValueType::kMatrix:
      return "range vector";
    case ValueType::kString:
      return "string";
  }
  return "none";
}

const char* BinaryOpString(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSub:
      return "-";
    case BinaryOp::kMul:
      return "*";
    case BinaryOp::kDiv:
      return "/";
    case BinaryOp::kMod:
      return "%";
    case BinaryOp::kPow:
      return "^";
    case BinaryOp::kAtan2:
      return "atan2";
    case BinaryOp::kEql:
      return "==";
    case BinaryOp::kNeq:
      return "!=";
    case BinaryOp::kGtr:
      return ">";
    case BinaryOp::kLss:
      return "<";
    case BinaryOp::kGte:
      return ">=";
    case BinaryOp::kLte:
      return "<=";
    case BinaryOp::kAnd:
      return "and";
    case BinaryOp::kOr:
      return "or";
    case BinaryOp::kUnless:
      return "unless";
  }
  return "?";
}

bool IsComparison(BinaryOp op) {
  switch (op) {
    case BinaryOp::kEql:
    case BinaryOp::kNeq:
    case BinaryOp::kGtr:
    case BinaryOp::kLss:
    case BinaryOp::kGte:
    case BinaryOp::kLte:
      return true;
    default:
      return false;
  }
}

bool IsSetOperator(BinaryOp op) {
  return op == BinaryOp::kAnd || op == BinaryOp::kOr || op == BinaryOp::kUnless;
}

const char* AggregateOpString(AggregateOp op) {
  switch (op) {
    case AggregateOp::kSum:
      return "sum";
    case AggregateOp::kAvg:
      return "avg";
    case AggregateOp::kCount:
      return "count";
    case AggregateOp::kMin:
      return "min";
    case AggregateOp::kMax:
      return "max";
    case AggregateOp::kGroup:
      return "group";
    case AggregateOp::kStddev:
      return "stddev";
    case AggregateOp::kStdvar:
      return "stdvar";
    case AggregateOp::kTopk:
      return "topk";
    case AggregateOp::kBottomk:
      return "bottomk";
    case AggregateOp::kCountValues:
      return "count_values";
    case AggregateOp::kQuantile:
      return "quantile";
  }
  return "?";
}

namespace {

struct TypeVisitor {
  ValueType operator()(const NumberLiteral&) const { return ValueType::kScalar; }

  ValueType operator()(const StringLiteral&) const { return ValueType::kString; }

  ValueType operator()(const VectorSelector&) const { return ValueType::kVector; }

  ValueType operator()(const MatrixSelector&) const { return ValueType::kMatrix; }

  ValueType operator()(const SubqueryExpr&) const { return ValueType::kMatrix; }

  ValueType operator()(const ParenExpr& e) const { return TypeOf(*e.expr); }

  ValueType operator()(const UnaryExpr& e) const { return TypeOf(*e.expr); }

  ValueType operator()(const AggregateExpr&) const { return ValueType::kVector; }

  ValueType operator()(const BinaryExpr& e) const {
    if (TypeOf(*e.lhs) == ValueType::kScalar && TypeOf(*e.rhs) == ValueType::kScalar) {
      return ValueType::kScalar;
    }
    return ValueType::kVector;
  }

  ValueType operator()(const Call& e) const {
    const FunctionSignature* sig = LookupFunction(e.func);
    return sig == nullptr ? ValueType::kNone : sig->return_type;
  }
};

}  // namespace

ValueType TypeOf(const Expr& expr) {
  return std::visit(TypeVisitor{}, expr.node);
}

}  // namespace alertd::promql
