// Runs `alertd test promql` as a user would, on small scripts and on Prometheus's corpus.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "cli/run_alertd.h"

namespace {

namespace fs = std::filesystem;

using alertd::testing::CommandResult;
using alertd::testing::RunAlertd;

class TestPromqlCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("alertd-test-promql-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }

  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }

  fs::path dir_;
};

const char kPassing[] =
    "load 1m\n"
    "  up{job=\"a\"} 1 1 0\n"
    "\n"
    "eval instant at 2m up\n"
    "  up{job=\"a\"} 0\n"
    "\n"
    "eval range from 0 to 2m step 1m up == 1\n"
    "  up{job=\"a\"} 1 1 _\n";

TEST_F(TestPromqlCommandTest, PassingScriptExitsZeroWithCounts) {
  std::string file = Write("pass.test", kPassing);
  CommandResult r = RunAlertd("test promql " + file);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, file + ": 2 passed, 0 failed, 0 skipped\n2 passed, 0 failed, 0 skipped\n");
}

TEST_F(TestPromqlCommandTest, FailingCaseIsListedWithLineAndReason) {
  std::string pass = Write("pass.test", kPassing);
  std::string fail = Write("fail.test",
                           "load 1m\n"
                           "  up{job=\"a\"} 1 1 0\n"
                           "\n"
                           "eval instant at 2m up\n"
                           "  up{job=\"a\"} 1\n");
  CommandResult r = RunAlertd("test promql " + pass + " " + fail);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(r.output,
            pass + ": 2 passed, 0 failed, 0 skipped\n" + fail +
                ": 0 passed, 1 failed, 0 skipped\n  FAIL " + fail +
                ":4: up\n    expected 1 for up{job=\"a\"} but got 0\n"
                "2 passed, 1 failed, 0 skipped\n");
}

TEST_F(TestPromqlCommandTest, HistogramCasesAreCountedAsSkipped) {
  std::string file = Write("hist.test",
                           "load 1m\n"
                           "  h {{schema:0 sum:1 count:1}}\n"
                           "\n"
                           "eval instant at 0 h\n");
  CommandResult r = RunAlertd("test promql " + file);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, file + ": 0 passed, 0 failed, 1 skipped\n0 passed, 0 failed, 1 skipped\n");
}

TEST_F(TestPromqlCommandTest, UnreadableFileIsNamedAndFails) {
  std::string pass = Write("pass.test", kPassing);
  std::string missing = (dir_ / "missing.test").string();
  CommandResult r = RunAlertd("test promql " + missing + " " + pass);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(
      r.output.find(missing + ": cannot read the file; check that it exists and is readable\n"),
      std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("2 passed, 0 failed, 0 skipped\n"), std::string::npos) << r.output;
}

TEST_F(TestPromqlCommandTest, MalformedScriptNamesFileAndLine) {
  std::string file = Write("bad.test", "load 1m\n  up abc\n");
  CommandResult r = RunAlertd("test promql " + file);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(file + ":1: "), std::string::npos) << r.output;
}

TEST_F(TestPromqlCommandTest, FolderArgumentRunsItsTestFiles) {
  Write("a.test", kPassing);
  Write("b.test", kPassing);
  Write("notes.txt", "not a script");
  CommandResult r = RunAlertd("test promql " + dir_.string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\n4 passed, 0 failed, 0 skipped\n"), std::string::npos) << r.output;
}

TEST(TestPromqlCorpusTest, PrometheusCorpusPasses) {
  const std::string dir = ALERTD_CORPUS_DIR "/prometheus-v2.42.0/promql";
  if (!fs::is_directory(dir)) {
    GTEST_SKIP() << "Prometheus test corpus not found at " << dir;
  }
  CommandResult r = RunAlertd("test promql " + dir);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex(R"((\d+) passed, 0 failed, 0 skipped\n$)")))
      << r.output;
  EXPECT_GE(std::stoi(m[1].str()), 566);
}

}  // namespace
