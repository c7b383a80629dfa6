#include "notifiers/receivers.h"

#include <gtest/gtest.h>

#include "notifiers/fakes.h"
#include "notifiers/slack/slack_notifier.h"

namespace alertd {
namespace {

TEST(BuildReceiversTest, CreatesWebhooksThenSlackPerReceiver) {
  config::Config config;
  config.global.slack_api_url = "https://127.0.0.1:9/services/global";
  config::Receiver team;
  team.name = "team";
  team.slack_configs.emplace_back();
  team.webhook_configs.emplace_back();
  team.webhook_configs[0].url = "http://127.0.0.1:9/hook";
  config::Receiver empty;
  empty.name = "blackhole";
  config.receivers = {team, empty};

  auto client = std::make_shared<testing::FakeHttpClient>();
  auto receivers = BuildReceivers(config, client);
  ASSERT_TRUE(receivers.ok()) << receivers.error().message();
  ASSERT_EQ(receivers->size(), 2u);
  ASSERT_EQ(receivers->at("team").size(), 2u);
  EXPECT_EQ(receivers->at("team")[0]->integration(), "webhook");
  EXPECT_EQ(receivers->at("team")[1]->integration(), "slack");
  EXPECT_TRUE(receivers->at("blackhole").empty());

  // The Slack entry without api_url posts to global.slack_api_url.
  Notification n = MakeNotification("team", {}, Labels{}, "http://am", "{}:{}");
  EXPECT_FALSE(receivers->at("team")[1]->Notify(n).has_value());
  ASSERT_EQ(client->requests().size(), 1u);
  EXPECT_EQ(client->requests()[0].url, "https://127.0.0.1:9/services/global");
}

TEST(BuildReceiversTest, ErrorNamesReceiverEntryAndPosition) {
  config::Config config;
  config::Receiver team;
  team.name = "team";
  team.webhook_configs.emplace_back();
  team.webhook_configs.emplace_back();
  team.webhook_configs[0].url = "http://127.0.0.1:9/hook";
  team.webhook_configs[1].mark = config::Mark{.file = "alertd.yml", .line = 12, .column = 7};
  config.receivers = {team};
  auto receivers = BuildReceivers(config, std::make_shared<testing::FakeHttpClient>());
  ASSERT_FALSE(receivers.ok());
  EXPECT_EQ(receivers.error().message(),
            "alertd.yml:12:7: receiver \"team\" webhook_configs[1]: webhook url is empty: set "
            "webhook_configs[].url or url_file.");
  EXPECT_EQ(receivers.error().line(), 12);
  EXPECT_EQ(receivers.error().column(), 7);
}

}  // namespace
}  // namespace alertd
