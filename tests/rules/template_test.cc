#include "rules/template.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rules/template_internal.h"

namespace alertd {
namespace {

using nlohmann::json;

struct ExpandCase {
  std::string text;
  json data;
  std::string want;
};

// Executes `text` as a Prometheus template named "test", as Prometheus's own tests do.
Result<std::string> Expand(const std::string& text,
                           const json& data,
                           TemplateOptions options = {}) {
  Result<Template> t = Template::Parse("test", text);
  if (!t.ok()) {
    return t.error();
  }
  if (options.external_url.empty()) {
    options.external_url = "http://testhost:9090/path/prefix";
  }
  return t->Execute(data, options);
}

void ExpectExpansions(const std::vector<ExpandCase>& cases) {
  for (const ExpandCase& c : cases) {
    Result<std::string> got = Expand(c.text, c.data);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.error().message();
    EXPECT_EQ(*got, c.want) << c.text;
  }
}

struct ErrorCase {
  std::string text;
  json data;
  std::string want;
};

void ExpectErrors(const std::vector<ErrorCase>& cases, TemplateOptions options = {}) {
  for (const ErrorCase& c : cases) {
    Result<std::string> got = Expand(c.text, c.data, options);
    ASSERT_FALSE(got.ok()) << c.text << " expanded to " << *got;
    EXPECT_EQ(got.error().message(), c.want) << c.text;
  }
}

json Floats(std::vector<double> values) {
  json out = json::array();
  for (double v : values) {
    out.push_back(v);
  }
  return out;
}

TEST(TemplateSyntax, TextAndActions) {
  ExpectExpansions({
      {"plain text", nullptr, "plain text"},
      {"{{ 1 }}", nullptr, "1"},
      {"{{ 1.5 }}", nullptr, "1.5"},
      {"{{ 1e3 }}", nullptr, "1000"},
      {"{{ 0x1F }}", nullptr, "31"},
      {"{{ 'a' }}", nullptr, "97"},
      {"{{ \"a\\tb\\u00e9\\x41\" }}",
       nullptr,
       "a\tb\xc3\xa9"
       "A"},
      {"{{ `raw\\n` }}", nullptr, "raw\\n"},
      {"{{ true }} {{ false }}", nullptr, "true false"},
      {"{{ . }}", "x", "x"},
      {"a {{- \" b \" -}} c", nullptr, "a b c"},
      {"a  {{- 1 }}  b", nullptr, "a1  b"},
      {"a  {{ 1 -}}  \n b", nullptr, "a  1b"},
      {"a {{/* comment */}} b", nullptr, "a  b"},
      {"a {{- /* comment */ -}} b", nullptr, "ab"},
      {"{{ (1) }}", nullptr, "1"},
      {"{{ \"x\" | printf \"%s-%s\" \"y\" }}", nullptr, "y-x"},
      {"{{\n  1\n}}", nullptr, "1"},
  });
}

TEST(TemplateSyntax, FieldsAndVariables) {
  json data = {{"Labels", {{"instance", "host:9100"}, {"job", "node"}}},
               {"Value", 12.0},
               {"List", {1, 2, 3}},
               {"Nested", {{"a", {{"b", "deep"}}}}},
               {"Null", nullptr}};
  ExpectExpansions({
      {"{{ .Labels.instance }}", data, "host:9100"},
      {"{{ .Nested.a.b }}", data, "deep"},
      {"{{ .Value }}", data, "12"},
      {"{{ .Missing }}", data, "<no value>"},
      {"{{ .Missing.deeper }}", data, "<no value>"},
      {"{{ .Null }}", data, "<no value>"},
      {"{{ .List }}", data, "[1 2 3]"},
      {"{{ .Big }}", json{{"Big", std::numeric_limits<uint64_t>::max()}}, "18446744073709551615"},
      {"{{ .Labels }}", data, "map[instance:host:9100 job:node]"},
      {"{{ $x := .Labels }}{{ $x.job }}", data, "node"},
      {"{{ $x := 1 }}{{ $x = 2 }}{{ $x }}", data, "2"},
      {"{{ $.Labels.job }}", data, "node"},
      {"{{ with .Nested }}{{ $.Value }}{{ .a.b }}{{ end }}", data, "12deep"},
      {"{{ (.Nested.a).b }}", data, "deep"},
      {"{{ $x := \"out\" }}{{ if true }}{{ $x := \"in\" }}{{ $x }}{{ end }}{{ $x }}",
       data,
       "inout"},
  });
}

TEST(TemplateSyntax, ControlStructures) {
  json data = {{"List", {"a", "b", "c"}},
               {"Map", {{"y", 2}, {"x", 1}}},
               {"Empty", json::array()},
               {"Zero", 0},
               {"Str", ""}};
  ExpectExpansions({
      {"{{ if true }}yes{{ end }}", data, "yes"},
      {"{{ if .Zero }}yes{{ else }}no{{ end }}", data, "no"},
      {"{{ if .Str }}a{{ else if .List }}b{{ else }}c{{ end }}", data, "b"},
      {"{{ if .Missing }}a{{ else if .Empty }}b{{ else }}c{{ end }}", data, "c"},
      {"{{ range .List }}{{ . }},{{ end }}", data, "a,b,c,"},
      {"{{ range $i, $v := .List }}{{ $i }}={{ $v }} {{ end }}", data, "0=a 1=b 2=c "},
      {"{{ range $v := .List }}{{ $v }}{{ end }}", data, "abc"},
      {"{{ range $k, $v := .Map }}{{ $k }}{{ $v }}{{ end }}", data, "x1y2"},
      {"{{ range .Empty }}x{{ else }}empty{{ end }}", data, "empty"},
      {"{{ range .Missing }}x{{ else }}none{{ end }}", data, "none"},
      {"{{ range .List }}{{ if eq . \"b\" }}{{ break }}{{ end }}{{ . }}{{ end }}", data, "a"},
      {"{{ range .List }}{{ if eq . \"b\" }}{{ continue }}{{ end }}{{ . }}{{ end }}", data, "ac"},
      {"{{ with .List }}{{ len . }}{{ end }}", data, "3"},
      {"{{ with .Empty }}x{{ else }}empty{{ end }}", data, "empty"},
      {"{{ define \"x\" }}[{{ . }}]{{ end }}{{ template \"x\" \"arg\" }}", data, "[arg]"},
      {"{{ define \"x\" }}[{{ . }}]{{ end }}{{ template \"x\" }}", data, "[<no value>]"},
      {"{{ block \"b\" .List }}{{ len . }}{{ end }}", data, "3"},
      {"{{ define \"x\" }}{{.arg0}} {{.arg1}}{{ end }}{{ template \"x\" (args 1 \"2\") }}",
       data,
       "1 2"},
  });
}

TEST(TemplateBuiltins, ExpectedResults) {
  json data = {{"List", {"a", "b", "c"}}, {"Map", {{"k", "v"}}}, {"Int", 3}, {"Float", 2.5}};
  ExpectExpansions({
      {"{{ and 1 0 2 }}", data, "0"},
      {"{{ and 1 2 }}", data, "2"},
      {"{{ or 0 \"\" \"x\" }}", data, "x"},
      {"{{ or 0 \"\" }}", data, ""},
      {"{{ not 0 }} {{ not .List }}", data, "true false"},
      {"{{ len .List }} {{ len \"héllo\" }} {{ len .Map }}", data, "3 6 1"},
      {"{{ index .List 1 }} {{ index .Map \"k\" }} {{ index .Map \"missing\" }}", data, "b v "},
      {"{{ slice .List 1 }} {{ slice \"abcdef\" 1 3 }}", data, "[b c] bc"},
      {"{{ print 1 2 \"a\" \"b\" 3 }}", data, "1 2ab3"},
      {"{{ println 1 \"a\" }}", data, "1 a\n"},
      {"{{ html \"<a href='x'>&\\\"\" }}", data, "&lt;a href=&#39;x&#39;&gt;&amp;&#34;"},
      {"{{ js \"it's <b>\" }}", data, "it\\'s \\u003Cb\\u003E"},
      {"{{ urlquery \"a b&c=d/é\" }}", data, "a+b%26c%3Dd%2F%C3%A9"},
      {"{{ eq 1 1 }} {{ eq \"a\" \"b\" \"a\" }} {{ ne 1 2 }}", data, "true true true"},
      {"{{ lt 1 2 }} {{ le 2 2 }} {{ gt 2.5 .Float }} {{ ge \"b\" \"a\" }}",
       data,
       "true true false true"},
      {"{{ eq .Missing \"x\" }}", data, "false"},
  });
}

TEST(TemplatePrintf, GoVerbs) {
  ExpectExpansions({
      {"{{ printf \"%s|%d|%v|%q\" \"s\" 42 1.5 \"q\\\"\" }}", nullptr, "s|42|1.5|\"q\\\"\""},
      {"{{ printf \"%.2f|%f|%e|%g\" 3.14159 2.5 123456.789 0.000012345 }}",
       nullptr,
       "3.14|2.500000|1.234568e+05|1.2345e-05"},
      {"{{ printf \"%5s|%-5s|%05d|%+d|%x|%X|%o\" \"ab\" \"ab\" 42 42 255 255 8 }}",
       nullptr,
       "   ab|ab   |00042|+42|ff|FF|10"},
      {"{{ printf \"%8.3f|%-8.2f|%.0f\" 3.14159 2.5 2.5 }}", nullptr, "   3.142|2.50    |2"},
      {"{{ printf \"%x\" \"hi\" }}", nullptr, "6869"},
      {"{{ printf \"%.3s\" \"abcdef\" }}", nullptr, "abc"},
      {"{{ printf \"%t %v\" true nil }}", nullptr, "true <nil>"},
      {"{{ printf \"100%%\" }}", nullptr, "100%"},
      {"{{ printf \"%d\" \"x\" }}", nullptr, "%!d(string=x)"},
      {"{{ printf \"%s\" 1 }}", nullptr, "%!s(int=1)"},
      {"{{ printf \"%d %d\" 1 }}", nullptr, "1 %!d(MISSING)"},
      {"{{ printf \"%d\" 1 2 }}", nullptr, "1%!(EXTRA int=2)"},
      // Go drops a width that grows past 1e6, and the rest of the format with it.
      {"{{ printf \"%555555555555555555555d|%s\" 1 \"x\" }}",
       nullptr,
       "%!(NOVERB)%!(EXTRA int=1, string=x)"},
      {"{{ printf \"%1000001d\" 7 | len }}", nullptr, "1000001"},
      {"{{ printf \"%*d\" 2000000 7 }}", nullptr, "%!(BADWIDTH)7"},
      {"{{ printf \"%0.2f\" (parseDuration \"1h2m10ms\") }}", nullptr, "3720.01"},
      {"{{ printf \"%v\" . }}", json{{"a", 1}}, "map[a:1]"},
      {"{{ printf \"%c|%q\" 65 65 }}", nullptr, "A|'A'"},
      {"{{ printf \"%x|%x|%X\" 12.0 0.5 0.1234 }}",
       nullptr,
       "0x1.8p+03|0x1p-01|0X1.F972474538EF3P-04"},
      {"{{ printf \"%10.3s|\" 3.14159 }}", nullptr, "%!s(float64=      3.14)|"},
      {"{{ printf \"%T %T %T\" 1 \"a\" 1.5 }}", nullptr, "int string float64"},
  });
}

TEST(TemplateFloat, FormatsAsGoPercentV) {
  struct Case {
    double value;
    std::string want;
  };

  std::vector<Case> cases = {
      {0, "0"},
      {12, "12"},
      {0.1234, "0.1234"},
      {1e6, "1e+06"},
      {123456, "123456"},
      {1234567, "1.234567e+06"},
      {0.0001, "0.0001"},
      {0.00001, "1e-05"},
      {-2.5, "-2.5"},
      {1e21, "1e+21"},
      {0.1 + 0.2, "0.30000000000000004"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::nan(""), "NaN"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FormatGoFloat(c.value), c.want) << c.value;
    Result<std::string> got = Expand("{{ . }}", c.value);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, c.want) << c.value;
  }
}

// Expectations from Prometheus 2.42 template/template_test.go.
TEST(TemplatePrometheusFunctions, MatchUpstreamExpectations) {
  json ints = {0, -1, 1, 1234567, std::numeric_limits<int64_t>::max()};
  json uints = {0u, 1u, 1234567u, std::numeric_limits<uint64_t>::max()};
  double inf = std::numeric_limits<double>::infinity();
  ExpectExpansions({
      {"{{ range . }}{{ humanize . }}:{{ end }}",
       Floats({0.0, 1.0, 1234567.0, .12}),
       "0:1:1.235M:120m:"},
      {"{{ range . }}{{ humanize . }}:{{ end }}",
       json{"0.0", "1.0", "1234567.0", ".12"},
       "0:1:1.235M:120m:"},
      {"{{ range . }}{{ humanize . }}:{{ end }}", ints, "0:-1:1:1.235M:9.223E:"},
      {"{{ range . }}{{ humanize . }}:{{ end }}", uints, "0:1:1.235M:18.45E:"},
      {"{{ range . }}{{ humanize1024 . }}:{{ end }}",
       Floats({0.0, 1.0, 1048576.0, .12}),
       "0:1:1Mi:0.12:"},
      {"{{ range . }}{{ humanize1024 . }}:{{ end }}", ints, "0:-1:1:1.177Mi:8Ei:"},
      {"{{ range . }}{{ humanize1024 . }}:{{ end }}", uints, "0:1:1.177Mi:16Ei:"},
      {"{{ range . }}{{ humanizeDuration . }}:{{ end }}",
       Floats({0, 1, 60, 3600, 86400, 86400 + 3600, -(86400 * 2 + 3600 * 3 + 60 * 4 + 5), 899.99}),
       "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:"},
      {"{{ range . }}{{ humanizeDuration . }}:{{ end }}",
       Floats({.1, .0001, .12345, 60.1, 60.5, 1.2345, 12.345}),
       "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:"},
      {"{{ range . }}{{ humanizeDuration . }}:{{ end }}",
       json{".1", ".0001", "60.5", "12.345"},
       "100ms:100us:1m 0s:12.35s:"},
      {"{{ range . }}{{ humanizeDuration . }}:{{ end }}",
       json{0, -1, 1, 1234567},
       "0s:-1s:1s:14d 6h 56m 7s:"},
      {"{{ humanizeDuration 90061 }}", nullptr, "1d 1h 1m 1s"},
      {"{{ range . }}{{ humanize . }}:{{ humanize1024 . }}:{{ humanizeDuration . }}:"
       "{{humanizeTimestamp .}}:{{ end }}",
       Floats({inf, -inf, std::nan("")}),
       "+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:"},
      {"{{ range . }}{{ humanize . }}:{{ end }}", json{"+Inf", "-Inf", "NaN"}, "+Inf:-Inf:NaN:"},
      {"{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:"
       "{{ 0.1234567 | humanizePercentage }}:{{ 1.23456 | humanizePercentage }}",
       nullptr,
       "-22.22%:0%:12.35%:123.5%"},
      {"{{ 0.1234 | humanizePercentage }}", nullptr, "12.34%"},
      {"{{ range . }}{{ humanizePercentage . }}:{{ end }}",
       ints,
       "0%:-100%:100%:1.235e+08%:9.223e+20%:"},
      {"{{ range . }}{{ humanizePercentage . }}:{{ end }}",
       uints,
       "0%:100%:1.235e+08%:1.845e+21%:"},
      {"{{ range . }}{{ humanizeTimestamp . }}:{{ end }}",
       json{0, -1, 1, 1234567, 9223372036},
       "1970-01-01 00:00:00 +0000 UTC:1969-12-31 23:59:59 +0000 UTC:"
       "1970-01-01 00:00:01 +0000 UTC:1970-01-15 06:56:07 +0000 UTC:"
       "2262-04-11 23:47:16 +0000 UTC:"},
      {"{{ 1435065584.128 | humanizeTimestamp }}", nullptr, "2015-06-23 13:19:44.128 +0000 UTC"},
      {"{{ \"1435065584.128\" | humanizeTimestamp }}",
       nullptr,
       "2015-06-23 13:19:44.128 +0000 UTC"},
      {"{{ 1435065584.128 | toTime }}", nullptr, "2015-06-23 13:19:44.128 +0000 UTC"},
      {"{{ (1435065584.128 | toTime).Format \"2006\" }}", nullptr, "2015"},
      {"{{ (\"1435065584.128\" | toTime).Format \"2006\" }}", nullptr, "2015"},
      {"{{ (1435065584 | toTime).Unix }}", nullptr, "1435065584"},
      {"{{ \"aa bb CC\" | title }}", nullptr, "Aa Bb CC"},
      {"{{ \"aa bb CC\" | toUpper }}", nullptr, "AA BB CC"},
      {"{{ \"aA bB CC\" | toLower }}", nullptr, "aa bb cc"},
      {"{{ match \"a+\" \"aa\" }} {{ match \"a+\" \"b\" }}", nullptr, "true false"},
      {"{{ reReplaceAll \"(a)b\" \"x$1\" \"ab\" }}", nullptr, "xa"},
      {"{{ reReplaceAll \"(?P<host>[^:]+):.*\" \"${host}!\" \"db1:9100\" }}", nullptr, "db1!"},
      {"{{ reReplaceAll \"a*\" \"-\" \"baaac\" }}", nullptr, "-b-c-"},
      {"{{ graphLink \"up\" }}", nullptr, "/graph?g0.expr=up&g0.tab=0"},
      {"{{ tableLink \"rate(x[5m])\" }}", nullptr, "/graph?g0.expr=rate%28x%5B5m%5D%29&g0.tab=1"},
      {"{{ pathPrefix }}", nullptr, "/path/prefix"},
      {"{{ externalURL }}", nullptr, "http://testhost:9090/path/prefix"},
      {"{{ \"<b>\" | safeHtml }}", nullptr, "<b>"},
      {"{{ \"foo.example.com\" | stripPort }}", nullptr, "foo.example.com"},
      {"{{ \"foo.example.com:12345\" | stripPort }}", nullptr, "foo.example.com"},
      {"{{ \"192.0.2.1\" | stripPort }}", nullptr, "192.0.2.1"},
      {"{{ \"192.0.2.1:12345\" | stripPort }}", nullptr, "192.0.2.1"},
      {"{{ \"2001:0DB8::1\" | stripPort }}", nullptr, "2001:0DB8::1"},
      {"{{ \"[2001:0DB8::1]:12345\" | stripPort }}", nullptr, "2001:0DB8::1"},
      {"{{ \"[2001:0DB8::1]::12345\" | stripPort }}", nullptr, "[2001:0DB8::1]::12345"},
  });
}

TEST(TemplatePrometheusFunctions, QueryBackedFunctions) {
  TemplateOptions options;
  std::string asked;
  options.query = [&asked](const std::string& expr) -> Result<json> {
    asked = expr;
    return json{{{"Labels", {{"__name__", "metric"}, {"instance", "b"}, {"__value__", "sv"}}},
                 {"Value", 21.0}},
                {{"Labels", {{"__name__", "metric"}, {"instance", "a"}}}, {"Value", 11.0}}};
  };

  struct Case {
    std::string text;
    std::string want;
  };

  std::vector<Case> cases = {
      {"{{ query \"metric\" | first | value }}", "21"},
      {"{{ query \"metric\" | first | label \"instance\" }}", "b"},
      {"{{ query \"metric\" | first | label \"foo\" }}", ""},
      {"{{ query \"metric\" | first | strvalue }}", "sv"},
      {"{{ range query \"metric\" | sortByLabel \"instance\" }}{{.Labels.instance}}:{{.Value}}: "
       "{{end}}",
       "a:11: b:21: "},
      {"{{ with query \"metric\" }}{{ . | first | value | humanize }}{{ end }}", "21"},
  };
  for (const Case& c : cases) {
    Result<std::string> got = Expand(c.text, nullptr, options);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.error().message();
    EXPECT_EQ(*got, c.want) << c.text;
    EXPECT_EQ(asked, "metric");
  }
}

TEST(TemplatePrometheusFunctions, QueryWithoutHookFails) {
  ExpectErrors({{"{{ query \"up\" }}",
                 nullptr,
                 "template: test:1:3: executing \"test\" at <query \"up\">: error calling query: "
                 "query function is not available"}});
}

TEST(TemplatePrometheusFunctions, QueryErrorsReported) {
  TemplateOptions options;
  options.query = [](const std::string&) -> Result<json> {
    return json::array();
  };
  ExpectErrors({{"{{ query \"missing\" | first }}",
                 nullptr,
                 "template: test:1:21: executing \"test\" at <first>: error calling first: "
                 "first() called on vector with no elements"}},
               options);
  options.query = [](const std::string&) -> Result<json> {
    return Error::Unavailable("query timed out");
  };
  ExpectErrors({{"{{ query \"x\" }}",
                 nullptr,
                 "template: test:1:3: executing \"test\" at <query \"x\">: error calling query: "
                 "query timed out"}},
               options);
}

TEST(TemplateErrors, ExecutionErrorsUseGoWording) {
  json data = {{"Labels", {{"a", "b"}}}, {"N", 1}, {"F", 1.5}};
  ExpectErrors({
      {"{{ humanize \"one\" }}",
       data,
       "template: test:1:3: executing \"test\" at <humanize \"one\">: error calling humanize: "
       "strconv.ParseFloat: parsing \"one\": invalid syntax"},
      {"{{ \"one\" | humanizePercentage }}",
       data,
       "template: test:1:11: executing \"test\" at <humanizePercentage>: error calling "
       "humanizePercentage: strconv.ParseFloat: parsing \"one\": invalid syntax"},
      {"{{ range . }}{{ humanizeTimestamp . }}:{{ end }}",
       json{std::numeric_limits<int64_t>::min()},
       "template: test:1:16: executing \"test\" at <humanizeTimestamp .>: error calling "
       "humanizeTimestamp: -9.223372036854776e+18 cannot be represented as a nanoseconds "
       "timestamp since it overflows int64"},
      {"{{ .Labels.a.b }}",
       data,
       "template: test:1:10: executing \"test\" at <.Labels.a.b>: can't evaluate field b in "
       "type string"},
      {"{{ gt .F 1 }}",
       data,
       "template: test:1:3: executing \"test\" at <gt .F 1>: error calling gt: incompatible "
       "types for comparison"},
      {"{{ title 1 }}",
       data,
       "template: test:1:9: executing \"test\" at <1>: expected string; found 1"},
      {"{{ .N | title }}",
       data,
       "template: test:1:8: executing \"test\" at <title>: wrong type for value; expected "
       "string; got int"},
      {"{{ humanize }}",
       data,
       "template: test:1:3: executing \"test\" at <humanize>: wrong number of args for "
       "humanize: want 1 got 0"},
      {"{{ index .Labels 1 }}",
       data,
       "template: test:1:3: executing \"test\" at <index .Labels 1>: error calling index: "
       "value has type int; should be string"},
      {"{{ index .Missing 1 }}",
       data,
       "template: test:1:3: executing \"test\" at <index .Missing 1>: error calling index: "
       "index of untyped nil"},
      {"{{ range .N }}{{ end }}",
       data,
       "template: test:1:9: executing \"test\" at <.N>: range can't iterate over 1"},
      {"{{ template \"nope\" }}",
       data,
       "template: test:1:12: executing \"test\" at <{{template \"nope\"}}>: template \"nope\" "
       "not defined"},
      {"{{ reReplaceAll \"(\" \"x\" \"y\" }}",
       data,
       "template: test:1:3: executing \"test\" at <reReplaceAll \"(\" \"x\" \"y\">: error "
       "calling reReplaceAll: regexp: Compile(`(`): error parsing regexp: missing closing ): "
       "`(`"},
      {"{{ match \"[\" \"x\" }}",
       data,
       "template: test:1:3: executing \"test\" at <match \"[\" \"x\">: error calling match: "
       "error parsing regexp: missing closing ]: `[`"},
      {"{{ parseDuration \"1x\" }}",
       data,
       "template: test:1:3: executing \"test\" at <parseDuration \"1x\">: error calling "
       "parseDuration: not a valid duration string: \"1x\""},
      {"\n{{ 1 | len }}",
       data,
       "template: test:2:7: executing \"test\" at <len>: error calling len: len of type int"},
      {"{{ 1 2 }}",
       data,
       "template: test:1:3: executing \"test\" at <1>: can't give argument to non-function 1"},
  });
}

TEST(TemplateLimits, FailsOutputOverMaxBytes) {
  struct Case {
    std::string text;
    std::string error;
  };

  const std::vector<Case> cases = {
      {"{{ range . }}{{ . }}{{ end }}",
       "template: test:1:16: executing \"test\" at <{{.}}>: template output is longer than the "
       "maximum of 10 bytes; shorten the output or raise limits.max_template_output"},
      {"{{ range . }}ab{{ end }}",
       "template: test: template output is longer than the maximum of 10 bytes; shorten the "
       "output or raise limits.max_template_output"},
      {"{{ define \"x\" }}{{ range . }}{{ . }}{{ end }}{{ end }}{{ template \"x\" . }}",
       "template: test:1:32: executing \"x\" at <{{.}}>: template output is longer than the "
       "maximum of 10 bytes; shorten the output or raise limits.max_template_output"},
  };
  TemplateOptions options;
  options.max_output_bytes = 10;
  for (const Case& c : cases) {
    Result<std::string> got = Expand(c.text, json{"ab", "ab", "ab", "ab", "ab", "ab"}, options);
    ASSERT_FALSE(got.ok()) << c.text;
    EXPECT_EQ(got.error().message(), c.error) << c.text;
  }
}

TEST(TemplateLimits, AcceptsOutputAtMaxBytes) {
  TemplateOptions options;
  options.max_output_bytes = 10;
  Result<std::string> at_limit =
      Expand("{{ range . }}{{ . }}{{ end }}", json{"abcde", "fghij"}, options);
  ASSERT_TRUE(at_limit.ok()) << at_limit.error().message();
  EXPECT_EQ(*at_limit, "abcdefghij");

  options.max_output_bytes = 0;
  Result<std::string> unlimited = Expand(
      "{{ range . }}{{ . }}{{ end }}", json(std::vector<std::string>(1000, "abcdefghij")), options);
  ASSERT_TRUE(unlimited.ok()) << unlimited.error().message();
  EXPECT_EQ(unlimited->size(), 10000u);
}

TEST(TemplateLimits, DefaultsToOneMebibyte) {
  Result<std::string> got = Expand("{{ range . }}{{ . }}{{ end }}",
                                   json(std::vector<std::string>(1100, std::string(1000, 'x'))));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(
      got.error().message(),
      "template: test:1:16: executing \"test\" at <{{.}}>: template output is longer than the "
      "maximum of 1048576 bytes; shorten the output or raise limits.max_template_output");
}

TEST(TemplateErrors, ParseErrorsCarryPosition) {
  struct Case {
    std::string text;
    std::string message;
    int line;
    int column;
  };

  std::vector<Case> cases = {
      {"{{", "template: test:1: unclosed action", 1, 3},
      {"a\n{{ humanise $value }}", "template: test:2: function \"humanise\" not defined", 2, 4},
      {"{{ $lables.instance }}", "template: test:1: undefined variable \"$lables\"", 1, 4},
      {"{{ if true }}x", "template: test:1: unexpected EOF", 1, 14},
      {"{{ end }}", "template: test:1: unexpected {{end}}", 1, 8},
      {"{{ else }}", "template: test:1: unexpected {{else}}", 1, 9},
      {"{{ range .x }}{{ else }}{{ else }}{{ end }}",
       "template: test:1: expected end; found {{else}}",
       1,
       33},
      {"{{ \"abc }}", "template: test:1: unterminated quoted string", 1, 4},
      {"{{ `abc }}", "template: test:1: unterminated raw quoted string", 1, 4},
      {"{{/* x }}", "template: test:1: unclosed comment", 1, 3},
      {"{{/* x */ 1 }}", "template: test:1: comment ends before closing delimiter", 1, 3},
      {"{{ 1 | 2 }}", "template: test:1: non executable command in pipeline stage 2", 1, 10},
      {"{{ }}", "template: test:1: missing value for command", 1, 4},
      {"{{ | }}", "template: test:1: unexpected \"|\" in command", 1, 4},
      {"{{ ( }}", "template: test:1: unclosed left paren", 1, 6},
      {"{{ ) }}", "template: test:1: unexpected \")\" in command", 1, 4},
      {"{{ .x.y. }}", "template: test:1: unexpected <.> in operand", 1, 8},
      {"{{ 3x }}", "template: test:1: bad number syntax: \"3x\"", 1, 4},
      {"{{ break }}", "template: test:1: {{break}} outside {{range}}", 1, 10},
      {"{{ define \"a\" }}1{{ end }}{{ define \"a\" }}2{{ end }}",
       "template: test:1: template: multiple definition of template \"a\"",
       1,
       51},
      {"{{ template x }}", "template: test:1: unexpected \"x\" in template clause", 1, 13},
      {"{{ .a b }}", "template: test:1: function \"b\" not defined", 1, 7},
      {"{{ \"x\".y }}", "template: test:1: unexpected . after term \"\\\"x\\\"\"", 1, 7},
      {"{{ $x := 1 }}{{ if true }}{{ $y := 2 }}{{ end }}{{ $y }}",
       "template: test:1: undefined variable \"$y\"",
       1,
       52},
      {"{{\n1 \n", "template: test:3: unclosed action started at test:1", 3, 1},
      {"{{ \xc2\xa0 }}", "template: test:1: unrecognized character in action: U+00A0", 1, 4},
  };
  for (const Case& c : cases) {
    Result<Template> t = Template::Parse("test", c.text);
    ASSERT_FALSE(t.ok()) << c.text;
    EXPECT_EQ(t.error().message(), c.message) << c.text;
    EXPECT_EQ(t.error().code(), ErrorCode::kInvalidArgument) << c.text;
    EXPECT_EQ(t.error().line(), c.line) << c.text;
    EXPECT_EQ(t.error().column(), c.column) << c.text;
  }
}

TEST(TemplateAlert, ExpandsPrometheusVariables) {
  Labels labels{{"instance", "db1:9100"}, {"job", "node"}};
  Labels external{{"cluster", "eu1"}};

  struct Case {
    std::string text;
    double value;
    std::string want;
  };

  std::vector<Case> cases = {
      {"{{ $value | humanizePercentage }}", 0.1234, "12.34%"},
      {"{{ $value }}", 0.1234, "0.1234"},
      {"{{ $value }}", 1e6, "1e+06"},
      {"{{ $value }}", 12, "12"},
      {"{{ .Value }}", 12, "12"},
      {"{{ $labels.instance }} of {{ .Labels.job }}", 0, "db1:9100 of node"},
      {"[{{ $labels.missing }}]", 0, "[]"},
      {"{{ $externalLabels.cluster }} {{ $externalURL }}", 0, "eu1 http://prom:9090"},
      {"{{ humanize $value }}", 1234567, "1.235M"},
      {"{{ printf \"%.2f\" $value }}", 3.14159, "3.14"},
      {"{{ if gt $value 80.0 }}high{{ else }}ok{{ end }}", 90, "high"},
      {"{{ $labels.instance | stripPort }}", 0, "db1"},
      {"{{ humanizeDuration $value }}", 0.1234, "123.4ms"},
  };
  for (const Case& c : cases) {
    Result<std::string> got =
        ExpandAlertTemplate("__alert_Test", c.text, labels, external, "http://prom:9090", c.value);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.error().message();
    EXPECT_EQ(*got, c.want) << c.text;
  }
}

TEST(TemplateAlert, ErrorsNameTheTemplate) {
  Result<std::string> parse =
      ExpandAlertTemplate("__alert_Test", "{{ humanise $value }}", {}, {}, "", 1);
  ASSERT_FALSE(parse.ok());
  EXPECT_EQ(parse.error().message(),
            "error parsing template __alert_Test: template: __alert_Test:1: function "
            "\"humanise\" not defined");
  Result<std::string> exec =
      ExpandAlertTemplate("__alert_Test", "{{ humanize \"x\" }}", {}, {}, "", 1);
  ASSERT_FALSE(exec.ok());
  EXPECT_EQ(exec.error().message(),
            "error executing template __alert_Test: template: __alert_Test:1:115: executing "
            "\"__alert_Test\" at <humanize \"x\">: error calling humanize: strconv.ParseFloat: "
            "parsing \"x\": invalid syntax");
}

// Runs `command` and returns its standard output and error.
std::string RunCommand(const std::string& command) {
  std::string out;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) {
    out.append(buf, n);
  }
  pclose(pipe);
  return out;
}

// Parses the annotations of the first alert promtool reports under "got:", which it prints as
// Annotations:{a0="...", a1="..."} with Go-quoted values.
std::map<std::string, std::string> PromtoolAnnotations(const std::string& output) {
  std::map<std::string, std::string> annotations;
  size_t pos = output.find("got:[");
  pos = pos == std::string::npos ? pos : output.find("Annotations:{", pos);
  if (pos == std::string::npos) {
    return annotations;
  }
  pos += std::string("Annotations:{").size();
  while (pos < output.size() && output[pos] != '}') {
    size_t eq = output.find('=', pos);
    std::string name = output.substr(pos, eq - pos);
    size_t end = eq + 2;
    while (end < output.size() && output[end] != '"') {
      end += output[end] == '\\' ? 2 : 1;
    }
    std::string value;
    template_internal::UnquoteGoString(output.substr(eq + 1, end - eq), &value);
    annotations[name] = value;
    pos = end + 1;
    if (output.compare(pos, 2, ", ") == 0) {
      pos += 2;
    }
  }
  return annotations;
}

// Differential test: promtool (Prometheus 2.42's own template engine) expands the same
// annotations, and every expansion or error message must match byte for byte.
TEST(TemplatePromtool, ExpansionsMatchPromtool) {
  if (RunCommand("command -v promtool").empty()) {
    GTEST_SKIP() << "promtool is not installed";
  }
  const std::vector<std::string> templates = {
      R"tmpl({{ $value }})tmpl",
      R"tmpl({{ $value | humanizePercentage }}|{{ humanize $value }}|{{ humanize1024 $value }}|{{ humanizeDuration $value }})tmpl",
      R"tmpl({{ $labels.instance }}|{{ $labels.missing }}|{{ .Labels.job }}|{{ $labels }})tmpl",
      R"tmpl({{ printf "%.2f|%5.1f|%e|%g|%v|%s|%d|%x|%q" $value $value $value $value $value $value $value $value $value }})tmpl",
      R"tmpl({{ humanize "x" }})tmpl",
      R"tmpl({{ .Foo }})tmpl",
      R"tmpl({{ gt $value 1 }})tmpl",
      R"tmpl({{ index $labels "nope" }}|{{ len $labels }}|{{ printf "%v" $externalLabels }}|{{ $externalURL }})tmpl",
      R"tmpl({{ $value | humanizeTimestamp }}|{{ (toTime $value).Format "2006-01-02T15:04:05.000Z07:00 Mon" }})tmpl",
      R"tmpl({{ reReplaceAll "(" "x" "y" }})tmpl",
      R"tmpl({{ title "hello wörld-foo_bar" }}|{{ toUpper "straße" }})tmpl",
      R"tmpl({{ range $k, $v := $labels }}{{ $k }}={{ $v }},{{ end }})tmpl",
      R"tmpl({{ 1e6 }} {{ 0.000001 }} {{ 123456789.0 }} {{ -0.0 }})tmpl",
      R"tmpl({{ .Labels.instance.foo }})tmpl",
      R"tmpl({{ printf "%s" 1 }}{{ printf "%d" }}{{ printf "%d" 1 2 }}{{ printf "%!" }})tmpl",
      R"tmpl({{ slice "abc" 1 }}{{ html "<>" }}{{ js "a=b" }}{{ urlquery "a b" }})tmpl",
      R"tmpl({{ template "nope" }})tmpl",
      R"tmpl({{ eq $value 1.0 }}{{ lt 1 "a" }})tmpl",
      R"tmpl({{ range $i, $e := query "m" }}{{ $i }}:{{ $e.Value }}{{ end }})tmpl",
      R"tmpl({{ if and $labels.instance (not $labels.nope) }}yes{{ else }}no{{ end }}|{{ or $labels.nope "dflt" }})tmpl",
      R"tmpl({{ define "x" }}[{{ . }}]{{ end }}{{ template "x" $labels.job }}{{ block "y" 1 }}<{{ . }}>{{ end }})tmpl",
      R"tmpl({{ printf "%q|%v|%10.3s|%-6d|%+.1e" $labels.instance $labels 3.14159 42 12345.678 }})tmpl",
      R"tmpl({{ match "^host" $labels.instance }}|{{ reReplaceAll "^(.*):(\\d+)$" "$2 on $1" $labels.instance }}|{{ reReplaceAll "o" "${x}0" "foo" }})tmpl",
      R"tmpl({{ humanize 0.000123 }}|{{ humanize -1234 }}|{{ humanizeDuration 0.000001234 }}|{{ humanizeDuration 59.99 }}|{{ humanize1024 1023 }}|{{ humanize1024 -2048 }})tmpl",
      R"tmpl({{ with query "m" }}{{ . | first | value | humanize }}|{{ (first .).Labels.job }}{{ end }}|{{ range query "m" }}{{ .Labels.instance }}{{ end }}|{{ query "m" | first | label "instance" }})tmpl",
      R"tmpl({{ $x := 1 }}{{ range $labels }}{{ $x = 2 }}{{ end }}{{ $x }}|{{ len "héllo" }}|{{ index $labels "job" }})tmpl",
      R"tmpl({{ print 1 2 "a" 3.5 nil true }}|{{ println "x" 2 }}|{{ printf "%T" 1 }})tmpl",
      R"tmpl({{ 1 | printf "%d %s" "x" }})tmpl",
      R"tmpl({{ parseDuration "1h30m" }}|{{ "2001:db8::1" | stripPort }}|{{ graphLink "rate(up[5m])" }})tmpl",
      R"tmpl({{ args 1 "b" }}|{{ (args 1 "b").arg1 }})tmpl",
      R"tmpl({{ $value | printf "%.3g" }}|{{ printf "%08.2f" -3.14159 }}|{{ printf "% d|%x|%X|%o|%b|%c|%U" 5 -255 255 8 5 9731 9731 }})tmpl",
      R"tmpl({{- "  trim  " -}}  |  {{- /* c */ -}}  x)tmpl",
      R"tmpl({{ eq "a" "b" "a" }}{{ ne 1 2 }}{{ le 1.5 1.5 }}{{ ge "b" "a" }})tmpl",
      R"tmpl({{ slice "abcdef" 1 3 }}|{{ index "abc" 1 }}|{{ slice "abc" 2 1 }})tmpl",
      R"tmpl({{ html "<a href='x'>&" }}|{{ js "</script>\n" }}|{{ urlquery "a&b=c d/é" }})tmpl",
      R"tmpl({{ toTime "abc" }})tmpl",
      R"tmpl({{ title 1 }})tmpl",
      R"tmpl({{ $value | title }})tmpl",
      R"tmpl({{ humanize }})tmpl",
      R"tmpl({{ index $labels 1 }})tmpl",
      R"tmpl({{ range $value }}{{ end }})tmpl",
      R"tmpl({{ len $value }})tmpl",
      R"tmpl({{ 1 2 }})tmpl",
      R"tmpl({{ nil }})tmpl",
      R"tmpl({{ index .Labels "a" "b" }})tmpl",
      R"tmpl({{ $labels.job.x }})tmpl",
      R"tmpl({{ .Value.x }})tmpl",
      R"tmpl({{ printf 1 }})tmpl",
      R"tmpl({{ match "[" "x" }})tmpl",
      R"tmpl({{ parseDuration "1x" }})tmpl",
      R"tmpl({{ humanizeTimestamp 1e300 }})tmpl",
      R"tmpl({{ query "m" | first | value | printf "%.1f" }})tmpl",
      R"tmpl({{ sortByLabel "job" 1 }})tmpl",
      R"tmpl({{ first "x" }})tmpl",
      R"tmpl({{ if $value }}t{{ end }}{{ with $labels.x }}w{{ else }}e{{ end }})tmpl",
      R"tmpl({{ lt $value 1.0 }}{{ eq $labels.job "node" }}{{ eq $value 1 }})tmpl",
      R"tmpl({{ slice $labels 1 }})tmpl",
      R"tmpl({{ and }})tmpl",
      R"tmpl({{ (index $labels "job") | toUpper }})tmpl",
      R"tmpl({{ toTime "x" }})tmpl",
  };
  for (double value : {1234567.891, 0.1234, 12.0, 1e21, 0.00001}) {
    std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "template_promtool";
    std::filesystem::create_directories(dir);
    {
      std::ofstream rules(dir / "rules.yml");
      rules << "groups:\n- name: g\n  rules:\n  - alert: T\n    expr: m > 0\n    annotations:\n";
      for (size_t i = 0; i < templates.size(); ++i) {
        std::string quoted;
        for (char c : templates[i]) {
          quoted += c == '\'' ? "''" : std::string(1, c);
        }
        rules << "      a" << i << ": '" << quoted << "'\n";
      }
      std::ofstream test(dir / "test.yml");
      test << "rule_files: [rules.yml]\ntests:\n- interval: 1m\n  input_series:\n"
           << "  - series: 'm{instance=\"host:9100\", job=\"node\"}'\n"
           << "    values: '" << FormatGoFloat(value) << "'\n"
           << "  alert_rule_test:\n  - eval_time: 0m\n    alertname: T\n    exp_alerts: []\n";
    }
    std::string output = RunCommand("cd '" + dir.string() + "' && promtool test rules test.yml");
    std::map<std::string, std::string> want = PromtoolAnnotations(output);
    ASSERT_EQ(want.size(), templates.size()) << output;

    Labels labels{{"__name__", "m"}, {"instance", "host:9100"}, {"job", "node"}};
    TemplateOptions options;
    options.query = [&labels, value](const std::string&) -> Result<json> {
      json sample_labels = json::object();
      for (const Label& l : labels) {
        sample_labels[l.name] = l.value;
      }
      return json{{{"Labels", sample_labels}, {"Value", value}}};
    };
    for (size_t i = 0; i < templates.size(); ++i) {
      Result<std::string> got =
          ExpandAlertTemplate("__alert_T", templates[i], labels, {}, "", value, options);
      std::string expanded =
          got.ok() ? *got : "<error expanding template: " + got.error().message() + ">";
      EXPECT_EQ(expanded, want["a" + std::to_string(i)]) << templates[i] << " value " << value;
    }
  }
}

// Differential test: amtool 0.25 renders the same texts with Alertmanager's own engine over
// the same notification data (its JSON uses lower-case keys, ours Go's field names).
TEST(TemplateAmtool, RenderingsMatchAmtool) {
  if (RunCommand("command -v amtool").empty()) {
    GTEST_SKIP() << "amtool is not installed";
  }
  const std::vector<std::string> texts = {
      R"tmpl({{ template "x" }}|{{ .Receiver }}|{{ .Status }}|{{ .ExternalURL }}|{{ len .Alerts }})tmpl",
      R"tmpl({{ len .Alerts.Firing }}|{{ len .Alerts.Resolved }}|{{ .GroupLabels }})tmpl",
      R"tmpl({{ .CommonLabels.SortedPairs }}|{{ .CommonLabels.Names }}|{{ .CommonLabels.Values }})tmpl",
      R"tmpl({{ range .Alerts }}{{ .Status }} {{ .StartsAt }} {{ .EndsAt }} {{ .StartsAt.Format "2006" }};{{ end }})tmpl",
      R"tmpl([{{ .CommonLabels.missing }}]{{ (.CommonLabels.Remove (stringSlice "job")).Names }})tmpl",
      R"tmpl({{ join "," (stringSlice "a" "b") }}|{{ reReplaceAll "o" "0" "foo" }}|{{ match "^D" .CommonLabels.alertname }})tmpl",
      R"tmpl({{ range .Alerts }}{{ .Annotations }}{{ .Annotations.SortedPairs }}{{ end }})tmpl",
      R"tmpl({{ range .CommonLabels.SortedPairs }}{{ .Name }}={{ .Value }},{{ end }})tmpl",
      R"tmpl({{ with .CommonAnnotations.summary }}{{ . }}{{ else }}none{{ end }})tmpl",
      R"tmpl({{ range $i, $a := .Alerts }}{{ $i }}{{ $a.Labels.alertname | toUpper }}{{ end }})tmpl",
      R"tmpl({{ title "hello world" }}|{{ toLower "ABC" }}|{{ safeHtml "<b>" }}|{{ printf "%s-%d" .Status 3 }})tmpl",
      R"tmpl({{ range .Alerts.Resolved }}{{ .EndsAt.Format "15:04:05 MST" }}{{ end }})tmpl",
      R"tmpl({{ .CommonLabels.SortedPairs.Names }}|{{ .CommonLabels.SortedPairs.Values }})tmpl",
      R"tmpl({{ title "hello wORLD o'neil mc-donald 1st" }}|{{ toLower "ÀBC" }}|{{ toUpper "é" }})tmpl",
  };
  const std::string amtool_data =
      R"({"receiver":"team","status":"firing","alerts":[{"status":"firing","labels":)"
      R"({"alertname":"Down","instance":"a:1"},"annotations":{"summary":"s1"},)"
      R"("startsAt":"2015-06-23T13:19:44.128Z","endsAt":"0001-01-01T00:00:00Z",)"
      R"("generatorURL":"http://g","fingerprint":"abc"},{"status":"resolved","labels":)"
      R"({"alertname":"Down","instance":"b:2"},"annotations":{},)"
      R"("startsAt":"2015-06-23T13:19:44Z","endsAt":"2015-06-23T14:00:00Z",)"
      R"("generatorURL":"","fingerprint":"def"}],"groupLabels":{"alertname":"Down"},)"
      R"("commonLabels":{"alertname":"Down","job":"node"},"commonAnnotations":{},)"
      R"("externalURL":"http://am:9093"})";
  json data = {
      {"Receiver", "team"},
      {"Status", "firing"},
      {"Alerts",
       {{{"Status", "firing"},
         {"Labels", {{"alertname", "Down"}, {"instance", "a:1"}}},
         {"Annotations", {{"summary", "s1"}}},
         {"StartsAt", "2015-06-23T13:19:44.128Z"},
         {"EndsAt", "0001-01-01T00:00:00Z"},
         {"GeneratorURL", "http://g"},
         {"Fingerprint", "abc"}},
        {{"Status", "resolved"},
         {"Labels", {{"alertname", "Down"}, {"instance", "b:2"}}},
         {"Annotations", json::object()},
         {"StartsAt", "2015-06-23T13:19:44Z"},
         {"EndsAt", "2015-06-23T14:00:00Z"},
         {"GeneratorURL", ""},
         {"Fingerprint", "def"}}}},
      {"GroupLabels", {{"alertname", "Down"}}},
      {"CommonLabels", {{"alertname", "Down"}, {"job", "node"}}},
      {"CommonAnnotations", json::object()},
      {"ExternalURL", "http://am:9093"},
  };
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "template_amtool";
  std::filesystem::create_directories(dir);
  const std::string definitions = R"({{ define "x" }}X{{ end }})";
  std::ofstream(dir / "a.tmpl") << definitions;
  std::ofstream(dir / "data.json") << amtool_data;
  TemplateSet set;
  ASSERT_TRUE(set.AddFile("a.tmpl", definitions).ok());
  for (size_t i = 0; i < texts.size(); ++i) {
    std::ofstream(dir / "text") << texts[i];
    std::string want = RunCommand("cd '" + dir.string() +
                                  "' && amtool template render --template.glob=a.tmpl "
                                  "--template.data=data.json --template.text=\"$(cat text)\"");
    if (!want.empty() && want.back() == '\n') {
      want.pop_back();
    }
    Result<std::string> got = set.ExecuteText(texts[i], data);
    ASSERT_TRUE(got.ok()) << texts[i] << ": " << got.error().message();
    EXPECT_EQ(*got, want) << texts[i];
  }
}

TEST(TemplateAlert, MissingDataFieldIsAnError) {
  Result<std::string> got = ExpandAlertTemplate("__alert_T", "{{ .Foo }}", {}, {}, "", 1);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().message(),
            "error executing template __alert_T: template: __alert_T:1:115: executing "
            "\"__alert_T\" at <.Foo>: can't evaluate field Foo in type struct { Labels "
            "map[string]string; ExternalLabels map[string]string; ExternalURL string; Value "
            "float64 }");
}

TEST(TemplateAlert, LaterLinesKeepTheirColumns) {
  Result<std::string> exec =
      ExpandAlertTemplate("__alert_Test", "x\n{{ humanize \"x\" }}", {}, {}, "", 1);
  ASSERT_FALSE(exec.ok());
  EXPECT_EQ(exec.error().message(),
            "error executing template __alert_Test: template: __alert_Test:2:3: executing "
            "\"__alert_Test\" at <humanize \"x\">: error calling humanize: strconv.ParseFloat: "
            "parsing \"x\": invalid syntax");
}

TEST(TemplateAlert, CheckAcceptsAlertVariables) {
  EXPECT_TRUE(CheckAlertTemplate("{{ $labels.a }}{{ $value }}{{ $externalLabels.b }}"
                                 "{{ $externalURL }}")
                  .ok());
  Status bad = CheckAlertTemplate("{{ $lables.a }}");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "template: __alert_:1: undefined variable \"$lables\"");
  EXPECT_EQ(bad.error().column(), 4);
}

TEST(TemplateSetTest, DefinitionsSpanFiles) {
  TemplateSet set;
  ASSERT_TRUE(set.AddFile("a.tmpl",
                          "{{ define \"title\" }}[{{ .Status | toUpper }}] "
                          "{{ template \"names\" .Alerts }}{{ end }}")
                  .ok());
  ASSERT_TRUE(set.AddFile("b.tmpl",
                          "{{ define \"names\" }}{{ range . }}{{ .Labels.alertname }} "
                          "{{ end }}{{ end }}")
                  .ok());
  EXPECT_TRUE(set.Has("title"));
  EXPECT_FALSE(set.Has("body"));
  json data = {
      {"Status", "firing"},
      {"Alerts", {{{"Labels", {{"alertname", "A"}}}}, {{"Labels", {{"alertname", "B"}}}}}}};
  Result<std::string> got = set.Execute("title", data);
  ASSERT_TRUE(got.ok()) << got.error().message();
  EXPECT_EQ(*got, "[FIRING] A B ");
  Result<std::string> text = set.ExecuteText("{{ template \"title\" . }}!", data);
  ASSERT_TRUE(text.ok()) << text.error().message();
  EXPECT_EQ(*text, "[FIRING] A B !");
}

TEST(TemplateSetTest, LaterFileReplacesDefinition) {
  TemplateSet set;
  ASSERT_TRUE(set.AddFile("a.tmpl", "{{ define \"x\" }}old{{ end }}").ok());
  ASSERT_TRUE(set.AddFile("b.tmpl", "{{ define \"x\" }}new{{ end }}").ok());
  Result<std::string> got = set.Execute("x", nullptr);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "new");
}

TEST(TemplateSetTest, ErrorsLeaveSetUnchanged) {
  TemplateSet set;
  Status bad = set.AddFile("bad.tmpl", "{{ define \"x\" }}{{ humanize . }}{{ end }}");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "template: bad.tmpl:1: function \"humanize\" not defined");
  EXPECT_FALSE(set.Has("x"));
  Result<std::string> missing = set.Execute("x", nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message(), "template: no template \"x\" associated with template \"\"");
}

// Expectations from Alertmanager 0.25's DefaultFuncs.
TEST(TemplateAlertmanagerFunctions, MatchUpstreamBehaviour) {
  TemplateSet set;
  json data = {{"Names", {"a", "b", "c"}}, {"Labels", {{"severity", "page"}}}};

  struct Case {
    std::string text;
    std::string want;
  };

  std::vector<Case> cases = {
      {"{{ \"abc\" | toUpper }} {{ \"ABC\" | toLower }} {{ \"hello world\" | title }}",
       "ABC abc Hello World"},
      {"{{ join \", \" .Names }}", "a, b, c"},
      {"{{ stringSlice \"x\" \"y\" | join \"+\" }}", "x+y"},
      {"{{ match \"^pa\" .Labels.severity }}", "true"},
      {"{{ reReplaceAll \"e\" \"E\" .Labels.severity }}", "pagE"},
      {"{{ \"<i>\" | safeHtml }}", "<i>"},
      {"[{{ .Labels.missing }}]", "[]"},
  };
  for (const Case& c : cases) {
    Result<std::string> got = set.ExecuteText(c.text, data);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.error().message();
    EXPECT_EQ(*got, c.want) << c.text;
  }
  TemplateOptions go_default;
  go_default.missing_key = MissingKey::kNoValue;
  Result<std::string> got = set.ExecuteText("{{ .Labels.missing }}", data, go_default);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "<no value>");
}

TEST(TemplateAlertmanagerFunctions, PrometheusOnlyFunctionsUndefined) {
  TemplateSet set;
  Result<std::string> got = set.ExecuteText("{{ humanize 1 }}", nullptr);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().message(), "template: :1: function \"humanize\" not defined");
}

TEST(TemplateTime, FormatUsesGoLayout) {
  struct Case {
    std::string text;
    std::string want;
  };

  // 2015-06-23 13:19:44.128 UTC was a Tuesday, day 174 of the year.
  std::vector<Case> cases = {
      {"{{ .T.Format \"2006-01-02T15:04:05Z07:00\" }}", "2015-06-23T13:19:44Z"},
      {"{{ .T.Format \"Mon Jan _2 3:04:05.000 PM MST 2006\" }}",
       "Tue Jun 23 1:19:44.128 PM UTC 2015"},
      {"{{ .T.Format \"Monday, January 2 06 002 .999 -0700 -07:00\" }}",
       "Tuesday, June 23 15 174 .128 +0000 +00:00"},
      {"{{ .Z.Format \"15:04 -0700 Z07:00 MST\" }}", "15:19 +0200 +02:00 +0200"},
      {"{{ .Z.UTC.Format \"15:04 MST\" }}", "13:19 UTC"},
      {"{{ .Z }}", "2015-06-23T15:19:44.128+02:00"},
      {"{{ .Z.String }}", "2015-06-23 15:19:44.128 +0200 +0200"},
      {"{{ .T.Year }} {{ .T.Month }} {{ .T.Day }} {{ .T.Weekday }} {{ .T.YearDay }}",
       "2015 June 23 Tuesday 174"},
      {"{{ .T.UnixMilli }}", "1435065584128"},
  };
  json data = {{"T", "2015-06-23T13:19:44.128Z"}, {"Z", "2015-06-23T15:19:44.128+02:00"}};
  for (const Case& c : cases) {
    Result<std::string> got = Expand(c.text, data);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.error().message();
    EXPECT_EQ(*got, c.want) << c.text;
  }
}

TEST(TemplateTime, MethodErrorsNameTheField) {
  ExpectErrors({
      {"{{ .T.Format }}",
       json{{"T", "2015-06-23T13:19:44Z"}},
       "template: test:1:5: executing \"test\" at <.T.Format>: wrong number of args for Format: "
       "want 1 got 0"},
      {"{{ .T.Format \"x\" }}",
       json{{"T", "not a time"}},
       "template: test:1:5: executing \"test\" at <.T.Format>: can't evaluate field Format in "
       "type string"},
  });
}

// Methods of Alertmanager 0.25's template data types (KV, Pairs, Alerts) on JSON data.
TEST(TemplateAlertmanagerFunctions, DataMethods) {
  TemplateSet set;
  json data = {
      {"CommonLabels", {{"severity", "page"}, {"alertname", "Down"}, {"job", "node"}}},
      {"Alerts",
       {{{"Status", "firing"},
         {"Labels", {{"instance", "a"}}},
         {"StartsAt", "2015-06-23T13:19:44.128Z"}},
        {{"Status", "resolved"}, {"Labels", {{"instance", "b"}}}},
        {{"Status", "firing"},
         {"Labels", {{"instance", "c"}}},
         {"StartsAt", "0001-01-01T00:00:00Z"}}}},
  };

  struct Case {
    std::string text;
    std::string want;
  };

  std::vector<Case> cases = {
      {"{{ range .CommonLabels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}",
       "alertname=Down job=node severity=page "},
      {"{{ .CommonLabels.Names }}", "[alertname job severity]"},
      {"{{ join \",\" .CommonLabels.Values }}", "Down,node,page"},
      {"{{ .CommonLabels.SortedPairs.Names }}", "[alertname job severity]"},
      {"{{ (.CommonLabels.Remove (stringSlice \"job\" \"alertname\")).Names }}", "[severity]"},
      {"{{ len .Alerts.Firing }} {{ len .Alerts.Resolved }}", "2 1"},
      {"{{ range .Alerts.Firing }}{{ .Labels.instance }}{{ end }}", "ac"},
      {"{{ .CommonLabels.SortedPairs }}", "[{alertname Down} {job node} {severity page}]"},
      {"{{ range .Alerts.Firing }}{{ .StartsAt }}|{{ .StartsAt.Format \"15:04\" }};{{ end }}",
       "2015-06-23 13:19:44.128 +0000 UTC|13:19;0001-01-01 00:00:00 +0000 UTC|00:00;"},
  };
  for (const Case& c : cases) {
    Result<std::string> got = set.ExecuteText(c.text, data);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.error().message();
    EXPECT_EQ(*got, c.want) << c.text;
  }
}

TEST(TemplateExecute, RecursionIsBounded) {
  Result<Template> t = Template::Parse("test",
                                       "{{ define \"r\" }}{{ template \"r\" . }}{{ end }}"
                                       "{{ template \"r\" . }}");
  ASSERT_TRUE(t.ok());
  TemplateOptions options;
  options.max_depth = 50;
  Result<std::string> got = t->Execute(nullptr, options);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().message(),
            "template: test:1:28: executing \"r\" at <{{template \"r\" .}}>: exceeded maximum "
            "template depth (50)");
}

TEST(TemplateExecute, DefaultDepthStopsRecursion) {
  Result<Template> t = Template::Parse("test",
                                       "{{ define \"r\" }}{{ template \"r\" . }}{{ end }}"
                                       "{{ template \"r\" . }}");
  ASSERT_TRUE(t.ok());
  Result<std::string> got = t->Execute(nullptr);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().message().find("exceeded maximum template depth (100)"), std::string::npos)
      << got.error().message();
}

TEST(TemplateExecute, TemplateIsReusable) {
  Result<Template> t = Template::Parse("test", "{{ .A }}");
  ASSERT_TRUE(t.ok());
  for (int i = 0; i < 3; ++i) {
    Result<std::string> got = t->Execute(json{{"A", i}});
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, std::to_string(i));
  }
}

}  // namespace
}  // namespace alertd
