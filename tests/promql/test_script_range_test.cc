// The runner's `eval range` command and its handling of native histogram samples.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "engine/promql/test_script.h"

namespace alertd::promql {
namespace {

TestScriptResult MustRun(const std::string& text) {
  Result<TestScriptResult> result = RunTestScript(text, "inline.test");
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message());
  return result.ok() ? *result : TestScriptResult{};
}

const char kLoad[] =
    "load 1m\n"
    "  metric{job=\"a\"} 0+1x10\n"
    "\n";

TEST(RangeEvalTest, PassesWhenEveryStepMatches) {
  TestScriptResult r = MustRun(std::string(kLoad) +
                               "eval range from 0 to 3m step 1m metric\n"
                               "  metric{job=\"a\"} 0 1 2 3\n");
  ASSERT_EQ(r.cases.size(), 1u);
  EXPECT_EQ(r.cases[0].outcome, EvalOutcome::kPassed) << r.cases[0].reason;
  EXPECT_EQ(r.cases[0].line, 4);
}

TEST(RangeEvalTest, FailsWithTheStepThatDiffers) {
  TestScriptResult r = MustRun(std::string(kLoad) +
                               "eval range from 0 to 3m step 1m metric\n"
                               "  metric{job=\"a\"} 0 1 5 3\n");
  ASSERT_EQ(r.cases.size(), 1u);
  EXPECT_EQ(r.cases[0].outcome, EvalOutcome::kFailed);
  EXPECT_EQ(r.cases[0].reason, "expected 5 for metric{job=\"a\"} at t=120000ms but got 2");
}

TEST(RangeEvalTest, FailsWhenPointCountDiffers) {
  TestScriptResult r = MustRun(std::string(kLoad) +
                               "eval range from 0 to 3m step 1m metric\n"
                               "  metric{job=\"a\"} 0 1 2\n");
  ASSERT_EQ(r.cases.size(), 1u);
  EXPECT_EQ(r.cases[0].reason, "expected 3 points for metric{job=\"a\"} but got 4");
}

TEST(RangeEvalTest, FailsWhenMoreValuesThanSteps) {
  TestScriptResult r = MustRun(std::string(kLoad) +
                               "eval range from 0 to 1m step 1m metric\n"
                               "  metric{job=\"a\"} 0 1 2\n");
  ASSERT_EQ(r.cases.size(), 1u);
  EXPECT_EQ(r.cases[0].reason,
            "expected 3 points for metric{job=\"a\"}, but the query time range cannot return "
            "this many points");
}

TEST(RangeEvalTest, FailsOnUnexpectedAndMissingSeries) {
  TestScriptResult r = MustRun(std::string(kLoad) +
                               "eval range from 0 to 1m step 1m metric\n"
                               "\n"
                               "eval range from 0 to 1m step 1m nothing\n"
                               "  other 1 1\n");
  ASSERT_EQ(r.cases.size(), 2u);
  EXPECT_EQ(r.cases[0].reason, "unexpected metric metric{job=\"a\"} in result");
  EXPECT_EQ(r.cases[1].reason, "expected metric other{} not found in a result of 0 series");
}

TEST(RangeEvalTest, MalformedRangeCommandFailsTheCase) {
  struct Case {
    std::string command;
    std::string reason;
  };

  const std::vector<Case> cases = {
      {"eval range from 0 step 1m metric",
       "expected eval range from <time> to <time> step <duration> <expr>"},
      {"eval range from x to 1m step 1m metric", "invalid range start \"x\""},
      {"eval range from 0 to 1m step 0s metric", "range step must be positive"},
      {"eval range from 2m to 1m step 1m metric", "range end must not be before its start"},
      {"eval range from 0 to 1m step 1m", "missing expression"},
      {"eval_ordered range from 0 to 1m step 1m metric",
       "eval_ordered is not supported for range evaluations"},
  };
  for (const Case& c : cases) {
    TestScriptResult r = MustRun(std::string(kLoad) + c.command + "\n");
    ASSERT_EQ(r.cases.size(), 1u) << c.command;
    EXPECT_EQ(r.cases[0].outcome, EvalOutcome::kFailed) << c.command;
    EXPECT_EQ(r.cases[0].reason, c.reason) << c.command;
  }
}

TEST(RangeEvalTest, EvalFailPassesOnlyWhenTheQueryFails) {
  TestScriptResult r = MustRun(std::string(kLoad) +
                               "load 1m\n"
                               "  metric{job=\"b\"} 1 2\n"
                               "\n"
                               "eval_fail range from 0 to 1m step 1m metric + on() metric\n"
                               "\n"
                               "eval_fail range from 0 to 1m step 1m metric\n");
  ASSERT_EQ(r.cases.size(), 2u);
  EXPECT_EQ(r.cases[0].outcome, EvalOutcome::kPassed) << r.cases[0].reason;
  EXPECT_EQ(r.cases[1].reason, "expected an evaluation error but the query succeeded");
}

TEST(NativeHistogramTest, CasesNeedingHistogramsAreSkipped) {
  std::ifstream in(ALERTD_SOURCE_DIR "/tests/promql/testdata/native_histograms.script");
  std::stringstream text;
  text << in.rdbuf();
  ASSERT_FALSE(text.str().empty());
  Result<TestScriptResult> r = RunTestScript(text.str(), "native_histograms.script");
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->cases.size(), 3u);
  // After a load with histogram samples, until `clear`.
  EXPECT_EQ(r->cases[0].outcome, EvalOutcome::kSkipped);
  EXPECT_EQ(r->cases[0].reason,
            "native histogram samples ({{...}}) are not supported; the case is skipped");
  // A fresh store after `clear`.
  EXPECT_EQ(r->cases[1].outcome, EvalOutcome::kPassed) << r->cases[1].reason;
  // A histogram in the expected result.
  EXPECT_EQ(r->cases[2].outcome, EvalOutcome::kSkipped);
  EXPECT_EQ(r->Count(EvalOutcome::kSkipped), 2u);
}

}  // namespace
}  // namespace alertd::promql
