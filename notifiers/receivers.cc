#include "notifiers/receivers.h"

#include <utility>

#include "notifiers/slack/slack_notifier.h"
#include "notifiers/templates.h"
#include "notifiers/webhook/webhook_notifier.h"

namespace alertd {

namespace {

Error EntryError(const Error& error,
                 const config::Receiver& receiver,
                 const std::string& entry,
                 const config::Mark& mark) {
  std::string where;
  if (!mark.file.empty()) {
    where = mark.file + ":" + std::to_string(mark.line) + ":" + std::to_string(mark.column) + ": ";
  }
  return Error(error.code(),
               where + "receiver \"" + receiver.name + "\" " + entry + ": " + error.message(),
               mark.line,
               mark.column);
}

}  // namespace

Result<ReceiverMap> BuildReceivers(const config::Config& config,
                                   std::shared_ptr<HttpClient> client) {
  // One template set for every notifier, loaded before any of them, as Alertmanager does.
  auto templates = NotificationTemplates::Load(config);
  if (!templates.ok()) {
    return templates.error();
  }
  ReceiverMap receivers;
  for (const auto& receiver : config.receivers) {
    std::vector<std::unique_ptr<Notifier>>& integrations = receivers[receiver.name];
    for (size_t i = 0; i < receiver.webhook_configs.size(); ++i) {
      const config::WebhookConfig& webhook = receiver.webhook_configs[i];
      auto notifier = WebhookNotifier::Create(webhook, client);
      if (!notifier.ok()) {
        return EntryError(
            notifier.error(), receiver, "webhook_configs[" + std::to_string(i) + "]", webhook.mark);
      }
      integrations.push_back(std::move(notifier).value());
    }
    for (size_t i = 0; i < receiver.slack_configs.size(); ++i) {
      config::SlackConfig slack = receiver.slack_configs[i];
      if (slack.api_url.empty()) {
        slack.api_url = config.global.slack_api_url;
      }
      auto notifier = SlackNotifier::Create(slack, client, *templates);
      if (!notifier.ok()) {
        return EntryError(
            notifier.error(), receiver, "slack_configs[" + std::to_string(i) + "]", slack.mark);
      }
      integrations.push_back(std::move(notifier).value());
    }
  }
  return receivers;
}

}  // namespace alertd
