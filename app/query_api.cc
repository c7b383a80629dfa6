#include "app/query_api.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/duration.h"
#include "engine/promql/engine.h"
#include "engine/promql/parser.h"
#include "web/api_json.h"

namespace alertd {
namespace {

// Prometheus's API minTime and maxTime: the widest times Go's time package formats.
constexpr int64_t kMinTimeMs = (std::numeric_limits<int64_t>::min() / 1000 + 62135596801LL) * 1000;
constexpr int64_t kMaxTimeMs =
    (std::numeric_limits<int64_t>::max() / 1000 - 62135596801LL) * 1000 + 999;
constexpr char kMinTimeFormatted[] = "-292273086-05-16T16:47:06Z";
constexpr char kMaxTimeFormatted[] = "292277025-08-18T07:12:54.999999999Z";

// Prometheus limits a range query to this many points per series.
constexpr int64_t kMaxPoints = 11000;

// Go's strconv.ParseFloat takes hex only with a p exponent, which API clients do not send, so
// hex is rejected where strtod would accept it.
bool IsHex(std::string_view s) {
  return s.find_first_of("xX") != std::string_view::npos;
}

HttpServerResponse InvalidParam(std::string_view name, const std::string& why) {
  return ApiError(ApiErrorType::kBadData,
                  "invalid parameter \"" + std::string(name) + "\": " + why);
}

std::optional<int> Digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) {
    return std::nullopt;
  }
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') {
      return std::nullopt;
    }
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// Go's time.Parse(time.RFC3339Nano, s) for four-digit years.
std::optional<int64_t> ParseRfc3339(std::string_view s) {
  auto year = Digits(s, 0, 4), month = Digits(s, 5, 2), day = Digits(s, 8, 2);
  auto hour = Digits(s, 11, 2), minute = Digits(s, 14, 2), second = Digits(s, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second || s[4] != '-' || s[7] != '-' ||
      (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 ||
      *second > 59) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (pos - start < 3) {
        millis = millis * 10 + (s[pos] - '0');
      }
      ++pos;
    }
    if (pos == start || pos - start > 9) {
      return std::nullopt;
    }
    for (size_t n = pos - start; n < 3; ++n) {
      millis *= 10;
    }
  }
  int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    auto oh = Digits(s, pos + 1, 2), om = Digits(s, pos + 4, 2);
    if (!oh || !om || s[pos + 3] != ':' || *oh > 23 || *om > 59) {
      return std::nullopt;
    }
    offset_s = (s[pos] == '-' ? -1 : 1) * (*oh * 3600 + *om * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  const int64_t seconds = static_cast<int64_t>(timegm(&tm)) - offset_s;
  return seconds * 1000 + millis;
}

// Reads an optional time parameter as Prometheus's parseTimeParam does: `fallback` when it is
// absent or empty.
Result<int64_t> TimeParam(const HttpServerRequest& request,
                          std::string_view name,
                          int64_t fallback) {
  std::string text = request.FormValue(name);
  if (text.empty()) {
    return fallback;
  }
  Result<int64_t> t = ParseApiTime(text);
  if (!t.ok()) {
    return Error::Invalid("Invalid time value for '" + std::string(name) +
                          "': " + t.error().message());
  }
  return t;
}

promql::EngineOptions QueryOptions(const ApiSources* sources) {
  promql::EngineOptions options = sources->engine;
  if (options.clock == nullptr) {
    options.clock = sources->clock;
  }
  return options;
}

// Applies the request's `timeout` parameter, which can only shorten the configured limit. Sets
// `expired` for a timeout of zero or less.
std::optional<HttpServerResponse> ApplyTimeout(const HttpServerRequest& request,
                                               promql::EngineOptions& options,
                                               bool& expired) {
  std::string text = request.FormValue("timeout");
  if (text.empty()) {
    return std::nullopt;
  }
  Result<int64_t> timeout = ParseApiDuration(text);
  if (!timeout.ok()) {
    return InvalidParam("timeout", timeout.error().message());
  }
  expired = *timeout <= 0;
  const int64_t requested = std::max<int64_t>(*timeout, 1);
  options.timeout_ms = options.timeout_ms > 0 ? std::min(options.timeout_ms, requested) : requested;
  return std::nullopt;
}

HttpServerResponse EvalError(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kTimeout:
      return ApiError(ApiErrorType::kTimeout, error.message());
    case ErrorCode::kInternal:
      return ApiError(ApiErrorType::kInternal, error.message());
    default:
      return ApiError(ApiErrorType::kExecution, error.message());
  }
}

// Prometheus's ParseErr text: "LINE:COL: parse error: MESSAGE".
std::string ParseErrorText(const Error& error) {
  std::string out;
  if (error.line() > 0) {
    out = std::to_string(error.line()) + ":" + std::to_string(error.column()) + ": ";
  }
  return out + "parse error: " + error.message();
}

nlohmann::json MetricJson(const Labels& labels) {
  nlohmann::json out = nlohmann::json::object();
  for (const Label& l : labels) {
    out[l.name] = l.value;
  }
  return out;
}

nlohmann::json MatrixJson(const promql::Matrix& matrix) {
  nlohmann::json out = nlohmann::json::array();
  for (const promql::MatrixSeries& s : matrix) {
    nlohmann::json values = nlohmann::json::array();
    for (const Sample& p : s.points) {
      values.push_back(SamplePairJson(p.t, p.v));
    }
    out.push_back({{"metric", MetricJson(s.metric)}, {"values", std::move(values)}});
  }
  return out;
}

// {"status":"success","data":{"resultType":...,"result":...}} in Prometheus's key order.
HttpServerResponse QueryResult(std::string_view type, const nlohmann::json& result) {
  return HttpServerResponse::Json(200,
                                  R"({"status":"success","data":{"resultType":")" +
                                      std::string(type) + R"(","result":)" + DumpJson(result) +
                                      "}}");
}

HttpServerResponse ValueResult(const promql::Value& value) {
  if (const auto* scalar = std::get_if<promql::Scalar>(&value)) {
    return QueryResult("scalar", SamplePairJson(scalar->t, scalar->v));
  }
  if (const auto* str = std::get_if<promql::String>(&value)) {
    return QueryResult("string", nlohmann::json::array({TimestampSecondsJson(str->t), str->v}));
  }
  if (const auto* matrix = std::get_if<promql::Matrix>(&value)) {
    return QueryResult("matrix", MatrixJson(*matrix));
  }
  nlohmann::json out = nlohmann::json::array();
  for (const promql::VectorSample& s : std::get<promql::Vector>(value)) {
    out.push_back({{"metric", MetricJson(s.metric)}, {"value", SamplePairJson(s.t, s.v)}});
  }
  return QueryResult("vector", out);
}

int64_t NowMs(const ApiSources* sources) {
  return sources->clock != nullptr ? ToMillis(sources->clock->Now()) : 0;
}

HttpServerResponse HandleQuery(const ApiSources* sources, const HttpServerRequest& request) {
  Result<int64_t> t = TimeParam(request, "time", NowMs(sources));
  if (!t.ok()) {
    return InvalidParam("time", t.error().message());
  }
  promql::EngineOptions options = QueryOptions(sources);
  bool expired = false;
  if (auto bad = ApplyTimeout(request, options, expired)) {
    return *bad;
  }
  Result<promql::ExprPtr> expr = promql::ParseExpr(request.FormValue("query"));
  if (!expr.ok()) {
    return InvalidParam("query", ParseErrorText(expr.error()));
  }
  if (expired) {
    // Prometheus's context deadline has passed before the query leaves its queue.
    return ApiError(ApiErrorType::kTimeout, "query timed out in query queue");
  }
  if (sources->storage == nullptr) {
    return QueryResult("vector", nlohmann::json::array());
  }
  Result<promql::Value> value = promql::Engine(options).Instant(**expr, *sources->storage, *t);
  if (!value.ok()) {
    return EvalError(value.error());
  }
  return ValueResult(*value);
}

HttpServerResponse HandleQueryRange(const ApiSources* sources, const HttpServerRequest& request) {
  Result<int64_t> start = ParseApiTime(request.FormValue("start"));
  if (!start.ok()) {
    return InvalidParam("start", start.error().message());
  }
  Result<int64_t> end = ParseApiTime(request.FormValue("end"));
  if (!end.ok()) {
    return InvalidParam("end", end.error().message());
  }
  if (*end < *start) {
    return InvalidParam("end", "end timestamp must not be before start time");
  }
  Result<int64_t> step = ParseApiDuration(request.FormValue("step"));
  if (!step.ok()) {
    return InvalidParam("step", step.error().message());
  }
  if (*step <= 0) {
    return InvalidParam("step",
                        "zero or negative query resolution step widths are not accepted. Try a "
                        "positive integer");
  }
  if ((*end - *start) / *step > kMaxPoints) {
    return ApiError(ApiErrorType::kBadData,
                    "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing "
                    "the query resolution (?step=XX)");
  }
  promql::EngineOptions options = QueryOptions(sources);
  bool expired = false;
  if (auto bad = ApplyTimeout(request, options, expired)) {
    return *bad;
  }
  Result<promql::ExprPtr> expr = promql::ParseExpr(request.FormValue("query"));
  if (!expr.ok()) {
    return InvalidParam("query", ParseErrorText(expr.error()));
  }
  if (expired) {
    // Prometheus's context deadline has passed before the query leaves its queue.
    return ApiError(ApiErrorType::kTimeout, "query timed out in query queue");
  }
  if (sources->storage == nullptr) {
    return QueryResult("matrix", nlohmann::json::array());
  }
  Result<promql::Matrix> matrix =
      promql::Engine(options).Range(**expr, *sources->storage, *start, *end, *step);
  if (!matrix.ok()) {
    return EvalError(matrix.error());
  }
  return QueryResult("matrix", MatrixJson(*matrix));
}

constexpr char kEmptyMatchersError[] = "match[] must contain at least one non-empty matcher";

// Parses match[] values as Prometheus's parseMatchersParam does.
Result<std::vector<std::vector<LabelMatcher>>> ParseMatchers(
    const std::vector<std::string>& selectors) {
  std::vector<std::vector<LabelMatcher>> sets;
  for (const std::string& selector : selectors) {
    Result<promql::ExprPtr> expr = promql::ParseExpr(selector);
    // Prometheus's ParseMetricSelector skips the type check that raises this, and the API
    // reports the set of matchers instead.
    if (!expr.ok() &&
        expr.error().message() == "vector selector must contain at least one non-empty matcher") {
      return Error::Invalid(kEmptyMatchersError);
    }
    if (!expr.ok()) {
      return Error::Invalid(ParseErrorText(expr.error()));
    }
    const auto* vs = std::get_if<promql::VectorSelector>(&(*expr)->node);
    // NOTE: Prometheus's grammar rejects these with the token it stopped at, such as
    // `1:5: parse error: unexpected "("`, which this message does not reproduce.
    if (vs == nullptr || vs->offset_ms != 0 || vs->at) {
      return Error::Invalid("parse error: \"" + selector + "\" is not a series selector; use " +
                            "a metric name and label matchers such as up{job=\"api\"}");
    }
    sets.push_back(vs->matchers);
  }
  for (const auto& set : sets) {
    if (std::none_of(
            set.begin(), set.end(), [](const LabelMatcher& m) { return !m.MatchesEmpty(); })) {
      return Error::Invalid(kEmptyMatchersError);
    }
  }
  return sets;
}

// The series of the store in [start, end] that match any of the match[] sets. The label
// endpoints (`for_labels`) take every series when no match[] is given and, as in Prometheus,
// report match[] errors without the "invalid parameter" prefix.
Result<std::vector<Labels>> MatchingSeries(const ApiSources* sources,
                                           const HttpServerRequest& request,
                                           bool for_labels,
                                           std::optional<HttpServerResponse>& bad) {
  Result<int64_t> start = TimeParam(request, "start", kMinTimeMs);
  if (!start.ok()) {
    bad = InvalidParam("start", start.error().message());
    return Error::Invalid("");
  }
  Result<int64_t> end = TimeParam(request, "end", kMaxTimeMs);
  if (!end.ok()) {
    bad = InvalidParam("end", end.error().message());
    return Error::Invalid("");
  }
  std::vector<std::string> selectors = request.FormValues("match[]");
  Result<std::vector<std::vector<LabelMatcher>>> sets = ParseMatchers(selectors);
  if (!sets.ok()) {
    bad = for_labels ? ApiError(ApiErrorType::kBadData, sets.error().message())
                     : InvalidParam("match[]", sets.error().message());
    return Error::Invalid("");
  }
  if (sets->empty() && for_labels) {
    Result<LabelMatcher> any = LabelMatcher::Create(MatchType::kRegexMatch, "__name__", ".*");
    if (!any.ok()) {
      return any.error();
    }
    sets->push_back({*any});
  }
  std::set<Labels> found;
  if (sources->storage != nullptr) {
    // NOTE: Select copies the samples too; the store keeps only the rules' lookback window,
    // so this stays small.
    for (const auto& set : *sets) {
      for (Series& s : sources->storage->Select(set, *start, *end)) {
        found.insert(std::move(s.labels));
      }
    }
  }
  return std::vector<Labels>(found.begin(), found.end());
}

HttpServerResponse HandleSeries(const ApiSources* sources, const HttpServerRequest& request) {
  if (request.FormValues("match[]").empty()) {
    return ApiError(ApiErrorType::kBadData, "no match[] parameter provided");
  }
  std::optional<HttpServerResponse> bad;
  Result<std::vector<Labels>> series = MatchingSeries(sources, request, false, bad);
  if (bad) {
    return *bad;
  }
  if (!series.ok()) {
    return ApiError(ApiErrorType::kInternal, series.error().message());
  }
  nlohmann::json out = nlohmann::json::array();
  for (const Labels& labels : *series) {
    out.push_back(MetricJson(labels));
  }
  return ApiSuccess(out);
}

HttpServerResponse HandleLabels(const ApiSources* sources, const HttpServerRequest& request) {
  std::optional<HttpServerResponse> bad;
  Result<std::vector<Labels>> series = MatchingSeries(sources, request, true, bad);
  if (bad) {
    return *bad;
  }
  if (!series.ok()) {
    return ApiError(ApiErrorType::kInternal, series.error().message());
  }
  std::set<std::string> names;
  for (const Labels& labels : *series) {
    for (const Label& l : labels) {
      names.insert(l.name);
    }
  }
  return ApiSuccess(nlohmann::json(std::vector<std::string>(names.begin(), names.end())));
}

bool IsLabelName(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) {
      return false;
    }
  }
  return true;
}

HttpServerResponse HandleLabelValues(const ApiSources* sources, const HttpServerRequest& request) {
  constexpr std::string_view kPrefix = "/api/v1/label/";
  constexpr std::string_view kSuffix = "/values";
  std::string_view path = request.path;
  if (!path.starts_with(kPrefix) || !path.ends_with(kSuffix) ||
      path.size() < kPrefix.size() + kSuffix.size()) {
    HttpServerResponse not_found;
    not_found.status = 404;
    not_found.body = "404 page not found\n";
    return not_found;
  }
  std::string name(path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size()));
  if (!IsLabelName(name)) {
    return ApiError(ApiErrorType::kBadData, "invalid label name: \"" + name + "\"");
  }
  std::optional<HttpServerResponse> bad;
  Result<std::vector<Labels>> series = MatchingSeries(sources, request, true, bad);
  if (bad) {
    return *bad;
  }
  if (!series.ok()) {
    return ApiError(ApiErrorType::kInternal, series.error().message());
  }
  std::set<std::string> values;
  for (const Labels& labels : *series) {
    for (const Label& l : labels) {
      if (l.name == name) {
        values.insert(l.value);
      }
    }
  }
  return ApiSuccess(nlohmann::json(std::vector<std::string>(values.begin(), values.end())));
}

}  // namespace

Result<int64_t> ParseApiTime(std::string_view text) {
  const std::string s(text);
  const Error error = Error::Invalid("cannot parse \"" + s + "\" to a valid timestamp");
  if (!s.empty()) {
    char* end = nullptr;
    const double seconds = std::strtod(s.c_str(), &end);
    if (end == s.c_str() + s.size() && std::isfinite(seconds) && !IsHex(s)) {
      double whole;
      double fraction = std::modf(seconds, &whole);
      fraction = std::round(fraction * 1000) / 1000;
      if (std::fabs(whole) > 9.2e15) {
        return error;
      }
      return static_cast<int64_t>(whole) * 1000 + static_cast<int64_t>(std::round(fraction * 1000));
    }
  }
  if (std::optional<int64_t> ms = ParseRfc3339(s)) {
    return *ms;
  }
  if (s == kMinTimeFormatted) {
    return kMinTimeMs;
  }
  if (s == kMaxTimeFormatted) {
    return kMaxTimeMs;
  }
  return error;
}

Result<int64_t> ParseApiDuration(std::string_view text) {
  const std::string s(text);
  if (!s.empty()) {
    char* end = nullptr;
    const double seconds = std::strtod(s.c_str(), &end);
    if (end == s.c_str() + s.size() && !std::isnan(seconds) && !IsHex(s)) {
      const double ms = seconds * 1000;
      if (ms > 9.2e15 || ms < -9.2e15) {
        return Error::Invalid("cannot parse \"" + s + "\" to a valid duration. It overflows int64");
      }
      return static_cast<int64_t>(ms);
    }
    if (Result<Duration> d = ParseDuration(s); d.ok()) {
      return d->count();
    }
  }
  return Error::Invalid("cannot parse \"" + s + "\" to a valid duration");
}

void RegisterQueryApi(HttpServer& server, const ApiSources* sources) {
  for (const char* method : {"GET", "POST"}) {
    server.Handle(method, "/api/v1/query", [sources](const HttpServerRequest& request) {
      return HandleQuery(sources, request);
    });
    server.Handle(method, "/api/v1/query_range", [sources](const HttpServerRequest& request) {
      return HandleQueryRange(sources, request);
    });
    server.Handle(method, "/api/v1/series", [sources](const HttpServerRequest& request) {
      return HandleSeries(sources, request);
    });
    server.Handle(method, "/api/v1/labels", [sources](const HttpServerRequest& request) {
      return HandleLabels(sources, request);
    });
  }
  server.HandlePrefix("GET", "/api/v1/label/", [sources](const HttpServerRequest& request) {
    return HandleLabelValues(sources, request);
  });
}

}  // namespace alertd
