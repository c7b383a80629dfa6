// Runs `alertd test rules` as a user would.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "cli/run_alertd.h"

namespace {

namespace fs = std::filesystem;

using alertd::testing::CommandResult;
using alertd::testing::RunAlertd;

class TestRulesCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("alertd-test-rules-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    Write("rules.yml",
          "groups:\n"
          "  - name: g\n"
          "    rules:\n"
          "      - alert: Down\n"
          "        expr: up == 0\n");
  }

  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }

  // One test named `name` expecting `count` Down alerts at 0s.
  std::string TestFile(const std::string& file, const std::string& name, int count) {
    std::string alerts = count == 0 ? " []\n" : "\n          - exp_labels: {job: a}\n";
    return Write(file,
                 "rule_files: [rules.yml]\n"
                 "tests:\n"
                 "  - name: " +
                     name +
                     "\n"
                     "    input_series:\n"
                     "      - {series: 'up{job=\"a\"}', values: '0'}\n"
                     "    alert_rule_test:\n"
                     "      - eval_time: 0s\n"
                     "        alertname: Down\n"
                     "        exp_alerts:" +
                     alerts);
  }

  fs::path dir_;
};

TEST_F(TestRulesCommandTest, ExitCodeReflectsFailures) {
  std::string good = TestFile("good.yml", "fires", 1);
  std::string bad = TestFile("bad.yml", "silent", 0);
  CommandResult ok = RunAlertd("test rules " + good);
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_EQ(ok.output, good + ": SUCCESS, 1 of 1 tests passed\n");
  CommandResult failed = RunAlertd("test rules " + good + " " + bad);
  EXPECT_EQ(failed.exit_code, 1) << failed.output;
  EXPECT_NE(failed.output.find(bad + ": FAILED, 1 of 1 tests failed:\n  test silent:\n"
                                     "    alertname: Down, time: 0s, \n        exp:[], \n"),
            std::string::npos)
      << failed.output;
}

TEST_F(TestRulesCommandTest, RunFlagSkipsOtherTests) {
  std::string bad = TestFile("bad.yml", "silent", 0);
  CommandResult result = RunAlertd("test rules --run '^other$' " + bad);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output, bad + ": SUCCESS, 0 of 1 tests passed\n");
}

TEST_F(TestRulesCommandTest, JunitFlagWritesReport) {
  std::string bad = TestFile("bad.yml", "silent", 0);
  std::string report = (dir_ / "report.xml").string();
  CommandResult result = RunAlertd("test rules --junit " + report + " " + bad);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  std::ifstream in(report);
  std::string xml((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(xml.find("<testsuite name=\"" + bad +
                     "\" tests=\"1\" failures=\"1\" errors=\"0\" skipped=\"0\">"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<testcase name=\"silent\""), std::string::npos) << xml;
}

}  // namespace
