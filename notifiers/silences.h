// Silences, as Alertmanager 0.25's silence package: matchers plus a time range, muting every
// alert whose labels they match while active. They are kept in memory and written through to
// the StateStore; expired silences stay listed for a retention period (Alertmanager's
// --data.retention, 120h) and are then dropped by Gc().
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/labels.h"
#include "common/matcher.h"
#include "common/result.h"
#include "notifiers/muter.h"
#include "storage/state_store.h"

namespace alertd {

enum class SilenceState { kExpired, kActive, kPending };

// Returns "expired", "active" or "pending".
const char* SilenceStateName(SilenceState state);

// Alertmanager's getState: pending before starts_at, expired after ends_at, else active (an
// instant equal to ends_at is still active).
SilenceState StateOf(const StoredSilence& silence, TimePoint now);

// Converts one API matcher to a LabelMatcher; the error names the matcher's position (1-based).
Result<LabelMatcher> CompileSilenceMatcher(const StoredSilenceMatcher& matcher, size_t position);

// Returns a random version 4 UUID in its 36-character text form.
std::string NewUuid();

class Silences final : public Muter {
 public:
  // `store` may be null (nothing is persisted); `store` and `clock` must outlive the object.
  Silences(StateStore* store, const Clock* clock, Duration retention = std::chrono::hours(120));

  // Loads the stored silences, replacing what is in memory; returns how many. Silences whose
  // matchers no longer compile are skipped with a warning.
  Result<size_t> Load();

  // Creates a silence, or updates the silence `silence.id` when it is set, as Alertmanager's
  // Silences.Set: an update keeps the ID when only the comment, author or end changes on an
  // active silence, or when a pending silence keeps a start that is not in the past; otherwise
  // the old silence is expired and the update gets a new ID. A start in the past becomes now.
  // Returns the silence's ID. Errors: kNotFound for an unknown ID, kInvalidArgument for an
  // invalid silence (no matchers, an invalid matcher, only matchers that match the empty
  // string, an end not after the start, an end in the past).
  Result<std::string> Set(StoredSilence silence);

  // Ends the silence now: an active silence ends at now, and a pending one starts and ends at
  // now. An expired silence is left as it is. Errors: kNotFound for an unknown ID.
  Status Expire(const std::string& id);

  std::optional<StoredSilence> Get(const std::string& id) const;
  // Every silence, ordered by ID.
  std::vector<StoredSilence> List() const;

  // Drops silences that ended more than the retention ago, in memory and in the store;
  // returns how many were dropped from memory.
  size_t Gc();

  // Muter: IDs of the active silences matching `labels` at `now`, sorted.
  std::vector<std::string> MutedBy(const Labels& labels, TimePoint now) const override;

 private:
  struct Entry {
    StoredSilence silence;
    std::vector<LabelMatcher> matchers;
  };

  // Validates `silence` and compiles its matchers.
  Result<std::vector<LabelMatcher>> Validate(const StoredSilence& silence, TimePoint now) const;
  Status Persist(const std::vector<StoredSilence>& silences);

  StateStore* const store_;
  const Clock* const clock_;
  const Duration retention_;
  mutable std::mutex mu_;
  std::vector<Entry> entries_;  // ordered by ID; guarded by mu_
};

}  // namespace alertd
