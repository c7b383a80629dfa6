// The logic of `alertd check rules FILE...`, kept apart from the command line so it can be
// tested. Output follows promtool 2.42's `check rules`: every error of every file is printed,
// the duplicate-rule lint is a warning, and the exit code is 1 when any file has an error.
#pragma once

#include <istream>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "rules/rule_file.h"

namespace alertd::rules {

// Rules of one file with the same name (alert or record) and the same labels, the identity
// promtool 2.42's duplicate-rule lint compares. Such rules produce the same series or alerts.
struct DuplicateRule {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // sorted by name
  std::vector<const Rule*> rules;                           // in file order, at least two
};

// Returns each set of duplicate rules of `file`, ordered by the position of its first rule.
std::vector<DuplicateRule> FindDuplicateRules(const RuleFile& file);

// Checks one rule file: prints "FILE: N rules found" to `out` when the file is valid, each
// error as `FILE:LINE:COL: rule "NAME": message` to `err`, and a warning for each set of
// duplicate rules to `err`. Returns whether the file is valid; warnings do not make it invalid.
// Lines longer than `max_line_length` bytes (limits.max_line_length; 0: no limit) are errors.
// Adds the number of rules of a valid file to `*rule_count` when it is not null.
bool CheckRuleFile(const std::string& file,
                   std::ostream& out,
                   std::ostream& err,
                   uint64_t max_line_length = kDefaultMaxLineLength,
                   size_t* rule_count = nullptr);

// Checks every file and returns the exit code: 0 when all are valid, 1 when any has an error
// or no file is given.
int CheckRules(const std::vector<std::string>& files, std::ostream& out, std::ostream& err);

// The lint checks of promtool 2.42's --lint: `duplicate-rules` (the default; `all` is the same
// set) or `none`.
enum class LintMode { kNone, kDuplicateRules };

// Parses a --lint value. The error names the value and the accepted ones.
Result<LintMode> ParseLintMode(const std::string& text);

enum class CheckFormat { kText, kJson };

struct CheckRulesOptions {
  LintMode lint = LintMode::kDuplicateRules;
  // A lint finding exits with kLintExitCode when no file has an error (--lint-fatal).
  bool lint_fatal = false;
  // kJson prints one JSON object per file and line on `out`:
  // {"file","rules","errors":[{"line","column","group","rule","message"}],"warnings":[...]};
  // "rules" is the rule count, 0 for a file with errors.
  CheckFormat format = CheckFormat::kText;
};

// The exit code of a lint finding under --lint-fatal, as promtool's.
inline constexpr int kLintExitCode = 3;

// The name a rule file read from standard input has in messages; the path `-` selects it.
inline constexpr const char* kStdinName = "<stdin>";

// The outcome of checking one file.
struct FileCheck {
  std::string file;
  bool valid = false;
  size_t rule_count = 0;
  std::vector<RuleError> errors;
  std::vector<RuleError> warnings;  // lint findings; they do not make the file invalid
};

// Checks rule file text; `name` stands for the file in messages.
FileCheck CheckRuleText(const std::string& text, const std::string& name, LintMode lint);

// Checks the file at `path`, or `in` when `path` is "-".
FileCheck CheckRulePath(const std::string& path, LintMode lint, std::istream& in);

// Checks every file as CheckRules above with `options`. Exit code: 1 when any file has an error
// or no file is given, else kLintExitCode when lint_fatal is set and a lint finding exists,
// else 0.
int CheckRules(const std::vector<std::string>& files,
               const CheckRulesOptions& options,
               std::istream& in,
               std::ostream& out,
               std::ostream& err);

}  // namespace alertd::rules
