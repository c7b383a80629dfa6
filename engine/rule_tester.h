// Rule unit tests in promtool 2.42's format (`promtool test rules`, documented in Prometheus's
// docs/configuration/unit_testing_rules.md): a YAML file naming rule files and test groups of
// input series, alert expectations and PromQL expectations. The rules run on the daemon's own
// RuleManager over an in-memory sample store, a FakeClock and an in-memory state store.
//
// Extension: an exp_alert may carry `exp_annotations_regex`, annotation name to RE2 pattern;
// each listed annotation must match its pattern in full. Files without it behave as promtool's.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace alertd {

struct RuleUnitTestOptions {
  // RE2 pattern; only tests whose name it matches (anywhere in the name) run. Empty: all.
  std::string run;
};

// One test group of a file.
struct RuleUnitTestCase {
  std::string name;  // the test's `name`, or "tests[N]" (0-based) for an unnamed test
  bool skipped = false;
  // Failure blocks, each as promtool prints it: `alertname: X, time: 5m, exp:[...], got:[...]`,
  // `expr: "E", time: T, exp: ... got: ...` or `rule: R, time: T, err: E`. Empty when passed.
  std::vector<std::string> failures;

  bool passed() const { return failures.empty(); }
};

struct RuleUnitTestFileResult {
  std::string file;
  // Problems that stop the whole file: an unreadable or malformed test file, bad series
  // notation, a missing or invalid rule file. Each is `FILE:LINE:COL: message` where known.
  std::vector<std::string> errors;
  std::vector<RuleUnitTestCase> tests;

  bool passed() const;
  size_t failed_count() const;
};

// Runs the unit test file at `path`; rule files are resolved relative to its folder.
RuleUnitTestFileResult RunRuleUnitTestFile(const std::string& path,
                                           const RuleUnitTestOptions& options);

// Runs every file, printing one line per passing file to `out` and the failures of each
// failing file to `err`. Returns 0 when all pass, 1 otherwise (also for no files or an invalid
// --run pattern).
int RunRuleUnitTests(const std::vector<std::string>& files,
                     const RuleUnitTestOptions& options,
                     std::ostream& out,
                     std::ostream& err,
                     std::vector<RuleUnitTestFileResult>* results = nullptr);

// A JUnit XML report: one <testsuite> per file, one <testcase> per test, a <failure> per
// failing test and an <error> for a file that could not run.
std::string RuleUnitTestJUnit(const std::vector<RuleUnitTestFileResult>& results);

}  // namespace alertd
