#include "notifiers/receivers.h"

#include <utility>

#include "notifiers/email/email_notifier.h"
#include "notifiers/sentry/sentry_notifier.h"
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

// Fills what an email_configs entry leaves empty from global.smtp_*, as Alertmanager's loader
// does.
config::EmailConfig WithEmailDefaults(config::EmailConfig email,
                                      const config::GlobalConfig& global) {
  if (email.smarthost.empty()) {
    email.smarthost = global.smtp_smarthost;
  }
  if (email.from.empty()) {
    email.from = global.smtp_from;
  }
  if (email.hello.empty()) {
    email.hello = global.smtp_hello;
  }
  if (email.auth_username.empty()) {
    email.auth_username = global.smtp_auth_username;
  }
  if (email.auth_password.empty()) {
    email.auth_password = global.smtp_auth_password;
  }
  if (email.auth_secret.empty()) {
    email.auth_secret = global.smtp_auth_secret;
  }
  if (email.auth_identity.empty()) {
    email.auth_identity = global.smtp_auth_identity;
  }
  if (!email.require_tls.has_value()) {
    email.require_tls = global.smtp_require_tls;
  }
  return email;
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
    for (size_t i = 0; i < receiver.email_configs.size(); ++i) {
      config::EmailConfig email = WithEmailDefaults(receiver.email_configs[i], config.global);
      EmailNotifierOptions options;
      options.templates = *templates;
      auto notifier = EmailNotifier::Create(email, options);
      if (!notifier.ok()) {
        return EntryError(
            notifier.error(), receiver, "email_configs[" + std::to_string(i) + "]", email.mark);
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
    // Sentry is alertd's own integration, so it comes after Alertmanager's.
    for (size_t i = 0; i < receiver.sentry_configs.size(); ++i) {
      const config::SentryConfig& sentry = receiver.sentry_configs[i];
      auto notifier = SentryNotifier::Create(sentry, client);
      if (!notifier.ok()) {
        return EntryError(
            notifier.error(), receiver, "sentry_configs[" + std::to_string(i) + "]", sentry.mark);
      }
      integrations.push_back(std::move(notifier).value());
    }
  }
  return receivers;
}

}  // namespace alertd
