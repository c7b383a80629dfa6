// Runs Prometheus 2.42's PromQL test scripts and guards the cases known to pass, and runs
// alertd's own scripts in tests/promql/testdata, every case of which must pass.
//
// tests/promql/corpus_passing.txt lists each passing case as `file:line`. The test fails when a
// listed case no longer passes. To refresh the list after fixing cases, run this test with
// ALERTD_WRITE_CORPUS_PASSING=1, which rewrites the file.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "engine/promql/test_script.h"

namespace alertd::promql {
namespace {

namespace fs = std::filesystem;

const char kCorpusDir[] = ALERTD_CORPUS_DIR "/prometheus-v2.42.0/promql";
const char kPassingList[] = ALERTD_SOURCE_DIR "/tests/promql/corpus_passing.txt";
const char kTestdataDir[] = ALERTD_SOURCE_DIR "/tests/promql/testdata";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::set<std::string> ReadPassingList() {
  std::set<std::string> out;
  std::ifstream in(kPassingList);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') {
      out.insert(line);
    }
  }
  return out;
}

TEST(PrometheusCorpusTest, ListedCasesPass) {
  if (!fs::is_directory(kCorpusDir)) {
    GTEST_SKIP() << "Prometheus test corpus not found at " << kCorpusDir;
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(kCorpusDir)) {
    if (entry.path().extension() == ".test") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());

  const std::set<std::string> listed = ReadPassingList();
  std::set<std::string> passing;
  size_t total_passed = 0, total_failed = 0, total_skipped = 0;
  for (const fs::path& file : files) {
    const std::string name = file.filename().string();
    Result<TestScriptResult> result = RunTestScript(ReadFile(file), name);
    if (!result.ok()) {
      ADD_FAILURE() << "script " << name << " did not run: " << result.error().message();
      continue;
    }
    for (const EvalCaseResult& c : result->cases) {
      const std::string key = name + ":" + std::to_string(c.line);
      if (c.outcome == EvalOutcome::kPassed) {
        passing.insert(key);
      } else if (std::getenv("ALERTD_CORPUS_VERBOSE") != nullptr) {
        std::cout << key << " " << (c.outcome == EvalOutcome::kSkipped ? "SKIP" : "FAIL") << " "
                  << c.expr << "\n    " << c.reason << "\n";
      }
      EXPECT_TRUE(c.outcome == EvalOutcome::kPassed || listed.count(key) == 0)
          << key << " is listed as passing but now fails: " << c.expr << ": " << c.reason;
    }
    const size_t passed = result->Count(EvalOutcome::kPassed);
    const size_t failed = result->Count(EvalOutcome::kFailed);
    const size_t skipped = result->Count(EvalOutcome::kSkipped);
    total_passed += passed;
    total_failed += failed;
    total_skipped += skipped;
    std::cout << name << ": passed " << passed << ", failed " << failed << ", skipped " << skipped
              << "\n";
  }
  std::cout << "total: passed " << total_passed << ", failed " << total_failed << ", skipped "
            << total_skipped << "\n";
  for (const std::string& key : listed) {
    EXPECT_TRUE(passing.count(key) > 0) << key << " is listed as passing but was not run";
  }
  if (std::getenv("ALERTD_WRITE_CORPUS_PASSING") != nullptr) {
    std::ofstream out(kPassingList);
    out << "# Cases of the Prometheus 2.42 PromQL test corpus that pass, as file:line of the\n"
           "# eval command. Regenerate with ALERTD_WRITE_CORPUS_PASSING=1 promql_test.\n";
    for (const std::string& key : passing) {
      out << key << "\n";
    }
  }
}

TEST(PromqlScriptTest, EveryTestdataCasePasses) {
  size_t scripts = 0;
  for (const auto& entry : fs::directory_iterator(kTestdataDir)) {
    if (entry.path().extension() != ".test") {
      continue;
    }
    ++scripts;
    const std::string name = entry.path().filename().string();
    Result<TestScriptResult> result = RunTestScript(ReadFile(entry.path()), name);
    ASSERT_TRUE(result.ok()) << result.error().message();
    EXPECT_FALSE(result->cases.empty()) << name;
    for (const EvalCaseResult& c : result->cases) {
      EXPECT_EQ(c.outcome, EvalOutcome::kPassed)
          << name << ":" << c.line << ": " << c.expr << ": " << c.reason;
    }
  }
  EXPECT_GT(scripts, 0u);
}

}  // namespace
}  // namespace alertd::promql
