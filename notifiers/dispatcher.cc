#include "notifiers/dispatcher.h"

#include <algorithm>
#include <set>
#include <utility>

#include "common/logging.h"

namespace alertd {

namespace {

// Alertmanager's notify.MinTimeout: a flush gets at least this long for its retries.
constexpr Duration kMinFlushTimeout{10000};

// Alertmanager's maintenance interval, at which its notification log drops expired entries.
constexpr Duration kPruneInterval{15 * 60 * 1000};

void CollectReceivers(const Route& route, std::set<std::string>& out) {
  out.insert(route.receiver());
  for (const auto& child : route.routes()) {
    CollectReceivers(*child, out);
  }
}

// Alertmanager's model.LabelSet.Before: fewer labels first, then the first differing value in
// the union of names, an absent label sorting first.
bool LabelSetBefore(const Labels& a, const Labels& b) {
  if (a.size() != b.size()) {
    return a.size() < b.size();
  }
  std::vector<std::string_view> names;
  for (const auto& label : a) {
    names.push_back(label.name);
  }
  for (const auto& label : b) {
    names.push_back(label.name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (std::string_view name : names) {
    if (!a.Has(name)) {
      return true;
    }
    if (!b.Has(name)) {
      return false;
    }
    std::string_view av = a.Get(name);
    std::string_view bv = b.Get(name);
    if (av != bv) {
      return av < bv;
    }
  }
  return false;
}

// Alertmanager's types.AlertSlice order: by job, then instance (alerts with the label first),
// then LabelSetBefore.
bool AlertBefore(const NotifyAlert& a, const NotifyAlert& b) {
  for (std::string_view key : {"job", "instance"}) {
    bool a_has = a.labels.Has(key);
    bool b_has = b.labels.Has(key);
    if (!a_has && !b_has) {
      continue;
    }
    if (!a_has) {
      return false;
    }
    if (!b_has) {
      return true;
    }
    if (a.labels.Get(key) != b.labels.Get(key)) {
      return a.labels.Get(key) < b.labels.Get(key);
    }
  }
  return LabelSetBefore(a.labels, b.labels);
}

bool IsSubset(const std::vector<uint64_t>& set, const std::vector<uint64_t>& subset) {
  return std::includes(set.begin(), set.end(), subset.begin(), subset.end());
}

// Alertmanager 0.25's DedupStage.needsUpdate.
bool NeedsUpdate(const std::optional<NotificationLogEntry>& entry,
                 const std::vector<uint64_t>& firing,
                 const std::vector<uint64_t>& resolved,
                 bool send_resolved,
                 Duration repeat_interval,
                 TimePoint now) {
  if (!entry) {
    return !firing.empty();
  }
  if (!IsSubset(entry->firing, firing)) {
    return true;
  }
  // All alerts resolved: notify irrespective of send_resolved, so the log clears the firing
  // alerts. When the last notification had no firing alerts either, the receiver never heard
  // of the alerts that fired and resolved since, so there is nothing to tell.
  if (firing.empty()) {
    return !entry->firing.empty();
  }
  if (send_resolved && !IsSubset(entry->resolved, resolved)) {
    return true;
  }
  return entry->sent_at < now - repeat_interval;
}

Duration Backoff(const DispatcherOptions& options, int failed_attempts) {
  Duration delay = options.retry_initial_backoff;
  for (int i = 1; i < failed_attempts && delay < options.retry_max_backoff; ++i) {
    delay *= 2;
  }
  return std::min(delay, options.retry_max_backoff);
}

std::string TrimTrailingSlash(std::string url) {
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  return url;
}

}  // namespace

Dispatcher::Dispatcher(const config::Route& route,
                       std::map<std::string, std::vector<std::unique_ptr<Notifier>>> receivers,
                       StateStore* nflog,
                       const Clock* clock,
                       DispatcherOptions options)
    : tree_(std::make_unique<const Route>(route)),
      receivers_(std::move(receivers)),
      nflog_(nflog),
      clock_(clock),
      options_(std::move(options)) {
  options_.external_url = TrimTrailingSlash(options_.external_url);
  std::set<std::string> used;
  CollectReceivers(*tree_, used);
  for (const std::string& receiver : used) {
    auto it = receivers_.find(receiver);
    if (it == receivers_.end() || it->second.empty()) {
      Logger("notify")->warn("Route receiver has no integrations, alerts are not sent receiver={}",
                             LogValue(receiver));
      continue;
    }
    std::vector<Integration>& integrations = integrations_[receiver];
    std::map<std::string, int, std::less<>> per_kind;
    for (const auto& notifier : it->second) {
      std::string kind(notifier->integration());
      int index = per_kind[kind]++;
      integrations.push_back(Integration{
          .notifier = notifier.get(),
          .log_key = receiver + "/" + kind + "/" + std::to_string(index),
          .counters = counters_.size(),
      });
      IntegrationCounters counters;
      counters.receiver = receiver;
      counters.integration = kind;
      counters.index = index;
      counters_.push_back(std::move(counters));
    }
  }
  if (!options_.executor) {
    worker_ = std::thread([this] { WorkerLoop(); });
  }
}

Dispatcher::~Dispatcher() {
  Stop();
  if (worker_.joinable()) {
    {
      std::lock_guard lock(worker_mu_);
      worker_stop_ = true;
    }
    worker_cv_.notify_all();
    worker_.join();
  }
}

void Dispatcher::Put(std::vector<NotifyAlert> alerts) {
  TimePoint now = clock_->Now();
  std::lock_guard lock(mu_);
  for (auto& alert : alerts) {
    for (const Route* route : tree_->Match(alert.labels)) {
      Labels group_labels = route->GroupLabels(alert.labels);
      std::string labels_text = group_labels.ToString();
      // Keyed by ID, not Key: sibling routes with the same matchers keep separate groups.
      auto [it, created] = groups_.try_emplace(route->ID() + "\n" + labels_text);
      Group& group = it->second;
      if (created) {
        group.route = route;
        group.group_key = route->Key() + ":" + labels_text;
        group.group_labels = std::move(group_labels);
        group.next_flush = now + route->group_wait();
      }
      // As Alertmanager's aggrGroup.insert: an alert that started long enough ago is not held
      // back for group_wait, e.g. after a restart.
      if (!group.has_flushed && alert.starts_at + route->group_wait() < now) {
        group.next_flush = std::min(group.next_flush, now);
      }
      group.alerts.insert_or_assign(alert.labels,
                                    StoredAlert{.alert = alert, .version = ++next_version_});
    }
  }
}

void Dispatcher::Tick() {
  TimePoint now = clock_->Now();
  std::vector<std::function<void()>> jobs;
  {
    std::lock_guard lock(mu_);
    for (auto it = groups_.begin(); it != groups_.end();) {
      Group& group = it->second;
      if (group.flush) {
        AdvanceFlush(group, now, jobs);
      }
      if (!group.flush && now >= group.next_flush) {
        StartFlush(it->first, group, now, jobs);
      }
      if (!group.flush && group.alerts.empty()) {
        it = groups_.erase(it);
      } else {
        ++it;
      }
    }
    if (now >= next_prune_) {
      next_prune_ = now + kPruneInterval;
      jobs.push_back([this, before = now - options_.notification_log_retention] {
        Status pruned = nflog_->PruneNotifications(before);
        if (!pruned.ok()) {
          Logger("notify")->warn("Pruning the notification log failed err={}",
                                 LogValue(pruned.error().message()));
        }
      });
    }
  }
  for (auto& job : jobs) {
    Execute(std::move(job));
  }
}

void Dispatcher::StartFlush(const std::string& group_id,
                            Group& group,
                            TimePoint now,
                            std::vector<std::function<void()>>& jobs) {
  const Route& route = *group.route;
  group.next_flush = now + route.group_interval();
  group.has_flushed = true;
  if (group.alerts.empty()) {
    return;
  }
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->route = &route;
  snapshot->group_id = group_id;
  snapshot->group_key = group.group_key;
  snapshot->group_labels = group.group_labels;
  Flush flush;
  for (const auto& [labels, stored] : group.alerts) {
    NotifyAlert alert = stored.alert;
    // Alertmanager's flush: an alert still firing now shows no end, so it cannot resolve
    // while the notification is on its way.
    if (alert.ResolvedAt(now)) {
      snapshot->resolved.push_back(labels.Hash());
    } else {
      alert.ends_at = TimePoint{};
      snapshot->firing.push_back(labels.Hash());
    }
    snapshot->alerts.push_back(std::move(alert));
    flush.versions[labels] = stored.version;
  }
  std::stable_sort(snapshot->alerts.begin(), snapshot->alerts.end(), AlertBefore);
  std::sort(snapshot->firing.begin(), snapshot->firing.end());
  std::sort(snapshot->resolved.begin(), snapshot->resolved.end());
  flush.snapshot = std::move(snapshot);
  flush.deadline = now + std::max(route.group_interval(), kMinFlushTimeout);
  SendTask task;
  task.next_attempt = now;
  flush.tasks.resize(IntegrationsOf(route).size(), task);
  group.flush = std::move(flush);
  AdvanceFlush(group, now, jobs);
}

void Dispatcher::AdvanceFlush(Group& group,
                              TimePoint now,
                              std::vector<std::function<void()>>& jobs) {
  Flush& flush = *group.flush;
  bool busy = false;
  for (size_t i = 0; i < flush.tasks.size(); ++i) {
    SendTask& task = flush.tasks[i];
    if (task.state == TaskState::kWaiting && now >= flush.deadline) {
      GiveUp(group,
             i,
             NotifyError{.retryable = true,
                         .reason = task.last_reason.value_or(FailureReason::kTimeout),
                         .message = "no attempt succeeded before the flush deadline (the next "
                                    "group_interval); last error: " +
                                    task.last_error,
                         .retry_after = std::nullopt});
    } else if (task.state == TaskState::kWaiting && now >= task.next_attempt) {
      task.state = TaskState::kInFlight;
      jobs.push_back(MakeJob(group, i));
    }
    busy = busy || task.state == TaskState::kWaiting || task.state == TaskState::kInFlight;
  }
  if (!busy) {
    FinishFlush(group);
  }
}

void Dispatcher::FinishFlush(Group& group) {
  Flush& flush = *group.flush;
  bool delivered = std::all_of(flush.tasks.begin(), flush.tasks.end(), [](const SendTask& task) {
    return task.state == TaskState::kDone;
  });
  if (delivered) {
    // Only alerts that were resolved in this flush and not updated since leave the group.
    for (const NotifyAlert& alert : flush.snapshot->alerts) {
      if (!alert.resolved()) {
        continue;
      }
      auto it = group.alerts.find(alert.labels);
      if (it != group.alerts.end() && it->second.version == flush.versions[alert.labels]) {
        group.alerts.erase(it);
      }
    }
  }
  group.flush.reset();
}

std::function<void()> Dispatcher::MakeJob(Group& group, size_t task_index) {
  Attempt attempt{.snapshot = group.flush->snapshot,
                  .task_index = task_index,
                  .check_dedup = !group.flush->tasks[task_index].dedup_passed};
  return [this, attempt] {
    RunAttempt(attempt);
  };
}

void Dispatcher::RunAttempt(const Attempt& attempt) {
  const Snapshot& snapshot = *attempt.snapshot;
  const Integration& integration = IntegrationsOf(*snapshot.route)[attempt.task_index];
  Notifier& notifier = *integration.notifier;
  TimePoint now = clock_->Now();

  if (attempt.check_dedup) {
    auto entry = nflog_->GetNotification(integration.log_key, snapshot.group_key);
    if (!entry.ok()) {
      CompleteAttempt(
          attempt,
          0,
          NotifyError{.retryable = true,
                      .reason = FailureReason::kTransport,
                      .message = "reading the notification log failed: " + entry.error().message(),
                      .retry_after = std::nullopt});
      return;
    }
    if (!NeedsUpdate(*entry,
                     snapshot.firing,
                     snapshot.resolved,
                     notifier.send_resolved(),
                     snapshot.route->repeat_interval(),
                     now)) {
      CompleteAttempt(attempt, 0, std::nullopt);
      return;
    }
  }

  std::vector<NotifyAlert> alerts;
  for (const auto& alert : snapshot.alerts) {
    if (notifier.send_resolved() || !alert.resolved()) {
      alerts.push_back(alert);
    }
  }
  // Without send_resolved, a flush of only resolved alerts counts as delivered, so the log
  // records the resolution for the next dedup check (Alertmanager's RetryStage does the same).
  const size_t sent_alerts = alerts.size();
  if (sent_alerts > 0) {
    Notification notification = MakeNotification(snapshot.route->receiver(),
                                                 std::move(alerts),
                                                 snapshot.group_labels,
                                                 options_.external_url,
                                                 snapshot.group_key);
    std::optional<NotifyError> error = notifier.Notify(notification);
    if (error) {
      CompleteAttempt(attempt, sent_alerts, error);
      return;
    }
  }
  Status logged = nflog_->PutNotification(NotificationLogEntry{.receiver = integration.log_key,
                                                               .group_key = snapshot.group_key,
                                                               .firing = snapshot.firing,
                                                               .resolved = snapshot.resolved,
                                                               .sent_at = clock_->Now()});
  if (!logged.ok()) {
    // The notification went out; a later flush may repeat it because the log lacks it.
    Logger("notify")->error(
        "Writing the notification log failed, the notification may be sent again receiver={} "
        "group_key={} err={}",
        LogValue(integration.log_key),
        LogValue(snapshot.group_key),
        LogValue(logged.error().message()));
  }
  CompleteAttempt(attempt, sent_alerts, std::nullopt);
}

void Dispatcher::CompleteAttempt(const Attempt& attempt,
                                 size_t sent_alerts,
                                 const std::optional<NotifyError>& error) {
  const bool sent = sent_alerts > 0;
  const Route& route = *attempt.snapshot->route;
  const Integration& integration = IntegrationsOf(route)[attempt.task_index];
  TimePoint now = clock_->Now();
  std::lock_guard lock(mu_);
  auto it = groups_.find(attempt.snapshot->group_id);
  if (it == groups_.end() || !it->second.flush || it->second.flush->snapshot != attempt.snapshot) {
    return;  // unreachable: a flush with a task in flight is never finished
  }
  Group& group = it->second;
  SendTask& task = group.flush->tasks[attempt.task_index];
  IntegrationCounters& counters = counters_[integration.counters];
  if (sent) {
    ++task.attempts;
    ++counters.requests;
  }
  if (!error) {
    task.state = TaskState::kDone;
    if (sent) {
      ++counters.notifications_sent;
      Logger("notify")->info(
          "Notification sent receiver={} integration={} group_key={} alerts={} attempts={}",
          LogValue(route.receiver()),
          integration.notifier->integration(),
          LogValue(attempt.snapshot->group_key),
          sent_alerts,
          task.attempts);
    }
  } else {
    task.dedup_passed = task.dedup_passed || sent;
    if (sent) {
      ++counters.requests_failed;
    }
    if (error->message != task.last_error) {
      Logger("notify")->warn(
          "Notify attempt failed receiver={} integration={} group_key={} attempt={} reason={} "
          "retryable={} err={}",
          LogValue(route.receiver()),
          integration.notifier->integration(),
          LogValue(attempt.snapshot->group_key),
          task.attempts,
          FailureReasonName(error->reason),
          error->retryable,
          LogValue(error->message));
    }
    task.last_error = error->message;
    task.last_reason = error->reason;
    if (!error->retryable) {
      GiveUp(group, attempt.task_index, *error);
    } else {
      Duration delay = Backoff(options_, std::max(task.attempts, 1));
      if (error->retry_after) {
        delay = std::max(delay, *error->retry_after);
      }
      task.state = TaskState::kWaiting;
      task.next_attempt = now + delay;
    }
  }
  bool busy = std::any_of(group.flush->tasks.begin(), group.flush->tasks.end(), [](auto& t) {
    return t.state == TaskState::kWaiting || t.state == TaskState::kInFlight;
  });
  if (!busy) {
    FinishFlush(group);
    // Removed now rather than at the next Tick, so an alert arriving meanwhile starts a new
    // group with its own group_wait.
    if (group.alerts.empty()) {
      groups_.erase(it);
    }
  }
}

void Dispatcher::GiveUp(Group& group, size_t index, const NotifyError& error) {
  SendTask& task = group.flush->tasks[index];
  task.state = TaskState::kFailed;
  const Integration& integration = IntegrationsOf(*group.route)[index];
  IntegrationCounters& counters = counters_[integration.counters];
  ++counters.notifications_failed;
  ++counters.failed_by_reason[std::string(FailureReasonName(error.reason))];
  Logger("notify")->error(
      "Notification failed, giving up until the next flush receiver={} integration={} "
      "group_key={} attempts={} reason={} err={}",
      LogValue(group.route->receiver()),
      integration.notifier->integration(),
      LogValue(group.flush->snapshot->group_key),
      task.attempts,
      FailureReasonName(error.reason),
      LogValue(error.message));
}

void Dispatcher::Execute(std::function<void()> job) {
  if (options_.executor) {
    options_.executor(std::move(job));
    return;
  }
  {
    std::lock_guard lock(worker_mu_);
    worker_queue_.push_back(std::move(job));
  }
  worker_cv_.notify_one();
}

const std::vector<Dispatcher::Integration>& Dispatcher::IntegrationsOf(const Route& route) const {
  static const std::vector<Integration> kNone;
  auto it = integrations_.find(route.receiver());
  return it == integrations_.end() ? kNone : it->second;
}

void Dispatcher::WorkerLoop() {
  std::unique_lock lock(worker_mu_);
  while (true) {
    worker_cv_.wait(lock, [this] { return worker_stop_ || !worker_queue_.empty(); });
    if (worker_queue_.empty()) {
      return;  // stopping, and every queued job has run
    }
    std::function<void()> job = std::move(worker_queue_.front());
    worker_queue_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}

void Dispatcher::Start() {
  std::lock_guard lock(loop_mu_);
  if (loop_.joinable()) {
    return;
  }
  loop_stop_ = false;
  loop_ = std::thread([this] {
    Logger("notify")->info("Dispatcher started receiver={}", LogValue(tree_->receiver()));
    std::unique_lock lock(loop_mu_);
    while (!loop_cv_.wait_for(lock, options_.tick_interval, [this] { return loop_stop_; })) {
      lock.unlock();
      Tick();
      lock.lock();
    }
  });
}

void Dispatcher::Stop() {
  std::thread loop;
  {
    std::lock_guard lock(loop_mu_);
    if (!loop_.joinable()) {
      return;
    }
    loop_stop_ = true;
    loop = std::move(loop_);
  }
  loop_cv_.notify_all();
  loop.join();
  Logger("notify")->info("Dispatcher stopped receiver={}", LogValue(tree_->receiver()));
}

std::vector<IntegrationCounters> Dispatcher::Counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

size_t Dispatcher::group_count() const {
  std::lock_guard lock(mu_);
  return groups_.size();
}

size_t Dispatcher::alert_count() const {
  std::lock_guard lock(mu_);
  size_t count = 0;
  for (const auto& [key, group] : groups_) {
    count += group.alerts.size();
  }
  return count;
}

}  // namespace alertd
