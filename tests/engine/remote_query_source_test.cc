#include "engine/remote_query_source.h"

#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/local_http_server.h"
#include "engine/rule_manager.h"
#include "rules/rule_file.h"
#include "storage/memory_sample_store.h"
#include "storage/state_store.h"

namespace alertd {
namespace {

using testing::HttpResponseBytes;
using testing::LocalHttpServer;
using testing::ReceivedRequest;

const char kVectorBody[] =
    R"({"status":"success","data":{"resultType":"vector","result":[)"
    R"({"metric":{"__name__":"up","job":"node"},"value":[1700000000.5,"1"]},)"
    R"({"metric":{"job":"push"},"value":[1700000000.5,"NaN"]}]}})";

TEST(ParseQueryResponse, ParsesVector) {
  auto value = ParseQueryResponse(200, kVectorBody);
  ASSERT_TRUE(value.ok()) << value.error().message();
  const auto* vector = std::get_if<promql::Vector>(&*value);
  ASSERT_NE(vector, nullptr);
  ASSERT_EQ(vector->size(), 2u);
  EXPECT_EQ((*vector)[0].metric.Get("job"), "node");
  EXPECT_EQ((*vector)[0].metric.Get("__name__"), "up");
  EXPECT_EQ((*vector)[0].t, 1700000000500);
  EXPECT_EQ((*vector)[0].v, 1.0);
  EXPECT_TRUE(std::isnan((*vector)[1].v));
}

TEST(ParseQueryResponse, ParsesScalarAndInfinity) {
  auto value = ParseQueryResponse(
      200, R"({"status":"success","data":{"resultType":"scalar","result":[12.25,"+Inf"]}})");
  ASSERT_TRUE(value.ok()) << value.error().message();
  const auto* scalar = std::get_if<promql::Scalar>(&*value);
  ASSERT_NE(scalar, nullptr);
  EXPECT_EQ(scalar->t, 12250);
  EXPECT_TRUE(std::isinf(scalar->v));
  EXPECT_GT(scalar->v, 0);
}

TEST(ParseQueryResponse, ParsesMatrixAndString) {
  auto matrix = ParseQueryResponse(200,
                                   R"({"status":"success","data":{"resultType":"matrix","result":[)"
                                   R"({"metric":{"a":"b"},"values":[[1,"1"],[2,"2"]]}]}})");
  ASSERT_TRUE(matrix.ok()) << matrix.error().message();
  const auto* series = std::get_if<promql::Matrix>(&*matrix);
  ASSERT_NE(series, nullptr);
  ASSERT_EQ(series->size(), 1u);
  EXPECT_EQ((*series)[0].points.size(), 2u);
  auto text = ParseQueryResponse(
      200, R"({"status":"success","data":{"resultType":"string","result":[1,"hello"]}})");
  ASSERT_TRUE(text.ok()) << text.error().message();
  ASSERT_NE(std::get_if<promql::String>(&*text), nullptr);
  EXPECT_EQ(std::get<promql::String>(*text).v, "hello");
}

struct ErrorCase {
  const char* name;
  int status;
  const char* body;
  ErrorCode code;
  const char* message;
};

class ParseQueryErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ParseQueryErrorTest, ReturnsError) {
  const ErrorCase& c = GetParam();
  auto value = ParseQueryResponse(c.status, c.body);
  ASSERT_FALSE(value.ok());
  EXPECT_EQ(value.error().code(), c.code);
  EXPECT_EQ(value.error().message(), c.message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases,
    ParseQueryErrorTest,
    ::testing::Values(
        ErrorCase{"BadData",
                  400,
                  R"({"status":"error","errorType":"bad_data","error":"parse error at char 4"})",
                  ErrorCode::kInvalidArgument,
                  "query failed (bad_data): parse error at char 4"},
        ErrorCase{"Execution",
                  422,
                  R"({"status":"error","errorType":"execution","error":"many-to-many"})",
                  ErrorCode::kUnavailable,
                  "query failed (execution): many-to-many"},
        ErrorCase{"Timeout",
                  503,
                  R"({"status":"error","errorType":"timeout","error":"query timed out"})",
                  ErrorCode::kTimeout,
                  "query failed (timeout): query timed out"},
        ErrorCase{"NotJson",
                  502,
                  "<html>Bad Gateway</html>",
                  ErrorCode::kUnavailable,
                  "query API returned HTTP status 502"},
        ErrorCase{"NotAnApiResponse",
                  200,
                  "[]",
                  ErrorCode::kUnavailable,
                  "invalid query response: the body is not a Prometheus API response"},
        ErrorCase{"BadValue",
                  200,
                  R"({"status":"success","data":{"resultType":"scalar","result":[1,"x"]}})",
                  ErrorCode::kUnavailable,
                  "invalid query response: sample value \"x\" is not a number"},
        ErrorCase{"UnknownType",
                  200,
                  R"({"status":"success","data":{"resultType":"histogram","result":[]}})",
                  ErrorCode::kUnavailable,
                  "invalid query response: unknown resultType \"histogram\""}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

TEST(FormatUnixSeconds, KeepsMilliseconds) {
  EXPECT_EQ(FormatUnixSeconds(FromMillis(1700000000123)), "1700000000.123");
  EXPECT_EQ(FormatUnixSeconds(FromMillis(5)), "0.005");
}

TEST(RemoteQuerySource, PostsFormWithTimeParamsAndHeaders) {
  LocalHttpServer server(
      [](const ReceivedRequest&) { return HttpResponseBytes(200, kVectorBody); });
  RemoteQueryOptions options;
  options.endpoint.url = server.BaseUrl() + "/";
  options.endpoint.headers = {{"Authorization", "Bearer secret"}};
  options.query_params = {{"dedup", "true"}, {"partial response", "a&b"}};
  RemoteQuerySource source(options, MakeCurlHttpClient());
  auto value = source.Query("sum by (job) (up{job=~\"a|b\"})", FromMillis(1700000000250));
  ASSERT_TRUE(value.ok()) << value.error().message();
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/api/v1/query?dedup=true&partial%20response=a%26b");
  EXPECT_EQ(requests[0].Header("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(requests[0].Header("authorization"), "Bearer secret");
  EXPECT_EQ(requests[0].body,
            "query=sum%20by%20%28job%29%20%28up%7Bjob%3D~%22a%7Cb%22%7D%29"
            "&time=1700000000.250");
}

TEST(RemoteQuerySource, UnreachablePeerIsUnavailable) {
  RemoteQueryOptions options;
  options.endpoint.url = "http://127.0.0.1:" + std::to_string(testing::ClosedLocalPort());
  RemoteQuerySource source(options, MakeCurlHttpClient());
  auto value = source.Query("up", FromMillis(0));
  ASSERT_FALSE(value.ok());
  EXPECT_EQ(value.error().code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(value.error().message().starts_with("query API request failed: HTTP request failed"))
      << value.error().message();
}

// A query API whose responses the test switches: an HTTP error, a slow response, or a result.
// The server handles one request at a time, so a slow response delays the next request by
// 300 ms, less than the 500 ms client timeout.
class SwitchableApi {
 public:
  enum class Mode { kError, kSlow, kFiring, kEmpty };

  SwitchableApi() : server_([this](const ReceivedRequest& request) { return Handle(request); }) {}

  void set_mode(Mode mode) { mode_ = mode; }

  std::string url() const { return server_.BaseUrl(); }

  std::vector<std::string> bodies() const {
    std::vector<std::string> out;
    for (const auto& request : server_.requests()) {
      out.push_back(request.body);
    }
    return out;
  }

 private:
  std::string Handle(const ReceivedRequest&) {
    switch (mode_.load()) {
      case Mode::kError:
        return HttpResponseBytes(
            503, R"({"status":"error","errorType":"unavailable","error":"storage is down"})");
      case Mode::kSlow:
        server_.WaitForStop(std::chrono::milliseconds(800));
        return HttpResponseBytes(200, kVectorBody);
      case Mode::kFiring:
        return HttpResponseBytes(200,
                                 R"({"status":"success","data":{"resultType":"vector","result":[)"
                                 R"({"metric":{"job":"node"},"value":[1,"0"]}]}})");
      case Mode::kEmpty:
        break;
    }
    return HttpResponseBytes(200,
                             R"({"status":"success","data":{"resultType":"vector","result":[]}})");
  }

  std::atomic<Mode> mode_{Mode::kFiring};
  LocalHttpServer server_;
};

rules::RuleFile ParseRules(const std::string& text) {
  std::vector<rules::RuleError> errors;
  auto file = rules::ParseRuleFile(text, "rules.yml", &errors);
  EXPECT_TRUE(file.ok()) << (errors.empty() ? "" : errors.front().ToString());
  return file.ok() ? std::move(*file) : rules::RuleFile{};
}

struct ManagerFixture {
  explicit ManagerFixture(QuerySource* source,
                          const std::string& rules_text,
                          Duration query_offset = Duration(0)) {
    auto opened = OpenSqliteStateStore(":memory:");
    EXPECT_TRUE(opened.ok());
    store = std::move(*opened);
    RuleManagerOptions options;
    options.query_source = source;
    options.query_offset = query_offset;
    files.push_back(ParseRules(rules_text));
    auto created = RuleManager::Create(files, options, &samples, &samples, store.get(), &clock);
    EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().message());
    manager = std::move(*created);
  }

  RuleEvalStatus Eval() {
    manager->EvalGroup(0);
    return manager->Status()[0].rules[0].eval;
  }

  FakeClock clock{FromMillis(1700000000000)};
  MemorySampleStore samples;
  std::unique_ptr<StateStore> store;
  std::vector<rules::RuleFile> files;
  std::unique_ptr<RuleManager> manager;
};

constexpr char kDownRule[] =
    "groups:\n  - name: g\n    interval: 10s\n    rules:\n      - alert: Down\n"
    "        expr: up == 0\n        for: 10s\n";

TEST(RemoteRuleEvaluation, FailedQueryMarksRuleUnhealthyAndKeepsAlerts) {
  SwitchableApi api;
  RemoteQueryOptions options;
  options.endpoint.url = api.url();
  options.endpoint.timeout = Duration(500);
  RemoteQuerySource source(options, MakeCurlHttpClient());
  ManagerFixture fixture(&source, kDownRule);

  EXPECT_EQ(fixture.Eval().health, RuleHealth::kOk);
  fixture.clock.Advance(std::chrono::seconds(10));
  EXPECT_EQ(fixture.Eval().health, RuleHealth::kOk);
  ASSERT_EQ(fixture.manager->ActiveAlerts().size(), 1u);
  EXPECT_EQ(fixture.manager->ActiveAlerts()[0].alert.state, AlertState::kFiring);

  api.set_mode(SwitchableApi::Mode::kError);
  fixture.clock.Advance(std::chrono::seconds(10));
  RuleEvalStatus failed = fixture.Eval();
  EXPECT_EQ(failed.health, RuleHealth::kErr);
  EXPECT_EQ(failed.last_error, "query failed (unavailable): storage is down");
  ASSERT_EQ(fixture.manager->ActiveAlerts().size(), 1u);
  EXPECT_EQ(fixture.manager->ActiveAlerts()[0].alert.state, AlertState::kFiring);

  api.set_mode(SwitchableApi::Mode::kSlow);
  fixture.clock.Advance(std::chrono::seconds(10));
  RuleEvalStatus slow = fixture.Eval();
  EXPECT_EQ(slow.health, RuleHealth::kErr);
  EXPECT_EQ(slow.last_error, "query API request failed: HTTP request timed out after 500ms");
  ASSERT_EQ(fixture.manager->ActiveAlerts().size(), 1u);
  EXPECT_EQ(fixture.manager->ActiveAlerts()[0].alert.state, AlertState::kFiring);

  api.set_mode(SwitchableApi::Mode::kFiring);
  fixture.clock.Advance(std::chrono::seconds(10));
  RuleEvalStatus recovered = fixture.Eval();
  EXPECT_EQ(recovered.health, RuleHealth::kOk);
  EXPECT_EQ(recovered.last_error, "");
  ASSERT_EQ(fixture.manager->ActiveAlerts().size(), 1u);
  EXPECT_EQ(fixture.manager->ActiveAlerts()[0].alert.state, AlertState::kFiring);

  api.set_mode(SwitchableApi::Mode::kEmpty);
  fixture.clock.Advance(std::chrono::seconds(10));
  EXPECT_EQ(fixture.Eval().health, RuleHealth::kOk);
  EXPECT_TRUE(fixture.manager->ActiveAlerts().empty());
}

TEST(RemoteRuleEvaluation, RestoredAlertIsNotHeld) {
  SwitchableApi api;
  RemoteQueryOptions options;
  options.endpoint.url = api.url();
  RemoteQuerySource source(options, MakeCurlHttpClient());
  ManagerFixture first(&source, kDownRule);
  first.Eval();
  first.clock.Advance(std::chrono::seconds(10));
  first.Eval();
  ASSERT_EQ(first.manager->ActiveAlerts().size(), 1u);

  // A second manager on the same state store, as after a restart, while the alert is gone.
  api.set_mode(SwitchableApi::Mode::kEmpty);
  RuleManagerOptions restart_options;
  restart_options.query_source = &source;
  auto restarted = RuleManager::Create(first.files,
                                       restart_options,
                                       &first.samples,
                                       &first.samples,
                                       first.store.get(),
                                       &first.clock);
  ASSERT_TRUE(restarted.ok());
  auto restored = (*restarted)->Restore();
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(*restored, 1u);
  first.clock.Advance(std::chrono::seconds(10));
  (*restarted)->EvalGroup(0);
  EXPECT_TRUE((*restarted)->ActiveAlerts().empty());
}

// Records the times it is queried at and returns one sample.
class RecordingSource final : public QuerySource {
 public:
  Result<promql::Value> Query(const std::string& expr, TimePoint t) override {
    std::lock_guard lock(mu_);
    calls_.emplace_back(expr, t);
    return promql::Value(promql::Vector{promql::VectorSample{Labels{{"job", "x"}}, 0, 3}});
  }

  std::vector<std::pair<std::string, TimePoint>> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, TimePoint>> calls_;
};

TEST(RemoteRuleEvaluation, QueryOffsetShiftsQueryAndSampleTime) {
  RecordingSource source;
  ManagerFixture fixture(&source,
                         "groups:\n  - name: g\n    query_offset: 30s\n    rules:\n"
                         "      - record: job:x\n        expr: x\n"
                         "  - name: h\n    rules:\n      - record: job:y\n        expr: y\n",
                         Duration(5000));
  TimePoint now = fixture.clock.Now();
  fixture.manager->EvalGroup(0);
  fixture.manager->EvalGroup(1);
  auto calls = source.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].first, "x");
  EXPECT_EQ(calls[0].second, now - std::chrono::seconds(30));
  EXPECT_EQ(calls[1].first, "y");
  EXPECT_EQ(calls[1].second, now - std::chrono::seconds(5));
  auto written = fixture.samples.Select(
      {*LabelMatcher::Create(MatchType::kEqual, "__name__", "job:x")}, 0, ToMillis(now));
  ASSERT_EQ(written.size(), 1u);
  ASSERT_EQ(written[0].samples.size(), 1u);
  EXPECT_EQ(written[0].samples[0].t, ToMillis(now) - 30000);
  EXPECT_EQ(fixture.manager->Status()[0].query_offset, Duration(30000));
}

TEST(RemoteRuleEvaluation, TemplateQueryUsesSource) {
  RecordingSource source;
  ManagerFixture fixture(
      &source,
      "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: a\n"
      "        annotations:\n"
      "          n: '{{ with query \"count(b)\" }}{{ . | first | value }}{{ end }}'\n");
  fixture.manager->EvalGroup(0);
  auto calls = source.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].first, "count(b)");
  ASSERT_EQ(fixture.manager->ActiveAlerts().size(), 1u);
  EXPECT_EQ(fixture.manager->ActiveAlerts()[0].alert.annotations.Get("n"), "3");
}

}  // namespace
}  // namespace alertd
