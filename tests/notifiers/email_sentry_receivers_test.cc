// BuildReceivers with email and Sentry entries: integration order and global SMTP defaults.
#include <gtest/gtest.h>

#include "notifiers/fakes.h"
#include "notifiers/receivers.h"

namespace alertd {
namespace {

config::Receiver FullReceiver() {
  config::Receiver team;
  team.name = "team";
  team.sentry_configs.emplace_back();
  team.sentry_configs[0].dsn = "https://key@127.0.0.1:9/1";
  team.slack_configs.emplace_back();
  team.slack_configs[0].api_url = "https://127.0.0.1:9/services/x";
  team.email_configs.emplace_back();
  team.email_configs[0].to = "ops@example.com";
  team.webhook_configs.emplace_back();
  team.webhook_configs[0].url = "http://127.0.0.1:9/hook";
  team.email_configs.push_back(team.email_configs[0]);
  return team;
}

TEST(BuildReceiversTest, OrdersEmailAndSentryLikeAlertmanager) {
  config::Config config;
  config.global.smtp_smarthost = "127.0.0.1:25";
  config.global.smtp_from = "alertd@example.com";
  config.receivers = {FullReceiver()};
  auto receivers = BuildReceivers(config, std::make_shared<testing::FakeHttpClient>());
  ASSERT_TRUE(receivers.ok()) << receivers.error().message();
  const auto& team = receivers->at("team");
  ASSERT_EQ(team.size(), 5u);
  EXPECT_EQ(team[0]->integration(), "webhook");
  EXPECT_EQ(team[1]->integration(), "email");
  EXPECT_EQ(team[2]->integration(), "email");
  EXPECT_EQ(team[3]->integration(), "slack");
  EXPECT_EQ(team[4]->integration(), "sentry");
}

TEST(BuildReceiversTest, EmailWithoutSmarthostAnywhere) {
  config::Config config;
  config.global.smtp_from = "alertd@example.com";
  config::Receiver team = FullReceiver();
  team.email_configs[1].mark = config::Mark{.file = "alertd.yml", .line = 30, .column = 9};
  team.email_configs[0].smarthost = "127.0.0.1:25";
  config.receivers = {team};
  auto receivers = BuildReceivers(config, std::make_shared<testing::FakeHttpClient>());
  ASSERT_FALSE(receivers.ok());
  EXPECT_EQ(receivers.error().message(),
            "alertd.yml:30:9: receiver \"team\" email_configs[1]: email smarthost is empty: set "
            "email_configs[].smarthost or global.smtp_smarthost.");
  EXPECT_EQ(receivers.error().line(), 30);
}

TEST(BuildReceiversTest, InvalidSentryDsnNamesEntry) {
  config::Config config;
  config.global.smtp_smarthost = "127.0.0.1:25";
  config.global.smtp_from = "alertd@example.com";
  config::Receiver team = FullReceiver();
  team.sentry_configs[0].dsn = "https://secretkey@sentry.example.com/";
  team.sentry_configs[0].mark = config::Mark{.file = "alertd.yml", .line = 41, .column = 7};
  config.receivers = {team};
  auto receivers = BuildReceivers(config, std::make_shared<testing::FakeHttpClient>());
  ASSERT_FALSE(receivers.ok());
  EXPECT_EQ(receivers.error().message(),
            "alertd.yml:41:7: receiver \"team\" sentry_configs[0]: Sentry dsn "
            "https://sentry.example.com/<redacted> is invalid: it has no numeric project id at "
            "the end of its path: expected {scheme}://{public_key}@{host}[:port]/{project_id}, "
            "as Sentry's project settings show it.");
  EXPECT_EQ(receivers.error().message().find("secretkey"), std::string::npos);
}

}  // namespace
}  // namespace alertd
