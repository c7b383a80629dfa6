#include "notifiers/notifier.h"

#include <utility>

namespace alertd {

namespace {

// Keeps the entries of `common` that `other` has with the same value.
Labels Intersect(const Labels& common, const Labels& other) {
  std::vector<Label> kept;
  for (const auto& label : common) {
    if (other.Get(label.name) == label.value) {
      kept.push_back(label);
    }
  }
  return Labels(std::move(kept));
}

}  // namespace

Notification MakeNotification(std::string receiver,
                              std::vector<NotifyAlert> alerts,
                              Labels group_labels,
                              std::string external_url,
                              std::string group_key) {
  Notification n;
  n.receiver = std::move(receiver);
  n.status = "resolved";
  for (const auto& alert : alerts) {
    if (!alert.resolved()) {
      n.status = "firing";
    }
  }
  if (!alerts.empty()) {
    n.common_labels = alerts.front().labels;
    n.common_annotations = alerts.front().annotations;
    for (size_t i = 1; i < alerts.size(); ++i) {
      n.common_labels = Intersect(n.common_labels, alerts[i].labels);
      n.common_annotations = Intersect(n.common_annotations, alerts[i].annotations);
    }
  }
  n.alerts = std::move(alerts);
  n.group_labels = std::move(group_labels);
  n.external_url = std::move(external_url);
  n.group_key = std::move(group_key);
  return n;
}

std::string_view FailureReasonName(FailureReason reason) {
  switch (reason) {
    case FailureReason::kClient:
      return "client";
    case FailureReason::kServer:
      return "server";
    case FailureReason::kAuth:
      return "auth";
    case FailureReason::kRateLimited:
      return "rate_limited";
    case FailureReason::kTimeout:
      return "timeout";
    case FailureReason::kTransport:
      return "transport";
  }
  return "unknown";
}

}  // namespace alertd
