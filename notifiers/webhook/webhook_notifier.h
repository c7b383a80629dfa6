// Webhook integration, sending Alertmanager 0.25's webhook payload (version "4"): version,
// groupKey, truncatedAlerts, status, receiver, groupLabels, commonLabels, commonAnnotations,
// externalURL and alerts, each with status, labels, annotations, startsAt, endsAt (Go's zero
// time while firing), generatorURL and fingerprint.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/http_client.h"
#include "common/result.h"
#include "config/config.h"
#include "notifiers/notifier.h"

namespace alertd {

class WebhookNotifier final : public Notifier {
 public:
  // Fails when url is empty or max_alerts is negative. `client` is shared with other notifiers.
  static Result<std::unique_ptr<WebhookNotifier>> Create(config::WebhookConfig config,
                                                         std::shared_ptr<HttpClient> client);

  // Returns the JSON request body as Alertmanager writes it: keys in Alertmanager's order, Go's
  // escaping, a trailing newline. With max_alerts > 0 only the first max_alerts alerts are
  // kept, truncatedAlerts counts the rest, and status and the common labels and annotations are
  // computed from the kept alerts, as in Alertmanager.
  std::string Render(const Notification& notification) const;

  // POSTs `body` to url.
  Result<HttpResponse> Post(const std::string& body) const;

  // Turns the outcome of Post into an error, or nothing on success (see ClassifyHttpResult).
  std::optional<NotifyError> Classify(const Result<HttpResponse>& result) const;

  // notify::Notifier
  std::string_view integration() const override { return "webhook"; }

  bool send_resolved() const override { return config_.send_resolved; }

  std::optional<NotifyError> Notify(const Notification& notification) override;

 private:
  WebhookNotifier(config::WebhookConfig config, std::shared_ptr<HttpClient> client)
      : config_(std::move(config)), client_(std::move(client)) {}

  config::WebhookConfig config_;
  std::shared_ptr<HttpClient> client_;
};

}  // namespace alertd
