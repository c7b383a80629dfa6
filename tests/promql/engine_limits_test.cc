// The engine's query limits: max_samples and the evaluation timeout.
#include <gtest/gtest.h>

#include "common/clock.h"
#include "engine/promql/engine.h"
#include "engine/promql/parser.h"
#include "storage/memory_sample_store.h"

namespace alertd::promql {
namespace {

// A clock that moves forward by `tick` each time it is read, so a query that reads it often
// enough runs out of time without the test sleeping.
class TickingClock final : public Clock {
 public:
  explicit TickingClock(std::chrono::milliseconds tick) : tick_(tick) {}

  TimePoint Now() const override {
    now_ += tick_;
    return now_;
  }

 private:
  std::chrono::milliseconds tick_;
  mutable TimePoint now_{};
};

void Fill(MemorySampleStore& store, int series, int samples) {
  for (int i = 0; i < series; ++i) {
    for (int j = 0; j < samples; ++j) {
      store.Append(Labels{{"__name__", "m"}, {"i", std::to_string(i)}}, j * 15000, j);
    }
  }
}

ExprPtr MustParse(const std::string& text) {
  Result<ExprPtr> e = ParseExpr(text);
  EXPECT_TRUE(e.ok()) << text;
  return e.ok() ? std::move(e).value() : nullptr;
}

TEST(EngineLimitsTest, QueryOverMaxSamplesFails) {
  MemorySampleStore store;
  Fill(store, 10, 20);
  ExprPtr expr = MustParse("sum(count_over_time(m[5m]))");
  EngineOptions options;
  options.max_samples = 199;  // 10 series x 20 samples are in the 5m window
  Result<Value> over = Engine(options).Instant(*expr, store, 285000);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().message(),
            "query processing would load too many samples into memory in query execution");
  options.max_samples = 200;
  Result<Value> at_limit = Engine(options).Instant(*expr, store, 285000);
  ASSERT_TRUE(at_limit.ok()) << at_limit.error().message();
}

TEST(EngineLimitsTest, QueryPastItsTimeoutFails) {
  MemorySampleStore store;
  Fill(store, 2, 20);
  ExprPtr expr = MustParse("sum(m) + 1");
  TickingClock clock(std::chrono::seconds(1));
  EngineOptions options;
  options.clock = &clock;
  options.timeout_ms = 10'000;
  // 61 steps of 4 nodes each read the clock far more than 10 times.
  Result<Matrix> range = Engine(options).Range(*expr, store, 0, 600000, 10000);
  ASSERT_FALSE(range.ok());
  EXPECT_EQ(range.error().code(), ErrorCode::kTimeout);
  EXPECT_EQ(range.error().message(), "query timed out in expression evaluation");

  Result<Value> instant = Engine(options).Instant(*expr, store, 60000);
  EXPECT_TRUE(instant.ok()) << instant.error().message();
}

TEST(EngineLimitsTest, ZeroTimeoutDisablesTheLimit) {
  MemorySampleStore store;
  Fill(store, 2, 20);
  ExprPtr expr = MustParse("sum(m) + 1");
  TickingClock clock(std::chrono::hours(1));
  EngineOptions options;
  options.clock = &clock;
  options.timeout_ms = 0;
  Result<Matrix> range = Engine(options).Range(*expr, store, 0, 600000, 10000);
  ASSERT_TRUE(range.ok()) << range.error().message();
  EXPECT_EQ(range->size(), 1u);
}

}  // namespace
}  // namespace alertd::promql
