// Runs `alertd test rules` on every file of the corpus's REFERENCE-test-rules.tsv the way the
// reference was made (`cd DIR && promtool test rules FILE`) and compares verdicts: exit code
// zero or not. Files listed in tests/cli/test_rules_agreeing.txt must keep agreeing.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;

std::vector<std::string> SplitTabs(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, '\t')) {
    fields.push_back(field);
  }
  return fields;
}

std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

int RunIn(const fs::path& dir, const std::string& file) {
  std::string command = "cd " + ShellQuote(dir.string()) + " && " + ShellQuote(ALERTD_BINARY) +
                        " test rules " + ShellQuote(file) + " >/dev/null 2>&1";
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(TestRulesAgreementTest, VerdictsMatchPromtool) {
  fs::path corpus = ALERTD_CORPUS_DIR;
  fs::path reference = corpus / "REFERENCE-test-rules.tsv";
  if (!fs::exists(reference)) {
    GTEST_SKIP() << "the upstream corpus is not present at " << corpus;
  }
  std::set<std::string> must_agree;
  {
    std::ifstream list(fs::path(ALERTD_SOURCE_DIR) / "tests" / "cli" / "test_rules_agreeing.txt");
    std::string line;
    while (std::getline(list, line)) {
      if (!line.empty() && line[0] != '#') {
        must_agree.insert(line);
      }
    }
  }
  ASSERT_FALSE(must_agree.empty()) << "tests/cli/test_rules_agreeing.txt lists no file";

  std::ifstream in(reference);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  std::vector<std::string> header = SplitTabs(line);
  int path_column = -1;
  int exit_column = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "path") {
      path_column = static_cast<int>(i);
    } else if (header[i] == "exit_code") {
      exit_column = static_cast<int>(i);
    }
  }
  ASSERT_GE(path_column, 0) << "no path column in " << reference;
  ASSERT_GE(exit_column, 0) << "no exit_code column in " << reference;

  int passed = 0;
  int failed = 0;
  std::set<std::string> seen;
  while (std::getline(in, line)) {
    std::vector<std::string> fields = SplitTabs(line);
    if (fields.size() <= static_cast<size_t>(std::max(path_column, exit_column))) {
      continue;
    }
    const std::string& path = fields[path_column];
    bool promtool_ok = fields[exit_column] == "0";
    fs::path full = corpus / path;
    bool alertd_ok = RunIn(full.parent_path(), full.filename().string()) == 0;
    seen.insert(path);
    if (alertd_ok == promtool_ok) {
      ++passed;
    } else {
      ++failed;
      std::cout << "disagrees: " << path << " promtool " << (promtool_ok ? "passes" : "fails")
                << ", alertd " << (alertd_ok ? "passes" : "fails") << "\n";
      EXPECT_FALSE(must_agree.count(path))
          << path << " is listed in test_rules_agreeing.txt but no longer agrees";
    }
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  for (const std::string& path : must_agree) {
    EXPECT_TRUE(seen.count(path)) << path << " is listed in test_rules_agreeing.txt but not in "
                                  << reference;
  }
}

}  // namespace
