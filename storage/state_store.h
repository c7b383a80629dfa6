// Persistent alert state and notification log, kept in SQLite (storage.path/alertd.db).
// The schema and its versions are documented in docs/state-schema.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/labels.h"
#include "common/result.h"

namespace alertd {

enum class AlertState { kInactive = 0, kPending = 1, kFiring = 2 };

// Returns "inactive", "pending" or "firing".
const char* AlertStateName(AlertState state);

// One alert of an alerting rule, as stored. `rule_key` identifies the rule across restarts:
// rule file path, group name, rule index and rule name joined with '\x1f' (see
// docs/state-schema.md); `labels` is the alert's full label set.
struct StoredAlert {
  std::string rule_key;
  Labels labels;
  Labels annotations;
  AlertState state = AlertState::kPending;
  double value = 0;
  TimePoint active_at{};
  std::optional<TimePoint> fired_at;
  std::optional<TimePoint> resolved_at;
  std::optional<TimePoint> keep_firing_since;
  TimePoint last_eval{};  // last evaluation that saw the alert's expression result
};

// The record of the last notification sent for one aggregation group to one receiver, as in
// Alertmanager's notification log: which alerts were firing and which resolved.
struct NotificationLogEntry {
  std::string receiver;          // receiver name plus integration index, e.g. "team-slack/slack/0"
  std::string group_key;         // route + group labels
  std::vector<uint64_t> firing;  // alert label hashes, sorted
  std::vector<uint64_t> resolved;  // alert label hashes, sorted
  TimePoint sent_at{};
};

// One matcher of a silence, as Alertmanager's API v2 matcher: `is_equal` false negates it.
struct StoredSilenceMatcher {
  std::string name;
  std::string value;
  bool is_regex = false;
  bool is_equal = true;

  friend bool operator==(const StoredSilenceMatcher&, const StoredSilenceMatcher&) = default;
};

// A silence as stored, Alertmanager's silencepb.Silence.
struct StoredSilence {
  std::string id;  // UUID
  std::vector<StoredSilenceMatcher> matchers;
  TimePoint starts_at{};
  TimePoint ends_at{};
  TimePoint updated_at{};
  std::string created_by;
  std::string comment;

  friend bool operator==(const StoredSilence&, const StoredSilence&) = default;
};

// An alert of the central alert store (notifiers/alert_store.h), received over the API or
// produced by a rule, as Alertmanager's types.Alert. Keyed by its labels.
struct StoredReceivedAlert {
  Labels labels;
  Labels annotations;
  TimePoint starts_at{};
  TimePoint ends_at{};
  TimePoint updated_at{};
  std::string generator_url;
  bool timeout = false;  // ends_at was set from resolve_timeout, not by the sender
  // Name of the webhook_receivers endpoint the alert came in on; empty for alerts posted to
  // /api/v2/alerts and alerts of alertd's own rules.
  std::string received_from;

  friend bool operator==(const StoredReceivedAlert&, const StoredReceivedAlert&) = default;
};

// Implementations are thread-safe. The silence and received-alert methods have defaults that
// store nothing, so test fakes that need only the notification log stay small.
class StateStore {
 public:
  virtual ~StateStore() = default;

  // Returns every stored alert that is pending or firing, or was resolved at or after
  // `resolved_since`.
  virtual Result<std::vector<StoredAlert>> LoadAlerts(TimePoint resolved_since) = 0;

  // Writes the alerts of one group evaluation in one transaction: `upserts` are inserted or
  // replaced (keyed by rule_key and labels), `deletes` are removed.
  virtual Status WriteAlerts(const std::vector<StoredAlert>& upserts,
                             const std::vector<StoredAlert>& deletes) = 0;

  virtual Result<std::optional<NotificationLogEntry>> GetNotification(
      const std::string& receiver, const std::string& group_key) = 0;
  virtual Status PutNotification(const NotificationLogEntry& entry) = 0;
  // Removes notification log entries sent before `before`.
  virtual Status PruneNotifications(TimePoint before) = 0;

  // Every stored silence, ordered by id.
  virtual Result<std::vector<StoredSilence>> LoadSilences() { return std::vector<StoredSilence>{}; }

  // Inserts or replaces `silences` (keyed by id) in one transaction.
  virtual Status PutSilences(const std::vector<StoredSilence>& silences) {
    (void)silences;
    return Status::Ok();
  }

  // Deletes the silences that ended before `before`; returns how many.
  virtual Result<size_t> DeleteSilencesEndedBefore(TimePoint before) {
    (void)before;
    return size_t{0};
  }

  // Every stored alert of the alert store, ordered by labels.
  virtual Result<std::vector<StoredReceivedAlert>> LoadReceivedAlerts() {
    return std::vector<StoredReceivedAlert>{};
  }

  // In one transaction: inserts or replaces `upserts` (keyed by labels) and deletes the alerts
  // with the labels in `deletes`.
  virtual Status WriteReceivedAlerts(const std::vector<StoredReceivedAlert>& upserts,
                                     const std::vector<Labels>& deletes) {
    (void)upserts;
    (void)deletes;
    return Status::Ok();
  }
};

// Opens (creating when missing) the SQLite database at `path`, in WAL mode, migrating its
// schema forward. ":memory:" gives a private in-memory database for tests.
Result<std::unique_ptr<StateStore>> OpenSqliteStateStore(const std::string& path);

}  // namespace alertd
