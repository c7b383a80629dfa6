// The datasource, remote_write and alerting sections of alertd.yml.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/config.h"

namespace alertd::config {
namespace {

std::vector<std::string> Errors(const std::string& text, const std::string& file = "alertd.yml") {
  std::vector<ConfigError> errors;
  Result<Config> config = ParseConfig(text, file, &errors);
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
  EXPECT_TRUE(config.ok()) << (errors.empty() ? "" : errors[0].ToString());
  return config.ok() ? *config : Config{};
}

// A directory with secret files, removed at the end of the test.
class SecretDir {
 public:
  SecretDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("alertd_remote_config_" + std::to_string(::getpid()));
    std::filesystem::create_directories(path_);
    Write("password", "hunter2\n");
    Write("token", "  abc.def  \n");
    Write("empty", "\n");
  }

  ~SecretDir() { std::filesystem::remove_all(path_); }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(path_ / name) << text;
  }

  std::string file() const { return (path_ / "alertd.yml").string(); }

  std::string dir() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST(RemoteConfigTest, AbsentSectionsKeepLocalMode) {
  Config config = MustParse("");
  EXPECT_FALSE(config.datasource.has_value());
  EXPECT_TRUE(config.remote_write.empty());
  EXPECT_TRUE(config.alertmanagers.empty());
  EXPECT_EQ(config.rule_query_offset, Duration(0));
}

TEST(RemoteConfigTest, ReadsDatasource) {
  SecretDir dir;
  Config config = MustParse(
      "global:\n  rule_query_offset: 30s\n"
      "datasource:\n"
      "  type: prometheus\n"
      "  url: http://127.0.0.1:9090/prefix\n"
      "  timeout: 5s\n"
      "  query_params:\n    dedup: 'true'\n"
      "  basic_auth:\n    username: alice\n    password_file: password\n"
      "  tls_config:\n    ca_file: ca.pem\n    insecure_skip_verify: true\n"
      "    min_version: TLS12\n",
      dir.file());
  ASSERT_TRUE(config.datasource.has_value());
  const DatasourceConfig& ds = *config.datasource;
  EXPECT_EQ(ds.url, "http://127.0.0.1:9090/prefix");
  EXPECT_EQ(ds.timeout, Duration(5000));
  EXPECT_EQ(ds.query_params.at("dedup"), "true");
  EXPECT_EQ(ds.http_config.basic_auth_username, "alice");
  EXPECT_EQ(ds.http_config.basic_auth_password, "hunter2");
  EXPECT_EQ(ds.http_config.tls_config.ca_file, dir.dir() + "/ca.pem");
  EXPECT_TRUE(ds.http_config.tls_config.insecure_skip_verify);
  EXPECT_EQ(ds.http_config.tls_config.min_version, "TLS12");
  EXPECT_EQ(config.rule_query_offset, Duration(30000));
}

TEST(RemoteConfigTest, ReadsBearerTokenFileAndAuthorization) {
  SecretDir dir;
  Config config = MustParse(
      "datasource:\n  url: https://prom.example/\n  bearer_token_file: token\n"
      "remote_write:\n  - url: http://127.0.0.1:9090/api/v1/write\n"
      "    authorization:\n      type: Token\n      credentials: xyz\n",
      dir.file());
  ASSERT_TRUE(config.datasource.has_value());
  EXPECT_EQ(config.datasource->http_config.authorization_type, "Bearer");
  EXPECT_EQ(config.datasource->http_config.authorization_credentials, "abc.def");
  ASSERT_EQ(config.remote_write.size(), 1u);
  EXPECT_EQ(config.remote_write[0].http_config.authorization_type, "Token");
  EXPECT_EQ(config.remote_write[0].http_config.authorization_credentials, "xyz");
}

TEST(RemoteConfigTest, ReadsRemoteWrite) {
  Config config = MustParse(
      "remote_write:\n"
      "  - url: http://127.0.0.1:9090/api/v1/write\n"
      "    name: main\n"
      "    remote_timeout: 10s\n"
      "    headers:\n      X-Scope-OrgID: team-a\n"
      "    queue_config:\n      capacity: 100\n      max_samples_per_send: 10\n"
      "      min_backoff: 50ms\n      max_backoff: 1s\n"
      "  - url: http://127.0.0.1:9091/api/v1/write\n");
  ASSERT_EQ(config.remote_write.size(), 2u);
  const RemoteWriteConfig& rw = config.remote_write[0];
  EXPECT_EQ(rw.url, "http://127.0.0.1:9090/api/v1/write");
  EXPECT_EQ(rw.name, "main");
  EXPECT_EQ(rw.remote_timeout, Duration(10000));
  EXPECT_EQ(rw.headers.at("X-Scope-OrgID"), "team-a");
  EXPECT_EQ(rw.queue_capacity, 100);
  EXPECT_EQ(rw.max_samples_per_send, 10);
  EXPECT_EQ(rw.min_backoff, Duration(50));
  EXPECT_EQ(rw.max_backoff, Duration(1000));
  EXPECT_EQ(config.remote_write[1].queue_capacity, 2500);
  EXPECT_EQ(config.remote_write[1].max_samples_per_send, 500);
  EXPECT_EQ(config.remote_write[1].mark.line, 12);
}

TEST(RemoteConfigTest, ReadsAlertmanagers) {
  Config config = MustParse(
      "alerting:\n  alertmanagers:\n"
      "    - scheme: https\n      path_prefix: /am\n      timeout: 3s\n      api_version: v2\n"
      "      static_configs:\n        - targets: ['127.0.0.1:9093', 'am.example:9093']\n"
      "    - static_configs:\n        - targets: ['[::1]:9093']\n");
  ASSERT_EQ(config.alertmanagers.size(), 2u);
  const AlertmanagerTargetConfig& am = config.alertmanagers[0];
  EXPECT_EQ(am.scheme, "https");
  EXPECT_EQ(am.path_prefix, "/am");
  EXPECT_EQ(am.timeout, Duration(3000));
  EXPECT_EQ(am.targets, (std::vector<std::string>{"127.0.0.1:9093", "am.example:9093"}));
  EXPECT_EQ(config.alertmanagers[1].scheme, "http");
  EXPECT_EQ(config.alertmanagers[1].path_prefix, "/");
  EXPECT_EQ(config.alertmanagers[1].targets, std::vector<std::string>{"[::1]:9093"});
}

TEST(RemoteConfigTest, ReportsBadValues) {
  struct Case {
    std::string text;
    std::vector<std::string> errors;
  };

  SecretDir dir;
  const std::string file = dir.file();
  const std::vector<Case> cases = {
      {"datasource:\n  type: graphite\n  url: http://x:1\n",
       {file + ":2:9: datasource type \"graphite\" is not supported; use prometheus, for any API "
               "compatible with Prometheus's /api/v1/query"}},
      {"datasource:\n  timeout: 1s\n",
       {file + ":1:1: datasource url is missing; set it to the base URL of a "
               "Prometheus-compatible API, for example http://localhost:9090"}},
      {"datasource:\n  url: localhost:9090\n",
       {file + ":2:8: invalid datasource url: it must start with http:// or https://"}},
      {"datasource:\n  url: http://x:1\n  timeout: 0s\n",
       {file + ":3:12: datasource timeout must be positive, got 0s"}},
      {"datasource:\n  url: http://x:1\n  query_params:\n    time: '1'\n",
       {file + ":4:5: query parameter \"time\" in datasource query_params is set by alertd for "
               "each rule; remove it"}},
      {"datasource:\n  url: http://x:1\n  oauth2: {}\n",
       {file + ":3:3: field \"oauth2\" in datasource is not supported yet by alertd; remove it"}},
      {"datasource:\n  url: http://x:1\n  basic_auth:\n    username: a\n  bearer_token: t\n",
       {file + ":5:3: at most one of basic_auth, authorization and bearer_token (or "
               "bearer_token_file) may be set in datasource; remove the others"}},
      {"datasource:\n  url: http://x:1\n  basic_auth:\n    password: p\n",
       {file + ":3:3: basic_auth username is missing in datasource; set username"}},
      {"datasource:\n  url: http://x:1\n  basic_auth:\n    username: a\n    password: p\n"
       "    password_file: password\n",
       {file + ":6:5: at most one of password and password_file may be set; remove one"}},
      {"datasource:\n  url: http://x:1\n  bearer_token_file: missing\n",
       {file + ":3:22: cannot read bearer_token_file \"" + dir.dir() +
        "/missing\": No such file or directory"}},
      {"datasource:\n  url: http://x:1\n  bearer_token_file: empty\n",
       {file + ":3:22: bearer_token_file \"" + dir.dir() + "/empty\" is empty"}},
      {"datasource:\n  url: http://x:1\n  authorization:\n    type: Basic\n",
       {file + ":4:11: authorization type \"Basic\" is not allowed; use basic_auth instead"}},
      {"datasource:\n  url: http://x:1\n  tls_config:\n    cert_file: c.pem\n",
       {file + ":3:3: tls_config needs both cert_file and key_file for a client certificate; "
               "set the missing one"}},
      {"datasource:\n  url: http://x:1\n  tls_config:\n    min_version: TLS14\n",
       {file + ":4:18: unknown TLS version \"TLS14\" in min_version; use TLS10, TLS11, TLS12 or "
               "TLS13"}},
      {"global:\n  rule_query_offset: later\n",
       {file +
        ":2:22: invalid duration \"later\" in rule_query_offset: use a number followed by a "
        "unit (ms, s, m, h, d, w, y), for example 30s or 1h30m"}},
      {"remote_write: {}\n",
       {file + ":1:15: remote_write must be a list of endpoints, got a mapping"}},
      {"remote_write:\n  - name: a\n",
       {file + ":2:5: remote_write url is missing; set it to the receiver's write endpoint, for "
               "example http://localhost:9090/api/v1/write"}},
      {"remote_write:\n  - url: http://x:1/w\n    name: a\n  - url: http://x:2/w\n    name: a\n",
       {file + ":4:5: remote_write name \"a\" is already used at line 2; names must be unique"}},
      {"remote_write:\n  - url: http://x:1/w\n    remote_timeout: -1s\n",
       {file + ":3:21: invalid duration \"-1s\" in remote_timeout: use a number followed by a "
               "unit (ms, s, m, h, d, w, y), for example 30s or 1h30m"}},
      {"remote_write:\n  - url: http://x:1/w\n    headers:\n      Content-Type: text/plain\n",
       {file + ":4:7: header \"Content-Type\" in remote_write headers is reserved for the "
               "protocol or authentication; remove it"}},
      {"remote_write:\n  - url: http://x:1/w\n    queue_config:\n      capacity: 0\n",
       {file + ":4:17: queue_config capacity must be from 1 to 100000000, got 0"}},
      {"remote_write:\n  - url: http://x:1/w\n    queue_config:\n      max_samples_per_send: "
       "-5\n",
       {file + ":4:29: queue_config max_samples_per_send must be from 1 to 100000000, got -5"}},
      {"remote_write:\n  - url: http://x:1/w\n    queue_config:\n      min_backoff: 10s\n"
       "      max_backoff: 1s\n",
       {file + ":3:5: queue_config min_backoff 10s is greater than max_backoff 1s; raise "
               "max_backoff or lower min_backoff"}},
      {"remote_write:\n  - url: http://x:1/w\n    queue_config:\n      max_shards: 2\n",
       {file + ":4:7: field \"max_shards\" in queue_config is not supported yet by alertd; "
               "remove it"}},
      {"remote_write:\n  - url: http://x:1/w\n    write_relabel_configs: []\n",
       {file + ":3:5: field \"write_relabel_configs\" in remote_write is not supported yet by "
               "alertd; remove it"}},
      {"alerting:\n  alertmanagers:\n    - api_version: v1\n      static_configs:\n"
       "        - targets: [a:1]\n",
       {file + ":3:20: api_version v1 is not supported: alertd sends alerts only through "
               "Alertmanager's API v2 (Alertmanager 0.16 and later); set api_version: v2"}},
      {"alerting:\n  alertmanagers:\n    - api_version: v3\n      static_configs:\n"
       "        - targets: [a:1]\n",
       {file + ":3:20: unknown api_version \"v3\" in alertmanager config; use v2"}},
      {"alerting:\n  alertmanagers:\n    - scheme: ftp\n      static_configs:\n"
       "        - targets: [a:1]\n",
       {file + ":3:15: invalid scheme \"ftp\" in alertmanager config; use http or https"}},
      {"alerting:\n  alertmanagers:\n    - timeout: 1s\n",
       {file + ":3:7: alertmanager config has no targets; add static_configs with the host:port "
               "of each Alertmanager"}},
      {"alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['http://a:1']\n",
       {file + ":4:21: invalid alertmanager target \"http://a:1\": use host:port without a "
               "scheme, for example localhost:9100"}},
      {"alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [a:1]\n"
       "      file_sd_configs: []\n",
       {file + ":5:7: field \"file_sd_configs\" in alertmanager config is not supported yet by "
               "alertd; remove it"}},
      {"alerting:\n  alertmanagers: {}\n",
       {file + ":2:18: alertmanagers must be a list of alertmanager configs, got a mapping"}},
      {"alerting:\n  alert_relabel_configs: []\n",
       {file + ":2:3: field \"alert_relabel_configs\" in alerting is not supported yet by "
               "alertd; remove it"}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Errors(c.text, file), c.errors) << c.text;
  }
}

}  // namespace
}  // namespace alertd::config
