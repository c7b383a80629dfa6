#include "storage/memory_sample_store.h"

#include <algorithm>
#include <thread>

#include <gtest/gtest.h>

namespace alertd {
namespace {

LabelMatcher Match(MatchType type, std::string name, std::string value) {
  auto m = LabelMatcher::Create(type, std::move(name), std::move(value));
  EXPECT_TRUE(m.ok());
  return std::move(m).value();
}

std::vector<Series> Sorted(std::vector<Series> series) {
  std::sort(series.begin(), series.end(), [](const Series& a, const Series& b) {
    return a.labels < b.labels;
  });
  return series;
}

TEST(MemorySampleStoreTest, SelectReturnsSamplesInInclusiveRange) {
  MemorySampleStore store;
  Labels up{{"__name__", "up"}, {"job", "a"}};
  for (int64_t t = 0; t <= 100; t += 10) {
    store.Append(up, t, static_cast<double>(t));
  }
  auto got = store.Select({Match(MatchType::kEqual, "__name__", "up")}, 20, 50);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].labels, up);
  std::vector<Sample> want{{20, 20}, {30, 30}, {40, 40}, {50, 50}};
  EXPECT_EQ(got[0].samples, want);
}

TEST(MemorySampleStoreTest, SelectOmitsSeriesWithoutSamplesInRange) {
  MemorySampleStore store;
  store.Append(Labels{{"__name__", "up"}, {"job", "a"}}, 10, 1);
  store.Append(Labels{{"__name__", "up"}, {"job", "b"}}, 100, 1);
  auto got = store.Select({Match(MatchType::kEqual, "__name__", "up")}, 50, 200);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].labels.Get("job"), "b");
}

TEST(MemorySampleStoreTest, AppendDropsOlderAndReplacesEqualTimestamp) {
  MemorySampleStore store;
  Labels l{{"__name__", "x"}};
  store.Append(l, 10, 1);
  store.Append(l, 20, 2);
  store.Append(l, 15, 99);  // older than the newest: dropped
  store.Append(l, 20, 3);   // same timestamp: replaces
  auto got = store.Select({Match(MatchType::kEqual, "__name__", "x")}, 0, 100);
  ASSERT_EQ(got.size(), 1u);
  std::vector<Sample> want{{10, 1}, {20, 3}};
  EXPECT_EQ(got[0].samples, want);
  EXPECT_EQ(store.NumSamples(), 2u);
}

TEST(MemorySampleStoreTest, KeepsStalenessMarkers) {
  MemorySampleStore store;
  Labels l{{"__name__", "x"}};
  store.Append(l, 10, 1);
  store.Append(l, 20, StaleNaN());
  auto got = store.Select({Match(MatchType::kEqual, "__name__", "x")}, 0, 100);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].samples.size(), 2u);
  EXPECT_TRUE(IsStaleNaN(got[0].samples[1].v));
}

TEST(MemorySampleStoreTest, SelectAppliesEveryMatcherType) {
  MemorySampleStore store;
  store.Append(Labels{{"__name__", "req"}, {"code", "200"}}, 1, 1);
  store.Append(Labels{{"__name__", "req"}, {"code", "500"}}, 1, 2);
  store.Append(Labels{{"__name__", "req"}, {"code", "503"}, {"env", "prod"}}, 1, 3);
  store.Append(Labels{{"__name__", "other"}, {"code", "500"}}, 1, 4);

  struct Case {
    std::vector<LabelMatcher> matchers;
    size_t want;
  };

  std::vector<Case> cases = {
      {{Match(MatchType::kEqual, "__name__", "req")}, 3},
      {{Match(MatchType::kEqual, "__name__", "req"), Match(MatchType::kRegexMatch, "code", "5..")},
       2},
      {{Match(MatchType::kEqual, "__name__", "req"), Match(MatchType::kNotEqual, "code", "500")},
       2},
      {{Match(MatchType::kEqual, "__name__", "req"),
        Match(MatchType::kRegexNoMatch, "code", "5.*")},
       1},
      {{Match(MatchType::kEqual, "__name__", "req"), Match(MatchType::kEqual, "env", "")}, 2},
      {{Match(MatchType::kRegexMatch, "code", "500")}, 2},
      {{Match(MatchType::kNotEqual, "env", "prod")}, 3},
      {{Match(MatchType::kEqual, "__name__", "missing")}, 0},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(store.Select(cases[i].matchers, 0, 10).size(), cases[i].want) << "case " << i;
  }
}

uint64_t ConstantHash(const Labels&) {
  return 42;
}

TEST(MemorySampleStoreTest, SeparatesSeriesWhoseHashesCollide) {
  MemorySampleStore store(&ConstantHash);
  Labels a{{"__name__", "x"}, {"i", "a"}};
  Labels b{{"__name__", "x"}, {"i", "b"}};
  store.Append(a, 1, 1);
  store.Append(b, 1, 2);
  store.Append(a, 2, 3);
  EXPECT_EQ(store.NumSeries(), 2u);
  auto got = Sorted(store.Select({Match(MatchType::kEqual, "__name__", "x")}, 0, 10));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].labels, a);
  EXPECT_EQ(got[0].samples.size(), 2u);
  EXPECT_EQ(got[1].labels, b);
  ASSERT_EQ(got[1].samples.size(), 1u);
  EXPECT_EQ(got[1].samples[0].v, 2);

  store.Truncate(2);  // b becomes empty and goes, a keeps its sample at t=2
  EXPECT_EQ(store.NumSeries(), 1u);
  store.Append(b, 5, 7);
  EXPECT_EQ(store.NumSeries(), 2u);
}

TEST(MemorySampleStoreTest, TruncateDropsOldSamplesAndEmptySeries) {
  MemorySampleStore store;
  Labels a{{"__name__", "x"}, {"i", "a"}};
  Labels b{{"__name__", "x"}, {"i", "b"}};
  for (int64_t t = 0; t < 10; ++t) {
    store.Append(a, t, 1);
  }
  store.Append(b, 3, 1);
  EXPECT_EQ(store.NumSeries(), 2u);
  EXPECT_EQ(store.NumSamples(), 11u);

  store.Truncate(5);
  EXPECT_EQ(store.NumSeries(), 1u);
  EXPECT_EQ(store.NumSamples(), 5u);
  auto got = store.Select({Match(MatchType::kEqual, "i", "b")}, 0, 100);
  EXPECT_TRUE(got.empty());
  got = store.Select({Match(MatchType::kEqual, "i", "a")}, 0, 100);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].samples.front().t, 5);
}

TEST(MemorySampleStoreTest, ConcurrentAppendAndSelect) {
  MemorySampleStore store;
  constexpr int kWriters = 4;
  constexpr int kSamples = 2000;
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&store, w] {
      Labels l{{"__name__", "x"}, {"w", std::to_string(w)}};
      for (int t = 0; t < kSamples; ++t) {
        store.Append(l, t, t);
      }
    });
  }
  threads.emplace_back([&store] {
    auto m = LabelMatcher::Create(MatchType::kEqual, "__name__", "x");
    for (int i = 0; i < 200; ++i) {
      for (const Series& s : store.Select({*m}, 0, kSamples)) {
        EXPECT_TRUE(std::is_sorted(s.samples.begin(),
                                   s.samples.end(),
                                   [](const Sample& a, const Sample& b) { return a.t < b.t; }));
      }
    }
  });
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(store.NumSeries(), static_cast<size_t>(kWriters));
  EXPECT_EQ(store.NumSamples(), static_cast<size_t>(kWriters * kSamples));
}

}  // namespace
}  // namespace alertd
