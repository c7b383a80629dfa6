// The central set of alerts, as Alertmanager 0.25's in-memory alert provider: alerts received on
// POST /api/v2/alerts and the alerts of alertd's own rules, keyed by label fingerprint and
// merged the way types.Alert.Merge does. Every alert is written through to the StateStore, so a
// restart keeps an alert whose sender stopped sending, and every Put is forwarded to a listener
// (the dispatcher). Alerts from webhook endpoints carry the endpoint's name in received_from.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/labels.h"
#include "common/result.h"
#include "notifiers/notifier.h"
#include "storage/state_store.h"

namespace alertd {

// An alert of the store: Alertmanager's types.Alert.
using StoreAlert = StoredReceivedAlert;

// Whether the alert is resolved at `now`: it has an end that is not after `now`.
bool AlertResolvedAt(const StoreAlert& alert, TimePoint now);

// Merges two versions of one alert as Alertmanager's types.Alert.Merge does. The later-updated
// version wins, with the earliest start of the two. The older version's end is kept when both
// are resolved and it is later, or when it is later and its sender set it (not resolve_timeout).
StoreAlert MergeAlerts(const StoreAlert& older, const StoreAlert& newer, TimePoint now);

// The alert as the dispatcher takes it.
NotifyAlert ToNotifyAlert(const StoreAlert& alert);

class AlertStore {
 public:
  using Listener = std::function<void(std::vector<NotifyAlert>)>;

  // `store` may be null (nothing is persisted). `store` and `clock` must outlive the object.
  // `resolve_timeout` is global.resolve_timeout.
  AlertStore(StateStore* store, const Clock* clock, Duration resolve_timeout);

  // Sets who receives every stored alert (the dispatcher's Put). Call before Put.
  void SetListener(Listener listener);

  // Loads the stored alerts into memory, replacing what is there; returns how many.
  Result<size_t> Load();

  // Hands every alert in memory to the listener, as on start after Load.
  void Replay();

  // Stores alerts as Alertmanager's POST /api/v2/alerts does: updated_at becomes now; a missing
  // start becomes the end, or now; a missing end becomes now + resolve_timeout and marks the
  // alert as timed (a later update extends it). An alert whose time range overlaps the stored
  // one with the same labels is merged with it (MergeAlerts); otherwise it replaces it. The
  // alerts are written to the StateStore in one transaction, then kept in memory and forwarded.
  // A failed write is returned, but the alerts are still kept and forwarded, so notifications
  // go on, and they are written again with the next Put or RetryWrites. The caller validates
  // the alerts first.
  Status Put(std::vector<StoreAlert> alerts);

  // Writes the alerts whose earlier write failed, as they are now. Ok when nothing is left to
  // write. The daemon calls it every few seconds.
  Status RetryWrites();

  // Stores alerts that came in on the webhook_receivers endpoint `endpoint` (received_from is
  // set to it) as Put does, except that a firing alert (zero ends_at) ends at now + max_age
  // instead of now + resolve_timeout, so a sender's re-sent firing notifications extend it and
  // its resolved notification ends it. An alert that reaches that end is logged by Gc as expired
  // without a resolution.
  Status PutReceived(std::vector<StoreAlert> alerts, const std::string& endpoint, Duration max_age);

  // Every alert in memory, ordered by labels.
  std::vector<StoreAlert> List() const;
  std::optional<StoreAlert> Get(const Labels& labels) const;
  size_t size() const;

  // Drops resolved alerts from memory and the StateStore (Alertmanager does this every 30
  // minutes); returns how many were dropped. Logs each webhook alert that ended by max_age
  // rather than by a resolution.
  size_t Gc();

 private:
  // Records the outcome of writing `rows`: clears the unwritten set on success, else adds them
  // to it and logs each new error once. Called with mu_ held.
  void NoteWrite(const Status& written, const std::vector<StoreAlert>& rows);

  StateStore* const store_;
  const Clock* const clock_;
  const Duration resolve_timeout_;
  Listener listener_;
  mutable std::mutex mu_;
  std::map<Labels, StoreAlert> alerts_;  // guarded by mu_
  std::set<Labels> unwritten_;           // alerts whose last write failed; guarded by mu_
  std::string last_write_error_;         // guarded by mu_
};

}  // namespace alertd
