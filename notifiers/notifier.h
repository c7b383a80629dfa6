// The notification model and the Notifier interface that every integration implements. The
// model follows Alertmanager 0.25's template data (template.Data), so payloads and templates
// see the same fields Alertmanager users know.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/labels.h"

namespace alertd {

// One alert as handed to the router.
struct NotifyAlert {
  Labels labels;
  Labels annotations;
  TimePoint starts_at{};
  // Zero (TimePoint{}) while the alert fires without a known end. A time in the future means
  // the alert fires until then.
  TimePoint ends_at{};
  std::string generator_url;

  // Whether the alert is resolved at `now`: it has an end time that is not after `now`.
  bool ResolvedAt(TimePoint now) const { return ends_at != TimePoint{} && ends_at <= now; }

  // Whether the alert is resolved, for alerts inside a Notification: the dispatcher zeroes
  // ends_at of every alert that still fires at flush time, as Alertmanager's types.Alerts does.
  bool resolved() const { return ends_at != TimePoint{}; }

  // "firing" or "resolved", by resolved().
  std::string_view status() const { return resolved() ? "resolved" : "firing"; }

  // Labels::Fingerprint() of the labels: 16 lowercase hex digits, the same as Alertmanager's.
  std::string fingerprint() const { return labels.Fingerprint(); }
};

// One message for one receiver: the alerts of one aggregation group at one flush.
struct Notification {
  std::string receiver;
  std::string status;  // "firing" when any alert fires, else "resolved"
  std::vector<NotifyAlert> alerts;
  Labels group_labels;
  Labels common_labels;           // labels every alert has with the same value
  Labels common_annotations;      // annotations every alert has with the same value
  std::string external_url;       // without a trailing slash, as Alertmanager's ExternalURL
  std::string group_key;          // route key and group labels, e.g. {}:{alertname="X"}
  uint64_t truncated_alerts = 0;  // alerts left out of `alerts` before it reached the notifier
};

// Builds a Notification from `alerts` (kept in the given order), computing status, common
// labels and common annotations the way Alertmanager's template.Data does.
Notification MakeNotification(std::string receiver,
                              std::vector<NotifyAlert> alerts,
                              Labels group_labels,
                              std::string external_url,
                              std::string group_key);

// Why a notification attempt failed; also a log field and a counter label.
enum class FailureReason { kClient, kServer, kAuth, kRateLimited, kTimeout, kTransport };

// Returns "client", "server", "auth", "rate_limited", "timeout" or "transport".
std::string_view FailureReasonName(FailureReason reason);

struct NotifyError {
  bool retryable = false;
  FailureReason reason = FailureReason::kClient;
  std::string message;                  // never contains a webhook URL or any other secret
  std::optional<Duration> retry_after;  // the peer's Retry-After, when it sent one
};

// One configured integration of a receiver (one slack_configs or webhook_configs entry).
// Implementations are thread-safe: a multi-threaded executor may call Notify concurrently.
class Notifier {
 public:
  virtual ~Notifier() = default;

  // "slack" or "webhook": the integration's name in logs, metrics and the notification log.
  virtual std::string_view integration() const = 0;

  // Whether resolved alerts are sent; when false the dispatcher filters them out.
  virtual bool send_resolved() const = 0;

  // Delivers `notification`; returns nothing on success, else why it failed.
  virtual std::optional<NotifyError> Notify(const Notification& notification) = 0;
};

}  // namespace alertd
