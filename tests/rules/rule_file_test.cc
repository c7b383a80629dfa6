#include "rules/rule_file.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace alertd::rules {
namespace {

std::vector<std::string> ErrorStrings(const std::string& text) {
  std::vector<RuleError> errors;
  Result<RuleFile> file = ParseRuleFile(text, "rules.yml", &errors);
  EXPECT_EQ(file.ok(), errors.empty());
  std::vector<std::string> out;
  for (const RuleError& error : errors) {
    out.push_back(error.ToString());
  }
  return out;
}

RuleFile MustParse(const std::string& text) {
  std::vector<RuleError> errors;
  Result<RuleFile> file = ParseRuleFile(text, "rules.yml", &errors);
  for (const RuleError& error : errors) {
    ADD_FAILURE() << error.ToString();
  }
  if (!file.ok()) {
    return RuleFile{};
  }
  return *file;
}

struct BadCase {
  std::string name;
  std::string text;
  std::vector<std::string> errors;
};

class RuleFileBadInputTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(RuleFileBadInputTest, ReportsExactErrors) {
  EXPECT_EQ(ErrorStrings(GetParam().text), GetParam().errors);
}

const char kDurationHelp[] =
    ": use a number followed by a unit (ms, s, m, h, d, w, y), for example 30s or 1h30m";

INSTANTIATE_TEST_SUITE_P(
    Cases,
    RuleFileBadInputTest,
    ::testing::Values(
        BadCase{"InvalidYaml",
                "groups:\n  - name: a\n   rules: x\n",
                {"rules.yml:3:4: invalid YAML: end of sequence not found"}},
        BadCase{
            "TopLevelList", "- a\n", {"rules.yml:1:1: rule file must be a mapping, got a list"}},
        BadCase{"TopLevelTypo",
                "group:\n",
                {"rules.yml:1:1: unknown field \"group\" in rule file; did you mean \"groups\"?"}},
        BadCase{"GroupsNotAList",
                "groups: foo\n",
                {"rules.yml:1:9: groups must be a list of rule groups, got a string"}},
        BadCase{"GroupNotAMapping",
                "groups:\n  - foo\n",
                {"rules.yml:2:5: group must be a mapping, got a string"}},
        BadCase{"GroupNameEmpty",
                "groups:\n  - name: \"\"\n",
                {"rules.yml:2:11: group name is empty; set name to a name unique within the "
                 "file"}},
        BadCase{"GroupNameMissing",
                "groups:\n  - rules: []\n",
                {"rules.yml:2:5: group name is empty; set name to a name unique within the "
                 "file"}},
        BadCase{"DuplicateGroup",
                "groups:\n  - name: yolo\n  - name: yolo\n",
                {"rules.yml:3:5: group name \"yolo\" is already used by the group at line 2; "
                 "group names must be unique within a file"}},
        BadCase{"GroupFieldErrors",
                "groups:\n  - name: a\n    rule: []\n    labels: {}\n    interval: 5\n"
                "    limit: abc\n",
                {"rules.yml:3:5: group \"a\": unknown field \"rule\" in group; did you mean "
                 "\"rules\"?",
                 "rules.yml:4:5: group \"a\": field \"labels\" in group is not supported "
                 "yet by alertd; remove it",
                 std::string("rules.yml:5:15: group \"a\": invalid duration \"5\" in interval") +
                     kDurationHelp,
                 "rules.yml:6:12: group \"a\": invalid limit \"abc\": expected an integer"}},
        BadCase{"QueryOffsetNotADuration",
                "groups:\n  - name: a\n    query_offset: soon\n",
                {std::string("rules.yml:3:19: group \"a\": invalid duration \"soon\" in "
                             "query_offset") +
                 kDurationHelp}},
        BadCase{"RulesNotAList",
                "groups:\n  - name: a\n    rules: x\n",
                {"rules.yml:3:12: group \"a\": rules must be a list of rules, got a string"}},
        BadCase{"RuleNotAMapping",
                "groups:\n  - name: a\n    rules:\n      - x\n",
                {"rules.yml:4:9: group \"a\", rule 1: rule must be a mapping, got a string"}},
        BadCase{"RuleEmpty",
                "groups:\n  - name: a\n    rules:\n      -\n",
                {"rules.yml:4:7: group \"a\", rule 1: rule is empty; set alert or record, and "
                 "expr"}},
        BadCase{"NeitherAlertNorRecord",
                "groups:\n  - name: yolo\n    rules:\n      - expr: 1\n",
                {"rules.yml:4:9: group \"yolo\", rule 1: rule has neither alert nor record; set "
                 "alert for an alerting rule or record for a recording rule"}},
        BadCase{"AlertAndRecord",
                "groups:\n  - name: yolo\n    rules:\n      - record: Hi\n        alert: Hello\n"
                "        expr: 1\n",
                {"rules.yml:5:9: rule \"Hello\": rule sets both alert \"Hello\" and record "
                 "\"Hi\"; an alerting rule has alert and a recording rule has record"}},
        BadCase{"ExprMissing",
                "groups:\n  - name: yolo\n    rules:\n      - record: ylo\n",
                {"rules.yml:4:9: rule \"ylo\": rule has no expr; set expr to a PromQL "
                 "expression"}},
        BadCase{"ExprEmptyString",
                "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: \"\"\n",
                {"rules.yml:5:15: rule \"A\": expr is empty; set it to a PromQL expression"}},
        BadCase{"ExprNull",
                "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr:\n",
                {"rules.yml:5:9: rule \"A\": expr is empty; set it to a PromQL expression"}},
        BadCase{"ExprList",
                "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: [up]\n",
                {"rules.yml:5:15: rule \"A\": expr must be a string, got a list"}},
        BadCase{"AlertNameList",
                "groups:\n  - name: g\n    rules:\n      - alert: [A]\n        expr: up\n",
                {"rules.yml:4:9: group \"g\", rule 1: rule has neither alert nor record; set "
                 "alert for an alerting rule or record for a recording rule",
                 "rules.yml:4:16: group \"g\", rule 1: alert must be a string, got a list"}},
        BadCase{"RecordWithFor",
                "groups:\n  - name: yolo\n    rules:\n      - record: Hello\n        expr: 1\n"
                "        for: 1m\n",
                {"rules.yml:6:9: rule \"Hello\": recording rule cannot have for; only alerting "
                 "rules wait before firing, so remove for or change record to alert"}},
        BadCase{"RecordWithKeepFiringFor",
                "groups:\n  - name: yolo\n    rules:\n      - record: Hello\n        expr: 1\n"
                "        keep_firing_for: 1m\n",
                {"rules.yml:6:9: rule \"Hello\": recording rule cannot have keep_firing_for; "
                 "only alerting rules keep firing, so remove keep_firing_for or change record "
                 "to alert"}},
        BadCase{"RecordWithAnnotations",
                "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: 1\n"
                "        annotations:\n          summary: x\n",
                {"rules.yml:6:9: rule \"r\": recording rule cannot have annotations; only "
                 "alerting rules have them, so remove annotations or change record to alert"}},
        BadCase{
            "RecordNameWithBraces",
            "groups:\n  - name: yolo\n    rules:\n      - record: strawberry{flavor=\"sweet\"}\n"
            "        expr: 1\n",
            {"rules.yml:4:17: rule \"strawberry{flavor=\"sweet\"}\": invalid recording rule "
             "name \"strawberry{flavor=\"sweet\"}\": a metric name must match "
             "[a-zA-Z_:][a-zA-Z0-9_:]*; set labels under labels, not in the name"}},
        BadCase{"RecordNameWithDash",
                "groups:\n  - name: g\n    rules:\n      - record: job-up\n        expr: 1\n",
                {"rules.yml:4:17: rule \"job-up\": invalid recording rule name \"job-up\": a "
                 "metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*"}},
        BadCase{"InvalidLabelName",
                "groups:\n  - name: yolo\n    rules:\n      - record: hola\n        expr: 1\n"
                "        labels:\n          ins-tance: localhost\n",
                {"rules.yml:7:11: rule \"hola\": invalid label name \"ins-tance\": label names "
                 "must match [a-zA-Z_][a-zA-Z0-9_]*"}},
        BadCase{"ReservedLabelName",
                "groups:\n  - name: yolo\n    rules:\n      - record: hola\n        expr: 1\n"
                "        labels:\n          __name__: anything\n",
                {"rules.yml:7:11: rule \"hola\": label name \"__name__\" is reserved; a "
                 "recording rule sets the metric name with record"}},
        BadCase{"InvalidAnnotationName",
                "groups:\n  - name: yolo\n    rules:\n      - alert: hola\n        expr: 1\n"
                "        annotations:\n          ins-tance: localhost\n",
                {"rules.yml:7:11: rule \"hola\": invalid annotation name \"ins-tance\": "
                 "annotation names must match [a-zA-Z_][a-zA-Z0-9_]*"}},
        BadCase{"UnknownRuleFieldSuggestion",
                "groups:\n  - name: yolo\n    rules:\n      - alert: hola\n        expr: 1\n"
                "        annotation:\n          summary: x\n",
                {"rules.yml:6:9: rule \"hola\": unknown field \"annotation\" in rule; did you "
                 "mean \"annotations\"?"}},
        BadCase{"UnknownRuleFieldList",
                "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: 1\n"
                "        severity: page\n",
                {"rules.yml:6:9: rule \"A\": unknown field \"severity\" in rule; valid fields "
                 "are: alert, record, expr, for, keep_firing_for, labels, annotations"}},
        BadCase{"InvalidForDuration",
                "groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: up == 0\n"
                "        for: 5\n",
                {std::string("rules.yml:6:14: rule \"X\": invalid duration \"5\" in for") +
                 kDurationHelp}},
        BadCase{"ForAsMapping",
                "groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: up\n"
                "        for: {a: b}\n",
                {"rules.yml:6:14: rule \"X\": for must be a duration such as 30s, got a "
                 "mapping"}},
        BadCase{"DuplicateRuleField",
                "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
                "        expr: down\n",
                {"rules.yml:6:9: rule \"A\": duplicate field \"expr\" in rule; it is already "
                 "set at line 5"}},
        BadCase{"DuplicateLabelName",
                "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
                "        labels:\n          a: 1\n          a: 2\n",
                {"rules.yml:8:11: rule \"A\": duplicate name \"a\" in labels; it is already set "
                 "at line 7"}},
        BadCase{"LabelsNotAMapping",
                "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
                "        labels: [a]\n",
                {"rules.yml:6:17: rule \"A\": labels must be a mapping of names to strings, got "
                 "a list"}},
        BadCase{"LabelValueMapping",
                "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
                "        labels:\n          b: {c: d}\n",
                {"rules.yml:7:14: rule \"A\": value of \"b\" in labels must be a string, got a "
                 "mapping"}},
        BadCase{
            "ExprTypeErrorPlain",
            "groups:\n  - name: yolo\n    rules:\n      - record: yolo\n        expr: rate(hi)\n",
            {"rules.yml:5:20: rule \"yolo\": invalid expression: expected type range vector in "
             "call to function \"rate\", got instant vector"}},
        BadCase{"ExprEndOfInputQuoted",
                "groups:\n  - name: g\n    rules:\n      - record: x\n        expr: 'test +'\n",
                {"rules.yml:5:22: rule \"x\": invalid expression: unexpected end of input"}},
        BadCase{"ExprErrorInLiteralBlock",
                "groups:\n  - name: g\n    rules:\n      - alert: Block\n        expr: |\n"
                "          sum(rate(x[5m]))\n            / sum(rate(y[5m])) by (job\n"
                "        for: 5m\n",
                {"rules.yml:7:39: rule \"Block\": invalid expression: unclosed left "
                 "parenthesis"}},
        BadCase{"ExprErrorInFoldedBlock",
                "groups:\n  - name: g\n    rules:\n      - alert: Folded\n        expr: >-\n"
                "          sum(rate(x[5m]))\n          / sum(rate(y[5m] by (job)\n",
                {"rules.yml:7:28: rule \"Folded\": invalid expression: unexpected <by> in "
                 "aggregation"}},
        BadCase{"ExprErrorInMultiLinePlain",
                "groups:\n  - name: g\n    rules:\n      - alert: Plain\n"
                "        expr: sum(rate(x[5m]))\n          / sum(rate(y[5m])) bx (job)\n",
                {"rules.yml:6:30: rule \"Plain\": invalid expression: unexpected identifier "
                 "\"bx\""}},
        BadCase{
            "ExprReturnsString",
            "groups:\n  - name: g\n    rules:\n      - record: str\n        expr: '\"hello\"'\n",
            {"rules.yml:5:16: rule \"str\": expression must return an instant vector or a "
             "scalar, but it returns a string"}},
        BadCase{"ExprReturnsRangeVector",
                "groups:\n  - name: g\n    rules:\n      - record: matrix\n        expr: up[5m]\n",
                {"rules.yml:5:15: rule \"matrix\": expression must return an instant vector or a "
                 "scalar, but it returns a range vector"}},
        BadCase{"LabelTemplateError",
                "groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: up\n"
                "        labels:\n          sev: \"{{ if }}\"\n",
                {"rules.yml:7:23: rule \"A\": label \"sev\": invalid template: missing value for "
                 "if"}},
        BadCase{"AnnotationTemplateErrorInBlock",
                "groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: up\n"
                "        annotations:\n          description: |\n            line one\n"
                "            {{ nope }}\n",
                {"rules.yml:9:16: rule \"A\": annotation \"description\": invalid template: "
                 "function \"nope\" not defined"}},
        BadCase{"AnnotationTemplateUnclosed",
                "groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: up\n"
                "        annotations:\n          summary: \"{{ .Foo \"\n",
                {"rules.yml:7:29: rule \"A\": annotation \"summary\": invalid template: unclosed "
                 "action"}},
        BadCase{"ManyErrorsSortedByPosition",
                "groups:\n  - name: g\n    rules:\n      - record: r\n        labels:\n"
                "          bad-name: x\n        for: 1m\n        expr: \"\"\n"
                "  - name: g\n",
                {"rules.yml:6:11: rule \"r\": invalid label name \"bad-name\": label names must "
                 "match [a-zA-Z_][a-zA-Z0-9_]*",
                 "rules.yml:7:9: rule \"r\": recording rule cannot have for; only alerting rules "
                 "wait before firing, so remove for or change record to alert",
                 "rules.yml:8:15: rule \"r\": expr is empty; set it to a PromQL expression",
                 "rules.yml:9:5: group name \"g\" is already used by the group at line 2; group "
                 "names must be unique within a file"}}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(RuleFileTest, EmptyInputsHaveNoGroups) {
  for (const char* text : {"", "# only a comment\n", "groups:\n", "groups: []\n"}) {
    RuleFile file = MustParse(text);
    EXPECT_TRUE(file.groups.empty()) << text;
  }
}

TEST(RuleFileTest, GroupWithoutRulesIsValid) {
  RuleFile file = MustParse("groups:\n  - name: empty\n");
  ASSERT_EQ(file.groups.size(), 1u);
  EXPECT_EQ(file.groups[0].name, "empty");
  EXPECT_TRUE(file.groups[0].rules.empty());
  EXPECT_EQ(file.RuleCount(), 0u);
}

TEST(RuleFileTest, LoadsQueryOffset) {
  RuleFile file =
      MustParse("groups:\n  - name: shifted\n    query_offset: 1m30s\n  - name: plain\n");
  ASSERT_EQ(file.groups.size(), 2u);
  ASSERT_TRUE(file.groups[0].query_offset.has_value());
  EXPECT_EQ(*file.groups[0].query_offset, Duration(90000));
  EXPECT_FALSE(file.groups[1].query_offset.has_value());
}

TEST(RuleFileTest, LoadsAlertingRuleFields) {
  RuleFile file = MustParse(
      "groups:\n"
      "  - name: api\n"
      "    interval: 30s\n"
      "    limit: 10\n"
      "    rules:\n"
      "      - alert: HighErrorRate\n"
      "        expr: |\n"
      "          rate(errors_total[5m])\n"
      "            > 0.05\n"
      "        for: 5m\n"
      "        keep_firing_for: 1m\n"
      "        labels:\n"
      "          severity: critical\n"
      "          team: api\n"
      "        annotations:\n"
      "          summary: High error rate\n"
      "          description: \"Error rate is {{ $value }}\"\n");
  ASSERT_EQ(file.groups.size(), 1u);
  const RuleGroup& group = file.groups[0];
  EXPECT_EQ(group.name, "api");
  ASSERT_TRUE(group.interval.has_value());
  EXPECT_EQ(*group.interval, Duration(30000));
  EXPECT_EQ(group.limit, 10);
  EXPECT_EQ(group.line, 2);
  EXPECT_EQ(group.column, 5);
  ASSERT_EQ(group.rules.size(), 1u);
  const Rule& rule = group.rules[0];
  EXPECT_EQ(rule.name, "HighErrorRate");
  EXPECT_TRUE(rule.is_alert);
  EXPECT_EQ(rule.expr, "rate(errors_total[5m])\n  > 0.05\n");
  EXPECT_EQ(rule.for_, Duration(300000));
  EXPECT_EQ(rule.keep_firing_for, Duration(60000));
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(rule.labels, (Pairs{{"severity", "critical"}, {"team", "api"}}));
  EXPECT_EQ(rule.annotations,
            (Pairs{{"summary", "High error rate"}, {"description", "Error rate is {{ $value }}"}}));
  EXPECT_EQ(rule.line, 6);
  EXPECT_EQ(rule.column, 9);
  EXPECT_EQ(rule.expr_line, 8);
  EXPECT_EQ(rule.expr_column, 11);
}

TEST(RuleFileTest, ValidRulesHaveParsedExpressions) {
  RuleFile file = MustParse(
      "groups:\n"
      "  - name: g\n"
      "    rules:\n"
      "      - alert: A\n"
      "        expr: up == 0\n"
      "      - record: s\n"
      "        expr: '1 + 2'\n");
  ASSERT_EQ(file.RuleCount(), 2u);
  for (const Rule& rule : file.groups[0].rules) {
    ASSERT_NE(rule.parsed, nullptr) << rule.name;
  }
  EXPECT_EQ(promql::TypeOf(*file.groups[0].rules[0].parsed), promql::ValueType::kVector);
  EXPECT_EQ(promql::TypeOf(*file.groups[0].rules[1].parsed), promql::ValueType::kScalar);
}

TEST(RuleFileTest, RecordingRuleLabelsAreNotTemplates) {
  RuleFile file = MustParse(
      "groups:\n"
      "  - name: g\n"
      "    rules:\n"
      "      - record: r\n"
      "        expr: up\n"
      "        labels:\n"
      "          x: \"{{\"\n");
  ASSERT_EQ(file.RuleCount(), 1u);
  EXPECT_EQ(file.groups[0].rules[0].labels[0].second, "{{");
}

TEST(RuleFileTest, LoadsRecordingRule) {
  RuleFile file = MustParse(
      "groups:\n"
      "  - name: rec\n"
      "    interval: 0s\n"
      "    rules:\n"
      "      - record: job:up:sum\n"
      "        expr: sum by (job) (up)\n"
      "        for: 0s\n"
      "        annotations: {}\n");
  ASSERT_EQ(file.groups.size(), 1u);
  EXPECT_FALSE(file.groups[0].interval.has_value());
  ASSERT_EQ(file.groups[0].rules.size(), 1u);
  const Rule& rule = file.groups[0].rules[0];
  EXPECT_EQ(rule.name, "job:up:sum");
  EXPECT_FALSE(rule.is_alert);
  EXPECT_EQ(rule.expr, "sum by (job) (up)");
  EXPECT_EQ(rule.expr_line, 6);
  EXPECT_EQ(rule.expr_column, 15);
}

TEST(RuleFileTest, ExprPositionOfQuotedScalarSkipsQuote) {
  RuleFile file = MustParse(
      "groups:\n"
      "  - name: g\n"
      "    rules:\n"
      "      - alert: A\n"
      "        expr: 'up == 0'\n");
  ASSERT_EQ(file.RuleCount(), 1u);
  EXPECT_EQ(file.groups[0].rules[0].expr_line, 5);
  EXPECT_EQ(file.groups[0].rules[0].expr_column, 16);
}

TEST(RuleFileTest, ErrorToStringOmitsUnknownParts) {
  EXPECT_EQ((RuleError{"f.yml", 3, 7, "g", 2, "A", "bad"}).ToString(),
            "f.yml:3:7: rule \"A\": bad");
  EXPECT_EQ((RuleError{"f.yml", 3, 7, "g", 2, "", "bad"}).ToString(),
            "f.yml:3:7: group \"g\", rule 2: bad");
  EXPECT_EQ((RuleError{"f.yml", 0, 0, "g", 0, "", "bad"}).ToString(), "f.yml: group \"g\": bad");
  EXPECT_EQ((RuleError{"f.yml", 0, 0, "", 0, "", "bad"}).ToString(), "f.yml: bad");
  EXPECT_EQ((RuleError{"", 2, 1, "", 0, "", "bad"}).ToString(), "2:1: bad");
}

TEST(RuleFileTest, ResultErrorCarriesFirstErrorAndCount) {
  Result<RuleFile> file =
      ParseRuleFile("groups:\n  - name: \"\"\n  - name: \"\"\n", "r.yml", nullptr);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().message(),
            "r.yml:2:11: group name is empty; set name to a name unique within the file (and 1 "
            "more error)");
  EXPECT_EQ(file.error().line(), 2);
  EXPECT_EQ(file.error().column(), 11);
}

TEST(RuleFileTest, RejectsLineOverMaxLineLength) {
  const std::string text =
      "groups:\n"
      "  - name: g\n"
      "    rules:\n"
      "      - record: a_very_long_recording_rule_name\n"
      "        expr: up\n";
  std::vector<RuleError> errors;
  Result<RuleFile> over = ParseRuleFile(text, "rules.yml", &errors, 40);
  ASSERT_FALSE(over.ok());
  const std::string want =
      "rules.yml:4:41: line is 47 bytes, more than limits.max_line_length (40 bytes); split the "
      "line or raise limits.max_line_length";
  EXPECT_EQ(over.error().message(), want);
  EXPECT_EQ(over.error().line(), 4);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].ToString(), want);

  Result<RuleFile> at_limit = ParseRuleFile(text, "rules.yml", nullptr, 47);
  EXPECT_TRUE(at_limit.ok()) << at_limit.error().message();
  Result<RuleFile> unlimited = ParseRuleFile(text, "rules.yml", nullptr, 0);
  EXPECT_TRUE(unlimited.ok()) << unlimited.error().message();
}

TEST(RuleFileTest, DefaultMaxLineLengthIsOneMebibyte) {
  std::string text = "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: " +
                     std::string((1 << 20) + 1, '1') + "\n";
  Result<RuleFile> file = ParseRuleFile(text, "rules.yml", nullptr);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().message(),
            "rules.yml:5:1048577: line is 1048591 bytes, more than limits.max_line_length "
            "(1048576 bytes); split the line or raise limits.max_line_length");
}

TEST(RuleFileTest, MissingFileIsOneErrorWithoutPosition) {
  std::vector<RuleError> errors;
  Result<RuleFile> file = LoadRuleFile("/nonexistent/rules.yml", &errors);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().code(), ErrorCode::kIo);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].ToString(),
            "/nonexistent/rules.yml: cannot read rule file: No such file or directory");
}

TEST(RuleFileTest, DirectoryIsNotARuleFile) {
  std::vector<RuleError> errors;
  Result<RuleFile> file = LoadRuleFile("/", &errors);
  ASSERT_FALSE(file.ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].ToString(), "/: cannot read rule file: Is a directory");
}

TEST(RuleFileTest, LoadsFileFromDisk) {
  std::string dir = ::testing::TempDir() + "rule_file_test_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::string path = dir + "/rules.yml";
  std::ofstream(path) << "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: 1\n";
  std::vector<RuleError> errors;
  Result<RuleFile> file = LoadRuleFile(path, &errors);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(file.ok()) << file.error().message();
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(file->path, path);
  EXPECT_EQ(file->RuleCount(), 1u);
}

TEST(RuleFileTest, DesignNotesRulesLoad) {
  std::vector<RuleError> errors;
  Result<RuleFile> file = LoadRuleFile(ALERTD_SOURCE_DIR "/examples/xcord/rules.yml", &errors);
  for (const RuleError& error : errors) {
    ADD_FAILURE() << error.ToString();
  }
  ASSERT_TRUE(file.ok());
  ASSERT_EQ(file->groups.size(), 1u);
  EXPECT_EQ(file->groups[0].name, "xcord-api");
  std::vector<std::string> names;
  for (const Rule& rule : file->groups[0].rules) {
    EXPECT_TRUE(rule.is_alert) << rule.name;
    names.push_back(rule.name);
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"HighErrorRate",
                                      "HighLatency",
                                      "DBConnectionPoolExhausted",
                                      "HighWebSocketConnections",
                                      "APIDown"}));
  const Rule& first = file->groups[0].rules[0];
  EXPECT_EQ(first.for_, Duration(300000));
  EXPECT_EQ(first.expr,
            "sum(rate(http_requests_total{status=~\"5..\"}[5m])) \n"
            "/ sum(rate(http_requests_total[5m])) > 0.05\n");
  EXPECT_EQ(first.expr_line, 8);
  EXPECT_EQ(first.expr_column, 11);
}

}  // namespace
}  // namespace alertd::rules
