// Aggregation operators, following Prometheus 2.42's promql/engine.go aggregation().
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <unordered_map>

#include "engine/promql/evaluator.h"

namespace alertd::promql::internal {
namespace {

struct Group {
  Labels labels;
  double value = 0;
  double mean = 0;
  size_t count = 0;
  std::vector<const VectorSample*> samples;  // topk, bottomk, quantile
};

// Formats like Go's strconv.FormatFloat(v, 'f', -1, 64): the shortest digits that round-trip,
// never in exponent notation.
std::string FormatFloatPlain(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  char buf[512];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  if (ec != std::errc()) {
    return std::to_string(v);
  }
  return std::string(buf, end);
}

// Returns the key of the group `metric` belongs to: the grouping labels' values for `by`, and
// every other label except the metric name for `without`. `grouping` must be sorted.
std::string GroupKey(const Labels& metric,
                     const AggregateExpr& agg,
                     const std::vector<std::string>& grouping) {
  std::string key;
  for (const Label& l : metric) {
    const bool listed = std::binary_search(grouping.begin(), grouping.end(), l.name);
    const bool include = agg.without ? (!listed && l.name != kMetricName) : listed;
    if (include) {
      key += l.name;
      key += '\xff';
      key += l.value;
      key += '\xff';
    }
  }
  return key;
}

// Formats like Go's %v for a float64 (strconv.FormatFloat(v, 'g', -1, 64)): the shortest
// digits that round-trip, in exponent notation when the exponent is below -4 or above 5.
std::string FormatFloatGo(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  if (ec != std::errc()) {
    return std::to_string(v);
  }
  std::string scientific(buf, end);
  const int exponent = std::atoi(scientific.c_str() + scientific.find('e') + 1);
  if (exponent < -4 || exponent >= 6) {
    return scientific;
  }
  return FormatFloatPlain(v);
}

Labels GroupLabels(const Labels& metric,
                   const AggregateExpr& agg,
                   const std::vector<std::string>& grouping) {
  LabelsBuilder b(metric);
  if (agg.without) {
    for (const std::string& name : grouping) {
      b.Del(name);
    }
    b.Del(kMetricName);
  } else {
    b.Keep(grouping);
  }
  return b.Build();
}

// NaN sorts below every number, as in Prometheus's vectorByValueHeap.
bool LessNaNFirst(double a, double b) {
  if (std::isnan(a)) {
    return !std::isnan(b);
  }
  return a < b;
}

void AddToGroup(AggregateOp op, Group& g, const VectorSample& s) {
  const double v = s.v;
  switch (op) {
    case AggregateOp::kSum:
      g.value += v;
      break;
    case AggregateOp::kAvg:
      ++g.count;
      if (std::isinf(g.mean)) {
        // Inf - Inf would turn a correct infinite mean into NaN.
        if (std::isinf(v) && (g.mean > 0) == (v > 0)) {
          break;
        }
        if (!std::isinf(v) && !std::isnan(v)) {
          break;
        }
      }
      // Dividing each term first avoids overflowing float64.
      g.mean += v / static_cast<double>(g.count) - g.mean / static_cast<double>(g.count);
      break;
    case AggregateOp::kMax:
      if (g.value < v || std::isnan(g.value)) {
        g.value = v;
      }
      break;
    case AggregateOp::kMin:
      if (g.value > v || std::isnan(g.value)) {
        g.value = v;
      }
      break;
    case AggregateOp::kCount:
    case AggregateOp::kCountValues:
      ++g.count;
      break;
    case AggregateOp::kStddev:
    case AggregateOp::kStdvar: {
      ++g.count;
      double delta = v - g.mean;
      g.mean += delta / static_cast<double>(g.count);
      g.value += delta * (v - g.mean);
      break;
    }
    case AggregateOp::kTopk:
    case AggregateOp::kBottomk:
    case AggregateOp::kQuantile:
      g.samples.push_back(&s);
      break;
    case AggregateOp::kGroup:
      break;
  }
}

void StartGroup(AggregateOp op, Group& g, const VectorSample& s) {
  g.value = s.v;
  g.mean = s.v;
  g.count = 1;
  switch (op) {
    case AggregateOp::kStddev:
    case AggregateOp::kStdvar:
      g.value = 0;
      break;
    case AggregateOp::kGroup:
      g.value = 1;
      break;
    case AggregateOp::kTopk:
    case AggregateOp::kBottomk:
    case AggregateOp::kQuantile:
      g.samples.push_back(&s);
      break;
    default:
      break;
  }
}

// Appends the k largest (topk) or smallest (bottomk) samples of the group, best first. Among
// equal values the earlier input sample wins, and NaN loses to every number, as with
// Prometheus's heaps.
void AppendTopK(AggregateOp op, const Group& g, int64_t k, int64_t t, Vector& out) {
  std::vector<const VectorSample*> sorted = g.samples;
  if (op == AggregateOp::kTopk) {
    std::stable_sort(
        sorted.begin(), sorted.end(), [](const VectorSample* a, const VectorSample* b) {
          return LessNaNFirst(b->v, a->v);
        });
  } else {
    std::stable_sort(
        sorted.begin(), sorted.end(), [](const VectorSample* a, const VectorSample* b) {
          if (std::isnan(a->v)) {
            return false;
          }
          return std::isnan(b->v) || a->v < b->v;
        });
  }
  const size_t n = std::min<size_t>(sorted.size(), static_cast<size_t>(k));
  for (size_t i = 0; i < n; ++i) {
    out.push_back(VectorSample{sorted[i]->metric, t, sorted[i]->v});
  }
}

}  // namespace

double Quantile(double q, std::vector<double>& values) {
  if (values.empty() || std::isnan(q)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (q < 0) {
    return -std::numeric_limits<double>::infinity();
  }
  if (q > 1) {
    return std::numeric_limits<double>::infinity();
  }
  std::sort(values.begin(), values.end(), LessNaNFirst);
  const double n = static_cast<double>(values.size());
  const double rank = q * (n - 1);
  const double lower = std::max(0.0, std::floor(rank));
  const double upper = std::min(n - 1, lower + 1);
  const double weight = rank - std::floor(rank);
  return values[static_cast<size_t>(lower)] * (1 - weight) +
         values[static_cast<size_t>(upper)] * weight;
}

Result<Vector> Aggregate(const AggregateExpr& agg,
                         const Vector& input,
                         double param,
                         const std::string& string_param,
                         int64_t t) {
  const AggregateOp op = agg.op;
  int64_t k = 0;
  if (op == AggregateOp::kTopk || op == AggregateOp::kBottomk) {
    // Go's convertibleToInt64: the value must fit int64 (NaN does not).
    if (!(param >= -9223372036854775808.0 && param <= 9223372036854775807.0)) {
      return Error::Invalid("Scalar value " + FormatFloatGo(param) + " overflows int64");
    }
    k = static_cast<int64_t>(param);
    if (k < 1) {
      return Vector{};
    }
  }
  std::vector<std::string> grouping = agg.grouping;
  if (op == AggregateOp::kCountValues) {
    if (!IsValidLabelName(string_param)) {
      return Error::Invalid("invalid label name \"" + string_param + "\"");
    }
    if (!agg.without) {
      grouping.push_back(string_param);
    }
  }

  // count_values replaces each sample's labels, so those copies must outlive the groups.
  std::vector<VectorSample> relabelled;
  const Vector* samples = &input;
  if (op == AggregateOp::kCountValues) {
    relabelled.reserve(input.size());
    for (const VectorSample& s : input) {
      Labels metric = LabelsBuilder(s.metric).Set(string_param, FormatFloatPlain(s.v)).Build();
      relabelled.push_back(VectorSample{std::move(metric), s.t, s.v});
    }
    samples = &relabelled;
  }

  std::sort(grouping.begin(), grouping.end());
  std::vector<Group> groups;
  std::unordered_map<std::string, size_t> index;
  for (const VectorSample& s : *samples) {
    auto [it, inserted] = index.try_emplace(GroupKey(s.metric, agg, grouping), groups.size());
    if (inserted) {
      groups.push_back(Group{GroupLabels(s.metric, agg, grouping), 0, 0, 0, {}});
      StartGroup(op, groups.back(), s);
      continue;
    }
    AddToGroup(op, groups[it->second], s);
  }

  Vector out;
  for (Group& g : groups) {
    double value = g.value;
    switch (op) {
      case AggregateOp::kAvg:
        value = g.mean;
        break;
      case AggregateOp::kCount:
      case AggregateOp::kCountValues:
        value = static_cast<double>(g.count);
        break;
      case AggregateOp::kStdvar:
        value = g.value / static_cast<double>(g.count);
        break;
      case AggregateOp::kStddev:
        value = std::sqrt(g.value / static_cast<double>(g.count));
        break;
      case AggregateOp::kTopk:
      case AggregateOp::kBottomk:
        AppendTopK(op, g, k, t, out);
        continue;
      case AggregateOp::kQuantile: {
        std::vector<double> values;
        values.reserve(g.samples.size());
        for (const VectorSample* s : g.samples) {
          values.push_back(s->v);
        }
        value = Quantile(param, values);
        break;
      }
      default:
        break;
    }
    out.push_back(VectorSample{std::move(g.labels), t, value});
  }
  return out;
}

}  // namespace alertd::promql::internal
