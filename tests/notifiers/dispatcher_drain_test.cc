// Dispatcher::Drain: shutdown lets the flushes under way finish, up to a timeout.
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "notifiers/dispatcher.h"
#include "notifiers/fakes.h"
#include "notifiers/time_util.h"

namespace alertd {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using testing::FakeStateStore;
using testing::NotifierLog;
using testing::RecordingNotifier;

const TimePoint kStart = testing::Utc(2026, 12, 4, 15, 0, 0);

// Blocks in Notify until released (at most 10 seconds), then answers with success.
class HangingNotifier final : public Notifier {
 public:
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    int entered = 0;
    bool released = false;

    void Release() {
      {
        std::lock_guard lock(mu);
        released = true;
      }
      cv.notify_all();
    }

    bool WaitEntered(int calls) {
      std::unique_lock lock(mu);
      return cv.wait_for(lock, seconds(10), [&] { return entered >= calls; });
    }

    int calls() {
      std::lock_guard lock(mu);
      return entered;
    }
  };

  explicit HangingNotifier(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}

  std::string_view integration() const override { return "webhook"; }

  bool send_resolved() const override { return true; }

  std::optional<NotifyError> Notify(const Notification&) override {
    std::unique_lock lock(gate_->mu);
    ++gate_->entered;
    gate_->cv.notify_all();
    gate_->cv.wait_for(lock, seconds(10), [this] { return gate_->released; });
    return std::nullopt;
  }

 private:
  std::shared_ptr<Gate> gate_;
};

// Fails its first `failures` calls with a retryable error.
class FlakyNotifier final : public Notifier {
 public:
  FlakyNotifier(int failures, std::shared_ptr<NotifierLog> log)
      : failures_(failures), log_(std::move(log)) {}

  std::string_view integration() const override { return "webhook"; }

  bool send_resolved() const override { return true; }

  std::optional<NotifyError> Notify(const Notification& notification) override {
    std::lock_guard lock(log_->mu);
    log_->notifications.push_back(notification);
    if (static_cast<int>(log_->notifications.size()) > failures_) {
      return std::nullopt;
    }
    return NotifyError{.retryable = true,
                       .reason = FailureReason::kServer,
                       .message = "HTTP 503",
                       .retry_after = std::nullopt};
  }

 private:
  int failures_;
  std::shared_ptr<NotifierLog> log_;
};

NotifyAlert Alert(std::string name) {
  NotifyAlert alert;
  alert.labels = Labels{{"alertname", std::move(name)}};
  alert.starts_at = kStart;
  return alert;
}

config::Route OneReceiverRoute(Duration group_wait) {
  config::Route route;
  route.receiver = "team";
  route.group_by = {"alertname"};
  route.group_wait = group_wait;
  return route;
}

std::map<std::string, std::vector<std::unique_ptr<Notifier>>> Receivers(
    std::unique_ptr<Notifier> notifier) {
  std::map<std::string, std::vector<std::unique_ptr<Notifier>>> receivers;
  receivers["team"].push_back(std::move(notifier));
  return receivers;
}

TEST(DispatcherDrainTest, ReturnsAfterTimeoutWhileReceiverHangs) {
  FakeClock clock(kStart);
  FakeStateStore store;
  auto gate = std::make_shared<HangingNotifier::Gate>();
  DispatcherOptions options;
  options.sends_per_integration = 1;
  auto dispatcher = std::make_unique<Dispatcher>(OneReceiverRoute(Duration(0)),
                                                 Receivers(std::make_unique<HangingNotifier>(gate)),
                                                 &store,
                                                 &clock,
                                                 std::move(options));
  // The first send blocks the only thread; the other two wait in its queue.
  dispatcher->Put({Alert("A"), Alert("B"), Alert("C")});
  dispatcher->Tick();
  ASSERT_TRUE(gate->WaitEntered(1));

  const auto started = steady_clock::now();
  dispatcher->Drain(milliseconds(300));
  const auto took = steady_clock::now() - started;
  EXPECT_GE(took, milliseconds(300));
  EXPECT_LT(took, seconds(5));

  gate->Release();
  dispatcher.reset();  // waits for the send in flight
  // The queued sends were dropped; only the hanging one completed and reached the log.
  EXPECT_EQ(gate->calls(), 1);
  EXPECT_EQ(store.size(), 1u);
}

TEST(DispatcherDrainTest, QueuedSendsCompleteWhenReceiverAnswers) {
  FakeClock clock(kStart);
  FakeStateStore store;
  auto gate = std::make_shared<HangingNotifier::Gate>();
  DispatcherOptions options;
  options.sends_per_integration = 1;
  Dispatcher dispatcher(OneReceiverRoute(Duration(0)),
                        Receivers(std::make_unique<HangingNotifier>(gate)),
                        &store,
                        &clock,
                        std::move(options));
  dispatcher.Put({Alert("A"), Alert("B"), Alert("C")});
  dispatcher.Tick();
  ASSERT_TRUE(gate->WaitEntered(1));
  gate->Release();  // from now on the receiver answers at once

  const auto started = steady_clock::now();
  dispatcher.Drain(seconds(20));
  EXPECT_LT(steady_clock::now() - started, seconds(10));
  EXPECT_EQ(gate->calls(), 3);
  EXPECT_EQ(dispatcher.Counters()[0].notifications_sent, 3u);
  EXPECT_EQ(store.size(), 3u);
}

TEST(DispatcherDrainTest, RetriesRunWhileDraining) {
  FakeClock clock(kStart);
  FakeStateStore store;
  auto log = std::make_shared<NotifierLog>();
  DispatcherOptions options;
  options.executor = [](std::function<void()> job) {
    job();
  };
  options.tick_interval = milliseconds(10);
  // Retries come due at once, so the fake clock need not move.
  options.retry_initial_backoff = Duration(0);
  Dispatcher dispatcher(OneReceiverRoute(Duration(0)),
                        Receivers(std::make_unique<FlakyNotifier>(2, log)),
                        &store,
                        &clock,
                        std::move(options));
  dispatcher.Put({Alert("A")});
  dispatcher.Tick();
  ASSERT_EQ(log->calls(), 1u);

  dispatcher.Drain(seconds(20));
  EXPECT_EQ(log->calls(), 3u);
  EXPECT_EQ(dispatcher.Counters()[0].notifications_sent, 1u);
  EXPECT_EQ(store.size(), 1u);
}

TEST(DispatcherDrainTest, TakesNoNewWork) {
  FakeClock clock(kStart);
  FakeStateStore store;
  auto log = std::make_shared<NotifierLog>();
  DispatcherOptions options;
  options.executor = [](std::function<void()> job) {
    job();
  };
  Dispatcher dispatcher(OneReceiverRoute(seconds(30)),
                        Receivers(std::make_unique<RecordingNotifier>("webhook", true, log)),
                        &store,
                        &clock,
                        std::move(options));
  NotifyAlert waiting = Alert("Waiting");
  waiting.starts_at = clock.Now();
  dispatcher.Put({waiting});
  dispatcher.Tick();

  const auto started = steady_clock::now();
  dispatcher.Drain(seconds(20));
  EXPECT_LT(steady_clock::now() - started, seconds(10));  // nothing under way to wait for
  NotifyAlert late = Alert("Late");
  late.starts_at = clock.Now();
  dispatcher.Put({late});
  clock.Advance(seconds(60));
  dispatcher.Tick();
  // The group in group_wait was not flushed, and the late alert was not taken.
  EXPECT_EQ(log->calls(), 0u);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(dispatcher.alert_count(), 1u);
}

}  // namespace
}  // namespace alertd
