#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/rule_tester.h"

namespace alertd {
namespace {

namespace fs = std::filesystem;

const char kRules[] =
    "groups:\n"
    "  - name: g\n"
    "    rules:\n"
    "      - alert: Down\n"
    "        expr: up == 0\n"
    "        for: 2m\n"
    "        labels: {severity: page}\n"
    "        annotations:\n"
    "          summary: '{{ $labels.job }} is down since {{ $value }}'\n"
    "      - record: job:up:sum\n"
    "        expr: sum by (job) (up)\n";

class RuleUnitTestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("rule_unit_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    Write("rules.yml", kRules);
  }

  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    fs::path path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  // A test file over rules.yml with one test named "down" and the given alert test.
  std::string WriteTest(const std::string& alert_test) {
    return Write("test.yml",
                 "rule_files: [rules.yml]\n"
                 "tests:\n"
                 "  - name: down\n"
                 "    interval: 1m\n"
                 "    input_series:\n"
                 "      - series: 'up{job=\"api\"}'\n"
                 "        values: '1 0x5'\n"
                 "    alert_rule_test:\n" +
                     alert_test);
  }

  fs::path dir_;
};

TEST_F(RuleUnitTestTest, PassingAlertAndExprTestsSucceed) {
  std::string path = Write("test.yml",
                           "rule_files: [rules.yml]\n"
                           "tests:\n"
                           "  - interval: 1m\n"
                           "    input_series:\n"
                           "      - series: 'up{job=\"api\"}'\n"
                           "        values: '1 0x5'\n"
                           "    alert_rule_test:\n"
                           "      - eval_time: 2m\n"
                           "        alertname: Down\n"
                           "        exp_alerts: []\n"
                           "      - eval_time: 3m\n"
                           "        alertname: Down\n"
                           "        exp_alerts:\n"
                           "          - exp_labels: {job: api, severity: page}\n"
                           "            exp_annotations: {summary: api is down since 0}\n"
                           "    promql_expr_test:\n"
                           "      - expr: job:up:sum\n"
                           "        eval_time: 4m\n"
                           "        exp_samples:\n"
                           "          - labels: 'job:up:sum{job=\"api\"}'\n"
                           "            value: 0\n"
                           "      - expr: ALERTS{alertstate=\"firing\"}\n"
                           "        eval_time: 3m\n"
                           "        exp_samples:\n"
                           "          - labels: 'ALERTS{alertname=\"Down\", alertstate=\"firing\","
                           " job=\"api\", severity=\"page\"}'\n"
                           "            value: 1\n");
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(RunRuleUnitTests({path}, {}, out, err), 0) << err.str();
  EXPECT_EQ(out.str(), path + ": SUCCESS, 1 of 1 tests passed\n");
  EXPECT_EQ(err.str(), "");
}

TEST_F(RuleUnitTestTest, AlertMismatchShowsExpectedAndActual) {
  std::string path = WriteTest(
      "      - eval_time: 5m\n"
      "        alertname: Down\n"
      "        exp_alerts: []\n");
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(RunRuleUnitTests({path}, {}, out, err), 1);
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(err.str(),
            path +
                ": FAILED, 1 of 1 tests failed:\n"
                "  test down:\n"
                "    alertname: Down, time: 5m, \n"
                "        exp:[], \n"
                "        got:[\n"
                "            0:\n"
                "              Labels:{alertname=\"Down\", job=\"api\", "
                "severity=\"page\"}\n"
                "              Annotations:{summary=\"api is down since 0\"}\n"
                "            ]\n\n");
}

TEST_F(RuleUnitTestTest, AnnotationRegexMatchesWholeValue) {
  struct Case {
    std::string pattern;
    bool passes;
  };

  const std::vector<Case> cases = {
      {"api is down.*", true},
      {"api is down since [0-9]+", true},
      {"is down", false},  // anchored: a part of the value does not match
      {"db.*", false},
  };
  for (const Case& c : cases) {
    std::string path = WriteTest(
        "      - eval_time: 5m\n"
        "        alertname: Down\n"
        "        exp_alerts:\n"
        "          - exp_labels: {job: api, severity: page}\n"
        "            exp_annotations_regex: {summary: '" +
        c.pattern + "'}\n");
    RuleUnitTestFileResult result = RunRuleUnitTestFile(path, {});
    EXPECT_TRUE(result.errors.empty()) << c.pattern;
    ASSERT_EQ(result.tests.size(), 1u);
    EXPECT_EQ(result.tests[0].passed(), c.passes) << c.pattern;
  }
}

TEST_F(RuleUnitTestTest, ExprMismatchPrintsSamplesAsPromtool) {
  std::string path = Write("test.yml",
                           "tests:\n"
                           "  - input_series:\n"
                           "      - series: up\n"
                           "        values: '0'\n"
                           "    promql_expr_test:\n"
                           "      - expr: up\n"
                           "        eval_time: 0m\n"
                           "        exp_samples:\n"
                           "          - {labels: up, value: 1.5}\n");
  RuleUnitTestFileResult result = RunRuleUnitTestFile(path, {});
  ASSERT_EQ(result.tests.size(), 1u);
  ASSERT_EQ(result.tests[0].failures.size(), 1u);
  EXPECT_EQ(result.tests[0].failures[0],
            "expr: \"up\", time: 0s,\n"
            "    exp: {__name__=\"up\"} 1.5E+00\n"
            "    got: {__name__=\"up\"} 0E+00");
}

TEST_F(RuleUnitTestTest, BadTestFilesNameThePosition) {
  struct Case {
    std::string text;
    std::string error;  // after the path
  };

  const std::vector<Case> cases = {
      {"rule_files: [rules.yml]\ntests:\n  - nmae: x\n",
       ":3:5: unknown field \"nmae\" in test; did you mean \"name\"?"},
      {"tests:\n  - input_series:\n      - series: 'up{a=\"b\"'\n        values: '1'\n",
       ":3:17: invalid input series \"up{a=\\\"b\\\" 1\": expected label=\"value\" in series "
       "description \"up{a=\"b\" 1\""},
      {"tests:\n  - alert_rule_test:\n      - eval_time: 1m\n",
       ":3:9: alert rule test has no alertname; name the alert to check"},
      {"tests:\n  - input_series:\n      - series: up\n        values: '1 2xa'\n",
       ":3:17: invalid input series \"up 1 2xa\": "},
  };
  for (const Case& c : cases) {
    std::string path = Write("bad.yml", c.text);
    RuleUnitTestFileResult result = RunRuleUnitTestFile(path, {});
    ASSERT_EQ(result.errors.size(), 1u) << c.text;
    EXPECT_EQ(result.errors[0].substr(0, path.size() + c.error.size()), path + c.error);
    EXPECT_FALSE(result.passed());
  }
}

TEST_F(RuleUnitTestTest, GroupEvalOrderDecidesWhatLaterGroupsSee) {
  Write("chain.yml",
        "groups:\n"
        "  - name: second\n"
        "    rules:\n"
        "      - record: b\n"
        "        expr: a + 1\n"
        "  - name: first\n"
        "    rules:\n"
        "      - record: a\n"
        "        expr: vector(1)\n");
  auto test_file = [&](const std::string& order) {
    return Write("test.yml",
                 "rule_files: [chain.yml]\n" + order +
                     "tests:\n"
                     "  - promql_expr_test:\n"
                     "      - expr: b\n"
                     "        eval_time: 0s\n"
                     "        exp_samples: [{labels: b, value: 2}]\n");
  };
  // In file order, `second` runs before `a` exists at 0s.
  EXPECT_FALSE(RunRuleUnitTestFile(test_file(""), {}).passed());
  EXPECT_TRUE(RunRuleUnitTestFile(test_file("group_eval_order: [first, second]\n"), {}).passed());
  RuleUnitTestFileResult twice =
      RunRuleUnitTestFile(test_file("group_eval_order: [first, first]\n"), {});
  ASSERT_EQ(twice.errors.size(), 1u);
  EXPECT_NE(twice.errors[0].find("group \"first\" is listed twice in group_eval_order"),
            std::string::npos)
      << twice.errors[0];
}

TEST_F(RuleUnitTestTest, MissingRuleFileFailsTheFile) {
  std::string path = Write("test.yml", "rule_files: [nothere.yml]\ntests: []\n");
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(RunRuleUnitTests({path}, {}, out, err), 1);
  EXPECT_EQ(err.str(),
            path + ": FAILED, the file could not run:\n  " + (dir_ / "nothere.yml").string() +
                ": cannot read rule file: No such file or directory\n");
}

TEST_F(RuleUnitTestTest, RunPatternSelectsTestsByName) {
  std::string path = Write("test.yml",
                           "tests:\n"
                           "  - name: good one\n"
                           "  - name: bad one\n"
                           "    promql_expr_test:\n"
                           "      - {expr: '1', eval_time: 0s, exp_samples: [{value: 2}]}\n");
  RuleUnitTestOptions options;
  options.run = "^good";
  RuleUnitTestFileResult result = RunRuleUnitTestFile(path, options);
  ASSERT_EQ(result.tests.size(), 2u);
  EXPECT_FALSE(result.tests[0].skipped);
  EXPECT_TRUE(result.tests[1].skipped);
  EXPECT_TRUE(result.passed());
  options.run = "bad";
  EXPECT_FALSE(RunRuleUnitTestFile(path, options).passed());

  std::ostringstream out;
  std::ostringstream err;
  options.run = "(";
  EXPECT_EQ(RunRuleUnitTests({path}, options, out, err), 1);
  EXPECT_EQ(err.str(),
            "invalid --run pattern \"(\": missing ): (; give an RE2 regular expression\n");
}

TEST_F(RuleUnitTestTest, JUnitReportListsEachTest) {
  std::string path = Write("test.yml",
                           "tests:\n"
                           "  - name: a<b\n"
                           "  - promql_expr_test:\n"
                           "      - {expr: '1', eval_time: 0s, exp_samples: [{value: 2}]}\n");
  std::vector<RuleUnitTestFileResult> results{RunRuleUnitTestFile(path, {})};
  EXPECT_EQ(RuleUnitTestJUnit(results),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
            "  <testsuite name=\"" +
                path +
                "\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\">\n"
                "    <testcase name=\"a&lt;b\" classname=\"" +
                path +
                "\"/>\n"
                "    <testcase name=\"tests[1]\" classname=\"" +
                path +
                "\">\n"
                "      <failure message=\"failed expectations: 1\">expr: &quot;1&quot;, time: 0s,\n"
                "    exp: {} 2E+00\n    got: {} 1E+00</failure>\n"
                "    </testcase>\n"
                "  </testsuite>\n</testsuites>\n");
}

}  // namespace
}  // namespace alertd
