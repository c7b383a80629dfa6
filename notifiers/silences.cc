#include "notifiers/silences.h"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <random>

#include "common/logging.h"

namespace alertd {
namespace {

// RFC 3339 in UTC with milliseconds, for error messages.
std::string FormatTime(TimePoint t) {
  int64_t ms = ToMillis(t);
  time_t seconds = static_cast<time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  int millis = static_cast<int>(ms - static_cast<int64_t>(seconds) * 1000);

  struct tm tm {};

  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf,
                sizeof(buf),
                "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900,
                tm.tm_mon + 1,
                tm.tm_mday,
                tm.tm_hour,
                tm.tm_min,
                tm.tm_sec,
                millis);
  return buf;
}

bool SameMatchers(const StoredSilence& a, const StoredSilence& b) {
  return a.matchers == b.matchers;
}

// Alertmanager's canUpdate: whether `next` may replace `prev` under the same ID without
// changing what `prev` silenced in the past.
bool CanUpdate(const StoredSilence& prev, const StoredSilence& next, TimePoint now) {
  if (!SameMatchers(prev, next)) {
    return false;
  }
  switch (StateOf(prev, now)) {
    case SilenceState::kActive:
      // Alertmanager compares the starts in whole seconds.
      return ToMillis(next.starts_at) / 1000 == ToMillis(prev.starts_at) / 1000 &&
             next.ends_at >= now;
    case SilenceState::kPending:
      return next.starts_at >= now;
    case SilenceState::kExpired:
      return false;
  }
  return false;
}

}  // namespace

const char* SilenceStateName(SilenceState state) {
  switch (state) {
    case SilenceState::kExpired:
      return "expired";
    case SilenceState::kActive:
      return "active";
    case SilenceState::kPending:
      return "pending";
  }
  return "expired";
}

SilenceState StateOf(const StoredSilence& silence, TimePoint now) {
  if (now < silence.starts_at) {
    return SilenceState::kPending;
  }
  if (now > silence.ends_at) {
    return SilenceState::kExpired;
  }
  return SilenceState::kActive;
}

Result<LabelMatcher> CompileSilenceMatcher(const StoredSilenceMatcher& matcher, size_t position) {
  std::string where = "matcher " + std::to_string(position);
  if (!IsValidLabelName(matcher.name)) {
    return Error::Invalid(where + ": invalid label name \"" + matcher.name +
                          "\": a label name starts with a letter or underscore and contains "
                          "only letters, digits and underscores");
  }
  MatchType type = matcher.is_regex
                       ? (matcher.is_equal ? MatchType::kRegexMatch : MatchType::kRegexNoMatch)
                       : (matcher.is_equal ? MatchType::kEqual : MatchType::kNotEqual);
  auto compiled = LabelMatcher::Create(type, matcher.name, matcher.value);
  if (!compiled.ok()) {
    return compiled.error().WithContext(where);
  }
  return compiled;
}

std::string NewUuid() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi;
  uint64_t lo;
  {
    std::lock_guard lock(mu);
    hi = rng();
    lo = rng();
  }
  hi = (hi & ~0xf000ULL) | 0x4000ULL;              // version 4
  lo = (lo & ~(0xc0ULL << 56)) | (0x80ULL << 56);  // RFC 4122 variant
  char buf[37];
  std::snprintf(buf,
                sizeof(buf),
                "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff),
                static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

Silences::Silences(StateStore* store, const Clock* clock, Duration retention)
    : store_(store), clock_(clock), retention_(retention) {}

Result<size_t> Silences::Load() {
  if (store_ == nullptr) {
    return size_t{0};
  }
  auto loaded = store_->LoadSilences();
  if (!loaded.ok()) {
    return loaded.error();
  }
  std::vector<Entry> entries;
  for (auto& silence : *loaded) {
    Entry entry{std::move(silence), {}};
    bool ok = true;
    for (size_t i = 0; i < entry.silence.matchers.size(); ++i) {
      auto matcher = CompileSilenceMatcher(entry.silence.matchers[i], i + 1);
      if (!matcher.ok()) {
        Logger("silences")
            ->warn("Skipping a stored silence with an invalid matcher id={} err={}",
                   LogValue(entry.silence.id),
                   LogValue(matcher.error().message()));
        ok = false;
        break;
      }
      entry.matchers.push_back(std::move(matcher).value());
    }
    if (ok) {
      entries.push_back(std::move(entry));
    }
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.silence.id < b.silence.id;
  });
  std::lock_guard lock(mu_);
  entries_ = std::move(entries);
  return entries_.size();
}

Result<std::vector<LabelMatcher>> Silences::Validate(const StoredSilence& silence,
                                                     TimePoint now) const {
  if (silence.ends_at <= silence.starts_at) {
    return Error::Invalid("the silence's end time " + FormatTime(silence.ends_at) +
                          " is not after its start time " + FormatTime(silence.starts_at) +
                          ": give an end time after the start");
  }
  if (silence.ends_at < now) {
    return Error::Invalid("the silence's end time " + FormatTime(silence.ends_at) +
                          " is in the past: give an end time after now (" + FormatTime(now) + ")");
  }
  if (silence.matchers.empty()) {
    return Error::Invalid("the silence has no matchers: give at least one matcher");
  }
  std::vector<LabelMatcher> matchers;
  bool all_match_empty = true;
  for (size_t i = 0; i < silence.matchers.size(); ++i) {
    auto matcher = CompileSilenceMatcher(silence.matchers[i], i + 1);
    if (!matcher.ok()) {
      return matcher.error();
    }
    all_match_empty = all_match_empty && matcher->MatchesEmpty();
    matchers.push_back(std::move(matcher).value());
  }
  if (all_match_empty) {
    return Error::Invalid(
        "every matcher of the silence matches the empty string, so it would silence all "
        "alerts: add a matcher that requires a non-empty label value");
  }
  return matchers;
}

Status Silences::Persist(const std::vector<StoredSilence>& silences) {
  if (store_ == nullptr) {
    return Status::Ok();
  }
  return store_->PutSilences(silences);
}

Result<std::string> Silences::Set(StoredSilence silence) {
  TimePoint now = clock_->Now();
  std::lock_guard lock(mu_);
  auto prev = std::find_if(
      entries_.begin(), entries_.end(), [&](const Entry& e) { return e.silence.id == silence.id; });
  if (!silence.id.empty() && prev == entries_.end()) {
    return Error::NotFound("silence \"" + silence.id + "\" not found");
  }
  auto matchers = Validate(silence, now);
  if (!matchers.ok()) {
    return matchers.error();
  }
  silence.updated_at = now;
  if (prev != entries_.end() && CanUpdate(prev->silence, silence, now)) {
    if (Status s = Persist({silence}); !s.ok()) {
      return s.error();
    }
    prev->silence = std::move(silence);
    prev->matchers = std::move(matchers).value();
    return prev->silence.id;
  }
  std::vector<StoredSilence> writes;
  if (prev != entries_.end() && StateOf(prev->silence, now) != SilenceState::kExpired) {
    // The change would rewrite what the old silence muted, so the old one ends now and the
    // change becomes a new silence, leaving the history intact.
    StoredSilence expired = prev->silence;
    if (StateOf(expired, now) == SilenceState::kPending) {
      expired.starts_at = now;
    }
    expired.ends_at = now;
    expired.updated_at = now;
    writes.push_back(std::move(expired));
  }
  do {
    silence.id = NewUuid();
  } while (std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) {
    return e.silence.id == silence.id;
  }));
  silence.starts_at = std::max(silence.starts_at, now);
  writes.push_back(silence);
  if (Status s = Persist(writes); !s.ok()) {
    return s.error();
  }
  if (writes.size() == 2) {
    prev->silence = writes[0];
  }
  Entry entry{std::move(silence), std::move(matchers).value()};
  std::string id = entry.silence.id;
  auto at = std::lower_bound(entries_.begin(), entries_.end(), id, [](const Entry& e, auto& v) {
    return e.silence.id < v;
  });
  entries_.insert(at, std::move(entry));
  return id;
}

Status Silences::Expire(const std::string& id) {
  TimePoint now = clock_->Now();
  std::lock_guard lock(mu_);
  auto it = std::find_if(
      entries_.begin(), entries_.end(), [&](const Entry& e) { return e.silence.id == id; });
  if (it == entries_.end()) {
    return Error::NotFound("silence \"" + id + "\" not found");
  }
  StoredSilence silence = it->silence;
  switch (StateOf(silence, now)) {
    case SilenceState::kExpired:
      return Status::Ok();  // idempotent, as Alertmanager 0.25
    case SilenceState::kPending:
      silence.starts_at = now;
      silence.ends_at = now;
      break;
    case SilenceState::kActive:
      silence.ends_at = now;
      break;
  }
  silence.updated_at = now;
  if (Status s = Persist({silence}); !s.ok()) {
    return s;
  }
  it->silence = std::move(silence);
  return Status::Ok();
}

std::optional<StoredSilence> Silences::Get(const std::string& id) const {
  std::lock_guard lock(mu_);
  for (const auto& entry : entries_) {
    if (entry.silence.id == id) {
      return entry.silence;
    }
  }
  return std::nullopt;
}

std::vector<StoredSilence> Silences::List() const {
  std::lock_guard lock(mu_);
  std::vector<StoredSilence> out;
  out.reserve(entries_.size());
  for (const auto& entry : entries_) {
    out.push_back(entry.silence);
  }
  return out;
}

size_t Silences::Gc() {
  TimePoint cutoff = clock_->Now() - retention_;
  size_t dropped = 0;
  {
    std::lock_guard lock(mu_);
    auto end = std::remove_if(entries_.begin(), entries_.end(), [&](const Entry& e) {
      return e.silence.ends_at < cutoff;
    });
    dropped = static_cast<size_t>(entries_.end() - end);
    entries_.erase(end, entries_.end());
  }
  if (store_ != nullptr) {
    auto deleted = store_->DeleteSilencesEndedBefore(cutoff);
    if (!deleted.ok()) {
      Logger("silences")
          ->warn("Deleting expired silences failed err={}", LogValue(deleted.error().message()));
    }
  }
  return dropped;
}

std::vector<std::string> Silences::MutedBy(const Labels& labels, TimePoint now) const {
  std::vector<std::string> ids;
  std::lock_guard lock(mu_);
  for (const auto& entry : entries_) {
    if (StateOf(entry.silence, now) != SilenceState::kActive) {
      continue;
    }
    bool matches = std::all_of(entry.matchers.begin(), entry.matchers.end(), [&](const auto& m) {
      return m.Matches(labels.Get(m.name()));
    });
    if (matches) {
      ids.push_back(entry.silence.id);
    }
  }
  return ids;  // entries_ is ordered by ID
}

}  // namespace alertd
