// Prometheus rule files: the model and its loader. The format and its checks are those of
// Prometheus 2.42's model/rulefmt: a `groups` list of {name, interval, limit, rules}, each rule
// an alerting rule (alert) or a recording rule (record) with expr, for, keep_firing_for,
// labels and annotations. Unknown fields are errors, as with Prometheus's strict YAML decoding.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "engine/promql/ast.h"

namespace alertd::rules {

struct Rule {
  std::string name;  // the alert name for alerting rules, the metric name for recording rules
  bool is_alert = false;
  std::string expr;
  promql::ExprPtr parsed;  // the parsed expr; set on every rule of a file that loaded
  Duration for_{0};
  Duration keep_firing_for{0};
  // In file order. Label and annotation values of alerting rules are templates.
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<std::pair<std::string, std::string>> annotations;
  int line = 0;  // position of the rule in its file, 1-based
  int column = 0;
  int expr_line = 0;  // position of the first character of the expression text
  int expr_column = 0;
};

struct RuleGroup {
  std::string name;
  std::optional<Duration> interval;  // absent or 0s in the file: the global interval
  int limit = 0;                     // 0: no limit on the series a rule may produce
  // Prometheus 2.53's query_offset: queries run this much before the evaluation time. Absent:
  // the configuration's rule_query_offset. Prometheus 2.42 rejects the field.
  std::optional<Duration> query_offset;
  std::vector<Rule> rules;
  int line = 0;
  int column = 0;
};

struct RuleFile {
  std::string path;
  std::vector<RuleGroup> groups;

  // Total number of rules over all groups.
  size_t RuleCount() const;
};

// One problem in a rule file.
struct RuleError {
  std::string file;
  int line = 0;  // 0 when unknown
  int column = 0;
  std::string group;   // empty when not inside a group
  int rule_index = 0;  // 1-based within the group; 0 when not about a rule
  std::string rule;    // the rule's alert or record name; empty when unknown
  std::string message;

  // `FILE:LINE:COL: rule "NAME": message`. About a rule without a name:
  // `FILE:LINE:COL: group "G", rule N: message`; about a group: `FILE:LINE:COL: group "G":
  // message`. Unknown parts are omitted.
  std::string ToString() const;
};

// Default of limits.max_line_length in alertd.yml: bytes of one rule file line.
inline constexpr uint64_t kDefaultMaxLineLength = 1 << 20;

// Parses and validates rule file text; `path` names the file in errors. Every problem found is
// appended to `errors` (which may be null), sorted by position. On any problem the result is
// an error carrying the first problem's text and position. A line longer than
// `max_line_length` bytes (0: no limit) is an error at that line, and the text is then not
// parsed.
Result<RuleFile> ParseRuleFile(const std::string& text,
                               const std::string& path,
                               std::vector<RuleError>* errors,
                               uint64_t max_line_length = kDefaultMaxLineLength);

// Reads and parses the rule file at `path`. A file that cannot be read is one error without a
// position.
Result<RuleFile> LoadRuleFile(const std::string& path,
                              std::vector<RuleError>* errors,
                              uint64_t max_line_length = kDefaultMaxLineLength);

}  // namespace alertd::rules
