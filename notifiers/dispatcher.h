// The notification router: Alertmanager 0.25's dispatcher, aggregation groups, dedup stage
// (against the notification log in StateStore) and retry stage, over Alertmanager's route tree
// (notifiers/route.h): each alert goes to every route it matches, and each route keeps its own
// aggregation groups with its own receiver and timing.
//
// Time advances only through Tick(), which runs whatever is due at clock->Now(), so tests drive
// the dispatcher with a FakeClock and never sleep. Sends run on an executor, so Tick() does not
// wait for HTTP unless the executor runs jobs inline, as tests do. Without an executor, every
// integration has its own worker threads, so a slow receiver delays only its own sends.
//
// Semantics, per aggregation group (alerts of one route with the same values of the route's
// group_by labels; "..." groups by all labels). The group key, in notifications and in the
// notification log, is the route's Key() and the group labels, as `{}/{a="b"}:{alertname="X"}`:
// - The first flush comes group_wait after the group was created, or at the next Tick when an
//   alert's starts_at is already more than group_wait in the past. Later flushes come every
//   group_interval.
// - A flush sends to an integration only when the notification log shows something new since
//   the last notification to it: a firing alert not notified as firing, a resolved alert that
//   it listed as firing (only with send_resolved; Alertmanager sends for any resolved alert it
//   did not list as resolved), all alerts resolved after firing ones were
//   notified, or repeat_interval passed since that notification.
// - With send_resolved false, resolved alerts are left out of the payload; a flush that has only
//   resolved alerts then records them in the log without sending.
// - A failed attempt is retried with exponential backoff until the flush's deadline,
//   max(group_interval, 10s) after it started; a non-retryable error gives up at once. The log
//   is not updated after a give-up, so the next flush sends the same content again.
// - Resolved alerts leave the group once a flush delivered to every integration; an empty group
//   is removed.
//
// Muting is decided at flush time, as in Alertmanager's MuteStage, TimeMuteStage and
// TimeActiveStage:
// - An alert muted by an inhibit rule or by the silencer is left out of the notification and
//   of the dedup check. It stays in its group.
// - The whole group is muted while one of the route's mute_time_intervals contains the flush
//   time, or while none of its active_time_intervals does (when it has some).
// - When no unmuted alert is left, the flush sends nothing and does not write the log.
// Beyond Alertmanager:
// - With the route's notify_resolved_when_muted (the default), an alert that the log lists as
//   notified firing stays in the log's firing list while muted. When it resolves while muted,
//   the integration gets the resolved notification (if it has send_resolved). With false,
//   muted alerts are left out, as in Alertmanager.
// - When a silence or inhibition of a firing alert ends, the next flush logs "Alert no longer
//   muted" and notifies the group without waiting for repeat_interval.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/labels.h"
#include "config/config.h"
#include "notifiers/inhibit.h"
#include "notifiers/muter.h"
#include "notifiers/notifier.h"
#include "notifiers/route.h"
#include "notifiers/time_interval.h"
#include "storage/state_store.h"

namespace alertd {

struct DispatcherOptions {
  // Alertmanager's ExternalURL, put into notifications; a trailing '/' is removed.
  std::string external_url;
  // Wait before the first retry; each later wait doubles, up to retry_max_backoff.
  Duration retry_initial_backoff{1000};
  Duration retry_max_backoff{60000};
  // Spreads each retry wait uniformly over [wait * (1 - j), wait * (1 + j)], so receivers
  // that failed together are not retried in step. 0 keeps waits exact, as tests want; the
  // daemon uses 0.2.
  double retry_jitter = 0;
  // Returns a number in [0, 1) for the jitter. Unset: a generator seeded from the system.
  std::function<double()> random;
  // Runs one send job. Jobs must all have run before the dispatcher is destroyed. Unset: each
  // integration gets a worker owned by the dispatcher with sends_per_integration threads.
  std::function<void(std::function<void()>)> executor;
  // Sends one integration's worker runs at once, for different groups; one group has at most
  // one send in flight. Alertmanager runs each group in its own goroutine without a bound.
  int sends_per_integration = 4;
  // Alertmanager's inhibit_rules.
  std::vector<config::InhibitRule> inhibit_rules;
  // Intervals that routes name in mute_time_intervals and active_time_intervals. A name not
  // found here, or an interval whose location fails to load, is logged as an error and ignored.
  std::vector<config::TimeInterval> time_intervals;
  // Directory of the TZif files that time interval locations are read from.
  std::string zoneinfo_dir = kZoneInfoDir;
  // Silences: alerts it mutes are left out of notifications. Must outlive the dispatcher. It is
  // called with the dispatcher's lock held, so it must not call back into the dispatcher.
  const Muter* silencer = nullptr;
  // Period of the loop started by Start(); Tick() calls from tests do not use it.
  Duration tick_interval{1000};
  // How long an integration keeps retrying one group's undelivered content, counted from the
  // first flush that failed. After that, the next give-up drops the content, logs an error and
  // counts it in notifications_dropped. The drop is recorded in the notification log, so only a
  // change of the group's alerts or repeat_interval sends again. 0 retries without end.
  // NOTE: the age is kept in memory, so a restart starts it again.
  Duration queue_max_age{0};
  // Notification log entries older than this are pruned, every 15 minutes of Tick() time.
  // Alertmanager's --data.retention default, 120h.
  Duration notification_log_retention{std::chrono::hours(120)};
};

// Delivery counters of one integration, for /metrics.
struct IntegrationCounters {
  std::string receiver;
  std::string integration;            // "slack" or "webhook"
  int index = 0;                      // position among the receiver's integrations of that kind
  uint64_t notifications_sent = 0;    // notifications delivered
  uint64_t notifications_failed = 0;  // notifications given up on
  uint64_t requests = 0;              // delivery attempts
  uint64_t requests_failed = 0;       // delivery attempts that failed
  std::map<std::string, uint64_t> failed_by_reason;  // give-ups by FailureReasonName
  uint64_t notifications_dropped = 0;  // contents dropped after DispatcherOptions::queue_max_age
};

// One aggregation group, for the API (/api/v2/alerts/groups).
struct AlertGroupInfo {
  Labels labels;  // the group labels
  std::string receiver;
  std::string route_id;  // Route::ID()
  // Every alert of the group as last put, resolved ones still waiting for their notification
  // included, sorted as in notifications; ends_at as put.
  std::vector<NotifyAlert> alerts;
};

class Dispatcher {
 public:
  // Routes alerts through the tree rooted at `route`; a route's integrations are
  // `receivers[receiver]`. `nflog` and `clock` must outlive the dispatcher.
  Dispatcher(const config::Route& route,
             std::map<std::string, std::vector<std::unique_ptr<Notifier>>> receivers,
             StateStore* nflog,
             const Clock* clock,
             DispatcherOptions options = {});

  // Stops the Start() loop, drops the sends that have not started on the owned workers, and
  // waits for those in flight.
  ~Dispatcher();

  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Adds or updates alerts; an alert is identified by its labels, and a later Put replaces the
  // earlier alert with the same labels. Thread-safe.
  void Put(std::vector<NotifyAlert> alerts);

  // Runs the flushes and retries due at clock->Now(): decides, then hands sends to the
  // executor. Thread-safe.
  void Tick();

  // Starts a thread that calls Tick() every tick_interval; Stop() ends it. Idempotent.
  void Start();
  void Stop();

  // For shutdown: stops the Start() loop and takes no new work (Put() ignores its alerts, and
  // no flush starts, so groups still in group_wait are not sent), then runs the flushes under
  // way, retries included, until each is delivered or given up, for at most `timeout` of
  // steady time. Sends still queued then are dropped; a send in flight goes on, and the
  // destructor waits for it. What was not delivered is missing from the notification log, so
  // the next start sends it. Thread-safe; the dispatcher serves nothing after it.
  void Drain(Duration timeout);

  // One entry per integration of each receiver some route uses, in receiver name and then
  // configuration order. Thread-safe.
  std::vector<IntegrationCounters> Counters() const;

  // The aggregation groups, sorted by route ID and then group labels. Thread-safe.
  std::vector<AlertGroupInfo> AlertGroups() const;

  // Fingerprints of the firing alerts that inhibit an alert with `labels` at `now`, sorted, or
  // empty. The inhibit rules see every alert put. Thread-safe.
  // NOTE: Alertmanager's inhibitedBy lists only the first inhibiting alert it finds; this
  // lists all of them.
  std::vector<std::string> InhibitedBy(const Labels& labels, TimePoint now) const;

  // Number of aggregation groups and of alerts in them. Thread-safe.
  size_t group_count() const;
  size_t alert_count() const;

 private:
  class Worker;

  struct Integration {
    Notifier* notifier;
    std::string log_key;  // receiver/integration/index, the notification log's receiver
    size_t counters;      // index into counters_, and into workers_ when they exist
  };

  // A route's muting options, which Route does not carry.
  struct RouteMuting {
    std::vector<const TimeIntervalMatcher*> mute;
    std::vector<const TimeIntervalMatcher*> active;
    bool notify_resolved_when_muted = true;
  };

  struct StoredAlert {
    NotifyAlert alert;
    uint64_t version = 0;  // changes on every Put, so a flush deletes only what it notified
    // Silence IDs and inhibiting fingerprints that muted the alert at the last flush.
    std::vector<std::string> silenced_by;
    std::vector<std::string> inhibited_by;
  };

  enum class TaskState { kWaiting, kInFlight, kDone, kFailed };

  // One integration's share of a flush.
  struct SendTask {
    TaskState state = TaskState::kWaiting;
    TimePoint next_attempt{};
    int attempts = 0;
    bool dedup_passed = false;  // the notification log check ran and asked for a send
    std::string last_error;
    // Reason of the last failed attempt; a give-up at the deadline reports it.
    std::optional<FailureReason> last_reason;
  };

  // The alerts of one flush, shared with the jobs that send them.
  struct Snapshot {
    const Route* route;
    std::string group_id;  // key of the group in groups_
    std::string group_key;
    Labels group_labels;
    // The unmuted alerts, sorted as Alertmanager sorts; firing ends_at zeroed.
    std::vector<NotifyAlert> alerts;
    std::vector<uint64_t> firing;    // label hashes of the unmuted alerts, sorted
    std::vector<uint64_t> resolved;  // label hashes of the unmuted alerts, sorted
    // Muted alerts, kept only with notify_resolved_when_muted: an integration whose log entry
    // has one as firing keeps it there, or gets its resolved notification.
    std::vector<uint64_t> muted_firing;  // sorted
    std::vector<NotifyAlert> muted_resolved;
    // An alert's silence or inhibition ended: send even when the log has nothing new.
    bool renotify = false;
  };

  // The share of a flush for one integration, given its notification log entry.
  struct Content {
    std::vector<NotifyAlert> alerts;  // before the send_resolved filter
    std::vector<uint64_t> firing;     // unmuted firing, for the dedup check
    std::vector<uint64_t> carried;    // muted firing alerts the log keeps as notified
    std::vector<uint64_t> resolved;
  };

  struct FlushedAlert {
    uint64_t version;
    bool resolved;
  };

  struct Flush {
    std::shared_ptr<const Snapshot> snapshot;
    std::map<Labels, FlushedAlert> versions;  // every alert of the group at the flush
    TimePoint started{};
    TimePoint deadline{};
    std::vector<SendTask> tasks;  // one per integration
  };

  struct Group {
    const Route* route = nullptr;
    std::string group_key;
    Labels group_labels;
    std::map<Labels, StoredAlert> alerts;
    TimePoint next_flush{};
    bool has_flushed = false;
    bool renotify = false;  // set when an alert was unmuted, until a flush delivers it
    std::optional<Flush> flush;
    // Per integration: the start of the first flush whose content it has not delivered since.
    std::vector<std::optional<TimePoint>> failing_since;
  };

  // The inputs of one attempt, copied so that a job runs without holding mu_.
  struct Attempt {
    std::shared_ptr<const Snapshot> snapshot;
    size_t task_index;
    bool check_dedup;
  };

  struct Job {
    size_t worker;  // index into workers_
    std::function<void()> run;
  };

  void BuildMuting(const config::Route& config, const Route& route);
  const RouteMuting& MutingOf(const Route& route) const;
  bool TimeMuted(const Route& route, TimePoint now) const;
  void StartFlush(const std::string& group_id, Group& group, TimePoint now, std::vector<Job>& jobs);
  void AdvanceFlush(Group& group, TimePoint now, std::vector<Job>& jobs);
  void FinishFlush(Group& group);
  // Removes the alerts that were resolved at the flush and not updated since.
  static void RemoveResolved(Group& group, const std::map<Labels, FlushedAlert>& flushed);
  Job MakeJob(Group& group, size_t task_index);
  static Content ContentFor(const Snapshot& snapshot,
                            const std::optional<NotificationLogEntry>& entry);
  void RunAttempt(const Attempt& attempt);
  // `sent_alerts` is 0 when no request was made.
  void CompleteAttempt(const Attempt& attempt,
                       size_t sent_alerts,
                       const std::optional<NotifyError>& error);
  // Ends an integration's part of the flush as failed; past queue_max_age, drops it instead.
  void GiveUp(Group& group, size_t task_index, const NotifyError& error, TimePoint now);
  void DropContent(Group& group, size_t task_index, const NotifyError& error, TimePoint now);
  void Execute(Job job);
  // The integrations of the route's receiver; empty when it has none.
  const std::vector<Integration>& IntegrationsOf(const Route& route) const;

  const std::unique_ptr<const Route> tree_;
  std::map<std::string, std::vector<std::unique_ptr<Notifier>>> receivers_;
  StateStore* const nflog_;
  const Clock* const clock_;
  DispatcherOptions options_;
  std::map<std::string, std::vector<Integration>> integrations_;  // by receiver name
  std::map<std::string, TimeIntervalMatcher> intervals_;          // by name
  std::map<const Route*, RouteMuting> muting_;
  Inhibitor inhibitor_;

  mutable std::mutex mu_;
  // Set by Drain(): no new alerts or flushes. Notified when an attempt completes.
  bool draining_ = false;
  std::condition_variable drain_cv_;
  std::map<std::string, Group> groups_;  // by route ID and group labels
  std::vector<IntegrationCounters> counters_;
  uint64_t next_version_ = 0;
  TimePoint next_prune_{};

  // Owned workers, used when options_.executor is unset: one per integration, then one for
  // notification log maintenance.
  std::vector<std::unique_ptr<Worker>> workers_;

  // Start() loop.
  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool loop_stop_ = false;
  std::thread loop_;
};

}  // namespace alertd
