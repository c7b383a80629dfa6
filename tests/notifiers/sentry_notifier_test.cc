#include "notifiers/sentry/sentry_notifier.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/local_http_server.h"
#include "notifiers/fakes.h"
#include "notifiers/time_util.h"

namespace alertd {
namespace {

using testing::HttpResponseBytes;
using testing::LocalHttpServer;
using testing::ReceivedRequest;
using testing::Utc;

constexpr std::string_view kKey = "0123456789abcdef0123456789abcdef";

struct Envelope {
  nlohmann::json header;
  nlohmann::json item;
  nlohmann::json event;
  size_t event_bytes = 0;
};

// Splits an envelope into its three lines; the event must be exactly `length` bytes.
Envelope ParseEnvelope(const std::string& body) {
  Envelope envelope;
  size_t first = body.find('\n');
  size_t second = body.find('\n', first + 1);
  EXPECT_NE(second, std::string::npos) << body;
  envelope.header = nlohmann::json::parse(body.substr(0, first));
  envelope.item = nlohmann::json::parse(body.substr(first + 1, second - first - 1));
  std::string event = body.substr(second + 1);
  EXPECT_TRUE(event.ends_with("\n"));
  event.pop_back();
  envelope.event_bytes = event.size();
  envelope.event = nlohmann::json::parse(event);
  return envelope;
}

NotifyAlert Alert(std::string instance, std::string severity) {
  NotifyAlert alert;
  alert.labels = Labels{{"alertname", "HighLatency"},
                        {"service", "api"},
                        {"instance", std::move(instance)},
                        {"severity", std::move(severity)}};
  alert.annotations = Labels{{"summary", "Latency is high"}};
  alert.starts_at = Utc(2026, 12, 4, 15, 30, 0);
  alert.generator_url = "http://prom:9090/graph?g0.expr=up";
  return alert;
}

const std::string kGroupKey = "{}:{alertname=\"HighLatency\"}";

Notification Firing(std::vector<NotifyAlert> alerts) {
  return MakeNotification(
      "team", std::move(alerts), Labels{{"alertname", "HighLatency"}}, "http://am:9093", kGroupKey);
}

Notification Resolved() {
  NotifyAlert alert = Alert("a:1", "critical");
  alert.ends_at = Utc(2026, 12, 4, 15, 45, 0);
  return Firing({alert});
}

struct Fixture {
  std::shared_ptr<FakeClock> clock =
      std::make_shared<FakeClock>(Utc(2026, 12, 4, 15, 38, 11, 250000000));

  std::unique_ptr<SentryNotifier> Make(config::SentryConfig config,
                                       std::shared_ptr<HttpClient> client) {
    SentryNotifierOptions options;
    options.clock = clock;
    options.timeout = Duration(2000);
    auto notifier = SentryNotifier::Create(std::move(config), std::move(client), options);
    EXPECT_TRUE(notifier.ok()) << notifier.error().message();
    return std::move(notifier).value();
  }
};

config::SentryConfig ConfigFor(const std::string& base_url) {
  config::SentryConfig config;
  std::string host = base_url.substr(std::string("http://").size());
  config.dsn = "http://" + std::string(kKey) + "@" + host + "/prefix/42";
  config.environment = "production";
  config.release = "2026.12";
  return config;
}

TEST(SentryNotifierTest, PostsEnvelopeToDsnEndpoint) {
  LocalHttpServer server([](const ReceivedRequest&) { return HttpResponseBytes(200, "{}"); });
  Fixture f;
  config::SentryConfig config = ConfigFor(server.BaseUrl());
  auto notifier = f.Make(config, MakeCurlHttpClient());

  std::optional<NotifyError> error =
      notifier->Notify(Firing({Alert("a:1", "warning"), Alert("b:1", "critical")}));
  ASSERT_FALSE(error.has_value()) << error->message;
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const ReceivedRequest& request = requests[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/prefix/api/42/envelope/");
  EXPECT_EQ(request.Header("content-type"), "application/x-sentry-envelope");
  std::string auth = request.Header("x-sentry-auth");
  EXPECT_TRUE(auth.starts_with("Sentry sentry_version=7, sentry_client=alertd/")) << auth;
  EXPECT_TRUE(auth.ends_with(", sentry_key=" + std::string(kKey))) << auth;
  EXPECT_EQ(auth.find("alertd/unknown"), std::string::npos) << auth;
  EXPECT_TRUE(request.Header("user-agent").starts_with("alertd/")) << request.Header("user-agent");

  Envelope envelope = ParseEnvelope(request.body);
  EXPECT_EQ(envelope.header["dsn"], config.dsn);
  EXPECT_EQ(envelope.header["sent_at"], "2026-12-04T15:38:11.25Z");
  EXPECT_EQ(envelope.header["event_id"], envelope.event["event_id"]);
  EXPECT_EQ(envelope.item["type"], "event");
  EXPECT_EQ(envelope.item["length"], envelope.event_bytes);

  const nlohmann::json& event = envelope.event;
  std::string event_id = event["event_id"];
  EXPECT_EQ(event_id.size(), 32u);
  EXPECT_EQ(event_id.find_first_not_of("0123456789abcdef"), std::string::npos) << event_id;
  EXPECT_EQ(event["timestamp"], "2026-12-04T15:38:11.25Z");
  EXPECT_EQ(event["platform"], "other");
  EXPECT_EQ(event["level"], "fatal");
  EXPECT_EQ(event["logger"], "alertd");
  EXPECT_EQ(event["message"]["formatted"], "Latency is high");
  EXPECT_EQ(event["environment"], "production");
  EXPECT_EQ(event["release"], "2026.12");
  EXPECT_EQ(event["fingerprint"], nlohmann::json::array({kGroupKey}));
  EXPECT_EQ(event["tags"],
            nlohmann::json({{"alertname", "HighLatency"},
                            {"service", "api"},
                            {"alertd_group", SentryGroupTag(kGroupKey)},
                            {"alertd_status", "firing"}}));
  const nlohmann::json& extra = event["extra"];
  EXPECT_EQ(extra["receiver"], "team");
  EXPECT_EQ(extra["groupKey"], kGroupKey);
  EXPECT_EQ(extra["externalURL"], "http://am:9093");
  ASSERT_EQ(extra["alerts"].size(), 2u);
  EXPECT_EQ(extra["alerts"][0]["labels"]["instance"], "a:1");
  EXPECT_EQ(extra["alerts"][0]["annotations"]["summary"], "Latency is high");
  EXPECT_EQ(extra["alerts"][0]["startsAt"], "2026-12-04T15:30:00Z");
  EXPECT_EQ(extra["alerts"][0]["generatorURL"], "http://prom:9090/graph?g0.expr=up");
  EXPECT_EQ(extra["alerts"][1]["labels"]["severity"], "critical");
}

TEST(SentryNotifierTest, LevelFromSeverity) {
  struct Case {
    std::string severity;
    std::string level;
  };

  std::vector<Case> cases = {{"critical", "fatal"},
                             {"error", "error"},
                             {"warning", "warning"},
                             {"info", "info"},
                             {"page", "error"},
                             {"", "error"}};
  Fixture f;
  config::SentryConfig config;
  config.dsn = "https://" + std::string(kKey) + "@127.0.0.1:9/1";
  auto notifier = f.Make(config, std::make_shared<testing::FakeHttpClient>());
  for (const auto& c : cases) {
    NotifyAlert alert = Alert("a:1", c.severity);
    if (c.severity.empty()) {
      alert.labels = LabelsBuilder(alert.labels).Del("severity").Build();
    }
    auto event = notifier->RenderEvent(Firing({alert}), "id");
    EXPECT_EQ(event["level"], c.level) << c.severity;
  }
}

TEST(SentryNotifierTest, ResolvedIsInfoOnSameFingerprint) {
  Fixture f;
  config::SentryConfig config;
  config.dsn = "https://" + std::string(kKey) + "@127.0.0.1:9/1";
  auto notifier = f.Make(config, std::make_shared<testing::FakeHttpClient>());
  auto event = notifier->RenderEvent(Resolved(), "id");
  EXPECT_EQ(event["level"], "info");
  EXPECT_EQ(event["message"]["formatted"], "[RESOLVED] Latency is high");
  EXPECT_EQ(event["fingerprint"], nlohmann::ordered_json::array({kGroupKey}));
  EXPECT_EQ(event["tags"]["alertd_status"], "resolved");
  EXPECT_FALSE(event.contains("environment"));
  EXPECT_FALSE(event.contains("release"));
}

TEST(SentryNotifierTest, MessageFallsBackToAlertname) {
  Fixture f;
  config::SentryConfig config;
  config.dsn = "https://" + std::string(kKey) + "@127.0.0.1:9/1";
  auto notifier = f.Make(config, std::make_shared<testing::FakeHttpClient>());
  NotifyAlert a = Alert("a:1", "warning");
  NotifyAlert b = Alert("b:1", "warning");
  b.annotations = Labels{{"summary", "Other summary"}};
  auto event = notifier->RenderEvent(Firing({a, b}), "id");
  EXPECT_EQ(event["message"]["formatted"], "HighLatency");
}

TEST(SentryNotifierTest, TagsAreCutToSentryLimits) {
  Fixture f;
  config::SentryConfig config;
  config.dsn = "https://" + std::string(kKey) + "@127.0.0.1:9/1";
  auto notifier = f.Make(config, std::make_shared<testing::FakeHttpClient>());
  NotifyAlert alert = Alert("a:1", "warning");
  std::string long_name(40, 'k');
  std::string long_value = std::string(199, 'v') + "\u00e9";  // the cut falls inside é
  alert.labels = LabelsBuilder(alert.labels).Set(long_name, long_value).Build();
  auto event = notifier->RenderEvent(Firing({alert}), "id");
  ASSERT_TRUE(event["tags"].contains(std::string(32, 'k')));
  EXPECT_EQ(event["tags"][std::string(32, 'k')], std::string(199, 'v'));
}

TEST(SentryNotifierTest, RateLimitWaits) {
  struct Case {
    std::string name;
    std::vector<std::pair<std::string, std::string>> headers;
    Duration wait;
  };

  std::vector<Case> cases = {
      {"RetryAfter", {{"retry-after", "30"}}, Duration(30000)},
      {"SentryHeaderWins",
       {{"retry-after", "30"}, {"x-sentry-rate-limits", "120:error:project, 600:transaction:key"}},
       Duration(120000)},
      {"AllCategories", {{"x-sentry-rate-limits", "45::organization"}}, Duration(45000)},
      {"OtherCategoryOnly", {{"x-sentry-rate-limits", "600:transaction:key"}}, Duration(60000)},
      {"NoHeader", {}, Duration(60000)},
  };
  for (const auto& c : cases) {
    Fixture f;
    config::SentryConfig config;
    config.dsn = "https://" + std::string(kKey) + "@127.0.0.1:9/1";
    auto client = std::make_shared<testing::FakeHttpClient>();
    client->Push(testing::MakeResponse(429, "", c.headers));
    auto notifier = f.Make(config, client);
    std::optional<NotifyError> error = notifier->Notify(Firing({Alert("a:1", "warning")}));
    ASSERT_TRUE(error.has_value()) << c.name;
    EXPECT_TRUE(error->retryable) << c.name;
    EXPECT_EQ(FailureReasonName(error->reason), "rate_limited") << c.name;
    EXPECT_EQ(error->retry_after, c.wait) << c.name;
  }
}

TEST(SentryNotifierTest, ErrorsNeverContainKey) {
  std::vector<Result<HttpResponse>> echoes = {
      testing::MakeResponse(403, "invalid key " + std::string(kKey)),
      testing::MakeResponse(500, "{\"dsn\":\"https://" + std::string(kKey) + "@h/1\"}"),
      Error::Unavailable("could not connect for key " + std::string(kKey)),
      Error::Timeout("timed out"),
  };
  std::vector<std::string> reasons = {"auth", "server", "transport", "timeout"};
  for (size_t i = 0; i < echoes.size(); ++i) {
    Fixture f;
    config::SentryConfig config;
    config.dsn = "https://" + std::string(kKey) + "@127.0.0.1:9/1";
    auto client = std::make_shared<testing::FakeHttpClient>();
    client->Push(std::move(echoes[i]));
    auto notifier = f.Make(config, client);
    std::optional<NotifyError> error = notifier->Notify(Firing({Alert("a:1", "warning")}));
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(FailureReasonName(error->reason), reasons[i]);
    EXPECT_EQ(error->message.find(kKey), std::string::npos) << error->message;
    EXPECT_NE(error->message.find("Sentry https://127.0.0.1:9/<redacted>"), std::string::npos)
        << error->message;
  }
}

TEST(SentryNotifierTest, ResolvesIssueThroughWebApi) {
  LocalHttpServer server([](const ReceivedRequest& request) {
    if (request.method == "GET") {
      return HttpResponseBytes(200, R"([{"id":"1001","status":"unresolved"},{"id":"1002"}])");
    }
    return HttpResponseBytes(200, R"({"status":"resolved"})");
  });
  Fixture f;
  config::SentryConfig config = ConfigFor(server.BaseUrl());
  config.auth_token = "sntrys_token_value";
  config.organization = "acme";
  config.project = "alerts";
  auto notifier = f.Make(config, MakeCurlHttpClient());

  std::optional<NotifyError> error = notifier->Notify(Resolved());
  ASSERT_FALSE(error.has_value()) << error->message;
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].target, "/prefix/api/42/envelope/");
  EXPECT_EQ(ParseEnvelope(requests[0].body).event["level"], "info");
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].target,
            "/prefix/api/0/projects/acme/alerts/issues/?query=is%3Aunresolved+alertd_group%3A" +
                SentryGroupTag(kGroupKey));
  EXPECT_EQ(requests[1].Header("authorization"), "Bearer sntrys_token_value");
  EXPECT_EQ(requests[2].method, "PUT");
  EXPECT_EQ(requests[2].target, "/prefix/api/0/projects/acme/alerts/issues/?id=1001&id=1002");
  EXPECT_EQ(requests[2].Header("authorization"), "Bearer sntrys_token_value");
  EXPECT_EQ(nlohmann::json::parse(requests[2].body), nlohmann::json({{"status", "resolved"}}));
}

TEST(SentryNotifierTest, FiringDoesNotTouchWebApi) {
  LocalHttpServer server([](const ReceivedRequest&) { return HttpResponseBytes(200, "{}"); });
  Fixture f;
  config::SentryConfig config = ConfigFor(server.BaseUrl());
  config.auth_token = "sntrys_token_value";
  config.organization = "acme";
  config.project = "alerts";
  auto notifier = f.Make(config, MakeCurlHttpClient());
  std::optional<NotifyError> error = notifier->Notify(Firing({Alert("a:1", "warning")}));
  ASSERT_FALSE(error.has_value()) << error->message;
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(SentryNotifierTest, NoIssueFoundIsSuccess) {
  Fixture f;
  config::SentryConfig config;
  config.dsn = "https://" + std::string(kKey) + "@127.0.0.1:9/1";
  config.auth_token = "sntrys_token_value";
  config.organization = "acme";
  config.project = "alerts";
  config.api_url = "https://127.0.0.1:9/custom/api/0";
  auto client = std::make_shared<testing::FakeHttpClient>();
  client->Push(testing::MakeResponse(200, "{}"));
  client->Push(testing::MakeResponse(200, "[]"));
  auto notifier = f.Make(config, client);
  std::optional<NotifyError> error = notifier->Notify(Resolved());
  ASSERT_FALSE(error.has_value()) << error->message;
  auto requests = client->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_TRUE(requests[1].url.starts_with(
      "https://127.0.0.1:9/custom/api/0/projects/acme/alerts/issues/?query="))
      << requests[1].url;
}

TEST(SentryNotifierTest, ResolveFailureIsReportedWithoutToken) {
  Fixture f;
  config::SentryConfig config;
  config.dsn = "https://" + std::string(kKey) + "@127.0.0.1:9/1";
  config.auth_token = "sntrys_token_value";
  config.organization = "acme";
  config.project = "alerts";
  auto client = std::make_shared<testing::FakeHttpClient>();
  client->Push(testing::MakeResponse(200, "{}"));
  client->Push(testing::MakeResponse(401, "bad token sntrys_token_value"));
  auto notifier = f.Make(config, client);
  std::optional<NotifyError> error = notifier->Notify(Resolved());
  ASSERT_TRUE(error.has_value());
  EXPECT_FALSE(error->retryable);
  EXPECT_EQ(FailureReasonName(error->reason), "auth");
  EXPECT_EQ(error->message,
            "finding the Sentry issue to resolve failed: Sentry Web API "
            "https://127.0.0.1:9/<redacted> returned HTTP status 401: bad token <redacted>");
}

// A secret that is part of "<redacted>" must not make the scrubbing loop forever.
TEST(SentryNotifierTest, ShortTokenIsScrubbed) {
  Fixture f;
  config::SentryConfig config;
  config.dsn = "https://" + std::string(kKey) + "@127.0.0.1:9/1";
  config.auth_token = "e";
  config.organization = "acme";
  config.project = "alerts";
  auto client = std::make_shared<testing::FakeHttpClient>();
  client->Push(testing::MakeResponse(200, "{}"));
  client->Push(testing::MakeResponse(403, "token e rejected"));
  auto notifier = f.Make(config, client);
  std::optional<NotifyError> error = notifier->Notify(Resolved());
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->message.find("token e "), std::string::npos) << error->message;
}

TEST(SentryNotifierTest, IntegrationName) {
  Fixture f;
  config::SentryConfig config;
  config.dsn = "https://" + std::string(kKey) + "@127.0.0.1:9/1";
  auto notifier = f.Make(config, std::make_shared<testing::FakeHttpClient>());
  EXPECT_EQ(notifier->integration(), "sentry");
  EXPECT_TRUE(notifier->send_resolved());
}

TEST(ParseSentryDsnTest, PartsAndUrls) {
  auto dsn = ParseSentryDsn("https://abc:legacy@o1.ingest.sentry.io:8443/sub/path/123");
  ASSERT_TRUE(dsn.ok()) << dsn.error().message();
  EXPECT_EQ(dsn->public_key, "abc");
  EXPECT_EQ(dsn->host, "o1.ingest.sentry.io:8443");
  EXPECT_EQ(dsn->path, "sub/path/");
  EXPECT_EQ(dsn->project_id, "123");
  EXPECT_EQ(dsn->EnvelopeUrl(), "https://o1.ingest.sentry.io:8443/sub/path/api/123/envelope/");
  EXPECT_EQ(dsn->WebApiUrl(), "https://o1.ingest.sentry.io:8443/sub/path/api/0/");
  auto plain = ParseSentryDsn("http://key@localhost/7");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->EnvelopeUrl(), "http://localhost/api/7/envelope/");
}

struct CreateErrorCase {
  std::string name;
  std::function<void(config::SentryConfig&)> edit;
  std::string message;
};

class SentryCreateErrorTest : public ::testing::TestWithParam<CreateErrorCase> {};

TEST_P(SentryCreateErrorTest, RejectsConfig) {
  config::SentryConfig config;
  config.dsn = "https://" + std::string(kKey) + "@sentry.example.com/1";
  GetParam().edit(config);
  auto notifier = SentryNotifier::Create(config, std::make_shared<testing::FakeHttpClient>());
  ASSERT_FALSE(notifier.ok());
  EXPECT_EQ(notifier.error().message(), GetParam().message);
  EXPECT_EQ(notifier.error().message().find(kKey), std::string::npos);
}

const std::string kExpected =
    ": expected {scheme}://{public_key}@{host}[:port]/{project_id}, as Sentry's project settings "
    "show it.";

INSTANTIATE_TEST_SUITE_P(
    Cases,
    SentryCreateErrorTest,
    ::testing::Values(
        CreateErrorCase{"EmptyDsn",
                        [](auto& c) { c.dsn.clear(); },
                        "Sentry dsn is empty: set sentry_configs[].dsn or dsn_file."},
        CreateErrorCase{"NoScheme",
                        [](auto& c) { c.dsn = std::string(kKey) + "@sentry.example.com/1"; },
                        "Sentry dsn <redacted> is invalid: it has no scheme" + kExpected},
        CreateErrorCase{"FtpScheme",
                        [](auto& c) { c.dsn = "ftp://" + std::string(kKey) + "@h/1"; },
                        "Sentry dsn ftp://h/<redacted> is invalid: the scheme must be http or "
                        "https" +
                            kExpected},
        CreateErrorCase{"NoKey",
                        [](auto& c) { c.dsn = "https://sentry.example.com/1"; },
                        "Sentry dsn https://sentry.example.com/<redacted> is invalid: it has no "
                        "public key" +
                            kExpected},
        CreateErrorCase{"NoProject",
                        [](auto& c) { c.dsn = "https://" + std::string(kKey) + "@h.example/"; },
                        "Sentry dsn https://h.example/<redacted> is invalid: it has no numeric "
                        "project id at the end of its path" +
                            kExpected},
        CreateErrorCase{"ProjectNotNumeric",
                        [](auto& c) { c.dsn = "https://" + std::string(kKey) + "@h.example/ab"; },
                        "Sentry dsn https://h.example/<redacted> is invalid: it has no numeric "
                        "project id at the end of its path" +
                            kExpected},
        CreateErrorCase{"PartialResolveConfig",
                        [](auto& c) { c.auth_token = "token"; },
                        "Sentry auth_token, organization and project are only partly set: set all "
                        "three to resolve issues through the Web API, or none."},
        CreateErrorCase{"ApiUrlNotHttp",
                        [](auto& c) { c.api_url = "sentry.io/api/0/"; },
                        "Sentry api_url \"<redacted>\" is invalid: use an http:// or https:// URL "
                        "such as https://sentry.io/api/0/."}),
    [](const auto& info) { return info.param.name; });

TEST(ParseSentryRateLimitsTest, InvalidEntriesIgnored) {
  EXPECT_EQ(ParseSentryRateLimits(""), std::nullopt);
  EXPECT_EQ(ParseSentryRateLimits("abc:error"), std::nullopt);
  EXPECT_EQ(ParseSentryRateLimits("10"), std::nullopt);
  EXPECT_EQ(ParseSentryRateLimits("10:default;error:org, x:error"), Duration(10000));
}

}  // namespace
}  // namespace alertd
