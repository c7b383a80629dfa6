// Inbound webhook endpoints served by a real HttpServer on 127.0.0.1: routing, answers,
// metrics, reloads and what GET /api/v2/alerts shows.
#include "app/inbound_wiring.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/api_v2.h"
#include "common/http_client.h"
#include "config/config.h"
#include "notifiers/route.h"
#include "storage/state_store.h"

namespace alertd {
namespace {

using nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;

const TimePoint kT0 = FromMillis(1'700'000'000'000);

const char kAmBody[] = R"({"version":"4","status":"firing","receiver":"alertd",
  "groupKey":"{}:{alertname=\"Down\"}","groupLabels":{"alertname":"Down"},
  "commonLabels":{"alertname":"Down"},"commonAnnotations":{},"externalURL":"http://am:9093",
  "alerts":[{"status":"firing","labels":{"alertname":"Down","instance":"a"},
  "annotations":{"summary":"down"},"startsAt":"2023-11-14T22:00:00Z",
  "endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prom/graph",
  "fingerprint":"0000000000000001"}]})";

std::vector<config::WebhookReceiverConfig> Receivers(const std::string& yaml) {
  std::vector<config::ConfigError> errors;
  auto config = config::ParseConfig(yaml, "alertd.yml", &errors);
  for (const auto& error : errors) {
    ADD_FAILURE() << error.ToString();
  }
  return config.ok() ? config->webhook_receivers : std::vector<config::WebhookReceiverConfig>{};
}

const char kTwoEndpoints[] =
    "webhook_receivers:\n"
    "  - name: am-eu\n"
    "    type: alertmanager\n"
    "    authorization: {credentials: s3cret}\n"
    "    labels: {source: am-eu}\n"
    "  - name: open\n"
    "    type: alertmanager\n";

class InboundWiringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_.Set(kT0);
    alerts_ = std::make_unique<AlertStore>(nullptr, &clock_, minutes(5));
    webhooks_ = std::make_unique<InboundWebhooks>(alerts_.get(), &clock_, &registry_);
    ASSERT_TRUE(webhooks_->Configure(Receivers(kTwoEndpoints)).ok());
    config::Route root;
    root.receiver = "default";
    root.group_by = {"alertname"};
    route_ = std::make_unique<Route>(root);
    sources_.clock = &clock_;
    sources_.alerts = alerts_.get();
    sources_.route = route_.get();
    sources_.receivers = {"default"};
    auto server = HttpServer::Create("127.0.0.1:0");
    ASSERT_TRUE(server.ok()) << server.error().message();
    server_ = std::move(*server);
    webhooks_->Register(*server_);
    RegisterApiV2(*server_, &sources_);
    ASSERT_TRUE(server_->Start().ok());
    client_ = MakeCurlHttpClient();
  }

  void TearDown() override {
    if (server_) {
      server_->Stop();
    }
  }

  HttpResponse Post(const std::string& path,
                    std::string body,
                    std::vector<std::pair<std::string, std::string>> headers = {
                        {"Content-Type", "application/json"}}) {
    HttpRequest request;
    request.method = "POST";
    request.url = "http://127.0.0.1:" + std::to_string(server_->port()) + path;
    request.headers = std::move(headers);
    request.body = std::move(body);
    Result<HttpResponse> response = client_->Do(request);
    EXPECT_TRUE(response.ok()) << (response.ok() ? "" : response.error().message());
    return response.ok() ? *response : HttpResponse{};
  }

  HttpResponse Get(const std::string& path) {
    HttpRequest request;
    request.url = "http://127.0.0.1:" + std::to_string(server_->port()) + path;
    Result<HttpResponse> response = client_->Do(request);
    EXPECT_TRUE(response.ok()) << (response.ok() ? "" : response.error().message());
    return response.ok() ? *response : HttpResponse{};
  }

  static std::vector<std::pair<std::string, std::string>> Bearer(const std::string& token) {
    return {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}};
  }

  FakeClock clock_;
  metrics::Registry registry_;
  std::unique_ptr<AlertStore> alerts_;
  std::unique_ptr<InboundWebhooks> webhooks_;
  std::unique_ptr<Route> route_;
  ApiV2Sources sources_;
  std::unique_ptr<HttpServer> server_;
  std::shared_ptr<HttpClient> client_;
};

TEST_F(InboundWiringTest, AcceptedNotificationShowsInApiV2WithReceivedFrom) {
  HttpResponse response = Post("/api/v1/webhook/am-eu", kAmBody, Bearer("s3cret"));
  EXPECT_EQ(response.status, 202);
  EXPECT_EQ(response.body, R"({"alerts":1,"status":"success"})");
  EXPECT_EQ(response.Header("content-type"), "application/json");

  ASSERT_EQ(Post("/api/v2/alerts", R"([{"labels":{"alertname":"Direct"}}])").status, 200);
  HttpResponse list = Get("/api/v2/alerts");
  ASSERT_EQ(list.status, 200);
  json alerts = json::parse(list.body);
  ASSERT_EQ(alerts.size(), 2u);
  for (const json& alert : alerts) {
    if (alert["labels"]["alertname"] == "Down") {
      EXPECT_EQ(alert["receivedFrom"], "am-eu");
      EXPECT_EQ(alert["labels"]["source"], "am-eu");
      EXPECT_EQ(alert["endsAt"], "2023-11-15T22:13:20.000Z");
    } else {
      EXPECT_FALSE(alert.contains("receivedFrom")) << alert.dump();
    }
  }
  HttpResponse groups = Get("/api/v2/alerts/groups");
  ASSERT_EQ(groups.status, 200);
  EXPECT_NE(groups.body.find("\"receivedFrom\":\"am-eu\""), std::string::npos) << groups.body;
}

TEST_F(InboundWiringTest, AnswersAndCountsEachRejection) {
  EXPECT_EQ(Post("/api/v1/webhook/am-eu", kAmBody).status, 401);
  HttpResponse wrong = Post("/api/v1/webhook/am-eu", kAmBody, Bearer("nope"));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.Header("www-authenticate"), "Bearer realm=\"alertd\"");
  EXPECT_EQ(Post("/api/v1/webhook/open", kAmBody, {{"Content-Type", "text/plain"}}).status, 415);
  EXPECT_EQ(Post("/api/v1/webhook/open", "{").status, 400);
  EXPECT_EQ(Post("/api/v1/webhook/open", "{}").status, 400);
  EXPECT_EQ(Post("/api/v1/webhook/open", std::string(2 << 20, ' ')).status, 413);
  EXPECT_EQ(Post("/api/v1/webhook/open", kAmBody).status, 202);

  std::string text = registry_.Render();
  for (const char* line : {
           "alertd_webhook_requests_total{code=\"401\",endpoint=\"am-eu\"} 2\n",
           "alertd_webhook_requests_total{code=\"415\",endpoint=\"open\"} 1\n",
           "alertd_webhook_requests_total{code=\"400\",endpoint=\"open\"} 2\n",
           "alertd_webhook_requests_total{code=\"413\",endpoint=\"open\"} 1\n",
           "alertd_webhook_requests_total{code=\"202\",endpoint=\"open\"} 1\n",
           "alertd_webhook_rejected_total{endpoint=\"am-eu\",reason=\"unauthorized\"} 2\n",
           "alertd_webhook_rejected_total{endpoint=\"am-eu\",reason=\"too_large\"} 0\n",
           "alertd_webhook_rejected_total{endpoint=\"open\",reason=\"invalid_json\"} 1\n",
           "alertd_webhook_rejected_total{endpoint=\"open\",reason=\"invalid_payload\"} 1\n",
           "alertd_webhook_rejected_total{endpoint=\"open\",reason=\"too_large\"} 1\n",
           "alertd_webhook_rejected_total{endpoint=\"open\",reason=\"unsupported_media_type\"} 1\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << text;
  }
}

TEST_F(InboundWiringTest, UnknownNamesAndOtherPathsAre404AndNotCounted) {
  for (const char* path : {"/api/v1/webhook/nope",
                           "/api/v1/webhook/",
                           "/api/v1/webhook/am-eu/x",
                           "/api/v1/webhook/open/"}) {
    HttpResponse response = Post(path, kAmBody);
    EXPECT_EQ(response.status, 404) << path;
  }
  EXPECT_EQ(registry_.Render().find("endpoint=\"nope\""), std::string::npos);
  EXPECT_EQ(Get("/api/v1/webhook/open").status, 405);
}

TEST_F(InboundWiringTest, ReloadReplacesEndpointsAndRemovedOnesAnswer404) {
  ASSERT_EQ(Post("/api/v1/webhook/open", kAmBody).status, 202);
  ASSERT_TRUE(webhooks_
                  ->Configure(Receivers("webhook_receivers:\n"
                                        "  - name: am-eu\n"
                                        "    type: alertmanager\n"
                                        "    authorization: {credentials: rotated}\n"
                                        "  - name: added\n"
                                        "    type: grafana\n"))
                  .ok());
  webhooks_->Register(*server_);
  EXPECT_EQ(Post("/api/v1/webhook/open", kAmBody).status, 404);
  EXPECT_EQ(Post("/api/v1/webhook/am-eu", kAmBody, Bearer("s3cret")).status, 401);
  EXPECT_EQ(Post("/api/v1/webhook/am-eu", kAmBody, Bearer("rotated")).status, 202);
  EXPECT_EQ(Post("/api/v1/webhook/added", kAmBody).status, 202);
  EXPECT_EQ(webhooks_->names(), (std::vector<std::string>{"am-eu", "added"}));
  // The removed endpoint's series are gone from /metrics; the others stay.
  std::string text = registry_.Render();
  EXPECT_EQ(text.find("endpoint=\"open\""), std::string::npos) << text;
  EXPECT_NE(text.find("alertd_webhook_requests_total{code=\"202\",endpoint=\"am-eu\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("alertd_webhook_rejected_total{endpoint=\"added\",reason=\"too_large\"} 0"),
            std::string::npos)
      << text;
}

TEST_F(InboundWiringTest, FailedConfigureKeepsTheCurrentEndpoints) {
  config::WebhookReceiverConfig bad;
  bad.name = "bad";
  bad.type = "json";
  bad.label_templates = {{"alertname", "{{ .x"}};
  Status status = webhooks_->Configure({bad});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message(),
            "webhook receiver \"bad\": invalid template in json.labels.alertname: template: "
            "json.labels.alertname:1: unclosed action");
  EXPECT_EQ(Post("/api/v1/webhook/open", kAmBody).status, 202);
  EXPECT_EQ(webhooks_->names(), (std::vector<std::string>{"am-eu", "open"}));
}

// With server-wide tokens (web.config_file), an endpoint with its own authentication checks
// only its own credentials, and one without stays behind the server-wide check.
TEST(InboundWiringSecurity, OwnAuthenticationReplacesTheServerWideCheck) {
  FakeClock clock(kT0);
  metrics::Registry registry;
  AlertStore alerts(nullptr, &clock, minutes(5));
  InboundWebhooks webhooks(&alerts, &clock, &registry);
  ASSERT_TRUE(webhooks.Configure(Receivers(kTwoEndpoints)).ok());
  auto security = std::make_shared<WebServerSecurity>();
  security->bearer_tokens = {"server-token"};
  HttpServerOptions options;
  options.security = security;
  auto server = HttpServer::Create("127.0.0.1:0", options);
  ASSERT_TRUE(server.ok()) << server.error().message();
  webhooks.Register(**server);
  ASSERT_TRUE((*server)->Start().ok());
  auto client = MakeCurlHttpClient();
  auto post = [&](const std::string& path, const std::string& token) {
    HttpRequest request;
    request.method = "POST";
    request.url = "http://127.0.0.1:" + std::to_string((*server)->port()) + path;
    request.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}};
    request.body = kAmBody;
    auto response = client->Do(request);
    EXPECT_TRUE(response.ok());
    return response.ok() ? response->status : 0;
  };
  EXPECT_EQ(post("/api/v1/webhook/am-eu", "s3cret"), 202);
  EXPECT_EQ(post("/api/v1/webhook/am-eu", "server-token"), 401);
  EXPECT_EQ(post("/api/v1/webhook/open", "s3cret"), 401);
  EXPECT_EQ(post("/api/v1/webhook/open", "server-token"), 202);
  EXPECT_EQ(post("/api/v1/webhook/unknown", "s3cret"), 401);
  EXPECT_EQ(post("/api/v1/webhook/unknown", "server-token"), 404);
  (*server)->Stop();
}

TEST(InboundWiringOptions, CopiesEveryConfiguredField) {
  config::WebhookReceiverConfig receiver;
  receiver.name = "n";
  receiver.type = "grafana";
  receiver.bearer_token = "b";
  receiver.basic_auth_username = "u";
  receiver.basic_auth_password = "p";
  receiver.hmac_secret = "h";
  receiver.hmac_header = "X-H";
  receiver.hmac_prefix = "";
  receiver.max_body_size = 7;
  receiver.labels = Labels{{"a", "b"}};
  receiver.max_age = hours(3);
  receiver.label_templates = {{"alertname", "x"}};
  receiver.annotation_templates = {{"s", "y"}};
  receiver.resolved_template = "z";
  auto options = EndpointOptionsFromConfig(receiver);
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->name, "n");
  EXPECT_EQ(options->type, inbound::PayloadType::kGrafana);
  EXPECT_EQ(options->bearer_token, "b");
  EXPECT_EQ(options->basic_auth_username, "u");
  EXPECT_EQ(options->basic_auth_password, "p");
  EXPECT_EQ(options->hmac_secret, "h");
  EXPECT_EQ(options->hmac_header, "X-H");
  EXPECT_EQ(options->hmac_prefix, "");
  EXPECT_EQ(options->max_body_size, 7u);
  EXPECT_EQ(options->labels, (Labels{{"a", "b"}}));
  EXPECT_EQ(options->max_age, hours(3));
  EXPECT_EQ(options->label_templates, receiver.label_templates);
  EXPECT_EQ(options->annotation_templates, receiver.annotation_templates);
  EXPECT_EQ(options->resolved_template, "z");
  receiver.type = "slack";
  EXPECT_FALSE(EndpointOptionsFromConfig(receiver).ok());
}

}  // namespace
}  // namespace alertd
