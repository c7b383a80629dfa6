// PromQL functions, following Prometheus 2.42's promql/functions.go for float samples.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <unordered_map>

#include <re2/re2.h>

#include "engine/promql/evaluator.h"

namespace alertd::promql::internal {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

using Args = std::vector<FunctionArg>;
using FunctionImpl = std::function<Result<Value>(const Call&, Args&, int64_t)>;

const Vector& VectorArg(Args& args, size_t i) {
  static const Vector kEmpty;
  const auto* value = std::get_if<Value>(&args[i]);
  const auto* vec = value ? std::get_if<Vector>(value) : nullptr;
  return vec ? *vec : kEmpty;
}

Vector& MutableVectorArg(Args& args, size_t i) {
  static Vector empty;
  auto* value = std::get_if<Value>(&args[i]);
  auto* vec = value ? std::get_if<Vector>(value) : nullptr;
  if (vec == nullptr) {
    empty.clear();
    return empty;
  }
  return *vec;
}

double ScalarArg(Args& args, size_t i) {
  const auto* value = std::get_if<Value>(&args[i]);
  if (value == nullptr) {
    return kNaN;
  }
  if (const auto* s = std::get_if<Scalar>(value)) {
    return s->v;
  }
  if (const auto* vec = std::get_if<Vector>(value); vec && vec->size() == 1) {
    return (*vec)[0].v;
  }
  return kNaN;
}

std::string StringArg(Args& args, size_t i) {
  const auto* value = std::get_if<Value>(&args[i]);
  if (value == nullptr) {
    return "";
  }
  const auto* s = std::get_if<String>(value);
  return s ? s->v : "";
}

const RangeArg& RangeArgAt(Args& args, size_t i) {
  static const RangeArg kEmpty;
  const auto* r = std::get_if<RangeArg>(&args[i]);
  return r ? *r : kEmpty;
}

// Kahan-Babuska summation step: returns the new sum and compensation.
std::pair<double, double> KahanSumInc(double inc, double sum, double c) {
  double t = sum + inc;
  if (std::fabs(sum) >= std::fabs(inc)) {
    c += (sum - t) + inc;
  } else {
    c += (inc - t) + sum;
  }
  return {t, c};
}

// ---- Range vector functions ------------------------------------------------------------------

// Applies `fn` to the points of each series of a range vector. The result drops the metric
// name unless `keep_name`, and a series for which `fn` returns nothing is left out.
using PointsFunction = std::function<std::optional<double>(const MatrixSeries&, const RangeArg&)>;

Vector OverRange(const RangeArg& range, int64_t t, bool keep_name, const PointsFunction& fn) {
  Vector out;
  for (const MatrixSeries& s : range.series) {
    std::optional<double> v = fn(s, range);
    if (v) {
      out.push_back(VectorSample{keep_name ? s.metric : s.metric.WithoutName(), t, *v});
    }
  }
  return out;
}

// Prometheus's extrapolatedRate: the increase between the first and last points, corrected for
// counter resets, extrapolated toward the range boundaries by at most half a sample interval
// (or to where the counter would have been zero).
std::optional<double> ExtrapolatedRate(const MatrixSeries& s,
                                       const RangeArg& range,
                                       bool is_counter,
                                       bool is_rate) {
  const auto& points = s.points;
  if (points.size() < 2) {
    return std::nullopt;
  }
  double result = points.back().v - points.front().v;
  if (is_counter) {
    double prev = points.front().v;
    for (size_t i = 1; i < points.size(); ++i) {
      if (points[i].v < prev) {
        result += prev;
      }
      prev = points[i].v;
    }
  }
  double duration_to_start = static_cast<double>(points.front().t - range.range_start) / 1000;
  double duration_to_end = static_cast<double>(range.range_end - points.back().t) / 1000;
  const double sampled_interval = static_cast<double>(points.back().t - points.front().t) / 1000;
  const double average_between = sampled_interval / static_cast<double>(points.size() - 1);

  if (is_counter && result > 0 && points.front().v >= 0) {
    // A counter cannot go below zero, so do not extrapolate past the point where it was zero.
    double duration_to_zero = sampled_interval * (points.front().v / result);
    if (duration_to_zero < duration_to_start) {
      duration_to_start = duration_to_zero;
    }
  }
  const double threshold = average_between * 1.1;
  double extrapolate_to = sampled_interval;
  extrapolate_to += duration_to_start < threshold ? duration_to_start : average_between / 2;
  extrapolate_to += duration_to_end < threshold ? duration_to_end : average_between / 2;
  double factor = extrapolate_to / sampled_interval;
  if (is_rate) {
    factor /= static_cast<double>(range.range_ms) / 1000;
  }
  return result * factor;
}

std::optional<double> InstantValue(const MatrixSeries& s, bool is_rate) {
  const auto& points = s.points;
  if (points.size() < 2) {
    return std::nullopt;
  }
  const Sample& last = points[points.size() - 1];
  const Sample& previous = points[points.size() - 2];
  double result = (is_rate && last.v < previous.v) ? last.v : last.v - previous.v;
  const int64_t interval = last.t - previous.t;
  if (interval == 0) {
    return std::nullopt;
  }
  if (is_rate) {
    result /= static_cast<double>(interval) / 1000;
  }
  return result;
}

std::pair<double, double> LinearRegression(const std::vector<Sample>& points,
                                           int64_t intercept_time) {
  double n = 0;
  double sum_x = 0, c_x = 0, sum_y = 0, c_y = 0, sum_xy = 0, c_xy = 0, sum_x2 = 0, c_x2 = 0;
  const double init_y = points[0].v;
  bool const_y = true;
  for (size_t i = 0; i < points.size(); ++i) {
    const double v = points[i].v;
    if (const_y && i > 0 && v != init_y) {
      const_y = false;
    }
    n += 1;
    const double x = static_cast<double>(points[i].t - intercept_time) / 1e3;
    std::tie(sum_x, c_x) = KahanSumInc(x, sum_x, c_x);
    std::tie(sum_y, c_y) = KahanSumInc(v, sum_y, c_y);
    std::tie(sum_xy, c_xy) = KahanSumInc(x * v, sum_xy, c_xy);
    std::tie(sum_x2, c_x2) = KahanSumInc(x * x, sum_x2, c_x2);
  }
  if (const_y) {
    if (std::isinf(init_y)) {
      return {kNaN, kNaN};
    }
    return {0, init_y};
  }
  sum_x += c_x;
  sum_y += c_y;
  sum_xy += c_xy;
  sum_x2 += c_x2;
  const double cov_xy = sum_xy - sum_x * sum_y / n;
  const double var_x = sum_x2 - sum_x * sum_x / n;
  const double slope = cov_xy / var_x;
  const double intercept = sum_y / n - slope * sum_x / n;
  return {slope, intercept};
}

double AvgOverTime(const std::vector<Sample>& points) {
  double mean = 0, c = 0, count = 0;
  for (const Sample& p : points) {
    count += 1;
    if (std::isinf(mean)) {
      if (std::isinf(p.v) && (mean > 0) == (p.v > 0)) {
        continue;
      }
      if (!std::isinf(p.v) && !std::isnan(p.v)) {
        continue;
      }
    }
    std::tie(mean, c) = KahanSumInc(p.v / count - mean / count, mean, c);
  }
  return std::isinf(mean) ? mean : mean + c;
}

double SumOverTime(const std::vector<Sample>& points) {
  double sum = 0, c = 0;
  for (const Sample& p : points) {
    std::tie(sum, c) = KahanSumInc(p.v, sum, c);
  }
  return std::isinf(sum) ? sum : sum + c;
}

double StdvarOverTime(const std::vector<Sample>& points) {
  double count = 0, mean = 0, c_mean = 0, aux = 0, c_aux = 0;
  for (const Sample& p : points) {
    count += 1;
    const double delta = p.v - (mean + c_mean);
    std::tie(mean, c_mean) = KahanSumInc(delta / count, mean, c_mean);
    std::tie(aux, c_aux) = KahanSumInc(delta * (p.v - (mean + c_mean)), aux, c_aux);
  }
  return (aux + c_aux) / count;
}

std::string FormatGoFloat(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%f", v);
  return buf;
}

Result<Value> HoltWinters(const Call&, Args& args, int64_t t) {
  const double sf = ScalarArg(args, 1);
  const double tf = ScalarArg(args, 2);
  if (!(sf > 0 && sf < 1)) {
    return Error::Invalid("invalid smoothing factor. Expected: 0 < sf < 1, got: " +
                          FormatGoFloat(sf));
  }
  if (!(tf > 0 && tf < 1)) {
    return Error::Invalid("invalid trend factor. Expected: 0 < tf < 1, got: " + FormatGoFloat(tf));
  }
  return Value(OverRange(RangeArgAt(args, 0),
                         t,
                         false,
                         [sf, tf](const MatrixSeries& s, const RangeArg&) -> std::optional<double> {
                           const auto& p = s.points;
                           if (p.size() < 2) {
                             return std::nullopt;
                           }
                           double s0 = 0;
                           double s1 = p[0].v;
                           double b = p[1].v - p[0].v;
                           for (size_t i = 1; i < p.size(); ++i) {
                             const double x = sf * p[i].v;
                             if (i > 1) {
                               b = tf * (s1 - s0) + (1 - tf) * b;
                             }
                             const double y = (1 - sf) * (s1 + b);
                             s0 = s1;
                             s1 = x + y;
                           }
                           return s1;
                         }));
}

// Registers a function of one range vector computed by `fn` over each series.
FunctionImpl RangeFunction(PointsFunction fn, bool keep_name = false) {
  return [fn = std::move(fn), keep_name](const Call&, Args& args, int64_t t) -> Result<Value> {
    return Value(OverRange(RangeArgAt(args, 0), t, keep_name, fn));
  };
}

FunctionImpl PointsAggregate(std::function<double(const std::vector<Sample>&)> fn) {
  return RangeFunction([fn = std::move(fn)](const MatrixSeries& s, const RangeArg&) {
    return std::optional<double>(fn(s.points));
  });
}

// ---- Instant vector functions ----------------------------------------------------------------

// Applies `fn` to each element's value and drops the metric name.
FunctionImpl SimpleFunction(std::function<double(double)> fn) {
  return [fn = std::move(fn)](const Call&, Args& args, int64_t t) -> Result<Value> {
    Vector out;
    for (const VectorSample& s : VectorArg(args, 0)) {
      out.push_back(VectorSample{s.metric.WithoutName(), t, fn(s.v)});
    }
    return Value(std::move(out));
  };
}

double Sgn(double v) {
  if (v < 0) {
    return -1;
  }
  if (v > 0) {
    return 1;
  }
  return v;  // 0, -0 and NaN
}

// Go's math.Min and math.Max, which return NaN when either argument is NaN.
double GoMin(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) {
    return kNaN;
  }
  return std::min(a, b);
}

double GoMax(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) {
    return kNaN;
  }
  return std::max(a, b);
}

Result<Value> Clamp(Args& args, int64_t t, double min, double max) {
  Vector out;
  if (max < min) {
    return Value(std::move(out));
  }
  for (const VectorSample& s : VectorArg(args, 0)) {
    out.push_back(VectorSample{s.metric.WithoutName(), t, GoMax(min, GoMin(max, s.v))});
  }
  return Value(std::move(out));
}

// Creates the labels absent() returns: the equality matchers of a selector argument, except
// labels matched more than once or by another matcher type.
Labels AbsentLabels(const Expr& arg) {
  const Expr* e = &arg;
  if (const auto* ms = e->As<MatrixSelector>()) {
    e = ms->vector_selector.get();
  }
  const auto* vs = e->As<VectorSelector>();
  if (vs == nullptr) {
    return Labels();
  }
  LabelsBuilder b;
  std::vector<std::string> empty;
  std::vector<std::string> set;
  for (const LabelMatcher& m : vs->matchers) {
    if (m.name() == kMetricName) {
      continue;
    }
    if (m.type() == MatchType::kEqual && std::find(set.begin(), set.end(), m.name()) == set.end()) {
      b.Set(m.name(), m.value());
      set.push_back(m.name());
    } else {
      empty.push_back(m.name());
    }
  }
  for (const std::string& name : empty) {
    b.Del(name);
  }
  return b.Build();
}

// Go's regexp.Expand template syntax: $1, ${1}, $name, ${name} and $$.
std::string ExpandTemplate(const RE2& re,
                           std::string_view tmpl,
                           const std::vector<re2::StringPiece>& groups) {
  std::string out;
  const auto& names = re.NamedCapturingGroups();
  auto is_word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  while (!tmpl.empty()) {
    size_t dollar = tmpl.find('$');
    if (dollar == std::string_view::npos) {
      break;
    }
    out += tmpl.substr(0, dollar);
    tmpl.remove_prefix(dollar + 1);
    if (!tmpl.empty() && tmpl[0] == '$') {
      out += '$';
      tmpl.remove_prefix(1);
      continue;
    }
    std::string_view str = tmpl;
    bool brace = false;
    if (!str.empty() && str[0] == '{') {
      brace = true;
      str.remove_prefix(1);
    }
    size_t i = 0;
    while (i < str.size() && is_word(str[i])) {
      ++i;
    }
    if (i == 0 || (brace && (i >= str.size() || str[i] != '}'))) {
      out += '$';  // malformed: the $ is literal text
      continue;
    }
    std::string name(str.substr(0, i));
    tmpl = str.substr(i + (brace ? 1 : 0));
    int num = 0;
    for (char c : name) {
      if (c < '0' || c > '9' || num >= 100000000) {
        num = -1;
        break;
      }
      num = num * 10 + (c - '0');
    }
    if (name[0] == '0' && name.size() > 1) {
      num = -1;
    }
    if (num < 0) {
      auto it = names.find(name);
      num = it == names.end() ? -1 : it->second;
    }
    if (num >= 0 && static_cast<size_t>(num) < groups.size() && groups[num].data() != nullptr) {
      out.append(groups[num].data(), groups[num].size());
    }
  }
  out += tmpl;
  return out;
}

Result<Value> LabelReplace(const Call&, Args& args, int64_t t) {
  const std::string dst = StringArg(args, 1);
  const std::string replacement = StringArg(args, 2);
  const std::string src = StringArg(args, 3);
  const std::string regex = StringArg(args, 4);
  RE2::Options options;
  options.set_log_errors(false);
  RE2 re("^(?:" + regex + ")$", options);
  if (!re.ok()) {
    return Error::Invalid("invalid regular expression in label_replace(): " + regex);
  }
  if (!IsValidLabelName(dst)) {
    return Error::Invalid("invalid destination label name in label_replace(): " + dst);
  }
  Vector out;
  std::vector<re2::StringPiece> groups(re.NumberOfCapturingGroups() + 1);
  for (const VectorSample& s : VectorArg(args, 0)) {
    std::string_view value = s.metric.Get(src);
    re2::StringPiece text(value.data(), value.size());
    if (!re.Match(text,
                  0,
                  text.size(),
                  RE2::UNANCHORED,
                  groups.data(),
                  static_cast<int>(groups.size()))) {
      out.push_back(VectorSample{s.metric, t, s.v});
      continue;
    }
    std::string result = ExpandTemplate(re, replacement, groups);
    out.push_back(VectorSample{LabelsBuilder(s.metric).Set(dst, result).Build(), t, s.v});
  }
  return Value(std::move(out));
}

Result<Value> LabelJoin(const Call&, Args& args, int64_t t) {
  const std::string dst = StringArg(args, 1);
  const std::string sep = StringArg(args, 2);
  std::vector<std::string> srcs;
  for (size_t i = 3; i < args.size(); ++i) {
    srcs.push_back(StringArg(args, i));
    if (!IsValidLabelName(srcs.back())) {
      return Error::Invalid("invalid source label name in label_join(): " + srcs.back());
    }
  }
  if (!IsValidLabelName(dst)) {
    return Error::Invalid("invalid destination label name in label_join(): " + dst);
  }
  Vector out;
  for (const VectorSample& s : VectorArg(args, 0)) {
    std::string joined;
    for (size_t i = 0; i < srcs.size(); ++i) {
      if (i > 0) {
        joined += sep;
      }
      joined += s.metric.Get(srcs[i]);
    }
    out.push_back(VectorSample{LabelsBuilder(s.metric).Set(dst, joined).Build(), t, s.v});
  }
  return Value(std::move(out));
}

// ---- histogram_quantile ----------------------------------------------------------------------

struct Bucket {
  double upper_bound;
  double count;
};

// Prometheus's bucketQuantile for classic histograms, including coalescing buckets with equal
// bounds and forcing cumulative counts to be monotonic.
double BucketQuantile(double q, std::vector<Bucket> buckets) {
  if (std::isnan(q)) {
    return kNaN;
  }
  if (q < 0) {
    return -kInf;
  }
  if (q > 1) {
    return kInf;
  }
  std::sort(buckets.begin(), buckets.end(), [](const Bucket& a, const Bucket& b) {
    return a.upper_bound < b.upper_bound;
  });
  if (buckets.empty() || !std::isinf(buckets.back().upper_bound) ||
      buckets.back().upper_bound < 0) {
    return kNaN;
  }
  std::vector<Bucket> merged;
  for (const Bucket& b : buckets) {
    if (!merged.empty() && merged.back().upper_bound == b.upper_bound) {
      merged.back().count += b.count;
    } else {
      merged.push_back(b);
    }
  }
  double max = -kInf;
  for (Bucket& b : merged) {
    if (b.count > max) {
      max = b.count;
    } else if (b.count < max) {
      b.count = max;
    }
  }
  if (merged.size() < 2) {
    return kNaN;
  }
  const double observations = merged.back().count;
  if (observations == 0) {
    return kNaN;
  }
  double rank = q * observations;
  size_t b = 0;
  while (b < merged.size() - 1 && !(merged[b].count >= rank)) {
    ++b;
  }
  if (b == merged.size() - 1) {
    return merged[merged.size() - 2].upper_bound;
  }
  if (b == 0 && merged[0].upper_bound <= 0) {
    return merged[0].upper_bound;
  }
  double bucket_start = 0;
  const double bucket_end = merged[b].upper_bound;
  double count = merged[b].count;
  if (b > 0) {
    bucket_start = merged[b - 1].upper_bound;
    count -= merged[b - 1].count;
    rank -= merged[b - 1].count;
  }
  return bucket_start + (bucket_end - bucket_start) * (rank / count);
}

// Parses a float as Go's strconv.ParseFloat does for the values `le` takes.
std::optional<double> ParseGoFloat(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) {
    return std::nullopt;
  }
  return v;
}

Result<Value> HistogramQuantile(const Call&, Args& args, int64_t t) {
  const double q = ScalarArg(args, 0);

  struct Entry {
    Labels metric;
    std::vector<Bucket> buckets;
  };

  std::vector<Entry> entries;
  std::map<Labels, size_t> index;
  for (const VectorSample& s : VectorArg(args, 1)) {
    std::optional<double> upper = ParseGoFloat(s.metric.Get("le"));
    if (!upper) {
      continue;  // no or malformed `le` label: not a bucket
    }
    // Series are grouped with their metric name, which the result then drops.
    Labels key = LabelsBuilder(s.metric).Del("le").Build();
    auto [it, inserted] = index.try_emplace(key, entries.size());
    if (inserted) {
      entries.push_back(Entry{key.WithoutName(), {}});
    }
    entries[it->second].buckets.push_back(Bucket{*upper, s.v});
  }
  Vector out;
  for (Entry& e : entries) {
    out.push_back(VectorSample{std::move(e.metric), t, BucketQuantile(q, std::move(e.buckets))});
  }
  return Value(std::move(out));
}

// ---- Date functions --------------------------------------------------------------------------

// The calendar fields of a Unix time in UTC, computed as Go 1.19's time package does
// (time.Unix(sec, 0).UTC() and absDate), so that even out-of-range values match Prometheus.
struct CivilTime {
  int64_t year;
  int month;    // 1-12
  int day;      // 1-31
  int weekday;  // 0 is Sunday
  int hour;
  int minute;
  int day_of_year;  // 1-366
};

bool IsLeapYear(int64_t year) {
  return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

// Converts like Go's int64(v) on amd64: truncation toward zero, and the minimum int64 for NaN,
// infinities and values out of range.
int64_t GoInt64(double v) {
  if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0)) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(v);
}

CivilTime ToCivil(int64_t unix_seconds) {
  constexpr uint64_t kSecondsPerDay = 86400;
  constexpr uint64_t kDaysPer400Years = 365 * 400 + 97;
  constexpr uint64_t kDaysPer100Years = 365 * 100 + 24;
  constexpr uint64_t kDaysPer4Years = 365 * 4 + 1;
  constexpr int64_t kAbsoluteZeroYear = -292277022399LL;
  // Go's unixToInternal + internalToAbsolute: the seconds from January 1 of Go's absolute zero
  // year, -292277022399, to the Unix epoch.
  constexpr uint64_t kUnixToAbsolute = 9223372028715321600ULL;
  static constexpr int kDaysBefore[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365};

  // Unsigned arithmetic wraps as Go's int64 arithmetic does.
  const uint64_t abs = static_cast<uint64_t>(unix_seconds) + kUnixToAbsolute;
  CivilTime c{};
  c.hour = static_cast<int>((abs % kSecondsPerDay) / 3600);
  c.minute = static_cast<int>((abs % 3600) / 60);
  // The absolute zero is a Monday.
  c.weekday = static_cast<int>(((abs + kSecondsPerDay) % (7 * kSecondsPerDay)) / kSecondsPerDay);

  uint64_t d = abs / kSecondsPerDay;
  uint64_t n = d / kDaysPer400Years;
  uint64_t y = 400 * n;
  d -= kDaysPer400Years * n;
  n = d / kDaysPer100Years;
  n -= n >> 2;
  y += 100 * n;
  d -= kDaysPer100Years * n;
  n = d / kDaysPer4Years;
  y += 4 * n;
  d -= kDaysPer4Years * n;
  n = d / 365;
  n -= n >> 2;
  y += n;
  d -= 365 * n;

  c.year = static_cast<int64_t>(y) + kAbsoluteZeroYear;
  c.day_of_year = static_cast<int>(d) + 1;
  int day = static_cast<int>(d);
  if (IsLeapYear(c.year)) {
    if (day == 31 + 29 - 1) {
      c.month = 2;
      c.day = 29;
      return c;
    }
    if (day > 31 + 29 - 1) {
      --day;  // after the leap day, count as in a common year
    }
  }
  int month = day / 31;  // may be one too low
  int begin = kDaysBefore[month];
  if (day >= kDaysBefore[month + 1]) {
    ++month;
    begin = kDaysBefore[month];
  }
  c.month = month + 1;
  c.day = day - begin + 1;
  return c;
}

FunctionImpl DateFunction(std::function<double(const CivilTime&)> fn) {
  return [fn = std::move(fn)](const Call&, Args& args, int64_t t) -> Result<Value> {
    Vector out;
    if (args.empty()) {
      out.push_back(VectorSample{Labels(), t, fn(ToCivil(t / 1000))});
      return Value(std::move(out));
    }
    for (const VectorSample& s : VectorArg(args, 0)) {
      out.push_back(VectorSample{s.metric.WithoutName(), t, fn(ToCivil(GoInt64(s.v)))});
    }
    return Value(std::move(out));
  };
}

double DaysInMonth(const CivilTime& c) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return c.month == 2 && IsLeapYear(c.year) ? 29 : kDays[c.month - 1];
}

// ---- Registry --------------------------------------------------------------------------------

struct FunctionDef {
  FunctionImpl impl;
  int range_arg = -1;  // index of the range vector argument, -1 for none
};

std::unordered_map<std::string, FunctionDef> BuildRegistry() {
  std::unordered_map<std::string, FunctionDef> r;
  auto range0 = [&r](const std::string& name, FunctionImpl impl) {
    r[name] = FunctionDef{std::move(impl), 0};
  };
  auto simple = [&r](const std::string& name, double (*fn)(double)) {
    r[name] = FunctionDef{SimpleFunction(fn), -1};
  };

  range0("rate", RangeFunction([](const MatrixSeries& s, const RangeArg& range) {
           return ExtrapolatedRate(s, range, true, true);
         }));
  range0("increase", RangeFunction([](const MatrixSeries& s, const RangeArg& range) {
           return ExtrapolatedRate(s, range, true, false);
         }));
  range0("delta", RangeFunction([](const MatrixSeries& s, const RangeArg& range) {
           return ExtrapolatedRate(s, range, false, false);
         }));
  range0("irate", RangeFunction([](const MatrixSeries& s, const RangeArg&) {
           return InstantValue(s, true);
         }));
  range0("idelta", RangeFunction([](const MatrixSeries& s, const RangeArg&) {
           return InstantValue(s, false);
         }));
  range0("deriv",
         RangeFunction([](const MatrixSeries& s, const RangeArg&) -> std::optional<double> {
           if (s.points.size() < 2) {
             return std::nullopt;
           }
           // An intercept time near the samples avoids losing float precision.
           return LinearRegression(s.points, s.points[0].t).first;
         }));
  range0("predict_linear", [](const Call&, Args& args, int64_t t) -> Result<Value> {
    const double duration = ScalarArg(args, 1);
    return Value(
        OverRange(RangeArgAt(args, 0),
                  t,
                  false,
                  [duration, t](const MatrixSeries& s, const RangeArg&) -> std::optional<double> {
                    if (s.points.size() < 2) {
                      return std::nullopt;
                    }
                    auto [slope, intercept] = LinearRegression(s.points, t);
                    return slope * duration + intercept;
                  }));
  });
  range0("holt_winters", HoltWinters);
  range0("avg_over_time", PointsAggregate(AvgOverTime));
  range0("sum_over_time", PointsAggregate(SumOverTime));
  range0("count_over_time", PointsAggregate([](const std::vector<Sample>& p) {
           return static_cast<double>(p.size());
         }));
  range0("min_over_time", PointsAggregate([](const std::vector<Sample>& p) {
           double min = p[0].v;
           for (const Sample& s : p) {
             if (s.v < min || std::isnan(min)) {
               min = s.v;
             }
           }
           return min;
         }));
  range0("max_over_time", PointsAggregate([](const std::vector<Sample>& p) {
           double max = p[0].v;
           for (const Sample& s : p) {
             if (s.v > max || std::isnan(max)) {
               max = s.v;
             }
           }
           return max;
         }));
  range0("stdvar_over_time", PointsAggregate(StdvarOverTime));
  range0("stddev_over_time", PointsAggregate([](const std::vector<Sample>& p) {
           return std::sqrt(StdvarOverTime(p));
         }));
  range0("last_over_time",
         RangeFunction([](const MatrixSeries& s,
                          const RangeArg&) { return std::optional<double>(s.points.back().v); },
                       /*keep_name=*/true));
  range0("present_over_time", PointsAggregate([](const std::vector<Sample>&) { return 1.0; }));
  range0("changes", PointsAggregate([](const std::vector<Sample>& p) {
           double changes = 0;
           for (size_t i = 1; i < p.size(); ++i) {
             const double cur = p[i].v;
             const double prev = p[i - 1].v;
             if (cur != prev && !(std::isnan(cur) && std::isnan(prev))) {
               ++changes;
             }
           }
           return changes;
         }));
  range0("resets", PointsAggregate([](const std::vector<Sample>& p) {
           double resets = 0;
           for (size_t i = 1; i < p.size(); ++i) {
             if (p[i].v < p[i - 1].v) {
               ++resets;
             }
           }
           return resets;
         }));
  range0("absent_over_time", [](const Call& call, Args& args, int64_t t) -> Result<Value> {
    Vector out;
    if (RangeArgAt(args, 0).series.empty()) {
      out.push_back(VectorSample{AbsentLabels(*call.args[0]), t, 1});
    }
    return Value(std::move(out));
  });
  r["quantile_over_time"] =
      FunctionDef{[](const Call&, Args& args, int64_t t) -> Result<Value> {
                    const double q = ScalarArg(args, 0);
                    return Value(OverRange(
                        RangeArgAt(args, 1), t, false, [q](const MatrixSeries& s, const RangeArg&) {
                          std::vector<double> values;
                          values.reserve(s.points.size());
                          for (const Sample& p : s.points) {
                            values.push_back(p.v);
                          }
                          return std::optional<double>(Quantile(q, values));
                        }));
                  },
                  1};

  simple("abs", [](double v) { return std::fabs(v); });
  simple("ceil", [](double v) { return std::ceil(v); });
  simple("floor", [](double v) { return std::floor(v); });
  simple("exp", [](double v) { return std::exp(v); });
  simple("sqrt", [](double v) { return std::sqrt(v); });
  simple("ln", [](double v) { return std::log(v); });
  simple("log2", [](double v) { return std::log2(v); });
  simple("log10", [](double v) { return std::log10(v); });
  simple("sgn", Sgn);
  simple("acos", [](double v) { return std::acos(v); });
  simple("asin", [](double v) { return std::asin(v); });
  simple("atan", [](double v) { return std::atan(v); });
  simple("cos", [](double v) { return std::cos(v); });
  simple("sin", [](double v) { return std::sin(v); });
  simple("tan", [](double v) { return std::tan(v); });
  simple("acosh", [](double v) { return std::acosh(v); });
  simple("asinh", [](double v) { return std::asinh(v); });
  simple("atanh", [](double v) { return std::atanh(v); });
  simple("cosh", [](double v) { return std::cosh(v); });
  simple("sinh", [](double v) { return std::sinh(v); });
  simple("tanh", [](double v) { return std::tanh(v); });
  simple("deg", [](double v) { return v * 180 / M_PI; });
  simple("rad", [](double v) { return v * M_PI / 180; });

  r["pi"] = FunctionDef{[](const Call&, Args&, int64_t t) -> Result<Value> {
    return Value(Scalar{t, M_PI});
  }};
  r["time"] = FunctionDef{[](const Call&, Args&, int64_t t) -> Result<Value> {
    return Value(Scalar{t, static_cast<double>(t) / 1000});
  }};
  r["round"] = FunctionDef{[](const Call&, Args& args, int64_t t) -> Result<Value> {
    const double to_nearest = args.size() > 1 ? ScalarArg(args, 1) : 1;
    // Dividing by the inverse matches Prometheus, which does so for better precision.
    const double inverse = 1.0 / to_nearest;
    Vector out;
    for (const VectorSample& s : VectorArg(args, 0)) {
      out.push_back(
          VectorSample{s.metric.WithoutName(), t, std::floor(s.v * inverse + 0.5) / inverse});
    }
    return Value(std::move(out));
  }};
  r["clamp"] = FunctionDef{[](const Call&, Args& args, int64_t t) {
    return Clamp(args, t, ScalarArg(args, 1), ScalarArg(args, 2));
  }};
  r["clamp_min"] = FunctionDef{[](const Call&, Args& args, int64_t t) {
    return Clamp(args, t, ScalarArg(args, 1), kInf);
  }};
  r["clamp_max"] = FunctionDef{[](const Call&, Args& args, int64_t t) {
    return Clamp(args, t, -kInf, ScalarArg(args, 1));
  }};
  r["timestamp"] = FunctionDef{[](const Call&, Args& args, int64_t t) -> Result<Value> {
    Vector out;
    for (const VectorSample& s : VectorArg(args, 0)) {
      out.push_back(VectorSample{s.metric.WithoutName(), t, static_cast<double>(s.t) / 1000});
    }
    return Value(std::move(out));
  }};
  r["vector"] = FunctionDef{[](const Call&, Args& args, int64_t t) -> Result<Value> {
    return Value(Vector{VectorSample{Labels(), t, ScalarArg(args, 0)}});
  }};
  r["scalar"] = FunctionDef{[](const Call&, Args& args, int64_t t) -> Result<Value> {
    const Vector& v = VectorArg(args, 0);
    return Value(Scalar{t, v.size() == 1 ? v[0].v : kNaN});
  }};
  r["absent"] = FunctionDef{[](const Call& call, Args& args, int64_t t) -> Result<Value> {
    Vector out;
    if (VectorArg(args, 0).empty()) {
      out.push_back(VectorSample{AbsentLabels(*call.args[0]), t, 1});
    }
    return Value(std::move(out));
  }};
  // Both sorts put NaN last, as Prometheus 2.42 does.
  r["sort"] = FunctionDef{[](const Call&, Args& args, int64_t t) -> Result<Value> {
    Vector v = std::move(MutableVectorArg(args, 0));
    std::stable_sort(v.begin(), v.end(), [](const VectorSample& a, const VectorSample& b) {
      return std::isnan(b.v) ? !std::isnan(a.v) : a.v < b.v;
    });
    for (VectorSample& s : v) {
      s.t = t;
    }
    return Value(std::move(v));
  }};
  r["sort_desc"] = FunctionDef{[](const Call&, Args& args, int64_t t) -> Result<Value> {
    Vector v = std::move(MutableVectorArg(args, 0));
    std::stable_sort(v.begin(), v.end(), [](const VectorSample& a, const VectorSample& b) {
      return std::isnan(b.v) ? !std::isnan(a.v) : a.v > b.v;
    });
    for (VectorSample& s : v) {
      s.t = t;
    }
    return Value(std::move(v));
  }};
  r["label_replace"] = FunctionDef{LabelReplace};
  r["label_join"] = FunctionDef{LabelJoin};
  r["histogram_quantile"] = FunctionDef{HistogramQuantile};
  // These read native histograms only, and float samples have none, so they return nothing.
  auto native_only = [](const Call&, Args&, int64_t) -> Result<Value> {
    return Value(Vector{});
  };
  r["histogram_count"] = FunctionDef{native_only};
  r["histogram_sum"] = FunctionDef{native_only};
  r["histogram_fraction"] = FunctionDef{native_only};

  r["day_of_month"] =
      FunctionDef{DateFunction([](const CivilTime& c) { return static_cast<double>(c.day); })};
  r["day_of_week"] =
      FunctionDef{DateFunction([](const CivilTime& c) { return static_cast<double>(c.weekday); })};
  r["day_of_year"] = FunctionDef{
      DateFunction([](const CivilTime& c) { return static_cast<double>(c.day_of_year); })};
  r["days_in_month"] = FunctionDef{DateFunction(DaysInMonth)};
  r["hour"] =
      FunctionDef{DateFunction([](const CivilTime& c) { return static_cast<double>(c.hour); })};
  r["minute"] =
      FunctionDef{DateFunction([](const CivilTime& c) { return static_cast<double>(c.minute); })};
  r["month"] =
      FunctionDef{DateFunction([](const CivilTime& c) { return static_cast<double>(c.month); })};
  r["year"] =
      FunctionDef{DateFunction([](const CivilTime& c) { return static_cast<double>(c.year); })};
  return r;
}

const std::unordered_map<std::string, FunctionDef>& Registry() {
  static const auto* registry = new std::unordered_map<std::string, FunctionDef>(BuildRegistry());
  return *registry;
}

}  // namespace

bool IsKnownFunction(const std::string& name) {
  return Registry().count(name) > 0;
}

bool IsRangeArgument(const std::string& name, size_t index) {
  auto it = Registry().find(name);
  return it != Registry().end() && it->second.range_arg == static_cast<int>(index);
}

Result<Value> CallFunction(const Call& call, std::vector<FunctionArg>& args, int64_t t) {
  auto it = Registry().find(call.func);
  if (it == Registry().end()) {
    return Error::Invalid("unknown function with name \"" + call.func + "\"");
  }
  return it->second.impl(call, args, t);
}

}  // namespace alertd::promql::internal
