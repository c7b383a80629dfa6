// Alertmanager API v2 endpoints through a real HttpServer on 127.0.0.1, over an AlertStore and
// Silences on an in-memory state database and a FakeClock.
#include "app/api_v2.h"

#include <chrono>
#include <memory>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "config/config.h"
#include "storage/state_store.h"

namespace alertd {
namespace {

using nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;

const TimePoint kT0 = FromMillis(1'700'000'000'000);  // 2023-11-14T22:13:20Z

config::Route MakeRouteConfig() {
  config::Route root;
  root.receiver = "default";
  root.group_by = {"alertname"};
  config::Route db;
  db.receiver = "db-team";
  db.group_by = {"alertname"};
  auto matcher = LabelMatcher::Create(MatchType::kEqual, "team", "db");
  db.matchers.push_back(std::move(matcher).value());
  root.routes.push_back(db);
  return root;
}

class ApiV2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = OpenSqliteStateStore(":memory:");
    ASSERT_TRUE(db.ok());
    db_ = std::move(db).value();
    clock_.Set(kT0);
    alerts_ = std::make_unique<AlertStore>(db_.get(), &clock_, minutes(5));
    silences_ = std::make_unique<Silences>(db_.get(), &clock_);
    route_ = std::make_unique<Route>(MakeRouteConfig());
    sources_.clock = &clock_;
    sources_.alerts = alerts_.get();
    sources_.silences = silences_.get();
    sources_.route = route_.get();
    sources_.receivers = {"default", "db-team"};
    sources_.resolve_timeout = minutes(5);
    sources_.config_original = "route:\n  receiver: default\n";
    sources_.version = "1.2.3";
    sources_.started_at = kT0 - hours(1);
    auto server = HttpServer::Create("127.0.0.1:0");
    ASSERT_TRUE(server.ok()) << server.error().message();
    server_ = std::move(*server);
    RegisterApiV2(*server_, &sources_);
    ASSERT_TRUE(server_->Start().ok());
    client_ = MakeCurlHttpClient();
  }

  void TearDown() override {
    if (server_) {
      server_->Stop();
    }
  }

  HttpResponse Do(const std::string& method, const std::string& target, std::string body = "") {
    HttpRequest request;
    request.method = method;
    request.url = "http://127.0.0.1:" + std::to_string(server_->port()) + target;
    if (!body.empty()) {
      request.headers = {{"Content-Type", "application/json"}};
    }
    request.body = std::move(body);
    Result<HttpResponse> response = client_->Do(request);
    EXPECT_TRUE(response.ok()) << (response.ok() ? "" : response.error().message());
    return response.ok() ? *response : HttpResponse{};
  }

  json GetJson(const std::string& target) {
    HttpResponse response = Do("GET", target);
    EXPECT_EQ(response.status, 200) << response.body;
    return json::parse(response.body, nullptr, false);
  }

  // Expects a 400 whose body is the JSON string `message`.
  void ExpectBadRequest(const HttpResponse& response, const std::string& message) {
    EXPECT_EQ(response.status, 400);
    json body = json::parse(response.body, nullptr, false);
    ASSERT_TRUE(body.is_string()) << response.body;
    EXPECT_EQ(body.get<std::string>(), message);
  }

  std::string PostSilence(const std::string& matchers_json,
                          const std::string& starts = "2023-11-14T22:13:20Z",
                          const std::string& ends = "2023-11-14T23:13:20Z") {
    HttpResponse response =
        Do("POST",
           "/api/v2/silences",
           R"({"matchers":)" + matchers_json + R"(,"startsAt":")" + starts + R"(","endsAt":")" +
               ends + R"(","createdBy":"ops","comment":"window"})");
    EXPECT_EQ(response.status, 200) << response.body;
    json body = json::parse(response.body, nullptr, false);
    return body.is_object() ? body.value("silenceID", "") : "";
  }

  FakeClock clock_;
  std::unique_ptr<StateStore> db_;
  std::unique_ptr<AlertStore> alerts_;
  std::unique_ptr<Silences> silences_;
  std::unique_ptr<Route> route_;
  ApiV2Sources sources_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(ApiV2Test, PostedAlertIsListedWithAlertmanagerFields) {
  HttpResponse post = Do("POST",
                         "/api/v2/alerts",
                         R"([{"labels":{"alertname":"Down","instance":"a","empty":""},
                              "annotations":{"summary":"down"},
                              "startsAt":"2023-11-14T22:12:20.5Z",
                              "generatorURL":"http://prom/graph"}])");
  EXPECT_EQ(post.status, 200) << post.body;
  EXPECT_EQ(post.body, "");
  json alerts = GetJson("/api/v2/alerts");
  ASSERT_EQ(alerts.size(), 1u);
  const json& a = alerts[0];
  EXPECT_EQ(a["labels"], (json{{"alertname", "Down"}, {"instance", "a"}}));
  EXPECT_EQ(a["annotations"], (json{{"summary", "down"}}));
  EXPECT_EQ(a["startsAt"], "2023-11-14T22:12:20.500Z");
  EXPECT_EQ(a["endsAt"], "2023-11-14T22:18:20.000Z");
  EXPECT_EQ(a["updatedAt"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(a["generatorURL"], "http://prom/graph");
  EXPECT_EQ(a["fingerprint"], (Labels{{"alertname", "Down"}, {"instance", "a"}}).Fingerprint());
  EXPECT_EQ(a["receivers"], json::parse(R"([{"name":"default"}])"));
  EXPECT_EQ(a["status"], json::parse(R"({"inhibitedBy":[],"silencedBy":[],"state":"active"})"));
}

TEST_F(ApiV2Test, BadAlertBodiesGet400AndStoreNothing) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{",
       "the body is not valid JSON: parse error at line 1, column 2: syntax error while "
       "parsing object key - unexpected end of input; expected string literal"},
      {R"({"labels":{}})", "the body must be a JSON array of alerts, not object"},
      {R"([{"annotations":{}}])", "alert 1: field \"labels\" is missing"},
      {R"([{"labels":{}}])",
       "alert 1: the alert has no labels: give at least one label with a value, such as "
       "alertname"},
      {R"([{"labels":{"a":""}}])",
       "alert 1: the alert has no labels: give at least one label with a value, such as "
       "alertname"},
      {R"([{"labels":{"0bad":"x"}}])",
       "alert 1: invalid label name \"0bad\": a name starts with a letter or underscore and "
       "contains only letters, digits and underscores"},
      {R"([{"labels":{"a":1}}])", "alert 1: label \"a\" must have a string value, not number"},
      {R"([{"labels":{"a":"b"},"annotations":{"bad-name":"x"}}])",
       "alert 1: invalid annotation name \"bad-name\": a name starts with a letter or "
       "underscore and contains only letters, digits and underscores"},
      {R"([{"labels":{"a":"b"},"startsAt":"yesterday"}])",
       "alert 1: invalid time \"yesterday\" in field \"startsAt\": use RFC 3339, e.g. "
       "2023-11-14T22:13:20Z"},
      {R"([{"labels":{"a":"b"},"startsAt":"2300-01-01T00:00:00Z"}])",
       "alert 1: time \"2300-01-01T00:00:00Z\" in field \"startsAt\" is out of range: use a "
       "time between 1678 and 2261"},
      {R"([{"labels":{"a":"b"},"endsAt":5}])",
       "alert 1: field \"endsAt\" must be an RFC 3339 time string, not number"},
      {R"([{"labels":{"a":"b"},"startsAt":"2023-11-14T22:13:20Z","endsAt":"2023-11-14T22:00:00Z"}])",
       "alert 1: {a=\"b\"}: end time 2023-11-14T22:00:00.000Z is before start time "
       "2023-11-14T22:13:20.000Z: give an end after the start"},
      {R"([{"labels":{"a":"b"},"startsAt":"2023-11-15T00:00:00Z"}])",
       "alert 1: {a=\"b\"}: end time 2023-11-14T22:18:20.000Z is before start time "
       "2023-11-15T00:00:00.000Z: give an end after the start"},
      {R"([{"labels":{"a":"b"},"generatorURL":3}])",
       "alert 1: field \"generatorURL\" must be a string, not number"},
      {R"([{"labels":{"a":"b"}}, 7, {"labels":[]}])",
       "alert 2: must be an object, not number; alert 3: field \"labels\" must be an object of "
       "strings, not array"},
  };
  for (const auto& [body, message] : cases) {
    SCOPED_TRACE(body);
    ExpectBadRequest(Do("POST", "/api/v2/alerts", body), message);
  }
  EXPECT_EQ(alerts_->size(), 0u);
  auto stored = db_->LoadReceivedAlerts();
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(stored->empty());
}

TEST_F(ApiV2Test, AlertFiltersSelectByMatcherStateAndReceiver) {
  ASSERT_EQ(Do("POST",
               "/api/v2/alerts",
               R"([{"labels":{"alertname":"Down","team":"db"}},
                   {"labels":{"alertname":"Down","team":"web"}},
                   {"labels":{"alertname":"Old"},"startsAt":"2023-11-14T21:00:00Z",
                    "endsAt":"2023-11-14T21:30:00Z"}])")
                .status,
            200);
  std::string id = PostSilence(R"([{"name":"team","value":"web","isRegex":false}])");
  ASSERT_FALSE(id.empty());

  json all = GetJson("/api/v2/alerts");
  ASSERT_EQ(all.size(), 2u);  // the resolved alert is not listed
  json db = GetJson("/api/v2/alerts?receiver=db-.*");
  ASSERT_EQ(db.size(), 1u);
  EXPECT_EQ(db[0]["labels"]["team"], "db");
  EXPECT_EQ(db[0]["receivers"], json::parse(R"([{"name":"db-team"}])"));
  json web = GetJson("/api/v2/alerts?filter=team%3D%22web%22");
  ASSERT_EQ(web.size(), 1u);
  EXPECT_EQ(web[0]["status"]["state"], "suppressed");
  EXPECT_EQ(web[0]["status"]["silencedBy"], json::array({id}));
  EXPECT_EQ(GetJson("/api/v2/alerts?silenced=false").size(), 1u);
  json inactive_only = GetJson("/api/v2/alerts?active=false");
  ASSERT_EQ(inactive_only.size(), 1u);
  EXPECT_EQ(inactive_only[0]["labels"]["team"], "web");
  EXPECT_EQ(GetJson("/api/v2/alerts?filter=team%3D~%22d.*%22&filter=alertname%3DDown").size(), 1u);
}

TEST_F(ApiV2Test, BadAlertQueryParametersGet400) {
  ExpectBadRequest(Do("GET", "/api/v2/alerts?active=maybe"),
                   "invalid value \"maybe\" of parameter active: use true or false");
  ExpectBadRequest(Do("GET", "/api/v2/alerts?receiver=%28"),
                   "failed to parse receiver param: invalid regular expression \"(\": missing ): "
                   "^(?:()$");
  HttpResponse filter = Do("GET", "/api/v2/alerts/groups?filter=%3D%3D");
  EXPECT_EQ(filter.status, 400);
  EXPECT_NE(filter.body.find("invalid filter \\\"==\\\": "), std::string::npos) << filter.body;
}

TEST_F(ApiV2Test, AlertGroupsFollowRoutesAndGroupBy) {
  ASSERT_EQ(Do("POST",
               "/api/v2/alerts",
               R"([{"labels":{"alertname":"Down","team":"db","instance":"b"}},
                   {"labels":{"alertname":"Down","team":"db","instance":"a"}},
                   {"labels":{"alertname":"Cpu","team":"web"}}])")
                .status,
            200);
  json groups = GetJson("/api/v2/alerts/groups");
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0]["labels"], (json{{"alertname", "Cpu"}}));
  EXPECT_EQ(groups[0]["receiver"], (json{{"name", "default"}}));
  EXPECT_EQ(groups[1]["labels"], (json{{"alertname", "Down"}}));
  EXPECT_EQ(groups[1]["receiver"], (json{{"name", "db-team"}}));
  ASSERT_EQ(groups[1]["alerts"].size(), 2u);
  EXPECT_EQ(groups[1]["alerts"][0]["labels"]["instance"], "a");
  EXPECT_EQ(GetJson("/api/v2/alerts/groups?receiver=db-team").size(), 1u);
}

TEST_F(ApiV2Test, SilenceLifecycleCreateGetListExpire) {
  std::string id = PostSilence(R"([{"name":"alertname","value":"Down","isRegex":false}])");
  ASSERT_FALSE(id.empty());
  json silence = GetJson("/api/v2/silence/" + id);
  EXPECT_EQ(silence, json::parse(R"({"id":")" + id + R"(","status":{"state":"active"},
                "updatedAt":"2023-11-14T22:13:20.000Z","comment":"window","createdBy":"ops",
                "endsAt":"2023-11-14T23:13:20.000Z","startsAt":"2023-11-14T22:13:20.000Z",
                "matchers":[{"isEqual":true,"isRegex":false,"name":"alertname","value":"Down"}]})"));
  EXPECT_EQ(GetJson("/api/v2/silences").size(), 1u);
  EXPECT_EQ(GetJson("/api/v2/silences?filter=alertname%3DDown").size(), 1u);
  EXPECT_EQ(GetJson("/api/v2/silences?filter=alertname%3DUp").size(), 0u);

  clock_.Advance(minutes(1));
  HttpResponse deleted = Do("DELETE", "/api/v2/silence/" + id);
  EXPECT_EQ(deleted.status, 200);
  clock_.Advance(minutes(1));
  EXPECT_EQ(GetJson("/api/v2/silence/" + id)["status"]["state"], "expired");
  EXPECT_EQ(GetJson("/api/v2/silence/" + id)["endsAt"], "2023-11-14T22:14:20.000Z");
  EXPECT_EQ(Do("DELETE", "/api/v2/silence/" + id).status, 200);  // idempotent
  EXPECT_EQ(GetJson("/api/v2/silence/" + id)["endsAt"], "2023-11-14T22:14:20.000Z");
}

TEST_F(ApiV2Test, SilenceUpdateWithIdKeepsOrReplacesIt) {
  std::string id = PostSilence(R"([{"name":"alertname","value":"Down","isRegex":false}])");
  ASSERT_FALSE(id.empty());
  HttpResponse same = Do("POST",
                         "/api/v2/silences",
                         R"({"id":")" + id + R"(","matchers":[{"name":"alertname","value":"Down",
                             "isRegex":false}],"startsAt":"2023-11-14T22:13:20Z",
                             "endsAt":"2023-11-15T00:00:00Z","createdBy":"ops","comment":"more"})");
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(json::parse(same.body)["silenceID"], id);
  HttpResponse other = Do("POST",
                          "/api/v2/silences",
                          R"({"id":")" + id + R"(","matchers":[{"name":"alertname","value":"Up",
                              "isRegex":false}],"startsAt":"2023-11-14T22:13:20Z",
                              "endsAt":"2023-11-15T00:00:00Z","createdBy":"ops","comment":"x"})");
  ASSERT_EQ(other.status, 200) << other.body;
  EXPECT_NE(json::parse(other.body)["silenceID"], id);
  EXPECT_EQ(GetJson("/api/v2/silences").size(), 2u);
}

TEST_F(ApiV2Test, BadSilenceBodiesGet400) {
  const std::string times = R"("startsAt":"2023-11-14T22:13:20Z","endsAt":"2023-11-14T23:13:20Z")";
  const std::string who = R"("createdBy":"ops","comment":"c")";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[]", "the body must be a JSON object (a silence), not array"},
      {"{" + times + R"(,"comment":"c","matchers":[]})", "silence: field \"createdBy\" is missing"},
      {"{" + who + R"(,"matchers":[],"endsAt":"2023-11-14T23:13:20Z"})",
       "silence: field \"startsAt\" is missing"},
      {"{" + who + "," + times + "}", "silence: field \"matchers\" is missing"},
      {"{" + who + "," + times + R"(,"matchers":{}})",
       "silence: field \"matchers\" must be an array, not object"},
      {"{" + who + "," + times + R"(,"matchers":[]})",
       "the silence has no matchers: give at least one matcher"},
      {"{" + who + "," + times + R"(,"matchers":[{"name":"a","value":"b"}]})",
       "silence matcher 1: field \"isRegex\" is missing"},
      {"{" + who + "," + times + R"(,"matchers":[{"name":"a","value":"b","isRegex":"no"}]})",
       "silence matcher 1: field \"isRegex\" must be true or false, not string"},
      {"{" + who + "," + times + R"(,"matchers":[{"name":"a","value":".*","isRegex":true}]})",
       "every matcher of the silence matches the empty string, so it would silence all alerts: "
       "add a matcher that requires a non-empty label value"},
      {"{" + who + "," + times + R"(,"matchers":[{"name":"a b","value":"x","isRegex":false}]})",
       "matcher 1: invalid label name \"a b\": a label name starts with a letter or underscore "
       "and contains only letters, digits and underscores"},
      {"{" + who +
           R"(,"startsAt":"2023-11-14T22:13:20Z","endsAt":"2023-11-14T22:13:20Z","matchers":[{"name":"a","value":"x","isRegex":false}]})",
       "the silence's end time 2023-11-14T22:13:20.000Z is not after its start time "
       "2023-11-14T22:13:20.000Z: give an end time after the start"},
      {"{" + who +
           R"(,"startsAt":"2023-11-14T20:00:00Z","endsAt":"2023-11-14T21:00:00Z","matchers":[{"name":"a","value":"x","isRegex":false}]})",
       "the silence's end time 2023-11-14T21:00:00.000Z is in the past: give an end time after "
       "now (2023-11-14T22:13:20.000Z)"},
      {"{" + who +
           R"(,"startsAt":"2300-01-01T00:00:00Z","endsAt":"2026-12-05T00:00:00Z","matchers":[{"name":"a","value":"x","isRegex":false}]})",
       "silence: time \"2300-01-01T00:00:00Z\" in field \"startsAt\" is out of range: use a "
       "time between 1678 and 2261"},
      {"{" + who + R"(,"startsAt":"soon","endsAt":"2023-11-14T21:00:00Z","matchers":[]})",
       "silence: invalid time \"soon\" in field \"startsAt\": use RFC 3339, e.g. "
       "2023-11-14T22:13:20Z"},
  };
  for (const auto& [body, message] : cases) {
    SCOPED_TRACE(body);
    ExpectBadRequest(Do("POST", "/api/v2/silences", body), message);
  }
  EXPECT_TRUE(silences_->List().empty());
}

TEST_F(ApiV2Test, UnknownSilenceIdGets404) {
  HttpResponse get = Do("GET", "/api/v2/silence/nope");
  EXPECT_EQ(get.status, 404);
  EXPECT_EQ(json::parse(get.body), "silence \"nope\" not found");
  HttpResponse del = Do("DELETE", "/api/v2/silence/nope");
  EXPECT_EQ(del.status, 404);
  HttpResponse update = Do("POST",
                           "/api/v2/silences",
                           R"({"id":"nope","matchers":[{"name":"a","value":"b","isRegex":false}],
                               "startsAt":"2023-11-14T22:13:20Z","endsAt":"2023-11-15T00:00:00Z",
                               "createdBy":"ops","comment":"c"})");
  EXPECT_EQ(update.status, 404);
  EXPECT_EQ(json::parse(update.body), "silence \"nope\" not found");
}

TEST_F(ApiV2Test, ReceiversAndStatus) {
  EXPECT_EQ(GetJson("/api/v2/receivers"),
            json::parse(R"([{"name":"default"},{"name":"db-team"}])"));
  json status = GetJson("/api/v2/status");
  EXPECT_EQ(status["cluster"], json::parse(R"({"peers":[],"status":"disabled"})"));
  EXPECT_EQ(status["config"]["original"], "route:\n  receiver: default\n");
  EXPECT_EQ(status["uptime"], "2023-11-14T21:13:20.000Z");
  EXPECT_EQ(status["versionInfo"]["version"], "1.2.3");
  EXPECT_TRUE(status["versionInfo"].contains("goVersion"));
}

TEST(ApiV2StartingTest, WritesBeforeStartGet503AndListsAreEmpty) {
  ApiV2Sources sources;  // nothing set yet, as while the daemon starts
  auto server = HttpServer::Create("127.0.0.1:0");
  ASSERT_TRUE(server.ok());
  RegisterApiV2(**server, &sources);
  ASSERT_TRUE((*server)->Start().ok());
  auto client = MakeCurlHttpClient();
  auto send = [&](const std::string& method, const std::string& path, const std::string& body) {
    HttpRequest request;
    request.method = method;
    request.url = "http://127.0.0.1:" + std::to_string((*server)->port()) + path;
    request.body = body;
    auto response = client->Do(request);
    EXPECT_TRUE(response.ok());
    return response.ok() ? *response : HttpResponse{};
  };
  HttpResponse alerts = send("POST", "/api/v2/alerts", R"([{"labels":{"a":"b"}}])");
  EXPECT_EQ(alerts.status, 503);
  EXPECT_EQ(json::parse(alerts.body),
            "alertd is starting: the alert store is not ready, retry later");
  HttpResponse silence = send("POST", "/api/v2/silences", "{}");
  EXPECT_EQ(silence.status, 503);
  EXPECT_EQ(json::parse(silence.body), "alertd is starting: silences are not ready, retry later");
  EXPECT_EQ(send("GET", "/api/v2/alerts", "").body, "[]\n");
  EXPECT_EQ(send("GET", "/api/v2/silences", "").body, "[]\n");
  (*server)->Stop();
}

TEST(ApiV2ConfigTest, OriginalKeepsAlertmanagerPartAndHidesSecrets) {
  const std::string yaml = R"(global:
  scrape_interval: 15s
  resolve_timeout: 2m
  slack_api_url: https://hooks.slack.com/services/T/B/SECRET
rule_files: [rules/*.yml]
storage:
  path: data/
route:
  receiver: team
  notify_resolved_when_muted: false
  routes:
    - receiver: team
      notify_resolved_when_muted: true
receivers:
  - name: team
    webhook_configs:
      - url: https://hooks.example.com/path/SECRET?token=SECRET
    slack_configs:
      - api_url: https://hooks.slack.com/services/T/B/SECRET2
        channel: '#ops'
        http_config:
          basic_auth: {username: u, password: SECRET}
    sentry_configs:
      - dsn: https://SECRET@sentry.example.com/1
)";
  auto original = AlertmanagerConfigOriginal(yaml);
  ASSERT_TRUE(original.ok()) << original.error().message();
  EXPECT_EQ(original->find("SECRET"), std::string::npos) << *original;
  EXPECT_EQ(original->find("scrape_interval"), std::string::npos);
  EXPECT_EQ(original->find("rule_files"), std::string::npos);
  EXPECT_EQ(original->find("notify_resolved_when_muted"), std::string::npos);
  EXPECT_EQ(original->find("sentry_configs"), std::string::npos);
  EXPECT_NE(original->find("resolve_timeout: 2m"), std::string::npos);
  EXPECT_NE(original->find("slack_api_url: <secret>"), std::string::npos);
  EXPECT_NE(original->find("api_url: <secret>"), std::string::npos);
  EXPECT_NE(original->find("password: <secret>"), std::string::npos);
  EXPECT_NE(original->find("url: https://hooks.example.com/<redacted>"), std::string::npos)
      << *original;
}

TEST(StatusConfigTest, RedactsEverySecretOfAlertdYml) {
  const std::string yaml = R"(global:
  scrape_interval: 15s
  slack_api_url: https://hooks.slack.com/services/T/B/SECRET1
  smtp_auth_password: SECRET2
datasource:
  type: prometheus
  url: http://127.0.0.1:9090
  authorization: {credentials: SECRET3}
webhook_receivers:
  - name: checks
    type: json
    hmac: {secret: SECRET4}
    json:
      labels: {alertname: '{{ .name }}'}
  - name: am
    type: alertmanager
    basic_auth: {username: am, password: SECRET5}
route:
  receiver: team
receivers:
  - name: team
    webhook_configs:
      - url: https://hooks.example.com/path/SECRET6
    sentry_configs:
      - dsn: https://SECRET7@sentry.example.com/1
        auth_token: SECRET8
    email_configs:
      - to: ops@example.com
        auth_password: SECRET9
)";
  auto redacted = RedactedConfigYaml(yaml);
  ASSERT_TRUE(redacted.ok()) << redacted.error().message();
  EXPECT_EQ(redacted->find("SECRET"), std::string::npos) << *redacted;
  // Everything else stays, alertd's own sections included.
  EXPECT_NE(redacted->find("scrape_interval: 15s"), std::string::npos) << *redacted;
  EXPECT_NE(redacted->find("url: http://127.0.0.1:9090"), std::string::npos) << *redacted;
  EXPECT_NE(redacted->find("name: checks"), std::string::npos);
  EXPECT_NE(redacted->find("secret: <secret>"), std::string::npos);
  EXPECT_NE(redacted->find("sentry_configs"), std::string::npos);
  EXPECT_NE(redacted->find("url: https://hooks.example.com/<redacted>"), std::string::npos);
  EXPECT_NE(redacted->find("to: ops@example.com"), std::string::npos);
}

TEST(StatusConfigTest, InvalidYamlIsAnError) {
  auto redacted = RedactedConfigYaml("global: {");
  ASSERT_FALSE(redacted.ok());
  EXPECT_EQ(redacted.error().message().rfind("invalid configuration YAML: ", 0), 0u);
}

TEST(ApiV2ConfigTest, ParseApiV2TimeRejectsYearsPast2262) {
  EXPECT_FALSE(ParseApiV2Time("2300-01-01T00:00:00Z").has_value());
  EXPECT_FALSE(ParseApiV2Time("9999-12-31T23:59:59Z").has_value());
  EXPECT_FALSE(ParseApiV2Time("1600-01-01T00:00:00Z").has_value());
  EXPECT_TRUE(ParseApiV2Time("2262-01-01T00:00:00Z").has_value());
}

TEST(ApiV2ConfigTest, ParseApiV2TimeReadsRfc3339AndGoZeroTime) {
  EXPECT_EQ(ParseApiV2Time("0001-01-01T00:00:00Z"), TimePoint{});
  EXPECT_EQ(ParseApiV2Time("2023-11-14T23:13:20.5+01:00"), kT0 + std::chrono::milliseconds(500));
  EXPECT_FALSE(ParseApiV2Time("2023-11-14 22:13:20Z").has_value());
}

TEST(ApiV2ConfigTest, InvalidYamlIsAnError) {
  auto original = AlertmanagerConfigOriginal("route: [");
  ASSERT_FALSE(original.ok());
  EXPECT_EQ(original.error().message().rfind("invalid configuration YAML: ", 0), 0u);
}

}  // namespace
}  // namespace alertd
