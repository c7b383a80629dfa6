// The daemon configuration, alertd.yml: a prometheus.yml and an alertmanager.yml merged, with
// one `global` section holding the fields of both. Defaults are filled in by the loader and
// documented beside each field.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/labels.h"
#include "common/matcher.h"
#include "common/result.h"

namespace alertd::config {

// Where a value came from, for error messages: 1-based line and column in `file`.
struct Mark {
  std::string file;
  int line = 0;
  int column = 0;
};

struct StaticConfig {
  std::vector<std::string> targets;  // host:port
  Labels labels;
};

struct ScrapeConfig {
  std::string job_name;
  Duration scrape_interval{0};  // default: global.scrape_interval
  Duration scrape_timeout{0};   // default: global.scrape_timeout, at most scrape_interval
  std::string metrics_path = "/metrics";
  std::string scheme = "http";  // http or https
  bool honor_labels = false;
  bool honor_timestamps = true;  // Prometheus default: use the timestamps an exposition gives
  std::vector<StaticConfig> static_configs;
  Mark mark;
};

struct SlackConfig {
  bool send_resolved = false;  // Alertmanager's default for Slack
  std::string api_url;         // secret; api_url_file is read into it at load time
  std::string api_url_file;
  std::string channel;
  std::string username;  // Alertmanager's default: '{{ template "slack.default.username" . }}'
  std::string title;     // empty: alertd's default title
  std::string text;      // empty: alertd's default text (each alert's summary and description)
  Mark mark;
};

struct WebhookConfig {
  bool send_resolved = true;  // Alertmanager's default for webhooks
  std::string url;            // secret; url_file is read into it at load time
  std::string url_file;
  int max_alerts = 0;  // 0: no limit
  Mark mark;
};

struct Receiver {
  std::string name;
  std::vector<SlackConfig> slack_configs;
  std::vector<WebhookConfig> webhook_configs;
  Mark mark;
};

struct Route {
  std::string receiver;
  // Label names to group by. The single entry "..." groups by all labels.
  std::vector<std::string> group_by;
  Duration group_wait{30000};          // Alertmanager default 30s
  Duration group_interval{300000};     // Alertmanager default 5m
  Duration repeat_interval{14400000};  // Alertmanager default 4h
  Mark mark;
  // The route's own matchers: `matchers`, `match` and `match_re` together, sorted by name,
  // value, then type as Alertmanager sorts them. The root route has none.
  std::vector<LabelMatcher> matchers;
  bool continue_matching = false;  // `continue`: after a match, try the next siblings too
  // Child routes. The loader fills in what a child leaves unset (receiver, group_by and the
  // three intervals) from its parent, as Alertmanager's dispatch.NewRoute does.
  std::vector<Route> routes;
};

struct GlobalConfig {
  Duration scrape_interval{60000};      // Prometheus default 1m
  Duration scrape_timeout{10000};       // Prometheus default 10s
  Duration evaluation_interval{60000};  // Prometheus default 1m
  Labels external_labels;
  Duration resolve_timeout{300000};  // Alertmanager default 5m
  std::string slack_api_url;         // secret
  std::string slack_api_url_file;
};

struct StorageConfig {
  std::string path = "data/";  // directory; holds alertd.db
};

struct WebConfig {
  std::string listen_address = "127.0.0.1:9095";
  std::string external_url;  // empty: http://<listen_address>/
};

// Limits on each PromQL query, rule evaluations and the query API alike, with the defaults of
// Prometheus's --query.max-samples and --query.timeout flags.
struct QueryConfig {
  int64_t max_samples = 50'000'000;
  Duration timeout{120000};  // 2m
};

struct Config {
  std::string file;      // path of the loaded alertd.yml
  std::string base_dir;  // directory of `file`; rule_files and *_file paths are relative to it
  GlobalConfig global;
  std::vector<std::string> rule_files;  // globs as written
  std::vector<Mark> rule_file_marks;    // position of each rule_files entry, in the same order
  std::vector<ScrapeConfig> scrape_configs;
  StorageConfig storage;
  WebConfig web;
  std::optional<Route> route;  // absent: no notifications are sent
  std::vector<Receiver> receivers;
  QueryConfig query;
};

// One problem found in a configuration file.
struct ConfigError {
  Mark mark;
  std::string message;

  // FILE:LINE:COL: message (the position omitted when unknown).
  std::string ToString() const;
};

// Loads and validates alertd.yml. Every problem found is returned, not only the first.
// Rule files are not loaded here; ExpandRuleFiles resolves their globs.
Result<Config> LoadConfigFile(const std::string& path, std::vector<ConfigError>* errors);

// Parses configuration text; `file` names it in errors and sets base_dir.
Result<Config> ParseConfig(const std::string& text,
                           const std::string& file,
                           std::vector<ConfigError>* errors);

// Loads only `route` and the names of `receivers` from an alertd.yml or an alertmanager.yml,
// ignoring every other section and the receivers' integrations, as amtool's `config routes`
// does. The route is validated as in LoadConfigFile.
Result<Config> LoadRoutingFile(const std::string& path, std::vector<ConfigError>* errors);

// Alertmanager 0.25's labels.ParseMatchers: matchers separated by commas, optionally inside
// `{...}`, each `name OP value` with OP one of = != =~ !~ and the value optionally quoted.
Result<std::vector<LabelMatcher>> ParseMatchers(std::string_view text);
// Alertmanager 0.25's labels.ParseMatcher: one matcher.
Result<LabelMatcher> ParseMatcher(std::string_view text);

// Expands rule_files globs relative to base_dir, sorted, without duplicates.
std::vector<std::string> ExpandRuleFiles(const Config& config);

}  // namespace alertd::config
