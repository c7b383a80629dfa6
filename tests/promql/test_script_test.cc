#include "engine/promql/test_script.h"

#include <cmath>

#include <gtest/gtest.h>

#include "storage/sample_store.h"

namespace alertd::promql {
namespace {

std::vector<SeriesValue> Values(std::string_view text) {
  Result<std::vector<SeriesValue>> v = ParseSeriesValues(text);
  EXPECT_TRUE(v.ok()) << text << ": " << (v.ok() ? "" : v.error().message());
  return v.ok() ? *v : std::vector<SeriesValue>{};
}

std::vector<SeriesValue> Numbers(std::initializer_list<double> values) {
  std::vector<SeriesValue> out;
  for (double v : values) {
    out.emplace_back(v);
  }
  return out;
}

TEST(SeriesValuesTest, ExpandsNotation) {
  struct Case {
    const char* text;
    std::vector<SeriesValue> want;
  };

  const std::vector<Case> cases = {
      {"1 2 3", Numbers({1, 2, 3})},
      {"0+10x3", Numbers({0, 10, 20, 30})},
      {"1-1x2", Numbers({1, 0, -1})},
      {"-2+0.5x2", Numbers({-2, -1.5, -1})},
      {"5x2", Numbers({5, 5, 5})},
      {"1e+3 -1.5e-2", Numbers({1000, -0.015})},
      {"0+10x1 100+30x1", Numbers({0, 10, 100, 130})},
      {"1 _ 3", {1.0, std::nullopt, 3.0}},
      {"_x3 1", {std::nullopt, std::nullopt, std::nullopt, 1.0}},
      {"Inf -Inf +Inf", Numbers({INFINITY, -INFINITY, INFINITY})},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Values(c.text), c.want) << c.text;
  }
}

TEST(SeriesValuesTest, ParsesNaNAndStale) {
  std::vector<SeriesValue> got = Values("NaN stale");
  ASSERT_EQ(got.size(), 2u);
  ASSERT_TRUE(got[0].has_value());
  EXPECT_TRUE(std::isnan(*got[0]));
  EXPECT_FALSE(IsStaleNaN(*got[0]));
  ASSERT_TRUE(got[1].has_value());
  EXPECT_TRUE(IsStaleNaN(*got[1]));
}

TEST(SeriesValuesTest, RejectsMalformedItems) {
  for (const char* text : {"abc", "1+x3", "1+1xq", "_xa", "1++1x2"}) {
    Result<std::vector<SeriesValue>> got = ParseSeriesValues(text);
    EXPECT_FALSE(got.ok()) << text;
  }
  Result<std::vector<SeriesValue>> got = ParseSeriesValues("1 abc");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().message(),
            "invalid series value \"abc\": expected a number, stale, _ or the a+bxN notation");
}

TEST(SeriesLineTest, ParsesLabelsAndValues) {
  Result<SeriesLine> got =
      ParseSeriesLine("http_requests{job=\"api\", instance='0', path=`a\\b`}\t0+1x2");
  ASSERT_TRUE(got.ok()) << got.error().message();
  Labels want{{"__name__", "http_requests"}, {"job", "api"}, {"instance", "0"}, {"path", "a\\b"}};
  EXPECT_EQ(got->labels, want);
  EXPECT_EQ(got->values, Numbers({0, 1, 2}));
}

TEST(SeriesLineTest, ParsesBareNameAndBracesOnly) {
  Result<SeriesLine> bare = ParseSeriesLine("up 1");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->labels, (Labels{{"__name__", "up"}}));
  Result<SeriesLine> braces = ParseSeriesLine("{a=\"x\\\"y\"} 2");
  ASSERT_TRUE(braces.ok());
  EXPECT_EQ(braces->labels, (Labels{{"a", "x\"y"}}));
  Result<SeriesLine> empty = ParseSeriesLine("{} 3");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->labels.empty());
}

TEST(SeriesLineTest, RejectsUnterminatedLabels) {
  EXPECT_FALSE(ParseSeriesLine("up{job=\"x\" 1").ok());
  EXPECT_FALSE(ParseSeriesLine("up{job=x} 1").ok());
}

TEST(TestNumberTest, ParsesPrometheusNumbers) {
  EXPECT_EQ(ParseTestNumber("12"), 12.0);
  EXPECT_EQ(ParseTestNumber("-0.5"), -0.5);
  EXPECT_EQ(ParseTestNumber("0x10"), 16.0);
  EXPECT_EQ(ParseTestNumber("+Inf"), INFINITY);
  EXPECT_EQ(ParseTestNumber("-inf"), -INFINITY);
  EXPECT_TRUE(std::isnan(*ParseTestNumber("NaN")));
  EXPECT_FALSE(ParseTestNumber("{} 1").has_value());
  EXPECT_FALSE(ParseTestNumber("up").has_value());
}

TEST(AlmostEqualTest, UsesRelativeTolerance) {
  EXPECT_TRUE(AlmostEqual(1, 1 + 1e-9));
  EXPECT_FALSE(AlmostEqual(1, 1.001));
  EXPECT_TRUE(AlmostEqual(NAN, NAN));
  EXPECT_FALSE(AlmostEqual(0, 1e-10));
  EXPECT_TRUE(AlmostEqual(INFINITY, INFINITY));
}

constexpr const char* kScript = R"(
# comment
load 1m
  up{job="a"} 1 1 0
  up{job="b"} 0 0 0
  requests_total{job="a"} 0+60x10

eval instant at 2m up == 0
  up{job="a"} 0
  up{job="b"} 0

eval instant at 2m up == 0
  up{job="a"} 0

eval_ordered instant at 1m sort_desc(up)
  up{job="a"} 1
  up{job="b"} 0

eval_fail instant at 1m up + on(nothing) up

eval instant at 10m rate(requests_total[5m])
  {job="a"} 1

eval instant at 1m scalar(up{job="a"})
  1

clear

eval instant at 1m up
)";

TEST(RunTestScriptTest, ReportsEachEvalCase) {
  Result<TestScriptResult> got = RunTestScript(kScript, "inline");
  ASSERT_TRUE(got.ok()) << got.error().message();
  ASSERT_EQ(got->cases.size(), 7u);
  const std::vector<int> lines = {8, 12, 15, 19, 21, 24, 29};
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(got->cases[i].line, lines[i]) << i;
  }
  EXPECT_EQ(got->cases[0].outcome, EvalOutcome::kPassed) << got->cases[0].reason;
  EXPECT_EQ(got->cases[1].outcome, EvalOutcome::kFailed);
  EXPECT_EQ(got->cases[1].reason, "unexpected metric up{job=\"b\"} in result");
  EXPECT_EQ(got->cases[2].outcome, EvalOutcome::kPassed) << got->cases[2].reason;
  EXPECT_EQ(got->cases[3].outcome, EvalOutcome::kPassed) << got->cases[3].reason;
  EXPECT_EQ(got->cases[4].outcome, EvalOutcome::kPassed) << got->cases[4].reason;
  EXPECT_EQ(got->cases[5].outcome, EvalOutcome::kPassed) << got->cases[5].reason;
  EXPECT_EQ(got->cases[6].outcome, EvalOutcome::kPassed) << got->cases[6].reason;
  EXPECT_EQ(got->Count(EvalOutcome::kPassed), 6u);
  EXPECT_EQ(got->Count(EvalOutcome::kFailed), 1u);
}

TEST(RunTestScriptTest, FailsOnWrongValueMissingAndExtraSeries) {
  constexpr const char* kWrong = R"(
load 1m
  up{job="a"} 1
  up{job="b"} 0

eval instant at 0m up
  up{job="a"} 2
  up{job="b"} 0

eval instant at 0m up
  up{job="a"} 1
  up{job="b"} 0
  up{job="c"} 0

eval instant at 0m up

eval instant at 0m 1 + 1
  3
)";
  Result<TestScriptResult> got = RunTestScript(kWrong, "wrong");
  ASSERT_TRUE(got.ok()) << got.error().message();
  ASSERT_EQ(got->cases.size(), 4u);
  EXPECT_EQ(got->cases[0].reason, "expected 2 for up{job=\"a\"} but got 1");
  EXPECT_EQ(got->cases[1].reason,
            "expected metric up{job=\"c\"} with 0 not found in a result of 2 series");
  EXPECT_EQ(got->cases[2].reason, "unexpected metric up{job=\"a\"} in result");
  EXPECT_EQ(got->cases[3].reason, "expected scalar 3 but got 2");
  EXPECT_EQ(got->Count(EvalOutcome::kFailed), 4u);
}

TEST(RunTestScriptTest, RunsRangeEvaluations) {
  Result<TestScriptResult> got = RunTestScript("eval range from 0 to 1m step 1m up\n", "x");
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->cases.size(), 1u);
  EXPECT_EQ(got->cases[0].outcome, EvalOutcome::kPassed) << got->cases[0].reason;
}

TEST(RunTestScriptTest, FailsOnMalformedLoad) {
  Result<TestScriptResult> got = RunTestScript("load 1m\n  up 1 zz\n", "bad.test");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().message(),
            "bad.test:1: line 2: invalid series value \"zz\": expected a number, stale, _ or "
            "the a+bxN notation");
}

}  // namespace
}  // namespace alertd::promql
