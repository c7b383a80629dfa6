#include "engine/remote_query_source.h"

#include <cmath>
#include <cstdlib>

#include <nlohmann/json.hpp>

namespace alertd {
namespace {

using Json = nlohmann::json;

// Parses a sample value as the API writes it: a string, "NaN", "+Inf" or "-Inf" included.
Result<double> ParseSampleValue(const Json& value) {
  if (!value.is_string()) {
    return Error::Unavailable("invalid query response: a sample value is not a string");
  }
  const std::string& text = value.get_ref<const std::string&>();
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) {
    return Error::Unavailable("invalid query response: sample value \"" + text +
                              "\" is not a number");
  }
  return v;
}

// Parses a [<unix seconds>, "<value>"] pair into milliseconds and a value.
Result<std::pair<int64_t, double>> ParsePoint(const Json& point) {
  if (!point.is_array() || point.size() != 2 || !point[0].is_number()) {
    return Error::Unavailable("invalid query response: a sample is not a [timestamp, value] pair");
  }
  auto v = ParseSampleValue(point[1]);
  if (!v.ok()) {
    return v.error();
  }
  auto ms = static_cast<int64_t>(std::llround(point[0].get<double>() * 1000));
  return std::pair<int64_t, double>(ms, *v);
}

Result<Labels> ParseMetric(const Json& metric) {
  if (!metric.is_object()) {
    return Error::Unavailable("invalid query response: a series' metric is not an object");
  }
  std::vector<Label> labels;
  for (const auto& [name, value] : metric.items()) {
    if (!value.is_string()) {
      return Error::Unavailable("invalid query response: label \"" + name +
                                "\" has a value that is not a string");
    }
    labels.push_back(Label{name, value.get<std::string>()});
  }
  return Labels(std::move(labels));
}

Result<promql::Value> ParseVector(const Json& result) {
  if (!result.is_array()) {
    return Error::Unavailable("invalid query response: a vector result is not a list");
  }
  promql::Vector vector;
  vector.reserve(result.size());
  for (const Json& item : result) {
    if (!item.is_object() || !item.contains("metric") || !item.contains("value")) {
      return Error::Unavailable(
          "invalid query response: a vector sample has no metric or no value");
    }
    auto labels = ParseMetric(item["metric"]);
    if (!labels.ok()) {
      return labels.error();
    }
    auto point = ParsePoint(item["value"]);
    if (!point.ok()) {
      return point.error();
    }
    vector.push_back(promql::VectorSample{std::move(*labels), point->first, point->second});
  }
  return promql::Value(std::move(vector));
}

Result<promql::Value> ParseMatrix(const Json& result) {
  if (!result.is_array()) {
    return Error::Unavailable("invalid query response: a matrix result is not a list");
  }
  promql::Matrix matrix;
  for (const Json& item : result) {
    if (!item.is_object() || !item.contains("metric") || !item.contains("values") ||
        !item["values"].is_array()) {
      return Error::Unavailable(
          "invalid query response: a matrix series has no metric or no values");
    }
    auto labels = ParseMetric(item["metric"]);
    if (!labels.ok()) {
      return labels.error();
    }
    promql::MatrixSeries series{std::move(*labels), {}};
    for (const Json& point_json : item["values"]) {
      auto point = ParsePoint(point_json);
      if (!point.ok()) {
        return point.error();
      }
      series.points.push_back(Sample{point->first, point->second});
    }
    matrix.push_back(std::move(series));
  }
  return promql::Value(std::move(matrix));
}

Result<promql::Value> ParseData(const Json& data) {
  if (!data.is_object() || !data.contains("resultType") || !data["resultType"].is_string() ||
      !data.contains("result")) {
    return Error::Unavailable("invalid query response: data has no resultType or no result");
  }
  const std::string type = data["resultType"].get<std::string>();
  const Json& result = data["result"];
  if (type == "vector") {
    return ParseVector(result);
  }
  if (type == "scalar") {
    auto point = ParsePoint(result);
    if (!point.ok()) {
      return point.error();
    }
    return promql::Value(promql::Scalar{point->first, point->second});
  }
  if (type == "matrix") {
    return ParseMatrix(result);
  }
  if (type == "string") {
    if (!result.is_array() || result.size() != 2 || !result[0].is_number() ||
        !result[1].is_string()) {
      return Error::Unavailable("invalid query response: a string result is not a pair");
    }
    auto ms = static_cast<int64_t>(std::llround(result[0].get<double>() * 1000));
    return promql::Value(promql::String{ms, result[1].get<std::string>()});
  }
  return Error::Unavailable("invalid query response: unknown resultType \"" + type + "\"");
}

}  // namespace

std::string FormEncode(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string FormatUnixSeconds(TimePoint t) {
  int64_t ms = ToMillis(t);
  int64_t seconds = ms / 1000;
  int64_t millis = ms % 1000;
  if (millis < 0) {
    millis += 1000;
    seconds -= 1;
  }
  std::string fraction = std::to_string(millis);
  fraction.insert(0, 3 - fraction.size(), '0');
  return std::to_string(seconds) + "." + fraction;
}

Result<promql::Value> ParseQueryResponse(int status, const std::string& body) {
  Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object() || !json.contains("status") ||
      !json["status"].is_string()) {
    std::string message = "query API returned HTTP status " + std::to_string(status);
    if (status >= 200 && status < 300) {
      message = "invalid query response: the body is not a Prometheus API response";
    }
    return Error::Unavailable(message);
  }
  if (json["status"] == "success") {
    if (!json.contains("data")) {
      return Error::Unavailable("invalid query response: status success without data");
    }
    return ParseData(json["data"]);
  }
  std::string type = json.value("errorType", "");
  std::string error = json.value("error", "");
  std::string message = "query failed";
  if (!type.empty()) {
    message += " (" + type + ")";
  }
  message += ": " + (error.empty() ? "HTTP status " + std::to_string(status) : error);
  // The API's error types: bad_data is a query the server rejects; timeout, canceled,
  // execution and unavailable may pass on their own, as may any 5xx.
  if (type == "timeout") {
    return Error::Timeout(message);
  }
  if (type == "bad_data" && status < 500) {
    return Error::Invalid(message);
  }
  return Error::Unavailable(message);
}

RemoteQuerySource::RemoteQuerySource(RemoteQueryOptions options, std::shared_ptr<HttpClient> http)
    : options_(std::move(options)), http_(std::move(http)) {
  std::string base = options_.endpoint.url;
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  query_url_ = base + "/api/v1/query";
  char separator = '?';
  for (const auto& [name, value] : options_.query_params) {
    query_url_ += separator + FormEncode(name) + "=" + FormEncode(value);
    separator = '&';
  }
}

Result<promql::Value> RemoteQuerySource::Query(const std::string& expr, TimePoint t) {
  HttpRequest request;
  request.method = "POST";
  request.url = query_url_;
  request.timeout = options_.endpoint.timeout;
  request.tls = options_.endpoint.tls;
  request.headers = options_.endpoint.headers;
  request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  request.headers.emplace_back("Accept", "application/json");
  request.body = "query=" + FormEncode(expr) + "&time=" + FormatUnixSeconds(t);
  auto response = http_->Do(request);
  if (!response.ok()) {
    return response.error().WithContext("query API request failed");
  }
  return ParseQueryResponse(response->status, response->body);
}

}  // namespace alertd
