#include "notifiers/templates.h"

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "notifiers/fakes.h"
#include "notifiers/payload.h"
#include "notifiers/receivers.h"
#include "notifiers/time_util.h"

namespace alertd {
namespace {

using testing::Utc;

const Labels kGroupLabels{{"alertname", "HighLatency"}, {"service", "api"}};

NotifyAlert Alert(std::string instance, Labels annotations, bool resolved) {
  NotifyAlert alert;
  alert.labels = Labels{{"alertname", "HighLatency"},
                        {"service", "api"},
                        {"severity", "page"},
                        {"instance", std::move(instance)}};
  alert.annotations = std::move(annotations);
  alert.starts_at = Utc(2026, 12, 4, 15, 38, 11);
  if (resolved) {
    alert.ends_at = Utc(2026, 12, 4, 15, 48, 11);
  }
  alert.generator_url = "http://prom:9090/graph?g0.expr=up";
  return alert;
}

// One firing and one resolved alert; both carry the runbook annotation, so it is common.
Notification FiringNotification() {
  return MakeNotification(
      "team.a",
      {Alert("a:1",
             Labels{{"summary", "Latency high on a"},
                    {"description", "p99 > 1s"},
                    {"runbook", "http://rb/x"}},
             false),
       Alert("b:1", Labels{{"summary", "Latency high on b"}, {"runbook", "http://rb/x"}}, true)},
      kGroupLabels,
      "http://am.example:9093",
      "{}:{alertname=\"HighLatency\", service=\"api\"}");
}

Notification ResolvedNotification() {
  Notification n = FiringNotification();
  n.alerts[0].ends_at = Utc(2026, 12, 4, 15, 50, 0);
  return MakeNotification(n.receiver, n.alerts, n.group_labels, n.external_url, n.group_key);
}

// __text_alert_list of each alert, written out from Alertmanager 0.25's definition: a Labels
// block and an Annotations block of " - name = value" lines (alertname first, then by name),
// then "Source: URL", every line ending in a newline.
const std::string kListA =
    "Labels:\n - alertname = HighLatency\n - instance = a:1\n - service = api\n"
    " - severity = page\nAnnotations:\n - description = p99 > 1s\n - runbook = http://rb/x\n"
    " - summary = Latency high on a\nSource: http://prom:9090/graph?g0.expr=up\n";
const std::string kListB =
    "Labels:\n - alertname = HighLatency\n - instance = b:1\n - service = api\n"
    " - severity = page\nAnnotations:\n - runbook = http://rb/x\n - summary = Latency high on b\n"
    "Source: http://prom:9090/graph?g0.expr=up\n";
// __alertmanagerURL: the receiver is regexp.QuoteMeta'd in the data, then query-escaped.
const std::string kUrl = "http://am.example:9093/#/alerts?receiver=team%5C.a";
const std::string kCommonAnnotations = "http://rb/x";

struct Expected {
  std::string subject;
  std::string firing_list;    // __text_alert_list of .Alerts.Firing
  std::string resolved_list;  // __text_alert_list of .Alerts.Resolved
};

// The expected output of `name`, derived from its definition in Alertmanager 0.25's
// default.tmpl; each branch quotes the structure of that definition.
std::string ExpectedOutput(const std::string& name, const Expected& e) {
  const std::string& f = e.firing_list;
  const std::string& r = e.resolved_list;
  // `{{ if gt (len .Alerts.Firing) 0 -}}` blocks with the trailing newline trimmed.
  std::string compact = (f.empty() ? "" : "Alerts Firing:\n" + f) + "\n" +
                        (r.empty() ? "" : "Alerts Resolved:\n" + r);
  // `{{ if gt (len .Alerts.Firing) 0 }}` blocks with no trimming.
  std::string spaced = (f.empty() ? "" : "\nAlerts Firing:\n" + f + "\n") + "\n" +
                       (r.empty() ? "" : "\nAlerts Resolved:\n" + r + "\n");
  if (name == "__alertmanager" || name == "slack.default.username" ||
      name == "pagerduty.default.client" || name == "victorops.default.monitoring_tool") {
    return "Alertmanager";
  }
  if (name == "__alertmanagerURL" || name == "slack.default.titlelink" ||
      name == "pagerduty.default.clientURL" || name == "opsgenie.default.source" ||
      name == "pushover.default.url") {
    return kUrl;
  }
  if (name == "__subject" || name == "slack.default.title" ||
      name == "pagerduty.default.description" || name == "opsgenie.default.message" ||
      name == "victorops.default.entity_display_name" || name == "pushover.default.title" ||
      name == "sns.default.subject" || name == "discord.default.title" ||
      name == "email.default.subject") {
    return e.subject;
  }
  if (name == "slack.default.fallback") {
    return e.subject + " | " + kUrl;
  }
  if (name == "opsgenie.default.description" || name == "victorops.default.state_message") {
    return kCommonAnnotations + "\n" + compact;
  }
  if (name == "wechat.default.message") {
    return e.subject + "\n" + kCommonAnnotations + "\n" + compact + "\nAlertmanagerUrl:\n" + kUrl;
  }
  if (name == "pushover.default.message" || name == "sns.default.message" ||
      name == "webex.default.message") {
    return kCommonAnnotations + "\n" + spaced + "\n";
  }
  if (name == "telegram.default.message" || name == "discord.default.message") {
    return "\n" + spaced + "\n";
  }
  return "";  // the empty definitions: __description, slack.default.text, wechat.default.to_*
}

// Every definition of Alertmanager 0.25's default.tmpl and email.tmpl but email.default.html,
// whose HTML is alertd's own.
const std::vector<std::string> kDefaultNames = {
    "__alertmanager",
    "__alertmanagerURL",
    "__subject",
    "__description",
    "slack.default.title",
    "slack.default.username",
    "slack.default.fallback",
    "slack.default.callbackid",
    "slack.default.pretext",
    "slack.default.titlelink",
    "slack.default.iconemoji",
    "slack.default.iconurl",
    "slack.default.text",
    "slack.default.footer",
    "pagerduty.default.description",
    "pagerduty.default.client",
    "pagerduty.default.clientURL",
    "opsgenie.default.message",
    "opsgenie.default.description",
    "opsgenie.default.source",
    "wechat.default.message",
    "wechat.default.to_user",
    "wechat.default.to_party",
    "wechat.default.to_tag",
    "wechat.default.agent_id",
    "victorops.default.state_message",
    "victorops.default.entity_display_name",
    "victorops.default.monitoring_tool",
    "pushover.default.title",
    "pushover.default.message",
    "pushover.default.url",
    "sns.default.subject",
    "sns.default.message",
    "telegram.default.message",
    "discord.default.title",
    "discord.default.message",
    "webex.default.message",
    "email.default.subject",
};

std::string Render(const std::string& name, const Notification& n) {
  auto out = NotificationTemplates::Defaults()->Expand("{{ template \"" + name + "\" . }}", n);
  EXPECT_TRUE(out.ok()) << name << ": " << out.error().message();
  return out.ok() ? *out : "";
}

TEST(DefaultTemplates, FiringNotificationMatchesAlertmanagerDefinitions) {
  Expected e{"[FIRING:1] HighLatency api (page)", kListA, kListB};
  for (const std::string& name : kDefaultNames) {
    EXPECT_EQ(Render(name, FiringNotification()), ExpectedOutput(name, e)) << name;
  }
}

TEST(DefaultTemplates, ResolvedNotificationMatchesAlertmanagerDefinitions) {
  std::string list_a = kListA;
  Expected e{"[RESOLVED] HighLatency api (page)", "", list_a + kListB};
  for (const std::string& name : kDefaultNames) {
    EXPECT_EQ(Render(name, ResolvedNotification()), ExpectedOutput(name, e)) << name;
  }
}

TEST(DefaultTemplates, SubjectWithoutExtraCommonLabelsEndsInSpace) {
  Notification n = MakeNotification(
      "r",
      {Alert("a:1", {}, false), Alert("b:1", {}, false)},
      Labels{{"alertname", "HighLatency"}, {"severity", "page"}, {"service", "api"}},
      "http://am",
      "{}");
  // Values sorted by label name: service before severity.
  EXPECT_EQ(Render("__subject", n), "[FIRING:2] HighLatency api page ");
}

TEST(DefaultTemplates, SubjectPutsAlertnameFirstThenSortsByName) {
  Notification n = MakeNotification(
      "r", {Alert("a:1", {}, false)}, Labels{{"service", "api"}}, "http://am", "{}");
  EXPECT_EQ(Render("__subject", n), "[FIRING:1] api (HighLatency a:1 page)");
}

// pagerduty.default.instances ranges over its dot, so it takes a list of alerts; over the
// whole data Alertmanager fails too ("range can't iterate over" its Data struct).
TEST(DefaultTemplates, PagerdutyInstancesListsTheGivenAlerts) {
  auto templates = NotificationTemplates::Defaults();
  auto out = templates->Expand("{{ template \"pagerduty.default.instances\" .Alerts }}",
                               FiringNotification());
  ASSERT_TRUE(out.ok()) << out.error().message();
  EXPECT_EQ(*out, kListA + kListB);
  EXPECT_TRUE(templates->Has("pagerduty.default.instances"));
  EXPECT_FALSE(
      templates->Expand("{{ template \"pagerduty.default.instances\" . }}", FiringNotification())
          .ok());
}

TEST(DefaultTemplates, AllDefaultNamesAreDefined) {
  auto templates = NotificationTemplates::Defaults();
  for (const std::string& name : kDefaultNames) {
    EXPECT_TRUE(templates->Has(name)) << name;
    EXPECT_FALSE(templates->IsUserDefined(name)) << name;
  }
  EXPECT_TRUE(templates->Has("email.default.html"));
}

TEST(DefaultTemplates, EmailHtmlShowsEscapedLabelsAnnotationsAndSource) {
  Notification n = FiringNotification();
  n.alerts[0].annotations = Labels{{"summary", "a < b & c"}};
  n.alerts[0].generator_url = "http://prom/graph?x=1&y=\"2\"";
  n = MakeNotification(n.receiver, n.alerts, n.group_labels, n.external_url, n.group_key);
  std::string html = Render("email.default.html", n);
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>")) << html.substr(0, 80);
  EXPECT_NE(html.find("<title>[FIRING:1] HighLatency api (page)</title>"), std::string::npos);
  EXPECT_NE(html.find("[1] Firing"), std::string::npos);
  EXPECT_NE(html.find("[1] Resolved"), std::string::npos);
  EXPECT_NE(html.find("instance = a:1"), std::string::npos);
  EXPECT_NE(html.find("instance = b:1"), std::string::npos);
  EXPECT_NE(html.find("summary = a &lt; b &amp; c"), std::string::npos);
  EXPECT_EQ(html.find("a < b"), std::string::npos);
  EXPECT_NE(html.find("href=\"http://prom/graph?x=1&amp;y=&#34;2&#34;\""), std::string::npos);
  EXPECT_NE(html.find(">Source</a>"), std::string::npos);
  EXPECT_NE(html.find("href=\"" + kUrl + "\""), std::string::npos);
  EXPECT_NE(html.find("Sent by Alertmanager"), std::string::npos);
  EXPECT_TRUE(html.ends_with("</html>\n"));
}

TEST(DefaultTemplates, EmailHtmlOmitsEmptySections) {
  std::string html = Render("email.default.html", ResolvedNotification());
  EXPECT_EQ(html.find("Firing</h2>"), std::string::npos);
  EXPECT_NE(html.find("[2] Resolved"), std::string::npos);
  EXPECT_NE(html.find("2 alerts resolved for alertname=HighLatency service=api"),
            std::string::npos);
}

// ---- Comparison with the real Alertmanager 0.25 renderer, amtool template render ----

// Debian's prometheus-alertmanager ships default.tmpl and email.tmpl here.
constexpr const char* kDebianTemplates = "/usr/share/prometheus/alertmanager/default.tmpl";
constexpr const char* kDebianTemplateGlob = "/usr/share/prometheus/alertmanager/*.tmpl";

// template.Data as JSON with Go's json tags, the input amtool reads.
nlohmann::json DataJson(const Notification& n) {
  nlohmann::json d = TemplateData(n);
  nlohmann::json alerts = nlohmann::json::array();
  for (const auto& a : d["Alerts"]) {
    alerts.push_back({{"status", a["Status"]},
                      {"labels", a["Labels"]},
                      {"annotations", a["Annotations"]},
                      {"startsAt", a["StartsAt"]},
                      {"endsAt", a["EndsAt"]},
                      {"generatorURL", a["GeneratorURL"]},
                      {"fingerprint", a["Fingerprint"]}});
  }
  return {{"receiver", d["Receiver"]},
          {"status", d["Status"]},
          {"alerts", alerts},
          {"groupLabels", d["GroupLabels"]},
          {"commonLabels", d["CommonLabels"]},
          {"commonAnnotations", d["CommonAnnotations"]},
          {"externalURL", d["ExternalURL"]}};
}

std::filesystem::path MakeTempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "alertd-tmpl-XXXXXX").string();
  char* dir = mkdtemp(pattern.data());
  EXPECT_NE(dir, nullptr);
  return dir == nullptr ? std::filesystem::path() : std::filesystem::path(dir);
}

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Runs `amtool template render` of `text` over `n`; nullopt when it fails.
std::optional<std::string> AmtoolRender(const std::string& text, const Notification& n) {
  std::filesystem::path dir = MakeTempDir();
  WriteFile(dir / "data.json", DataJson(n).dump());
  WriteFile(dir / "text.tmpl", text);
  // The text goes through a file and $(cat) so no shell quoting of the template is needed.
  std::string command = "amtool template render --template.glob='" +
                        std::string(kDebianTemplateGlob) + "' --template.data='" +
                        (dir / "data.json").string() + "' --template.text=\"$(cat '" +
                        (dir / "text.tmpl").string() + "'; printf x)\" 2>&1";
  std::FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return std::nullopt;
  }
  std::string out;
  char buffer[4096];
  size_t read = 0;
  while ((read = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    out.append(buffer, read);
  }
  int rc = pclose(pipe);
  std::filesystem::remove_all(dir);
  // $(cat) drops trailing newlines, so the text ends in an "x" that the output ends in too.
  if (rc != 0 || !out.ends_with("x")) {
    ADD_FAILURE() << "amtool failed: " << out;
    return std::nullopt;
  }
  out.pop_back();
  return out;
}

bool HaveAmtool() {
  return std::system("amtool --version >/dev/null 2>&1") == 0 &&
         std::filesystem::exists(kDebianTemplates);
}

constexpr std::string_view kSeparator = "\n=====alertd-separator=====\n";

TEST(DefaultTemplates, MatchAmtoolTemplateRender) {
  if (!HaveAmtool()) {
    GTEST_SKIP() << "amtool or " << kDebianTemplates << " is not installed";
  }
  std::string text;
  for (const std::string& name : kDefaultNames) {
    text += "{{ template \"" + name + "\" . }}" + std::string(kSeparator);
  }
  for (const Notification& n : {FiringNotification(), ResolvedNotification()}) {
    auto expected = AmtoolRender(text, n);
    ASSERT_TRUE(expected.has_value());
    auto actual = NotificationTemplates::Defaults()->Expand(text, n);
    ASSERT_TRUE(actual.ok()) << actual.error().message();
    EXPECT_EQ(*actual, *expected) << n.status;
  }
}

// Template functions and data methods that Alertmanager users write, each rendered by alertd
// and, where amtool is installed, by Alertmanager 0.25 too.
const std::vector<std::pair<std::string, std::string>> kFunctionCases = {
    {"{{ .Status }}", "firing"},
    {"{{ .CommonLabels.severity }}|{{ .CommonLabels.missing }}|", "page||"},
    {"{{ .CommonAnnotations.runbook }}", "http://rb/x"},
    // Alertmanager 0.25's KV and Pairs have no String method, so they print as Go values.
    {"{{ .GroupLabels.SortedPairs }}", "[{alertname HighLatency} {service api}]"},
    {"{{ range .GroupLabels.SortedPairs }}{{ .Name }}:{{ .Value }};{{ end }}",
     "alertname:HighLatency;service:api;"},
    {"{{ len .Alerts.Firing }}/{{ len .Alerts.Resolved }}/{{ len .Alerts }}", "1/1/2"},
    {"{{ range .Alerts.Resolved }}{{ .Labels.instance }}{{ end }}", "b:1"},
    {"{{ range $i, $a := .Alerts }}{{ $i }}={{ $a.Status }} {{ end }}", "0=firing 1=resolved "},
    {"{{ if eq .Status \"firing\" }}F{{ else if eq .Status \"resolved\" }}R{{ else }}?{{ end }}",
     "F"},
    {"{{ with .CommonLabels.severity }}sev={{ . }}{{ end }}{{ with .CommonLabels.x }}x{{ end }}",
     "sev=page"},
    {"{{ printf \"%s has %d alerts\" .GroupLabels.alertname (len .Alerts) }}",
     "HighLatency has 2 alerts"},
    {"{{ printf \"%q %5.1f\" .Receiver 3.14159 }}", "\"team\\\\.a\"   3.1"},
    {"{{ toUpper \"abc é ǳ ß\" }} {{ toLower \"ÀBC Σ\" }}", "ABC É Ǳ ß àbc σ"},
    {"{{ title \"hello wORLD o'neil mc-donald x_y 1st a.b a..b 1.a foo@bar don’t ǳa ß ŉx\" }}",
     "Hello World O'neil Mc-Donald X_y 1St A.b A..B 1.A Foo@Bar Don’t ǲa Ss ʼNx"},
    {"{{ join \", \" (stringSlice \"a\" \"b\" \"c\") }}", "a, b, c"},
    {"{{ .CommonLabels.Names | join \",\" }}", "alertname,service,severity"},
    {"{{ (.CommonLabels.Remove (stringSlice \"alertname\" \"service\")).Values | join \",\" }}",
     "page"},
    {"{{ .CommonLabels.Remove .GroupLabels.Names }}", "map[severity:page]"},
    {"{{ safeHtml \"<b>\" }}", "<b>"},
    {"{{ reReplaceAll \"(\\\\w+):(\\\\d+)\" \"$2@$1\" \"host:9090\" }}", "9090@host"},
    {"{{ match \"^High\" .GroupLabels.alertname }} {{ match \"^Low\" .GroupLabels.alertname }}",
     "true false"},
    {"{{ define \"x\" }}<{{ . }}>{{ end }}{{ template \"x\" .Status }}", "<firing>"},
    {"{{ (index .Alerts 0).Labels.instance }}", "a:1"},
    {"{{ (index .Alerts 0).StartsAt.Unix }}", "1796398691"},
    {"{{ html \"<a&b>\" }} {{ urlquery \"a b&c\" }} {{ js \"it's\" }}",
     "&lt;a&amp;b&gt; a+b%26c it\\'s"},
    {"{{ .ExternalURL }}", "http://am.example:9093"},
};

TEST(NotificationTemplates, FunctionsRenderAsAlertmanager) {
  auto templates = NotificationTemplates::Defaults();
  for (const auto& [text, want] : kFunctionCases) {
    auto got = templates->Expand(text, FiringNotification());
    ASSERT_TRUE(got.ok()) << text << ": " << got.error().message();
    EXPECT_EQ(*got, want) << text;
  }
}

TEST(NotificationTemplates, LimitsOutputToMaxTemplateOutput) {
  config::Config config;
  config.limits.max_template_output = 16;
  auto templates = NotificationTemplates::Load(config);
  ASSERT_TRUE(templates.ok()) << templates.error().message();
  auto at_limit = (*templates)->Expand("0123456789abcdef", FiringNotification());
  ASSERT_TRUE(at_limit.ok()) << at_limit.error().message();
  EXPECT_EQ(*at_limit, "0123456789abcdef");

  auto over =
      (*templates)->Expand("{{ range .Alerts }}{{ .Labels }}{{ end }}", FiringNotification());
  ASSERT_FALSE(over.ok());
  // Alertmanager executes a text field as a template named "", so the name is empty.
  EXPECT_EQ(over.error().message(),
            "template: :1:22: executing \"\" at <{{.Labels}}>: template output is longer than the "
            "maximum of 16 bytes; shorten the output or raise limits.max_template_output");
}

// trimSpace is in later Alertmanager versions but not in 0.25's function map, so amtool 0.25
// cannot check it.
TEST(NotificationTemplates, TrimSpaceTrimsUnicodeSpace) {
  auto out = NotificationTemplates::Defaults()->Expand(
      "[{{ trimSpace \" \\t\\n a b \u00a0\u3000\" }}][{{ trimSpace \"\" }}][{{ trimSpace \" \" }}]",
      FiringNotification());
  ASSERT_TRUE(out.ok()) << out.error().message();
  EXPECT_EQ(*out, "[a b][][]");
}

TEST(NotificationTemplates, FunctionsMatchAmtoolTemplateRender) {
  if (!HaveAmtool()) {
    GTEST_SKIP() << "amtool or " << kDebianTemplates << " is not installed";
  }
  std::string text;
  for (const auto& [one, want] : kFunctionCases) {
    text += one + std::string(kSeparator);
  }
  auto expected = AmtoolRender(text, FiringNotification());
  ASSERT_TRUE(expected.has_value());
  auto actual = NotificationTemplates::Defaults()->Expand(text, FiringNotification());
  ASSERT_TRUE(actual.ok()) << actual.error().message();
  EXPECT_EQ(*actual, *expected);
}

// ---- Loading user templates ----

class TemplateFilesTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir(); }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
};

TEST_F(TemplateFilesTest, UserFileOverridesSlackDefaultTitle) {
  WriteFile(dir_ / "slack.tmpl",
            "{{ define \"slack.default.title\" }}Custom {{ .GroupLabels.alertname }}{{ end }}\n");
  auto templates = NotificationTemplates::Load({"*.tmpl"}, dir_.string());
  ASSERT_TRUE(templates.ok()) << templates.error().message();
  EXPECT_TRUE((*templates)->IsUserDefined("slack.default.title"));
  EXPECT_FALSE((*templates)->IsUserDefined("slack.default.text"));
  auto title =
      (*templates)->Expand("{{ template \"slack.default.title\" . }}", FiringNotification());
  ASSERT_TRUE(title.ok()) << title.error().message();
  EXPECT_EQ(*title, "Custom HighLatency");
  // The fallback calls the title, so it follows the override.
  auto fallback =
      (*templates)->Expand("{{ template \"slack.default.fallback\" . }}", FiringNotification());
  ASSERT_TRUE(fallback.ok());
  EXPECT_EQ(*fallback, "Custom HighLatency | " + kUrl);
}

TEST_F(TemplateFilesTest, LaterFileReplacesEarlierDefinition) {
  WriteFile(dir_ / "a.tmpl", "{{ define \"t\" }}from a{{ end }}");
  WriteFile(dir_ / "b.tmpl", "{{ define \"t\" }}from b{{ end }}");
  auto templates = NotificationTemplates::Load({"*.tmpl"}, dir_.string());
  ASSERT_TRUE(templates.ok());
  EXPECT_EQ(*(*templates)->Expand("{{ template \"t\" . }}", FiringNotification()), "from b");
}

TEST_F(TemplateFilesTest, AbsoluteGlobIgnoresBaseDir) {
  WriteFile(dir_ / "x.tmpl", "{{ define \"t\" }}abs{{ end }}");
  auto templates = NotificationTemplates::Load({(dir_ / "*.tmpl").string()}, "/nonexistent");
  ASSERT_TRUE(templates.ok());
  EXPECT_TRUE((*templates)->Has("t"));
}

TEST_F(TemplateFilesTest, GlobWithoutMatchesIsNotAnError) {
  auto templates = NotificationTemplates::Load({"none/*.tmpl"}, dir_.string());
  ASSERT_TRUE(templates.ok()) << templates.error().message();
  EXPECT_TRUE((*templates)->Has("slack.default.title"));
}

TEST_F(TemplateFilesTest, ParseErrorNamesFileAndLine) {
  std::filesystem::path file = dir_ / "bad.tmpl";
  WriteFile(file, "{{ define \"ok\" }}fine{{ end }}\n\n{{ define \"bad\" }}{{ if }}{{ end }}\n");
  auto templates = NotificationTemplates::Load({"*.tmpl"}, dir_.string());
  ASSERT_FALSE(templates.ok());
  EXPECT_EQ(templates.error().line(), 3);
  EXPECT_TRUE(templates.error().message().starts_with(file.string() + ":3:"))
      << templates.error().message();
  EXPECT_NE(templates.error().message().find("invalid template file: template: bad.tmpl:3:"),
            std::string::npos)
      << templates.error().message();
}

TEST_F(TemplateFilesTest, UndefinedFunctionIsParseError) {
  WriteFile(dir_ / "f.tmpl", "{{ define \"x\" }}\n{{ nosuch . }}{{ end }}");
  auto templates = NotificationTemplates::Load({"f.tmpl"}, dir_.string());
  ASSERT_FALSE(templates.ok());
  EXPECT_EQ(templates.error().message(),
            (dir_ / "f.tmpl").string() + ":2:" + std::to_string(templates.error().column()) +
                ": invalid template file: template: f.tmpl:2: function \"nosuch\" not defined");
}

config::Config SlackConfigWithTemplates(const std::filesystem::path& dir) {
  config::Config config;
  config.templates = {"templates/*.tmpl"};
  config.templates_base_dir = dir.string();
  config::Receiver team;
  team.name = "team";
  team.slack_configs.emplace_back();
  team.slack_configs[0].api_url = "https://127.0.0.1:9/services/x";
  config.receivers = {team};
  return config;
}

TEST_F(TemplateFilesTest, BuildReceiversRejectsBadTemplateFile) {
  std::filesystem::create_directories(dir_ / "templates");
  std::filesystem::path file = dir_ / "templates" / "slack.tmpl";
  WriteFile(file, "{{ define \"slack.default.title\" }}\n{{ range }}{{ end }}");
  auto receivers =
      BuildReceivers(SlackConfigWithTemplates(dir_), std::make_shared<testing::FakeHttpClient>());
  ASSERT_FALSE(receivers.ok());
  EXPECT_EQ(receivers.error().line(), 2);
  EXPECT_TRUE(receivers.error().message().starts_with(
      file.string() + ":2:" + std::to_string(receivers.error().column()) +
      ": invalid template file: template: slack.tmpl:2: missing value for range"))
      << receivers.error().message();
}

TEST_F(TemplateFilesTest, BuildReceiversGivesSlackTheTemplateFiles) {
  std::filesystem::create_directories(dir_ / "templates");
  WriteFile(dir_ / "templates" / "slack.tmpl",
            "{{ define \"slack.default.title\" }}From file: {{ .Status }}{{ end }}");
  auto client = std::make_shared<testing::FakeHttpClient>();
  auto receivers = BuildReceivers(SlackConfigWithTemplates(dir_), client);
  ASSERT_TRUE(receivers.ok()) << receivers.error().message();
  ASSERT_EQ(receivers->at("team").size(), 1u);
  EXPECT_FALSE(receivers->at("team")[0]->Notify(FiringNotification()).has_value());
  ASSERT_EQ(client->requests().size(), 1u);
  nlohmann::json body = nlohmann::json::parse(client->requests()[0].body);
  EXPECT_EQ(body["attachments"][0]["title"], "From file: firing");
}

// ---- Send-time failures ----

struct CapturedLog {
  std::ostringstream stream;
  std::shared_ptr<spdlog::logger> logger;

  CapturedLog() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream);
    sink->set_pattern("%l %v");
    logger = std::make_shared<spdlog::logger>("templates_test", sink);
  }
};

TEST(NotificationTemplates, ExpandOrFallsBackToDefaultOnExecutionError) {
  CapturedLog log;
  auto templates = NotificationTemplates::Defaults();
  std::string title = templates->ExpandOr("{{ template \"missing\" . }}",
                                          FiringNotification(),
                                          "{{ template \"slack.default.title\" . }}",
                                          *log.logger,
                                          "title");
  EXPECT_EQ(title, "[FIRING:1] HighLatency api (page)");
  std::string logged = log.stream.str();
  EXPECT_TRUE(
      logged.starts_with("warning Template expansion failed, using the default text "
                         "field=title receiver=team\\.a error="))
      << logged;
  EXPECT_NE(logged.find("template \\\"missing\\\" not defined"), std::string::npos) << logged;
}

TEST(NotificationTemplates, ExpandOrReturnsEmptyWhenFallbackFails) {
  CapturedLog log;
  std::string text = NotificationTemplates::Defaults()->ExpandOr(
      "{{ index .Alerts 5 }}", FiringNotification(), "{{ .Status.Foo }}", *log.logger, "text");
  EXPECT_EQ(text, "");
  EXPECT_NE(log.stream.str().find("error Default template expansion failed"), std::string::npos)
      << log.stream.str();
}

TEST(NotificationTemplates, ExpandOrKeepsWorkingText) {
  CapturedLog log;
  std::string text = NotificationTemplates::Defaults()->ExpandOr(
      "{{ .Status }}", FiringNotification(), "fallback", *log.logger, "text");
  EXPECT_EQ(text, "firing");
  EXPECT_EQ(log.stream.str(), "");
}

TEST(NotificationTemplates, ExpandReturnsParseError) {
  auto out = NotificationTemplates::Defaults()->Expand("{{ if }}", FiringNotification());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().message(), "template: :1: missing value for if");
}

TEST(NotificationTemplates, EmptyTextExpandsToEmpty) {
  auto out = NotificationTemplates::Defaults()->Expand("", FiringNotification());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "");
}

TEST(TemplateData, QuotesReceiverAsAlertmanager) {
  Notification n = FiringNotification();
  n.receiver = "a.b+c(d)";
  EXPECT_EQ(TemplateData(n)["Receiver"], "a\\.b\\+c\\(d\\)");
  EXPECT_EQ(GoQuoteMeta("\\.+*?()|[]{}^$x"), "\\\\\\.\\+\\*\\?\\(\\)\\|\\[\\]\\{\\}\\^\\$x");
}

}  // namespace
}  // namespace alertd
