#include "config/config.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/check_config.h"

namespace alertd::config {
namespace {

std::vector<std::string> ErrorStrings(const std::string& text) {
  std::vector<ConfigError> errors;
  Result<Config> config = ParseConfig(text, "alertd.yml", &errors);
  EXPECT_EQ(config.ok(), errors.empty());
  std::vector<std::string> out;
  for (const ConfigError& error : errors) {
    out.push_back(error.ToString());
  }
  return out;
}

Config MustParse(const std::string& text, const std::string& file = "alertd.yml") {
  std::vector<ConfigError> errors;
  Result<Config> config = ParseConfig(text, file, &errors);
  for (const ConfigError& error : errors) {
    ADD_FAILURE() << error.ToString();
  }
  if (!config.ok()) {
    return Config{};
  }
  return *config;
}

struct BadCase {
  std::string name;
  std::string text;
  std::vector<std::string> errors;
};

class ConfigBadInputTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConfigBadInputTest, ReportsExactErrors) {
  EXPECT_EQ(ErrorStrings(GetParam().text), GetParam().errors);
}

const char kDurationHelp[] =
    ": use a number followed by a unit (ms, s, m, h, d, w, y), for example 30s or 1h30m";

INSTANTIATE_TEST_SUITE_P(
    Cases,
    ConfigBadInputTest,
    ::testing::Values(
        BadCase{"InvalidYaml",
                "global:\n  scrape_interval: [1m\n",
                {"alertd.yml:3:1: invalid YAML: end of sequence flow not found"}},
        BadCase{"TopLevelList",
                "- a\n",
                {"alertd.yml:1:1: the configuration must be a mapping, got a list"}},
        BadCase{"UnknownTopLevelField",
                "scrape_config: []\n",
                {"alertd.yml:1:1: unknown field \"scrape_config\" in the configuration; did you "
                 "mean \"scrape_configs\"?"}},
        BadCase{"UnsupportedTopLevelFields",
                "remote_read: []\ntracing: {}\n",
                {"alertd.yml:1:1: field \"remote_read\" in the configuration is not supported "
                 "yet by alertd; remove it",
                 "alertd.yml:2:1: field \"tracing\" in the configuration is not supported yet "
                 "by alertd; remove it"}},
        BadCase{"GlobalErrors",
                "global:\n  scrape_interval: 5s\n  scrape_timeout: 10s\n"
                "  evaluation_interval: 1x\n  external_labels:\n    bad-name: x\n"
                "  query_log_file: x\n  smtp_frm: 1\n",
                {"alertd.yml:3:19: global scrape_timeout 10s is greater than scrape_interval 5s; "
                 "a scrape must time out before the next one starts",
                 std::string("alertd.yml:4:24: invalid duration \"1x\" in evaluation_interval") +
                     kDurationHelp,
                 "alertd.yml:6:5: invalid label name \"bad-name\" in external_labels: label "
                 "names must match [a-zA-Z_][a-zA-Z0-9_]*",
                 "alertd.yml:7:3: field \"query_log_file\" in global is not supported yet by "
                 "alertd; remove it",
                 "alertd.yml:8:3: unknown field \"smtp_frm\" in global; did you mean "
                 "\"smtp_from\"?"}},
        BadCase{"GlobalSlackUrlAndFile",
                "global:\n  slack_api_url: http://x/\n  slack_api_url_file: f\n",
                {"alertd.yml:3:3: at most one of slack_api_url and slack_api_url_file may be "
                 "set; remove one"}},
        BadCase{"GlobalSlackUrlInvalid",
                "global:\n  slack_api_url: hooks.slack.com/secret\n",
                {"alertd.yml:2:18: slack_api_url is not a valid URL: it must start with http:// "
                 "or https://"}},
        BadCase{"StorageAndWebErrors",
                "storage:\n  tsdb: {}\n  path: \"\"\nweb:\n  listen_address: localhost\n"
                "  external_url: ftp://x\n",
                {"alertd.yml:2:3: field \"tsdb\" in storage is not supported yet by alertd; "
                 "remove it",
                 "alertd.yml:3:9: storage path is empty; set it to a directory",
                 "alertd.yml:5:19: invalid listen_address \"localhost\": the port is missing; "
                 "use host:port, for example localhost:9100",
                 "alertd.yml:6:17: invalid external_url \"ftp://x\": it must start with http:// "
                 "or https://"}},
        BadCase{"StorageSnapshotIntervalInvalid",
                "storage:\n  snapshot_interval: 0s\n",
                {"alertd.yml:2:22: storage snapshot_interval must be positive, got 0s; set it to "
                 "how often the sample window is snapshotted, for example 5m"}},
        BadCase{"StorageSnapshotIntervalNotADuration",
                "storage:\n  snapshot_interval: often\n",
                {std::string("alertd.yml:2:22: invalid duration \"often\" in snapshot_interval") +
                 kDurationHelp}},
        BadCase{"RuleFilesErrors",
                "rule_files:\n  - \"\"\n  - [a]\n",
                {"alertd.yml:2:5: rule_files entry is empty; set it to a path or glob",
                 "alertd.yml:3:5: entries of rule_files must be strings, got a list"}},
        BadCase{"ScrapeConfigErrors",
                "scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n"
                "    scrape_timeout: 6s\n    scheme: ftp\n    metrics_path: metrics\n"
                "    honor_labels: yes\n    file_sd_configs: []\n    relabel_configs: []\n",
                {"alertd.yml:4:21: scrape_timeout 6s is greater than scrape_interval 5s in job "
                 "\"a\"; a scrape must time out before the next one starts",
                 "alertd.yml:5:13: invalid scheme \"ftp\": use http or https",
                 "alertd.yml:6:19: invalid metrics_path \"metrics\": it must start with \"/\"",
                 "alertd.yml:7:19: invalid honor_labels \"yes\": use true or false",
                 "alertd.yml:8:5: field \"file_sd_configs\" in scrape config is not supported "
                 "yet by alertd; remove it",
                 "alertd.yml:9:5: field \"relabel_configs\" in scrape config is not supported "
                 "yet by alertd; remove it"}},
        BadCase{"ScrapeLimitErrors",
                "scrape_configs:\n  - job_name: a\n    sample_limit: -1\n"
                "    body_size_limit: 10 MB\n    label_limit: many\n"
                "    label_name_length_limit: -5\n    label_value_length_limit: [1]\n"
                "  - job_name: b\n    target_limit: 5\n    body_size_limit: -1KB\n",
                {"alertd.yml:3:19: invalid sample_limit -1: use 0 for no limit or a positive "
                 "number",
                 "alertd.yml:4:22: invalid byte size \"10 MB\" in body_size_limit: use a plain "
                 "number of bytes or a number with a unit such as 512KiB, 10MB or 1GiB (KB, MB "
                 "and GB are 1024 based like KiB, MiB and GiB)",
                 "alertd.yml:5:18: invalid label_limit \"many\": expected an integer",
                 "alertd.yml:6:30: invalid label_name_length_limit -5: use 0 for no limit or a "
                 "positive number",
                 "alertd.yml:7:31: label_value_length_limit must be an integer, got a list",
                 "alertd.yml:9:5: field \"target_limit\" in scrape config is not supported "
                 "yet by alertd; remove it",
                 "alertd.yml:10:22: invalid byte size \"-1KB\" in body_size_limit: it must not "
                 "be negative; use 0 for no limit"}},
        BadCase{"ScrapeTargetErrors",
                "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets:\n"
                "          - localhost\n          - a:b\n          - http://x:1\n"
                "          - ::1:80\n          - :80\n          - \"[::1]:80\"\n"
                "        labels: {a-b: c}\n        lables: {}\n",
                {"alertd.yml:5:13: invalid target \"localhost\": the port is missing; use "
                 "host:port, for example localhost:9100",
                 "alertd.yml:6:13: invalid target \"a:b\": the port must be a number from 0 to "
                 "65535",
                 "alertd.yml:7:13: invalid target \"http://x:1\": use host:port without a "
                 "scheme, for example localhost:9100",
                 "alertd.yml:8:13: invalid target \"::1:80\": put an IPv6 address in brackets, "
                 "for example [::1]:9100",
                 "alertd.yml:9:13: invalid target \":80\": the host is missing; use host:port, "
                 "for example localhost:9100",
                 "alertd.yml:11:18: invalid label name \"a-b\" in labels: label names must "
                 "match [a-zA-Z_][a-zA-Z0-9_]*",
                 "alertd.yml:12:9: unknown field \"lables\" in static config; did you mean "
                 "\"labels\"?"}},
        BadCase{"ScrapeJobNames",
                "scrape_configs:\n  - job_name: a\n  - job_name: a\n  - static_configs: x\n"
                "  - x\n",
                {"alertd.yml:3:5: job_name \"a\" is already used by the scrape config at line 2; "
                 "job names must be unique",
                 "alertd.yml:4:5: scrape config has no job_name; set job_name to a unique name",
                 "alertd.yml:4:21: static_configs must be a list of static configs, got a "
                 "string",
                 "alertd.yml:5:5: scrape config must be a mapping, got a string"}},
        BadCase{"RouteErrors",
                "route:\n  receiver: nope\n  group_by: [a, a, \"b-c\", \"...\"]\n"
                "  group_interval: 0s\n  repeat_interval: 0\n  routes: []\n"
                "receivers:\n  - name: r\n",
                {"alertd.yml:2:13: route receiver \"nope\" is not defined; add it under "
                 "receivers or use one of: \"r\"",
                 "alertd.yml:3:13: group_by cannot mix \"...\" (all labels) with label names; "
                 "use one or the other",
                 "alertd.yml:3:17: duplicate label \"a\" in group_by",
                 "alertd.yml:3:20: invalid label name \"b-c\" in group_by: label names must "
                 "match [a-zA-Z_][a-zA-Z0-9_]*",
                 "alertd.yml:4:19: group_interval cannot be zero",
                 "alertd.yml:5:20: repeat_interval cannot be zero"}},
        BadCase{"RouteWithoutReceiver",
                "route:\n  group_wait: 10\n",
                {"alertd.yml:1:1: route has no receiver; set receiver to the name of one of the "
                 "receivers",
                 std::string("alertd.yml:2:15: invalid duration \"10\" in group_wait") +
                     kDurationHelp}},
        BadCase{"RouteReceiverWithoutReceivers",
                "route:\n  receiver: team\n",
                {"alertd.yml:2:13: route receiver \"team\" is not defined; add it under "
                 "receivers"}},
        BadCase{"ReceiverErrors",
                "receivers:\n  - name: r\n    email_configs: []\n    slack_configs:\n"
                "      - channel: \"#x\"\n      - api_url: \"foo\"\n      - api_url: http://x\n"
                "        api_url_file: y\n        icon_emoji: \":x:\"\n    webhook_configs:\n"
                "      - send_resolved: false\n      - url: http://127.0.0.1:5001/\n"
                "        max_alerts: -1\n      - url_file: missing\n  - name: r\n"
                "  - slack_configs: []\n",
                {"alertd.yml:5:9: slack config has no api_url; set api_url or api_url_file here, "
                 "or slack_api_url or slack_api_url_file under global",
                 "alertd.yml:6:18: api_url is not a valid URL: it must start with http:// or "
                 "https://",
                 "alertd.yml:8:9: at most one of api_url and api_url_file may be set; remove "
                 "one",
                 "alertd.yml:11:9: webhook config has no url; set url or url_file",
                 "alertd.yml:13:21: invalid max_alerts -1: use 0 for no limit or a positive "
                 "number",
                 "alertd.yml:14:19: cannot read url_file \"missing\": No such file or directory",
                 "alertd.yml:15:5: receiver name \"r\" is already used by the receiver at line 2; "
                 "receiver names must be unique",
                 "alertd.yml:16:5: receiver has no name; set name to a unique name"}},
        BadCase{"ReceiversNotAList",
                "receivers: {name: r}\n",
                {"alertd.yml:1:12: receivers must be a list of receivers, got a mapping"}}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(ConfigTest, StorageSnapshotIntervalIsParsed) {
  Config config = MustParse("storage:\n  path: state/\n  snapshot_interval: 90s\n");
  EXPECT_EQ(config.storage.path, "state/");
  EXPECT_EQ(config.storage.snapshot_interval, Duration(90000));
}

TEST(ConfigTest, EmptyConfigHasDefaults) {
  Config config = MustParse("");
  EXPECT_EQ(config.file, "alertd.yml");
  EXPECT_EQ(config.base_dir, ".");
  EXPECT_EQ(config.global.scrape_interval, Duration(60000));
  EXPECT_EQ(config.global.scrape_timeout, Duration(10000));
  EXPECT_EQ(config.global.evaluation_interval, Duration(60000));
  EXPECT_EQ(config.global.resolve_timeout, Duration(300000));
  EXPECT_EQ(config.storage.path, "data/");
  EXPECT_EQ(config.storage.snapshot_interval, Duration(300000));
  EXPECT_EQ(config.web.listen_address, "127.0.0.1:9095");
  EXPECT_EQ(config.web.external_url, "");
  EXPECT_FALSE(config.route.has_value());
  EXPECT_TRUE(config.receivers.empty());
  EXPECT_TRUE(config.scrape_configs.empty());
}

TEST(ConfigTest, ScrapeDefaultsFollowGlobal) {
  Config config = MustParse(
      "global:\n"
      "  scrape_interval: 5s\n"
      "scrape_configs:\n"
      "  - job_name: a\n"
      "    static_configs:\n"
      "      - targets: [\"127.0.0.1:9100\", \"[::1]:9100\"]\n"
      "        labels: {team: x}\n"
      "  - job_name: b\n"
      "    scrape_interval: 1m\n"
      "    scheme: https\n"
      "    metrics_path: /probe\n"
      "    honor_labels: true\n");
  // The default 10s timeout is capped at the 5s interval, as in Prometheus.
  EXPECT_EQ(config.global.scrape_timeout, Duration(5000));
  ASSERT_EQ(config.scrape_configs.size(), 2u);
  const ScrapeConfig& a = config.scrape_configs[0];
  EXPECT_EQ(a.job_name, "a");
  EXPECT_EQ(a.scrape_interval, Duration(5000));
  EXPECT_EQ(a.scrape_timeout, Duration(5000));
  EXPECT_EQ(a.scheme, "http");
  EXPECT_EQ(a.metrics_path, "/metrics");
  EXPECT_FALSE(a.honor_labels);
  EXPECT_EQ(a.mark.line, 4);
  EXPECT_EQ(a.mark.column, 5);
  ASSERT_EQ(a.static_configs.size(), 1u);
  EXPECT_EQ(a.static_configs[0].targets,
            (std::vector<std::string>{"127.0.0.1:9100", "[::1]:9100"}));
  EXPECT_EQ(a.static_configs[0].labels, (Labels{{"team", "x"}}));
  const ScrapeConfig& b = config.scrape_configs[1];
  EXPECT_EQ(b.scrape_interval, Duration(60000));
  EXPECT_EQ(b.scrape_timeout, Duration(5000));
  EXPECT_EQ(b.scheme, "https");
  EXPECT_EQ(b.metrics_path, "/probe");
  EXPECT_TRUE(b.honor_labels);
}

TEST(ConfigTest, ReadsScrapeLimits) {
  Config config = MustParse(
      "limits:\n"
      "  max_line_length: 4KiB\n"
      "scrape_configs:\n"
      "  - job_name: a\n"
      "    sample_limit: 1000\n"
      "    body_size_limit: 10MB\n"
      "    label_limit: 30\n"
      "    label_name_length_limit: 128\n"
      "    label_value_length_limit: 2048\n"
      "  - job_name: b\n");
  ASSERT_EQ(config.scrape_configs.size(), 2u);
  const ScrapeConfig& a = config.scrape_configs[0];
  EXPECT_EQ(a.sample_limit, 1000u);
  EXPECT_EQ(a.body_size_limit, 10u << 20);
  EXPECT_EQ(a.label_limit, 30u);
  EXPECT_EQ(a.label_name_length_limit, 128u);
  EXPECT_EQ(a.label_value_length_limit, 2048u);
  EXPECT_EQ(a.max_line_length, 4u << 10);
  const ScrapeConfig& b = config.scrape_configs[1];
  EXPECT_EQ(b.sample_limit, 0u);
  EXPECT_EQ(b.body_size_limit, 0u);
  EXPECT_EQ(b.label_limit, 0u);
  EXPECT_EQ(b.label_name_length_limit, 0u);
  EXPECT_EQ(b.label_value_length_limit, 0u);
  EXPECT_EQ(b.max_line_length, 4u << 10);
}

TEST(ConfigTest, LoadsRouteAndReceivers) {
  Config config = MustParse(
      "global:\n"
      "  slack_api_url: https://hooks.example.invalid/services/T/B/X\n"
      "  external_labels: {env: prod}\n"
      "route:\n"
      "  receiver: team\n"
      "  group_by: [alertname, severity]\n"
      "  group_wait: 10s\n"
      "receivers:\n"
      "  - name: team\n"
      "    slack_configs:\n"
      "      - channel: \"#alerts\"\n"
      "        send_resolved: true\n"
      "        title: T\n"
      "        text: X\n"
      "        username: bot\n"
      "    webhook_configs:\n"
      "      - url: http://127.0.0.1:5001/hook\n"
      "        max_alerts: 3\n"
      "  - name: all\n"
      "    webhook_configs:\n"
      "      - url: http://127.0.0.1:5002/\n"
      "        send_resolved: false\n");
  EXPECT_EQ(config.global.external_labels, (Labels{{"env", "prod"}}));
  ASSERT_TRUE(config.route.has_value());
  EXPECT_EQ(config.route->receiver, "team");
  EXPECT_EQ(config.route->group_by, (std::vector<std::string>{"alertname", "severity"}));
  EXPECT_EQ(config.route->group_wait, Duration(10000));
  EXPECT_EQ(config.route->group_interval, Duration(300000));
  EXPECT_EQ(config.route->repeat_interval, Duration(14400000));
  ASSERT_EQ(config.receivers.size(), 2u);
  const Receiver& team = config.receivers[0];
  ASSERT_EQ(team.slack_configs.size(), 1u);
  const SlackConfig& slack = team.slack_configs[0];
  EXPECT_EQ(slack.api_url, "https://hooks.example.invalid/services/T/B/X");
  EXPECT_EQ(slack.channel, "#alerts");
  EXPECT_TRUE(slack.send_resolved);
  EXPECT_EQ(slack.title, "T");
  EXPECT_EQ(slack.text, "X");
  EXPECT_EQ(slack.username, "bot");
  EXPECT_EQ(slack.mark.line, 11);
  ASSERT_EQ(team.webhook_configs.size(), 1u);
  EXPECT_EQ(team.webhook_configs[0].url, "http://127.0.0.1:5001/hook");
  EXPECT_TRUE(team.webhook_configs[0].send_resolved);
  EXPECT_EQ(team.webhook_configs[0].max_alerts, 3);
  ASSERT_EQ(config.receivers[1].webhook_configs.size(), 1u);
  EXPECT_FALSE(config.receivers[1].webhook_configs[0].send_resolved);
}

TEST(ConfigTest, GroupByAllLabels) {
  Config config =
      MustParse("route:\n  receiver: r\n  group_by: ['...']\nreceivers:\n  - name: r\n");
  ASSERT_TRUE(config.route.has_value());
  EXPECT_EQ(config.route->group_by, (std::vector<std::string>{"..."}));
}

TEST(ConfigTest, ErrorToStringOmitsUnknownPosition) {
  EXPECT_EQ((ConfigError{Mark{"a.yml", 2, 3}, "bad"}).ToString(), "a.yml:2:3: bad");
  EXPECT_EQ((ConfigError{Mark{"a.yml", 0, 0}, "bad"}).ToString(), "a.yml: bad");
  EXPECT_EQ((ConfigError{Mark{"", 0, 0}, "bad"}).ToString(), "bad");
}

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "config_test_" + std::to_string(::getpid());
    std::filesystem::create_directories(dir_ + "/rules");
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  std::string dir_;
};

TEST_F(ConfigFileTest, SecretFilesAreReadRelativeToConfig) {
  Write("slack_url", "  https://hooks.example.invalid/services/A\n");
  Write("hook_url", "http://127.0.0.1:5001/hook\n");
  std::string path = Write("alertd.yml",
                           "global:\n"
                           "  slack_api_url_file: slack_url\n"
                           "receivers:\n"
                           "  - name: r\n"
                           "    slack_configs:\n"
                           "      - channel: \"#a\"\n"
                           "    webhook_configs:\n"
                           "      - url_file: hook_url\n");
  std::vector<ConfigError> errors;
  Result<Config> config = LoadConfigFile(path, &errors);
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->base_dir, dir_);
  EXPECT_EQ(config->global.slack_api_url, "https://hooks.example.invalid/services/A");
  ASSERT_EQ(config->receivers.size(), 1u);
  EXPECT_EQ(config->receivers[0].slack_configs[0].api_url,
            "https://hooks.example.invalid/services/A");
  EXPECT_EQ(config->receivers[0].webhook_configs[0].url, "http://127.0.0.1:5001/hook");
  EXPECT_EQ(config->receivers[0].webhook_configs[0].url_file, "hook_url");
}

TEST_F(ConfigFileTest, SecretFileErrorsNameTheFileNotTheSecret) {
  Write("empty_url", "\n");
  Write("bad_url", "hooks.example.invalid/secret-token\n");
  std::string path = Write("alertd.yml",
                           "receivers:\n"
                           "  - name: r\n"
                           "    slack_configs:\n"
                           "      - api_url_file: empty_url\n"
                           "      - api_url_file: bad_url\n"
                           "      - api_url_file: missing_url\n");
  std::vector<ConfigError> errors;
  Result<Config> config = LoadConfigFile(path, &errors);
  ASSERT_FALSE(config.ok());
  std::vector<std::string> messages;
  for (const ConfigError& error : errors) {
    messages.push_back(error.ToString());
  }
  EXPECT_EQ(messages,
            (std::vector<std::string>{
                path + ":4:23: api_url_file \"" + dir_ + "/empty_url\" is empty",
                path + ":5:23: the URL in api_url_file is not a valid URL: it must start with "
                       "http:// or https://",
                path + ":6:23: cannot read api_url_file \"" + dir_ +
                    "/missing_url\": No such file or directory"}));
  for (const std::string& message : messages) {
    EXPECT_EQ(message.find("secret-token"), std::string::npos) << message;
  }
}

TEST_F(ConfigFileTest, MissingConfigFile) {
  std::vector<ConfigError> errors;
  Result<Config> config = LoadConfigFile(dir_ + "/nope.yml", &errors);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code(), ErrorCode::kIo);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].ToString(),
            dir_ + "/nope.yml: cannot read config file: No such file or directory");
}

TEST_F(ConfigFileTest, ExpandRuleFilesGlobsRelativeToConfig) {
  Write("rules/b.yml", "");
  Write("rules/a.yml", "");
  Write("rules/c.txt", "");
  Write("top.yml", "");
  std::string path = Write("alertd.yml",
                           "rule_files:\n"
                           "  - rules/*.yml\n"
                           "  - rules/a.yml\n"
                           "  - top.yml\n"
                           "  - none/*.yml\n");
  Result<Config> config = LoadConfigFile(path, nullptr);
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->rule_files,
            (std::vector<std::string>{"rules/*.yml", "rules/a.yml", "top.yml", "none/*.yml"}));
  ASSERT_EQ(config->rule_file_marks.size(), 4u);
  EXPECT_EQ(config->rule_file_marks[3].line, 5);
  EXPECT_EQ(
      ExpandRuleFiles(*config),
      (std::vector<std::string>{dir_ + "/rules/a.yml", dir_ + "/rules/b.yml", dir_ + "/top.yml"}));
}

const char kRules[] =
    "groups:\n"
    "  - name: g\n"
    "    rules:\n"
    "      - alert: A\n"
    "        expr: up == 0\n";

TEST_F(ConfigFileTest, CheckConfigChecksEveryRuleFile) {
  Write("rules/a.yml", kRules);
  Write("rules/b.yml", "groups:\n  - name: g\n    rules:\n      - alert: B\n        expr: up ==\n");
  std::string path = Write("alertd.yml",
                           "rule_files:\n"
                           "  - rules/*.yml\n"
                           "  - missing.yml\n"
                           "  - none/*.yml\n");
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(CheckConfig(path, out, err), 1);
  EXPECT_EQ(out.str(), path + ": 2 rule files found\n" + dir_ + "/rules/a.yml: 1 rules found\n");
  EXPECT_EQ(err.str(),
            path + ":3:5: rule file \"missing.yml\" not found (looked for \"" + dir_ +
                "/missing.yml\"); fix the path, which is relative to the config file\n" + path +
                ":4:5: warning: rule_files pattern \"none/*.yml\" matches no file (looked for \"" +
                dir_ + "/none/*.yml\")\n" + dir_ +
                "/rules/b.yml:5:20: rule \"B\": invalid expression: unexpected end of input\n");
}

TEST_F(ConfigFileTest, CheckConfigSucceeds) {
  Write("rules.yml", kRules);
  std::string path = Write("alertd.yml", "rule_files: [rules.yml]\n");
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(CheckConfig(path, out, err), 0);
  EXPECT_EQ(out.str(), path + ": 1 rule file found\n" + dir_ + "/rules.yml: 1 rules found\n");
  EXPECT_EQ(err.str(), "");
}

TEST_F(ConfigFileTest, CheckConfigReportsConfigErrors) {
  std::string path = Write("alertd.yml", "global:\n  scrape_interval: 5\n");
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(CheckConfig(path, out, err), 1);
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(err.str(),
            path + ":2:20: invalid duration \"5\" in scrape_interval" + std::string(kDurationHelp) +
                "\n");
}

TEST(ConfigExamplesTest, ShippedExamplesAreValid) {
  for (const char* name : {"quickstart", "node"}) {
    std::string path = std::string(ALERTD_SOURCE_DIR "/examples/") + name + "/alertd.yml";
    std::ostringstream out;
    std::ostringstream err;
    EXPECT_EQ(CheckConfig(path, out, err), 0) << path << "\n" << err.str();
  }
}

}  // namespace
}  // namespace alertd::config
