#include "notifiers/webhook/webhook_notifier.h"

#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "notifiers/http_errors.h"
#include "notifiers/http_options.h"
#include "notifiers/payload.h"

namespace alertd {

Result<std::unique_ptr<WebhookNotifier>> WebhookNotifier::Create(
    config::WebhookConfig config, std::shared_ptr<HttpClient> client) {
  if (config.url.empty()) {
    return Error::Invalid("webhook url is empty: set webhook_configs[].url or url_file.");
  }
  if (config.max_alerts < 0) {
    return Error::Invalid("webhook max_alerts is " + std::to_string(config.max_alerts) +
                          ": use 0 for no limit or a positive number.");
  }
  return std::unique_ptr<WebhookNotifier>(
      new WebhookNotifier(std::move(config), std::move(client)));
}

std::string WebhookNotifier::Render(const Notification& notification) const {
  std::vector<NotifyAlert> alerts = notification.alerts;
  uint64_t truncated = notification.truncated_alerts;
  const size_t max_alerts = static_cast<size_t>(config_.max_alerts);
  if (max_alerts > 0 && alerts.size() > max_alerts) {
    truncated += alerts.size() - max_alerts;
    alerts.resize(max_alerts);
  }
  Notification data = MakeNotification(notification.receiver,
                                       std::move(alerts),
                                       notification.group_labels,
                                       notification.external_url,
                                       notification.group_key);

  nlohmann::ordered_json alerts_json = nlohmann::ordered_json::array();
  for (const auto& alert : data.alerts) {
    alerts_json.push_back({
        {"status", alert.status()},
        {"labels", LabelsToJson(alert.labels)},
        {"annotations", LabelsToJson(alert.annotations)},
        {"startsAt", FormatGoTime(alert.starts_at)},
        {"endsAt", FormatGoTime(alert.ends_at)},
        {"generatorURL", alert.generator_url},
        {"fingerprint", alert.fingerprint()},
    });
  }
  // Key order is that of Alertmanager's webhook.Message: the embedded template.Data first.
  nlohmann::ordered_json message = {
      {"receiver", GoQuoteMeta(data.receiver)},  // as template.Data quotes it
      {"status", data.status},
      {"alerts", alerts_json},
      {"groupLabels", LabelsToJson(data.group_labels)},
      {"commonLabels", LabelsToJson(data.common_labels)},
      {"commonAnnotations", LabelsToJson(data.common_annotations)},
      {"externalURL", data.external_url},
      {"version", "4"},
      {"groupKey", data.group_key},
      {"truncatedAlerts", truncated},
  };
  return EncodeGoJson(message);
}

Result<HttpResponse> WebhookNotifier::Post(const std::string& body) const {
  HttpRequest request;
  request.method = "POST";
  request.url = config_.url;
  request.headers = {{"Content-Type", "application/json"}, {"User-Agent", "alertd"}};
  ApplyHttpConfig(config_.http_config, request);
  request.body = body;
  return client_->Do(request);
}

std::optional<NotifyError> WebhookNotifier::Classify(const Result<HttpResponse>& result) const {
  return ClassifyHttpResult(result, "webhook", config_.url);
}

std::optional<NotifyError> WebhookNotifier::Notify(const Notification& notification) {
  return Classify(Post(Render(notification)));
}

}  // namespace alertd
