#include "web/api_json.h"

#include <chrono>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "web/float_format.h"

namespace alertd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// 2026-12-04T15:38:11Z as Unix seconds.
constexpr int64_t kSeconds = 1796398691;

TimePoint At(int64_t seconds, int64_t nanos) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::seconds(seconds) + std::chrono::nanoseconds(nanos)));
}

TEST(ApiJson, SuccessEnvelopeUsesPrometheusKeyOrder) {
  nlohmann::json data = {{"alerts", nlohmann::json::array()}};

  EXPECT_EQ(ApiSuccessBody(data), R"({"status":"success","data":{"alerts":[]}})");
}

TEST(ApiJson, SuccessEnvelopeCarriesWarnings) {
  EXPECT_EQ(ApiSuccessBody(nlohmann::json::array(), {"partial result"}),
            R"({"status":"success","data":[],"warnings":["partial result"]})");
}

TEST(ApiJson, SuccessEnvelopeOmitsNullData) {
  EXPECT_EQ(ApiSuccessBody(nullptr), R"({"status":"success"})");
}

TEST(ApiJson, ErrorEnvelopeMatchesPrometheus) {
  // The body Prometheus 2.42 sends for /api/v1/query?query=foo( .
  EXPECT_EQ(ApiErrorBody(ApiErrorType::kBadData,
                         "invalid parameter \"query\": 1:5: parse error: unclosed left "
                         "parenthesis"),
            R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": )"
            R"(1:5: parse error: unclosed left parenthesis"})");
}

TEST(ApiJson, ErrorEnvelopePutsDataAfterStatus) {
  EXPECT_EQ(ApiErrorBody(ApiErrorType::kExecution, "failed", {{"resultType", "vector"}}),
            R"({"status":"error","data":{"resultType":"vector"},"errorType":"execution",)"
            R"("error":"failed"})");
}

TEST(ApiJson, ErrorTypesMapToNamesAndStatuses) {
  struct Case {
    ApiErrorType type;
    std::string name;
    int status;
  };

  const std::vector<Case> cases = {
      {ApiErrorType::kBadData, "bad_data", 400},
      {ApiErrorType::kExecution, "execution", 422},
      {ApiErrorType::kCanceled, "canceled", 503},
      {ApiErrorType::kTimeout, "timeout", 503},
      {ApiErrorType::kInternal, "internal", 500},
      {ApiErrorType::kUnavailable, "unavailable", 500},
      {ApiErrorType::kNotFound, "not_found", 404},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ApiErrorTypeName(c.type), c.name);
    EXPECT_EQ(ApiErrorHttpStatus(c.type), c.status) << c.name;
    HttpServerResponse response = ApiError(c.type, "message");
    EXPECT_EQ(response.status, c.status) << c.name;
    EXPECT_EQ(response.content_type, "application/json") << c.name;
    EXPECT_EQ(response.body,
              R"({"status":"error","errorType":")" + c.name + R"(","error":"message"})");
  }
}

TEST(ApiJson, SuccessResponseIsJson) {
  HttpServerResponse response = ApiSuccess({{"groups", nlohmann::json::array()}});

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body, R"({"status":"success","data":{"groups":[]}})");
}

TEST(ApiJson, InvalidUtf8IsReplacedInsteadOfThrowing) {
  nlohmann::json data = {{"label", std::string("bad \xff byte")}};

  EXPECT_EQ(ApiSuccessBody(data),
            "{\"status\":\"success\",\"data\":{\"label\":\"bad \xef\xbf\xbd byte\"}}");
  EXPECT_EQ(DumpJson(std::string("\xc3")), "\"\xef\xbf\xbd\"");
}

TEST(ApiJson, SampleValuesMatchPrometheus) {
  struct Case {
    double value;
    std::string text;
  };

  // Each text is what Prometheus 2.42 returned for the value as a scalar query result.
  const std::vector<Case> cases = {
      {1, "1"},
      {-0.25, "-0.25"},
      {123456789.125, "123456789.125"},
      {1500000000.6, "1500000000.6"},
      {0.1 + 0.2, "0.30000000000000004"},
      {1e-7, "0.0000001"},
      {1e-30, "0.000000000000000000000000000001"},
      {1e21, "1000000000000000000000"},
      {1e22, "10000000000000000000000"},
      {1e23, "100000000000000000000000"},
      {1.5e300, "15" + std::string(299, '0')},
      {-0.0, "-0"},
      {kInf, "+Inf"},
      {-kInf, "-Inf"},
      {kNaN, "NaN"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(FormatSampleValue(c.value), c.text) << c.text;
  }
}

TEST(ApiJson, AlertValuesUseExponentForm) {
  // Prometheus 2.42 lists a firing alert of vector(1) with "value":"1e+00".
  EXPECT_EQ(FormatAlertValue(1), "1e+00");
  EXPECT_EQ(FormatAlertValue(0), "0e+00");
  EXPECT_EQ(FormatAlertValue(0.25), "2.5e-01");
  EXPECT_EQ(FormatAlertValue(1234.5), "1.2345e+03");
  EXPECT_EQ(FormatAlertValue(-1e100), "-1e+100");
  EXPECT_EQ(FormatAlertValue(5e-324), "5e-324");
  EXPECT_EQ(FormatAlertValue(kInf), "+Inf");
  EXPECT_EQ(FormatAlertValue(kNaN), "NaN");
}

TEST(ApiJson, TimestampSecondsMatchPrometheusPoints) {
  // Prometheus 2.42 writes vector points at time=1500000000.5 as [1500000000.500,"1"].
  EXPECT_EQ(FormatTimestampSeconds(1500000000500), "1500000000.500");
  EXPECT_EQ(FormatTimestampSeconds(1500000000050), "1500000000.050");
  EXPECT_EQ(FormatTimestampSeconds(1500000000001), "1500000000.001");
  EXPECT_EQ(FormatTimestampSeconds(1500000000000), "1500000000");
  EXPECT_EQ(FormatTimestampSeconds(0), "0");
  EXPECT_EQ(FormatTimestampSeconds(-1500), "-1.500");
  EXPECT_EQ(FormatTimestampSeconds(-1), "-0.001");
  EXPECT_EQ(FormatTimestampSeconds(std::numeric_limits<int64_t>::min()), "-9223372036854775.808");
}

TEST(ApiJson, TimestampJsonIsShortestNumber) {
  EXPECT_EQ(DumpJson(TimestampSecondsJson(1500000000000)), "1500000000");
  EXPECT_EQ(DumpJson(TimestampSecondsJson(1500000000500)), "1500000000.5");
  EXPECT_EQ(DumpJson(TimestampSecondsJson(1435781451781)), "1435781451.781");
  EXPECT_EQ(DumpJson(TimestampSecondsJson(-1500)), "-1.5");
}

TEST(ApiJson, SamplePairHoldsSecondsAndValueString) {
  EXPECT_EQ(DumpJson(SamplePairJson(1500000000500, 1)), R"([1500000000.5,"1"])");
  EXPECT_EQ(DumpJson(SamplePairJson(1500000000000, kNaN)), R"([1500000000,"NaN"])");
}

TEST(ApiJson, Rfc3339MillisAlwaysHasThreeDigits) {
  EXPECT_EQ(FormatRfc3339Millis(At(kSeconds, 123000000)), "2026-12-04T15:38:11.123Z");
  EXPECT_EQ(FormatRfc3339Millis(At(kSeconds, 120000000)), "2026-12-04T15:38:11.120Z");
  EXPECT_EQ(FormatRfc3339Millis(At(kSeconds, 0)), "2026-12-04T15:38:11.000Z");
  EXPECT_EQ(FormatRfc3339Millis(At(kSeconds, 123999999)), "2026-12-04T15:38:11.123Z");
  EXPECT_EQ(FormatRfc3339Millis(FromMillis(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Millis(FromMillis(-1)), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatRfc3339Millis(FromMillis(951782400000)), "2000-02-29T00:00:00.000Z");
}

TEST(ApiJson, Rfc3339NanoTrimsTrailingZeros) {
  // Prometheus 2.42 reported an alert's activeAt as "2026-12-04T15:48:50.73091461Z".
  EXPECT_EQ(FormatRfc3339Nano(At(1796399330, 730914610)), "2026-12-04T15:48:50.73091461Z");
  EXPECT_EQ(FormatRfc3339Nano(At(kSeconds, 120000000)), "2026-12-04T15:38:11.12Z");
  EXPECT_EQ(FormatRfc3339Nano(At(kSeconds, 0)), "2026-12-04T15:38:11Z");
  EXPECT_EQ(FormatRfc3339Nano(At(kSeconds, 1)), "2026-12-04T15:38:11.000000001Z");
  EXPECT_EQ(FormatRfc3339Nano(FromMillis(-1)), "1969-12-31T23:59:59.999Z");
}

TEST(GoFloat, FormatsMatchStrconv) {
  struct Case {
    double value;
    char format;
    std::string text;
  };

  const std::vector<Case> cases = {
      {999999, 'g', "999999"},
      {1234567, 'g', "1.234567e+06"},
      {1234567, 'f', "1234567"},
      {1234567, 'e', "1.234567e+06"},
      {0.0001, 'g', "0.0001"},
      {0.00001, 'g', "1e-05"},
      {0.00001, 'f', "0.00001"},
      {608863452348.1149, 'g', "6.088634523481149e+11"},
      {608863452348.1149, 'f', "608863452348.1149"},
      {100, 'e', "1e+02"},
      {0, 'f', "0"},
      {0, 'g', "0"},
      {-0.0, 'e', "-0e+00"},
      {1.7976931348623157e308, 'g', "1.7976931348623157e+308"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(FormatGoFloat(c.value, c.format), c.text) << c.text << " " << c.format;
  }
}

}  // namespace
}  // namespace alertd
