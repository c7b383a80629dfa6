#include "engine/promql/engine.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include <gtest/gtest.h>

#include "engine/promql/evaluator.h"
#include "engine/promql/functions_table.h"
#include "engine/promql/parser.h"
#include "storage/memory_sample_store.h"

namespace alertd::promql {
namespace {

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;

class EngineTest : public ::testing::Test {
 protected:
  ExprPtr Parse(std::string_view query) {
    Result<ExprPtr> expr = ParseExpr(query);
    EXPECT_TRUE(expr.ok()) << query << ": " << (expr.ok() ? "" : expr.error().message());
    return expr.ok() ? *expr : nullptr;
  }

  Result<Value> Instant(std::string_view query, int64_t t) {
    ExprPtr expr = Parse(query);
    if (expr == nullptr) {
      return Error::Invalid("parse failed");
    }
    return engine_.Instant(*expr, store_, t);
  }

  // Evaluates an instant query that must return a vector, sorted by labels.
  Vector InstantVector(std::string_view query, int64_t t) {
    Result<Value> v = Instant(query, t);
    EXPECT_TRUE(v.ok()) << query << ": " << (v.ok() ? "" : v.error().message());
    if (!v.ok()) {
      return {};
    }
    const auto* vec = std::get_if<Vector>(&*v);
    EXPECT_NE(vec, nullptr) << query << " did not return an instant vector";
    Vector out = vec ? *vec : Vector{};
    std::sort(out.begin(), out.end(), [](const VectorSample& a, const VectorSample& b) {
      return a.metric < b.metric;
    });
    return out;
  }

  std::string InstantError(std::string_view query, int64_t t) {
    Result<Value> v = Instant(query, t);
    EXPECT_FALSE(v.ok()) << query << " succeeded";
    return v.ok() ? "" : v.error().message();
  }

  // Appends `count` samples at `interval` starting at 0 with values start, start+step, ...
  void Counter(
      const Labels& labels, double start, double step, int count, int64_t interval = 15 * kSecond) {
    for (int i = 0; i < count; ++i) {
      store_.Append(labels, i * interval, start + step * i);
    }
  }

  MemorySampleStore store_;
  Engine engine_;
};

TEST_F(EngineTest, ErrorRatioRuleFiresAboveThreshold) {
  // 5xx grows by 1.5/15s = 0.1/s, 2xx by 13.5/15s = 0.9/s: an error ratio of 10%.
  Counter(Labels{{"__name__", "http_requests_total"}, {"status", "500"}}, 0, 1.5, 41);
  Counter(Labels{{"__name__", "http_requests_total"}, {"status", "200"}}, 0, 13.5, 41);
  const char* rule =
      "sum(rate(http_requests_total{status=~\"5..\"}[5m])) / sum(rate(http_requests_total[5m]))"
      " > 0.05";
  Vector got = InstantVector(rule, 10 * kMinute);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].metric.empty());
  EXPECT_NEAR(got[0].v, 0.1, 1e-9);

  Vector none = InstantVector(
      "sum(rate(http_requests_total{status=~\"5..\"}[5m])) / sum(rate(http_requests_total[5m]))"
      " > 0.2",
      10 * kMinute);
  EXPECT_TRUE(none.empty());
}

TEST_F(EngineTest, RateExtrapolatesToRangeBoundaries) {
  // Samples every 15s from 0 to 600s; a 5m window at 600s contains 21 samples spanning exactly
  // 300s, so the rate is the slope.
  Counter(Labels{{"__name__", "c"}}, 0, 3, 41);
  Vector rate = InstantVector("rate(c[5m])", 10 * kMinute);
  ASSERT_EQ(rate.size(), 1u);
  EXPECT_DOUBLE_EQ(rate[0].v, 0.2);
  Vector increase = InstantVector("increase(c[5m])", 10 * kMinute);
  ASSERT_EQ(increase.size(), 1u);
  EXPECT_DOUBLE_EQ(increase[0].v, 60);
  // A window of 1m at 61s contains samples 15s..60s (45s span, 4 samples, average 15s). Both
  // gaps to the window ends (14s and 1s) are under 1.1 x 15s, so the increase is extrapolated
  // over them: 9 * 60 / 45.
  Vector partial = InstantVector("increase(c[1m])", 61 * kSecond);
  ASSERT_EQ(partial.size(), 1u);
  EXPECT_NEAR(partial[0].v, 12, 1e-9);
}

TEST_F(EngineTest, RateHandlesCounterResets) {
  Labels c{{"__name__", "c"}};
  store_.Append(c, 0, 10);
  store_.Append(c, 15 * kSecond, 20);
  store_.Append(c, 30 * kSecond, 5);  // reset: the counter restarted and counted 5
  store_.Append(c, 45 * kSecond, 15);
  Vector got = InstantVector("resets(c[1m])", 45 * kSecond);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].v, 1);
  Vector irate = InstantVector("irate(c[1m])", 45 * kSecond);
  ASSERT_EQ(irate.size(), 1u);
  EXPECT_DOUBLE_EQ(irate[0].v, 10.0 / 15);
}

TEST_F(EngineTest, HistogramQuantileRuleFires) {
  // Bucket rates: le=0.5 -> 0, le=1 -> 0.5/s, le=2 -> 1/s, +Inf -> 1/s. The 0.99 quantile
  // lies in (1, 2].
  auto bucket = [](const char* le) {
    return Labels{{"__name__", "x_bucket"}, {"le", le}, {"instance", "a"}};
  };
  Counter(bucket("0.5"), 0, 0, 41);
  Counter(bucket("1"), 0, 7.5, 41);
  Counter(bucket("2"), 0, 15, 41);
  Counter(bucket("+Inf"), 0, 15, 41);
  Vector got =
      InstantVector("histogram_quantile(0.99, sum(rate(x_bucket[5m])) by (le)) > 1", 10 * kMinute);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].metric.empty());
  EXPECT_NEAR(got[0].v, 1 + (0.99 - 0.5) / 0.5, 1e-9);
  Vector median =
      InstantVector("histogram_quantile(0.5, sum(rate(x_bucket[5m])) by (le)) > 1", 10 * kMinute);
  EXPECT_TRUE(median.empty());
}

TEST_F(EngineTest, HistogramQuantileFixesNonMonotonicBuckets) {
  auto bucket = [](const char* le) {
    return Labels{{"__name__", "h_bucket"}, {"le", le}};
  };
  store_.Append(bucket("1"), 0, 10);
  store_.Append(bucket("2"), 0, 8);  // lower than le=1: treated as 10
  store_.Append(bucket("+Inf"), 0, 20);
  Vector got = InstantVector("histogram_quantile(0.5, h_bucket)", 0);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_DOUBLE_EQ(got[0].v, 1);  // rank 10 is reached at the top of the le=1 bucket
  Vector missing_inf = InstantVector("histogram_quantile(0.5, h_bucket{le!=\"+Inf\"})", 0);
  ASSERT_EQ(missing_inf.size(), 1u);
  EXPECT_TRUE(std::isnan(missing_inf[0].v));
}

TEST_F(EngineTest, UpEqualsZeroKeepsMetricName) {
  store_.Append(Labels{{"__name__", "up"}, {"job", "x"}, {"instance", "a"}}, 0, 0);
  store_.Append(Labels{{"__name__", "up"}, {"job", "x"}, {"instance", "b"}}, 0, 1);
  store_.Append(Labels{{"__name__", "up"}, {"job", "y"}, {"instance", "c"}}, 0, 0);
  Vector got = InstantVector("up{job=\"x\"} == 0", kMinute);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].metric, (Labels{{"__name__", "up"}, {"job", "x"}, {"instance", "a"}}));
  EXPECT_EQ(got[0].t, kMinute);
  Vector with_bool = InstantVector("up{job=\"x\"} == bool 0", kMinute);
  ASSERT_EQ(with_bool.size(), 2u);
  EXPECT_FALSE(with_bool[0].metric.Has("__name__"));
  EXPECT_EQ(with_bool[0].v, 1);
  EXPECT_EQ(with_bool[1].v, 0);
}

TEST_F(EngineTest, InstantSelectorWindowIncludesBothEnds) {
  Labels m{{"__name__", "m"}};
  store_.Append(m, 0, 1);
  EXPECT_EQ(InstantVector("m", 5 * kMinute).size(), 1u);      // sample at t - 5m: included
  EXPECT_EQ(InstantVector("m", 5 * kMinute + 1).size(), 0u);  // 1ms older: outside
  EXPECT_EQ(InstantVector("m", 0).size(), 1u);                // sample at t: included
  EXPECT_EQ(InstantVector("count_over_time(m[1m])", kMinute).size(), 1u);
  EXPECT_EQ(InstantVector("count_over_time(m[1m])", kMinute + 1).size(), 0u);
}

TEST_F(EngineTest, StalenessMarkerEndsSeries) {
  Labels m{{"__name__", "m"}};
  store_.Append(m, 0, 1);
  store_.Append(m, 30 * kSecond, StaleNaN());
  EXPECT_EQ(InstantVector("m", 15 * kSecond).size(), 1u);
  EXPECT_EQ(InstantVector("m", 30 * kSecond).size(), 0u);
  EXPECT_EQ(InstantVector("m", 2 * kMinute).size(), 0u);
  // Range selectors skip the marker itself.
  Vector count = InstantVector("count_over_time(m[1m])", kMinute);
  ASSERT_EQ(count.size(), 1u);
  EXPECT_EQ(count[0].v, 1);
}

TEST_F(EngineTest, OffsetAndAtModifierMoveTheWindow) {
  Counter(Labels{{"__name__", "g"}}, 0, 1, 41, kMinute);
  Vector offset = InstantVector("g offset 10m", 20 * kMinute);
  ASSERT_EQ(offset.size(), 1u);
  EXPECT_EQ(offset[0].v, 10);
  Vector negative = InstantVector("g offset -10m", 20 * kMinute);
  ASSERT_EQ(negative.size(), 1u);
  EXPECT_EQ(negative[0].v, 30);
  Vector at = InstantVector("g @ 300", 20 * kMinute);
  ASSERT_EQ(at.size(), 1u);
  EXPECT_EQ(at[0].v, 5);
  Vector ts = InstantVector("timestamp(g)", 20 * kMinute + 30 * kSecond);
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].v, 1200);
}

TEST_F(EngineTest, SubqueryStepsAreAligned) {
  Counter(Labels{{"__name__", "g"}}, 0, 1, 41, kMinute);
  // Steps at 7m, 8m, 9m, 10m: the first aligned step inside (10m30s - 4m, 10m30s].
  Vector got = InstantVector("count_over_time(g[4m:1m])", 10 * kMinute + 30 * kSecond);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].v, 4);
  Vector sum = InstantVector("sum_over_time(g[4m:1m])", 10 * kMinute + 30 * kSecond);
  ASSERT_EQ(sum.size(), 1u);
  EXPECT_EQ(sum[0].v, 7 + 8 + 9 + 10);
}

TEST_F(EngineTest, AggregationsGroupByAndWithout) {
  for (int i = 0; i < 4; ++i) {
    store_.Append(
        Labels{{"__name__", "x"}, {"job", i < 2 ? "a" : "b"}, {"instance", std::to_string(i)}},
        0,
        i + 1);
  }
  Vector by = InstantVector("sum by (job) (x)", 0);
  ASSERT_EQ(by.size(), 2u);
  EXPECT_EQ(by[0].metric, (Labels{{"job", "a"}}));
  EXPECT_EQ(by[0].v, 3);
  EXPECT_EQ(by[1].v, 7);
  Vector without = InstantVector("max without (instance) (x)", 0);
  ASSERT_EQ(without.size(), 2u);
  EXPECT_EQ(without[0].metric, (Labels{{"job", "a"}}));
  EXPECT_EQ(without[1].v, 4);
  Vector avg = InstantVector("avg(x)", 0);
  ASSERT_EQ(avg.size(), 1u);
  EXPECT_EQ(avg[0].v, 2.5);
  Vector count = InstantVector("count(x)", 0);
  ASSERT_EQ(count.size(), 1u);
  EXPECT_EQ(count[0].v, 4);
  Vector min = InstantVector("min(x)", 0);
  ASSERT_EQ(min.size(), 1u);
  EXPECT_EQ(min[0].v, 1);
}

TEST_F(EngineTest, OneToOneMatchingRejectsDuplicateRightSide) {
  store_.Append(Labels{{"__name__", "a"}, {"job", "x"}}, 0, 1);
  store_.Append(Labels{{"__name__", "b"}, {"job", "x"}, {"i", "1"}}, 0, 1);
  store_.Append(Labels{{"__name__", "b"}, {"job", "x"}, {"i", "2"}}, 0, 1);
  EXPECT_EQ(InstantError("a + on(job) b", 0),
            "found duplicate series for the match group {job=\"x\"} on the right hand-side of "
            "the operation: [{__name__=\"b\", i=\"2\", job=\"x\"}, {__name__=\"b\", i=\"1\", "
            "job=\"x\"}];many-to-many matching not allowed: matching labels must be unique on "
            "one side");
  EXPECT_EQ(InstantError("b + on(job) a", 0),
            "multiple matches for labels: many-to-one matching must be explicit "
            "(group_left/group_right)");
  EXPECT_EQ(InstantVector("a + on(job) group_right b", 0).size(), 2u);
}

TEST_F(EngineTest, GroupLeftCopiesIncludedLabels) {
  store_.Append(Labels{{"__name__", "req"}, {"job", "x"}, {"path", "/a"}}, 0, 10);
  store_.Append(Labels{{"__name__", "req"}, {"job", "x"}, {"path", "/b"}}, 0, 20);
  store_.Append(Labels{{"__name__", "info"}, {"job", "x"}, {"team", "t1"}}, 0, 1);
  Vector got = InstantVector("req * on(job) group_left(team) info", 0);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].metric, (Labels{{"job", "x"}, {"path", "/a"}, {"team", "t1"}}));
  EXPECT_EQ(got[0].v, 10);
  EXPECT_EQ(got[1].v, 20);
}

TEST_F(EngineTest, DroppedNamesThatCollideFail) {
  store_.Append(Labels{{"__name__", "m1"}, {"a", "x"}}, 0, 1);
  store_.Append(Labels{{"__name__", "m2"}, {"a", "x"}}, 0, 2);
  const std::string want = "vector cannot contain metrics with the same labelset";
  EXPECT_EQ(InstantError("ceil({__name__=~\"m1|m2\"})", 0), want);
  EXPECT_EQ(InstantError("-{__name__=~\"m1|m2\"}", 0), want);
  EXPECT_EQ(InstantError("{__name__=~\"m1|m2\"} * 2", 0), want);
  EXPECT_EQ(InstantVector("{__name__=~\"m1|m2\"} > 0", 0).size(), 2u);
}

TEST_F(EngineTest, RuntimeErrorsUsePrometheusWording) {
  store_.Append(Labels{{"__name__", "a"}, {"job", "x"}}, 0, 1);
  EXPECT_EQ(InstantError("topk(1e30, a)", 0), "Scalar value 1e+30 overflows int64");
  EXPECT_EQ(InstantError("topk(NaN, a)", 0), "Scalar value NaN overflows int64");
  EXPECT_EQ(InstantError("count_values(\"a-b\", a)", 0), "invalid label name \"a-b\"");
  EXPECT_EQ(InstantError("holt_winters(a[5m], 2, 0.5)", 0),
            "invalid smoothing factor. Expected: 0 < sf < 1, got: 2.000000");
  EXPECT_EQ(InstantError("holt_winters(a[5m], 0.5, 0)", 0),
            "invalid trend factor. Expected: 0 < tf < 1, got: 0.000000");
  EXPECT_EQ(InstantError("label_replace(a, \"1x\", \"\", \"\", \"\")", 0),
            "invalid destination label name in label_replace(): 1x");
  EXPECT_EQ(InstantError("label_join(a, \"x\", \",\", \"1y\")", 0),
            "invalid source label name in label_join(): 1y");
}

TEST_F(EngineTest, SetOperators) {
  store_.Append(Labels{{"__name__", "a"}, {"i", "1"}}, 0, 1);
  store_.Append(Labels{{"__name__", "a"}, {"i", "2"}}, 0, 2);
  store_.Append(Labels{{"__name__", "b"}, {"i", "2"}}, 0, 3);
  store_.Append(Labels{{"__name__", "b"}, {"i", "3"}}, 0, 4);
  EXPECT_EQ(InstantVector("a and b", 0).size(), 1u);
  EXPECT_EQ(InstantVector("a or b", 0).size(), 3u);
  Vector unless = InstantVector("a unless b", 0);
  ASSERT_EQ(unless.size(), 1u);
  EXPECT_EQ(unless[0].metric.Get("i"), "1");
}

TEST_F(EngineTest, RangeQueryReturnsPointPerStep) {
  Counter(Labels{{"__name__", "g"}, {"k", "v"}}, 0, 1, 11, kMinute);
  ExprPtr expr = Parse("g * 2");
  Result<Matrix> got = engine_.Range(*expr, store_, 0, 10 * kMinute, 2 * kMinute);
  ASSERT_TRUE(got.ok()) << got.error().message();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].metric, (Labels{{"k", "v"}}));
  ASSERT_EQ((*got)[0].points.size(), 6u);
  EXPECT_EQ((*got)[0].points[5], (Sample{10 * kMinute, 20}));

  ExprPtr scalar = Parse("time()");
  Result<Matrix> times = engine_.Range(*scalar, store_, 0, 2 * kMinute, kMinute);
  ASSERT_TRUE(times.ok());
  ASSERT_EQ(times->size(), 1u);
  EXPECT_TRUE((*times)[0].metric.empty());
  ASSERT_EQ((*times)[0].points.size(), 3u);
  EXPECT_EQ((*times)[0].points[2].v, 120);

  ExprPtr matrix = Parse("g[5m]");
  Result<Matrix> bad = engine_.Range(*matrix, store_, 0, kMinute, kMinute);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(),
            "invalid expression type \"range vector\" for range query, must be Scalar or "
            "instant Vector");
}

TEST_F(EngineTest, RangeQueryResolvesStartAndEnd) {
  Counter(Labels{{"__name__", "g"}}, 0, 1, 11, kMinute);
  ExprPtr expr = Parse("g @ end()");
  Result<Matrix> got = engine_.Range(*expr, store_, kMinute, 5 * kMinute, kMinute);
  ASSERT_TRUE(got.ok()) << got.error().message();
  ASSERT_EQ(got->size(), 1u);
  for (const Sample& p : (*got)[0].points) {
    EXPECT_EQ(p.v, 5);
  }
  ExprPtr start = Parse("g @ start()");
  Result<Matrix> first = engine_.Range(*start, store_, kMinute, 5 * kMinute, kMinute);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].points.back().v, 1);
}

TEST_F(EngineTest, MaxSamplesLimitsLoadedSamples) {
  Counter(Labels{{"__name__", "g"}}, 0, 1, 100, kSecond);
  Engine small(EngineOptions{.max_samples = 50});
  ExprPtr expr = Parse("sum_over_time(g[100s])");
  Result<Value> got = small.Instant(*expr, store_, 99 * kSecond);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().message(),
            "query processing would load too many samples into memory in query execution");
  ExprPtr fits = Parse("sum_over_time(g[40s])");
  EXPECT_TRUE(small.Instant(*fits, store_, 99 * kSecond).ok());
}

TEST_F(EngineTest, LookbackDeltaIsConfigurable) {
  store_.Append(Labels{{"__name__", "m"}}, 0, 1);
  Engine short_lookback(EngineOptions{.lookback_delta_ms = kMinute});
  ExprPtr expr = Parse("m");
  Result<Value> inside = short_lookback.Instant(*expr, store_, kMinute);
  ASSERT_TRUE(inside.ok());
  EXPECT_EQ(std::get<Vector>(*inside).size(), 1u);
  Result<Value> outside = short_lookback.Instant(*expr, store_, 2 * kMinute);
  ASSERT_TRUE(outside.ok());
  EXPECT_TRUE(std::get<Vector>(*outside).empty());
}

TEST_F(EngineTest, LabelReplaceExpandsGroups) {
  store_.Append(Labels{{"__name__", "m"}, {"src", "host-42"}}, 0, 1);
  Vector got = InstantVector(
      "label_replace(m, \"dst\", \"id=$1 name=${name}$$\", \"src\", \"(?P<name>[a-z]+)-(\\\\d+)\")",
      0);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].metric.Get("dst"), "id=host name=host$");
  EXPECT_EQ(got[0].metric.Get("__name__"), "m");
  EXPECT_EQ(InstantError("label_replace(m, \"dst\", \"\", \"src\", \"(.*\")", 0),
            "invalid regular expression in label_replace(): (.*");
}

TEST_F(EngineTest, HandBuiltUnknownFunctionFails) {
  Expr expr{Call{"no_such_function", {}}, {}};
  Result<Value> got = engine_.Instant(expr, store_, 0);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().message(), "unknown function with name \"no_such_function\"");
}

TEST_F(EngineTest, ConcurrentQueriesWhileAppending) {
  ExprPtr expr = Parse("sum by (w) (rate(c[1m]))");
  ASSERT_NE(expr, nullptr);
  std::atomic<bool> failed{false};
  std::thread writer([this] {
    for (int i = 0; i < 2000; ++i) {
      for (int w = 0; w < 4; ++w) {
        store_.Append(Labels{{"__name__", "c"}, {"w", std::to_string(w)}}, i * kSecond, i);
      }
    }
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([this, &expr, &failed] {
      for (int i = 0; i < 200; ++i) {
        Result<Value> got = engine_.Instant(*expr, store_, i * 10 * kSecond);
        if (!got.ok() || !std::holds_alternative<Vector>(*got)) {
          failed = true;
          return;
        }
        for (const VectorSample& s : std::get<Vector>(*got)) {
          // Every counter grows by one per second. A window the writer has not filled yet
          // extrapolates less than the full range, so the rate is at most 1.
          if (!(s.v > 0 && s.v <= 1 + 1e-9)) {
            failed = true;
          }
        }
      }
    });
  }
  writer.join();
  for (auto& t : readers) {
    t.join();
  }
  EXPECT_FALSE(failed);
  Result<Value> final_value = engine_.Instant(*expr, store_, 1999 * kSecond);
  ASSERT_TRUE(final_value.ok());
  EXPECT_EQ(std::get<Vector>(*final_value).size(), 4u);
}

TEST(EngineFunctionsTest, ImplementsEveryTableFunction) {
  for (const FunctionSignature& f : AllFunctions()) {
    const std::string name(f.name);
    EXPECT_TRUE(internal::IsKnownFunction(name)) << name;
    const size_t checked = f.max_args() < 0 ? f.arg_types.size() : f.max_args();
    for (size_t i = 0; i < checked; ++i) {
      EXPECT_EQ(internal::IsRangeArgument(name, i), f.ArgType(i) == ValueType::kMatrix)
          << name << " argument " << i;
    }
  }
}

}  // namespace
}  // namespace alertd::promql
