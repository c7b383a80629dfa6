#include "web/api_json.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "web/float_format.h"

namespace alertd {
namespace {

// Splits a time into its UTC calendar fields and the nanoseconds within the second.
struct UtcFields {
  int year;
  unsigned month;
  unsigned day;
  int64_t hours;
  int64_t minutes;
  int64_t seconds;
  int64_t nanos;
};

UtcFields SplitUtc(TimePoint time) {
  using std::chrono::floor;
  auto days = floor<std::chrono::days>(time);
  std::chrono::year_month_day date{std::chrono::sys_days(days)};
  auto since_midnight = std::chrono::duration_cast<std::chrono::nanoseconds>(time - days);
  int64_t total_nanos = since_midnight.count();
  int64_t total_seconds = total_nanos / 1000000000;
  return UtcFields{static_cast<int>(date.year()),
                   static_cast<unsigned>(date.month()),
                   static_cast<unsigned>(date.day()),
                   total_seconds / 3600,
                   total_seconds / 60 % 60,
                   total_seconds % 60,
                   total_nanos % 1000000000};
}

std::string FormatDateTime(const UtcFields& fields) {
  char buffer[64];
  std::snprintf(buffer,
                sizeof(buffer),
                "%04d-%02u-%02uT%02lld:%02lld:%02lld",
                fields.year,
                fields.month,
                fields.day,
                static_cast<long long>(fields.hours),
                static_cast<long long>(fields.minutes),
                static_cast<long long>(fields.seconds));
  return buffer;
}

}  // namespace

std::string_view ApiErrorTypeName(ApiErrorType type) {
  switch (type) {
    case ApiErrorType::kBadData:
      return "bad_data";
    case ApiErrorType::kExecution:
      return "execution";
    case ApiErrorType::kCanceled:
      return "canceled";
    case ApiErrorType::kTimeout:
      return "timeout";
    case ApiErrorType::kInternal:
      return "internal";
    case ApiErrorType::kUnavailable:
      return "unavailable";
    case ApiErrorType::kNotFound:
      return "not_found";
  }
  return "internal";
}

int ApiErrorHttpStatus(ApiErrorType type) {
  switch (type) {
    case ApiErrorType::kBadData:
      return 400;
    case ApiErrorType::kExecution:
      return 422;
    // NOTE: Prometheus 2.42 returns 503 for canceled queries, and newer releases return 499.
    case ApiErrorType::kCanceled:
    case ApiErrorType::kTimeout:
      return 503;
    case ApiErrorType::kNotFound:
      return 404;
    case ApiErrorType::kInternal:
    case ApiErrorType::kUnavailable:
      return 500;
  }
  return 500;
}

std::string DumpJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string ApiSuccessBody(const nlohmann::json& data, const std::vector<std::string>& warnings) {
  std::string body = R"({"status":"success")";
  if (!data.is_null()) {
    body += R"(,"data":)" + DumpJson(data);
  }
  if (!warnings.empty()) {
    body += R"(,"warnings":)" + DumpJson(warnings);
  }
  body += "}";
  return body;
}

std::string ApiErrorBody(ApiErrorType type, std::string_view message, const nlohmann::json& data) {
  std::string body = R"({"status":"error")";
  if (!data.is_null()) {
    body += R"(,"data":)" + DumpJson(data);
  }
  body += R"(,"errorType":)" + DumpJson(std::string(ApiErrorTypeName(type)));
  body += R"(,"error":)" + DumpJson(std::string(message));
  body += "}";
  return body;
}

HttpServerResponse ApiSuccess(const nlohmann::json& data,
                              const std::vector<std::string>& warnings) {
  return HttpServerResponse::Json(200, ApiSuccessBody(data, warnings));
}

HttpServerResponse ApiError(ApiErrorType type,
                            std::string_view message,
                            const nlohmann::json& data) {
  return HttpServerResponse::Json(ApiErrorHttpStatus(type), ApiErrorBody(type, message, data));
}

std::string FormatRfc3339Millis(TimePoint time) {
  UtcFields fields = SplitUtc(time);
  char fraction[24];
  std::snprintf(
      fraction, sizeof(fraction), ".%03lld", static_cast<long long>(fields.nanos / 1000000));
  return FormatDateTime(fields) + fraction + "Z";
}

std::string FormatRfc3339Nano(TimePoint time) {
  UtcFields fields = SplitUtc(time);
  std::string out = FormatDateTime(fields);
  if (fields.nanos != 0) {
    char fraction[16];
    std::snprintf(fraction, sizeof(fraction), ".%09lld", static_cast<long long>(fields.nanos));
    std::string text = fraction;
    text.erase(text.find_last_not_of('0') + 1);
    out += text;
  }
  return out + "Z";
}

std::string FormatSampleValue(double value) {
  return FormatGoFloat(value, 'f');
}

std::string FormatAlertValue(double value) {
  return FormatGoFloat(value, 'e');
}

std::string FormatTimestampSeconds(int64_t millis) {
  std::string out;
  // Negating INT64_MIN overflows, so the magnitude is computed in unsigned arithmetic.
  uint64_t magnitude = static_cast<uint64_t>(millis);
  if (millis < 0) {
    out.push_back('-');
    magnitude = ~magnitude + 1;
  }
  out += std::to_string(magnitude / 1000);
  uint64_t fraction = magnitude % 1000;
  if (fraction != 0) {
    char digits[24];
    std::snprintf(digits, sizeof(digits), ".%03llu", static_cast<unsigned long long>(fraction));
    out += digits;
  }
  return out;
}

nlohmann::json TimestampSecondsJson(int64_t millis) {
  if (millis % 1000 == 0) {
    return millis / 1000;
  }
  return static_cast<double>(millis) / 1000.0;
}

nlohmann::json SamplePairJson(int64_t millis, double value) {
  return nlohmann::json::array({TimestampSecondsJson(millis), FormatSampleValue(value)});
}

}  // namespace alertd
