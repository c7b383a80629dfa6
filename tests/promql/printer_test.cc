#include "engine/promql/printer.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "engine/promql/parser.h"

namespace alertd::promql {
namespace {

TEST(FormatNumberTest, MatchesGoPercentV) {
  const std::pair<double, const char*> cases[] = {
      {0, "0"},
      {1, "1"},
      {-1.5, "-1.5"},
      {0.05, "0.05"},
      {0.0001, "0.0001"},
      {0.00001, "1e-05"},
      {123456, "123456"},
      {1000000, "1e+06"},
      {1234567, "1.234567e+06"},
      {1e100, "1e+100"},
      {0.1 + 0.2, "0.30000000000000004"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
  };
  for (const auto& [value, text] : cases) {
    EXPECT_EQ(FormatNumber(value), text) << value;
  }
}

TEST(QuoteStringTest, EscapesLikeGoQuote) {
  EXPECT_EQ(QuoteString("plain"), "\"plain\"");
  EXPECT_EQ(QuoteString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(QuoteString("tab\tnl\n"), "\"tab\\tnl\\n\"");
  EXPECT_EQ(QuoteString(std::string("\x01", 1)), "\"\\x01\"");
  EXPECT_EQ(QuoteString("\xc3\xa9"), "\"\xc3\xa9\"");
  EXPECT_EQ(QuoteString("\xff"), "\"\\xff\"");
  EXPECT_EQ(QuoteString("a\xc3"), "\"a\\xc3\"");
  EXPECT_EQ(QuoteString("\xc2\xa0"), "\"\\u00a0\"");
  EXPECT_EQ(QuoteString("\xf4\x8f\xbf\xbf"), "\"\\U0010ffff\"");
  EXPECT_EQ(QuoteString("\xe2\x82\xac"), "\"\xe2\x82\xac\"");
}

std::string Reformat(std::string_view query) {
  Result<ExprPtr> parsed = ParseExpr(query);
  if (!parsed.ok()) {
    return "error: " + parsed.error().message();
  }
  return Format(**parsed);
}

TEST(PrinterTest, AggregationGroupingGoesBeforeArguments) {
  EXPECT_EQ(Reformat("sum(rate(x[5m])) by (le)"), "sum by (le) (rate(x[5m]))");
  EXPECT_EQ(Reformat("count_values without(a) (\"v\", x)"), "count_values without (a) (\"v\", x)");
}

TEST(PrinterTest, InfBeforePowerKeepsItsMeaning) {
  // "+Inf ^ x" would parse back as +(Inf ^ x).
  EXPECT_EQ(Reformat("2 + Inf ^ -x"), "2 + Inf ^ -x");
  EXPECT_EQ(Reformat("2 + +Inf ^ -x"), "2 + +Inf ^ -x");
  EXPECT_EQ(Reformat(Reformat("+2+ Inf^- MaN")), Reformat("+2+ Inf^- MaN"));
  EXPECT_EQ(Reformat("+Inf + x"), "+Inf + x");
}

TEST(PrinterTest, MatchersAreSortedAndNameIsHoisted) {
  EXPECT_EQ(Reformat(R"(x{b="2", a="1"})"), R"(x{a="1",b="2"})");
  EXPECT_EQ(Reformat(R"({__name__=~"x|y", a="1"})"), R"({__name__=~"x|y",a="1"})");
}

TEST(PrinterTest, ModifiersPrintAtBeforeOffset) {
  EXPECT_EQ(Reformat("x offset 90m @ 10"), "x @ 10.000 offset 1h30m");
  EXPECT_EQ(Reformat("x[1m:] offset -1m"), "x[1m:] offset -1m");
}

TEST(PrinterTest, KeepsParenthesesAndUnaryOperators) {
  EXPECT_EQ(Reformat("-(a + b) * 2"), "-(a + b) * 2");
  EXPECT_EQ(Reformat("+1"), "1");
  EXPECT_EQ(Reformat("- - x"), "--x");
}

}  // namespace
}  // namespace alertd::promql
