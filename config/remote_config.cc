// The remote metrics sections of alertd.yml: `datasource`, `remote_write`,
// `alerting.alertmanagers` and global `rule_query_offset`. remote_write and alerting are
// shaped as in Prometheus 2.42's prometheus.yml, with the HTTP client fields (basic_auth,
// authorization, bearer_token, tls_config) inline in each entry.
#include <algorithm>
#include <cctype>

#include "common/duration.h"
#include "config/config_internal.h"

namespace alertd::config::internal {
namespace {

using yaml::Entry;
using yaml::Position;

// HTTP client fields of prometheus/common's HTTPClientConfig, inline in an entry.
const std::vector<std::string_view> kHttpFields = {
    "basic_auth", "authorization", "bearer_token", "bearer_token_file", "tls_config"};
const std::vector<std::string_view> kUnsupportedHttpFields = {"oauth2",
                                                              "proxy_url",
                                                              "no_proxy",
                                                              "proxy_from_environment",
                                                              "proxy_connect_header",
                                                              "follow_redirects",
                                                              "enable_http2",
                                                              "sigv4",
                                                              "azuread"};

yaml::Schema WithHttpFields(std::string_view what,
                            std::vector<std::string_view> fields,
                            std::vector<std::string_view> unsupported,
                            std::vector<std::string_view> unsupported_suffixes = {}) {
  fields.insert(fields.end(), kHttpFields.begin(), kHttpFields.end());
  unsupported.insert(
      unsupported.end(), kUnsupportedHttpFields.begin(), kUnsupportedHttpFields.end());
  return yaml::Schema{what, std::move(fields), std::move(unsupported), unsupported_suffixes};
}

const yaml::Schema kDatasourceSchema =
    WithHttpFields("datasource", {"type", "url", "timeout", "query_params"}, {});

const yaml::Schema kRemoteWriteSchema = WithHttpFields(
    "remote_write",
    {"url", "name", "remote_timeout", "headers", "queue_config"},
    {"write_relabel_configs", "metadata_config", "send_exemplars", "send_native_histograms"});

const yaml::Schema kQueueSchema{
    "queue_config",
    {"capacity", "max_samples_per_send", "min_backoff", "max_backoff"},
    {"max_shards", "min_shards", "batch_send_deadline", "retry_on_http_429", "sample_age_limit"},
    {}};

const yaml::Schema kAlertingSchema{"alerting", {"alertmanagers"}, {"alert_relabel_configs"}, {}};

const yaml::Schema kAlertmanagerSchema =
    WithHttpFields("alertmanager config",
                   {"static_configs", "scheme", "path_prefix", "timeout", "api_version"},
                   {"relabel_configs", "alert_relabel_configs"},
                   {"_sd_configs"});

const yaml::Schema kStaticSchema{"static config", {"targets"}, {"labels"}, {}};

const yaml::Schema kBasicAuthSchema{
    "basic_auth", {"username", "password", "password_file"}, {"username_file"}, {}};

const yaml::Schema kAuthorizationSchema{
    "authorization", {"type", "credentials", "credentials_file"}, {}, {}};

const yaml::Schema kTlsSchema{
    "tls_config",
    {"ca_file", "cert_file", "key_file", "insecure_skip_verify", "min_version"},
    {"server_name", "max_version"},
    {}};

// Headers that the remote-write protocol sets itself, as Prometheus's reservedHeaders.
const std::vector<std::string> kReservedHeaders = {"authorization",
                                                   "host",
                                                   "content-encoding",
                                                   "content-length",
                                                   "content-type",
                                                   "user-agent",
                                                   "connection",
                                                   "keep-alive",
                                                   "proxy-authenticate",
                                                   "proxy-authorization",
                                                   "www-authenticate",
                                                   "retry-after",
                                                   "x-prometheus-remote-write-version"};

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return out;
}

// Reads the sections of one alertd.yml into `config`, reporting through `errors`.
class RemoteLoader {
 public:
  RemoteLoader(Config& config, const yaml::ErrorSink& errors) : config_(config), errors_(errors) {}

  void LoadDatasource(const Entry& entry);
  void LoadRemoteWrite(const Entry& entry);
  void LoadAlerting(const Entry& entry);
  void LoadRuleQueryOffset(const Entry& entry);

 private:
  Mark MarkOf(Position position) const {
    return Mark{config_.file, position.line, position.column};
  }

  // Reads an inline value under `key` or a file under `file_key`; reports both set, and a
  // missing, unreadable or empty file.
  void ReadSecret(const yaml::Fields& fields,
                  std::string_view key,
                  std::string_view file_key,
                  std::string& value);
  void ReadHttpFields(const yaml::Fields& fields, std::string_view what, HttpClientConfig& http);
  void ReadTls(const Entry& entry, TlsConfig& tls);
  std::optional<Duration> ReadPositiveDuration(const Entry& entry, std::string_view what);
  std::optional<int> ReadPositiveInt(const Entry& entry, std::string_view what);
  // Reads a required http(s) URL; the URL is not shown because it may hold a password.
  std::string ReadUrl(const yaml::Fields& fields,
                      Position position,
                      std::string_view what,
                      std::string_view example);
  std::optional<RemoteWriteConfig> LoadRemoteWriteEntry(const YAML::Node& node);
  std::optional<AlertmanagerTargetConfig> LoadAlertmanager(const YAML::Node& node);

  Config& config_;
  const yaml::ErrorSink& errors_;
};

void RemoteLoader::ReadSecret(const yaml::Fields& fields,
                              std::string_view key,
                              std::string_view file_key,
                              std::string& value) {
  const Entry* inline_entry = fields.Find(key);
  const Entry* file_entry = fields.Find(file_key);
  if (inline_entry != nullptr && file_entry != nullptr) {
    errors_(file_entry->key_position(),
            "at most one of " + std::string(key) + " and " + std::string(file_key) +
                " may be set; remove one");
    return;
  }
  if (inline_entry != nullptr) {
    value = yaml::ReadString(*inline_entry, errors_).value_or("");
    return;
  }
  if (file_entry == nullptr) {
    return;
  }
  std::optional<std::string> path = yaml::ReadString(*file_entry, errors_);
  if (!path) {
    return;
  }
  if (path->empty()) {
    errors_(file_entry->value_position(),
            file_entry->key + " is empty; set it to the path of a file");
    return;
  }
  std::string resolved = JoinPath(config_.base_dir, *path);
  Result<std::string> text = yaml::ReadTextFile(resolved);
  if (!text.ok()) {
    errors_(file_entry->value_position(),
            "cannot read " + file_entry->key + " \"" + resolved + "\": " + text.error().message());
    return;
  }
  std::string secret = Trim(*text);
  if (secret.empty()) {
    errors_(file_entry->value_position(), file_entry->key + " \"" + resolved + "\" is empty");
    return;
  }
  value = secret;
}

void RemoteLoader::ReadHttpFields(const yaml::Fields& fields,
                                  std::string_view what,
                                  HttpClientConfig& http) {
  const Entry* basic_auth = fields.Find("basic_auth");
  const Entry* authorization = fields.Find("authorization");
  const Entry* bearer = fields.Find("bearer_token");
  const Entry* bearer_file = fields.Find("bearer_token_file");
  const Entry* any_bearer = bearer != nullptr ? bearer : bearer_file;
  int methods = (basic_auth != nullptr) + (authorization != nullptr) + (any_bearer != nullptr);
  if (methods > 1) {
    const Entry* later =
        authorization != nullptr && any_bearer == nullptr ? authorization : any_bearer;
    errors_(later->key_position(),
            "at most one of basic_auth, authorization and bearer_token (or bearer_token_file) "
            "may be set in " +
                std::string(what) + "; remove the others");
    return;
  }
  if (any_bearer != nullptr) {
    ReadSecret(fields, "bearer_token", "bearer_token_file", http.authorization_credentials);
  }
  if (basic_auth != nullptr) {
    yaml::Fields auth = yaml::ReadMapping(basic_auth->value, kBasicAuthSchema, errors_);
    if (const Entry* username = auth.Find("username")) {
      http.basic_auth_username = yaml::ReadString(*username, errors_).value_or("");
    }
    if (http.basic_auth_username.empty()) {
      errors_(basic_auth->key_position(),
              "basic_auth username is missing in " + std::string(what) + "; set username");
    }
    ReadSecret(auth, "password", "password_file", http.basic_auth_password);
  }
  if (authorization != nullptr) {
    yaml::Fields auth = yaml::ReadMapping(authorization->value, kAuthorizationSchema, errors_);
    if (const Entry* type = auth.Find("type")) {
      std::string value = Trim(yaml::ReadString(*type, errors_).value_or(""));
      if (Lower(value) == "basic") {
        errors_(type->value_position(),
                "authorization type \"" + value + "\" is not allowed; use basic_auth instead");
      } else if (!value.empty()) {
        http.authorization_type = value;
      }
    }
    ReadSecret(auth, "credentials", "credentials_file", http.authorization_credentials);
  }
  if (const Entry* tls = fields.Find("tls_config")) {
    ReadTls(*tls, http.tls_config);
  }
}

void RemoteLoader::ReadTls(const Entry& entry, TlsConfig& tls) {
  yaml::Fields fields = yaml::ReadMapping(entry.value, kTlsSchema, errors_);
  for (auto [key, target] : {std::pair{"ca_file", &tls.ca_file},
                             std::pair{"cert_file", &tls.cert_file},
                             std::pair{"key_file", &tls.key_file}}) {
    if (const Entry* field = fields.Find(key)) {
      std::string value = yaml::ReadString(*field, errors_).value_or("");
      *target = value.empty() ? value : JoinPath(config_.base_dir, value);
    }
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    errors_(entry.key_position(),
            "tls_config needs both cert_file and key_file for a client certificate; set the "
            "missing one");
  }
  if (const Entry* skip = fields.Find("insecure_skip_verify")) {
    tls.insecure_skip_verify = yaml::ReadBool(*skip, errors_).value_or(false);
  }
  if (const Entry* version = fields.Find("min_version")) {
    std::string value = yaml::ReadString(*version, errors_).value_or("");
    if (value != "TLS10" && value != "TLS11" && value != "TLS12" && value != "TLS13") {
      errors_(
          version->value_position(),
          "unknown TLS version \"" + value + "\" in min_version; use TLS10, TLS11, TLS12 or TLS13");
    } else {
      tls.min_version = value;
    }
  }
}

std::optional<Duration> RemoteLoader::ReadPositiveDuration(const Entry& entry,
                                                           std::string_view what) {
  std::optional<Duration> value = yaml::ReadDuration(entry, errors_);
  if (value && value->count() <= 0) {
    errors_(entry.value_position(),
            std::string(what) + " must be positive, got " + FormatDuration(*value));
    return std::nullopt;
  }
  return value;
}

std::optional<int> RemoteLoader::ReadPositiveInt(const Entry& entry, std::string_view what) {
  std::optional<int64_t> value = yaml::ReadInt(entry, errors_);
  if (!value) {
    return std::nullopt;
  }
  if (*value <= 0 || *value > 100'000'000) {
    errors_(entry.value_position(),
            std::string(what) + " must be from 1 to 100000000, got " + std::to_string(*value));
    return std::nullopt;
  }
  return static_cast<int>(*value);
}

std::string RemoteLoader::ReadUrl(const yaml::Fields& fields,
                                  Position position,
                                  std::string_view what,
                                  std::string_view example) {
  const Entry* entry = fields.Find("url");
  std::optional<std::string> url;
  if (entry != nullptr) {
    url = yaml::ReadString(*entry, errors_);
  }
  if (!url || url->empty()) {
    errors_(entry != nullptr ? entry->value_position() : position,
            std::string(what) + " url is missing; set it to " + std::string(example));
    return "";
  }
  std::string problem = UrlProblem(*url);
  if (!problem.empty()) {
    errors_(entry->value_position(), "invalid " + std::string(what) + " url: " + problem);
    return "";
  }
  return *url;
}

void RemoteLoader::LoadDatasource(const Entry& entry) {
  DatasourceConfig datasource;
  datasource.mark = MarkOf(entry.key_position());
  yaml::Fields fields = yaml::ReadMapping(entry.value, kDatasourceSchema, errors_);
  if (const Entry* type = fields.Find("type")) {
    std::string value = yaml::ReadString(*type, errors_).value_or("prometheus");
    if (value != "prometheus") {
      errors_(type->value_position(),
              "datasource type \"" + value +
                  "\" is not supported; use prometheus, for any API compatible with "
                  "Prometheus's /api/v1/query");
    }
  }
  datasource.url = ReadUrl(fields,
                           entry.key_position(),
                           "datasource",
                           "the base URL of a Prometheus-compatible API, for example "
                           "http://localhost:9090");
  if (const Entry* timeout = fields.Find("timeout")) {
    datasource.timeout =
        ReadPositiveDuration(*timeout, "datasource timeout").value_or(datasource.timeout);
  }
  if (const Entry* params = fields.Find("query_params")) {
    for (const yaml::StringItem& item : yaml::ReadStringMap(*params, errors_)) {
      if (item.key == "query" || item.key == "time") {
        errors_(item.key_position,
                "query parameter \"" + item.key +
                    "\" in datasource query_params is set by alertd for each rule; remove it");
        continue;
      }
      datasource.query_params[item.key] = item.value;
    }
  }
  ReadHttpFields(fields, "datasource", datasource.http_config);
  config_.datasource = std::move(datasource);
}

std::optional<RemoteWriteConfig> RemoteLoader::LoadRemoteWriteEntry(const YAML::Node& node) {
  RemoteWriteConfig remote;
  Position position = yaml::PositionOf(node);
  remote.mark = MarkOf(position);
  yaml::Fields fields = yaml::ReadMapping(node, kRemoteWriteSchema, errors_);
  if (!node.IsMap()) {
    return std::nullopt;
  }
  remote.url = ReadUrl(fields,
                       position,
                       "remote_write",
                       "the receiver's write endpoint, for example "
                       "http://localhost:9090/api/v1/write");
  if (const Entry* name = fields.Find("name")) {
    remote.name = yaml::ReadString(*name, errors_).value_or("");
  }
  if (const Entry* timeout = fields.Find("remote_timeout")) {
    remote.remote_timeout =
        ReadPositiveDuration(*timeout, "remote_timeout").value_or(remote.remote_timeout);
  }
  if (const Entry* headers = fields.Find("headers")) {
    for (const yaml::StringItem& item : yaml::ReadStringMap(*headers, errors_)) {
      std::string lower = Lower(item.key);
      if (std::find(kReservedHeaders.begin(), kReservedHeaders.end(), lower) !=
          kReservedHeaders.end()) {
        errors_(item.key_position,
                "header \"" + item.key +
                    "\" in remote_write headers is reserved for the protocol or authentication; "
                    "remove it");
        continue;
      }
      remote.headers[item.key] = item.value;
    }
  }
  if (const Entry* queue = fields.Find("queue_config")) {
    yaml::Fields queue_fields = yaml::ReadMapping(queue->value, kQueueSchema, errors_);
    if (const Entry* capacity = queue_fields.Find("capacity")) {
      remote.queue_capacity =
          ReadPositiveInt(*capacity, "queue_config capacity").value_or(remote.queue_capacity);
    }
    if (const Entry* max = queue_fields.Find("max_samples_per_send")) {
      remote.max_samples_per_send = ReadPositiveInt(*max, "queue_config max_samples_per_send")
                                        .value_or(remote.max_samples_per_send);
    }
    if (const Entry* min_backoff = queue_fields.Find("min_backoff")) {
      remote.min_backoff = ReadPositiveDuration(*min_backoff, "queue_config min_backoff")
                               .value_or(remote.min_backoff);
    }
    if (const Entry* max_backoff = queue_fields.Find("max_backoff")) {
      remote.max_backoff = ReadPositiveDuration(*max_backoff, "queue_config max_backoff")
                               .value_or(remote.max_backoff);
    }
    if (remote.min_backoff > remote.max_backoff) {
      errors_(queue->key_position(),
              "queue_config min_backoff " + FormatDuration(remote.min_backoff) +
                  " is greater than max_backoff " + FormatDuration(remote.max_backoff) +
                  "; raise max_backoff or lower min_backoff");
    }
  }
  ReadHttpFields(fields, "remote_write", remote.http_config);
  return remote;
}

void RemoteLoader::LoadRemoteWrite(const Entry& entry) {
  if (entry.value.IsNull()) {
    return;
  }
  if (!entry.value.IsSequence()) {
    errors_(entry.value_position(),
            "remote_write must be a list of endpoints, got " + yaml::KindName(entry.value));
    return;
  }
  for (const YAML::Node& node : entry.value) {
    std::optional<RemoteWriteConfig> remote = LoadRemoteWriteEntry(node);
    if (!remote) {
      continue;
    }
    auto previous = std::find_if(
        config_.remote_write.begin(), config_.remote_write.end(), [&](const auto& other) {
          return !remote->name.empty() && other.name == remote->name;
        });
    if (previous != config_.remote_write.end()) {
      errors_({remote->mark.line, remote->mark.column},
              "remote_write name \"" + remote->name + "\" is already used at line " +
                  std::to_string(previous->mark.line) + "; names must be unique");
      continue;
    }
    config_.remote_write.push_back(std::move(*remote));
  }
}

std::optional<AlertmanagerTargetConfig> RemoteLoader::LoadAlertmanager(const YAML::Node& node) {
  AlertmanagerTargetConfig am;
  Position position = yaml::PositionOf(node);
  am.mark = MarkOf(position);
  yaml::Fields fields = yaml::ReadMapping(node, kAlertmanagerSchema, errors_);
  if (!node.IsMap()) {
    return std::nullopt;
  }
  if (const Entry* scheme = fields.Find("scheme")) {
    std::string value = yaml::ReadString(*scheme, errors_).value_or("http");
    if (value != "http" && value != "https") {
      errors_(scheme->value_position(),
              "invalid scheme \"" + value + "\" in alertmanager config; use http or https");
    } else {
      am.scheme = value;
    }
  }
  if (const Entry* prefix = fields.Find("path_prefix")) {
    am.path_prefix = yaml::ReadString(*prefix, errors_).value_or("/");
  }
  if (const Entry* timeout = fields.Find("timeout")) {
    am.timeout = ReadPositiveDuration(*timeout, "alertmanager timeout").value_or(am.timeout);
  }
  if (const Entry* version = fields.Find("api_version")) {
    std::string value = yaml::ReadString(*version, errors_).value_or("v2");
    if (value == "v1") {
      errors_(version->value_position(),
              "api_version v1 is not supported: alertd sends alerts only through Alertmanager's "
              "API v2 (Alertmanager 0.16 and later); set api_version: v2");
    } else if (value != "v2") {
      errors_(version->value_position(),
              "unknown api_version \"" + value + "\" in alertmanager config; use v2");
    }
  }
  if (const Entry* statics = fields.Find("static_configs")) {
    if (!statics->value.IsNull() && !statics->value.IsSequence()) {
      errors_(statics->value_position(),
              "static_configs must be a list, got " + yaml::KindName(statics->value));
    } else if (statics->value.IsSequence()) {
      for (const YAML::Node& item : statics->value) {
        yaml::Fields static_fields = yaml::ReadMapping(item, kStaticSchema, errors_);
        const Entry* targets = static_fields.Find("targets");
        if (targets == nullptr) {
          continue;
        }
        for (const yaml::StringItem& target : yaml::ReadStringItems(*targets, errors_)) {
          std::string problem = HostPortProblem(target.value, /*allow_empty_host=*/false);
          if (!problem.empty()) {
            errors_(target.value_position,
                    "invalid alertmanager target \"" + target.value + "\": " + problem);
            continue;
          }
          am.targets.push_back(target.value);
        }
      }
    }
  }
  if (am.targets.empty() && fields.Find("static_configs") == nullptr) {
    errors_(position,
            "alertmanager config has no targets; add static_configs with the host:port of each "
            "Alertmanager");
  }
  ReadHttpFields(fields, "alertmanager config", am.http_config);
  return am;
}

void RemoteLoader::LoadAlerting(const Entry& entry) {
  yaml::Fields fields = yaml::ReadMapping(entry.value, kAlertingSchema, errors_);
  const Entry* list = fields.Find("alertmanagers");
  if (list == nullptr || list->value.IsNull()) {
    return;
  }
  if (!list->value.IsSequence()) {
    errors_(
        list->value_position(),
        "alertmanagers must be a list of alertmanager configs, got " + yaml::KindName(list->value));
    return;
  }
  for (const YAML::Node& node : list->value) {
    std::optional<AlertmanagerTargetConfig> am = LoadAlertmanager(node);
    if (am) {
      config_.alertmanagers.push_back(std::move(*am));
    }
  }
}

void RemoteLoader::LoadRuleQueryOffset(const Entry& entry) {
  std::optional<Duration> value = yaml::ReadDuration(entry, errors_);
  if (value) {
    config_.rule_query_offset = *value;
  }
}

}  // namespace

void LoadRemoteSections(const yaml::Fields& top, Config& config, const yaml::ErrorSink& errors) {
  RemoteLoader loader(config, errors);
  if (const Entry* global = top.Find("global"); global != nullptr && global->value.IsMap()) {
    // The global schema accepts the key; its value is read here, beside the other fields of
    // remote evaluation.
    for (const auto& item : global->value) {
      if (item.first.IsScalar() && item.first.Scalar() == "rule_query_offset") {
        loader.LoadRuleQueryOffset(Entry{"rule_query_offset", item.first, item.second});
      }
    }
  }
  if (const Entry* entry = top.Find("datasource")) {
    loader.LoadDatasource(*entry);
  }
  if (const Entry* entry = top.Find("remote_write")) {
    loader.LoadRemoteWrite(*entry);
  }
  if (const Entry* entry = top.Find("alerting")) {
    loader.LoadAlerting(*entry);
  }
}

}  // namespace alertd::config::internal
