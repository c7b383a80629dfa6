// The `notifications` section of alertd.yml: the router's delivery queues.
#include "common/duration.h"
#include "config/config_internal.h"

namespace alertd::config::internal {
namespace {

const yaml::Schema kNotificationsSchema{
    "notifications", {"queue_max_age", "shutdown_timeout"}, {}, {}};

}  // namespace

void LoadNotificationsConfig(const YAML::Node& node,
                             NotificationsConfig& notifications,
                             const yaml::ErrorSink& errors) {
  yaml::Fields fields = yaml::ReadMapping(node, kNotificationsSchema, errors);
  if (const yaml::Entry* entry = fields.Find("queue_max_age")) {
    std::optional<Duration> value = yaml::ReadDuration(*entry, errors);
    if (value && value->count() <= 0) {
      errors(entry->value_position(),
             "notifications queue_max_age must be positive, got " + FormatDuration(*value) +
                 "; set it to how long a failing notification is retried, for example 1h");
    } else if (value) {
      notifications.queue_max_age = *value;
    }
  }
  if (const yaml::Entry* entry = fields.Find("shutdown_timeout")) {
    // 0s is allowed: stop at once and leave every queued notification for the next start.
    std::optional<Duration> value = yaml::ReadDuration(*entry, errors);
    if (value) {
      notifications.shutdown_timeout = *value;
    }
  }
}

}  // namespace alertd::config::internal
