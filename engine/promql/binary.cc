// Binary operators: arithmetic, comparisons and set operators, with Prometheus 2.42's vector
// matching (promql/engine.go VectorBinop, VectorAnd/Or/Unless, VectorscalarBinop).
#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "engine/promql/evaluator.h"

namespace alertd::promql::internal {
namespace {

bool IsComparisonOp(BinaryOp op) {
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

bool IsSetOp(BinaryOp op) {
  return op == BinaryOp::kAnd || op == BinaryOp::kOr || op == BinaryOp::kUnless;
}

// Arithmetic drops the metric name because the result is no longer that metric. Comparisons
// without `bool` keep it because they only filter.
bool ShouldDropMetricName(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
    case BinaryOp::kSub:
    case BinaryOp::kMul:
    case BinaryOp::kDiv:
    case BinaryOp::kPow:
    case BinaryOp::kMod:
      return true;
    default:
      return false;
  }
}

struct ElemResult {
  double value;
  bool keep;
};

ElemResult ElemBinop(BinaryOp op, double lhs, double rhs) {
  switch (op) {
    case BinaryOp::kAdd:
      return {lhs + rhs, true};
    case BinaryOp::kSub:
      return {lhs - rhs, true};
    case BinaryOp::kMul:
      return {lhs * rhs, true};
    case BinaryOp::kDiv:
      return {lhs / rhs, true};
    case BinaryOp::kPow:
      return {std::pow(lhs, rhs), true};
    case BinaryOp::kMod:
      return {std::fmod(lhs, rhs), true};
    case BinaryOp::kAtan2:
      return {std::atan2(lhs, rhs), true};
    case BinaryOp::kEql:
      return {lhs, lhs == rhs};
    case BinaryOp::kNeq:
      return {lhs, lhs != rhs};
    case BinaryOp::kGtr:
      return {lhs, lhs > rhs};
    case BinaryOp::kLss:
      return {lhs, lhs < rhs};
    case BinaryOp::kGte:
      return {lhs, lhs >= rhs};
    case BinaryOp::kLte:
      return {lhs, lhs <= rhs};
    default:
      return {0, false};
  }
}

// The key two samples must share to match: the `on` labels, or every label except the
// `ignoring` ones and the metric name.
std::string Signature(const Labels& labels, const VectorMatching& m) {
  std::string sig;
  for (const Label& l : labels) {
    bool listed = std::find(m.matching_labels.begin(), m.matching_labels.end(), l.name) !=
                  m.matching_labels.end();
    bool include = m.matching_on ? listed : (!listed && l.name != kMetricName);
    if (include) {
      sig += l.name;
      sig += '\xff';
      sig += l.value;
      sig += '\xff';
    }
  }
  return sig;
}

// The labels of `labels` that take part in matching, for error messages.
Labels MatchedLabels(const Labels& labels, const VectorMatching& m) {
  std::vector<Label> out;
  for (const Label& l : labels) {
    bool listed = std::find(m.matching_labels.begin(), m.matching_labels.end(), l.name) !=
                  m.matching_labels.end();
    if (m.matching_on ? listed : (!listed && l.name != kMetricName)) {
      out.push_back(l);
    }
  }
  return Labels(std::move(out));
}

Labels ResultMetric(const Labels& lhs, const Labels& rhs, BinaryOp op, const VectorMatching& m) {
  LabelsBuilder b(lhs);
  if (ShouldDropMetricName(op)) {
    b.Del(kMetricName);
  }
  if (m.card == VectorMatchCardinality::kOneToOne) {
    if (m.matching_on) {
      b.Keep(m.matching_labels);
    } else {
      for (const std::string& name : m.matching_labels) {
        b.Del(name);
      }
    }
  }
  // Labels listed in group_left/group_right come from the "one" side.
  for (const std::string& name : m.include_labels) {
    b.Set(name, rhs.Get(name));
  }
  return b.Build();
}

Result<Vector> VectorBinop(
    BinaryOp op, Vector lhs, Vector rhs, const VectorMatching& m, bool return_bool, int64_t t) {
  if (lhs.empty() || rhs.empty()) {
    return Vector{};
  }
  const bool one_to_many = m.card == VectorMatchCardinality::kOneToMany;
  // The code below handles one-to-one and many-to-one, so one-to-many swaps the sides and
  // swaps them back when computing each value.
  if (one_to_many) {
    std::swap(lhs, rhs);
  }
  std::unordered_map<std::string, const VectorSample*> right;
  for (const VectorSample& rs : rhs) {
    std::string sig = Signature(rs.metric, m);
    auto [it, inserted] = right.emplace(sig, &rs);
    if (!inserted) {
      return Error::Invalid("found duplicate series for the match group " +
                            PrometheusLabelsString(MatchedLabels(rs.metric, m)) + " on the " +
                            (one_to_many ? "left" : "right") + " hand-side of the operation: [" +
                            PrometheusLabelsString(rs.metric) + ", " +
                            PrometheusLabelsString(it->second->metric) +
                            "];many-to-many matching not allowed: matching labels must be "
                            "unique on one side");
    }
  }

  Vector out;
  // For one-to-one, the match groups already used; for many-to-one, the result label sets
  // produced per match group, which must be unique.
  std::unordered_map<std::string, std::unordered_set<Labels>> matched;
  for (const VectorSample& ls : lhs) {
    std::string sig = Signature(ls.metric, m);
    auto it = right.find(sig);
    if (it == right.end()) {
      continue;
    }
    const VectorSample& rs = *it->second;
    double vl = ls.v;
    double vr = rs.v;
    if (one_to_many) {
      std::swap(vl, vr);
    }
    ElemResult r = ElemBinop(op, vl, vr);
    if (return_bool) {
      r.value = r.keep ? 1.0 : 0.0;
    } else if (!r.keep) {
      continue;
    }
    Labels metric = ResultMetric(ls.metric, rs.metric, op, m);
    if (return_bool) {
      metric = metric.WithoutName();
    }
    auto [group, first] = matched.try_emplace(sig);
    if (m.card == VectorMatchCardinality::kOneToOne) {
      if (!first) {
        return Error::Invalid(
            "multiple matches for labels: many-to-one matching must be explicit "
            "(group_left/group_right)");
      }
    } else if (!group->second.insert(metric).second) {
      return Error::Invalid(
          "multiple matches for labels: grouping labels must ensure unique matches");
    }
    out.push_back(VectorSample{std::move(metric), t, r.value});
  }
  return out;
}

Vector VectorAnd(const Vector& lhs, const Vector& rhs, const VectorMatching& m) {
  if (lhs.empty() || rhs.empty()) {
    return {};
  }
  std::unordered_set<std::string> right;
  for (const VectorSample& rs : rhs) {
    right.insert(Signature(rs.metric, m));
  }
  Vector out;
  for (const VectorSample& ls : lhs) {
    if (right.count(Signature(ls.metric, m)) > 0) {
      out.push_back(ls);
    }
  }
  return out;
}

Vector VectorOr(const Vector& lhs, const Vector& rhs, const VectorMatching& m) {
  if (lhs.empty()) {
    return rhs;
  }
  if (rhs.empty()) {
    return lhs;
  }
  std::unordered_set<std::string> left;
  Vector out;
  for (const VectorSample& ls : lhs) {
    left.insert(Signature(ls.metric, m));
    out.push_back(ls);
  }
  for (const VectorSample& rs : rhs) {
    if (left.count(Signature(rs.metric, m)) == 0) {
      out.push_back(rs);
    }
  }
  return out;
}

Vector VectorUnless(const Vector& lhs, const Vector& rhs, const VectorMatching& m) {
  if (lhs.empty() || rhs.empty()) {
    return lhs;
  }
  std::unordered_set<std::string> right;
  for (const VectorSample& rs : rhs) {
    right.insert(Signature(rs.metric, m));
  }
  Vector out;
  for (const VectorSample& ls : lhs) {
    if (right.count(Signature(ls.metric, m)) == 0) {
      out.push_back(ls);
    }
  }
  return out;
}

Vector VectorScalarBinop(BinaryOp op, Vector vec, double scalar, bool swap, bool return_bool) {
  Vector out;
  for (VectorSample& s : vec) {
    double lv = s.v;
    double rv = scalar;
    if (swap) {
      std::swap(lv, rv);
    }
    ElemResult r = ElemBinop(op, lv, rv);
    // A comparison keeps the vector element's value even when the scalar is on the left.
    if (IsComparisonOp(op) && swap) {
      r.value = rv;
    }
    if (return_bool) {
      r.value = r.keep ? 1.0 : 0.0;
      r.keep = true;
    }
    if (!r.keep) {
      continue;
    }
    s.v = r.value;
    if (ShouldDropMetricName(op) || return_bool) {
      s.metric = s.metric.WithoutName();
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

Result<Value> EvalBinaryValues(const BinaryExpr& bin, Value lhs, Value rhs, int64_t t) {
  auto* ls = std::get_if<Scalar>(&lhs);
  auto* rs = std::get_if<Scalar>(&rhs);
  auto* lv = std::get_if<Vector>(&lhs);
  auto* rv = std::get_if<Vector>(&rhs);
  if (ls != nullptr && rs != nullptr) {
    ElemResult r = ElemBinop(bin.op, ls->v, rs->v);
    if (IsComparisonOp(bin.op)) {
      r.value = r.keep ? 1.0 : 0.0;
    }
    return Value(Scalar{t, r.value});
  }
  if (lv != nullptr && rs != nullptr) {
    return Value(VectorScalarBinop(bin.op, std::move(*lv), rs->v, false, bin.return_bool));
  }
  if (ls != nullptr && rv != nullptr) {
    return Value(VectorScalarBinop(bin.op, std::move(*rv), ls->v, true, bin.return_bool));
  }
  if (lv == nullptr || rv == nullptr) {
    return Error::Invalid("binary operators are only allowed between scalars and instant vectors");
  }
  VectorMatching matching;
  if (bin.matching) {
    matching = *bin.matching;
  } else if (IsSetOp(bin.op)) {
    matching.card = VectorMatchCardinality::kManyToMany;
  }
  switch (bin.op) {
    case BinaryOp::kAnd:
      return Value(VectorAnd(*lv, *rv, matching));
    case BinaryOp::kOr:
      return Value(VectorOr(*lv, *rv, matching));
    case BinaryOp::kUnless:
      return Value(VectorUnless(*lv, *rv, matching));
    default:
      break;
  }
  if (matching.card == VectorMatchCardinality::kManyToMany) {
    return Error::Invalid("many-to-many matching is only allowed for set operators");
  }
  Result<Vector> out =
      VectorBinop(bin.op, std::move(*lv), std::move(*rv), matching, bin.return_bool, t);
  if (!out.ok()) {
    return out.error();
  }
  return Value(std::move(out).value());
}

}  // namespace alertd::promql::internal
