#include "engine/promql/engine.h"

#include <algorithm>
#include <map>

#include "engine/promql/evaluator.h"

namespace alertd::promql {
namespace internal {
namespace {

const Expr& UnwrapParens(const Expr& expr) {
  const Expr* e = &expr;
  while (const auto* paren = e->As<ParenExpr>()) {
    e = paren->expr.get();
  }
  return *e;
}

// Returns the first sample at or after `t`.
std::vector<Sample>::const_iterator LowerBound(const std::vector<Sample>& samples, int64_t t) {
  return std::lower_bound(
      samples.begin(), samples.end(), t, [](const Sample& s, int64_t v) { return s.t < v; });
}

}  // namespace

Error TooManySamplesError() {
  return Error::Invalid(
      "query processing would load too many samples into memory in query execution");
}

Error QueryTimeoutError() {
  return Error::Timeout("query timed out in expression evaluation");
}

void Evaluator::StartDeadline() {
  if (options_.timeout_ms <= 0) {
    return;
  }
  static const SystemClock kSystemClock;
  clock_ = options_.clock != nullptr ? options_.clock : &kSystemClock;
  deadline_ = clock_->Now() + std::chrono::milliseconds(options_.timeout_ms);
}

Status Evaluator::CheckDeadline() const {
  if (clock_ != nullptr && clock_->Now() > deadline_) {
    return QueryTimeoutError();
  }
  return Status::Ok();
}

Status CheckUniqueLabelsets(const Vector& vector) {
  if (vector.size() < 2) {
    return Status::Ok();
  }
  // Sorting (hash, index) pairs finds duplicates without copying any labels. Equal hashes are
  // compared label by label, so a hash collision is not mistaken for a duplicate.
  std::vector<std::pair<uint64_t, size_t>> hashes;
  hashes.reserve(vector.size());
  for (size_t i = 0; i < vector.size(); ++i) {
    hashes.emplace_back(vector[i].metric.Hash(), i);
  }
  std::sort(hashes.begin(), hashes.end());
  for (size_t i = 0; i < hashes.size(); ++i) {
    for (size_t j = i + 1; j < hashes.size() && hashes[j].first == hashes[i].first; ++j) {
      if (vector[hashes[i].second].metric == vector[hashes[j].second].metric) {
        return Error::Invalid("vector cannot contain metrics with the same labelset");
      }
    }
  }
  return Status::Ok();
}

std::string PrometheusLabelsString(const Labels& labels) {
  std::string out = "{";
  bool first = true;
  for (const Label& l : labels) {
    if (!first) {
      out += ", ";
    }
    first = false;
    out += l.name;
    out += "=\"";
    for (char c : l.value) {
      switch (c) {
        case '\\':
          out += "\\\\";
          break;
        case '"':
          out += "\\\"";
          break;
        case '\n':
          out += "\\n";
          break;
        default:
          out += c;
      }
    }
    out += '"';
  }
  out += "}";
  return out;
}

Status Evaluator::AddSamples(size_t n) {
  samples_in_step_ += n;
  if (samples_in_step_ > options_.max_samples) {
    return TooManySamplesError();
  }
  return Status::Ok();
}

int64_t Evaluator::ReferenceTime(const std::optional<AtModifier>& at,
                                 int64_t offset_ms,
                                 int64_t t) const {
  int64_t ref = t;
  if (at) {
    switch (at->kind) {
      case AtModifier::Kind::kTimestamp:
        ref = at->timestamp_ms;
        break;
      case AtModifier::Kind::kStart:
        ref = query_start_;
        break;
      case AtModifier::Kind::kEnd:
        ref = query_end_;
        break;
    }
  }
  return ref - offset_ms;
}

const std::vector<Series>& Evaluator::Select(const VectorSelector& vs,
                                             TimeWindow window,
                                             int64_t t) {
  auto it = cache_.find(&vs);
  if (it != cache_.end() && it->second.window.mint <= window.mint &&
      it->second.window.maxt >= window.maxt) {
    return it->second.series;
  }
  // Later steps of a range query move the window forward by as much as the evaluation time
  // moves, so fetch up to the query end at once to select each series only once.
  TimeWindow fetch = window;
  if (!vs.at) {
    fetch.maxt += std::max<int64_t>(0, query_end_ - t);
  }
  if (it != cache_.end()) {
    fetch.mint = std::min(fetch.mint, it->second.window.mint);
    fetch.maxt = std::max(fetch.maxt, it->second.window.maxt);
  }
  CachedSelect& entry = cache_[&vs];
  entry.window = fetch;
  entry.series = storage_.Select(vs.matchers, fetch.mint, fetch.maxt);
  // Prometheus's storage returns series sorted by labels, which fixes the order of results and
  // which of equal values topk() and bottomk() keep.
  std::sort(entry.series.begin(), entry.series.end(), [](const Series& a, const Series& b) {
    return a.labels < b.labels;
  });
  return entry.series;
}

Result<Value> Evaluator::EvalVectorSelector(const VectorSelector& vs,
                                            int64_t t,
                                            bool keep_sample_time) {
  const int64_t ref = ReferenceTime(vs.at, vs.offset_ms, t);
  const TimeWindow window = InstantSelectorWindow(ref, options_.lookback_delta_ms);
  Vector out;
  for (const Series& s : Select(vs, window, t)) {
    auto after = std::upper_bound(
        s.samples.begin(), s.samples.end(), window.maxt, [](int64_t v, const Sample& a) {
          return v < a.t;
        });
    if (after == s.samples.begin()) {
      continue;
    }
    const Sample& newest = *(after - 1);
    // A staleness marker as the newest sample means the series has ended.
    if (newest.t < window.mint || IsStaleNaN(newest.v)) {
      continue;
    }
    out.push_back(VectorSample{s.labels, keep_sample_time ? newest.t : t, newest.v});
  }
  if (Status st = AddSamples(out.size()); !st.ok()) {
    return st.error();
  }
  return Value(std::move(out));
}

Result<RangeArg> Evaluator::EvalMatrixSelector(const MatrixSelector& ms, int64_t t) {
  const auto* vs = ms.vector_selector->As<VectorSelector>();
  if (vs == nullptr) {
    return Error::Internal("range selector without a vector selector");
  }
  const int64_t ref = ReferenceTime(vs->at, vs->offset_ms, t);
  const TimeWindow window = RangeSelectorWindow(ref, ms.range_ms);
  RangeArg out;
  out.range_start = window.mint;
  out.range_end = window.maxt;
  out.range_ms = ms.range_ms;
  size_t loaded = 0;
  for (const Series& s : Select(*vs, window, t)) {
    MatrixSeries series{s.labels, {}};
    for (auto it = LowerBound(s.samples, window.mint);
         it != s.samples.end() && it->t <= window.maxt;
         ++it) {
      if (!IsStaleNaN(it->v)) {
        series.points.push_back(*it);
      }
    }
    if (!series.points.empty()) {
      loaded += series.points.size();
      out.series.push_back(std::move(series));
    }
  }
  if (Status st = AddSamples(loaded); !st.ok()) {
    return st.error();
  }
  return out;
}

Result<RangeArg> Evaluator::EvalSubquery(const SubqueryExpr& sq, int64_t t) {
  const int64_t end = ReferenceTime(sq.at, sq.offset_ms, t);
  const int64_t step = sq.step_ms > 0 ? sq.step_ms : options_.default_subquery_step_ms;
  if (step <= 0) {
    return Error::Invalid("subquery step must be positive");
  }
  // Steps are aligned to multiples of the step, starting at the first one inside the range,
  // as Prometheus does (Go's integer division truncates toward zero, as C++'s does).
  const int64_t raw_start = end - sq.range_ms;
  int64_t start = step * (raw_start / step);
  if (start < raw_start) {
    start += step;
  }

  RangeArg out;
  out.range_start = raw_start;
  out.range_end = end;
  out.range_ms = sq.range_ms;
  std::map<Labels, size_t> index;
  size_t loaded = 0;
  auto add_point = [&](const Labels& metric, int64_t ts, double v) {
    auto [it, inserted] = index.try_emplace(metric, out.series.size());
    if (inserted) {
      out.series.push_back(MatrixSeries{metric, {}});
    }
    out.series[it->second].points.push_back(Sample{ts, v});
    ++loaded;
  };
  const size_t saved = samples_in_step_;
  for (int64_t ts = start; ts <= end; ts += step) {
    samples_in_step_ = saved + loaded;
    Result<Value> v = Eval(*sq.expr, ts);
    if (!v.ok()) {
      return v.error();
    }
    if (const auto* scalar = std::get_if<Scalar>(&*v)) {
      add_point(Labels(), ts, scalar->v);
    } else if (const auto* vec = std::get_if<Vector>(&*v)) {
      for (const VectorSample& s : *vec) {
        add_point(s.metric, ts, s.v);
      }
    } else {
      return Error::Invalid("subquery is only allowed on instant vector and scalar expressions");
    }
  }
  samples_in_step_ = saved;
  if (Status st = AddSamples(loaded); !st.ok()) {
    return st.error();
  }
  return out;
}

Result<RangeArg> Evaluator::EvalRange(const Expr& expr, int64_t t) {
  const Expr& e = UnwrapParens(expr);
  if (const auto* ms = e.As<MatrixSelector>()) {
    return EvalMatrixSelector(*ms, t);
  }
  if (const auto* sq = e.As<SubqueryExpr>()) {
    return EvalSubquery(*sq, t);
  }
  return Error::Invalid("expected a range vector: a range selector such as x[5m] or a subquery");
}

Result<Value> Evaluator::EvalUnary(const UnaryExpr& e, int64_t t) {
  Result<Value> v = Eval(*e.expr, t);
  if (!v.ok() || !e.negate) {
    return v;
  }
  if (auto* scalar = std::get_if<Scalar>(&*v)) {
    scalar->v = -scalar->v;
    return v;
  }
  auto* vec = std::get_if<Vector>(&*v);
  if (vec == nullptr) {
    return Error::Invalid("unary minus is only allowed on scalars and instant vectors");
  }
  for (VectorSample& s : *vec) {
    s.metric = s.metric.WithoutName();
    s.v = -s.v;
  }
  if (Status st = CheckUniqueLabelsets(*vec); !st.ok()) {
    return st.error();
  }
  return v;
}

Result<Value> Evaluator::EvalCall(const Call& call, int64_t t) {
  if (!IsKnownFunction(call.func)) {
    return Error::Invalid("unknown function with name \"" + call.func + "\"");
  }
  std::vector<FunctionArg> args;
  args.reserve(call.args.size());
  for (size_t i = 0; i < call.args.size(); ++i) {
    const Expr& arg = *call.args[i];
    if (IsRangeArgument(call.func, i)) {
      Result<RangeArg> r = EvalRange(arg, t);
      if (!r.ok()) {
        return r.error();
      }
      args.emplace_back(std::move(r).value());
      continue;
    }
    // timestamp() of a plain selector returns the sample times, so the selector keeps them.
    const Expr& inner = UnwrapParens(arg);
    const auto* vs = inner.As<VectorSelector>();
    Result<Value> v = (call.func == "timestamp" && vs != nullptr)
                          ? EvalVectorSelector(*vs, t, /*keep_sample_time=*/true)
                          : Eval(arg, t);
    if (!v.ok()) {
      return v.error();
    }
    args.emplace_back(std::move(v).value());
  }
  Result<Value> out = CallFunction(call, args, t);
  if (!out.ok()) {
    return out;
  }
  if (const auto* vec = std::get_if<Vector>(&*out)) {
    if (Status st = CheckUniqueLabelsets(*vec); !st.ok()) {
      return st.error();
    }
  }
  return out;
}

Result<Value> Evaluator::EvalAggregate(const AggregateExpr& agg, int64_t t) {
  double param = 0;
  std::string string_param;
  if (agg.param) {
    Result<Value> p = Eval(*agg.param, t);
    if (!p.ok()) {
      return p.error();
    }
    if (const auto* scalar = std::get_if<Scalar>(&*p)) {
      param = scalar->v;
    } else if (const auto* str = std::get_if<String>(&*p)) {
      string_param = str->v;
    } else {
      return Error::Invalid(std::string("expected a scalar or string parameter for ") +
                            "aggregation");
    }
  }
  Result<Value> input = Eval(*agg.expr, t);
  if (!input.ok()) {
    return input.error();
  }
  const auto* vec = std::get_if<Vector>(&*input);
  if (vec == nullptr) {
    return Error::Invalid("aggregation expects an instant vector");
  }
  Result<Vector> out = Aggregate(agg, *vec, param, string_param, t);
  if (!out.ok()) {
    return out.error();
  }
  return Value(std::move(out).value());
}

Result<Value> Evaluator::EvalBinary(const BinaryExpr& bin, int64_t t) {
  Result<Value> lhs = Eval(*bin.lhs, t);
  if (!lhs.ok()) {
    return lhs;
  }
  Result<Value> rhs = Eval(*bin.rhs, t);
  if (!rhs.ok()) {
    return rhs;
  }
  Result<Value> out = EvalBinaryValues(bin, std::move(lhs).value(), std::move(rhs).value(), t);
  if (!out.ok()) {
    return out;
  }
  if (const auto* vec = std::get_if<Vector>(&*out)) {
    if (Status st = CheckUniqueLabelsets(*vec); !st.ok()) {
      return st.error();
    }
  }
  return out;
}

Result<Value> Evaluator::Eval(const Expr& expr, int64_t t) {
  // Checked at every node, so steps, subquery steps and deep expressions all stop in time.
  if (Status st = CheckDeadline(); !st.ok()) {
    return st.error();
  }
  const Expr::Node& node = expr.node;
  if (const auto* num = std::get_if<NumberLiteral>(&node)) {
    return Value(Scalar{t, num->value});
  }
  if (const auto* str = std::get_if<StringLiteral>(&node)) {
    return Value(String{t, str->value});
  }
  if (const auto* vs = std::get_if<VectorSelector>(&node)) {
    return EvalVectorSelector(*vs, t, /*keep_sample_time=*/false);
  }
  if (std::holds_alternative<MatrixSelector>(node) || std::holds_alternative<SubqueryExpr>(node)) {
    Result<RangeArg> r = EvalRange(expr, t);
    if (!r.ok()) {
      return r.error();
    }
    return Value(std::move(r->series));
  }
  if (const auto* paren = std::get_if<ParenExpr>(&node)) {
    return Eval(*paren->expr, t);
  }
  if (const auto* unary = std::get_if<UnaryExpr>(&node)) {
    return EvalUnary(*unary, t);
  }
  if (const auto* bin = std::get_if<BinaryExpr>(&node)) {
    return EvalBinary(*bin, t);
  }
  if (const auto* agg = std::get_if<AggregateExpr>(&node)) {
    return EvalAggregate(*agg, t);
  }
  if (const auto* call = std::get_if<Call>(&node)) {
    return EvalCall(*call, t);
  }
  return Error::Internal("unknown expression node");
}

}  // namespace internal

Engine::Engine(EngineOptions options) : options_(options) {}

Result<Value> Engine::Instant(const Expr& expr, const Queryable& storage, int64_t t_ms) const {
  internal::Evaluator ev(options_, storage, t_ms, t_ms);
  return ev.Eval(expr, t_ms);
}

Result<Matrix> Engine::Range(const Expr& expr,
                             const Queryable& storage,
                             int64_t start_ms,
                             int64_t end_ms,
                             int64_t step_ms) const {
  if (step_ms <= 0) {
    return Error::Invalid("range query step must be positive, got " + std::to_string(step_ms) +
                          "ms");
  }
  if (end_ms < start_ms) {
    return Error::Invalid("range query end must not be before its start");
  }
  internal::Evaluator ev(options_, storage, start_ms, end_ms);
  std::map<Labels, MatrixSeries> series;
  for (int64_t ts = start_ms; ts <= end_ms; ts += step_ms) {
    ev.ResetSampleCount();
    Result<Value> v = ev.Eval(expr, ts);
    if (!v.ok()) {
      return v.error();
    }
    if (const auto* scalar = std::get_if<Scalar>(&*v)) {
      series[Labels()].points.push_back(Sample{ts, scalar->v});
    } else if (const auto* vec = std::get_if<Vector>(&*v)) {
      for (const VectorSample& s : *vec) {
        MatrixSeries& out = series[s.metric];
        out.metric = s.metric;
        out.points.push_back(Sample{ts, s.v});
      }
    } else {
      const char* type = std::holds_alternative<Matrix>(*v) ? "range vector" : "string";
      return Error::Invalid(std::string("invalid expression type \"") + type +
                            "\" for range query, must be Scalar or instant Vector");
    }
  }
  Matrix out;
  out.reserve(series.size());
  for (auto& [labels, s] : series) {
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace alertd::promql
