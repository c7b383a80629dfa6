// The Alertmanager fields of `global`, read as Alertmanager 0.25's config.GlobalConfig: the
// defaults of the receivers' SMTP, Slack, HTTP and API settings.
#include "config/config_internal.h"

namespace alertd::config {

const std::vector<std::string_view>& AlertmanagerGlobalFields() {
  static const std::vector<std::string_view> fields{"resolve_timeout",
                                                    "http_config",
                                                    "smtp_from",
                                                    "smtp_hello",
                                                    "smtp_smarthost",
                                                    "smtp_auth_username",
                                                    "smtp_auth_password",
                                                    "smtp_auth_password_file",
                                                    "smtp_auth_identity",
                                                    "smtp_auth_secret",
                                                    "smtp_require_tls",
                                                    "slack_api_url",
                                                    "slack_api_url_file",
                                                    "pagerduty_url",
                                                    "opsgenie_api_url",
                                                    "opsgenie_api_key",
                                                    "opsgenie_api_key_file",
                                                    "wechat_api_url",
                                                    "wechat_api_secret",
                                                    "wechat_api_corp_id",
                                                    "victorops_api_url",
                                                    "victorops_api_key",
                                                    "victorops_api_key_file",
                                                    "telegram_api_url",
                                                    "webex_api_url"};
  return fields;
}

namespace internal {
namespace {

using yaml::Entry;
using yaml::Position;

}  // namespace

std::string SmtpHostPortProblem(std::string_view address) {
  // Go's net.SplitHostPort, which Alertmanager's HostPort uses: the host may be empty, the
  // port may be any text but not empty.
  std::string_view port;
  if (address.starts_with('[')) {
    size_t close = address.find(']');
    if (close == std::string_view::npos) {
      return "the ']' of the IPv6 address is missing; use host:port, for example [::1]:25";
    }
    if (close + 1 >= address.size() || address[close + 1] != ':') {
      return "the port is missing; use host:port, for example [::1]:25";
    }
    port = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) {
      return "the port is missing; use host:port, for example localhost:25";
    }
    if (address.substr(0, colon).find(':') != std::string_view::npos) {
      return "it has too many colons; put an IPv6 address in brackets, for example [::1]:25";
    }
    port = address.substr(colon + 1);
  }
  if (port.empty()) {
    return "the port is empty; use host:port, for example localhost:25";
  }
  if (port.find_first_of("[]") != std::string_view::npos) {
    return "use host:port, for example localhost:25";
  }
  return "";
}

bool Loader::ReadSecretPair(const yaml::Fields& fields,
                            std::string_view key,
                            std::string_view file_key,
                            std::string& value,
                            std::string* file,
                            bool is_url) {
  const Entry* inline_entry = fields.Find(key);
  const Entry* file_entry = fields.Find(file_key);
  if (inline_entry != nullptr && file_entry != nullptr) {
    Report(file_entry->key_position(),
           "at most one of " + std::string(key) + " and " + std::string(file_key) +
               " may be set; remove one");
    return false;
  }
  if (inline_entry != nullptr) {
    std::optional<std::string> text = yaml::ReadString(*inline_entry, Sink());
    if (!text) {
      return inline_entry->value.IsNull();
    }
    if (is_url && !CheckSecretUrl(*text, inline_entry->value_position(), std::string(key))) {
      return false;
    }
    value = *text;
    return true;
  }
  if (file_entry != nullptr) {
    std::optional<std::string> path = yaml::ReadString(*file_entry, Sink());
    if (!path) {
      return file_entry->value.IsNull();
    }
    if (file != nullptr) {
      *file = *path;
    }
    std::optional<std::string> text = ReadSecretFile(*file_entry);
    if (!text) {
      // In check mode an unreadable file is only a warning.
      return secret_files_are_warnings_ && !path->empty();
    }
    if (is_url && !CheckSecretUrl(
                      *text, file_entry->value_position(), "the URL in " + std::string(file_key))) {
      return false;
    }
    value = *text;
  }
  return true;
}

void Loader::LoadGlobalSlackUrl(const yaml::Fields& fields) {
  GlobalConfig& global = config_.global;
  ReadSecretPair(fields,
                 "slack_api_url",
                 "slack_api_url_file",
                 global.slack_api_url,
                 &global.slack_api_url_file,
                 /*is_url=*/true);
}

void Loader::LoadAlertmanagerGlobal(const yaml::Fields& fields) {
  GlobalConfig& global = config_.global;
  if (const Entry* entry = fields.Find("resolve_timeout")) {
    std::optional<Duration> value = yaml::ReadDuration(*entry, Sink());
    if (value && value->count() > 0) {
      global.resolve_timeout = *value;
    }
  }
  if (const Entry* entry = fields.Find("http_config")) {
    LoadHttpConfig(*entry, global.http_config);
  }
  for (auto [key, target] : {std::pair{"smtp_from", &global.smtp_from},
                             std::pair{"smtp_auth_username", &global.smtp_auth_username},
                             std::pair{"smtp_auth_identity", &global.smtp_auth_identity},
                             std::pair{"smtp_auth_secret", &global.smtp_auth_secret},
                             std::pair{"wechat_api_secret", &global.wechat_api_secret},
                             std::pair{"wechat_api_corp_id", &global.wechat_api_corp_id}}) {
    if (const Entry* entry = fields.Find(key)) {
      *target = yaml::ReadString(*entry, Sink()).value_or("");
    }
  }
  if (const Entry* entry = fields.Find("smtp_hello")) {
    // An empty HELO name is sent as "localhost" by Go's net/smtp, which Alertmanager uses.
    std::string hello = yaml::ReadString(*entry, Sink()).value_or("");
    global.smtp_hello = hello.empty() ? "localhost" : hello;
  }
  if (const Entry* entry = fields.Find("smtp_smarthost")) {
    std::string address = yaml::ReadString(*entry, Sink()).value_or("");
    std::string problem = address.empty() ? "" : SmtpHostPortProblem(address);
    if (!problem.empty()) {
      Report(entry->value_position(), "invalid smtp_smarthost \"" + address + "\": " + problem);
    } else {
      global.smtp_smarthost = address;
    }
  }
  if (const Entry* entry = fields.Find("smtp_require_tls")) {
    global.smtp_require_tls = yaml::ReadBool(*entry, Sink()).value_or(global.smtp_require_tls);
  }
  ReadSecretPair(fields,
                 "smtp_auth_password",
                 "smtp_auth_password_file",
                 global.smtp_auth_password,
                 &global.smtp_auth_password_file,
                 /*is_url=*/false);
  LoadGlobalSlackUrl(fields);
  ReadSecretPair(fields,
                 "opsgenie_api_key",
                 "opsgenie_api_key_file",
                 global.opsgenie_api_key,
                 &global.opsgenie_api_key_file,
                 /*is_url=*/false);
  ReadSecretPair(fields,
                 "victorops_api_key",
                 "victorops_api_key_file",
                 global.victorops_api_key,
                 &global.victorops_api_key_file,
                 /*is_url=*/false);
  for (auto [key, target] : {std::pair{"pagerduty_url", &global.pagerduty_url},
                             std::pair{"opsgenie_api_url", &global.opsgenie_api_url},
                             std::pair{"wechat_api_url", &global.wechat_api_url},
                             std::pair{"victorops_api_url", &global.victorops_api_url},
                             std::pair{"telegram_api_url", &global.telegram_api_url},
                             std::pair{"webex_api_url", &global.webex_api_url}}) {
    const Entry* entry = fields.Find(key);
    if (entry == nullptr) {
      continue;
    }
    std::optional<std::string> url = yaml::ReadString(*entry, Sink());
    if (!url) {
      continue;
    }
    std::string problem = UrlProblem(*url);
    if (!problem.empty()) {
      Report(entry->value_position(),
             "invalid " + std::string(key) + " \"" + *url + "\": " + problem);
      continue;
    }
    *target = *url;
  }
}

}  // namespace internal
}  // namespace alertd::config
