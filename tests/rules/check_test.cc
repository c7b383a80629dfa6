#include "rules/check.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace alertd::rules {
namespace {

class CheckRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "check_rules_test_" + std::to_string(::getpid());
    std::filesystem::create_directories(dir_);
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  std::string dir_;
};

const char kValid[] =
    "groups:\n"
    "  - name: g\n"
    "    rules:\n"
    "      - alert: A\n"
    "        expr: up == 0\n"
    "      - record: r\n"
    "        expr: sum(up)\n";

TEST_F(CheckRulesTest, ValidFilePrintsRuleCount) {
  std::string path = Write("ok.yml", kValid);
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(CheckRules({path}, out, err), 0);
  EXPECT_EQ(out.str(), path + ": 2 rules found\n");
  EXPECT_EQ(err.str(), "");
}

TEST_F(CheckRulesTest, InvalidFilePrintsEveryErrorAndFails) {
  std::string bad = Write("bad.yml",
                          "groups:\n"
                          "  - name: g\n"
                          "    rules:\n"
                          "      - record: r\n"
                          "        expr: 1\n"
                          "        for: 1m\n"
                          "      - expr: 2\n");
  std::string ok = Write("ok.yml", kValid);
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(CheckRules({bad, ok}, out, err), 1);
  EXPECT_EQ(out.str(), ok + ": 2 rules found\n");
  EXPECT_EQ(err.str(),
            bad +
                ":6:9: rule \"r\": recording rule cannot have for; only alerting rules wait "
                "before firing, so remove for or change record to alert\n" +
                bad +
                ":7:9: group \"g\", rule 2: rule has neither alert nor record; set alert for an "
                "alerting rule or record for a recording rule\n");
}

TEST_F(CheckRulesTest, MissingFileFails) {
  std::ostringstream out;
  std::ostringstream err;
  std::string path = dir_ + "/missing.yml";
  EXPECT_EQ(CheckRules({path}, out, err), 1);
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(err.str(), path + ": cannot read rule file: No such file or directory\n");
}

TEST_F(CheckRulesTest, NoFilesFails) {
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(CheckRules({}, out, err), 1);
  EXPECT_EQ(err.str(), "no rule files given; pass one or more rule file paths\n");
}

TEST_F(CheckRulesTest, DuplicateRulesWarnButSucceed) {
  std::string path = Write("dup.yml",
                           "groups:\n"
                           "  - name: a\n"
                           "    rules:\n"
                           "      - alert: Down\n"
                           "        expr: up == 0\n"
                           "        labels: {severity: page, team: x}\n"
                           "      - alert: Down\n"
                           "        expr: up == 0\n"
                           "        labels: {severity: page}\n"
                           "  - name: b\n"
                           "    rules:\n"
                           "      - alert: Down\n"
                           "        expr: absent(up)\n"
                           "        labels: {team: x, severity: page}\n"
                           "      - record: job:up\n"
                           "        expr: sum(up)\n"
                           "      - record: job:up\n"
                           "        expr: sum(up)\n"
                           "      - record: job:up\n"
                           "        expr: sum(up)\n");
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(CheckRules({path}, out, err), 0);
  EXPECT_EQ(out.str(), path + ": 6 rules found\n");
  EXPECT_EQ(err.str(),
            path +
                ":12:9: warning: duplicate rule \"Down\" with labels {severity=\"page\", "
                "team=\"x\"}: also defined at line 4; rules with the same name and labels "
                "produce conflicting series, so give each a unique name or label set\n" +
                path +
                ":17:9: warning: duplicate rule \"job:up\" with no labels: also defined at lines "
                "15 and 19; rules with the same name and labels produce conflicting series, so "
                "give each a unique name or label set\n");
}

const char kDuplicates[] =
    "groups:\n"
    "  - name: g\n"
    "    rules:\n"
    "      - record: r\n"
    "        expr: sum(up)\n"
    "      - record: r\n"
    "        expr: sum(up)\n";

const char kDuplicateWarning[] =
    ":6:9: warning: duplicate rule \"r\" with no labels: also defined at line 4; rules with the "
    "same name and labels produce conflicting series, so give each a unique name or label set\n";

TEST_F(CheckRulesTest, LintModesFollowPromtool) {
  struct Case {
    std::string lint;
    bool fatal;
    int exit_code;
    bool warns;
  };

  const std::vector<Case> cases = {
      {"duplicate-rules", false, 0, true},
      {"all", false, 0, true},
      {"duplicate-rules", true, kLintExitCode, true},
      {"none", true, 0, false},
      {"none", false, 0, false},
  };
  std::string path = Write("dup.yml", kDuplicates);
  for (const Case& c : cases) {
    Result<LintMode> lint = ParseLintMode(c.lint);
    ASSERT_TRUE(lint.ok()) << c.lint;
    CheckRulesOptions options;
    options.lint = *lint;
    options.lint_fatal = c.fatal;
    std::istringstream in;
    std::ostringstream out;
    std::ostringstream err;
    EXPECT_EQ(CheckRules({path}, options, in, out, err), c.exit_code) << c.lint << c.fatal;
    EXPECT_EQ(out.str(), path + ": 2 rules found\n");
    EXPECT_EQ(err.str(), c.warns ? path + kDuplicateWarning : "") << c.lint;
  }
}

TEST_F(CheckRulesTest, ErrorsWinOverLintFatal) {
  std::string dup = Write("dup.yml", kDuplicates);
  std::string bad = Write("bad.yml", "groups: 3\n");
  CheckRulesOptions options;
  options.lint_fatal = true;
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(CheckRules({dup, bad}, options, in, out, err), 1);
}

TEST(ParseLintModeTest, UnknownValueNamesAcceptedOnes) {
  Result<LintMode> lint = ParseLintMode("dupes");
  ASSERT_FALSE(lint.ok());
  EXPECT_EQ(lint.error().message(),
            "unknown lint check \"dupes\"; use one of all, duplicate-rules, none");
}

TEST_F(CheckRulesTest, DashReadsStandardInput) {
  CheckRulesOptions options;
  std::istringstream in(kDuplicates);
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(CheckRules({"-"}, options, in, out, err), 0);
  EXPECT_EQ(out.str(), "<stdin>: 2 rules found\n");
  EXPECT_EQ(err.str(), std::string("<stdin>") + kDuplicateWarning);
}

TEST_F(CheckRulesTest, JsonPrintsOneObjectPerFile) {
  std::string dup = Write("dup.yml", kDuplicates);
  CheckRulesOptions options;
  options.format = CheckFormat::kJson;
  std::istringstream in(
      "groups:\n"
      "  - name: g\n"
      "    rules:\n"
      "      - alert: A\n"
      "        expr: up ==\n");
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(CheckRules({dup, "-"}, options, in, out, err), 1);
  EXPECT_EQ(out.str(),
            "{\"file\":\"" + dup +
                "\",\"rules\":2,\"errors\":[],\"warnings\":[{\"line\":6,\"column\":9,"
                "\"group\":\"g\",\"rule\":\"r\",\"message\":\"duplicate rule \\\"r\\\" with no "
                "labels: also defined at line 4; rules with the same name and labels produce "
                "conflicting series, so give each a unique name or label set\"}]}\n"
                "{\"file\":\"<stdin>\",\"rules\":0,\"errors\":[{\"line\":5,\"column\":20,"
                "\"group\":\"g\",\"rule\":\"A\",\"message\":\"invalid expression: unexpected end "
                "of input\"}],\"warnings\":[]}\n");
  EXPECT_EQ(err.str(), "");
}

TEST(FindDuplicateRulesTest, SameNameDifferentLabelsIsNotDuplicate) {
  Result<RuleFile> file = ParseRuleFile(
      "groups:\n"
      "  - name: a\n"
      "    rules:\n"
      "      - alert: Down\n"
      "        expr: up == 0\n"
      "        labels: {severity: page}\n"
      "      - alert: Down\n"
      "        expr: up == 0\n"
      "        labels: {severity: ticket}\n",
      "r.yml",
      nullptr);
  ASSERT_TRUE(file.ok()) << file.error().message();
  EXPECT_TRUE(FindDuplicateRules(*file).empty());
}

// The promtool 2.42 verdicts on the upstream corpus: one row per file, with the exit code and
// the number of rules found.
struct Verdict {
  std::string path;
  int exit_code = 0;
  int rules_found = -1;  // -1 when promtool printed none
};

std::vector<Verdict> ReadVerdicts(const std::string& tsv) {
  std::ifstream in(tsv);
  std::vector<Verdict> verdicts;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> columns;
    std::stringstream row(line);
    std::string column;
    while (std::getline(row, column, '\t')) {
      columns.push_back(column);
    }
    if (columns.size() < 6) {
      continue;
    }
    Verdict verdict;
    verdict.path = columns[0];
    verdict.exit_code = std::stoi(columns[1]);
    std::string found = columns[5];
    if (!found.empty() && found.back() == '*') {
      found.pop_back();
    }
    if (!found.empty() && found != "-") {
      verdict.rules_found = std::stoi(found);
    }
    verdicts.push_back(verdict);
  }
  return verdicts;
}

TEST(CheckRulesCorpusTest, ExitCodesMatchPromtool) {
  const std::string corpus = ALERTD_CORPUS_DIR;
  if (!std::filesystem::exists(corpus + "/REFERENCE-check-rules.tsv")) {
    GTEST_SKIP() << "the upstream corpus is not present at " << corpus;
  }
  std::vector<Verdict> verdicts = ReadVerdicts(corpus + "/REFERENCE-check-rules.tsv");
  ASSERT_GT(verdicts.size(), 200u);
  int agree = 0;
  int rulefmt_rows = 0;
  std::vector<std::string> disagreements;
  for (const Verdict& verdict : verdicts) {
    std::ostringstream out;
    std::ostringstream err;
    int exit_code = CheckRules({corpus + "/" + verdict.path}, out, err);
    bool same = exit_code == verdict.exit_code;
    if (same && exit_code == 0 && verdict.rules_found >= 0) {
      same = out.str().find(": " + std::to_string(verdict.rules_found) + " rules found\n") !=
             std::string::npos;
    }
    if (verdict.path.starts_with("prometheus-v2.42.0/rulefmt/")) {
      ++rulefmt_rows;
    }
    if (same) {
      ++agree;
    } else {
      disagreements.push_back(verdict.path + ": exit " + std::to_string(exit_code) + ", promtool " +
                              std::to_string(verdict.exit_code) + "\n" + err.str());
    }
  }
  EXPECT_EQ(rulefmt_rows, 13);
  std::cout << "check rules agrees with promtool 2.42 on " << agree << " of " << verdicts.size()
            << " corpus files\n";
  std::cout << "check rules agreement: " << agree << " passed, " << verdicts.size() - agree
            << " failed\n";
  for (const std::string& disagreement : disagreements) {
    std::cout << "  differs: " << disagreement;
  }
  RecordProperty("agreement", agree);
  EXPECT_EQ(agree, static_cast<int>(verdicts.size()));
}

}  // namespace
}  // namespace alertd::rules
