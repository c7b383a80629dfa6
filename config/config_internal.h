// The alertd.yml loader, shared by config.cc (top level, global, storage, web),
// scrape_config.cc and alerting_config.cc (route and receivers). Not part of the API.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "rules/yaml_util.h"

namespace alertd::config::internal {

// Collects every problem of one file while filling in a Config.
class Loader {
 public:
  Loader(const std::string& file, const std::string& base_dir) {
    config_.file = file;
    config_.base_dir = base_dir;
  }

  // Returns the configuration read so far; it is complete only when errors() is empty.
  Config Load(const std::string& text);

  // Reads only `route` and the receiver names (route_config.cc), for LoadRoutingFile.
  Config LoadRouting(const std::string& text);

  std::vector<ConfigError>& errors() { return errors_; }

 private:
  void Report(yaml::Position position, std::string message);
  Mark MarkAt(yaml::Position position) const;
  yaml::ErrorSink Sink();

  // Reads the file a `*_file` field names, relative to base_dir, with surrounding whitespace
  // trimmed. Reports a missing, unreadable or empty file.
  std::optional<std::string> ReadSecretFile(const yaml::Entry& entry);
  // Reports a URL that is not http(s)://host...; `what` names the field.
  bool CheckSecretUrl(const std::string& url, yaml::Position position, const std::string& what);
  void ReadLabels(const yaml::Entry& entry, Labels& labels);

  void LoadGlobal(const YAML::Node& node);
  void LoadGlobalSlackUrl(const yaml::Fields& fields);
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

  Config config_;
  std::vector<ConfigError> errors_;
};

// Reads the `query` section (query_config.cc).
void LoadQueryConfig(const YAML::Node& node, QueryConfig& query, const yaml::ErrorSink& errors);
// Reads datasource, remote_write, alerting and global rule_query_offset (remote_config.cc).
void LoadRemoteSections(const yaml::Fields& top, Config& config, const yaml::ErrorSink& errors);

// Joins a relative `path` to `base`; an absolute path is returned unchanged.
std::string JoinPath(const std::string& base, const std::string& path);
// Returns the directory part of `path`, "." when it has none.
std::string DirName(const std::string& path);
std::string Trim(std::string_view text);
// Returns why `url` is not an absolute http or https URL, or "" when it is one.
std::string UrlProblem(std::string_view url);
// Returns why `address` is not host:port, or "" when it is.
std::string HostPortProblem(std::string_view address, bool allow_empty_host);

}  // namespace alertd::config::internal
