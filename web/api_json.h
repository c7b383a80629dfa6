// Building blocks for JSON APIs compatible with Prometheus's /api/v1 (2.42) and
// Alertmanager's /api/v2 (0.25): response envelopes, time stamps and sample values formatted
// the way those servers format them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "web/http_server.h"

namespace alertd {

// Prometheus API error types and the HTTP status Prometheus sends with each.
enum class ApiErrorType {
  kBadData,      // "bad_data", 400
  kExecution,    // "execution", 422
  kCanceled,     // "canceled", 503
  kTimeout,      // "timeout", 503
  kInternal,     // "internal", 500
  kUnavailable,  // "unavailable", 500 (Prometheus has no special case for it)
  kNotFound,     // "not_found", 404
};

std::string_view ApiErrorTypeName(ApiErrorType type);
int ApiErrorHttpStatus(ApiErrorType type);

// Returns {"status":"success","data":<data>} with "warnings" appended when there are any,
// serialized with Prometheus's key order. Invalid UTF-8 in strings is replaced by U+FFFD.
std::string ApiSuccessBody(const nlohmann::json& data,
                           const std::vector<std::string>& warnings = {});

// Returns {"status":"error","errorType":...,"error":...}, with "data" after "status" when
// `data` is not null, as Prometheus does.
std::string ApiErrorBody(ApiErrorType type,
                         std::string_view message,
                         const nlohmann::json& data = nullptr);

// The envelopes above as HTTP responses with Content-Type application/json.
HttpServerResponse ApiSuccess(const nlohmann::json& data,
                              const std::vector<std::string>& warnings = {});
HttpServerResponse ApiError(ApiErrorType type,
                            std::string_view message,
                            const nlohmann::json& data = nullptr);

// Serializes `value` compactly without throwing: invalid UTF-8 becomes U+FFFD.
std::string DumpJson(const nlohmann::json& value);

// Formats a time as RFC 3339 in UTC with exactly three fraction digits, e.g.
// "2026-12-04T15:38:11.120Z", as Alertmanager's API v2 (go-openapi strfmt.DateTime) does.
// Sub-millisecond digits are truncated.
std::string FormatRfc3339Millis(TimePoint time);

// Formats a time as Go's time.RFC3339Nano in UTC, e.g. "2026-12-04T15:38:11.12Z": up to nine
// fraction digits with trailing zeros removed, and no fraction at all for whole seconds. This
// is how Prometheus's API v1 encodes activeAt and lastEvaluation.
std::string FormatRfc3339Nano(TimePoint time);

// Formats a sample value as Prometheus's API does, strconv.FormatFloat(v, 'f', -1, 64):
// "1", "0.25", "0.0000001", "1000000000000000000000", "NaN", "+Inf", "-Inf".
std::string FormatSampleValue(double value);

// Formats an alert's value as Prometheus's /api/v1/alerts and /api/v1/rules do,
// strconv.FormatFloat(v, 'e', -1, 64): "1e+00", "2.5e-01", "+Inf".
std::string FormatAlertValue(double value);

// Formats a millisecond timestamp in seconds the way Prometheus writes vector and matrix
// points: the integer seconds, then ".mmm" with three digits unless the milliseconds are 0,
// e.g. "1500000000", "1500000000.050", "-1.500".
std::string FormatTimestampSeconds(int64_t millis);

// A millisecond timestamp as a JSON number of seconds: an integer for whole seconds, else a
// double such as 1500000000.05. nlohmann::json writes the double with the shortest round-trip
// digits, so it reads the same as Prometheus's scalar timestamps; Prometheus's vector points
// pad the fraction to three digits ("1500000000.050"), which parses to the same number.
nlohmann::json TimestampSecondsJson(int64_t millis);

// A sample as Prometheus encodes it in query results: [<seconds>, "<value>"].
nlohmann::json SamplePairJson(int64_t millis, double value);

}  // namespace alertd
