#include "engine/promql/parser.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/promql/functions_table.h"
#include "engine/promql/printer.h"

namespace alertd::promql {
namespace {

struct ValidCase {
  const char* input;
  const char* formatted;  // Prometheus's String() of the parsed expression
};

const ValidCase kValidCases[] = {
    {"sum", "sum"},
    {"by", "by"},
    {"offset", "offset"},
    {"start", "start"},
    {"inf", "+Inf"},
    {"NaN", "NaN"},
    {"sum{a=\"b\"}", "sum{a=\"b\"}"},
    {"sum + 1", "sum + 1"},
    {"sum(rate(http_requests_total{status=~\"5..\"}[5m])) / sum(rate(http_requests_total[5m])) > "
     "0.05",
     "sum(rate(http_requests_total{status=~\"5..\"}[5m])) / sum(rate(http_requests_total[5m])) > "
     "0.05"},
    {"histogram_quantile(0.99, sum(rate(x_bucket[5m])) by (le)) > 1",
     "histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m]))) > 1"},
    {"db_connection_pool_size{state=\"idle\"} == 0",
     "db_connection_pool_size{state=\"idle\"} == 0"},
    {"up{job=\"x\"} == 0", "up{job=\"x\"} == 0"},
    {"-2^2", "-2 ^ 2"},
    {"-a*b", "-a * b"},
    {"2^3^2", "2 ^ 3 ^ 2"},
    {"a + b * c", "a + b * c"},
    {"a or b and c unless d", "a or b and c unless d"},
    {"a == bool 1", "a == bool 1"},
    {"1 + 2 * 3", "1 + 2 * 3"},
    {"0x1F + 1e3 + .5 + 1.", "31 + 1000 + 0.5 + 1"},
    {"010", "8"},
    {"1000000", "1e+06"},
    {"0.0001", "0.0001"},
    {"0.00001", "1e-05"},
    {"123456789", "1.23456789e+08"},
    {"-Inf", "-Inf"},
    {"x offset -5m", "x offset -5m"},
    {"x[5m] offset 1h @ 100", "x[5m] @ 100.000 offset 1h"},
    {"x @ 1.5", "x @ 1.500"},
    {"rate(x[5m])[30m:1m] offset 5m", "rate(x[5m])[30m:1m] offset 5m"},
    {"x[30m:]", "x[30m:]"},
    {"count_values(\"v\", x)", "count_values(\"v\", x)"},
    {"topk by (a) (3, x)", "topk by (a) (3, x)"},
    {"quantile(0.9, x) without (a,)", "quantile without (a) (0.9, x)"},
    {"a * on(x, y) group_left(z) b", "a * on (x, y) group_left (z) b"},
    {"a + ignoring(x) group_right b", "a + ignoring (x) group_right () b"},
    {"a and on() b", "a and on () b"},
    {"x{a=\"b\",}", "x{a=\"b\"}"},
    {"x{a=\"b\",c!=\"d\",e=~\"f\",g!~\"h\"}", "x{a=\"b\",c!=\"d\",e=~\"f\",g!~\"h\"}"},
    {"{__name__=\"x\"}", "{__name__=\"x\"}"},
    {"`raw\\.str`", "\"raw\\\\.str\""},
    {"'single \"q\"'", "\"single \\\"q\\\"\""},
    {"\"tab\\t\\u00e9\\x41\\101\"", "\"tab\\téAA\""},
    {"SUM(x) BY (le)", "sum by (le) (x)"},
    {"x AND y", "x and y"},
    {"foo:bar:baz", "foo:bar:baz"},
    {"x @ start()", "x @ start()"},
    {"x @ end() offset 5m", "x @ end() offset 5m"},
    {"a # comment", "a"},
    {"time()", "time()"},
    {"day_of_week()", "day_of_week()"},
    {"label_join(x, \"a\", \"b\", \"c\", \"d\", \"e\")",
     "label_join(x, \"a\", \"b\", \"c\", \"d\", \"e\")"},
    {"sum by (and, or, bool, on) (x)", "sum by (and, or, bool, on) (x)"},
    {"{on=\"x\"}", "{on=\"x\"}"},
    {"a > bool 1", "a > bool 1"},
    {"1 > bool 2", "1 > bool 2"},
    {"a unless ignoring(x) b", "a unless ignoring (x) b"},
    {"x[1h30m]", "x[1h30m]"},
    // Prometheus's lexer takes a letter inside brackets for the subquery colon.
    {"x[5m s]", "x[5m:]"},
    {"0x1e5", "485"},
    {"99999999999999999999", "1e+20"},
    {"0755", "493"},
    {"089", "89"},
    {"x[1y]", "x[1y]"},
    {"sum by () (x)", "sum(x)"},
    {"sum without () (x)", "sum without () (x)"},
    {"a * on(x) group_left b", "a * on (x) group_left () b"},
    {"a atan2 b", "a atan2 b"},
    {"x{}", "x"},
    {"vector(1) and vector(2)", "vector(1) and vector(2)"},
    {"(sum(x))", "(sum(x))"},
    {"+x", "+x"},
    {"--x", "--x"},
    {"group(x)", "group(x)"},
    {"stddev by(a)(x)", "stddev by (a) (x)"},
    {"absent(nonexistent{job=\"myjob\"})", "absent(nonexistent{job=\"myjob\"})"},
    {"holt_winters(x[5m], 0.5, 0.1)", "holt_winters(x[5m], 0.5, 0.1)"},
    {"x{job=\"a\"}[5m:1m] @ 10", "x{job=\"a\"}[5m:1m] @ 10.000"},
    {"a # comment\n  + b", "a + b"},
    {"sum(\n  rate(x[5m])   \n)  \n", "sum(rate(x[5m]))"},
    {"up{\n  job=\"x\",\n}", "up{job=\"x\"}"},
    {"a +\n\tb", "a + b"},
};

class ParseValidTest : public testing::TestWithParam<ValidCase> {};

TEST_P(ParseValidTest, FormatsAsPrometheus) {
  const ValidCase& c = GetParam();
  Result<ExprPtr> parsed = ParseExpr(c.input);
  ASSERT_TRUE(parsed.ok()) << c.input << ": " << parsed.error().message();
  EXPECT_EQ(Format(**parsed), c.formatted);
}

TEST_P(ParseValidTest, RoundTripsThroughPrinter) {
  const ValidCase& c = GetParam();
  Result<ExprPtr> first = ParseExpr(c.input);
  ASSERT_TRUE(first.ok()) << first.error().message();
  std::string printed = Format(**first);
  Result<ExprPtr> second = ParseExpr(printed);
  ASSERT_TRUE(second.ok()) << printed << ": " << second.error().message();
  EXPECT_EQ(Format(**second), printed);
  EXPECT_EQ(TypeOf(**second), TypeOf(**first));
}

INSTANTIATE_TEST_SUITE_P(Table, ParseValidTest, testing::ValuesIn(kValidCases));

struct InvalidCase {
  const char* input;
  const char* message;
  int line;
  int column;
};

// Messages and positions are those of Prometheus 2.42 (promtool check rules).
const InvalidCase kInvalidCases[] = {
    {"foo{a=}", "unexpected \"}\" in label matching, expected string", 1, 7},
    {"foo{a}", "unexpected \"}\" in label matching, expected label matching operator", 1, 6},
    {"foo{a!}", "unexpected character after '!' inside braces: '}'", 1, 6},
    {"x{a=\"b\" c=\"d\"}",
     "unexpected identifier \"c\" in label matching, expected \",\" or \"}\"",
     1,
     9},
    {"x{,}", "unexpected \",\" in label matching, expected identifier or \"}\"", 1, 3},
    {"x{1}", "unexpected character inside braces: '1'", 1, 3},
    {"{a=\"b\"", "unexpected end of input inside braces", 1, 7},
    {"x{a=\"b\"}}", "unexpected character: '}'", 1, 9},
    {"x{a=\"b\"{", "unexpected left brace '{'", 1, 8},
    {"{a=\"\"}", "vector selector must contain at least one non-empty matcher", 1, 1},
    {"{a=~\".*\"}", "vector selector must contain at least one non-empty matcher", 1, 1},
    {"x{__name__=\"y\"}", "metric name must not be set twice: \"x\" or \"y\"", 1, 1},
    {"(1", "unclosed left parenthesis", 1, 3},
    {"sum(", "unclosed left parenthesis", 1, 5},
    {"foo)", "unexpected right parenthesis ')'", 1, 5},
    {"foo]", "unexpected right bracket ']'", 1, 4},
    {"x[5m", "unclosed left bracket", 1, 5},
    {"x[5]", "missing unit character in duration", 1, 3},
    {"x[]", "missing unit character in duration", 1, 3},
    {"x[5m[", "unexpected left bracket '['", 1, 5},
    {"x[5m:1m:]", "unexpected colon ':'", 1, 8},
    {"x[0s]", "duration must be greater than 0", 1, 3},
    {"x[5m:0s]", "duration must be greater than 0", 1, 6},
    {"x[5m:1]", "unexpected number \"1\" in subquery selector, expected duration or \"]\"", 1, 6},
    {"x[5m 1]", "unexpected number \"1\" in subquery or range, expected \":\" or \"]\"", 1, 6},
    {"x[5m:5m 1]", "unexpected number \"1\" in subquery selector, expected \"]\"", 1, 9},
    {"x[1m1h]", "not a valid duration string: \"1m1h\"", 1, 3},
    {"x offset 5", "unexpected number \"5\" in offset, expected duration", 1, 10},
    {"x offset 0s", "duration must be greater than 0", 1, 10},
    {"x offset 5m offset 5m", "offset may not be set multiple times", 1, 1},
    {"x @ foo", "unexpected identifier \"foo\" in @, expected timestamp", 1, 5},
    {"x @ start", "unexpected end of input in @, expected timestamp", 1, 10},
    {"x @ 1 @ 2", "@ <timestamp> may not be set multiple times", 1, 1},
    {"x offset 5m [5m]", "no offset modifiers allowed before range", 1, 13},
    {"x @ 1 [5m]", "no @ modifiers allowed before range", 1, 7},
    {"(x)[5m]", "ranges only allowed for vector selectors", 1, 4},
    {"(x) offset 5m",
     "offset modifier must be preceded by an instant vector selector or range vector selector or a "
     "subquery",
     1,
     1},
    {"1 @ 10",
     "@ modifier must be preceded by an instant vector selector or range vector selector or a "
     "subquery",
     1,
     1},
    {"rate(x,)", "trailing commas not allowed in function call args", 1, 7},
    {"rate(x y)", "unexpected identifier \"y\"", 1, 8},
    {"foo(1)", "unknown function with name \"foo\"", 1, 1},
    {"sum()", "no arguments for aggregate expression provided", 1, 1},
    {"topk(x)",
     "wrong number of arguments for aggregate expression provided, expected 2, got 1",
     1,
     1},
    {"sum(x, y)",
     "wrong number of arguments for aggregate expression provided, expected 1, got 2",
     1,
     1},
    {"sum by (a", "unclosed left parenthesis", 1, 10},
    {"sum by a (x)", "unexpected identifier \"a\" in grouping opts, expected \"(\"", 1, 8},
    {"sum by (a b) (x)",
     "unexpected identifier \"b\" in grouping opts, expected \",\" or \")\"",
     1,
     11},
    {"sum by (a:b) (x)",
     "unexpected metric identifier \"a:b\" in grouping opts, expected label",
     1,
     9},
    {"sum by (a)", "unexpected end of input in aggregation", 1, 11},
    {"sum(x) by", "unexpected end of input in grouping opts, expected \"(\"", 1, 10},
    {"a = b", "unexpected \"=\"", 1, 3},
    {"a =~ b", "unexpected character after '=': '~'", 1, 3},
    {"!a", "unexpected character after '!': 'a'", 1, 1},
    {"foo +", "unexpected end of input", 1, 6},
    {"1 2", "unexpected number \"2\"", 1, 3},
    {"on", "unexpected <on>", 1, 1},
    {"bool", "unexpected <bool>", 1, 1},
    {"x y", "unexpected identifier \"y\"", 1, 3},
    {"\"\\.\"", "unknown escape sequence U+002E '.'", 1, 1},
    {"\"abc", "unterminated quoted string", 1, 1},
    {"`abc", "unterminated raw string", 1, 1},
    {"\"\\xZZ\"", "illegal character U+005A 'Z' in escape sequence", 1, 1},
    {"'a\\\"b'", "unknown escape sequence U+0022 '\"'", 1, 1},
    {"1 == 1", "comparisons between scalars must use BOOL modifier", 1, 3},
    {"a and 1", "set operator \"and\" not allowed in binary scalar expression", 1, 1},
    {"1 or a", "set operator \"or\" not allowed in binary scalar expression", 1, 1},
    {"rate(x)",
     "expected type range vector in call to function \"rate\", got instant vector",
     1,
     6},
    {"\"a\" + 1", "binary expression must contain only scalar and instant vector types", 1, 1},
    {"a + \"b\"", "binary expression must contain only scalar and instant vector types", 1, 5},
    {"a * on(x) group_left(x) b",
     "label \"x\" must not occur in ON and GROUP clause at once",
     1,
     3},
    {"a and on(x) group_left b", "no grouping allowed for \"and\" operation", 1, 1},
    {"a + bool b", "bool modifier can only be used on comparison operators", 1, 3},
    {"-\"a\"",
     "unary expression only allowed on expressions of type scalar or instant vector, got "
     "\"string\"",
     1,
     1},
    {"x[5m][5m:]", "subquery is only allowed on instant vector, got matrix instead", 1, 1},
    {"x[5m] + 1", "binary expression must contain only scalar and instant vector types", 1, 1},
    {"abs(x, y)", "expected 1 argument(s) in call to \"abs\", got 2", 1, 1},
    {"round()", "expected at least 1 argument(s) in call to \"round\", got 0", 1, 1},
    {"round(x,1,2)", "expected at most 2 argument(s) in call to \"round\", got 3", 1, 1},
    {"label_join(x)", "expected at least 3 argument(s) in call to \"label_join\", got 1", 1, 1},
    {"time(1)", "expected 0 argument(s) in call to \"time\", got 1", 1, 1},
    {"histogram_quantile(x, y)",
     "expected type scalar in call to function \"histogram_quantile\", got instant vector",
     1,
     20},
    {"count_values(1, x)", "expected type string in aggregation parameter, got scalar", 1, 14},
    {"topk(\"a\", x)", "expected type scalar in aggregation parameter, got string", 1, 6},
    {"sum(x[5m])",
     "expected type instant vector in aggregation expression, got range vector",
     1,
     5},
    {"1 + on(x) 2", "vector matching only allowed between instant vectors", 1, 1},
    {"a == on b", "unexpected identifier \"b\" in grouping opts, expected \"(\"", 1, 9},
    {"x offset foo", "unexpected identifier \"foo\" in offset, expected duration", 1, 10},
    {"x @ Inf", "timestamp out of bounds for @ modifier: +Inf", 1, 1},
    {"#only comment", "no expression found in input", 1, 1},
    {"sum(x y)", "unexpected identifier \"y\" in aggregation", 1, 7},
    {"sum(rate(x y))", "unexpected identifier \"y\" in aggregation", 1, 12},
    {"sum(x) y", "unexpected identifier \"y\"", 1, 8},
    {"abs(sum(x y))", "unexpected identifier \"y\" in aggregation", 1, 11},
    {"sum(1 +)", "unexpected \")\" in aggregation", 1, 8},
    {"x[5mx]", "bad duration syntax: \"5mx\"", 1, 3},
    {"5x", "bad number or duration syntax: \"5\"", 1, 1},
    {"x offset 5mm", "bad number or duration syntax: \"5mm\"", 1, 10},
    {"a * on(x) group_left ,", "unexpected \",\" in grouping opts, expected \"(\"", 1, 22},
    {"sum(x) by (a) by (b)", "unexpected <by>", 1, 15},
    {"max without ()", "unexpected end of input in aggregation", 1, 15},
    {"x[1m5]", "bad duration syntax: \"1m5\"", 1, 3},
    {"0xg", "bad number or duration syntax: \"0x\"", 1, 1},
    {"sum(,)", "unexpected \",\" in aggregation", 1, 5},
    {"a * on(x) group_left", "unexpected end of input in grouping opts, expected \"(\"", 1, 21},
    {"c start() hanges(x[20m])", "unexpected \"start\"", 1, 3},
    {"avg_over_time(metric4 , [1m])", "trailing commas not allowed in function call args", 1, 23},
    {"clamp(x, -25, /  75)", "trailing commas not allowed in function call args", 1, 13},
    {"envoy_server_live !", "unexpected character after '!': '�'", 1, 19},
    {"http_requests{foo!", "unexpected character after '!' inside braces: '�'", 1, 18},
    {"increase(x[1m sum ])", "unexpected colon 'u'", 1, 16},
    {"sum_over_time(metric[50s: offset 10s])", "unexpected colon 'o'", 1, 27},
    {"+0x.2", "error parsing number: strconv.ParseFloat: parsing \"0x.2\": invalid syntax", 1, 2},
    {"0xFFFFFFFFFFFFFFFFFF",
     "error parsing number: strconv.ParseFloat: parsing \"0xFFFFFFFFFFFFFFFFFF\": invalid syntax",
     1,
     1},
    {".5e", "error parsing number: strconv.ParseFloat: parsing \".5e\": invalid syntax", 1, 1},
    {"", "no expression found in input", 1, 1},
    {"a +\n  foo{b=}", "unexpected \"}\" in label matching, expected string", 2, 9},
    {"sum(\n  rate(x)\n)",
     "expected type range vector in call to function \"rate\", got instant vector",
     2,
     8},
    {"x{a=~\"(\"}", "error parsing regexp: missing closing ): `^(?:()$`", 1, 3},
    {"x{a=~\")\"}", "error parsing regexp: unexpected ): `^(?:))$`", 1, 3},
    {"x{a=~\"[a\"}", "error parsing regexp: missing closing ]: `[a)$`", 1, 3},
    {"x{a=~\"*\"}", "error parsing regexp: missing argument to repetition operator: `*`", 1, 3},
    {"x{a=~\"a**\"}", "error parsing regexp: invalid nested repetition operator: `**`", 1, 3},
    {"x{a=~\"\\\\q\"}", "error parsing regexp: invalid escape sequence: `\\q`", 1, 3},
    {"x{a=~\"[z-a]\"}", "error parsing regexp: invalid character class range: `z-a`", 1, 3},
    {"x{a=~\"\\\\\"}", "error parsing regexp: missing closing ): `^(?:\\)$`", 1, 3},
    {"x{a=~\"(?<n>a)\"}", "error parsing regexp: invalid or unsupported Perl syntax: `(?<`", 1, 3},
    {"x{a=~\"a{1001}\"}", "error parsing regexp: invalid repeat count: `{1001}`", 1, 3},
    {"x{a=~\"[[:foo:]]\"}", "error parsing regexp: invalid character class range: `[:foo:]`", 1, 3},
    {"x{a=~\"(?P<>a)\"}", "error parsing regexp: invalid named capture: `(?P<>`", 1, 3},
    {"x{a!~\"(?i\"}", "error parsing regexp: missing closing ): `^(?:(?i)$`", 1, 3},
    {"x{a=~\"\\\\8\"}", "error parsing regexp: invalid escape sequence: `\\8`", 1, 3},
    {"x{a=~\"a{2,1}\"}", "error parsing regexp: invalid repeat count: `{2,1}`", 1, 3},
};

class ParseInvalidTest : public testing::TestWithParam<InvalidCase> {};

TEST_P(ParseInvalidTest, ReportsMessageAndPosition) {
  const InvalidCase& c = GetParam();
  Result<ExprPtr> parsed = ParseExpr(c.input);
  ASSERT_FALSE(parsed.ok()) << c.input << " parsed as " << Format(**parsed);
  EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(parsed.error().message(), c.message) << c.input;
  EXPECT_EQ(parsed.error().line(), c.line) << c.input;
  EXPECT_EQ(parsed.error().column(), c.column) << c.input;
}

INSTANTIATE_TEST_SUITE_P(Table, ParseInvalidTest, testing::ValuesIn(kInvalidCases));

ExprPtr MustParse(std::string_view query) {
  Result<ExprPtr> parsed = ParseExpr(query);
  EXPECT_TRUE(parsed.ok()) << query << ": " << (parsed.ok() ? "" : parsed.error().message());
  return parsed.ok() ? *parsed : nullptr;
}

TEST(ParserTest, SelectorKeepsNameMatcherLast) {
  ExprPtr e = MustParse(R"(http_requests_total{status=~"5..", job!="x"} offset -5m)");
  ASSERT_NE(e, nullptr);
  const auto* vs = e->As<VectorSelector>();
  ASSERT_NE(vs, nullptr);
  EXPECT_EQ(vs->name, "http_requests_total");
  ASSERT_EQ(vs->matchers.size(), 3u);
  EXPECT_EQ(vs->matchers[0].name(), "status");
  EXPECT_EQ(vs->matchers[0].type(), MatchType::kRegexMatch);
  EXPECT_EQ(vs->matchers[1].type(), MatchType::kNotEqual);
  EXPECT_EQ(vs->matchers[2].name(), "__name__");
  EXPECT_EQ(vs->matchers[2].value(), "http_requests_total");
  EXPECT_EQ(vs->offset_ms, -300000);
  EXPECT_FALSE(vs->at.has_value());
  EXPECT_EQ(e->pos.start, 0u);
  EXPECT_EQ(e->pos.end, 55u);
}

TEST(ParserTest, RangeSelectorCarriesOffsetAndAtOnItsSelector) {
  ExprPtr e = MustParse("x[5m] @ 1.5 offset 1h");
  ASSERT_NE(e, nullptr);
  const auto* ms = e->As<MatrixSelector>();
  ASSERT_NE(ms, nullptr);
  EXPECT_EQ(ms->range_ms, 300000);
  const auto* vs = ms->vector_selector->As<VectorSelector>();
  ASSERT_NE(vs, nullptr);
  EXPECT_EQ(vs->offset_ms, 3600000);
  ASSERT_TRUE(vs->at.has_value());
  EXPECT_EQ(vs->at->kind, AtModifier::Kind::kTimestamp);
  EXPECT_EQ(vs->at->timestamp_ms, 1500);
  EXPECT_EQ(TypeOf(*e), ValueType::kMatrix);
}

TEST(ParserTest, SubqueryFields) {
  ExprPtr e = MustParse("max_over_time(rate(x[1m])[30m:1m] @ end() offset 2m)");
  ASSERT_NE(e, nullptr);
  const auto* call = e->As<Call>();
  ASSERT_NE(call, nullptr);
  ASSERT_EQ(call->args.size(), 1u);
  const auto* sq = call->args[0]->As<SubqueryExpr>();
  ASSERT_NE(sq, nullptr);
  EXPECT_EQ(sq->range_ms, 1800000);
  EXPECT_EQ(sq->step_ms, 60000);
  EXPECT_EQ(sq->offset_ms, 120000);
  ASSERT_TRUE(sq->at.has_value());
  EXPECT_EQ(sq->at->kind, AtModifier::Kind::kEnd);
  EXPECT_TRUE(sq->expr->Is<Call>());
}

TEST(ParserTest, BinaryPrecedenceAndMatching) {
  ExprPtr e = MustParse("a + b * on(x) group_left(y) c > bool 1");
  ASSERT_NE(e, nullptr);
  const auto* cmp = e->As<BinaryExpr>();
  ASSERT_NE(cmp, nullptr);
  EXPECT_EQ(cmp->op, BinaryOp::kGtr);
  EXPECT_TRUE(cmp->return_bool);
  EXPECT_FALSE(cmp->matching.has_value()) << "vector/scalar operations have no matching";
  const auto* add = cmp->lhs->As<BinaryExpr>();
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add->op, BinaryOp::kAdd);
  const auto* mul = add->rhs->As<BinaryExpr>();
  ASSERT_NE(mul, nullptr);
  EXPECT_EQ(mul->op, BinaryOp::kMul);
  ASSERT_TRUE(mul->matching.has_value());
  EXPECT_EQ(mul->matching->card, VectorMatchCardinality::kManyToOne);
  EXPECT_TRUE(mul->matching->matching_on);
  EXPECT_EQ(mul->matching->matching_labels, std::vector<std::string>{"x"});
  EXPECT_EQ(mul->matching->include_labels, std::vector<std::string>{"y"});
  EXPECT_EQ(TypeOf(*e), ValueType::kVector);
}

TEST(ParserTest, SetOperatorsAreManyToMany) {
  ExprPtr e = MustParse("a and on(x) b");
  ASSERT_NE(e, nullptr);
  const auto* b = e->As<BinaryExpr>();
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->matching.has_value());
  EXPECT_EQ(b->matching->card, VectorMatchCardinality::kManyToMany);
}

TEST(ParserTest, PowerIsRightAssociativeAndBindsTighterThanUnaryMinus) {
  ExprPtr e = MustParse("-2 ^ 3 ^ 2");
  ASSERT_NE(e, nullptr);
  const auto* u = e->As<UnaryExpr>();
  ASSERT_NE(u, nullptr);
  EXPECT_TRUE(u->negate);
  const auto* outer = u->expr->As<BinaryExpr>();
  ASSERT_NE(outer, nullptr);
  EXPECT_TRUE(outer->lhs->Is<NumberLiteral>());
  EXPECT_TRUE(outer->rhs->Is<BinaryExpr>());
  EXPECT_EQ(TypeOf(*e), ValueType::kScalar);
}

TEST(ParserTest, UnaryMinusFoldsIntoNumber) {
  ExprPtr e = MustParse("-1.5");
  ASSERT_NE(e, nullptr);
  const auto* n = e->As<NumberLiteral>();
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->value, -1.5);
}

TEST(ParserTest, AggregationParamAndGrouping) {
  ExprPtr e = MustParse("topk(5, x) without (instance, job)");
  ASSERT_NE(e, nullptr);
  const auto* agg = e->As<AggregateExpr>();
  ASSERT_NE(agg, nullptr);
  EXPECT_EQ(agg->op, AggregateOp::kTopk);
  ASSERT_NE(agg->param, nullptr);
  EXPECT_TRUE(agg->param->Is<NumberLiteral>());
  EXPECT_TRUE(agg->without);
  EXPECT_EQ(agg->grouping, (std::vector<std::string>{"instance", "job"}));
}

TEST(ParserTest, StringEscapesAreDecoded) {
  ExprPtr e = MustParse(R"(label_replace(x, "dst", "a\tb\x41\u00e9\"", "src", `(.*)\d`))");
  ASSERT_NE(e, nullptr);
  const auto* call = e->As<Call>();
  ASSERT_NE(call, nullptr);
  ASSERT_EQ(call->args.size(), 5u);
  EXPECT_EQ(call->args[2]->As<StringLiteral>()->value, "a\tbA\xc3\xa9\"");
  EXPECT_EQ(call->args[4]->As<StringLiteral>()->value, "(.*)\\d");
}

TEST(ParserTest, NumberLiteralForms) {
  const std::pair<const char*, double> cases[] = {
      {"0x1F", 31},
      {"010", 8},
      {"1e3", 1000},
      {".5", 0.5},
      {"1.", 1},
      {"2.5E-1", 0.25},
  };
  for (const auto& [text, value] : cases) {
    ExprPtr e = MustParse(text);
    ASSERT_NE(e, nullptr);
    ASSERT_TRUE(e->Is<NumberLiteral>()) << text;
    EXPECT_EQ(e->As<NumberLiteral>()->value, value) << text;
  }
  ExprPtr nan = MustParse("NaN");
  ASSERT_NE(nan, nullptr);
  EXPECT_TRUE(std::isnan(nan->As<NumberLiteral>()->value));
}

TEST(ParserTest, RejectsTooDeepNesting) {
  const std::string kMessage =
      "expression is nested too deeply: at most 1000 levels of operators, parentheses, calls "
      "and modifiers are allowed";
  std::string parens = std::string(5000, '(') + "1" + std::string(5000, ')');
  Result<ExprPtr> nested = ParseExpr(parens);
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.error().message(), kMessage);
  std::string chain = "x";
  for (int i = 0; i < 5000; ++i) {
    chain += " + x";
  }
  Result<ExprPtr> long_chain = ParseExpr(chain);
  ASSERT_FALSE(long_chain.ok());
  EXPECT_EQ(long_chain.error().message(), kMessage);
  std::string subqueries = "x";
  for (int i = 0; i < 5000; ++i) {
    subqueries += "[5m:]";
  }
  Result<ExprPtr> deep_subqueries = ParseExpr(subqueries);
  ASSERT_FALSE(deep_subqueries.ok());
  EXPECT_EQ(deep_subqueries.error().message(), kMessage);
  std::string ok_chain = "x";
  for (int i = 0; i < 200; ++i) {
    ok_chain += " or x";
  }
  EXPECT_TRUE(ParseExpr(ok_chain).ok());
}

TEST(FunctionsTableTest, LooksUpSignatures) {
  const FunctionSignature* rate = LookupFunction("rate");
  ASSERT_NE(rate, nullptr);
  EXPECT_EQ(rate->arg_types, std::vector<ValueType>{ValueType::kMatrix});
  EXPECT_EQ(rate->return_type, ValueType::kVector);
  const FunctionSignature* round = LookupFunction("round");
  ASSERT_NE(round, nullptr);
  EXPECT_EQ(round->min_args(), 1);
  EXPECT_EQ(round->max_args(), 2);
  const FunctionSignature* label_join = LookupFunction("label_join");
  ASSERT_NE(label_join, nullptr);
  EXPECT_EQ(label_join->min_args(), 3);
  EXPECT_EQ(label_join->max_args(), -1);
  EXPECT_EQ(label_join->ArgType(7), ValueType::kString);
  const FunctionSignature* time = LookupFunction("time");
  ASSERT_NE(time, nullptr);
  EXPECT_EQ(time->return_type, ValueType::kScalar);
  EXPECT_EQ(time->max_args(), 0);
  EXPECT_EQ(LookupFunction("Rate"), nullptr);
  EXPECT_EQ(LookupFunction("sum"), nullptr);
  EXPECT_EQ(AllFunctions().size(), 70u);
}

TEST(MaxLookbackTest, AddsRangesOffsetsAndLookback) {
  const int64_t kLookback = 5 * 60 * 1000;
  const std::pair<const char*, int64_t> cases[] = {
      {"1", 0},
      {"up", kLookback},
      {"up offset 10m", 10 * 60000 + kLookback},
      {"rate(x[1h])", 3600000},
      {"rate(x[1h] offset 1d)", 3600000 + 86400000},
      {"max_over_time(rate(x[5m])[1h:1m])", 3600000 + 300000},
      {"max_over_time(up[30m:] offset 10m)", 1800000 + 600000 + kLookback},
      {"up offset -10m", 0},
      {"a + rate(b[2h])", 7200000},
      {"topk(scalar(rate(y[3h])), x)", 3 * 3600000},
  };
  for (const auto& [query, want] : cases) {
    ExprPtr e = MustParse(query);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(MaxLookbackMs(*e, kLookback), want) << query;
  }
}

TEST(MaxLookbackTest, AtModifierIsUnbounded) {
  for (const char* query :
       {"up @ 100", "rate(x[5m] @ start())", "max_over_time(x[5m:1m] @ end())", "a + b @ 1"}) {
    ExprPtr e = MustParse(query);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(MaxLookbackMs(*e, 300000), kUnboundedLookback) << query;
  }
}

// ---------------------------------------------------------------------------------------
// Corpus: every expression of Prometheus's PromQL test scripts and of the
// awesome-prometheus-alerts rule files must parse.

const std::filesystem::path kCorpus = std::filesystem::path(ALERTD_CORPUS_DIR);

std::vector<std::string> ReadLines(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
  }
  return lines;
}

// Decodes the YAML scalar after `expr:`: single-quoted (possibly spanning lines, folded with
// spaces), double-quoted, or plain. Block scalars are not used by the corpus files.
std::string YamlScalar(const std::vector<std::string>& lines, size_t& i, std::string value) {
  if (value.empty() || (value[0] != '\'' && value[0] != '"')) {
    return value;
  }
  char quote = value[0];
  std::string text = value.substr(1);
  auto closed = [&](const std::string& s) {
    if (quote == '"') {
      size_t backslashes = 0;
      for (size_t k = s.size() - 1; k > 0 && s[k - 1] == '\\'; --k) {
        ++backslashes;
      }
      return !s.empty() && s.back() == '"' && backslashes % 2 == 0;
    }
    size_t quotes = 0;
    for (size_t k = s.size(); k > 0 && s[k - 1] == '\''; --k) {
      ++quotes;
    }
    return quotes % 2 == 1;
  };
  while (!closed(text) && i + 1 < lines.size()) {
    std::string next = lines[++i];
    next.erase(0, next.find_first_not_of(' '));
    text += " " + next;
  }
  text.pop_back();
  std::string out;
  for (size_t k = 0; k < text.size(); ++k) {
    if (quote == '\'' && text[k] == '\'' && k + 1 < text.size() && text[k + 1] == '\'') {
      out += '\'';
      ++k;
    } else if (quote == '"' && text[k] == '\\' && k + 1 < text.size()) {
      char e = text[++k];
      out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
    } else {
      out += text[k];
    }
  }
  return out;
}

TEST(ParserCorpusTest, PrometheusTestScriptsParse) {
  std::filesystem::path dir = kCorpus / "prometheus-v2.42.0" / "promql";
  if (!std::filesystem::is_directory(dir)) {
    GTEST_SKIP() << "corpus not found at " << dir;
  }
  const std::regex eval(R"(^(eval|eval_fail|eval_ordered)\s+instant\s+at\s+\S+\s+(.*)$)");
  int parsed = 0;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".test") {
      continue;
    }
    ++files;
    for (const std::string& line : ReadLines(entry.path())) {
      std::smatch m;
      if (!std::regex_match(line, m, eval)) {
        continue;
      }
      Result<ExprPtr> r = ParseExpr(m[2].str());
      EXPECT_TRUE(r.ok()) << entry.path().filename() << ": " << m[2].str() << ": "
                          << (r.ok() ? "" : r.error().message());
      parsed += r.ok() ? 1 : 0;
    }
  }
  EXPECT_EQ(files, 11);
  EXPECT_GE(parsed, 566);
  std::cout << "parsed " << parsed << " eval expressions from " << files << " files\n";
}

struct RuleCorpusCounts {
  int parsed = 0;
  int rejected = 0;
};

// Parses every `expr:` of the rule files under `dir`. The only failure allowed is the rule
// that escapes a dot as "\." inside a double-quoted PromQL string in kubestate-exporter.yml,
// which Prometheus 2.42 rejects too.
RuleCorpusCounts ParseRuleFiles(const std::filesystem::path& dir) {
  const std::regex expr_line(R"(^\s*-?\s*expr:\s*(.*?)\s*$)");
  RuleCorpusCounts counts;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.path().extension() != ".yml") {
      continue;
    }
    std::vector<std::string> lines = ReadLines(entry.path());
    for (size_t i = 0; i < lines.size(); ++i) {
      std::smatch m;
      if (!std::regex_match(lines[i], m, expr_line)) {
        continue;
      }
      std::string query = YamlScalar(lines, i, m[1].str());
      Result<ExprPtr> r = ParseExpr(query);
      if (r.ok()) {
        ++counts.parsed;
        continue;
      }
      ++counts.rejected;
      bool known_bad = entry.path().filename() == "kubestate-exporter.yml" &&
                       r.error().message() == "unknown escape sequence U+002E '.'";
      EXPECT_TRUE(known_bad) << entry.path() << ": " << query << ": " << r.error().message();
    }
  }
  return counts;
}

TEST(ParserCorpusTest, AwesomeRuleExpressionsParse) {
  std::filesystem::path dist = kCorpus / "awesome" / "dist" / "rules";
  std::filesystem::path expanded = kCorpus / "awesome" / "expanded";
  if (!std::filesystem::is_directory(dist) || !std::filesystem::is_directory(expanded)) {
    GTEST_SKIP() << "corpus not found at " << kCorpus / "awesome";
  }
  RuleCorpusCounts published = ParseRuleFiles(dist);
  EXPECT_EQ(published.parsed, 954);
  EXPECT_EQ(published.rejected, 0);
  RuleCorpusCounts generated = ParseRuleFiles(expanded);
  EXPECT_EQ(generated.parsed, 1154);
  EXPECT_EQ(generated.rejected, 1);
  std::cout << "parsed " << published.parsed << " published and " << generated.parsed
            << " generated rule expressions, rejected " << generated.rejected << "\n";
}

}  // namespace
}  // namespace alertd::promql
