#include "engine/scrape/textparse.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storage/sample_store.h"

namespace alertd {
namespace {

struct ValidCase {
  std::string name;
  std::string input;
  std::vector<ParsedSample> want;
};

ParsedSample Sample(Labels labels, double value, std::optional<int64_t> ts = std::nullopt) {
  return ParsedSample{std::move(labels), value, ts};
}

TEST(TextParseTest, ParsesValidExpositions) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<ValidCase> cases = {
      {"empty body", "", {}},
      {"blank lines only", "\n\n  \t\n", {}},
      {"bare sample", "up 1\n", {Sample({{"__name__", "up"}}, 1)}},
      {"no final newline", "up 1", {Sample({{"__name__", "up"}}, 1)}},
      {"labels",
       "http_requests_total{method=\"post\",code=\"200\"} 1027\n",
       {Sample({{"__name__", "http_requests_total"}, {"method", "post"}, {"code", "200"}}, 1027)}},
      {"timestamp",
       "metric_without_labels 12.47 1395066363000\n",
       {Sample({{"__name__", "metric_without_labels"}}, 12.47, 1395066363000)}},
      {"escaped label value",
       R"(msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9)"
       "\n",
       {Sample({{"__name__", "msdos_file_access_time_seconds"},
                {"path", "C:\\DIR\\FILE.TXT"},
                {"error", "Cannot find file:\n\"FILE.TXT\""}},
               1.458255915e9)}},
      {"unknown escape kept", R"(m{a="x\ty"} 1)", {Sample({{"__name__", "m"}, {"a", "x\\ty"}}, 1)}},
      {"comments and metadata",
       "# HELP up Whether the target is up.\n# TYPE up gauge\n# a free comment\n#nospace\n"
       "up 0\n",
       {Sample({{"__name__", "up"}}, 0)}},
      {"whitespace between tokens",
       "  m  { a = \"1\" ,b=\"2\", }   3   42  \n",
       {Sample({{"__name__", "m"}, {"a", "1"}, {"b", "2"}}, 3, 42)}},
      {"tabs as blanks", "m\t5\t6\n", {Sample({{"__name__", "m"}}, 5, 6)}},
      {"labels without commas",
       "m{a=\"1\" b=\"2\"} 1\n",
       {Sample({{"__name__", "m"}, {"a", "1"}, {"b", "2"}}, 1)}},
      {"empty label set", "m{} 1\n", {Sample({{"__name__", "m"}}, 1)}},
      {"empty label value dropped", "m{a=\"\"} 1\n", {Sample({{"__name__", "m"}}, 1)}},
      {"colons in name", "job:rate5m:sum 2\n", {Sample({{"__name__", "job:rate5m:sum"}}, 2)}},
      {"value touching brace", "m{a=\"1\"}7\n", {Sample({{"__name__", "m"}, {"a", "1"}}, 7)}},
      {"infinities",
       "a +Inf\nb -Inf\nc Inf\nd -infinity\n",
       {Sample({{"__name__", "a"}}, inf),
        Sample({{"__name__", "b"}}, -inf),
        Sample({{"__name__", "c"}}, inf),
        Sample({{"__name__", "d"}}, -inf)}},
      {"decimal forms",
       "a -1e-3\nb .5\nc 1.\nd +2E+2\ne 1e-400\n",
       {Sample({{"__name__", "a"}}, -1e-3),
        Sample({{"__name__", "b"}}, 0.5),
        Sample({{"__name__", "c"}}, 1),
        Sample({{"__name__", "d"}}, 200),
        Sample({{"__name__", "e"}}, 0)}},
      {"zero timestamp", "m 1 0\n", {Sample({{"__name__", "m"}}, 1, 0)}},
  };
  for (const ValidCase& c : cases) {
    auto parsed = ParseTextFormat(c.input);
    ASSERT_TRUE(parsed.ok()) << c.name << ": " << parsed.error().message();
    ASSERT_EQ(parsed->size(), c.want.size()) << c.name;
    for (size_t i = 0; i < c.want.size(); ++i) {
      EXPECT_EQ((*parsed)[i].labels, c.want[i].labels) << c.name << " #" << i;
      EXPECT_EQ((*parsed)[i].value, c.want[i].value) << c.name << " #" << i;
      EXPECT_EQ((*parsed)[i].timestamp_ms, c.want[i].timestamp_ms) << c.name << " #" << i;
    }
  }
}

TEST(TextParseTest, ParsesNaNAsNonStaleNaN) {
  for (std::string text : {"NaN", "nan", "NAN"}) {
    auto parsed = ParseTextFormat("m " + text + "\n");
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.error().message();
    ASSERT_EQ(parsed->size(), 1u);
    EXPECT_TRUE(std::isnan((*parsed)[0].value)) << text;
    EXPECT_FALSE(IsStaleNaN((*parsed)[0].value)) << text;
  }
}

TEST(TextParseTest, CollectsHelpAndType) {
  auto parsed = ParseTextExposition(
      "# HELP a First line.\\nSecond \\\\ line.\n# TYPE a counter\n# TYPE b histogram\n"
      "# HELP c\n# HELP d  two blanks\na 1\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->metadata["a"].help, "First line.\nSecond \\ line.");
  EXPECT_EQ(parsed->metadata["a"].type, "counter");
  EXPECT_EQ(parsed->metadata["b"].type, "histogram");
  EXPECT_EQ(parsed->metadata["b"].help, "");
  EXPECT_EQ(parsed->metadata["c"].help, "");
  EXPECT_EQ(parsed->metadata["d"].help, " two blanks");
  EXPECT_EQ(parsed->samples.size(), 1u);
}

TEST(TextParseTest, AcceptsEveryMetricType) {
  for (std::string type : {"counter", "gauge", "histogram", "summary", "untyped"}) {
    auto parsed = ParseTextExposition("# TYPE m " + type + "\n");
    ASSERT_TRUE(parsed.ok()) << type << ": " << parsed.error().message();
    EXPECT_EQ(parsed->metadata["m"].type, type);
  }
}

struct InvalidCase {
  std::string input;
  std::string want_message;
  int want_line;
};

TEST(TextParseTest, RejectsInvalidInputWithLineAndText) {
  const std::vector<InvalidCase> cases = {
      {"a 1\nb 2\n1abc 3\n", "line 3: invalid metric name \"1abc\"", 3},
      {"foo-bar 1\n", "line 1: invalid metric name \"foo-bar\"", 1},
      {"{a=\"1\"} 1\n", "line 1: missing metric name before \"{\"", 1},
      {"a\n", "line 1: missing sample value after \"a\"", 1},
      {"a{b=\"c\"}\n", "line 1: missing sample value after \"a{b=\\\"c\\\"}\"", 1},
      {"a true\n",
       "line 1: invalid sample value \"true\": use a decimal number, NaN, +Inf or -Inf",
       1},
      {"foo 1_2\n",
       "line 1: invalid sample value \"1_2\": use a decimal number, NaN, +Inf or -Inf",
       1},
      {"foo 0x1p-3\n",
       "line 1: invalid sample value \"0x1p-3\": use a decimal number, NaN, +Inf or -Inf",
       1},
      {"foo -NaN\n",
       "line 1: invalid sample value \"-NaN\": use a decimal number, NaN, +Inf or -Inf",
       1},
      {"foo 1e\n",
       "line 1: invalid sample value \"1e\": use a decimal number, NaN, +Inf or -Inf",
       1},
      {"foo 1e999\n", "line 1: sample value \"1e999\" is out of range", 1},
      {"foo 1 12.5\n",
       "line 1: invalid timestamp \"12.5\": use integer milliseconds since the Unix epoch",
       1},
      {"foo 1 -5\n",
       "line 1: invalid timestamp \"-5\": use integer milliseconds since the Unix epoch",
       1},
      {"foo 1 99999999999999999999\n",
       "line 1: timestamp \"99999999999999999999\" is out of range",
       1},
      {"foo 0 1 extra\n", "line 1: unexpected text \"extra\" after the timestamp", 1},
      {"a{b='c'} 1\n",
       "line 1: label value of \"b\" must be a double-quoted string, found \"'c'}\"",
       1},
      {"a{b=\n",
       "line 1: label value of \"b\" must be a double-quoted string, found end of line",
       1},
      {"a{b\"c\"} 1\n", "line 1: expected \"=\" after label name \"b\", found \"\\\"c\\\"}\"", 1},
      {"a{1b=\"c\"} 1\n", "line 1: invalid label name \"1b\"", 1},
      {"empty_label_name{=\"\"} 0\n", "line 1: invalid label name \"=\"", 1},
      {"something_weird{problem=\"\n",
       "line 1: missing closing quote in the label value of \"problem\"",
       1},
      {"a{b=\"c\"\n", "line 1: missing \"}\" after the labels of metric \"a\"", 1},
      {"a{b=\"1\",b=\"2\"} 1\n", "line 1: duplicate label name \"b\" in metric \"a\"", 1},
      {"a{__name__=\"x\"} 1\n", "line 1: duplicate label name \"__name__\" in metric \"a\"", 1},
      {"a{b=\"\xff\"} 1\n", "line 1: label value of \"b\" is not valid UTF-8", 1},
      {"# HELP \n", "line 1: missing metric name after \"# HELP\"", 1},
      {"# TYPE #\n", "line 1: invalid metric name \"#\" after \"# TYPE\"", 1},
      {"# TYPE m counter \n",
       "line 1: invalid metric type \"counter \" for metric \"m\": use counter, gauge, "
       "histogram, summary or untyped",
       1},
      {"# TYPE m\n",
       "line 1: invalid metric type \"\" for metric \"m\": use counter, gauge, histogram, "
       "summary or untyped",
       1},
      {"# TYPE m gaugehistogram\n",
       "line 1: invalid metric type \"gaugehistogram\" for metric \"m\": use counter, gauge, "
       "histogram, summary or untyped",
       1},
      {"# HELP m bad \xc3\x28\n", "line 1: help text of metric \"m\" is not valid UTF-8", 1},
      {"# HELP m ok\r\nm 1\r\n",
       "line 1: unexpected carriage return at the end of the line: end lines with \"\\n\", not "
       "\"\\r\\n\"",
       1},
      {"a 1\n\n# c\nb\t\x01\n",
       "line 4: invalid sample value \"\\x01\": use a decimal number, NaN, +Inf or -Inf",
       4},
  };
  for (const InvalidCase& c : cases) {
    auto parsed = ParseTextFormat(c.input);
    ASSERT_FALSE(parsed.ok()) << c.input;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument) << c.input;
    EXPECT_EQ(parsed.error().message(), c.want_message) << c.input;
    EXPECT_EQ(parsed.error().line(), c.want_line) << c.input;
  }
}

TEST(TextParseTest, ShortensLongOffendingText) {
  std::string name = "9" + std::string(100, 'x');
  auto parsed = ParseTextFormat(name + " 1\n");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().message(),
            "line 1: invalid metric name \"" + name.substr(0, 64) + "...\"");
}

TEST(TextParseTest, ParsesNodeExporterStyleFamily) {
  const std::string input =
      "# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n"
      "# TYPE node_cpu_seconds_total counter\n"
      "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 12345.67\n"
      "node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 89.1\n"
      "# HELP go_gc_duration_seconds A summary of the pause duration.\n"
      "# TYPE go_gc_duration_seconds summary\n"
      "go_gc_duration_seconds{quantile=\"0.5\"} 3.2e-05\n"
      "go_gc_duration_seconds_sum 0.01\n"
      "go_gc_duration_seconds_count 42\n";
  auto parsed = ParseTextExposition(input);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  ASSERT_EQ(parsed->samples.size(), 5u);
  EXPECT_EQ(parsed->samples[1].labels.Get("mode"), "user");
  EXPECT_EQ(parsed->samples[1].value, 89.1);
  EXPECT_EQ(parsed->samples[4].labels.Get("__name__"), "go_gc_duration_seconds_count");
  EXPECT_EQ(parsed->metadata["go_gc_duration_seconds"].type, "summary");
}

}  // namespace
}  // namespace alertd
