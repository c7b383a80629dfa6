#include "rules/check.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

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

std::string DuplicateMessage(const DuplicateRule& duplicate) {
  return "duplicate rule \"" + duplicate.name + "\" with " + FormatLabels(duplicate.labels) +
         ": also defined at " + FormatLines(duplicate.rules) +
         "; rules with the same name and labels produce conflicting series, so give each a "
         "unique name or label set";
}

// The warning is reported at the second rule of the set.
RuleError DuplicateWarning(const RuleFile& file,
                           const std::string& name,
                           const DuplicateRule& duplicate) {
  const Rule& at = *duplicate.rules[1];
  RuleError warning;
  warning.file = name;
  warning.line = at.line;
  warning.column = at.column;
  warning.rule = duplicate.name;
  warning.message = DuplicateMessage(duplicate);
  for (const RuleGroup& group : file.groups) {
    for (size_t i = 0; i < group.rules.size(); ++i) {
      if (&group.rules[i] == &at) {
        warning.group = group.name;
        warning.rule_index = static_cast<int>(i) + 1;
      }
    }
  }
  return warning;
}

FileCheck FromParse(Result<RuleFile> parsed,
                    std::vector<RuleError> errors,
                    const std::string& name,
                    LintMode lint) {
  FileCheck check;
  check.file = name;
  if (!parsed.ok()) {
    if (errors.empty()) {
      RuleError error;
      error.file = name;
      error.line = parsed.error().line();
      error.column = parsed.error().column();
      error.message = parsed.error().message();
      errors.push_back(std::move(error));
    }
    check.errors = std::move(errors);
    return check;
  }
  check.valid = true;
  check.rule_count = parsed->RuleCount();
  if (lint == LintMode::kDuplicateRules) {
    for (const DuplicateRule& duplicate : FindDuplicateRules(*parsed)) {
      check.warnings.push_back(DuplicateWarning(*parsed, name, duplicate));
    }
  }
  return check;
}

void PrintText(const FileCheck& check, std::ostream& out, std::ostream& err) {
  for (const RuleError& error : check.errors) {
    err << error.ToString() << "\n";
  }
  for (const RuleError& warning : check.warnings) {
    err << warning.file << ":" << warning.line << ":" << warning.column
        << ": warning: " << warning.message << "\n";
  }
  if (check.valid) {
    out << check.file << ": " << check.rule_count << " rules found\n";
  }
}

nlohmann::ordered_json ToJson(const std::vector<RuleError>& errors) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const RuleError& error : errors) {
    list.push_back({{"line", error.line},
                    {"column", error.column},
                    {"group", error.group},
                    {"rule", error.rule},
                    {"message", error.message}});
  }
  return list;
}

void PrintJson(const FileCheck& check, std::ostream& out) {
  nlohmann::ordered_json object = {{"file", check.file},
                                   {"rules", check.rule_count},
                                   {"errors", ToJson(check.errors)},
                                   {"warnings", ToJson(check.warnings)}};
  // Replace invalid UTF-8 from the file rather than throw.
  out << object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
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

Result<LintMode> ParseLintMode(const std::string& text) {
  if (text == "duplicate-rules" || text == "all") {
    return LintMode::kDuplicateRules;
  }
  if (text == "none") {
    return LintMode::kNone;
  }
  return Error::Invalid("unknown lint check \"" + text +
                        "\"; use one of all, duplicate-rules, none");
}

FileCheck CheckRuleText(const std::string& text, const std::string& name, LintMode lint) {
  std::vector<RuleError> errors;
  Result<RuleFile> parsed = ParseRuleFile(text, name, &errors);
  return FromParse(std::move(parsed), std::move(errors), name, lint);
}

FileCheck CheckRulePath(const std::string& path, LintMode lint, std::istream& in) {
  if (path == "-") {
    std::string text(std::istreambuf_iterator<char>(in), {});
    return CheckRuleText(text, kStdinName, lint);
  }
  std::vector<RuleError> errors;
  Result<RuleFile> parsed = LoadRuleFile(path, &errors);
  return FromParse(std::move(parsed), std::move(errors), path, lint);
}

bool CheckRuleFile(const std::string& file,
                   std::ostream& out,
                   std::ostream& err,
                   uint64_t max_line_length,
                   size_t* rule_count) {
  std::vector<RuleError> errors;
  Result<RuleFile> parsed = LoadRuleFile(file, &errors, max_line_length);
  FileCheck check =
      FromParse(std::move(parsed), std::move(errors), file, LintMode::kDuplicateRules);
  PrintText(check, out, err);
  if (check.valid && rule_count != nullptr) {
    *rule_count += check.rule_count;
  }
  return check.valid;
}

int CheckRules(const std::vector<std::string>& files, std::ostream& out, std::ostream& err) {
  std::istringstream no_input;
  return CheckRules(files, CheckRulesOptions{}, no_input, out, err);
}

int CheckRules(const std::vector<std::string>& files,
               const CheckRulesOptions& options,
               std::istream& in,
               std::ostream& out,
               std::ostream& err) {
  if (files.empty()) {
    err << "no rule files given; pass one or more rule file paths\n";
    return 1;
  }
  bool ok = true;
  bool linted = false;
  for (const std::string& file : files) {
    FileCheck check = CheckRulePath(file, options.lint, in);
    if (options.format == CheckFormat::kJson) {
      PrintJson(check, out);
    } else {
      PrintText(check, out, err);
    }
    ok = check.valid && ok;
    linted = linted || !check.warnings.empty();
  }
  if (!ok) {
    return 1;
  }
  return options.lint_fatal && linted ? kLintExitCode : 0;
}

}  // namespace alertd::rules
