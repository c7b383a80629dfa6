#include "notifiers/dispatcher.h"

#include <algorithm>
#include <deque>
#include <iterator>
#include <random>
#include <set>
#include <utility>

#include "common/duration.h"
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

bool Intersects(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  auto i = a.begin();
  auto j = b.begin();
  while (i != a.end() && j != b.end()) {
    if (*i == *j) {
      return true;
    }
    *i < *j ? ++i : ++j;
  }
  return false;
}

// Alertmanager 0.25's DedupStage.needsUpdate, but for resolved alerts (see below). `carried` are
// muted firing alerts the entry has as firing and keeps so; they are neither news nor a resolution.
bool NeedsUpdate(const std::optional<NotificationLogEntry>& entry,
                 const std::vector<uint64_t>& firing,
                 const std::vector<uint64_t>& carried,
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
    return !IsSubset(carried, entry->firing);
  }
  // Alertmanager also sends for a resolved alert that the last notification did not list at
  // all, but alertd sends only for one it listed as firing. An alert it did not list either had
  // its resolution delivered before, or was never notified, so the receiver learns nothing new.
  // Such an alert comes back to a group after a restart, or when its sender resends it.
  if (send_resolved && Intersects(resolved, entry->firing)) {
    return true;
  }
  return entry->sent_at < now - repeat_interval;
}

double SystemRandom() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0, 1)(generator);
}

Duration Backoff(const DispatcherOptions& options, int failed_attempts) {
  Duration delay = options.retry_initial_backoff;
  for (int i = 1; i < failed_attempts && delay < options.retry_max_backoff; ++i) {
    delay *= 2;
  }
  delay = std::min(delay, options.retry_max_backoff);
  if (options.retry_jitter > 0) {
    double u = options.random ? options.random() : SystemRandom();
    double factor = 1 + options.retry_jitter * (2 * u - 1);
    delay = Duration(static_cast<int64_t>(static_cast<double>(delay.count()) * factor));
  }
  return delay;
}

std::vector<uint64_t> Union(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  std::vector<uint64_t> out;
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

bool Contains(const std::vector<uint64_t>& sorted, uint64_t hash) {
  return std::binary_search(sorted.begin(), sorted.end(), hash);
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    out += out.empty() ? "" : ",";
    out += item;
  }
  return out;
}

std::string TrimTrailingSlash(std::string url) {
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  return url;
}

}  // namespace

// Runs queued jobs on `threads` threads of its own, in queue order when there is one thread.
// The destructor runs what is queued, then joins.
class Dispatcher::Worker {
 public:
  explicit Worker(int threads) {
    for (int i = 0; i < std::max(threads, 1); ++i) {
      threads_.emplace_back([this] { Loop(); });
    }
  }

  ~Worker() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (std::thread& thread : threads_) {
      thread.join();
    }
  }

  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void Push(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

  // Removes the jobs that have not started and returns how many there were.
  size_t DropQueued() {
    std::lock_guard lock(mu_);
    size_t dropped = queue_.size();
    queue_.clear();
    return dropped;
  }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) {
        return;  // stopping, and every queued job has run
      }
      std::function<void()> job = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;  // last: started once the rest is initialized
};

Dispatcher::Dispatcher(const config::Route& route,
                       std::map<std::string, std::vector<std::unique_ptr<Notifier>>> receivers,
                       StateStore* nflog,
                       const Clock* clock,
                       DispatcherOptions options)
    : tree_(std::make_unique<const Route>(route)),
      receivers_(std::move(receivers)),
      nflog_(nflog),
      clock_(clock),
      options_(std::move(options)),
      inhibitor_(options_.inhibit_rules) {
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
  for (const config::TimeInterval& interval : options_.time_intervals) {
    auto matcher = TimeIntervalMatcher::Create(interval, options_.zoneinfo_dir);
    if (!matcher.ok()) {
      // Ignored rather than fatal, so a broken interval never silences notifications.
      Logger("notify")->error("Time interval is ignored err={}",
                              LogValue(matcher.error().message()));
      continue;
    }
    intervals_.insert_or_assign(interval.name, std::move(*matcher));
  }
  BuildMuting(route, *tree_);
  if (!options_.executor) {
    // A worker per integration, so a hanging receiver delays no other, then one thread for
    // log maintenance. This suits the tens of integrations of a usual configuration, not
    // thousands.
    for (size_t i = 0; i < counters_.size(); ++i) {
      workers_.push_back(std::make_unique<Worker>(options_.sends_per_integration));
    }
    workers_.push_back(std::make_unique<Worker>(1));
  }
}

Dispatcher::~Dispatcher() {
  Stop();
  // Sends not started yet are dropped, so stopping waits only for those in flight. The
  // notification log has no record of them, so the next start sends them again.
  size_t dropped = 0;
  for (size_t i = 0; i + 1 < workers_.size(); ++i) {
    dropped += workers_[i]->DropQueued();
  }
  if (dropped > 0) {
    Logger("notify")->warn(
        "Stopping with sends still queued; they are sent after the next start sends={}", dropped);
  }
  // Joined first: their jobs use everything below.
  workers_.clear();
}

void Dispatcher::BuildMuting(const config::Route& config, const Route& route) {
  RouteMuting& muting = muting_[&route];
  muting.notify_resolved_when_muted = config.notify_resolved_when_muted;
  auto resolve = [&](const std::vector<std::string>& names,
                     std::vector<const TimeIntervalMatcher*>& out) {
    for (const std::string& name : names) {
      auto it = intervals_.find(name);
      if (it == intervals_.end()) {
        Logger("notify")->error(
            "Route names an unknown time interval, the name is ignored "
            "route={} time_interval={}",
            LogValue(route.ID()),
            LogValue(name));
        continue;
      }
      out.push_back(&it->second);
    }
  };
  resolve(config.mute_time_intervals, muting.mute);
  resolve(config.active_time_intervals, muting.active);
  // Route builds its children from the same list in the same order.
  for (size_t i = 0; i < config.routes.size() && i < route.routes().size(); ++i) {
    BuildMuting(config.routes[i], *route.routes()[i]);
  }
}

const Dispatcher::RouteMuting& Dispatcher::MutingOf(const Route& route) const {
  static const RouteMuting kDefault;
  auto it = muting_.find(&route);
  return it == muting_.end() ? kDefault : it->second;
}

bool Dispatcher::TimeMuted(const Route& route, TimePoint now) const {
  const RouteMuting& muting = MutingOf(route);
  auto contains_now = [now](const TimeIntervalMatcher* interval) {
    return interval->ContainsTime(now);
  };
  if (std::any_of(muting.mute.begin(), muting.mute.end(), contains_now)) {
    return true;
  }
  return !muting.active.empty() &&
         std::none_of(muting.active.begin(), muting.active.end(), contains_now);
}

void Dispatcher::Put(std::vector<NotifyAlert> alerts) {
  TimePoint now = clock_->Now();
  std::lock_guard lock(mu_);
  if (draining_) {
    return;  // the alert store keeps them, and the next start puts them again
  }
  inhibitor_.Put(alerts);
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
      // Updated in place, so the mute state of the last flush survives.
      StoredAlert& stored = group.alerts[alert.labels];
      stored.alert = alert;
      stored.version = ++next_version_;
    }
  }
}

void Dispatcher::Tick() {
  TimePoint now = clock_->Now();
  inhibitor_.Prune(now);
  std::vector<Job> jobs;
  {
    std::lock_guard lock(mu_);
    for (auto it = groups_.begin(); it != groups_.end();) {
      Group& group = it->second;
      if (group.flush) {
        AdvanceFlush(group, now, jobs);
      }
      if (!group.flush && now >= group.next_flush && !draining_) {
        StartFlush(it->first, group, now, jobs);
      }
      if (!group.flush && group.alerts.empty()) {
        it = groups_.erase(it);
      } else {
        ++it;
      }
    }
    if (now >= next_prune_ && !draining_) {
      next_prune_ = now + kPruneInterval;
      jobs.push_back(Job{
          .worker = counters_.size(),
          .run =
              [this, before = now - options_.notification_log_retention] {
                Status pruned = nflog_->PruneNotifications(before);
                if (!pruned.ok()) {
                  Logger("notify")->warn("Pruning the notification log failed err={}",
                                         LogValue(pruned.error().message()));
                }
              },
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
                            std::vector<Job>& jobs) {
  const Route& route = *group.route;
  group.next_flush = now + route.group_interval();
  group.has_flushed = true;
  if (group.alerts.empty()) {
    return;
  }
  const bool time_muted = TimeMuted(route, now);
  const bool keep_muted = MutingOf(route).notify_resolved_when_muted;
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->route = &route;
  snapshot->group_id = group_id;
  snapshot->group_key = group.group_key;
  snapshot->group_labels = group.group_labels;
  Flush flush;
  for (auto& [labels, stored] : group.alerts) {
    NotifyAlert alert = stored.alert;
    const bool resolved = alert.ResolvedAt(now);
    flush.versions[labels] = FlushedAlert{.version = stored.version, .resolved = resolved};
    std::vector<std::string> silenced_by;
    if (options_.silencer != nullptr) {
      silenced_by = options_.silencer->MutedBy(labels, now);
    }
    std::vector<std::string> inhibited_by = inhibitor_.MutedBy(labels, now);
    const bool was_muted = !stored.silenced_by.empty() || !stored.inhibited_by.empty();
    if (was_muted && silenced_by.empty() && inhibited_by.empty() && !resolved) {
      std::string by;
      if (!stored.silenced_by.empty()) {
        by += " silenced_by=" + LogValue(Join(stored.silenced_by));
      }
      if (!stored.inhibited_by.empty()) {
        by += " inhibited_by=" + LogValue(Join(stored.inhibited_by));
      }
      Logger("notify")->info("Alert no longer muted alertname={} fingerprint={}{}",
                             LogValue(labels.Get("alertname")),
                             labels.Fingerprint(),
                             by);
      group.renotify = true;
    }
    const bool muted = time_muted || !silenced_by.empty() || !inhibited_by.empty();
    stored.silenced_by = std::move(silenced_by);
    stored.inhibited_by = std::move(inhibited_by);
    if (muted) {
      if (keep_muted && resolved) {
        snapshot->muted_resolved.push_back(std::move(alert));
      } else if (keep_muted) {
        snapshot->muted_firing.push_back(labels.Hash());
      }
      continue;
    }
    // Alertmanager's flush: an alert still firing now shows no end, so it cannot resolve
    // while the notification is on its way.
    if (resolved) {
      snapshot->resolved.push_back(labels.Hash());
    } else {
      alert.ends_at = TimePoint{};
      snapshot->firing.push_back(labels.Hash());
    }
    snapshot->alerts.push_back(std::move(alert));
  }
  if (snapshot->alerts.empty() && snapshot->muted_resolved.empty()) {
    // As Alertmanager's pipeline stopping with no alerts left: nothing is sent or logged, and
    // the flush counts as delivered.
    RemoveResolved(group, flush.versions);
    return;
  }
  snapshot->renotify = group.renotify && !snapshot->alerts.empty();
  std::stable_sort(snapshot->alerts.begin(), snapshot->alerts.end(), AlertBefore);
  std::sort(snapshot->firing.begin(), snapshot->firing.end());
  std::sort(snapshot->resolved.begin(), snapshot->resolved.end());
  std::sort(snapshot->muted_firing.begin(), snapshot->muted_firing.end());
  flush.snapshot = std::move(snapshot);
  flush.started = now;
  flush.deadline = now + std::max(route.group_interval(), kMinFlushTimeout);
  SendTask task;
  task.next_attempt = now;
  flush.tasks.resize(IntegrationsOf(route).size(), task);
  group.flush = std::move(flush);
  AdvanceFlush(group, now, jobs);
}

void Dispatcher::AdvanceFlush(Group& group, TimePoint now, std::vector<Job>& jobs) {
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
                         .retry_after = std::nullopt},
             now);
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
    RemoveResolved(group, flush.versions);
    if (flush.snapshot->renotify) {
      group.renotify = false;
    }
  }
  group.flush.reset();
}

void Dispatcher::RemoveResolved(Group& group, const std::map<Labels, FlushedAlert>& flushed) {
  for (const auto& [labels, alert] : flushed) {
    auto it = group.alerts.find(labels);
    if (alert.resolved && it != group.alerts.end() && it->second.version == alert.version) {
      group.alerts.erase(it);
    }
  }
}

Dispatcher::Job Dispatcher::MakeJob(Group& group, size_t task_index) {
  Attempt attempt{.snapshot = group.flush->snapshot,
                  .task_index = task_index,
                  .check_dedup = !group.flush->tasks[task_index].dedup_passed};
  return Job{.worker = IntegrationsOf(*group.route)[task_index].counters, .run = [this, attempt] {
               RunAttempt(attempt);
             }};
}

Dispatcher::Content Dispatcher::ContentFor(const Snapshot& snapshot,
                                           const std::optional<NotificationLogEntry>& entry) {
  Content content;
  content.alerts = snapshot.alerts;
  content.firing = snapshot.firing;
  content.resolved = snapshot.resolved;
  if (!entry) {
    return content;
  }
  for (uint64_t hash : snapshot.muted_firing) {
    if (Contains(entry->firing, hash)) {
      content.carried.push_back(hash);
    }
  }
  std::vector<uint64_t> resent;
  for (const NotifyAlert& alert : snapshot.muted_resolved) {
    uint64_t hash = alert.labels.Hash();
    if (Contains(entry->firing, hash)) {
      content.alerts.push_back(alert);
      resent.push_back(hash);
    }
  }
  if (!resent.empty()) {
    std::stable_sort(content.alerts.begin(), content.alerts.end(), AlertBefore);
    std::sort(resent.begin(), resent.end());
    content.resolved = Union(content.resolved, resent);
  }
  return content;
}

void Dispatcher::RunAttempt(const Attempt& attempt) {
  const Snapshot& snapshot = *attempt.snapshot;
  const Integration& integration = IntegrationsOf(*snapshot.route)[attempt.task_index];
  Notifier& notifier = *integration.notifier;
  TimePoint now = clock_->Now();

  // Read on every attempt: what a muted alert contributes depends on it.
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
  Content content = ContentFor(snapshot, *entry);
  if (content.alerts.empty()) {
    CompleteAttempt(attempt, 0, std::nullopt);  // only muted alerts this integration never had
    return;
  }
  if (attempt.check_dedup && !snapshot.renotify &&
      !NeedsUpdate(*entry,
                   content.firing,
                   content.carried,
                   content.resolved,
                   notifier.send_resolved(),
                   snapshot.route->repeat_interval(),
                   now)) {
    CompleteAttempt(attempt, 0, std::nullopt);
    return;
  }

  std::vector<NotifyAlert> alerts;
  for (auto& alert : content.alerts) {
    if (notifier.send_resolved() || !alert.resolved()) {
      alerts.push_back(std::move(alert));
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
  Status logged =
      nflog_->PutNotification(NotificationLogEntry{.receiver = integration.log_key,
                                                   .group_key = snapshot.group_key,
                                                   .firing = Union(content.firing, content.carried),
                                                   .resolved = content.resolved,
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
    if (attempt.task_index < group.failing_since.size()) {
      group.failing_since[attempt.task_index].reset();
    }
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
      GiveUp(group, attempt.task_index, *error, now);
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
  drain_cv_.notify_all();
}

void Dispatcher::GiveUp(Group& group, size_t index, const NotifyError& error, TimePoint now) {
  SendTask& task = group.flush->tasks[index];
  task.state = TaskState::kFailed;
  const Integration& integration = IntegrationsOf(*group.route)[index];
  IntegrationCounters& counters = counters_[integration.counters];
  ++counters.notifications_failed;
  ++counters.failed_by_reason[std::string(FailureReasonName(error.reason))];
  group.failing_since.resize(group.flush->tasks.size());
  std::optional<TimePoint>& failing_since = group.failing_since[index];
  if (!failing_since) {
    failing_since = group.flush->started;
  }
  if (options_.queue_max_age > Duration(0) && now - *failing_since >= options_.queue_max_age) {
    DropContent(group, index, error, now);
    return;
  }
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

void Dispatcher::DropContent(Group& group, size_t index, const NotifyError& error, TimePoint now) {
  SendTask& task = group.flush->tasks[index];
  task.state = TaskState::kDone;  // so the flush's resolved alerts may leave the group
  const Integration& integration = IntegrationsOf(*group.route)[index];
  IntegrationCounters& counters = counters_[integration.counters];
  ++counters.notifications_dropped;
  const Snapshot& snapshot = *group.flush->snapshot;
  const auto age = now - *group.failing_since[index];
  group.failing_since[index].reset();
  Logger("notify")->error(
      "Notification dropped after queue_max_age receiver={} integration={} group_key={} "
      "alerts={} failing_for={}s attempts={} reason={} err={}",
      LogValue(group.route->receiver()),
      integration.notifier->integration(),
      LogValue(snapshot.group_key),
      snapshot.alerts.size(),
      std::chrono::duration_cast<std::chrono::seconds>(age).count(),
      task.attempts,
      FailureReasonName(error.reason),
      LogValue(error.message));
  // Recorded as if delivered, so the dedup check sends again only for a change of the group's
  // alerts or after repeat_interval. The write happens under mu_; drops are rare.
  Status logged = nflog_->PutNotification(NotificationLogEntry{.receiver = integration.log_key,
                                                               .group_key = snapshot.group_key,
                                                               .firing = snapshot.firing,
                                                               .resolved = snapshot.resolved,
                                                               .sent_at = now});
  if (!logged.ok()) {
    Logger("notify")->error(
        "Writing the notification log failed, the dropped notification may be retried "
        "receiver={} group_key={} err={}",
        LogValue(integration.log_key),
        LogValue(snapshot.group_key),
        LogValue(logged.error().message()));
  }
}

void Dispatcher::Execute(Job job) {
  if (options_.executor) {
    options_.executor(std::move(job.run));
    return;
  }
  workers_.at(job.worker)->Push(std::move(job.run));
}

const std::vector<Dispatcher::Integration>& Dispatcher::IntegrationsOf(const Route& route) const {
  static const std::vector<Integration> kNone;
  auto it = integrations_.find(route.receiver());
  return it == integrations_.end() ? kNone : it->second;
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

void Dispatcher::Drain(Duration timeout) {
  Stop();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto flushes_under_way = [this] {
    return static_cast<size_t>(std::count_if(
        groups_.begin(), groups_.end(), [](const auto& item) { return item.second.flush; }));
  };
  {
    std::lock_guard lock(mu_);
    draining_ = true;
    Logger("notify")->info("Draining notifications flushes={} timeout={}",
                           flushes_under_way(),
                           FormatDuration(timeout));
  }
  size_t left = 0;
  while (true) {
    Tick();  // runs the retries that came due; starts no flush
    std::unique_lock lock(mu_);
    left = flushes_under_way();
    const auto now = std::chrono::steady_clock::now();
    if (left == 0 || now >= deadline) {
      break;
    }
    // Woken by each completed attempt; the tick interval bounds the wait for a retry's time.
    drain_cv_.wait_until(lock, std::min(deadline, now + options_.tick_interval));
  }
  size_t dropped = 0;
  for (size_t i = 0; i + 1 < workers_.size(); ++i) {
    dropped += workers_[i]->DropQueued();
  }
  if (left > 0) {
    Logger("notify")->warn(
        "Drain timed out with notifications undelivered; they are sent after the next start "
        "flushes={} sends_dropped={}",
        left,
        dropped);
  } else {
    Logger("notify")->info("Drained notifications");
  }
}

std::vector<IntegrationCounters> Dispatcher::Counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

std::vector<AlertGroupInfo> Dispatcher::AlertGroups() const {
  std::vector<AlertGroupInfo> out;
  std::lock_guard lock(mu_);
  out.reserve(groups_.size());
  for (const auto& [id, group] : groups_) {
    AlertGroupInfo info{.labels = group.group_labels,
                        .receiver = group.route->receiver(),
                        .route_id = group.route->ID(),
                        .alerts = {}};
    for (const auto& [labels, stored] : group.alerts) {
      info.alerts.push_back(stored.alert);
    }
    std::stable_sort(info.alerts.begin(), info.alerts.end(), AlertBefore);
    out.push_back(std::move(info));
  }
  return out;
}

std::vector<std::string> Dispatcher::InhibitedBy(const Labels& labels, TimePoint now) const {
  return inhibitor_.MutedBy(labels, now);
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
