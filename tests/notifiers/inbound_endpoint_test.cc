// Inbound webhook endpoints: authentication, answers, payload parsing and what reaches the
// alert store and the dispatcher.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/rfc3339.h"
#include "fakes.h"
#include "notifiers/alert_store.h"
#include "notifiers/dispatcher.h"
#include "notifiers/inbound/endpoint.h"

namespace alertd::inbound {
namespace {

using nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kStart = FromMillis(1'700'000'000'000);  // 2023-11-14T22:13:20Z

class InboundEndpointTest : public ::testing::Test {
 protected:
  InboundEndpointTest() : clock_(kStart), store_(nullptr, &clock_, minutes(5)) {}

  std::unique_ptr<Endpoint> Make(EndpointOptions options) {
    if (options.name.empty()) {
      options.name = "am-eu";
    }
    auto endpoint = Endpoint::Create(std::move(options), &store_, &clock_);
    EXPECT_TRUE(endpoint.ok()) << endpoint.error().message();
    return endpoint.ok() ? std::move(endpoint).value() : nullptr;
  }

  static EndpointRequest Request(std::string body,
                                 std::vector<std::pair<std::string, std::string>> headers = {}) {
    EndpointRequest request;
    request.body = std::move(body);
    request.headers = std::move(headers);
    request.headers.emplace_back("Content-Type", "application/json");
    request.remote_address = "127.0.0.1:40000";
    return request;
  }

  FakeClock clock_;
  AlertStore store_;
};

std::string AmBody(const std::string& status,
                   const std::string& instance = "a",
                   const std::string& ends_at = "0001-01-01T00:00:00Z") {
  json alert = {{"status", status},
                {"labels", {{"alertname", "Down"}, {"instance", instance}}},
                {"annotations", {{"summary", "down"}}},
                {"startsAt", "2023-11-14T22:00:00Z"},
                {"endsAt", ends_at},
                {"generatorURL", "http://prom:9090/graph"},
                {"fingerprint", "0123456789abcdef"}};
  json body = {{"version", "4"},
               {"groupKey", "{}:{alertname=\"Down\"}"},
               {"truncatedAlerts", 0},
               {"status", status},
               {"receiver", "alertd"},
               {"groupLabels", {{"alertname", "Down"}}},
               {"commonLabels", {{"alertname", "Down"}}},
               {"commonAnnotations", json::object()},
               {"externalURL", "http://am:9093"},
               {"alerts", json::array({alert})}};
  return body.dump();
}

TEST(InboundCrypto, HmacSha256MatchesTheRfc4231TestVector) {
  // RFC 4231 test case 2.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(InboundCrypto, ConstantTimeEqualsComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret1"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
}

TEST(InboundRfc3339, ParsesOffsetsFractionsAndGoZeroTime) {
  EXPECT_EQ(ParseRfc3339Time("2023-11-14T22:13:20Z"), kStart);
  EXPECT_EQ(ParseRfc3339Time("2023-11-14T23:13:20.5+01:00"),
            kStart + std::chrono::milliseconds(500));
  EXPECT_EQ(ParseRfc3339Time("0001-01-01T00:00:00Z"), TimePoint{});
  EXPECT_FALSE(ParseRfc3339Time("2023-11-14 22:13:20"));
  EXPECT_FALSE(ParseRfc3339Time("3000-01-01T00:00:00Z"));
}

TEST_F(InboundEndpointTest, BearerTokenIsRequiredAndChecked) {
  EndpointOptions options;
  options.bearer_token = "s3cret";
  auto endpoint = Make(options);
  ASSERT_NE(endpoint, nullptr);

  struct Case {
    std::vector<std::pair<std::string, std::string>> headers;
    int status;
  };

  const std::vector<Case> cases = {
      {{}, 401},
      {{{"Authorization", "Bearer wrong"}}, 401},
      {{{"Authorization", "Bearer s3cre"}}, 401},
      {{{"Authorization", "Basic czNjcmV0"}}, 401},
      {{{"Authorization", "Bearer"}}, 401},
      {{{"Authorization", "Bearer s3cret"}}, 202},
      {{{"authorization", "bearer s3cret"}}, 202},
  };
  for (const Case& c : cases) {
    EndpointResponse response = endpoint->Handle(Request(AmBody("firing"), c.headers));
    EXPECT_EQ(response.status, c.status) << (c.headers.empty() ? "" : c.headers[0].second);
    if (c.status == 401) {
      EXPECT_EQ(response.reason, "unauthorized");
      EXPECT_EQ(response.body, R"({"error":"authentication failed","status":"error"})");
      ASSERT_EQ(response.headers.size(), 1u);
      EXPECT_EQ(response.headers[0].second, "Bearer realm=\"alertd\"");
    }
  }
}

TEST_F(InboundEndpointTest, BasicAuthChecksUsernameAndPassword) {
  EndpointOptions options;
  options.basic_auth_username = "am";
  options.basic_auth_password = "pw";
  auto endpoint = Make(options);
  ASSERT_NE(endpoint, nullptr);
  // base64("am:pw") = YW06cHc=, base64("am:px") = YW06cHg=, base64("xm:pw") = eG06cHc=
  for (auto [header, status] : std::vector<std::pair<std::string, int>>{{"Basic YW06cHc=", 202},
                                                                        {"Basic YW06cHg=", 401},
                                                                        {"Basic eG06cHc=", 401},
                                                                        {"Basic YW06cHc", 401},
                                                                        {"Basic !!!!", 401},
                                                                        {"Bearer YW06cHc=", 401}}) {
    EndpointResponse response =
        endpoint->Handle(Request(AmBody("firing"), {{"Authorization", header}}));
    EXPECT_EQ(response.status, status) << header;
  }
  EndpointResponse missing = endpoint->Handle(Request(AmBody("firing")));
  EXPECT_EQ(missing.status, 401);
  ASSERT_EQ(missing.headers.size(), 1u);
  EXPECT_EQ(missing.headers[0].second, "Basic realm=\"alertd\"");
}

TEST_F(InboundEndpointTest, HmacSignatureOfTheRawBodyIsChecked) {
  EndpointOptions options;
  options.hmac_secret = "k3y";
  auto endpoint = Make(options);
  ASSERT_NE(endpoint, nullptr);
  const std::string body = AmBody("firing");
  const std::string digest = HmacSha256Hex("k3y", body);
  std::string upper = digest;
  for (char& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  std::string wrong = digest;
  wrong[0] = wrong[0] == '0' ? '1' : '0';
  for (auto [header, status] :
       std::vector<std::pair<std::string, int>>{{"sha256=" + digest, 202},
                                                {"sha256=" + upper, 202},
                                                {"sha256=" + wrong, 401},
                                                {digest, 401},
                                                {"sha1=" + digest, 401},
                                                {"sha256=" + digest.substr(1), 401}}) {
    EndpointResponse response = endpoint->Handle(Request(body, {{"X-Hub-Signature-256", header}}));
    EXPECT_EQ(response.status, status) << header;
    EXPECT_TRUE(response.headers.empty());
  }
  EXPECT_EQ(endpoint->Handle(Request(body)).status, 401);
  // The signature covers the body exactly: one more byte fails.
  EXPECT_EQ(
      endpoint->Handle(Request(body + " ", {{"X-Hub-Signature-256", "sha256=" + digest}})).status,
      401);
}

TEST_F(InboundEndpointTest, HmacWithCustomHeaderAndEmptyPrefix) {
  EndpointOptions options;
  options.hmac_secret = "k3y";
  options.hmac_header = "X-Signature";
  options.hmac_prefix = "";
  auto endpoint = Make(options);
  ASSERT_NE(endpoint, nullptr);
  const std::string body = AmBody("firing");
  EXPECT_EQ(endpoint->Handle(Request(body, {{"x-signature", HmacSha256Hex("k3y", body)}})).status,
            202);
  EXPECT_EQ(
      endpoint->Handle(Request(body, {{"X-Hub-Signature-256", HmacSha256Hex("k3y", body)}})).status,
      401);
}

TEST_F(InboundEndpointTest, AuthenticationIsCheckedBeforeTheBodySize) {
  EndpointOptions options;
  options.bearer_token = "t";
  options.max_body_size = 10;
  auto endpoint = Make(options);
  ASSERT_NE(endpoint, nullptr);
  EXPECT_EQ(endpoint->Handle(Request(AmBody("firing"))).status, 401);
  EndpointResponse response =
      endpoint->Handle(Request(AmBody("firing"), {{"Authorization", "Bearer t"}}));
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(response.reason, "too_large");
  const std::string expected =
      R"json({"error":"the body is larger than max_body_size (10 bytes)","status":"error"})json";
  EXPECT_EQ(response.body, expected);
}

TEST_F(InboundEndpointTest, BodyOfExactlyMaxBodySizeIsAccepted) {
  const std::string body = AmBody("firing");
  EndpointOptions options;
  options.max_body_size = body.size();
  auto endpoint = Make(options);
  ASSERT_NE(endpoint, nullptr);
  EXPECT_EQ(endpoint->Handle(Request(body)).status, 202);
  EXPECT_EQ(endpoint->Handle(Request(body + " ")).status, 413);
}

TEST_F(InboundEndpointTest, ContentTypeMustBeApplicationJson) {
  auto endpoint = Make({});
  ASSERT_NE(endpoint, nullptr);
  for (auto [type, status] :
       std::vector<std::pair<std::string, int>>{{"application/json", 202},
                                                {"application/json; charset=utf-8", 202},
                                                {"Application/JSON", 202},
                                                {"text/plain", 415},
                                                {"application/x-www-form-urlencoded", 415},
                                                {"", 415}}) {
    EndpointRequest request;
    request.body = AmBody("firing");
    if (!type.empty()) {
      request.headers.emplace_back("Content-Type", type);
    }
    EndpointResponse response = endpoint->Handle(request);
    EXPECT_EQ(response.status, status) << type;
    if (status == 415) {
      EXPECT_EQ(response.reason, "unsupported_media_type");
    }
  }
  EndpointRequest none;
  none.body = "{}";
  EXPECT_EQ(endpoint->Handle(none).body,
            R"({"error":"Content-Type must be application/json, got none","status":"error"})");
}

TEST_F(InboundEndpointTest, InvalidJsonIs400) {
  auto endpoint = Make({});
  ASSERT_NE(endpoint, nullptr);
  EndpointResponse response = endpoint->Handle(Request("{\"alerts\": ["));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.reason, "invalid_json");
  EXPECT_EQ(json::parse(response.body)["error"],
            "the body is not valid JSON: [json.exception.parse_error.101] parse error at line 1, "
            "column 13: syntax error while parsing value - unexpected end of input; expected '[', "
            "'{', or a literal");
}

struct PayloadCase {
  std::string name;
  std::string body;
  std::string error;
};

class InboundInvalidPayload : public InboundEndpointTest,
                              public ::testing::WithParamInterface<PayloadCase> {};

TEST_P(InboundInvalidPayload, Is400WithTheReason) {
  auto endpoint = Make({});
  ASSERT_NE(endpoint, nullptr);
  EndpointResponse response = endpoint->Handle(Request(GetParam().body));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.reason, "invalid_payload");
  EXPECT_EQ(json::parse(response.body)["error"], GetParam().error);
  EXPECT_EQ(store_.size(), 0u);
}

std::string WithAlert(const json& alert) {
  return json{{"version", "4"}, {"status", "firing"}, {"alerts", json::array({alert})}}.dump();
}

INSTANTIATE_TEST_SUITE_P(
    Cases,
    InboundInvalidPayload,
    ::testing::Values(
        PayloadCase{"NotAnObject",
                    "[]",
                    "the body must be a JSON object (a webhook notification), not an array"},
        PayloadCase{"NoAlerts", R"({"version":"4"})", "field \"alerts\" is missing"},
        PayloadCase{"AlertsNotArray",
                    R"({"alerts":{}})",
                    "field \"alerts\" must be an array, not an object"},
        PayloadCase{"OtherVersion",
                    R"({"version":"3","alerts":[]})",
                    "webhook payload version \"3\" is not supported; Alertmanager 0.25 sends "
                    "version \"4\""},
        PayloadCase{"VersionNotString",
                    R"({"version":4,"alerts":[]})",
                    "field \"version\" must be a string, not a number"},
        PayloadCase{"GroupLabelsNotObject",
                    R"({"groupLabels":[],"alerts":[]})",
                    "field \"groupLabels\" must be an object of strings, not an array"},
        PayloadCase{
            "AlertNotObject", R"({"alerts":[1]})", "alert 1: must be an object, not a number"},
        PayloadCase{"BadStatus",
                    WithAlert({{"status", "pending"}, {"labels", {{"a", "b"}}}}),
                    "alert 1: field \"status\" must be \"firing\" or \"resolved\", not "
                    "\"pending\""},
        PayloadCase{
            "NoLabels", WithAlert({{"status", "firing"}}), "alert 1: field \"labels\" is missing"},
        PayloadCase{"NoAlertname",
                    WithAlert({{"status", "firing"}, {"labels", {{"a", "b"}}}}),
                    "alert 1: the alert has no alertname label; every alert needs one"},
        PayloadCase{"EmptyAlertname",
                    WithAlert({{"status", "firing"}, {"labels", {{"alertname", ""}}}}),
                    "alert 1: the alert has no alertname label; every alert needs one"},
        PayloadCase{
            "BadLabelName",
            WithAlert({{"status", "firing"}, {"labels", {{"alertname", "x"}, {"a-b", "c"}}}}),
            "alert 1: invalid label name \"a-b\": a name starts with a letter or "
            "underscore and contains only letters, digits and underscores"},
        PayloadCase{"LabelValueNotString",
                    WithAlert({{"status", "firing"}, {"labels", {{"alertname", 1}}}}),
                    "alert 1: label \"alertname\" must have a string value, not a number"},
        PayloadCase{"BadAnnotationName",
                    WithAlert({{"status", "firing"},
                               {"labels", {{"alertname", "x"}}},
                               {"annotations", {{"9x", "y"}}}}),
                    "alert 1: invalid annotation name \"9x\": a name starts with a letter or "
                    "underscore and contains only letters, digits and underscores"},
        PayloadCase{"BadTime",
                    WithAlert({{"status", "firing"},
                               {"labels", {{"alertname", "x"}}},
                               {"startsAt", "yesterday"}}),
                    "alert 1: invalid time \"yesterday\" in field \"startsAt\": use RFC 3339 "
                    "between the years 1678 and 2261, e.g. 2023-11-14T22:13:20Z"},
        PayloadCase{"GeneratorUrlNotString",
                    WithAlert({{"status", "firing"},
                               {"labels", {{"alertname", "x"}}},
                               {"generatorURL", 5}}),
                    "alert 1: field \"generatorURL\" must be a string, not a number"}),
    [](const ::testing::TestParamInfo<PayloadCase>& info) { return info.param.name; });

TEST_F(InboundEndpointTest, FiringAlertEntersTheStoreWithMaxAgeAndTheEndpointName) {
  EndpointOptions options;
  options.max_age = hours(2);
  options.labels = Labels{{"source", "am-eu"}, {"instance", "replaced"}};
  auto endpoint = Make(options);
  ASSERT_NE(endpoint, nullptr);
  EndpointResponse response = endpoint->Handle(Request(AmBody("firing")));
  EXPECT_EQ(response.status, 202);
  EXPECT_EQ(response.body, R"({"alerts":1,"status":"success"})");
  EXPECT_EQ(response.alerts, 1u);
  std::vector<StoreAlert> alerts = store_.List();
  ASSERT_EQ(alerts.size(), 1u);
  const StoreAlert& alert = alerts[0];
  EXPECT_EQ(alert.labels,
            (Labels{{"alertname", "Down"}, {"instance", "replaced"}, {"source", "am-eu"}}));
  EXPECT_EQ(alert.annotations, (Labels{{"summary", "down"}}));
  EXPECT_EQ(alert.starts_at, *ParseRfc3339Time("2023-11-14T22:00:00Z"));
  EXPECT_EQ(alert.ends_at, kStart + hours(2));
  EXPECT_TRUE(alert.timeout);
  EXPECT_EQ(alert.generator_url, "http://prom:9090/graph");
  EXPECT_EQ(alert.received_from, "am-eu");
  EXPECT_FALSE(AlertResolvedAt(alert, kStart + hours(2) - seconds(1)));
  EXPECT_TRUE(AlertResolvedAt(alert, kStart + hours(2)));
}

TEST_F(InboundEndpointTest, ResentFiringExtendsAndResolvedEnds) {
  EndpointOptions options;
  options.max_age = hours(1);
  auto endpoint = Make(options);
  ASSERT_NE(endpoint, nullptr);
  ASSERT_EQ(endpoint->Handle(Request(AmBody("firing"))).status, 202);
  clock_.Advance(minutes(50));
  ASSERT_EQ(endpoint->Handle(Request(AmBody("firing"))).status, 202);
  auto alert = store_.Get(Labels{{"alertname", "Down"}, {"instance", "a"}});
  ASSERT_TRUE(alert);
  EXPECT_EQ(alert->ends_at, kStart + minutes(110));
  EXPECT_EQ(alert->starts_at, *ParseRfc3339Time("2023-11-14T22:00:00Z"));

  clock_.Advance(minutes(5));
  ASSERT_EQ(endpoint->Handle(Request(AmBody("resolved", "a", "2023-11-14T23:05:00Z"))).status, 202);
  alert = store_.Get(Labels{{"alertname", "Down"}, {"instance", "a"}});
  ASSERT_TRUE(alert);
  EXPECT_EQ(alert->ends_at, *ParseRfc3339Time("2023-11-14T23:05:00Z"));
  EXPECT_FALSE(alert->timeout);
  EXPECT_TRUE(AlertResolvedAt(*alert, clock_.Now()));
  EXPECT_EQ(alert->received_from, "am-eu");
}

TEST_F(InboundEndpointTest, ResolvedWithoutEndOrWithAFutureEndEndsNow) {
  auto endpoint = Make({});
  ASSERT_NE(endpoint, nullptr);
  ASSERT_EQ(endpoint->Handle(Request(AmBody("resolved", "a"))).status, 202);
  ASSERT_EQ(endpoint->Handle(Request(AmBody("resolved", "b", "2030-01-01T00:00:00Z"))).status, 202);
  for (const StoreAlert& alert : store_.List()) {
    EXPECT_EQ(alert.ends_at, kStart) << alert.labels.ToString();
  }
}

TEST_F(InboundEndpointTest, ExpiredAlertIsDroppedByGc) {
  EndpointOptions options;
  options.max_age = hours(1);
  auto endpoint = Make(options);
  ASSERT_NE(endpoint, nullptr);
  ASSERT_EQ(endpoint->Handle(Request(AmBody("firing"))).status, 202);
  clock_.Advance(minutes(59));
  EXPECT_EQ(store_.Gc(), 0u);
  clock_.Advance(minutes(1));
  EXPECT_EQ(store_.Gc(), 1u);
  EXPECT_EQ(store_.size(), 0u);
}

TEST_F(InboundEndpointTest, GrafanaFieldsBecomeAnnotations) {
  EndpointOptions options;
  options.type = PayloadType::kGrafana;
  options.name = "grafana";
  auto endpoint = Make(options);
  ASSERT_NE(endpoint, nullptr);
  // Shaped as Grafana's documented webhook contact point payload.
  json body = {{"receiver", "My Super Webhook"},
               {"status", "firing"},
               {"orgId", 1},
               {"alerts",
                {{{"status", "firing"},
                  {"labels", {{"alertname", "High memory usage"}, {"team", "blue"}}},
                  {"annotations", {{"summary", "high"}}},
                  {"startsAt", "2021-10-12T09:51:03.157076+02:00"},
                  {"endsAt", "0001-01-01T00:00:00Z"},
                  {"generatorURL", "https://grafana/alerting/1afz29v7z/edit"},
                  {"fingerprint", "c6eadffa33fcdf37"},
                  {"silenceURL", "https://grafana/alerting/silence/new"},
                  {"dashboardURL", ""},
                  {"panelURL", "https://grafana/d/x?viewPanel=2"},
                  {"values", {{"B", 44.5}, {"C", 1}}},
                  {"valueString", "[ var='B' labels={} value=44.5 ]"}}}},
               {"groupLabels", json::object()},
               {"commonLabels", {{"team", "blue"}}},
               {"commonAnnotations", json::object()},
               {"externalURL", "https://grafana/"},
               {"version", "1"},
               {"groupKey", "{}:{}"},
               {"truncatedAlerts", 0},
               {"title", "[FIRING:1]  (blue)"},
               {"state", "alerting"},
               {"message", "**Firing**"}};
  ASSERT_EQ(endpoint->Handle(Request(body.dump())).status, 202);
  std::vector<StoreAlert> alerts = store_.List();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].annotations,
            (Labels{{"summary", "high"},
                    {"grafana_org_id", "1"},
                    {"grafana_state", "alerting"},
                    {"grafana_title", "[FIRING:1]  (blue)"},
                    {"grafana_message", "**Firing**"},
                    {"grafana_values", R"({"B":44.5,"C":1})"},
                    {"grafana_value_string", "[ var='B' labels={} value=44.5 ]"},
                    {"silence_url", "https://grafana/alerting/silence/new"},
                    {"panel_url", "https://grafana/d/x?viewPanel=2"}}));
  EXPECT_EQ(alerts[0].starts_at, *ParseRfc3339Time("2021-10-12T07:51:03.157076Z"));
  EXPECT_EQ(alerts[0].received_from, "grafana");
}

TEST_F(InboundEndpointTest, GrafanaRejectsBadValues) {
  EndpointOptions options;
  options.type = PayloadType::kGrafana;
  auto endpoint = Make(options);
  ASSERT_NE(endpoint, nullptr);
  for (auto [body, error] : std::vector<std::pair<json, std::string>>{
           {{{"orgId", "x"}, {"alerts", json::array()}}, ""},
           {{{"orgId", 1.5}, {"alerts", json::array()}},
            "field \"orgId\" must be an integer, not a number"},
           {{{"title", 3}, {"alerts", json::array()}},
            "field \"title\" must be a string, not a number"},
           {{{"alerts", {{{"status", "firing"}, {"labels", {{"alertname", "x"}}}, {"values", 3}}}}},
            "alert 1: field \"values\" must be an object, not a number"},
           {{{"alerts",
              {{{"status", "firing"}, {"labels", {{"alertname", "x"}}}, {"panelURL", 3}}}}},
            "alert 1: field \"panelURL\" must be a string, not a number"}}) {
    EndpointResponse response = endpoint->Handle(Request(body.dump()));
    if (error.empty()) {
      EXPECT_EQ(response.status, 202) << body.dump();
    } else {
      EXPECT_EQ(response.status, 400) << body.dump();
      EXPECT_EQ(json::parse(response.body)["error"], error);
    }
  }
}

EndpointOptions JsonOptions() {
  EndpointOptions options;
  options.name = "uptime";
  options.type = PayloadType::kJson;
  options.label_templates = {{"alertname", "{{ .check.name }}"}, {"severity", "critical"}};
  options.annotation_templates = {{"summary", "{{ .message }}"}};
  options.resolved_template = "{{ eq .status \"up\" }}";
  return options;
}

TEST_F(InboundEndpointTest, JsonTemplatesMakeOneAlertPerBody) {
  auto endpoint = Make(JsonOptions());
  ASSERT_NE(endpoint, nullptr);
  EndpointResponse response = endpoint->Handle(
      Request(R"({"check":{"name":"Homepage"},"message":"HTTP 503","status":"down"})"));
  EXPECT_EQ(response.status, 202);
  std::vector<StoreAlert> alerts = store_.List();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].labels, (Labels{{"alertname", "Homepage"}, {"severity", "critical"}}));
  EXPECT_EQ(alerts[0].annotations, (Labels{{"summary", "HTTP 503"}}));
  EXPECT_EQ(alerts[0].starts_at, kStart);
  EXPECT_EQ(alerts[0].ends_at, kStart + hours(24));
  EXPECT_EQ(alerts[0].received_from, "uptime");

  clock_.Advance(minutes(1));
  ASSERT_EQ(
      endpoint
          ->Handle(Request(R"({"check":{"name":"Homepage"},"message":"HTTP 200","status":"up"})"))
          .status,
      202);
  auto alert = store_.Get(Labels{{"alertname", "Homepage"}, {"severity", "critical"}});
  ASSERT_TRUE(alert);
  EXPECT_EQ(alert->starts_at, kStart);
  EXPECT_EQ(alert->ends_at, kStart + minutes(1));
  EXPECT_TRUE(AlertResolvedAt(*alert, clock_.Now()));
}

TEST_F(InboundEndpointTest, JsonArrayBodyMakesOneAlertPerElement) {
  auto endpoint = Make(JsonOptions());
  ASSERT_NE(endpoint, nullptr);
  EndpointResponse response = endpoint->Handle(
      Request(R"([{"check":{"name":"A"},"status":"down"},{"check":{"name":"B"},"status":"up"}])"));
  EXPECT_EQ(response.status, 202);
  EXPECT_EQ(response.alerts, 2u);
  ASSERT_EQ(store_.size(), 2u);
  EXPECT_FALSE(AlertResolvedAt(*store_.Get(Labels{{"alertname", "A"}, {"severity", "critical"}}),
                               clock_.Now()));
  EXPECT_TRUE(AlertResolvedAt(*store_.Get(Labels{{"alertname", "B"}, {"severity", "critical"}}),
                              clock_.Now()));
}

TEST_F(InboundEndpointTest, JsonWithoutResolvedTemplateNeverResolves) {
  EndpointOptions options = JsonOptions();
  options.resolved_template.clear();
  auto endpoint = Make(options);
  ASSERT_NE(endpoint, nullptr);
  ASSERT_EQ(endpoint->Handle(Request(R"({"check":{"name":"A"},"status":"up"})")).status, 202);
  EXPECT_FALSE(AlertResolvedAt(store_.List().at(0), clock_.Now()));
}

TEST_F(InboundEndpointTest, JsonRejectsEmptyAlertnameAndTemplateErrors) {
  EndpointOptions options = JsonOptions();
  options.annotation_templates["detail"] = "{{ index .tags 5 }}";
  auto endpoint = Make(options);
  ASSERT_NE(endpoint, nullptr);
  EndpointResponse empty = endpoint->Handle(Request(R"({"tags":[1,2,3,4,5,6]})"));
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(json::parse(empty.body)["error"],
            "the json.labels.alertname template gave an empty value for this body; every alert "
            "needs an alertname");
  EndpointResponse failed = endpoint->Handle(Request(R"([{"check":{"name":"A"},"tags":[1]}])"));
  EXPECT_EQ(failed.status, 400);
  EXPECT_EQ(failed.reason, "invalid_payload");
  EXPECT_TRUE(json::parse(failed.body)["error"].get<std::string>().starts_with(
      "element 1: template: json.annotations.detail:1:3: executing"))
      << failed.body;
  EXPECT_EQ(store_.size(), 0u);
}

TEST_F(InboundEndpointTest, JsonMissingKeyGivesNoLabel) {
  EndpointOptions options = JsonOptions();
  options.label_templates = {{"alertname", "{{ .name }}"}, {"host", "{{ .host }}"}};
  options.annotation_templates = {{"summary", "{{ .summary }}"}};
  auto endpoint = Make(options);
  ASSERT_NE(endpoint, nullptr);
  // The body mixes strings and numbers, so a missing key prints Go's "<no value>".
  EndpointResponse missing = endpoint->Handle(Request(R"({"status":"down","n":3})"));
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(json::parse(missing.body)["error"],
            "the json.labels.alertname template gave an empty value for this body; every alert "
            "needs an alertname");
  EXPECT_EQ(store_.size(), 0u);
  EndpointResponse named = endpoint->Handle(Request(R"({"name":"DiskFull","n":3})"));
  EXPECT_EQ(named.status, 202);
  std::vector<StoreAlert> alerts = store_.List();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].labels.Get("alertname"), "DiskFull");
  EXPECT_FALSE(alerts[0].labels.Has("host"));
  EXPECT_FALSE(alerts[0].annotations.Has("summary"));
}

TEST_F(InboundEndpointTest, DeeplyNestedBodyIs400) {
  EndpointOptions options = JsonOptions();
  options.label_templates = {{"alertname", "{{ .name }}"}};
  auto endpoint = Make(options);
  ASSERT_NE(endpoint, nullptr);
  const size_t levels = 200000;
  std::string body =
      R"({"name":"D","x":)" + std::string(levels, '[') + std::string(levels, ']') + "}";
  EndpointResponse deep = endpoint->Handle(Request(body));
  EXPECT_EQ(deep.status, 400);
  EXPECT_EQ(deep.reason, "invalid_json");
  EXPECT_EQ(json::parse(deep.body)["error"],
            "the body nests arrays and objects 200001 levels deep, more than the limit of 100");
  EXPECT_EQ(store_.size(), 0u);
  // Brackets inside strings do not count, and 100 levels are accepted.
  std::string shallow =
      R"({"name":"D","s":"[[[[\"[[[[","x":)" + std::string(99, '[') + std::string(99, ']') + "}";
  EXPECT_EQ(endpoint->Handle(Request(shallow)).status, 202);
}

TEST_F(InboundEndpointTest, InvalidUtf8Is400) {
  auto endpoint = Make({});
  ASSERT_NE(endpoint, nullptr);
  EndpointResponse response = endpoint->Handle(Request("{\"name\":\"U\xff\xfe\"}"));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.reason, "invalid_json");
  auto parsed = json::parse(response.body);
  EXPECT_TRUE(parsed["error"].get<std::string>().starts_with("the body is not valid JSON: "))
      << response.body;
  EXPECT_EQ(store_.size(), 0u);
}

TEST_F(InboundEndpointTest, EndpointLabelsReplaceAndRemove) {
  EndpointOptions options;
  options.labels = Labels{{"team", "ops"}};
  options.removed_labels = {"instance"};
  auto endpoint = Make(options);
  ASSERT_NE(endpoint, nullptr);
  EXPECT_EQ(endpoint->Handle(Request(AmBody("firing"))).status, 202);
  std::vector<StoreAlert> alerts = store_.List();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_FALSE(alerts[0].labels.Has("instance"));
  EXPECT_EQ(alerts[0].labels.Get("team"), "ops");
}

TEST(InboundEndpointCreate, RejectsTemplatesThatDoNotParseAndJsonWithoutAlertname) {
  FakeClock clock(kStart);
  AlertStore store(nullptr, &clock, minutes(5));
  EndpointOptions options = JsonOptions();
  options.label_templates["alertname"] = "{{ .x";
  auto bad = Endpoint::Create(options, &store, &clock);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(),
            "webhook receiver \"uptime\": invalid template in json.labels.alertname: template: "
            "json.labels.alertname:1: unclosed action");
  options = JsonOptions();
  options.label_templates.erase("alertname");
  auto missing = Endpoint::Create(options, &store, &clock);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message(),
            "webhook receiver \"uptime\" of type json has no json.labels.alertname template");
}

TEST(InboundPayloadType, ParsesTheThreeNames) {
  EXPECT_EQ(*ParsePayloadType("alertmanager"), PayloadType::kAlertmanager);
  EXPECT_EQ(*ParsePayloadType("grafana"), PayloadType::kGrafana);
  EXPECT_EQ(*ParsePayloadType("json"), PayloadType::kJson);
  EXPECT_EQ(ParsePayloadType("slack").error().message(),
            "unknown webhook receiver type \"slack\"; use alertmanager, grafana or json");
}

// A re-delivered notification (Alertmanager retries, or sends the group again at its
// repeat_interval) must not notify alertd's receivers a second time.
TEST(InboundDispatcher, DuplicateDeliveryNotifiesOnce) {
  FakeClock clock(kStart);
  testing::FakeStateStore nflog;
  config::Route route;
  route.receiver = "team";
  route.group_by = {"alertname"};
  route.group_wait = seconds(30);
  route.group_interval = minutes(5);
  route.repeat_interval = hours(4);
  auto log = std::make_shared<testing::NotifierLog>();
  std::map<std::string, std::vector<std::unique_ptr<Notifier>>> receivers;
  receivers["team"].push_back(std::make_unique<testing::RecordingNotifier>("webhook", true, log));
  DispatcherOptions dispatcher_options;
  dispatcher_options.executor = [](std::function<void()> job) {
    job();
  };
  Dispatcher dispatcher(route, std::move(receivers), &nflog, &clock, std::move(dispatcher_options));
  AlertStore store(nullptr, &clock, minutes(5));
  store.SetListener(
      [&dispatcher](std::vector<NotifyAlert> alerts) { dispatcher.Put(std::move(alerts)); });
  EndpointOptions options;
  options.name = "am-eu";
  auto endpoint = Endpoint::Create(options, &store, &clock);
  ASSERT_TRUE(endpoint.ok());

  EndpointRequest request;
  request.headers = {{"Content-Type", "application/json"}};
  request.body = AmBody("firing");
  ASSERT_EQ((*endpoint)->Handle(request).status, 202);
  for (int i = 0; i < 40; ++i) {
    clock.Advance(seconds(1));
    dispatcher.Tick();
  }
  ASSERT_EQ(log->calls(), 1u);
  // The same notification again, twice, then two group intervals pass.
  ASSERT_EQ((*endpoint)->Handle(request).status, 202);
  ASSERT_EQ((*endpoint)->Handle(request).status, 202);
  for (int i = 0; i < 20; ++i) {
    clock.Advance(seconds(30));
    dispatcher.Tick();
  }
  EXPECT_EQ(log->calls(), 1u);
  // The resolution is notified once.
  request.body = AmBody("resolved", "a", "2023-11-14T22:20:00Z");
  ASSERT_EQ((*endpoint)->Handle(request).status, 202);
  for (int i = 0; i < 20; ++i) {
    clock.Advance(seconds(30));
    dispatcher.Tick();
  }
  ASSERT_EQ(log->calls(), 2u);
  EXPECT_EQ(log->last().alerts.at(0).ends_at, *ParseRfc3339Time("2023-11-14T22:20:00Z"));
}

}  // namespace
}  // namespace alertd::inbound
