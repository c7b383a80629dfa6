#include "notifiers/alert_store.h"

#include <algorithm>

#include "common/duration.h"
#include "common/logging.h"

namespace alertd {

bool AlertResolvedAt(const StoreAlert& alert, TimePoint now) {
  return alert.ends_at != TimePoint{} && alert.ends_at <= now;
}

StoreAlert MergeAlerts(const StoreAlert& older, const StoreAlert& newer, TimePoint now) {
  if (newer.updated_at < older.updated_at) {
    return MergeAlerts(newer, older, now);
  }
  StoreAlert result = newer;
  if (older.starts_at < newer.starts_at) {
    result.starts_at = older.starts_at;
  }
  if (AlertResolvedAt(newer, now)) {
    // The latest explicit resolution wins when both are resolved.
    if (AlertResolvedAt(older, now) && older.ends_at > newer.ends_at) {
      result.ends_at = older.ends_at;
    }
  } else if (older.ends_at > newer.ends_at && !older.timeout) {
    // A resolution time the sender set wins over a later update's when it is later.
    result.ends_at = older.ends_at;
  }
  return result;
}

NotifyAlert ToNotifyAlert(const StoreAlert& alert) {
  NotifyAlert out;
  out.labels = alert.labels;
  out.annotations = alert.annotations;
  out.starts_at = alert.starts_at;
  out.ends_at = alert.ends_at;
  out.generator_url = alert.generator_url;
  return out;
}

AlertStore::AlertStore(StateStore* store, const Clock* clock, Duration resolve_timeout)
    : store_(store), clock_(clock), resolve_timeout_(resolve_timeout) {}

void AlertStore::SetListener(Listener listener) {
  std::lock_guard lock(mu_);
  listener_ = std::move(listener);
}

Result<size_t> AlertStore::Load() {
  if (store_ == nullptr) {
    return size_t{0};
  }
  auto loaded = store_->LoadReceivedAlerts();
  if (!loaded.ok()) {
    return loaded.error();
  }
  std::lock_guard lock(mu_);
  alerts_.clear();
  for (auto& alert : *loaded) {
    Labels key = alert.labels;
    alerts_[std::move(key)] = std::move(alert);
  }
  return alerts_.size();
}

void AlertStore::Replay() {
  std::vector<NotifyAlert> out;
  Listener listener;
  {
    std::lock_guard lock(mu_);
    for (const auto& [labels, alert] : alerts_) {
      out.push_back(ToNotifyAlert(alert));
    }
    listener = listener_;
  }
  if (listener && !out.empty()) {
    listener(std::move(out));
  }
}

Status AlertStore::Put(std::vector<StoreAlert> alerts) {
  TimePoint now = clock_->Now();
  for (auto& alert : alerts) {
    alert.updated_at = now;
    if (alert.starts_at == TimePoint{}) {
      alert.starts_at = alert.ends_at == TimePoint{} ? now : alert.ends_at;
    }
    if (alert.ends_at == TimePoint{}) {
      alert.timeout = true;
      alert.ends_at = now + resolve_timeout_;
    }
  }
  std::vector<NotifyAlert> forward;
  Listener listener;
  Status written = Status::Ok();
  {
    std::lock_guard lock(mu_);
    // Later alerts of the same call merge with earlier ones, so the batch is merged in order
    // against a working copy before anything is written.
    std::map<Labels, StoreAlert> merged;
    for (auto& alert : alerts) {
      const StoreAlert* old = nullptr;
      if (auto it = merged.find(alert.labels); it != merged.end()) {
        old = &it->second;
      } else if (auto stored = alerts_.find(alert.labels); stored != alerts_.end()) {
        old = &stored->second;
      }
      StoreAlert next = alert;
      // Alertmanager merges only when the activity ranges overlap.
      if (old != nullptr &&
          ((alert.ends_at > old->starts_at && alert.ends_at < old->ends_at) ||
           (alert.starts_at > old->starts_at && alert.starts_at < old->ends_at))) {
        next = MergeAlerts(*old, alert, now);
      }
      merged[alert.labels] = std::move(next);
    }
    std::vector<StoreAlert> upserts;
    upserts.reserve(merged.size());
    for (const auto& [labels, alert] : merged) {
      upserts.push_back(alert);
    }
    if (store_ != nullptr) {
      // Alerts of earlier failed writes go along, as they are now.
      std::vector<StoreAlert> rows = upserts;
      for (const Labels& labels : unwritten_) {
        auto it = alerts_.find(labels);
        if (it != alerts_.end() && !merged.contains(labels)) {
          rows.push_back(it->second);
        }
      }
      written = store_->WriteReceivedAlerts(rows, {});
      NoteWrite(written, rows);
    }
    // Kept and forwarded also when the write failed, so a database problem does not stop
    // notifications; RetryWrites writes them later.
    for (auto& alert : upserts) {
      forward.push_back(ToNotifyAlert(alert));
      Labels key = alert.labels;
      alerts_[std::move(key)] = std::move(alert);
    }
    listener = listener_;
  }
  if (listener && !forward.empty()) {
    listener(std::move(forward));
  }
  return written;
}

Status AlertStore::PutReceived(std::vector<StoreAlert> alerts,
                               const std::string& endpoint,
                               Duration max_age) {
  TimePoint now = clock_->Now();
  size_t firing = 0;
  for (auto& alert : alerts) {
    alert.received_from = endpoint;
    if (alert.ends_at == TimePoint{}) {
      alert.ends_at = now + max_age;
      alert.timeout = true;
      ++firing;
    } else {
      alert.timeout = false;
    }
  }
  Logger("alerts")->debug("Webhook alerts received endpoint={} firing={} resolved={}",
                          LogValue(endpoint),
                          firing,
                          alerts.size() - firing);
  return Put(std::move(alerts));
}

std::vector<StoreAlert> AlertStore::List() const {
  std::lock_guard lock(mu_);
  std::vector<StoreAlert> out;
  out.reserve(alerts_.size());
  for (const auto& [labels, alert] : alerts_) {
    out.push_back(alert);
  }
  return out;
}

std::optional<StoreAlert> AlertStore::Get(const Labels& labels) const {
  std::lock_guard lock(mu_);
  auto it = alerts_.find(labels);
  if (it == alerts_.end()) {
    return std::nullopt;
  }
  return it->second;
}

size_t AlertStore::size() const {
  std::lock_guard lock(mu_);
  return alerts_.size();
}

void AlertStore::NoteWrite(const Status& written, const std::vector<StoreAlert>& rows) {
  if (written.ok()) {
    if (!last_write_error_.empty()) {
      Logger("alerts")->info("Writing alerts to the state store succeeded again alerts={}",
                             rows.size());
      last_write_error_.clear();
    }
    unwritten_.clear();
    return;
  }
  for (const StoreAlert& row : rows) {
    unwritten_.insert(row.labels);
  }
  if (written.error().message() != last_write_error_) {
    Logger("alerts")->error("Writing alerts to the state store failed, retrying alerts={} err={}",
                            unwritten_.size(),
                            LogValue(written.error().message()));
    last_write_error_ = written.error().message();
  }
}

Status AlertStore::RetryWrites() {
  std::lock_guard lock(mu_);
  if (store_ == nullptr || unwritten_.empty()) {
    return Status::Ok();
  }
  std::vector<StoreAlert> rows;
  for (const Labels& labels : unwritten_) {
    auto it = alerts_.find(labels);
    if (it != alerts_.end()) {
      rows.push_back(it->second);
    }
  }
  Status written = store_->WriteReceivedAlerts(rows, {});
  NoteWrite(written, rows);
  return written;
}

size_t AlertStore::Gc() {
  TimePoint now = clock_->Now();
  std::lock_guard lock(mu_);
  std::vector<Labels> resolved;
  for (const auto& [labels, alert] : alerts_) {
    if (AlertResolvedAt(alert, now)) {
      resolved.push_back(labels);
    }
  }
  if (store_ != nullptr) {
    if (Status s = store_->WriteReceivedAlerts({}, resolved); !s.ok()) {
      // Kept in memory too, so memory and the database agree and the next run retries.
      Logger("alerts")->warn("Deleting resolved alerts failed alerts={} err={}",
                             resolved.size(),
                             LogValue(s.error().message()));
      return 0;
    }
  }
  for (const auto& labels : resolved) {
    auto it = alerts_.find(labels);
    const StoreAlert& alert = it->second;
    // Logged once, when the alert is dropped: until then it shows as resolved.
    if (!alert.received_from.empty() && alert.timeout) {
      Logger("alerts")->warn(
          "Alert expired without a resolution endpoint={} alertname={} fingerprint={} "
          "no_update_for={}",
          LogValue(alert.received_from),
          LogValue(alert.labels.Get("alertname")),
          alert.labels.Fingerprint(),
          FormatDuration(std::chrono::duration_cast<Duration>(alert.ends_at - alert.updated_at)));
    }
    alerts_.erase(it);
    unwritten_.erase(labels);
  }
  return resolved.size();
}

}  // namespace alertd
