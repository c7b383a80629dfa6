// The logic of `alertd check rules FILE...`, kept apart from the command line so it can be
// tested. Output follows promtool 2.42's `check rules`: every error of every file is printed,
// the duplicate-rule lint is a warning, and the exit code is 1 when any file has an error.
#pragma once

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
bool CheckRuleFile(const std::string& file, std::ostream& out, std::ostream& err);

// Checks every file and returns the exit code: 0 when all are valid, 1 when any has an error
// or no file is given.
int CheckRules(const std::vector<std::string>& files, std::ostream& out, std::ostream& err);

}  // namespace alertd::rules
