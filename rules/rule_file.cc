#include "rules/rule_file.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <string_view>
#include <tuple>

#include "common/duration.h"
#include "common/labels.h"
#include "engine/promql/parser.h"
#include "rules/template.h"
#include "rules/yaml_util.h"

namespace alertd::rules {
namespace {

using yaml::Entry;
using yaml::Position;

const yaml::Schema kFileSchema{"rule file", {"groups"}, {}, {}};
// query_offset and labels are group fields of later Prometheus versions.
const yaml::Schema kGroupSchema{
    "group", {"name", "interval", "limit", "query_offset", "rules"}, {"labels"}, {}};
const yaml::Schema kRuleSchema{
    "rule", {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}, {}, {}};

std::string Quote(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

// A problem found before the rule's or group's name is known.
struct PendingError {
  Position position;
  std::string message;
};

// The fields of one rule as read, before they are moved into a Rule.
struct RuleFields {
  yaml::Fields entries;
  std::string alert;
  std::string record;
  std::vector<yaml::StringItem> labels;
  std::vector<yaml::StringItem> annotations;

  const Entry* Find(std::string_view key) const { return entries.Find(key); }
};

class Loader {
 public:
  Loader(const std::string& text, const std::string& path)
      : text_(text), source_(text), path_(path) {}

  RuleFile Load();

  std::vector<RuleError>& errors() { return errors_; }

 private:
  void Report(Position position,
              std::string message,
              const std::string& group = "",
              int rule_index = 0,
              const std::string& rule = "") {
    errors_.push_back(RuleError{
        path_, position.line, position.column, group, rule_index, rule, std::move(message)});
  }

  std::optional<RuleGroup> LoadGroup(const YAML::Node& node);
  std::optional<Rule> LoadRule(const YAML::Node& node, const std::string& group, int index);
  // Reads alert and record into `fields` and sets the rule's name and kind.
  void ReadRuleName(RuleFields& fields,
                    bool is_map,
                    Position position,
                    Rule& rule,
                    std::vector<PendingError>& errors);
  void ReadRuleExpr(const RuleFields& fields,
                    bool is_map,
                    Position position,
                    Rule& rule,
                    std::vector<PendingError>& errors);
  void ValidateRecordingRule(const RuleFields& fields,
                             const Rule& rule,
                             std::vector<PendingError>& errors);
  void ValidateExpr(const Entry& entry, Rule& rule, std::vector<PendingError>& errors);
  // `alert` is empty for recording rules, whose labels are not templates.
  void ValidateLabels(const std::vector<yaml::StringItem>& labels,
                      const std::string& alert,
                      std::vector<PendingError>& errors);
  void ValidateAnnotations(const std::vector<yaml::StringItem>& annotations,
                           const std::string& alert,
                           std::vector<PendingError>& errors);
  void ValidateTemplate(const yaml::StringItem& item,
                        const std::string& kind,
                        const std::string& alert,
                        std::vector<PendingError>& errors);

  const std::string& text_;
  yaml::SourceLines source_;
  const std::string& path_;
  std::vector<RuleError> errors_;
};

yaml::ErrorSink Collect(std::vector<PendingError>& errors) {
  return [&errors](Position position, std::string message) {
    errors.push_back(PendingError{position, std::move(message)});
  };
}

RuleFile Loader::Load() {
  RuleFile file;
  file.path = path_;
  Result<YAML::Node> root = yaml::ParseDocument(text_);
  if (!root.ok()) {
    Report({root.error().line(), root.error().column()}, root.error().message());
    return file;
  }
  auto report = [this](Position position, std::string message) {
    Report(position, std::move(message));
  };
  yaml::Fields fields = yaml::ReadMapping(*root, kFileSchema, report);
  const Entry* groups = fields.Find("groups");
  if (groups == nullptr || groups->value.IsNull()) {
    return file;
  }
  if (!groups->value.IsSequence()) {
    Report(groups->value_position(),
           "groups must be a list of rule groups, got " + yaml::KindName(groups->value));
    return file;
  }
  for (const YAML::Node& node : groups->value) {
    std::optional<RuleGroup> group = LoadGroup(node);
    if (!group) {
      continue;
    }
    auto previous = std::find_if(file.groups.begin(), file.groups.end(), [&](const RuleGroup& g) {
      return g.name == group->name;
    });
    if (!group->name.empty() && previous != file.groups.end()) {
      Report({group->line, group->column},
             "group name " + Quote(group->name) + " is already used by the group at line " +
                 std::to_string(previous->line) + "; group names must be unique within a file");
    }
    file.groups.push_back(std::move(*group));
  }
  return file;
}

std::optional<RuleGroup> Loader::LoadGroup(const YAML::Node& node) {
  RuleGroup group;
  Position position = yaml::PositionOfEmpty(source_, node);
  group.line = position.line;
  group.column = position.column;
  std::vector<PendingError> pending;
  yaml::Fields fields = yaml::ReadMapping(node, kGroupSchema, Collect(pending));
  if (!node.IsMap()) {
    if (node.IsNull()) {
      pending.push_back({position, "group is empty; a group needs a name and rules"});
    }
    for (PendingError& error : pending) {
      Report(error.position, std::move(error.message));
    }
    return std::nullopt;
  }

  if (const Entry* name = fields.Find("name")) {
    group.name = yaml::ReadString(*name, Collect(pending)).value_or("");
  }
  // Errors are reported with the group's name, known from here on.
  for (PendingError& error : pending) {
    Report(error.position, std::move(error.message), group.name);
  }
  pending.clear();
  auto report = [&](Position p, std::string message) {
    Report(p, std::move(message), group.name);
  };

  if (group.name.empty()) {
    const Entry* name = fields.Find("name");
    Report(name != nullptr ? name->value_position() : position,
           "group name is empty; set name to a name unique within the file");
  }
  if (const Entry* interval = fields.Find("interval")) {
    std::optional<Duration> value = yaml::ReadDuration(*interval, report);
    if (value && value->count() > 0) {
      group.interval = *value;
    }
  }
  if (const Entry* offset = fields.Find("query_offset")) {
    // Prometheus's model.Duration cannot be negative, so only the syntax is checked here.
    std::optional<Duration> value = yaml::ReadDuration(*offset, report);
    if (value) {
      group.query_offset = *value;
    }
  }
  if (const Entry* limit = fields.Find("limit")) {
    std::optional<int64_t> value = yaml::ReadInt(*limit, report);
    if (value &&
        (*value < std::numeric_limits<int>::min() || *value > std::numeric_limits<int>::max())) {
      report(limit->value_position(), "limit " + std::to_string(*value) + " is out of range");
    } else if (value) {
      group.limit = static_cast<int>(*value);
    }
  }
  const Entry* rules = fields.Find("rules");
  if (rules == nullptr || rules->value.IsNull()) {
    return group;
  }
  if (!rules->value.IsSequence()) {
    report(rules->value_position(),
           "rules must be a list of rules, got " + yaml::KindName(rules->value));
    return group;
  }
  int index = 0;
  for (const YAML::Node& rule_node : rules->value) {
    ++index;
    std::optional<Rule> rule = LoadRule(rule_node, group.name, index);
    if (rule) {
      group.rules.push_back(std::move(*rule));
    }
  }
  return group;
}

std::optional<Rule> Loader::LoadRule(const YAML::Node& node, const std::string& group, int index) {
  Rule rule;
  Position position = yaml::PositionOfEmpty(source_, node);
  rule.line = position.line;
  rule.column = position.column;
  std::vector<PendingError> pending;
  yaml::ErrorSink collect = Collect(pending);
  RuleFields fields;
  fields.entries = yaml::ReadMapping(node, kRuleSchema, collect);
  if (node.IsNull()) {
    pending.push_back({position, "rule is empty; set alert or record, and expr"});
  }
  ReadRuleName(fields, node.IsMap(), position, rule, pending);
  ReadRuleExpr(fields, node.IsMap(), position, rule, pending);

  if (const Entry* entry = fields.Find("for")) {
    rule.for_ = yaml::ReadDuration(*entry, collect).value_or(Duration(0));
  }
  if (const Entry* entry = fields.Find("keep_firing_for")) {
    rule.keep_firing_for = yaml::ReadDuration(*entry, collect).value_or(Duration(0));
  }
  if (const Entry* entry = fields.Find("labels")) {
    fields.labels = yaml::ReadStringMap(*entry, collect);
  }
  if (const Entry* entry = fields.Find("annotations")) {
    fields.annotations = yaml::ReadStringMap(*entry, collect);
  }
  if (!fields.record.empty() && fields.alert.empty()) {
    ValidateRecordingRule(fields, rule, pending);
  }
  ValidateLabels(fields.labels, fields.alert, pending);
  ValidateAnnotations(fields.annotations, fields.alert, pending);

  for (yaml::StringItem& label : fields.labels) {
    rule.labels.emplace_back(std::move(label.key), std::move(label.value));
  }
  for (yaml::StringItem& annotation : fields.annotations) {
    rule.annotations.emplace_back(std::move(annotation.key), std::move(annotation.value));
  }
  for (PendingError& error : pending) {
    Report(error.position, std::move(error.message), group, index, rule.name);
  }
  if (!node.IsMap()) {
    return std::nullopt;
  }
  return rule;
}

void Loader::ReadRuleName(RuleFields& fields,
                          bool is_map,
                          Position position,
                          Rule& rule,
                          std::vector<PendingError>& errors) {
  yaml::ErrorSink collect = Collect(errors);
  const Entry* alert = fields.Find("alert");
  if (alert != nullptr) {
    fields.alert = yaml::ReadString(*alert, collect).value_or("");
  }
  if (const Entry* record = fields.Find("record")) {
    fields.record = yaml::ReadString(*record, collect).value_or("");
  }
  rule.is_alert = !fields.alert.empty();
  rule.name = rule.is_alert ? fields.alert : fields.record;
  if (rule.is_alert && !yaml::IsValidUtf8(fields.alert)) {
    errors.push_back({alert->value_position(), "alert name is not valid UTF-8"});
  }
  if (!is_map) {
    return;
  }
  if (!fields.alert.empty() && !fields.record.empty()) {
    errors.push_back({alert->key_position(),
                      "rule sets both alert " + Quote(fields.alert) + " and record " +
                          Quote(fields.record) +
                          "; an alerting rule has alert and a recording rule has record"});
  } else if (fields.alert.empty() && fields.record.empty()) {
    errors.push_back({position,
                      "rule has neither alert nor record; set alert for an alerting rule or "
                      "record for a recording rule"});
  }
}

void Loader::ReadRuleExpr(const RuleFields& fields,
                          bool is_map,
                          Position position,
                          Rule& rule,
                          std::vector<PendingError>& errors) {
  const Entry* expr = fields.Find("expr");
  if (expr != nullptr) {
    rule.expr = yaml::ReadString(*expr, Collect(errors)).value_or("");
    yaml::ScalarLocator locator(source_, expr->value);
    Position start = expr->value.IsScalar() ? locator.Start() : expr->value_position();
    rule.expr_line = start.line;
    rule.expr_column = start.column;
  }
  if (!is_map) {
    return;
  }
  if (expr == nullptr) {
    errors.push_back({position, "rule has no expr; set expr to a PromQL expression"});
  } else if (rule.expr.empty() && (expr->value.IsNull() || expr->value.IsScalar())) {
    errors.push_back({expr->value_position(), "expr is empty; set it to a PromQL expression"});
  } else if (!rule.expr.empty()) {
    ValidateExpr(*expr, rule, errors);
  }
}

// The checks of recording rules in Prometheus 2.42's Rule.Validate, in its order.
void Loader::ValidateRecordingRule(const RuleFields& fields,
                                   const Rule& rule,
                                   std::vector<PendingError>& errors) {
  if (!fields.annotations.empty()) {
    errors.push_back({fields.Find("annotations")->key_position(),
                      "recording rule cannot have annotations; only alerting rules have "
                      "them, so remove annotations or change record to alert"});
  }
  if (rule.for_.count() != 0) {
    errors.push_back({fields.Find("for")->key_position(),
                      "recording rule cannot have for; only alerting rules wait before "
                      "firing, so remove for or change record to alert"});
  }
  if (rule.keep_firing_for.count() != 0) {
    errors.push_back({fields.Find("keep_firing_for")->key_position(),
                      "recording rule cannot have keep_firing_for; only alerting rules "
                      "keep firing, so remove keep_firing_for or change record to alert"});
  }
  if (!IsValidMetricName(fields.record)) {
    std::string message = "invalid recording rule name " + Quote(fields.record) +
                          ": a metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*";
    if (fields.record.find_first_of("{}") != std::string::npos) {
      message += "; set labels under labels, not in the name";
    }
    errors.push_back({fields.Find("record")->value_position(), message});
  }
}

void Loader::ValidateExpr(const Entry& entry, Rule& rule, std::vector<PendingError>& errors) {
  yaml::ScalarLocator locator(source_, entry.value);
  Result<promql::ExprPtr> parsed = promql::ParseExpr(rule.expr);
  if (!parsed.ok()) {
    errors.push_back({locator.Locate(parsed.error().line(), parsed.error().column()),
                      "invalid expression: " + parsed.error().message()});
    return;
  }
  promql::ValueType type = promql::TypeOf(**parsed);
  if (type != promql::ValueType::kVector && type != promql::ValueType::kScalar) {
    errors.push_back({locator.Start(),
                      std::string("expression must return an instant vector "
                                  "or a scalar, but it returns a ") +
                          promql::ValueTypeName(type)});
    return;
  }
  rule.parsed = *parsed;
}

void Loader::ValidateLabels(const std::vector<yaml::StringItem>& labels,
                            const std::string& alert,
                            std::vector<PendingError>& errors) {
  for (const yaml::StringItem& label : labels) {
    if (label.key == kMetricName) {
      errors.push_back({label.key_position,
                        "label name \"__name__\" is reserved; a recording rule sets the metric "
                        "name with record"});
    } else if (!IsValidLabelName(label.key)) {
      errors.push_back({label.key_position,
                        "invalid label name " + Quote(label.key) +
                            ": label names must match [a-zA-Z_][a-zA-Z0-9_]*"});
    }
    if (!yaml::IsValidUtf8(label.value)) {
      errors.push_back(
          {label.value_position, "value of label " + Quote(label.key) + " is not valid UTF-8"});
    } else if (!alert.empty()) {
      ValidateTemplate(label, "label", alert, errors);
    }
  }
}

void Loader::ValidateAnnotations(const std::vector<yaml::StringItem>& annotations,
                                 const std::string& alert,
                                 std::vector<PendingError>& errors) {
  for (const yaml::StringItem& annotation : annotations) {
    if (!IsValidLabelName(annotation.key)) {
      errors.push_back({annotation.key_position,
                        "invalid annotation name " + Quote(annotation.key) +
                            ": annotation names must match [a-zA-Z_][a-zA-Z0-9_]*"});
    }
    if (!alert.empty()) {
      ValidateTemplate(annotation, "annotation", alert, errors);
    }
  }
}

void Loader::ValidateTemplate(const yaml::StringItem& item,
                              const std::string& kind,
                              const std::string& alert,
                              std::vector<PendingError>& errors) {
  Status status = CheckAlertTemplate(item.value, "__alert_" + alert);
  if (status.ok()) {
    return;
  }
  // Go's "template: NAME:LINE: " prefix repeats what the file position already shows.
  std::string message = status.error().message();
  std::string prefix = "template: __alert_" + alert + ":";
  if (message.starts_with(prefix)) {
    size_t end = message.find(": ", prefix.size());
    if (end != std::string::npos) {
      message = message.substr(end + 2);
    }
  }
  yaml::ScalarLocator locator(source_, item.value_node);
  errors.push_back({locator.Locate(status.error().line(), status.error().column()),
                    kind + " " + Quote(item.key) + ": invalid template: " + message});
}

}  // namespace

size_t RuleFile::RuleCount() const {
  size_t count = 0;
  for (const RuleGroup& group : groups) {
    count += group.rules.size();
  }
  return count;
}

std::string RuleError::ToString() const {
  std::string out;
  if (!file.empty()) {
    out += file;
    if (line > 0) {
      out += ":" + std::to_string(line) + ":" + std::to_string(column);
    }
    out += ": ";
  } else if (line > 0) {
    out += std::to_string(line) + ":" + std::to_string(column) + ": ";
  }
  if (!rule.empty()) {
    out += "rule " + Quote(rule) + ": ";
  } else if (rule_index > 0 && !group.empty()) {
    out += "group " + Quote(group) + ", rule " + std::to_string(rule_index) + ": ";
  } else if (rule_index > 0) {
    out += "rule " + std::to_string(rule_index) + ": ";
  } else if (!group.empty()) {
    out += "group " + Quote(group) + ": ";
  }
  return out + message;
}

namespace {

// Returns an error at the first line of `text` longer than `max_line_length` bytes, if any.
std::optional<RuleError> CheckLineLengths(std::string_view text,
                                          const std::string& path,
                                          uint64_t max_line_length) {
  if (max_line_length == 0) {
    return std::nullopt;
  }
  int line_number = 1;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (line.size() > max_line_length) {
      RuleError error;
      error.file = path;
      error.line = line_number;
      error.column = static_cast<int>(
          std::min<uint64_t>(max_line_length + 1, std::numeric_limits<int>::max()));
      error.message = "line is " + std::to_string(line.size()) +
                      " bytes, more than limits.max_line_length (" +
                      std::to_string(max_line_length) +
                      " bytes); split the line or raise limits.max_line_length";
      return error;
    }
    if (end == std::string_view::npos) {
      break;
    }
    text.remove_prefix(end + 1);
    ++line_number;
  }
  return std::nullopt;
}

}  // namespace

Result<RuleFile> ParseRuleFile(const std::string& text,
                               const std::string& path,
                               std::vector<RuleError>* errors,
                               uint64_t max_line_length) {
  if (std::optional<RuleError> too_long = CheckLineLengths(text, path, max_line_length)) {
    if (errors != nullptr) {
      errors->push_back(*too_long);
    }
    return Error::Invalid(too_long->ToString(), too_long->line, too_long->column);
  }
  Loader loader(text, path);
  RuleFile file = loader.Load();
  std::vector<RuleError>& found = loader.errors();
  std::stable_sort(found.begin(), found.end(), [](const RuleError& a, const RuleError& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  if (errors != nullptr) {
    errors->insert(errors->end(), found.begin(), found.end());
  }
  if (found.empty()) {
    return file;
  }
  std::string message = found.front().ToString();
  if (found.size() > 1) {
    size_t more = found.size() - 1;
    message += " (and " + std::to_string(more) + (more == 1 ? " more error)" : " more errors)");
  }
  return Error::Invalid(message, found.front().line, found.front().column);
}

Result<RuleFile> LoadRuleFile(const std::string& path,
                              std::vector<RuleError>* errors,
                              uint64_t max_line_length) {
  Result<std::string> text = yaml::ReadTextFile(path);
  if (!text.ok()) {
    RuleError error{path, 0, 0, "", 0, "", "cannot read rule file: " + text.error().message()};
    if (errors != nullptr) {
      errors->push_back(error);
    }
    return Error::Io(error.ToString());
  }
  return ParseRuleFile(*text, path, errors, max_line_length);
}

}  // namespace alertd::rules
