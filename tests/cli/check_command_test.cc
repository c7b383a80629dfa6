// Runs the alertd binary as a user would: `alertd check rules` and `alertd check config`.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/run_alertd.h"

namespace {

namespace fs = std::filesystem;

using alertd::testing::CommandResult;
using alertd::testing::RunAlertd;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class CheckCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("alertd-cli-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }

  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }

  // The design notes' rules, copied unchanged into examples/xcord/rules.yml.
  static std::string XcordRules() {
    return ReadFile(fs::path(ALERTD_SOURCE_DIR) / "examples" / "xcord" / "rules.yml");
  }

  fs::path dir_;
};

std::string ReplaceOnce(std::string text, const std::string& from, const std::string& to) {
  size_t pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << "fixture text not found: " << from;
  if (pos != std::string::npos) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

TEST_F(CheckCommandTest, XcordRulesPass) {
  std::string path = std::string(ALERTD_SOURCE_DIR) + "/examples/xcord/rules.yml";
  CommandResult result = RunAlertd("check rules " + path);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output, path + ": 5 rules found\n");
}

TEST_F(CheckCommandTest, BadExpressionNamesPosition) {
  std::string rules = ReplaceOnce(XcordRules(),
                                  "websocket_connections_active > 10000",
                                  "websocket_connections_active > > 10000");
  std::string path = Write("bad_expr.yml", rules);
  CommandResult result = RunAlertd("check rules " + path);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  // The expression is a block scalar starting on line 42; the second '>' is at column 42.
  EXPECT_NE(result.output.find(path + ":42:42: rule \"HighWebSocketConnections\": "),
            std::string::npos)
      << result.output;
}

TEST_F(CheckCommandTest, BadDurationNamesPosition) {
  std::string rules = ReplaceOnce(XcordRules(), "for: 1m", "for: 1minute");
  std::string path = Write("bad_for.yml", rules);
  CommandResult result = RunAlertd("check rules " + path);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find(path + ":32:14: rule \"DBConnectionPoolExhausted\": "),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("\"1minute\""), std::string::npos) << result.output;
}

TEST_F(CheckCommandTest, UnknownFieldNamesPosition) {
  std::string rules = ReplaceOnce(XcordRules(),
                                  "        labels:\n          severity: warning\n",
                                  "        lables:\n          severity: warning\n");
  std::string path = Write("bad_field.yml", rules);
  CommandResult result = RunAlertd("check rules " + path);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find(path + ":22:9: rule \"HighLatency\": "), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("lables"), std::string::npos) << result.output;
}

TEST_F(CheckCommandTest, ReportsEveryErrorOfAFile) {
  std::string rules = ReplaceOnce(XcordRules(), "for: 1m", "for: 1minute");
  rules = ReplaceOnce(
      rules, "websocket_connections_active > 10000", "websocket_connections_active > > 10000");
  std::string path = Write("two_errors.yml", rules);
  CommandResult result = RunAlertd("check rules " + path);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find(":32:14:"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find(":42:42:"), std::string::npos) << result.output;
}

TEST_F(CheckCommandTest, MissingFileExitsOne) {
  CommandResult result = RunAlertd("check rules " + (dir_ / "absent.yml").string());
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("absent.yml"), std::string::npos) << result.output;
}

TEST_F(CheckCommandTest, ExampleConfigsPass) {
  for (const char* example : {"quickstart", "node"}) {
    std::string path = std::string(ALERTD_SOURCE_DIR) + "/examples/" + example + "/alertd.yml";
    CommandResult result = RunAlertd("check config " + path);
    EXPECT_EQ(result.exit_code, 0) << example << ": " << result.output;
  }
}

TEST_F(CheckCommandTest, ConfigWithUnknownFieldFails) {
  Write("rules.yml", XcordRules());
  std::string path = Write("alertd.yml",
                           "global:\n"
                           "  scrape_interval: 15s\n"
                           "  evalution_interval: 15s\n"
                           "rule_files: [rules.yml]\n");
  CommandResult result = RunAlertd("check config " + path);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find(path + ":3:3:"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("evalution_interval"), std::string::npos) << result.output;
}

TEST_F(CheckCommandTest, VersionFlagPrintsVersion) {
  CommandResult result = RunAlertd("--version");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.output.rfind("alertd ", 0), 0u) << result.output;
}

TEST_F(CheckCommandTest, RunRejectsInvalidConfig) {
  std::string path = Write("alertd.yml", "global:\n  scrape_interval: fast\n");
  CommandResult result = RunAlertd("run --config.file=" + path);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find(path + ":2:20:"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("\\\"fast\\\""), std::string::npos) << result.output;
}

TEST_F(CheckCommandTest, RunRejectsRulesOverMaxRules) {
  Write("rules.yml",
        "groups:\n"
        "  - name: g\n"
        "    rules:\n"
        "      - record: a\n"
        "        expr: sum(up)\n"
        "      - record: b\n"
        "        expr: sum(up)\n"
        "      - record: c\n"
        "        expr: sum(up)\n");
  std::string over = Write("over.yml", "rule_files: [rules.yml]\nlimits:\n  max_rules: 2\n");
  CommandResult result = RunAlertd("run --config.file=" + over);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(
      result.output.find(over + ": the rule files hold 3 rules, more than limits.max_rules (2); "
                                "remove rules or raise limits.max_rules"),
      std::string::npos)
      << result.output;

  // At the limit the rule files load, and run stops later because the storage path is a
  // regular file.
  std::string not_a_directory = Write("not-a-directory", "");
  std::string at_limit = Write("at.yml",
                               "rule_files: [rules.yml]\nlimits:\n  max_rules: 3\n"
                               "storage:\n  path: " +
                                   not_a_directory + "/data\n");
  result = RunAlertd("run --config.file=" + at_limit);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("msg=\"Loaded rule files\" files=1 rules=3"), std::string::npos)
      << result.output;
  EXPECT_EQ(result.output.find("limits.max_rules"), std::string::npos) << result.output;
}

TEST_F(CheckCommandTest, CheckConfigRejectsRulesOverMaxRules) {
  Write("rules.yml",
        "groups:\n"
        "  - name: g\n"
        "    rules:\n"
        "      - record: a\n"
        "        expr: sum(up)\n"
        "      - record: b\n"
        "        expr: sum(up)\n");
  std::string over = Write("over.yml", "rule_files: [rules.yml]\nlimits:\n  max_rules: 1\n");
  CommandResult result = RunAlertd("check config " + over);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(
      result.output.find(over + ": the rule files hold 2 rules, more than limits.max_rules (1); "
                                "remove rules or raise limits.max_rules"),
      std::string::npos)
      << result.output;
  std::string at = Write("at.yml", "rule_files: [rules.yml]\nlimits:\n  max_rules: 2\n");
  result = RunAlertd("check config " + at);
  EXPECT_EQ(result.exit_code, 0) << result.output;
}

TEST_F(CheckCommandTest, RuleLineOverMaxLineLengthFails) {
  std::string rules = Write("rules.yml",
                            "groups:\n"
                            "  - name: g\n"
                            "    rules:\n"
                            "      - record: a_very_long_recording_rule_name\n"
                            "        expr: sum(up)\n");
  std::string config =
      Write("alertd.yml", "rule_files: [rules.yml]\nlimits:\n  max_line_length: 40\n");
  const std::string want = rules +
                           ":4:41: line is 47 bytes, more than limits.max_line_length (40 "
                           "bytes); split the line or raise limits.max_line_length";
  CommandResult check = RunAlertd("check config " + config);
  EXPECT_EQ(check.exit_code, 1) << check.output;
  EXPECT_NE(check.output.find(want), std::string::npos) << check.output;
  CommandResult run = RunAlertd("run --config.file=" + config);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find(want), std::string::npos) << run.output;
}

const char kDuplicateRules[] =
    "groups:\n"
    "  - name: g\n"
    "    rules:\n"
    "      - record: r\n"
    "        expr: sum(up)\n"
    "      - record: r\n"
    "        expr: sum(up)\n";

TEST_F(CheckCommandTest, LintFlagsSetTheExitCode) {
  std::string path = Write("dup.yml", kDuplicateRules);

  struct Case {
    std::string flags;
    int exit_code;
    bool warns;
  };

  const std::vector<Case> cases = {
      {"", 0, true},
      {"--lint=duplicate-rules", 0, true},
      {"--lint-fatal", 3, true},
      {"--lint=none --lint-fatal", 0, false},
  };
  for (const Case& c : cases) {
    CommandResult result = RunAlertd("check rules " + c.flags + " " + path);
    EXPECT_EQ(result.exit_code, c.exit_code) << c.flags << result.output;
    std::string warning = path +
                          ":6:9: warning: duplicate rule \"r\" with no labels: also defined at "
                          "line 4; rules with the same name and labels produce conflicting "
                          "series, so give each a unique name or label set\n";
    EXPECT_EQ(result.output, (c.warns ? warning : "") + path + ": 2 rules found\n") << c.flags;
  }
  CommandResult bad = RunAlertd("check rules --lint=dupes " + path);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.output, "unknown lint check \"dupes\"; use one of all, duplicate-rules, none\n");
}

TEST_F(CheckCommandTest, DashReadsRulesFromStandardInputAsJson) {
  std::string path = Write("dup.yml", kDuplicateRules);
  CommandResult result = RunAlertd("check rules --format=json --lint=none - < " + path);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output, "{\"file\":\"<stdin>\",\"rules\":2,\"errors\":[],\"warnings\":[]}\n");
}

}  // namespace

namespace {

TEST_F(CheckCommandTest, ConfigWithBadSlackTemplateFails) {
  std::string path = Write("alertd.yml",
                           "route:\n"
                           "  receiver: team\n"
                           "receivers:\n"
                           "  - name: team\n"
                           "    slack_configs:\n"
                           "      - api_url: http://127.0.0.1:1/hook\n"
                           "        title: '{{ .Foo '\n");
  CommandResult result = RunAlertd("check config " + path);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("receiver \"team\""), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("Slack title template is invalid"), std::string::npos)
      << result.output;
}

}  // namespace

namespace {

const char kPagerdutyConfig[] =
    "route:\n"
    "  receiver: pager\n"
    "receivers:\n"
    "  - name: pager\n"
    "    pagerduty_configs:\n"
    "      - routing_key: key\n";

TEST_F(CheckCommandTest, CheckConfigWarnsAboutUnsupportedIntegration) {
  std::string path = Write("alertmanager.yml", kPagerdutyConfig);
  CommandResult result = RunAlertd("check config " + path);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(
      result.output.find(path + ":6:9: warning: receiver \"pager\" uses pagerduty_configs, which "
                                "alertd cannot send yet; alertd run rejects this configuration\n"),
      std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find(path + ": route, 0 inhibit rules, 1 receiver, 0 templates, 0 "
                                      "time intervals found\n"),
            std::string::npos)
      << result.output;
}

TEST_F(CheckCommandTest, RunRejectsUnsupportedIntegration) {
  std::string path = Write("alertd.yml", kPagerdutyConfig);
  CommandResult result = RunAlertd("run --config.file=" + path);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_EQ(result.output,
            path +
                ":6:9: receiver \"pager\" uses pagerduty_configs, which alertd cannot send yet; "
                "remove it, or use slack_configs, webhook_configs, email_configs or "
                "sentry_configs\n");
}

}  // namespace
