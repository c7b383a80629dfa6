#include "engine/scheduler.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

namespace alertd {
namespace {

using std::chrono::milliseconds;

TEST(SchedulerTest, RunsJobRepeatedly) {
  Scheduler scheduler(2);
  std::atomic<int> runs{0};
  scheduler.Every("count", Duration(10), Duration(0), [&] { runs++; });
  scheduler.Start();
  for (int i = 0; i < 200 && runs < 5; ++i) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  scheduler.Stop();
  EXPECT_GE(runs.load(), 5);
}

TEST(SchedulerTest, SkipsIterationWhileJobStillRuns) {
  Scheduler scheduler(4);
  std::atomic<int> concurrent{0};
  std::atomic<int> max_concurrent{0};
  std::atomic<int> runs{0};
  scheduler.Every("slow", Duration(5), Duration(0), [&] {
    int now = ++concurrent;
    max_concurrent = std::max(max_concurrent.load(), now);
    std::this_thread::sleep_for(milliseconds(30));
    --concurrent;
    ++runs;
  });
  scheduler.Start();
  for (int i = 0; i < 200 && runs < 3; ++i) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  scheduler.Stop();
  EXPECT_EQ(max_concurrent.load(), 1);
  EXPECT_GT(scheduler.missed(), 0u);
}

TEST(SchedulerTest, CancelStopsJob) {
  Scheduler scheduler(2);
  std::atomic<int> runs{0};
  uint64_t id = scheduler.Every("cancel", Duration(5), Duration(0), [&] { runs++; });
  scheduler.Start();
  for (int i = 0; i < 200 && runs < 1; ++i) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  scheduler.Cancel(id);
  std::this_thread::sleep_for(milliseconds(20));
  int after_cancel = runs.load();
  std::this_thread::sleep_for(milliseconds(50));
  scheduler.Stop();
  EXPECT_EQ(runs.load(), after_cancel);
}

TEST(SpreadOffsetTest, StaysWithinIntervalAndIsStable) {
  TimePoint now = FromMillis(1'700'000'000'123);
  Duration interval(15000);
  Duration a = SpreadOffset("group-a", interval, now);
  Duration b = SpreadOffset("group-a", interval, now);
  EXPECT_EQ(a, b);
  EXPECT_GE(a.count(), 0);
  EXPECT_LT(a.count(), interval.count());
  // The slot is fixed modulo the interval: later start times land on the same phase.
  TimePoint later = now + std::chrono::milliseconds(7000);
  EXPECT_EQ(
      (ToMillis(now) + a.count()) % interval.count(),
      (ToMillis(later) + SpreadOffset("group-a", interval, later).count()) % interval.count());
}

}  // namespace
}  // namespace alertd
