// Behaviour every HTTP notifier shares: the HTTP outcome to NotifyError matrix and keeping the
// webhook URL out of every error message.
#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "notifiers/fakes.h"
#include "notifiers/http_errors.h"
#include "notifiers/slack/slack_notifier.h"
#include "notifiers/webhook/webhook_notifier.h"

namespace alertd {
namespace {

constexpr std::string_view kSecretUrl = "https://127.0.0.1:9/services/T000/B000/XXXXSECRET";
constexpr std::string_view kSecretPath = "services/T000/B000/XXXXSECRET";

struct NotifierKind {
  std::string name;
  std::function<std::unique_ptr<Notifier>(std::shared_ptr<HttpClient>)> make;
};

std::vector<NotifierKind> Kinds() {
  return {
      {"Slack",
       [](std::shared_ptr<HttpClient> client) -> std::unique_ptr<Notifier> {
         config::SlackConfig config;
         config.api_url = std::string(kSecretUrl);
         config.channel = "#alerts";
         return std::move(SlackNotifier::Create(config, std::move(client))).value();
       }},
      {"Webhook",
       [](std::shared_ptr<HttpClient> client) -> std::unique_ptr<Notifier> {
         config::WebhookConfig config;
         config.url = std::string(kSecretUrl);
         return std::move(WebhookNotifier::Create(config, std::move(client))).value();
       }},
  };
}

struct Outcome {
  std::string name;
  std::function<Result<HttpResponse>()> response;
  bool ok;
  bool retryable;
  FailureReason reason;
  std::optional<Duration> retry_after;
};

std::vector<Outcome> Outcomes() {
  using testing::MakeResponse;
  auto status = [](int code, std::vector<std::pair<std::string, std::string>> headers = {}) {
    return [code, headers] {
      return Result<HttpResponse>(MakeResponse(code, "boom", headers));
    };
  };
  return {
      {"Http200", status(200), true, false, FailureReason::kClient, std::nullopt},
      {"Http204", status(204), true, false, FailureReason::kClient, std::nullopt},
      {"Http400", status(400), false, false, FailureReason::kClient, std::nullopt},
      {"Http401", status(401), false, false, FailureReason::kAuth, std::nullopt},
      {"Http403", status(403), false, false, FailureReason::kAuth, std::nullopt},
      {"Http404", status(404), false, false, FailureReason::kClient, std::nullopt},
      {"Http429RetryAfter",
       status(429, {{"retry-after", "30"}}),
       false,
       true,
       FailureReason::kRateLimited,
       Duration(30000)},
      {"Http429", status(429), false, true, FailureReason::kRateLimited, std::nullopt},
      {"Http500", status(500), false, true, FailureReason::kServer, std::nullopt},
      {"Http503", status(503), false, true, FailureReason::kServer, std::nullopt},
      {"Timeout",
       [] { return Result<HttpResponse>(Error::Timeout("HTTP request timed out after 10000ms")); },
       false,
       true,
       FailureReason::kTimeout,
       std::nullopt},
      {"ConnectionRefused",
       [] {
         return Result<HttpResponse>(
             Error::Unavailable("HTTP request failed: Couldn't connect to server"));
       },
       false,
       true,
       FailureReason::kTransport,
       std::nullopt},
  };
}

Notification SomeNotification() {
  NotifyAlert alert;
  alert.labels = Labels{{"alertname", "Down"}};
  return MakeNotification("team", {alert}, Labels{{"alertname", "Down"}}, "http://am", "{}:{}");
}

class NotifierConformanceTest : public ::testing::TestWithParam<std::tuple<NotifierKind, Outcome>> {
};

TEST_P(NotifierConformanceTest, ClassifiesHttpOutcome) {
  const auto& [kind, outcome] = GetParam();
  auto client = std::make_shared<testing::FakeHttpClient>();
  client->Push(outcome.response());
  auto notifier = kind.make(client);
  std::optional<NotifyError> error = notifier->Notify(SomeNotification());
  ASSERT_EQ(client->requests().size(), 1u);
  if (outcome.ok) {
    EXPECT_FALSE(error.has_value()) << error->message;
    return;
  }
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->retryable, outcome.retryable);
  EXPECT_EQ(FailureReasonName(error->reason), FailureReasonName(outcome.reason));
  EXPECT_EQ(error->retry_after, outcome.retry_after);
  EXPECT_FALSE(error->message.empty());
  EXPECT_EQ(error->message.find(kSecretPath), std::string::npos) << error->message;
}

INSTANTIATE_TEST_SUITE_P(AllNotifiers,
                         NotifierConformanceTest,
                         ::testing::Combine(::testing::ValuesIn(Kinds()),
                                            ::testing::ValuesIn(Outcomes())),
                         [](const auto& info) {
                           return std::get<0>(info.param).name + std::get<1>(info.param).name;
                         });

class NotifierSecretTest : public ::testing::TestWithParam<NotifierKind> {};

// The peer or the HTTP client may repeat the URL; the message must still not contain it.
TEST_P(NotifierSecretTest, NoErrorMessageContainsTheUrl) {
  std::vector<Result<HttpResponse>> echoes = {
      testing::MakeResponse(404, "no such hook: " + std::string(kSecretUrl)),
      testing::MakeResponse(500, "failed on /" + std::string(kSecretPath)),
      testing::MakeResponse(400, std::string(kSecretPath)),
      Error::Unavailable("could not connect to " + std::string(kSecretUrl)),
      Error::Timeout("timed out posting to " + std::string(kSecretUrl)),
  };
  for (auto& echo : echoes) {
    auto client = std::make_shared<testing::FakeHttpClient>();
    client->Push(std::move(echo));
    auto notifier = GetParam().make(client);
    std::optional<NotifyError> error = notifier->Notify(SomeNotification());
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->message.find("XXXXSECRET"), std::string::npos) << error->message;
    EXPECT_EQ(error->message.find("T000"), std::string::npos) << error->message;
    EXPECT_NE(error->message.find("https://127.0.0.1:9/<redacted>"), std::string::npos)
        << error->message;
  }
}

INSTANTIATE_TEST_SUITE_P(AllNotifiers,
                         NotifierSecretTest,
                         ::testing::ValuesIn(Kinds()),
                         [](const auto& info) { return info.param.name; });

TEST(ClassifyHttpResultTest, MessageNamesStatusAndBody) {
  auto error = ClassifyHttpResult(
      testing::MakeResponse(503, "upstream down\n"), "webhook", "http://127.0.0.1:9/hook");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->message,
            "webhook http://127.0.0.1:9/<redacted> returned HTTP status 503: upstream down");
}

TEST(ClassifyHttpResultTest, LongBodyIsCut) {
  auto error = ClassifyHttpResult(
      testing::MakeResponse(500, std::string(1000, 'x')), "webhook", "http://127.0.0.1:9/hook");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->message,
            "webhook http://127.0.0.1:9/<redacted> returned HTTP status 500: " +
                std::string(256, 'x') + "...");
}

TEST(ParseRetryAfterTest, AcceptsSecondsOnly) {
  EXPECT_EQ(ParseRetryAfter("120"), Duration(120000));
  EXPECT_EQ(ParseRetryAfter(" 0 "), Duration(0));
  EXPECT_EQ(ParseRetryAfter(""), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-1"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2026 07:28:00 GMT"), std::nullopt);
}

}  // namespace
}  // namespace alertd
