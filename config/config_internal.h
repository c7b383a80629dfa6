// The alertd.yml loader, shared by config.cc (top level, global, storage, web),
// scrape_config.cc and alerting_config.cc (route and receivers). Not part of the API.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/alertmanager_fields.h"
#include "config/config.h"
#include "rules/yaml_util.h"

namespace alertd::config::internal {

// Collects every problem of one file while filling in a Config.
class Loader {
 public:
  Loader(const std::string& file, const std::string& base_dir) {
    config_.file = file;
    config_.base_dir = base_dir;
    current_file_ = file;
    current_base_dir_ = base_dir;
  }

  // amtool reads *_file secrets only when it sends, so `check config` accepts a file whose
  // secret files are absent; with this set, problems reading them are warnings.
  void set_secret_files_are_warnings(bool value) { secret_files_are_warnings_ = value; }

  std::vector<ConfigError>& warnings() { return warnings_; }

  // Returns the configuration read so far; it is complete only when errors() is empty.
  Config Load(const std::string& text);

  // Reads only `route` and the receiver names (route_config.cc), for LoadRoutingFile.
  Config LoadRouting(const std::string& text);

  std::vector<ConfigError>& errors() { return errors_; }

 private:
  void Report(yaml::Position position, std::string message);
  void Warn(yaml::Position position, std::string message);
  Mark MarkAt(yaml::Position position) const;
  yaml::ErrorSink Sink();

  // Reads the file a `*_file` field names, relative to base_dir, with surrounding whitespace
  // trimmed. Reports a missing, unreadable or empty file.
  std::optional<std::string> ReadSecretFile(const yaml::Entry& entry);
  // Reports a URL that is not http(s)://host...; `what` names the field.
  bool CheckSecretUrl(const std::string& url, yaml::Position position, const std::string& what);
  void ReadLabels(const yaml::Entry& entry, Labels& labels);

  void LoadGlobal(const YAML::Node& node);
  // The notification keys of a top-level mapping: in alertd.yml itself or in the file that
  // alertmanager_config_file names.
  void LoadNotificationPart(const yaml::Fields& fields);
  // alertmanager_config_file: reads the notification part from that file.
  void LoadAlertmanagerFile(const yaml::Entry& entry, const yaml::Fields& top);

  // am_global_config.cc: the Alertmanager fields of `global`.
  void LoadAlertmanagerGlobal(const yaml::Fields& fields);
  void LoadGlobalSlackUrl(const yaml::Fields& fields);
  // Reads a secret given inline under `key` or in a file under `file_key`; reports both set.
  // Returns false when there was a problem. `file` receives the file path as written.
  bool ReadSecretPair(const yaml::Fields& fields,
                      std::string_view key,
                      std::string_view file_key,
                      std::string& value,
                      std::string* file,
                      bool is_url);

  // http_config.cc
  void LoadHttpConfig(const yaml::Entry& entry, HttpClientConfig& http);
  void LoadTlsConfig(const yaml::Entry& entry, TlsConfig& tls);
  void LoadRuleFiles(const yaml::Entry& entry);
  void LoadStorage(const YAML::Node& node);
  void LoadWeb(const YAML::Node& node);

  // scrape_config.cc
  void LoadScrapeConfigs(const yaml::Entry& entry);
  std::optional<ScrapeConfig> LoadScrapeConfig(const YAML::Node& node);
  void LoadStaticConfig(const YAML::Node& node, ScrapeConfig& scrape);

  // route_config.cc
  void LoadRoute(const yaml::Entry& entry);
  // `parent` is null for the root route; a child starts from a copy of its parent's options.
  std::optional<Route> LoadRouteNode(const YAML::Node& node,
                                     const Route* parent,
                                     yaml::Position key_position);
  void ReadRouteMatchers(const yaml::Fields& fields, Route& route);
  void CheckRouteReceiver(const std::string& receiver, yaml::Position position);

  // alerting_config.cc
  void LoadReceivers(const yaml::Entry& entry);
  std::optional<Receiver> LoadReceiver(const YAML::Node& node);
  std::optional<SlackConfig> LoadSlackConfig(const YAML::Node& node);
  std::optional<WebhookConfig> LoadWebhookConfig(const YAML::Node& node);
  void LoadSlackFields(const yaml::Entry& entry, SlackConfig& slack);
  void LoadSlackActions(const yaml::Entry& entry, SlackConfig& slack);

  // integration_configs.cc
  std::optional<EmailConfig> LoadEmailConfig(const YAML::Node& node);
  std::optional<SentryConfig> LoadSentryConfig(const YAML::Node& node);
  // pagerduty_configs, opsgenie_configs, ...: validated, then recorded as unsupported.
  // Returns false for a key that is not such an integration.
  bool IsUnsupportedIntegration(std::string_view key) const;
  void LoadUnsupportedIntegration(std::string_view key, const YAML::Node& node, Receiver& receiver);

 public:
  // Each validates one integration entry; public so that a table can name them.
  void LoadPagerduty(const yaml::Fields& fields, yaml::Position position);
  void LoadPushover(const yaml::Fields& fields, yaml::Position position);
  void LoadOpsgenie(const yaml::Fields& fields, yaml::Position position);
  void LoadVictorops(const yaml::Fields& fields, yaml::Position position);
  void LoadWechat(const yaml::Fields& fields, yaml::Position position);
  void LoadTelegram(const yaml::Fields& fields, yaml::Position position);
  void LoadSns(const yaml::Fields& fields, yaml::Position position);
  void LoadWebex(const yaml::Fields& fields, yaml::Position position);
  void LoadDiscord(const yaml::Fields& fields, yaml::Position position);

 private:
  // A URL field with a default from global: reports an invalid URL.
  void CheckUrlField(const yaml::Fields& fields, std::string_view key);

  // inhibit_config.cc
  void LoadInhibitRules(const yaml::Entry& entry);
  std::optional<InhibitRule> LoadInhibitRule(const YAML::Node& node);
  // source_match / target_match (`regex` false) or *_match_re (true), appended to `out`.
  void ReadMatchMap(const yaml::Entry& entry, bool regex, std::vector<LabelMatcher>& out);
  void ReadMatcherList(const yaml::Entry& entry, std::vector<LabelMatcher>& out);

  // time_interval_config.cc
  void LoadTimeIntervals(const yaml::Entry& entry, bool mute);
  std::optional<TimeIntervalSpec> LoadTimeIntervalSpec(const YAML::Node& node);
  void LoadTemplates(const yaml::Entry& entry);

  Config config_;
  std::vector<ConfigError> errors_;
  std::vector<ConfigError> warnings_;
  bool secret_files_are_warnings_ = false;
  bool routing_only_ = false;
  // Names of time intervals that failed to load, so routes naming them get no second error.
  std::vector<std::string> invalid_time_intervals_;
  // The file being read and its directory: alertd.yml, or the alertmanager.yml that
  // alertmanager_config_file names. Marks and *_file paths use them.
  std::string current_file_;
  std::string current_base_dir_;
};

// Reads the `query` section (query_config.cc).
void LoadQueryConfig(const YAML::Node& node, QueryConfig& query, const yaml::ErrorSink& errors);
// Reads datasource, remote_write, alerting and global rule_query_offset (remote_config.cc).
void LoadRemoteSections(const yaml::Fields& top, Config& config, const yaml::ErrorSink& errors);
// Reads the `rules` section (rules_config.cc).
void LoadRulesConfig(const YAML::Node& node, RulesConfig& rules, const yaml::ErrorSink& errors);
// Reads a byte size (byte_size.cc) as Prometheus's body_size_limit does: B, KiB, MiB, ... EiB or
// KB, MB, ... EB, all 1024 based, with fractions and sums such as 1.5MiB or 1GiB512MiB; a plain
// integer is bytes. Returns nullopt for a null value and for a reported invalid one.
std::optional<uint64_t> ReadByteSize(const yaml::Entry& entry, const yaml::ErrorSink& errors);
// Reads the `limits` section (limits_config.cc).
void LoadLimitsConfig(const YAML::Node& node, LimitsConfig& limits, const yaml::ErrorSink& errors);
// Reads the `notifications` section (notifications_config.cc).
void LoadNotificationsConfig(const YAML::Node& node,
                             NotificationsConfig& notifications,
                             const yaml::ErrorSink& errors);
// Reads `webhook_receivers` (webhook_receivers_config.cc). `read_file` reads a *_file secret
// relative to the configuration's directory and reports its own errors.
void LoadWebhookReceivers(
    const yaml::Entry& entry,
    Config& config,
    const std::function<std::optional<std::string>(const yaml::Entry&)>& read_file,
    const yaml::ErrorSink& errors);

// Joins a relative `path` to `base`; an absolute path is returned unchanged.
std::string JoinPath(const std::string& base, const std::string& path);
// Sorts by position, the errors of `main_file` first.
void SortErrors(std::vector<ConfigError>& errors, const std::string& main_file);
// Returns the directory part of `path`, "." when it has none.
std::string DirName(const std::string& path);
std::string Trim(std::string_view text);
// Returns why `url` is not an absolute http or https URL, or "" when it is one.
std::string UrlProblem(std::string_view url);
// Returns why `address` is not host:port as Go's net.SplitHostPort reads it, or "" when it is.
std::string SmtpHostPortProblem(std::string_view address);
// Returns why `address` is not host:port, or "" when it is.
std::string HostPortProblem(std::string_view address, bool allow_empty_host);

}  // namespace alertd::config::internal
