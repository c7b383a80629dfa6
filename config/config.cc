#include "config/config.h"

#include <glob.h>

#include <algorithm>
#include <tuple>

#include "common/duration.h"
#include "config/config_internal.h"
#include "rules/yaml_util.h"

namespace alertd::config {
namespace {

using yaml::Entry;
using yaml::Position;

const yaml::Schema kTopSchema{"the configuration",
                              {"global",
                               "rule_files",
                               "scrape_configs",
                               "storage",
                               "web",
                               "query",
                               "rules",
                               "limits",
                               "notifications",
                               "webhook_receivers",
                               "alertmanager_config_file",
                               // prometheus.yml, and alertd's datasource (remote_config.cc)
                               "datasource",
                               "alerting",
                               "remote_write",
                               // alertmanager.yml
                               "route",
                               "receivers",
                               "inhibit_rules",
                               "time_intervals",
                               "mute_time_intervals",
                               "templates"},
                              {// prometheus.yml
                               "remote_read",
                               "tracing",
                               "scrape_config_files"},
                              {}};

// The keys alertmanager_config_file moves to its own file.
constexpr std::string_view kNotificationKeys[] = {
    "route", "receivers", "inhibit_rules", "time_intervals", "mute_time_intervals", "templates"};

// An alertmanager.yml named by alertmanager_config_file.
const yaml::Schema kAlertmanagerFileSchema{"the Alertmanager configuration",
                                           {"global",
                                            "route",
                                            "receivers",
                                            "inhibit_rules",
                                            "time_intervals",
                                            "mute_time_intervals",
                                            "templates"},
                                           {},
                                           {}};

// alertd.yml's global: Prometheus's fields and Alertmanager's.
const yaml::Schema& GlobalSchema() {
  static const yaml::Schema schema = [] {
    yaml::Schema out{"global",
                     {"scrape_interval",
                      "scrape_timeout",
                      "evaluation_interval",
                      "external_labels",
                      "rule_query_offset"},
                     {"query_log_file",
                      "body_size_limit",
                      "sample_limit",
                      "target_limit",
                      "label_limit",
                      "label_name_length_limit",
                      "label_value_length_limit"},
                     {}};
    for (std::string_view field : AlertmanagerGlobalFields()) {
      out.fields.push_back(field);
    }
    return out;
  }();
  return schema;
}

const yaml::Schema& AlertmanagerGlobalSchema() {
  static const yaml::Schema schema{"global", AlertmanagerGlobalFields(), {}, {}};
  return schema;
}

// Prometheus's storage section configures its TSDB, which alertd does not have.
const yaml::Schema kStorageSchema{
    "storage", {"path", "snapshot_interval"}, {"tsdb", "exemplars"}, {}};

const yaml::Schema kWebSchema{"web", {"listen_address", "external_url", "config_file"}, {}, {}};

}  // namespace

std::string ConfigError::ToString() const {
  std::string out;
  if (!mark.file.empty()) {
    out += mark.file;
    if (mark.line > 0) {
      out += ":" + std::to_string(mark.line) + ":" + std::to_string(mark.column);
    }
    out += ": ";
  } else if (mark.line > 0) {
    out += std::to_string(mark.line) + ":" + std::to_string(mark.column) + ": ";
  }
  return out + message;
}

namespace internal {

void Loader::Report(Position position, std::string message) {
  errors_.push_back(ConfigError{MarkAt(position), std::move(message)});
}

void Loader::Warn(Position position, std::string message) {
  warnings_.push_back(ConfigError{MarkAt(position), "warning: " + std::move(message)});
}

Mark Loader::MarkAt(Position position) const {
  return Mark{current_file_, position.line, position.column};
}

yaml::ErrorSink Loader::Sink() {
  return [this](Position position, std::string message) {
    Report(position, std::move(message));
  };
}

std::optional<std::string> Loader::ReadSecretFile(const Entry& entry) {
  std::optional<std::string> path = yaml::ReadString(entry, Sink());
  if (!path) {
    return std::nullopt;
  }
  if (path->empty()) {
    Report(entry.value_position(), entry.key + " is empty; set it to the path of a file");
    return std::nullopt;
  }
  std::string resolved = JoinPath(current_base_dir_, *path);
  Result<std::string> text = yaml::ReadTextFile(resolved);
  if (!text.ok()) {
    std::string message =
        "cannot read " + entry.key + " \"" + resolved + "\": " + text.error().message();
    if (secret_files_are_warnings_) {
      Warn(entry.value_position(), message + "; alertd run reads it at start");
    } else {
      Report(entry.value_position(), message);
    }
    return std::nullopt;
  }
  std::string secret = Trim(*text);
  if (secret.empty()) {
    std::string message = entry.key + " \"" + resolved + "\" is empty";
    if (secret_files_are_warnings_) {
      Warn(entry.value_position(), message + "; alertd run rejects it");
    } else {
      Report(entry.value_position(), message);
    }
    return std::nullopt;
  }
  return secret;
}

void Loader::ReadLabels(const Entry& entry, Labels& labels) {
  std::vector<Label> items;
  for (const yaml::StringItem& item : yaml::ReadStringMap(entry, Sink())) {
    if (!IsValidLabelName(item.key)) {
      Report(item.key_position,
             "invalid label name \"" + item.key + "\" in " + entry.key +
                 ": label names must match [a-zA-Z_][a-zA-Z0-9_]*");
      continue;
    }
    items.push_back(Label{item.key, item.value});
  }
  labels = Labels(std::move(items));
}

void Loader::LoadGlobal(const YAML::Node& node) {
  GlobalConfig& global = config_.global;
  yaml::Fields fields = yaml::ReadMapping(node, GlobalSchema(), Sink());
  std::optional<Duration> interval;
  std::optional<Duration> timeout;
  if (const Entry* entry = fields.Find("scrape_interval")) {
    interval = yaml::ReadDuration(*entry, Sink());
  }
  if (const Entry* entry = fields.Find("scrape_timeout")) {
    timeout = yaml::ReadDuration(*entry, Sink());
  }
  // As Prometheus 2.42's GlobalConfig: a zero interval is the default, an explicit timeout
  // must not exceed the interval, and the default timeout is capped at the interval.
  if (interval && interval->count() > 0) {
    global.scrape_interval = *interval;
  }
  if (timeout && timeout->count() > 0) {
    if (*timeout > global.scrape_interval) {
      Report(fields.Find("scrape_timeout")->value_position(),
             "global scrape_timeout " + FormatDuration(*timeout) +
                 " is greater than scrape_interval " + FormatDuration(global.scrape_interval) +
                 "; a scrape must time out before the next one starts");
    }
    global.scrape_timeout = *timeout;
  } else {
    global.scrape_timeout = std::min(global.scrape_timeout, global.scrape_interval);
  }
  if (const Entry* entry = fields.Find("evaluation_interval")) {
    std::optional<Duration> value = yaml::ReadDuration(*entry, Sink());
    if (value && value->count() > 0) {
      global.evaluation_interval = *value;
    }
  }
  if (const Entry* entry = fields.Find("external_labels")) {
    ReadLabels(*entry, global.external_labels);
  }
  LoadAlertmanagerGlobal(fields);
}

bool Loader::CheckSecretUrl(const std::string& url, Position position, const std::string& what) {
  // The URL is a secret, so the message does not show it.
  std::string problem = UrlProblem(url);
  if (problem.empty()) {
    return true;
  }
  Report(position, what + " is not a valid URL: " + problem);
  return false;
}

void Loader::LoadRuleFiles(const Entry& entry) {
  for (const yaml::StringItem& item : yaml::ReadStringItems(entry, Sink())) {
    if (item.value.empty()) {
      Report(item.value_position, "rule_files entry is empty; set it to a path or glob");
      continue;
    }
    config_.rule_files.push_back(item.value);
    config_.rule_file_marks.push_back(MarkAt(item.value_position));
  }
}

void Loader::LoadStorage(const YAML::Node& node) {
  yaml::Fields fields = yaml::ReadMapping(node, kStorageSchema, Sink());
  if (const Entry* entry = fields.Find("path")) {
    std::optional<std::string> path = yaml::ReadString(*entry, Sink());
    if (path && path->empty()) {
      Report(entry->value_position(), "storage path is empty; set it to a directory");
    } else if (path) {
      config_.storage.path = *path;
    }
  }
  if (const Entry* entry = fields.Find("snapshot_interval")) {
    std::optional<Duration> value = yaml::ReadDuration(*entry, Sink());
    if (value && value->count() <= 0) {
      Report(entry->value_position(),
             "storage snapshot_interval must be positive, got " + FormatDuration(*value) +
                 "; set it to how often the sample window is snapshotted, for example 5m");
    } else if (value) {
      config_.storage.snapshot_interval = *value;
    }
  }
}

void Loader::LoadWeb(const YAML::Node& node) {
  yaml::Fields fields = yaml::ReadMapping(node, kWebSchema, Sink());
  if (const Entry* entry = fields.Find("listen_address")) {
    std::optional<std::string> address = yaml::ReadString(*entry, Sink());
    if (address) {
      std::string problem = HostPortProblem(*address, /*allow_empty_host=*/true);
      if (!problem.empty()) {
        Report(entry->value_position(), "invalid listen_address \"" + *address + "\": " + problem);
      } else {
        config_.web.listen_address = *address;
      }
    }
  }
  if (const Entry* entry = fields.Find("external_url")) {
    std::optional<std::string> url = yaml::ReadString(*entry, Sink());
    if (url) {
      std::string problem = UrlProblem(*url);
      if (!problem.empty()) {
        Report(entry->value_position(), "invalid external_url \"" + *url + "\": " + problem);
      } else {
        config_.web.external_url = *url;
      }
    }
  }
  if (const Entry* entry = fields.Find("config_file")) {
    std::optional<std::string> path = yaml::ReadString(*entry, Sink());
    if (path && path->empty()) {
      Report(entry->value_position(),
             "web config_file is empty; set it to the path of a web configuration file or remove "
             "it");
    } else if (path) {
      config_.web.config_file = JoinPath(current_base_dir_, *path);
    }
  }
}

Config Loader::Load(const std::string& text) {
  Result<YAML::Node> root = yaml::ParseDocument(text);
  if (!root.ok()) {
    Report({root.error().line(), root.error().column()}, root.error().message());
    return config_;
  }
  yaml::Fields fields = yaml::ReadMapping(*root, kTopSchema, Sink());
  if (const Entry* entry = fields.Find("global")) {
    LoadGlobal(entry->value);
  }
  if (const Entry* entry = fields.Find("rule_files")) {
    LoadRuleFiles(*entry);
  }
  if (const Entry* entry = fields.Find("scrape_configs")) {
    LoadScrapeConfigs(*entry);
  }
  if (const Entry* entry = fields.Find("storage")) {
    LoadStorage(entry->value);
  }
  if (const Entry* entry = fields.Find("web")) {
    LoadWeb(entry->value);
  }
  if (const Entry* entry = fields.Find("query")) {
    LoadQueryConfig(entry->value, config_.query, Sink());
  }
  if (const Entry* entry = fields.Find("rules")) {
    LoadRulesConfig(entry->value, config_.rules, Sink());
  }
  if (const Entry* entry = fields.Find("limits")) {
    LoadLimitsConfig(entry->value, config_.limits, Sink());
  }
  for (ScrapeConfig& scrape : config_.scrape_configs) {
    scrape.max_line_length = config_.limits.max_line_length;
  }
  if (const Entry* entry = fields.Find("notifications")) {
    LoadNotificationsConfig(entry->value, config_.notifications, Sink());
  }
  if (const Entry* entry = fields.Find("webhook_receivers")) {
    LoadWebhookReceivers(
        *entry, config_, [this](const Entry& file) { return ReadSecretFile(file); }, Sink());
  }
  LoadRemoteSections(fields, config_, Sink());
  if (const Entry* entry = fields.Find("alertmanager_config_file")) {
    LoadAlertmanagerFile(*entry, fields);
  } else {
    LoadNotificationPart(fields);
  }
  return config_;
}

void Loader::LoadNotificationPart(const yaml::Fields& fields) {
  config_.templates_base_dir = current_base_dir_;
  if (const Entry* entry = fields.Find("templates")) {
    LoadTemplates(*entry);
  }
  // Receivers and time intervals first: the route refers to them by name.
  if (const Entry* entry = fields.Find("receivers")) {
    LoadReceivers(*entry);
  }
  // In file order, so that a duplicate name is reported at its second definition.
  for (const Entry& entry : fields.entries()) {
    if (entry.key == "time_intervals" || entry.key == "mute_time_intervals") {
      LoadTimeIntervals(entry, /*mute=*/entry.key == "mute_time_intervals");
    }
  }
  if (const Entry* entry = fields.Find("inhibit_rules")) {
    LoadInhibitRules(*entry);
  }
  if (const Entry* entry = fields.Find("route")) {
    LoadRoute(*entry);
  }
}

void Loader::LoadAlertmanagerFile(const Entry& entry, const yaml::Fields& top) {
  std::optional<std::string> path = yaml::ReadString(entry, Sink());
  if (!path) {
    return;
  }
  if (path->empty()) {
    Report(entry.value_position(),
           "alertmanager_config_file is empty; set it to the path of an alertmanager.yml");
    return;
  }

  bool inline_keys = false;
  for (std::string_view key : kNotificationKeys) {
    if (const Entry* inline_entry = top.Find(key)) {
      Report(inline_entry->key_position(),
             std::string(key) + " is set here and alertmanager_config_file is set at line " +
                 std::to_string(entry.key_position().line) + "; remove " + std::string(key) +
                 " and keep it in \"" + *path + "\", or remove alertmanager_config_file");
      inline_keys = true;
    }
  }
  if (const Entry* global = top.Find("global"); global != nullptr && global->value.IsMap()) {
    const std::vector<std::string_view>& am_fields = AlertmanagerGlobalFields();
    for (const auto& item : global->value) {
      if (!item.first.IsScalar() ||
          std::find(am_fields.begin(), am_fields.end(), item.first.Scalar()) == am_fields.end()) {
        continue;
      }
      Report(yaml::PositionOf(item.first),
             "global " + item.first.Scalar() +
                 " is an Alertmanager field and alertmanager_config_file is set at line " +
                 std::to_string(entry.key_position().line) +
                 "; move it to the global section of \"" + *path + "\"");
      inline_keys = true;
    }
  }
  if (inline_keys) {
    return;
  }

  std::string resolved = JoinPath(config_.base_dir, *path);
  Result<std::string> text = yaml::ReadTextFile(resolved);
  if (!text.ok()) {
    Report(entry.value_position(),
           "cannot read alertmanager_config_file \"" + resolved + "\": " + text.error().message());
    return;
  }

  config_.alertmanager_config_file = resolved;
  current_file_ = resolved;
  current_base_dir_ = DirName(resolved);
  Result<YAML::Node> root = yaml::ParseDocument(*text);
  if (!root.ok()) {
    Report({root.error().line(), root.error().column()}, root.error().message());
  } else {
    yaml::Fields fields = yaml::ReadMapping(*root, kAlertmanagerFileSchema, Sink());
    if (const Entry* global = fields.Find("global")) {
      LoadAlertmanagerGlobal(yaml::ReadMapping(global->value, AlertmanagerGlobalSchema(), Sink()));
    }
    if (fields.Find("route") == nullptr && (root->IsMap() || root->IsNull())) {
      Report({1, 1}, "the Alertmanager configuration has no route; add a route with a receiver");
    }
    LoadNotificationPart(fields);
  }
  current_file_ = config_.file;
  current_base_dir_ = config_.base_dir;
}

std::string JoinPath(const std::string& base, const std::string& path) {
  if (path.starts_with('/') || base.empty() || base == ".") {
    return path;
  }
  if (base.ends_with('/')) {
    return base + path;
  }
  return base + "/" + path;
}

std::string Trim(std::string_view text) {
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) {
    return "";
  }
  size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(start, end - start + 1));
}

std::string UrlProblem(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else {
    return "it must start with http:// or https://";
  }
  std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
  if (host.empty()) {
    return "it has no host";
  }
  if (url.find_first_of(" \t\r\n") != std::string_view::npos) {
    return "it contains whitespace";
  }
  return "";
}

std::string HostPortProblem(std::string_view address, bool allow_empty_host) {
  std::string_view host;
  std::string_view port;
  if (address.find("://") != std::string_view::npos) {
    return "use host:port without a scheme, for example localhost:9100";
  }
  if (address.starts_with('[')) {
    size_t close = address.find(']');
    if (close == std::string_view::npos || close + 1 >= address.size() ||
        address[close + 1] != ':') {
      return "use host:port, for example [::1]:9100";
    }
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) {
      return "the port is missing; use host:port, for example localhost:9100";
    }
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return "put an IPv6 address in brackets, for example [::1]:9100";
    }
  }
  if (host.empty() && !allow_empty_host) {
    return "the host is missing; use host:port, for example localhost:9100";
  }
  if (host.find_first_of("/ \t?#@") != std::string_view::npos) {
    return "the host must be a host name or an IP address, without a scheme or path";
  }
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoi(std::string(port)) > 65535) {
    return "the port must be a number from 0 to 65535";
  }
  return "";
}

void SortErrors(std::vector<ConfigError>& errors, const std::string& main_file) {
  std::stable_sort(errors.begin(), errors.end(), [&](const ConfigError& a, const ConfigError& b) {
    return std::make_tuple(a.mark.file != main_file, a.mark.line, a.mark.column) <
           std::make_tuple(b.mark.file != main_file, b.mark.line, b.mark.column);
  });
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  if (slash == 0) {
    return "/";
  }
  return path.substr(0, slash);
}

}  // namespace internal

Result<Config> ParseConfig(const std::string& text,
                           const std::string& file,
                           std::vector<ConfigError>* errors) {
  internal::Loader loader(file, internal::DirName(file));
  Config config = loader.Load(text);
  std::vector<ConfigError>& found = loader.errors();
  internal::SortErrors(found, file);
  if (errors != nullptr) {
    errors->insert(errors->end(), found.begin(), found.end());
  }
  if (found.empty()) {
    return config;
  }
  std::string message = found.front().ToString();
  if (found.size() > 1) {
    size_t more = found.size() - 1;
    message += " (and " + std::to_string(more) + (more == 1 ? " more error)" : " more errors)");
  }
  return Error::Invalid(message, found.front().mark.line, found.front().mark.column);
}

Result<Config> LoadConfigFile(const std::string& path, std::vector<ConfigError>* errors) {
  Result<std::string> text = yaml::ReadTextFile(path);
  if (!text.ok()) {
    ConfigError error{Mark{path, 0, 0}, "cannot read config file: " + text.error().message()};
    if (errors != nullptr) {
      errors->push_back(error);
    }
    return Error::Io(error.ToString());
  }
  return ParseConfig(*text, path, errors);
}

std::vector<std::string> ExpandRuleFiles(const Config& config) {
  std::vector<std::string> files;
  for (const std::string& pattern : config.rule_files) {
    std::string full = internal::JoinPath(config.base_dir, pattern);
    glob_t matches{};
    if (::glob(full.c_str(), 0, nullptr, &matches) == 0) {
      for (size_t i = 0; i < matches.gl_pathc; ++i) {
        files.emplace_back(matches.gl_pathv[i]);
      }
    }
    ::globfree(&matches);
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

}  // namespace alertd::config
