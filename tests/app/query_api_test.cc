// /api/v1/query, query_range, series, labels and label values through a real HttpServer on
// 127.0.0.1 over a MemorySampleStore.
#include "app/query_api.h"

#include <cctype>
#include <memory>
#include <mutex>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/http_client.h"
#include "storage/memory_sample_store.h"
#include "web/http_server.h"

namespace alertd {
namespace {

constexpr int64_t kNowMs = 1'700'000'000'000;

// Percent-encodes a query parameter value.
std::string Encode(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

class QueryApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_.Set(FromMillis(kNowMs));
    // Two series scraped every 15s over the last 5 minutes.
    for (int64_t t = kNowMs - 300'000; t <= kNowMs; t += 15'000) {
      const double n = static_cast<double>(t - (kNowMs - 300'000)) / 15'000;
      store_.Append(Labels{{"__name__", "up"}, {"instance", "a:9100"}, {"job", "node"}}, t, 1);
      store_.Append(
          Labels{{"__name__", "http_requests_total"}, {"code", "200"}, {"job", "api"}}, t, n * 10);
    }
    sources_.clock = &clock_;
    sources_.storage = &store_;
    Result<std::unique_ptr<HttpServer>> server = HttpServer::Create("127.0.0.1:0");
    ASSERT_TRUE(server.ok()) << server.error().message();
    server_ = std::move(*server);
    RegisterQueryApi(*server_, &sources_);
    ASSERT_TRUE(server_->Start().ok());
    client_ = MakeCurlHttpClient();
  }

  void TearDown() override {
    if (server_) {
      server_->Stop();
    }
  }

  HttpResponse Get(const std::string& target) {
    HttpRequest request;
    request.url = "http://127.0.0.1:" + std::to_string(server_->port()) + target;
    Result<HttpResponse> response = client_->Do(request);
    EXPECT_TRUE(response.ok()) << (response.ok() ? "" : response.error().message());
    return response.ok() ? *response : HttpResponse{};
  }

  HttpResponse Post(const std::string& path, const std::string& form) {
    HttpRequest request;
    request.method = "POST";
    request.url = "http://127.0.0.1:" + std::to_string(server_->port()) + path;
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    request.body = form;
    Result<HttpResponse> response = client_->Do(request);
    EXPECT_TRUE(response.ok()) << (response.ok() ? "" : response.error().message());
    return response.ok() ? *response : HttpResponse{};
  }

  // Expects an error response with `status`, `type` and `message`.
  void ExpectError(const HttpResponse& r,
                   int status,
                   const std::string& type,
                   const std::string& message) {
    EXPECT_EQ(r.status, status) << r.body;
    nlohmann::json want = {{"status", "error"}, {"errorType", type}, {"error", message}};
    EXPECT_EQ(nlohmann::json::parse(r.body, nullptr, false), want) << r.body;
  }

  FakeClock clock_;
  MemorySampleStore store_;
  ApiSources sources_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(QueryApiTest, InstantVectorQuery) {
  HttpResponse r = Get("/api/v1/query?query=" + Encode("sum by (job) (http_requests_total)") +
                       "&time=1700000000");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body,
            R"({"status":"success","data":{"resultType":"vector","result":[)"
            R"({"metric":{"job":"api"},"value":[1700000000,"200"]}]}})");
}

TEST_F(QueryApiTest, InstantQueryDefaultsToNowAndAcceptsPost) {
  HttpResponse r = Post("/api/v1/query", "query=" + Encode("up{job=\"node\"}"));
  ASSERT_EQ(r.status, 200) << r.body;
  nlohmann::json body = nlohmann::json::parse(r.body);
  ASSERT_EQ(body["data"]["result"].size(), 1u);
  EXPECT_EQ(body["data"]["result"][0]["metric"],
            nlohmann::json({{"__name__", "up"}, {"instance", "a:9100"}, {"job", "node"}}));
  EXPECT_EQ(body["data"]["result"][0]["value"], nlohmann::json::parse(R"([1700000000,"1"])"));
}

TEST_F(QueryApiTest, ScalarStringAndMatrixResults) {
  EXPECT_EQ(
      Get("/api/v1/query?query=1.5&time=1700000000.25").body,
      R"({"status":"success","data":{"resultType":"scalar","result":[1700000000.25,"1.5"]}})");
  EXPECT_EQ(Get("/api/v1/query?query=%22hi%22&time=2023-11-14T22:13:20Z").body,
            R"({"status":"success","data":{"resultType":"string","result":[1700000000,"hi"]}})");
  HttpResponse r = Get("/api/v1/query?query=" + Encode("up[20s]") + "&time=1700000000");
  EXPECT_EQ(r.body,
            R"({"status":"success","data":{"resultType":"matrix","result":[)"
            R"({"metric":{"__name__":"up","instance":"a:9100","job":"node"},)"
            R"("values":[[1699999985,"1"],[1700000000,"1"]]}]}})");
}

TEST_F(QueryApiTest, RangeQuery) {
  HttpResponse r = Get("/api/v1/query_range?query=" + Encode("http_requests_total") +
                       "&start=1699999970&end=1700000000&step=15s");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body,
            R"({"status":"success","data":{"resultType":"matrix","result":[)"
            R"({"metric":{"__name__":"http_requests_total","code":"200","job":"api"},)"
            R"("values":[[1699999970,"180"],[1699999985,"190"],[1700000000,"200"]]}]}})");
  HttpResponse scalar =
      Post("/api/v1/query_range", "query=2&start=1700000000&end=1700000010.5&step=10");
  EXPECT_EQ(scalar.body,
            R"({"status":"success","data":{"resultType":"matrix","result":[)"
            R"({"metric":{},"values":[[1700000000,"2"],[1700000010,"2"]]}]}})");
}

TEST_F(QueryApiTest, BadParametersAreBadData) {
  struct Case {
    std::string target;
    std::string message;
  };

  const std::vector<Case> cases = {
      {"/api/v1/query?query=up&time=yesterday",
       "invalid parameter \"time\": Invalid time value for 'time': cannot parse \"yesterday\" "
       "to a valid timestamp"},
      {"/api/v1/query?query=1&time=0x10",
       "invalid parameter \"time\": Invalid time value for 'time': cannot parse \"0x10\" to a "
       "valid timestamp"},
      {"/api/v1/query?query=",
       "invalid parameter \"query\": 1:1: parse error: no expression found in input"},
      {"/api/v1/series?match[]=up&start=x",
       "invalid parameter \"start\": Invalid time value for 'start': cannot parse \"x\" to a "
       "valid timestamp"},
      {"/api/v1/labels?end=x",
       "invalid parameter \"end\": Invalid time value for 'end': cannot parse \"x\" to a "
       "valid timestamp"},
      {"/api/v1/labels?match[]=%7B%7D", "match[] must contain at least one non-empty matcher"},
      {"/api/v1/label/job/values?match[]=%7B%7D",
       "match[] must contain at least one non-empty matcher"},
      {"/api/v1/query?query=up&timeout=soon",
       "invalid parameter \"timeout\": cannot parse \"soon\" to a valid duration"},
      {"/api/v1/query?query=" + Encode("sum(up"),
       "invalid parameter \"query\": 1:7: parse error: unclosed left parenthesis"},
      {"/api/v1/query_range?query=up&end=1&step=1",
       "invalid parameter \"start\": cannot parse \"\" to a valid timestamp"},
      {"/api/v1/query_range?query=up&start=10&end=5&step=1",
       "invalid parameter \"end\": end timestamp must not be before start time"},
      {"/api/v1/query_range?query=up&start=0&end=5&step=x",
       "invalid parameter \"step\": cannot parse \"x\" to a valid duration"},
      {"/api/v1/query_range?query=up&start=0&end=5&step=0",
       "invalid parameter \"step\": zero or negative query resolution step widths are not "
       "accepted. Try a positive integer"},
      {"/api/v1/query_range?query=up&start=0&end=11001&step=1",
       "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query "
       "resolution (?step=XX)"},
      {"/api/v1/series", "no match[] parameter provided"},
      {"/api/v1/series?match[]=" + Encode("{job=~\".*\"}"),
       "invalid parameter \"match[]\": match[] must contain at least one non-empty matcher"},
      {"/api/v1/label/0bad/values", "invalid label name: \"0bad\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.target);
    ExpectError(Get(c.target), 400, "bad_data", c.message);
  }
}

TEST_F(QueryApiTest, ExpiredTimeoutParameterIsTimeout) {
  ExpectError(
      Get("/api/v1/query?query=1&timeout=0"), 503, "timeout", "query timed out in query queue");
  ExpectError(Get("/api/v1/query_range?query=1&start=0&end=1&step=1&timeout=-1"),
              503,
              "timeout",
              "query timed out in query queue");
}

TEST_F(QueryApiTest, ElevenThousandPointsAreAllowed) {
  HttpResponse r = Get("/api/v1/query_range?query=1&start=0&end=11000&step=1");
  EXPECT_EQ(r.status, 200) << r.body.substr(0, 200);
}

TEST_F(QueryApiTest, EvaluationErrorIsExecution) {
  ExpectError(Get("/api/v1/query?query=" + Encode("{job=~\".+\"} + on() up")),
              422,
              "execution",
              "multiple matches for labels: many-to-one matching must be explicit "
              "(group_left/group_right)");
}

TEST_F(QueryApiTest, TooManySamplesIsExecution) {
  sources_.engine.max_samples = 5;
  ExpectError(Get("/api/v1/query?query=" + Encode("count_over_time(up[5m])")),
              422,
              "execution",
              "query processing would load too many samples into memory in query execution");
}

// Moves forward by one second each time it is read.
class TickingClock final : public Clock {
 public:
  explicit TickingClock(TimePoint start) : now_(start) {}

  TimePoint Now() const override {
    std::lock_guard lock(mu_);
    now_ += std::chrono::seconds(1);
    return now_;
  }

 private:
  mutable std::mutex mu_;
  mutable TimePoint now_;
};

TEST_F(QueryApiTest, QueryPastTimeoutIsTimeout) {
  TickingClock ticking(FromMillis(kNowMs));
  sources_.engine.clock = &ticking;
  ExpectError(Get("/api/v1/query_range?query=" + Encode("sum(up) + 1") +
                  "&start=1699999000&end=1700000000&step=15&timeout=5s"),
              503,
              "timeout",
              "query timed out in expression evaluation");
  // The configured limit applies without the parameter too.
  sources_.engine.timeout_ms = 5000;
  ExpectError(Get("/api/v1/query_range?query=" + Encode("sum(up) + 1") +
                  "&start=1699999000&end=1700000000&step=15"),
              503,
              "timeout",
              "query timed out in expression evaluation");
  sources_.engine.clock = nullptr;
}

TEST_F(QueryApiTest, SeriesMatchesAnySelector) {
  HttpResponse r =
      Get("/api/v1/series?match[]=up&match[]=" + Encode("{__name__=~\"http.*\", code=\"200\"}") +
          "&match[]=up");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body,
            R"({"status":"success","data":[)"
            R"({"__name__":"http_requests_total","code":"200","job":"api"},)"
            R"({"__name__":"up","instance":"a:9100","job":"node"}]})");
  EXPECT_EQ(Get("/api/v1/series?match[]=missing").body, R"({"status":"success","data":[]})");
  // Outside the time range the store has no samples of the series.
  EXPECT_EQ(Get("/api/v1/series?match[]=up&start=1600000000&end=1600000100").body,
            R"({"status":"success","data":[]})");
}

TEST_F(QueryApiTest, LabelNamesAndValues) {
  EXPECT_EQ(Get("/api/v1/labels").body,
            R"({"status":"success","data":["__name__","code","instance","job"]})");
  EXPECT_EQ(Post("/api/v1/labels", "match[]=up").body,
            R"({"status":"success","data":["__name__","instance","job"]})");
  EXPECT_EQ(Get("/api/v1/label/job/values").body, R"({"status":"success","data":["api","node"]})");
  EXPECT_EQ(Get("/api/v1/label/__name__/values?match[]=" + Encode("{job=\"node\"}")).body,
            R"({"status":"success","data":["up"]})");
  EXPECT_EQ(Get("/api/v1/label/nope/values").body, R"({"status":"success","data":[]})");
}

TEST(QueryApiParseTest, Times) {
  struct Case {
    const char* text;
    int64_t ms;
  };

  const std::vector<Case> cases = {
      {"1700000000", 1'700'000'000'000},
      {"1700000000.123", 1'700'000'000'123},
      {"1700000000.1236", 1'700'000'000'124},
      {"-1.5", -1500},
      {"2023-11-14T22:13:20Z", 1'700'000'000'000},
      {"2023-11-14T22:13:20.5Z", 1'700'000'000'500},
      {"2023-11-14T23:13:20.123456789+01:00", 1'700'000'000'123},
  };
  for (const Case& c : cases) {
    Result<int64_t> got = ParseApiTime(c.text);
    ASSERT_TRUE(got.ok()) << c.text;
    EXPECT_EQ(*got, c.ms) << c.text;
  }
  for (const char* bad : {"", "now", "2023-11-14", "2023-11-14T22:13:20", "2023-13-14T22:13:20Z"}) {
    Result<int64_t> got = ParseApiTime(bad);
    ASSERT_FALSE(got.ok()) << bad;
    EXPECT_EQ(got.error().message(),
              "cannot parse \"" + std::string(bad) + "\" to a valid timestamp");
  }
}

TEST(QueryApiParseTest, Durations) {
  EXPECT_EQ(*ParseApiDuration("15"), 15000);
  EXPECT_EQ(*ParseApiDuration("0.5"), 500);
  EXPECT_EQ(*ParseApiDuration("1m30s"), 90000);
  Result<int64_t> bad = ParseApiDuration("1 minute");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "cannot parse \"1 minute\" to a valid duration");
}

}  // namespace
}  // namespace alertd
