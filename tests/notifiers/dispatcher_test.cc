#include "notifiers/dispatcher.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "common/logging.h"
#include "notifiers/fakes.h"
#include "notifiers/time_util.h"

namespace alertd {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::FakeStateStore;
using testing::NotifierLog;
using testing::RecordingNotifier;

const TimePoint kStart = testing::Utc(2026, 12, 4, 15, 0, 0);

// Mutes the label sets passed to Mute(), each with the given ID.
class FakeMuter final : public Muter {
 public:
  void Mute(const Labels& labels, std::string id) {
    std::lock_guard lock(mu_);
    muted_[labels] = std::move(id);
  }

  void Unmute(const Labels& labels) {
    std::lock_guard lock(mu_);
    muted_.erase(labels);
  }

  std::vector<std::string> MutedBy(const Labels& labels, TimePoint) const override {
    std::lock_guard lock(mu_);
    auto it = muted_.find(labels);
    if (it == muted_.end()) {
      return {};
    }
    return {it->second};
  }

 private:
  mutable std::mutex mu_;
  std::map<Labels, std::string> muted_;
};

// Collects the "notify" log lines that contain `filter` while it exists.
class NotifyLogCapture {
 public:
  explicit NotifyLogCapture(std::string filter)
      : filter_(std::move(filter)),
        sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)),
        logger_(Logger("notify")) {
    sink_->set_pattern("%l %v");
    logger_->sinks().push_back(sink_);
  }

  ~NotifyLogCapture() { logger_->sinks().pop_back(); }

  std::vector<std::string> Lines() {
    logger_->flush();
    std::vector<std::string> lines;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) {
      if (line.find(filter_) != std::string::npos) {
        lines.push_back(line);
      }
    }
    return lines;
  }

 private:
  std::string filter_;
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> logger_;
};

LabelMatcher Eq(std::string name, std::string value) {
  return *LabelMatcher::Create(MatchType::kEqual, std::move(name), std::move(value));
}

std::vector<std::string> Instances(const Notification& notification) {
  std::vector<std::string> out;
  for (const auto& alert : notification.alerts) {
    out.push_back(std::string(alert.labels.Get("alertname")) + "/" +
                  std::string(alert.labels.Get("instance")) + ":" + std::string(alert.status()));
  }
  return out;
}

NotifyError Retryable(std::string message) {
  return NotifyError{.retryable = true,
                     .reason = FailureReason::kServer,
                     .message = std::move(message),
                     .retry_after = std::nullopt};
}

NotifyError Permanent(std::string message) {
  return NotifyError{.retryable = false,
                     .reason = FailureReason::kClient,
                     .message = std::move(message),
                     .retry_after = std::nullopt};
}

// A dispatcher with one receiver "team" and a synchronous executor, over a shared store.
class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() : clock_(kStart) {
    route_.receiver = "team";
    route_.group_by = {"alertname"};
    route_.group_wait = seconds(30);
    route_.group_interval = minutes(5);
    route_.repeat_interval = hours(4);
  }

  // Creates the dispatcher with integrations that record into `logs` (one per entry; the
  // bool is send_resolved).
  void Create(std::vector<bool> send_resolved = {true}) {
    dispatcher_.reset();
    logs_.clear();
    std::map<std::string, std::vector<std::unique_ptr<Notifier>>> receivers;
    for (bool resolved : send_resolved) {
      logs_.push_back(std::make_shared<NotifierLog>());
      receivers["team"].push_back(
          std::make_unique<RecordingNotifier>("webhook", resolved, logs_.back()));
    }
    DispatcherOptions options = options_;
    options.external_url = "http://alertd.example:9095/";
    options.executor = [](std::function<void()> job) {
      job();
    };
    dispatcher_ = std::make_unique<Dispatcher>(
        route_, std::move(receivers), &store_, &clock_, std::move(options));
  }

  NotifyAlert Firing(std::string instance, std::string alertname = "HighLatency") {
    NotifyAlert alert;
    alert.labels = Labels{{"alertname", std::move(alertname)}, {"instance", std::move(instance)}};
    alert.starts_at = clock_.Now();
    return alert;
  }

  NotifyAlert Resolved(NotifyAlert alert) {
    alert.ends_at = clock_.Now();
    return alert;
  }

  // Advances the clock by `step` and ticks, `count` times.
  void AdvanceAndTick(Duration step, int count = 1) {
    for (int i = 0; i < count; ++i) {
      clock_.Advance(step);
      dispatcher_->Tick();
    }
  }

  const IntegrationCounters& Counter(size_t index = 0) {
    counters_ = dispatcher_->Counters();
    return counters_.at(index);
  }

  config::Route route_;
  DispatcherOptions options_;  // inhibit rules, time intervals and silencer for Create()
  FakeClock clock_;
  FakeStateStore store_;
  std::vector<std::shared_ptr<NotifierLog>> logs_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::vector<IntegrationCounters> counters_;
};

TEST_F(DispatcherTest, FirstNotificationWaitsForGroupWait) {
  Create();
  dispatcher_->Put({Firing("a")});
  dispatcher_->Tick();
  AdvanceAndTick(seconds(29));
  EXPECT_EQ(logs_[0]->calls(), 0u);
  AdvanceAndTick(seconds(1));
  ASSERT_EQ(logs_[0]->calls(), 1u);
  Notification n = logs_[0]->last();
  EXPECT_EQ(n.receiver, "team");
  EXPECT_EQ(n.status, "firing");
  EXPECT_EQ(n.group_key, "{}:{alertname=\"HighLatency\"}");
  EXPECT_EQ(n.group_labels, (Labels{{"alertname", "HighLatency"}}));
  EXPECT_EQ(n.external_url, "http://alertd.example:9095");
  ASSERT_EQ(n.alerts.size(), 1u);
  EXPECT_EQ(n.alerts[0].labels.Get("instance"), "a");
  EXPECT_EQ(Counter().notifications_sent, 1u);
}

TEST_F(DispatcherTest, AlertsArrivingWithinGroupWaitShareOneNotification) {
  Create();
  dispatcher_->Put({Firing("b")});
  AdvanceAndTick(seconds(10));
  dispatcher_->Put({Firing("a")});
  AdvanceAndTick(seconds(20));
  ASSERT_EQ(logs_[0]->calls(), 1u);
  Notification n = logs_[0]->last();
  ASSERT_EQ(n.alerts.size(), 2u);
  // Alertmanager orders alerts by instance when they have one.
  EXPECT_EQ(n.alerts[0].labels.Get("instance"), "a");
  EXPECT_EQ(n.alerts[1].labels.Get("instance"), "b");
}

TEST_F(DispatcherTest, NewAlertWaitsForGroupInterval) {
  Create();
  dispatcher_->Put({Firing("a")});
  AdvanceAndTick(seconds(30));
  ASSERT_EQ(logs_[0]->calls(), 1u);
  AdvanceAndTick(seconds(10));
  dispatcher_->Put({Firing("b")});
  AdvanceAndTick(minutes(1), 4);  // 4m10s after the first flush
  EXPECT_EQ(logs_[0]->calls(), 1u);
  AdvanceAndTick(seconds(50));  // exactly group_interval after the first flush
  ASSERT_EQ(logs_[0]->calls(), 2u);
  EXPECT_EQ(logs_[0]->last().alerts.size(), 2u);
}

TEST_F(DispatcherTest, SeparateGroupsPerGroupByValue) {
  Create();
  dispatcher_->Put({Firing("a", "HighLatency"), Firing("a", "Down")});
  AdvanceAndTick(seconds(30));
  EXPECT_EQ(logs_[0]->calls(), 2u);
  EXPECT_EQ(dispatcher_->group_count(), 2u);
}

TEST_F(DispatcherTest, GroupByEllipsisGroupsByAllLabels) {
  route_.group_by = {"..."};
  Create();
  dispatcher_->Put({Firing("a"), Firing("b")});
  AdvanceAndTick(seconds(30));
  ASSERT_EQ(logs_[0]->calls(), 2u);
  EXPECT_EQ(dispatcher_->group_count(), 2u);
  EXPECT_EQ(logs_[0]->last().group_labels.size(), 2u);
}

TEST_F(DispatcherTest, EmptyGroupByPutsAllAlertsInOneGroup) {
  route_.group_by = {};
  Create();
  dispatcher_->Put({Firing("a", "HighLatency"), Firing("b", "Down")});
  AdvanceAndTick(seconds(30));
  ASSERT_EQ(logs_[0]->calls(), 1u);
  EXPECT_EQ(logs_[0]->last().group_key, "{}:{}");
  EXPECT_EQ(logs_[0]->last().alerts.size(), 2u);
}

TEST_F(DispatcherTest, UnchangedGroupRepeatsOnlyAfterRepeatInterval) {
  route_.group_interval = minutes(1);
  route_.repeat_interval = minutes(5);
  Create();
  dispatcher_->Put({Firing("a")});
  AdvanceAndTick(seconds(30));
  ASSERT_EQ(logs_[0]->calls(), 1u);
  // At 5 minutes the last notification is exactly repeat_interval old, not older.
  AdvanceAndTick(minutes(1), 5);
  EXPECT_EQ(logs_[0]->calls(), 1u);
  AdvanceAndTick(minutes(1));
  EXPECT_EQ(logs_[0]->calls(), 2u);
}

TEST_F(DispatcherTest, UpdatedAlertWithSameLabelsIsNotNews) {
  Create();
  dispatcher_->Put({Firing("a")});
  AdvanceAndTick(seconds(30));
  NotifyAlert update = Firing("a");
  update.annotations = Labels{{"summary", "changed"}};
  dispatcher_->Put({update});
  AdvanceAndTick(minutes(5));
  EXPECT_EQ(logs_[0]->calls(), 1u);
  EXPECT_EQ(dispatcher_->alert_count(), 1u);
}

TEST_F(DispatcherTest, ResolvedIsSentOnceWithSendResolved) {
  Create({true});
  NotifyAlert alert = Firing("a");
  dispatcher_->Put({alert});
  AdvanceAndTick(seconds(30));
  AdvanceAndTick(minutes(1));
  dispatcher_->Put({Resolved(alert)});
  AdvanceAndTick(minutes(4));
  ASSERT_EQ(logs_[0]->calls(), 2u);
  Notification n = logs_[0]->last();
  EXPECT_EQ(n.status, "resolved");
  ASSERT_EQ(n.alerts.size(), 1u);
  EXPECT_TRUE(n.alerts[0].resolved());
  EXPECT_EQ(dispatcher_->alert_count(), 0u);
  AdvanceAndTick(minutes(5), 3);
  EXPECT_EQ(logs_[0]->calls(), 2u);
  EXPECT_EQ(dispatcher_->group_count(), 0u);
}

TEST_F(DispatcherTest, ResolvedIsNotSentWithoutSendResolved) {
  Create({false});
  NotifyAlert alert = Firing("a");
  dispatcher_->Put({alert});
  AdvanceAndTick(seconds(30));
  dispatcher_->Put({Resolved(alert)});
  AdvanceAndTick(minutes(5));
  EXPECT_EQ(logs_[0]->calls(), 1u);
  EXPECT_EQ(dispatcher_->alert_count(), 0u);
  auto entry = store_.GetNotification("team/webhook/0", "{}:{alertname=\"HighLatency\"}");
  ASSERT_TRUE(entry.ok());
  ASSERT_TRUE(entry->has_value());
  EXPECT_TRUE((*entry)->firing.empty());
  EXPECT_EQ((*entry)->resolved, std::vector<uint64_t>{alert.labels.Hash()});
  // The same alert firing again is news once more.
  dispatcher_->Put({Firing("a")});
  AdvanceAndTick(seconds(30));
  EXPECT_EQ(logs_[0]->calls(), 2u);
}

TEST_F(DispatcherTest, ResolvedAlertsAreLeftOutWithoutSendResolved) {
  Create({false});
  NotifyAlert a = Firing("a");
  dispatcher_->Put({a, Firing("b")});
  AdvanceAndTick(seconds(30));
  dispatcher_->Put({Resolved(a), Firing("c")});
  AdvanceAndTick(minutes(5));
  ASSERT_EQ(logs_[0]->calls(), 2u);
  Notification n = logs_[0]->last();
  ASSERT_EQ(n.alerts.size(), 2u);
  EXPECT_EQ(n.alerts[0].labels.Get("instance"), "b");
  EXPECT_EQ(n.alerts[1].labels.Get("instance"), "c");
}

TEST_F(DispatcherTest, AlertThatFiredAndResolvedBetweenFlushesIsNotSent) {
  Create({true});
  NotifyAlert alert = Firing("a");
  dispatcher_->Put({alert});
  AdvanceAndTick(seconds(10));
  dispatcher_->Put({Resolved(alert)});
  AdvanceAndTick(seconds(20));
  EXPECT_EQ(logs_[0]->calls(), 0u);
  EXPECT_EQ(dispatcher_->alert_count(), 0u);
}

TEST_F(DispatcherTest, AlertWithFutureEndFiresUntilThen) {
  Create({true});
  NotifyAlert alert = Firing("a");
  alert.ends_at = clock_.Now() + minutes(3);
  dispatcher_->Put({alert});
  AdvanceAndTick(seconds(30));
  ASSERT_EQ(logs_[0]->calls(), 1u);
  EXPECT_EQ(logs_[0]->last().status, "firing");
  EXPECT_EQ(logs_[0]->last().alerts[0].ends_at, TimePoint{});
  AdvanceAndTick(minutes(5));
  ASSERT_EQ(logs_[0]->calls(), 2u);
  EXPECT_EQ(logs_[0]->last().status, "resolved");
  EXPECT_EQ(logs_[0]->last().alerts[0].ends_at, alert.ends_at);
}

TEST_F(DispatcherTest, OldAlertSkipsGroupWait) {
  Create();
  NotifyAlert alert = Firing("a");
  alert.starts_at = clock_.Now() - minutes(10);
  dispatcher_->Put({alert});
  dispatcher_->Tick();
  EXPECT_EQ(logs_[0]->calls(), 1u);
}

TEST_F(DispatcherTest, RestartDoesNotResendBeforeRepeatInterval) {
  Create();
  NotifyAlert alert = Firing("a");
  dispatcher_->Put({alert});
  AdvanceAndTick(seconds(30));
  ASSERT_EQ(logs_[0]->calls(), 1u);

  AdvanceAndTick(minutes(10));
  Create();  // a new dispatcher over the same notification log
  dispatcher_->Put({alert});
  dispatcher_->Tick();
  // 46 flushes later the notification is exactly repeat_interval (4h) old, not older.
  AdvanceAndTick(minutes(5), 46);
  EXPECT_EQ(logs_[0]->calls(), 0u);
  AdvanceAndTick(minutes(5));
  EXPECT_EQ(logs_[0]->calls(), 1u);
}

TEST_F(DispatcherTest, RestartSendsWhatWasNotSentBefore) {
  Create();
  dispatcher_->Put({Firing("a")});
  AdvanceAndTick(seconds(30));
  Create();
  dispatcher_->Put({Firing("a"), Firing("b")});
  AdvanceAndTick(seconds(30));
  ASSERT_EQ(logs_[0]->calls(), 1u);
  EXPECT_EQ(logs_[0]->last().alerts.size(), 2u);
}

TEST_F(DispatcherTest, DeliveredResolutionIsNotSentAgainAfterRestart) {
  Create();
  NotifyAlert d = Firing("d");
  dispatcher_->Put({d});
  AdvanceAndTick(seconds(30));  // [d firing]
  NotifyAlert d_resolved = Resolved(d);
  dispatcher_->Put({d_resolved});
  AdvanceAndTick(minutes(5));  // [d resolved]; d leaves the group
  ASSERT_EQ(logs_[0]->calls(), 2u);
  NotifyAlert e = Firing("e");
  dispatcher_->Put({e});
  AdvanceAndTick(minutes(5));  // [e firing]
  ASSERT_EQ(logs_[0]->calls(), 3u);
  ASSERT_EQ(Instances(logs_[0]->last()), std::vector<std::string>{"HighLatency/e:firing"});

  // After a restart the alert store hands over both alerts; d's resolution was delivered.
  Create();
  dispatcher_->Put({d_resolved, e});
  AdvanceAndTick(seconds(30), 20);
  EXPECT_EQ(logs_[0]->calls(), 0u);

  // The same is true without a restart, when d's sender resends its resolution.
  dispatcher_->Put({d_resolved});
  AdvanceAndTick(minutes(5), 2);
  EXPECT_EQ(logs_[0]->calls(), 0u);

  // A resolution of an alert the last notification listed as firing is still sent; d left
  // the group at the flush that sent nothing.
  dispatcher_->Put({Resolved(e)});
  AdvanceAndTick(minutes(5));
  ASSERT_EQ(logs_[0]->calls(), 1u);
  EXPECT_EQ(Instances(logs_[0]->last()), std::vector<std::string>{"HighLatency/e:resolved"});
}

TEST_F(DispatcherTest, ResolutionOfAlertNeverNotifiedAddsNothing) {
  Create();
  dispatcher_->Put({Firing("e")});
  AdvanceAndTick(seconds(30));  // [e firing]
  // d fires and resolves between two flushes, so no notification listed it.
  NotifyAlert d = Firing("d");
  dispatcher_->Put({d});
  dispatcher_->Put({Resolved(d)});
  AdvanceAndTick(minutes(5));
  EXPECT_EQ(logs_[0]->calls(), 1u);
}

TEST_F(DispatcherTest, FailedSendIsRetriedThenDelivered) {
  Create();
  logs_[0]->FailNext(Retryable("HTTP 500"));
  logs_[0]->FailNext(Retryable("HTTP 502"));
  dispatcher_->Put({Firing("a")});
  AdvanceAndTick(seconds(30));
  EXPECT_EQ(logs_[0]->calls(), 1u);
  AdvanceAndTick(seconds(1));  // first backoff: 1s
  EXPECT_EQ(logs_[0]->calls(), 2u);
  AdvanceAndTick(seconds(1));  // second backoff: 2s
  EXPECT_EQ(logs_[0]->calls(), 2u);
  AdvanceAndTick(seconds(1));
  EXPECT_EQ(logs_[0]->calls(), 3u);
  const IntegrationCounters& counters = Counter();
  EXPECT_EQ(counters.notifications_sent, 1u);
  EXPECT_EQ(counters.notifications_failed, 0u);
  EXPECT_EQ(counters.requests, 3u);
  EXPECT_EQ(counters.requests_failed, 2u);
  // Delivered once: nothing more until repeat_interval.
  AdvanceAndTick(minutes(5));
  EXPECT_EQ(logs_[0]->calls(), 3u);
}

TEST_F(DispatcherTest, RetryWaitsForRetryAfter) {
  Create();
  NotifyError limited = Retryable("HTTP 429");
  limited.reason = FailureReason::kRateLimited;
  limited.retry_after = seconds(5);
  logs_[0]->FailNext(limited);
  dispatcher_->Put({Firing("a")});
  AdvanceAndTick(seconds(30));
  AdvanceAndTick(seconds(1), 4);
  EXPECT_EQ(logs_[0]->calls(), 1u);
  AdvanceAndTick(seconds(1));
  EXPECT_EQ(logs_[0]->calls(), 2u);
  EXPECT_EQ(Counter().notifications_sent, 1u);
}

TEST_F(DispatcherTest, RetryJitterSpreadsTheWait) {
  // u = 0.75 with jitter 0.5 stretches the 4s third wait to 5s; u = 0 shrinks it to 2s.
  for (double u : {0.75, 0.0}) {
    SCOPED_TRACE(u);
    options_.retry_jitter = 0.5;
    options_.random = [u] {
      return u;
    };
    Create();
    logs_[0]->FailNext(Retryable("HTTP 500"));
    logs_[0]->FailNext(Retryable("HTTP 500"));
    logs_[0]->FailNext(Retryable("HTTP 500"));
    dispatcher_->Put({Firing("a", u == 0.0 ? "Second" : "First")});
    AdvanceAndTick(seconds(30));
    // Waits before the fourth attempt: 1s, 2s and 4s, each times 1 + 0.5 * (2u - 1).
    Duration waited{0};
    while (logs_[0]->calls() < 4 && waited < seconds(30)) {
      AdvanceAndTick(milliseconds(250));
      waited += milliseconds(250);
    }
    ASSERT_EQ(logs_[0]->calls(), 4u);
    EXPECT_EQ(waited, u == 0.0 ? milliseconds(3500) : milliseconds(8750));
  }
}

TEST_F(DispatcherTest, NonRetryableErrorGivesUpUntilNextFlush) {
  Create();
  logs_[0]->FailNext(Permanent("HTTP 400"));
  dispatcher_->Put({Firing("a")});
  AdvanceAndTick(seconds(30));
  AdvanceAndTick(seconds(10), 6);
  EXPECT_EQ(logs_[0]->calls(), 1u);
  EXPECT_EQ(Counter().notifications_failed, 1u);
  EXPECT_EQ(Counter().failed_by_reason.at("client"), 1u);
  // Nothing was logged as sent, so the next flush tries again.
  AdvanceAndTick(minutes(5) - seconds(60));
  ASSERT_EQ(logs_[0]->calls(), 2u);
  EXPECT_EQ(Counter().notifications_sent, 1u);
}

TEST_F(DispatcherTest, RetriesStopAtTheNextGroupInterval) {
  route_.group_interval = minutes(1);
  Create();
  for (int i = 0; i < 100; ++i) {
    logs_[0]->FailNext(Retryable("HTTP 503"));
  }
  dispatcher_->Put({Firing("a")});
  AdvanceAndTick(seconds(30));
  AdvanceAndTick(seconds(1), 59);
  // Attempts at 0s, then after backoffs of 1, 2, 4, 8, 16 and 32 seconds: 1+2+4+8+16 = 31s, the
  // next at 63s is past the deadline.
  EXPECT_EQ(logs_[0]->calls(), 6u);
  EXPECT_EQ(Counter().notifications_failed, 0u);
  AdvanceAndTick(seconds(1));
  EXPECT_EQ(Counter().notifications_failed, 1u);
  // The give-up reports the reason of the last failed attempt, an HTTP 503.
  EXPECT_EQ(Counter().failed_by_reason.count("timeout"), 0u);
  EXPECT_EQ(Counter().failed_by_reason.at("server"), 1u);
  // The same tick starts the next flush, whose first attempt runs at once.
  EXPECT_EQ(logs_[0]->calls(), 7u);
}

TEST_F(DispatcherTest, QueueMaxAgeDropsAfterRetrying) {
  options_.queue_max_age = minutes(12);
  Create();
  NotifyLogCapture capture("Notification dropped");
  for (int i = 0; i < 3; ++i) {
    logs_[0]->FailNext(Permanent("HTTP 400"));
  }
  dispatcher_->Put({Firing("a")});
  // Flushes at 30s, 5m30s and 10m30s fail; the first failed flush started at 30s.
  AdvanceAndTick(seconds(30));
  AdvanceAndTick(minutes(5));
  AdvanceAndTick(minutes(5));
  EXPECT_EQ(logs_[0]->calls(), 3u);
  EXPECT_EQ(Counter().notifications_failed, 3u);
  EXPECT_EQ(Counter().notifications_dropped, 0u);
  // The failure at 10m30s was within 12 minutes of 30s; the one at 15m30s is not.
  logs_[0]->FailNext(Permanent("HTTP 400"));
  AdvanceAndTick(minutes(5));
  EXPECT_EQ(logs_[0]->calls(), 4u);
  EXPECT_EQ(Counter().notifications_dropped, 1u);
  EXPECT_EQ(Counter().notifications_failed, 4u);
  std::vector<std::string> lines = capture.Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("error Notification dropped after queue_max_age receiver=team "
                          "integration=webhook"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find("failing_for=900s"), std::string::npos) << lines[0];
  // Recorded as handled: nothing is sent for the same alerts until repeat_interval.
  AdvanceAndTick(minutes(5), 10);
  EXPECT_EQ(logs_[0]->calls(), 4u);
  // A change of the group's alerts is sent.
  dispatcher_->Put({Firing("b")});
  AdvanceAndTick(minutes(5));
  EXPECT_EQ(logs_[0]->calls(), 5u);
  EXPECT_EQ(Counter().notifications_sent, 1u);
}

TEST_F(DispatcherTest, DeliveryResetsQueueAge) {
  options_.queue_max_age = minutes(8);
  Create();
  logs_[0]->FailNext(Permanent("HTTP 400"));
  dispatcher_->Put({Firing("a")});
  AdvanceAndTick(seconds(30));  // fails
  AdvanceAndTick(minutes(5));   // delivered
  EXPECT_EQ(Counter().notifications_sent, 1u);
  dispatcher_->Put({Firing("b")});
  logs_[0]->FailNext(Permanent("HTTP 400"));
  AdvanceAndTick(minutes(5));  // fails again, 10m30s after the first failure
  EXPECT_EQ(Counter().notifications_dropped, 0u);
  AdvanceAndTick(minutes(5));
  EXPECT_EQ(Counter().notifications_sent, 2u);
}

TEST_F(DispatcherTest, FailingIntegrationDoesNotRepeatTheOther) {
  Create({true, true});
  logs_[1]->FailNext(Permanent("HTTP 404"));
  dispatcher_->Put({Firing("a")});
  AdvanceAndTick(seconds(30));
  EXPECT_EQ(logs_[0]->calls(), 1u);
  EXPECT_EQ(logs_[1]->calls(), 1u);
  AdvanceAndTick(minutes(5));
  EXPECT_EQ(logs_[0]->calls(), 1u);
  EXPECT_EQ(logs_[1]->calls(), 2u);
  EXPECT_EQ(Counter(1).notifications_sent, 1u);
}

TEST_F(DispatcherTest, ResolvedAlertStaysUntilEveryIntegrationHasIt) {
  Create({true, true});
  NotifyAlert alert = Firing("a");
  dispatcher_->Put({alert});
  AdvanceAndTick(seconds(30));
  dispatcher_->Put({Resolved(alert)});
  logs_[1]->FailNext(Permanent("HTTP 404"));
  AdvanceAndTick(minutes(5));
  EXPECT_EQ(logs_[0]->calls(), 2u);
  EXPECT_EQ(logs_[1]->calls(), 2u);
  EXPECT_EQ(dispatcher_->alert_count(), 1u);
  AdvanceAndTick(minutes(5));
  EXPECT_EQ(logs_[0]->calls(), 2u);
  ASSERT_EQ(logs_[1]->calls(), 3u);
  EXPECT_EQ(logs_[1]->last().status, "resolved");
  EXPECT_EQ(dispatcher_->alert_count(), 0u);
}

TEST_F(DispatcherTest, ResolvedIsNotSentToAnIntegrationThatNeverGotTheFiring) {
  Create({true, true});
  logs_[1]->FailNext(Permanent("HTTP 404"));
  NotifyAlert alert = Firing("a");
  dispatcher_->Put({alert});
  AdvanceAndTick(seconds(30));
  dispatcher_->Put({Resolved(alert)});
  AdvanceAndTick(minutes(5));
  EXPECT_EQ(logs_[0]->calls(), 2u);
  EXPECT_EQ(logs_[1]->calls(), 1u);
  EXPECT_EQ(dispatcher_->alert_count(), 0u);
}

TEST_F(DispatcherTest, CountersNameEachIntegration) {
  Create({true, false});
  std::vector<IntegrationCounters> counters = dispatcher_->Counters();
  ASSERT_EQ(counters.size(), 2u);
  EXPECT_EQ(counters[0].receiver, "team");
  EXPECT_EQ(counters[0].integration, "webhook");
  EXPECT_EQ(counters[0].index, 0);
  EXPECT_EQ(counters[1].index, 1);
}

TEST_F(DispatcherTest, LogKeyNamesReceiverIntegrationAndIndex) {
  Create({true, true});
  dispatcher_->Put({Firing("a")});
  AdvanceAndTick(seconds(30));
  const std::string key = "{}:{alertname=\"HighLatency\"}";
  auto first = store_.GetNotification("team/webhook/0", key);
  auto second = store_.GetNotification("team/webhook/1", key);
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE(first->has_value());
  ASSERT_TRUE(second->has_value());
  EXPECT_EQ((*first)->sent_at, clock_.Now());
  EXPECT_EQ((*first)->firing, std::vector<uint64_t>{Firing("a").labels.Hash()});
}

TEST_F(DispatcherTest, PrunesNotificationLogAfterRetention) {
  Create({true});
  NotifyAlert alert = Firing("a");
  dispatcher_->Put({alert});
  AdvanceAndTick(seconds(30));
  dispatcher_->Put({Resolved(alert)});
  AdvanceAndTick(minutes(5));
  ASSERT_EQ(store_.size(), 1u);
  AdvanceAndTick(hours(119));
  EXPECT_EQ(store_.size(), 1u);
  AdvanceAndTick(hours(2));
  EXPECT_EQ(store_.size(), 0u);
}

TEST_F(DispatcherTest, AlertGroupsListTheirAlerts) {
  Create();
  dispatcher_->Put({Firing("b"), Firing("a"), Firing("a", "Down")});
  std::vector<AlertGroupInfo> groups = dispatcher_->AlertGroups();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].labels, (Labels{{"alertname", "Down"}}));
  EXPECT_EQ(groups[0].receiver, "team");
  EXPECT_EQ(groups[0].route_id, "{}");
  ASSERT_EQ(groups[1].alerts.size(), 2u);
  EXPECT_EQ(groups[1].alerts[0].labels.Get("instance"), "a");
  EXPECT_EQ(groups[1].alerts[1].labels.Get("instance"), "b");
}

// Inhibits HighLatency by a Down alert of the same instance.
config::InhibitRule DownInhibitsLatency() {
  config::InhibitRule rule;
  rule.source_matchers = {Eq("alertname", "Down")};
  rule.target_matchers = {Eq("alertname", "HighLatency")};
  rule.equal = {"instance"};
  return rule;
}

TEST_F(DispatcherTest, InhibitedAlertWaitsForSourceResolved) {
  route_.group_by = {};
  options_.inhibit_rules = {DownInhibitsLatency()};
  Create();
  NotifyAlert down = Firing("a", "Down");
  dispatcher_->Put({Firing("a"), Firing("b"), down});
  EXPECT_EQ(dispatcher_->InhibitedBy(Firing("a").labels, clock_.Now()),
            std::vector<std::string>{down.labels.Fingerprint()});
  EXPECT_TRUE(dispatcher_->InhibitedBy(Firing("b").labels, clock_.Now()).empty());
  AdvanceAndTick(seconds(30));
  ASSERT_EQ(logs_[0]->calls(), 1u);
  EXPECT_EQ(Instances(logs_[0]->last()),
            (std::vector<std::string>{"Down/a:firing", "HighLatency/b:firing"}));
  EXPECT_EQ(dispatcher_->alert_count(), 3u);  // the inhibited alert stays in its group

  dispatcher_->Put({Resolved(down)});
  EXPECT_TRUE(dispatcher_->InhibitedBy(Firing("a").labels, clock_.Now()).empty());
  AdvanceAndTick(minutes(5));
  ASSERT_EQ(logs_[0]->calls(), 2u);
  EXPECT_EQ(Instances(logs_[0]->last()),
            (std::vector<std::string>{
                "Down/a:resolved", "HighLatency/a:firing", "HighLatency/b:firing"}));
}

TEST_F(DispatcherTest, InhibitionMatchesMissingEqualLabel) {
  route_.group_by = {"..."};
  options_.inhibit_rules = {DownInhibitsLatency()};
  Create();
  NotifyAlert down;
  down.labels = Labels{{"alertname", "Down"}};  // no instance label
  down.starts_at = clock_.Now();
  NotifyAlert no_instance;
  no_instance.labels = Labels{{"alertname", "HighLatency"}};
  no_instance.starts_at = clock_.Now();
  dispatcher_->Put({down, no_instance, Firing("a")});
  AdvanceAndTick(seconds(30));
  // The alert without an instance shares the empty value with the source and is muted.
  ASSERT_EQ(logs_[0]->calls(), 2u);
  std::set<std::string> sent;
  for (const Notification& n : logs_[0]->notifications) {
    for (const std::string& item : Instances(n)) {
      sent.insert(item);
    }
  }
  EXPECT_EQ(sent, (std::set<std::string>{"Down/:firing", "HighLatency/a:firing"}));
}

TEST_F(DispatcherTest, SilencedAlertIsLeftOut) {
  route_.group_by = {};
  FakeMuter silences;
  silences.Mute(Firing("b").labels, "5f1c");
  options_.silencer = &silences;
  Create();
  dispatcher_->Put({Firing("a"), Firing("b")});
  AdvanceAndTick(seconds(30));
  ASSERT_EQ(logs_[0]->calls(), 1u);
  EXPECT_EQ(Instances(logs_[0]->last()), (std::vector<std::string>{"HighLatency/a:firing"}));
  EXPECT_EQ(dispatcher_->alert_count(), 2u);
}

TEST_F(DispatcherTest, SilencedGroupSendsNothing) {
  FakeMuter silences;
  silences.Mute(Firing("a").labels, "5f1c");
  options_.silencer = &silences;
  Create();
  dispatcher_->Put({Firing("a")});
  AdvanceAndTick(seconds(30));
  AdvanceAndTick(minutes(5));
  EXPECT_EQ(logs_[0]->calls(), 0u);
  EXPECT_EQ(store_.size(), 0u);
  EXPECT_EQ(dispatcher_->alert_count(), 1u);
}

config::TimeInterval Interval(std::string name, config::TimeIntervalSpec spec) {
  config::TimeInterval interval;
  interval.name = std::move(name);
  interval.time_intervals = {std::move(spec)};
  return interval;
}

TEST_F(DispatcherTest, MuteIntervalDelaysWholeGroup) {
  // kStart is 15:00 UTC; muted until 15:10.
  config::TimeIntervalSpec spec;
  spec.times = {{.begin = 15 * 60, .end = 15 * 60 + 10}};
  options_.time_intervals = {Interval("maintenance", spec)};
  route_.mute_time_intervals = {"maintenance"};
  Create();
  dispatcher_->Put({Firing("a")});
  AdvanceAndTick(seconds(30));
  AdvanceAndTick(minutes(5));
  EXPECT_EQ(logs_[0]->calls(), 0u);
  EXPECT_EQ(dispatcher_->alert_count(), 1u);
  AdvanceAndTick(minutes(5));  // 15:10:30
  ASSERT_EQ(logs_[0]->calls(), 1u);
  EXPECT_EQ(Instances(logs_[0]->last()), (std::vector<std::string>{"HighLatency/a:firing"}));
}

TEST_F(DispatcherTest, ActiveIntervalInLocationAllowsSends) {
  // 10:05 to 11:00 in New York is 15:05 to 16:00 UTC in December.
  config::TimeIntervalSpec spec;
  spec.times = {{.begin = 10 * 60 + 5, .end = 11 * 60}};
  spec.location = "America/New_York";
  options_.time_intervals = {Interval("office", spec)};
  route_.active_time_intervals = {"office"};
  Create();
  dispatcher_->Put({Firing("a")});
  AdvanceAndTick(seconds(30));
  EXPECT_EQ(logs_[0]->calls(), 0u);
  AdvanceAndTick(minutes(5));  // 15:05:30
  EXPECT_EQ(logs_[0]->calls(), 1u);
  clock_.Set(kStart + minutes(56));
  dispatcher_->Put({Firing("b")});
  AdvanceAndTick(minutes(5));  // past 16:00
  EXPECT_EQ(logs_[0]->calls(), 1u);
}

TEST_F(DispatcherTest, MuteOnLastDayUsesLocation) {
  // 2026-12-31 23:50 UTC is already 2027-01-01 in Berlin.
  struct Case {
    std::string location;
    size_t calls;
  };

  for (const Case& c : std::vector<Case>{{"", 0}, {"Europe/Berlin", 1}}) {
    config::TimeIntervalSpec spec;
    spec.days_of_month = {{.begin = -1, .end = -1}};
    spec.location = c.location;
    options_.time_intervals = {Interval("year-end", spec)};
    route_.mute_time_intervals = {"year-end"};
    clock_.Set(testing::Utc(2026, 12, 31, 23, 50, 0));
    Create();
    dispatcher_->Put({Firing("a")});
    AdvanceAndTick(seconds(30));
    EXPECT_EQ(logs_[0]->calls(), c.calls) << c.location;
  }
}

TEST_F(DispatcherTest, MutedAlertGetsResolvedNotification) {
  route_.group_by = {};
  FakeMuter silences;
  options_.silencer = &silences;
  Create({true});
  NotifyAlert a = Firing("a");
  dispatcher_->Put({a});
  AdvanceAndTick(seconds(30));
  ASSERT_EQ(logs_[0]->calls(), 1u);
  silences.Mute(a.labels, "5f1c");
  AdvanceAndTick(minutes(5));
  EXPECT_EQ(logs_[0]->calls(), 1u);
  // A new alert while `a` is muted: the log keeps `a` as notified.
  dispatcher_->Put({Firing("b")});
  AdvanceAndTick(minutes(5));
  ASSERT_EQ(logs_[0]->calls(), 2u);
  EXPECT_EQ(Instances(logs_[0]->last()), (std::vector<std::string>{"HighLatency/b:firing"}));
  dispatcher_->Put({Resolved(a)});
  AdvanceAndTick(minutes(5));
  ASSERT_EQ(logs_[0]->calls(), 3u);
  EXPECT_EQ(Instances(logs_[0]->last()),
            (std::vector<std::string>{"HighLatency/a:resolved", "HighLatency/b:firing"}));
  EXPECT_EQ(dispatcher_->alert_count(), 1u);
}

TEST_F(DispatcherTest, ResolvedSentDuringMuteTime) {
  config::TimeIntervalSpec spec;
  spec.times = {{.begin = 15 * 60 + 1, .end = 16 * 60}};  // from 15:01 UTC
  options_.time_intervals = {Interval("maintenance", spec)};
  route_.mute_time_intervals = {"maintenance"};
  Create({true});
  NotifyAlert a = Firing("a");
  dispatcher_->Put({a});
  AdvanceAndTick(seconds(30));
  ASSERT_EQ(logs_[0]->calls(), 1u);
  AdvanceAndTick(minutes(1));
  dispatcher_->Put({Resolved(a), Firing("b")});
  AdvanceAndTick(minutes(4));  // 15:05:30, muted
  ASSERT_EQ(logs_[0]->calls(), 2u);
  EXPECT_EQ(Instances(logs_[0]->last()), (std::vector<std::string>{"HighLatency/a:resolved"}));
}

TEST_F(DispatcherTest, MutedResolvedDroppedWhenOptionOff) {
  route_.notify_resolved_when_muted = false;
  FakeMuter silences;
  options_.silencer = &silences;
  Create({true});
  NotifyAlert a = Firing("a");
  dispatcher_->Put({a});
  AdvanceAndTick(seconds(30));
  ASSERT_EQ(logs_[0]->calls(), 1u);
  silences.Mute(a.labels, "5f1c");
  dispatcher_->Put({Resolved(a)});
  AdvanceAndTick(minutes(5));
  EXPECT_EQ(logs_[0]->calls(), 1u);
  EXPECT_EQ(dispatcher_->alert_count(), 0u);
  AdvanceAndTick(minutes(5));
  EXPECT_EQ(logs_[0]->calls(), 1u);
}

TEST_F(DispatcherTest, AlertRenotifiedWhenSilenceEnds) {
  FakeMuter silences;
  options_.silencer = &silences;
  Create();
  NotifyAlert a = Firing("a");
  dispatcher_->Put({a});
  AdvanceAndTick(seconds(30));
  ASSERT_EQ(logs_[0]->calls(), 1u);
  silences.Mute(a.labels, "5f1c");
  AdvanceAndTick(minutes(5));
  EXPECT_EQ(logs_[0]->calls(), 1u);
  silences.Unmute(a.labels);
  NotifyLogCapture log("no longer muted");
  AdvanceAndTick(minutes(5));  // long before repeat_interval
  EXPECT_EQ(log.Lines(),
            std::vector<std::string>{"info Alert no longer muted alertname=HighLatency "
                                     "fingerprint=" +
                                     a.labels.Fingerprint() + " silenced_by=5f1c"});
  ASSERT_EQ(logs_[0]->calls(), 2u);
  EXPECT_EQ(Instances(logs_[0]->last()), (std::vector<std::string>{"HighLatency/a:firing"}));
  AdvanceAndTick(minutes(5), 2);
  EXPECT_EQ(logs_[0]->calls(), 2u);
}

TEST_F(DispatcherTest, AlertRenotifiedWhenInhibitionEnds) {
  options_.inhibit_rules = {DownInhibitsLatency()};
  Create();
  NotifyAlert latency = Firing("a");
  dispatcher_->Put({latency});
  AdvanceAndTick(seconds(30));
  ASSERT_EQ(logs_[0]->calls(), 1u);
  // Down has a group of its own; the latency group has nothing new while inhibited.
  NotifyAlert down = Firing("a", "Down");
  dispatcher_->Put({down});
  AdvanceAndTick(minutes(5));  // 15:05:30
  ASSERT_EQ(logs_[0]->calls(), 2u);
  EXPECT_EQ(Instances(logs_[0]->last()), (std::vector<std::string>{"Down/a:firing"}));
  dispatcher_->Put({Resolved(down)});
  NotifyLogCapture log("no longer muted");
  AdvanceAndTick(minutes(5));  // 15:10:30: both groups flush
  EXPECT_EQ(log.Lines(),
            std::vector<std::string>{"info Alert no longer muted alertname=HighLatency "
                                     "fingerprint=" +
                                     latency.labels.Fingerprint() +
                                     " inhibited_by=" + down.labels.Fingerprint()});
  ASSERT_EQ(logs_[0]->calls(), 4u);
  std::set<std::string> sent;
  for (size_t i = 2; i < 4; ++i) {
    for (const std::string& item : Instances(logs_[0]->notifications[i])) {
      sent.insert(item);
    }
  }
  EXPECT_EQ(sent, (std::set<std::string>{"Down/a:resolved", "HighLatency/a:firing"}));
}

TEST(DispatcherWorkerTest, OwnedWorkerSendsWithoutBlockingTick) {
  config::Route route;
  route.receiver = "team";
  route.group_wait = Duration(0);
  FakeClock clock(kStart);
  FakeStateStore store;
  auto log = std::make_shared<NotifierLog>();
  std::map<std::string, std::vector<std::unique_ptr<Notifier>>> receivers;
  receivers["team"].push_back(std::make_unique<RecordingNotifier>("slack", true, log));
  Dispatcher dispatcher(route, std::move(receivers), &store, &clock);
  NotifyAlert alert;
  alert.labels = Labels{{"alertname", "A"}};
  alert.starts_at = kStart;
  dispatcher.Put({alert});
  dispatcher.Tick();
  for (int i = 0; i < 500 && dispatcher.Counters()[0].notifications_sent == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(dispatcher.Counters()[0].notifications_sent, 1u);
  EXPECT_EQ(log->calls(), 1u);
}

// Blocks in Notify until released, at most 10 seconds.
class GateNotifier final : public Notifier {
 public:
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool entered = false;
    bool released = false;
    int calls = 0;

    void Release() {
      {
        std::lock_guard lock(mu);
        released = true;
      }
      cv.notify_all();
    }
  };

  explicit GateNotifier(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}

  std::string_view integration() const override { return "slack"; }

  bool send_resolved() const override { return true; }

  std::optional<NotifyError> Notify(const Notification&) override {
    std::unique_lock lock(gate_->mu);
    gate_->entered = true;
    ++gate_->calls;
    gate_->cv.notify_all();
    gate_->cv.wait_for(lock, seconds(10), [this] { return gate_->released; });
    return std::nullopt;
  }

 private:
  std::shared_ptr<Gate> gate_;
};

TEST(DispatcherWorkerTest, HangingIntegrationDelaysNoOther) {
  config::Route route;
  route.receiver = "team";
  route.group_wait = Duration(0);
  FakeClock clock(kStart);
  FakeStateStore store;
  auto gate = std::make_shared<GateNotifier::Gate>();
  auto other_slack = std::make_shared<NotifierLog>();
  auto webhook = std::make_shared<NotifierLog>();
  std::map<std::string, std::vector<std::unique_ptr<Notifier>>> receivers;
  receivers["team"].push_back(std::make_unique<GateNotifier>(gate));
  receivers["team"].push_back(std::make_unique<RecordingNotifier>("slack", true, other_slack));
  receivers["team"].push_back(std::make_unique<RecordingNotifier>("webhook", true, webhook));
  Dispatcher dispatcher(route, std::move(receivers), &store, &clock);

  NotifyAlert alert;
  alert.labels = Labels{{"alertname", "A"}};
  alert.starts_at = kStart;
  dispatcher.Put({alert});
  dispatcher.Tick();

  auto entered = [&] {
    std::lock_guard lock(gate->mu);
    return gate->entered;
  };
  // A bounded wait for the worker threads, not for logic.
  for (int i = 0; i < 500 && (other_slack->calls() == 0 || webhook->calls() == 0 || !entered());
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  {
    std::lock_guard lock(gate->mu);
    EXPECT_TRUE(gate->entered);
    EXPECT_FALSE(gate->released);
  }
  EXPECT_EQ(other_slack->calls(), 1u);
  EXPECT_EQ(webhook->calls(), 1u);

  gate->Release();
  for (int i = 0; i < 500 && dispatcher.Counters()[0].notifications_sent == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(dispatcher.Counters()[0].notifications_sent, 1u);
  EXPECT_EQ(dispatcher.Counters()[1].notifications_sent, 1u);
}

TEST(DispatcherWorkerTest, DestructionDropsQueuedSends) {
  config::Route route;
  route.receiver = "team";
  route.group_wait = Duration(0);
  route.group_by = {"alertname"};
  FakeClock clock(kStart);
  FakeStateStore store;
  auto gate = std::make_shared<GateNotifier::Gate>();
  std::map<std::string, std::vector<std::unique_ptr<Notifier>>> receivers;
  receivers["team"].push_back(std::make_unique<GateNotifier>(gate));
  DispatcherOptions options;
  options.sends_per_integration = 1;
  auto dispatcher =
      std::make_unique<Dispatcher>(route, std::move(receivers), &store, &clock, std::move(options));

  // Three groups: the first send blocks the only thread, the other two wait in the queue.
  for (const char* name : {"A", "B", "C"}) {
    NotifyAlert alert;
    alert.labels = Labels{{"alertname", name}};
    alert.starts_at = kStart;
    dispatcher->Put({alert});
  }
  dispatcher->Tick();
  {
    std::unique_lock lock(gate->mu);
    ASSERT_TRUE(gate->cv.wait_for(lock, seconds(10), [&] { return gate->entered; }));
  }
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    gate->Release();
  });
  dispatcher.reset();
  releaser.join();
  std::lock_guard lock(gate->mu);
  EXPECT_EQ(gate->calls, 1);
}

}  // namespace
}  // namespace alertd
