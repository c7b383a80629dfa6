#include "rules/check.h"

#include <algorithm>
#include <map>

#include "common/labels.h"

namespace alertd::rules {
namespace {

std::string FormatLabels(const std::vector<std::pair<std::string, std::string>>& labels) {
  if (labels.empty()) {
    return "no labels";
  }
  std::vector<Label> items;
  for (const auto& [name, value] : labels) {
    items.push_back(Label{name, value});
  }
  return "labels " + Labels(std::move(items)).ToString();
}

std::string FormatLines(const std::vector<const Rule*>& rules) {
  // Every rule but the one the warning is reported at, which is the second.
  std::vector<int> lines;
  for (size_t i = 0; i < rules.size(); ++i) {
    if (i != 1) {
      lines.push_back(rules[i]->line);
    }
  }
  std::string out = lines.size() == 1 ? "line " : "lines ";
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      out += i + 1 == lines.size() ? " and " : ", ";
    }
    out += std::to_string(lines[i]);
  }
  return out;
}

void PrintDuplicate(const std::string& file, const DuplicateRule& duplicate, std::ostream& err) {
  const Rule& at = *duplicate.rules[1];
  err << file << ":" << at.line << ":" << at.column << ": warning: duplicate rule \""
      << duplicate.name << "\" with " << FormatLabels(duplicate.labels) << ": also defined at "
      << FormatLines(duplicate.rules)
      << "; rules with the same name and labels produce conflicting series, so give each a "
         "unique name or label set\n";
}

}  // namespace

std::vector<DuplicateRule> FindDuplicateRules(const RuleFile& file) {
  using Key = std::pair<std::string, std::vector<std::pair<std::string, std::string>>>;
  std::map<Key, std::vector<const Rule*>> by_key;
  for (const RuleGroup& group : file.groups) {
    for (const Rule& rule : group.rules) {
      Key key{rule.name, rule.labels};
      std::sort(key.second.begin(), key.second.end());
      by_key[std::move(key)].push_back(&rule);
    }
  }
  std::vector<DuplicateRule> duplicates;
  for (auto& [key, rules] : by_key) {
    if (rules.size() > 1) {
      duplicates.push_back(DuplicateRule{key.first, key.second, rules});
    }
  }
  std::sort(duplicates.begin(), duplicates.end(), [](const auto& a, const auto& b) {
    return std::tie(a.rules[0]->line, a.rules[0]->column) <
           std::tie(b.rules[0]->line, b.rules[0]->column);
  });
  return duplicates;
}

bool CheckRuleFile(const std::string& file, std::ostream& out, std::ostream& err) {
  std::vector<RuleError> errors;
  Result<RuleFile> rules = LoadRuleFile(file, &errors);
  if (!rules.ok()) {
    for (const RuleError& error : errors) {
      err << error.ToString() << "\n";
    }
    return false;
  }
  for (const DuplicateRule& duplicate : FindDuplicateRules(*rules)) {
    PrintDuplicate(file, duplicate, err);
  }
  out << file << ": " << rules->RuleCount() << " rules found\n";
  return true;
}

int CheckRules(const std::vector<std::string>& files, std::ostream& out, std::ostream& err) {
  if (files.empty()) {
    err << "no rule files given; pass one or more rule file paths\n";
    return 1;
  }
  bool ok = true;
  for (const std::string& file : files) {
    ok = CheckRuleFile(file, out, err) && ok;
  }
  return ok ? 0 : 1;
}

}  // namespace alertd::rules
