// email_configs and sentry_configs, and the integrations of Alertmanager 0.25 that alertd
// validates but cannot send yet (pagerduty_configs, opsgenie_configs, ...): their required and
// mutually exclusive fields and their defaults from `global`, as Alertmanager checks them.
#include <algorithm>
#include <cctype>

#include "config/config_internal.h"

namespace alertd::config::internal {
namespace {

using yaml::Entry;
using yaml::Position;

const yaml::Schema kEmailSchema{"email config",
                                {"send_resolved",
                                 "to",
                                 "from",
                                 "hello",
                                 "smarthost",
                                 "auth_username",
                                 "auth_password",
                                 "auth_password_file",
                                 "auth_secret",
                                 "auth_identity",
                                 "headers",
                                 "html",
                                 "text",
                                 "require_tls",
                                 "tls_config"},
                                {},
                                {}};

const yaml::Schema kSentrySchema{"sentry config",
                                 {"send_resolved",
                                  "dsn",
                                  "dsn_file",
                                  "environment",
                                  "release",
                                  "auth_token",
                                  "auth_token_file",
                                  "organization",
                                  "project",
                                  "api_url",
                                  "http_config"},
                                 {},
                                 {}};

struct IntegrationType {
  std::string_view key;
  yaml::Schema schema;
  void (Loader::*load)(const yaml::Fields&, Position);
};

const std::vector<IntegrationType>& IntegrationTypes() {
  static const std::vector<IntegrationType> types{
      {"pagerduty_configs",
       {"pagerduty config",
        {"send_resolved",
         "http_config",
         "service_key",
         "service_key_file",
         "routing_key",
         "routing_key_file",
         "url",
         "client",
         "client_url",
         "description",
         "details",
         "images",
         "links",
         "source",
         "severity",
         "class",
         "component",
         "group"},
        {},
        {}},
       &Loader::LoadPagerduty},
      {"pushover_configs",
       {"pushover config",
        {"send_resolved",
         "http_config",
         "user_key",
         "token",
         "title",
         "message",
         "url",
         "url_title",
         "sound",
         "priority",
         "retry",
         "expire",
         "html"},
        {},
        {}},
       &Loader::LoadPushover},
      {"opsgenie_configs",
       {"opsgenie config",
        {"send_resolved",
         "http_config",
         "api_key",
         "api_key_file",
         "api_url",
         "message",
         "description",
         "source",
         "details",
         "entity",
         "responders",
         "actions",
         "tags",
         "note",
         "priority",
         "update_alerts"},
        {},
        {}},
       &Loader::LoadOpsgenie},
      {"victorops_configs",
       {"victorops config",
        {"send_resolved",
         "http_config",
         "api_key",
         "api_key_file",
         "api_url",
         "routing_key",
         "message_type",
         "state_message",
         "entity_display_name",
         "monitoring_tool",
         "custom_fields"},
        {},
        {}},
       &Loader::LoadVictorops},
      {"wechat_configs",
       {"wechat config",
        {"send_resolved",
         "http_config",
         "api_secret",
         "corp_id",
         "message",
         "api_url",
         "to_user",
         "to_party",
         "to_tag",
         "agent_id",
         "message_type"},
        {},
        {}},
       &Loader::LoadWechat},
      {"telegram_configs",
       {"telegram config",
        {"send_resolved",
         "http_config",
         "api_url",
         "bot_token",
         "chat_id",
         "message",
         "disable_notifications",
         "parse_mode"},
        {},
        {}},
       &Loader::LoadTelegram},
      {"sns_configs",
       {"sns config",
        {"send_resolved",
         "http_config",
         "api_url",
         "sigv4",
         "topic_arn",
         "phone_number",
         "target_arn",
         "subject",
         "message",
         "attributes"},
        {},
        {}},
       &Loader::LoadSns},
      {"webex_configs",
       {"webex config", {"send_resolved", "http_config", "api_url", "message", "room_id"}, {}, {}},
       &Loader::LoadWebex},
      {"discord_configs",
       {"discord config",
        {"send_resolved", "http_config", "webhook_url", "title", "message"},
        {},
        {}},
       &Loader::LoadDiscord},
  };
  return types;
}

const yaml::Schema kPagerdutyImageSchema{"pagerduty image", {"src", "alt", "href"}, {}, {}};
const yaml::Schema kPagerdutyLinkSchema{"pagerduty link", {"href", "text"}, {}, {}};
const yaml::Schema kResponderSchema{
    "opsgenie responder", {"id", "name", "username", "type"}, {}, {}};
const yaml::Schema kSigv4Schema{
    "sigv4", {"region", "access_key", "secret_key", "profile", "role_arn"}, {}, {}};

std::string Quote(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

// Go's textproto.CanonicalMIMEHeaderKey: "content-type" becomes "Content-Type". A key with a
// space or another character not allowed in a header name is returned unchanged.
std::string CanonicalHeaderKey(std::string_view key) {
  for (char c : key) {
    if (c == ' ' || c == ':' || static_cast<unsigned char>(c) < 0x21 || c == 0x7f) {
      return std::string(key);
    }
  }
  std::string out(key);
  bool upper = true;
  for (char& c : out) {
    c = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(c))
                                : std::tolower(static_cast<unsigned char>(c)));
    upper = c == '-';
  }
  return out;
}

std::string StringField(const yaml::Fields& fields,
                        std::string_view key,
                        const yaml::ErrorSink& sink) {
  const Entry* entry = fields.Find(key);
  return entry == nullptr ? "" : yaml::ReadString(*entry, sink).value_or("");
}

// Returns why `dsn` is not scheme://PUBLIC_KEY@HOST[:PORT]/[PATH/]PROJECT_ID, or "". The
// message never shows the key.
std::string DsnProblem(std::string_view dsn) {
  std::string_view rest;
  if (dsn.starts_with("https://")) {
    rest = dsn.substr(8);
  } else if (dsn.starts_with("http://")) {
    rest = dsn.substr(7);
  } else {
    return "it must start with https:// or http://";
  }
  if (dsn.find_first_of(" \t\r\n") != std::string_view::npos) {
    return "it contains whitespace";
  }
  size_t at = rest.find('@');
  size_t slash = rest.find('/');
  if (at == std::string_view::npos || (slash != std::string_view::npos && slash < at)) {
    return "it has no public key; the form is https://PUBLIC_KEY@HOST/PROJECT_ID";
  }
  if (at == 0 || rest.substr(0, at).starts_with(':')) {
    return "the public key before @ is empty";
  }
  rest = rest.substr(at + 1);
  slash = rest.find('/');
  if (slash == std::string_view::npos) {
    return "it has no project ID; the form is https://PUBLIC_KEY@HOST/PROJECT_ID";
  }
  std::string_view host_port = rest.substr(0, slash);
  std::string_view host = host_port;
  if (host_port.starts_with('[')) {
    size_t close = host_port.find(']');
    host = close == std::string_view::npos ? std::string_view() : host_port.substr(0, close + 1);
    host_port = close == std::string_view::npos ? host_port : host_port.substr(close + 1);
    if (host.empty() || (!host_port.empty() && !host_port.starts_with(':'))) {
      return "its host is not a valid IPv6 address in brackets";
    }
    host_port = host_port.empty() ? host_port : host_port.substr(1);
    host = "x";
  } else if (size_t colon = host_port.find(':'); colon != std::string_view::npos) {
    host = host_port.substr(0, colon);
    host_port = host_port.substr(colon + 1);
  } else {
    host_port = {};
  }
  if (host.empty()) {
    return "it has no host after @";
  }
  if (!host_port.empty() || rest.substr(0, slash).ends_with(':')) {
    if (host_port.empty() || host_port.size() > 5 ||
        !std::all_of(
            host_port.begin(), host_port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(std::string(host_port)) > 65535) {
      return "its port must be a number from 0 to 65535";
    }
  }
  std::string_view path = rest.substr(slash + 1);
  if (size_t query = path.find_first_of("?#"); query != std::string_view::npos) {
    path = path.substr(0, query);
  }
  while (path.ends_with('/')) {
    path.remove_suffix(1);
  }
  std::string_view project =
      path.substr(path.rfind('/') == std::string_view::npos ? 0 : path.rfind('/') + 1);
  if (project.empty()) {
    return "it has no project ID at the end of its path; the form is "
           "https://PUBLIC_KEY@HOST/PROJECT_ID";
  }
  if (!std::all_of(project.begin(), project.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return "its project ID " + Quote(project) + " is not a number";
  }
  return "";
}

}  // namespace

std::optional<EmailConfig> Loader::LoadEmailConfig(const YAML::Node& node) {
  EmailConfig email;
  Position position = yaml::PositionOf(node);
  email.mark = MarkAt(position);
  yaml::Fields fields = yaml::ReadMapping(node, kEmailSchema, Sink());
  if (!node.IsMap() && !node.IsNull()) {
    return std::nullopt;
  }
  bool ok = true;
  if (const Entry* entry = fields.Find("send_resolved")) {
    email.send_resolved = yaml::ReadBool(*entry, Sink()).value_or(email.send_resolved);
  }
  for (auto [key, target] : {std::pair{"to", &email.to},
                             std::pair{"from", &email.from},
                             std::pair{"hello", &email.hello},
                             std::pair{"auth_username", &email.auth_username},
                             std::pair{"auth_secret", &email.auth_secret},
                             std::pair{"auth_identity", &email.auth_identity},
                             std::pair{"text", &email.text}}) {
    *target = StringField(fields, key, Sink());
  }
  email.html = fields.Find("html") != nullptr ? StringField(fields, "html", Sink())
                                              : R"({{ template "email.default.html" . }})";
  if (const Entry* entry = fields.Find("smarthost")) {
    std::string address = yaml::ReadString(*entry, Sink()).value_or("");
    std::string problem = address.empty() ? "" : SmtpHostPortProblem(address);
    if (!problem.empty()) {
      Report(entry->value_position(), "invalid smarthost " + Quote(address) + ": " + problem);
      ok = false;
    } else {
      email.smarthost = address;
    }
  }
  // Alertmanager 0.25 accepts both auth_password and auth_password_file; the file wins, as
  // in its email notifier.
  if (const Entry* entry = fields.Find("auth_password")) {
    email.auth_password = yaml::ReadString(*entry, Sink()).value_or("");
  }
  if (const Entry* entry = fields.Find("auth_password_file")) {
    email.auth_password_file = yaml::ReadString(*entry, Sink()).value_or("");
    if (std::optional<std::string> password = ReadSecretFile(*entry)) {
      email.auth_password = *password;
    }
  }
  if (const Entry* entry = fields.Find("require_tls")) {
    email.require_tls = yaml::ReadBool(*entry, Sink());
  }
  if (const Entry* entry = fields.Find("tls_config")) {
    LoadTlsConfig(*entry, email.tls_config);
  }
  if (const Entry* entry = fields.Find("headers")) {
    for (const yaml::StringItem& item : yaml::ReadStringMap(*entry, Sink())) {
      std::string key = CanonicalHeaderKey(item.key);
      if (email.headers.contains(key)) {
        Report(item.key_position,
               "duplicate header " + Quote(key) +
                   " in email config; header names are case-insensitive, keep one");
        ok = false;
        continue;
      }
      email.headers[key] = item.value;
    }
  }

  if (email.to.empty()) {
    Report(position, "email config has no to address; set to");
    return std::nullopt;
  }
  // Defaults from global, as Alertmanager's Config.UnmarshalYAML fills them in.
  const GlobalConfig& global = config_.global;
  if (email.smarthost.empty() && fields.Find("smarthost") == nullptr) {
    if (global.smtp_smarthost.empty()) {
      Report(position,
             "email config has no smarthost; set smarthost here or smtp_smarthost under global");
      ok = false;
    }
    email.smarthost = global.smtp_smarthost;
  }
  if (email.from.empty()) {
    if (global.smtp_from.empty()) {
      Report(position, "email config has no from address; set from here or smtp_from under global");
      ok = false;
    }
    email.from = global.smtp_from;
  }
  if (email.hello.empty()) {
    email.hello = global.smtp_hello;
  }
  if (email.auth_username.empty()) {
    email.auth_username = global.smtp_auth_username;
  }
  if (email.auth_password.empty() && email.auth_password_file.empty()) {
    email.auth_password = global.smtp_auth_password;
    email.auth_password_file = global.smtp_auth_password_file;
  }
  if (email.auth_secret.empty()) {
    email.auth_secret = global.smtp_auth_secret;
  }
  if (email.auth_identity.empty()) {
    email.auth_identity = global.smtp_auth_identity;
  }
  if (!email.require_tls) {
    email.require_tls = global.smtp_require_tls;
  }
  email.headers.try_emplace("Subject", R"({{ template "email.default.subject" . }})");
  email.headers.try_emplace("To", email.to);
  email.headers.try_emplace("From", email.from);

  if (!ok) {
    return std::nullopt;
  }
  return email;
}

std::optional<SentryConfig> Loader::LoadSentryConfig(const YAML::Node& node) {
  SentryConfig sentry;
  Position position = yaml::PositionOf(node);
  sentry.mark = MarkAt(position);
  yaml::Fields fields = yaml::ReadMapping(node, kSentrySchema, Sink());
  if (!node.IsMap() && !node.IsNull()) {
    return std::nullopt;
  }
  bool ok = true;
  if (const Entry* entry = fields.Find("send_resolved")) {
    sentry.send_resolved = yaml::ReadBool(*entry, Sink()).value_or(sentry.send_resolved);
  }
  sentry.environment = StringField(fields, "environment", Sink());
  sentry.release = StringField(fields, "release", Sink());
  sentry.organization = StringField(fields, "organization", Sink());
  sentry.project = StringField(fields, "project", Sink());

  const Entry* dsn = fields.Find("dsn");
  const Entry* dsn_file = fields.Find("dsn_file");
  if (dsn == nullptr && dsn_file == nullptr) {
    Report(position, "sentry config has no dsn; set dsn or dsn_file");
    ok = false;
  } else if (ReadSecretPair(fields, "dsn", "dsn_file", sentry.dsn, &sentry.dsn_file, false)) {
    if (!sentry.dsn.empty()) {
      std::string problem = DsnProblem(sentry.dsn);
      if (!problem.empty()) {
        const Entry* where = dsn != nullptr ? dsn : dsn_file;
        Report(where->value_position(),
               std::string(dsn != nullptr ? "dsn" : "the DSN in dsn_file") +
                   " is not a valid Sentry DSN: " + problem);
        ok = false;
      }
    } else if (dsn != nullptr) {
      Report(dsn->value_position(), "dsn is empty; set it to the DSN of the Sentry project");
      ok = false;
    }
  } else {
    ok = false;
  }

  const Entry* token = fields.Find("auth_token");
  const Entry* token_file = fields.Find("auth_token_file");
  if (token != nullptr || token_file != nullptr) {
    ok = ReadSecretPair(fields,
                        "auth_token",
                        "auth_token_file",
                        sentry.auth_token,
                        &sentry.auth_token_file,
                        false) &&
         ok;
  }
  bool has_token = token != nullptr || token_file != nullptr;
  bool has_org = !sentry.organization.empty();
  bool has_project = !sentry.project.empty();
  if (has_token || has_org || has_project) {
    std::vector<std::string> missing;
    if (!has_token) {
      missing.push_back("auth_token or auth_token_file");
    }
    if (!has_org) {
      missing.push_back("organization");
    }
    if (!has_project) {
      missing.push_back("project");
    }
    if (!missing.empty()) {
      std::string list;
      for (size_t i = 0; i < missing.size(); ++i) {
        list += (i == 0 ? "" : i + 1 == missing.size() ? " and " : ", ") + missing[i];
      }
      Report(position,
             "sentry config lacks " + list +
                 "; resolving issues needs auth_token (or auth_token_file), organization and "
                 "project together, so set all three or none");
      ok = false;
    }
  }
  if (const Entry* entry = fields.Find("api_url")) {
    std::string url = yaml::ReadString(*entry, Sink()).value_or("");
    std::string problem = UrlProblem(url);
    if (!problem.empty()) {
      Report(entry->value_position(), "invalid api_url " + Quote(url) + ": " + problem);
      ok = false;
    } else {
      sentry.api_url = url;
    }
  }
  sentry.http_config = config_.global.http_config;
  if (const Entry* entry = fields.Find("http_config")) {
    LoadHttpConfig(*entry, sentry.http_config);
  }
  if (!ok) {
    return std::nullopt;
  }
  return sentry;
}

bool Loader::IsUnsupportedIntegration(std::string_view key) const {
  const std::vector<IntegrationType>& types = IntegrationTypes();
  return std::any_of(
      types.begin(), types.end(), [&](const IntegrationType& type) { return type.key == key; });
}

void Loader::LoadUnsupportedIntegration(std::string_view key,
                                        const YAML::Node& node,
                                        Receiver& receiver) {
  for (const IntegrationType& type : IntegrationTypes()) {
    if (type.key != key) {
      continue;
    }
    Position position = yaml::PositionOf(node);
    yaml::Fields fields = yaml::ReadMapping(node, type.schema, Sink());
    if (!node.IsMap() && !node.IsNull()) {
      return;
    }
    if (const Entry* entry = fields.Find("send_resolved")) {
      yaml::ReadBool(*entry, Sink());
    }
    if (const Entry* entry = fields.Find("http_config")) {
      HttpClientConfig http;
      LoadHttpConfig(*entry, http);
    }
    (this->*type.load)(fields, position);
    receiver.unsupported_integrations.push_back(
        UnsupportedIntegration{std::string(key), MarkAt(position)});
    return;
  }
}

void Loader::CheckUrlField(const yaml::Fields& fields, std::string_view key) {
  const Entry* entry = fields.Find(key);
  if (entry == nullptr) {
    return;
  }
  std::optional<std::string> url = yaml::ReadString(*entry, Sink());
  if (!url) {
    return;
  }
  std::string problem = UrlProblem(*url);
  if (!problem.empty()) {
    Report(entry->value_position(),
           "invalid " + std::string(key) + " " + Quote(*url) + ": " + problem);
  }
}

void Loader::LoadPagerduty(const yaml::Fields& fields, Position position) {
  std::string routing_key;
  std::string service_key;
  bool routing =
      fields.Find("routing_key") != nullptr || fields.Find("routing_key_file") != nullptr;
  bool service =
      fields.Find("service_key") != nullptr || fields.Find("service_key_file") != nullptr;
  if (!routing && !service) {
    Report(position,
           "pagerduty config has no key; set routing_key or routing_key_file (Events API v2), "
           "or service_key or service_key_file (v1)");
  }
  if (routing) {
    ReadSecretPair(fields, "routing_key", "routing_key_file", routing_key, nullptr, false);
  }
  if (service) {
    ReadSecretPair(fields, "service_key", "service_key_file", service_key, nullptr, false);
  }
  CheckUrlField(fields, "url");
  if (const Entry* entry = fields.Find("details")) {
    yaml::ReadStringMap(*entry, Sink());
  }
  for (auto [key, schema] :
       {std::pair{"images", &kPagerdutyImageSchema}, std::pair{"links", &kPagerdutyLinkSchema}}) {
    const Entry* entry = fields.Find(key);
    if (entry == nullptr || entry->value.IsNull()) {
      continue;
    }
    if (!entry->value.IsSequence()) {
      Report(entry->value_position(),
             std::string(key) + " must be a list, got " + yaml::KindName(entry->value));
      continue;
    }
    for (const YAML::Node& item : entry->value) {
      yaml::Fields item_fields = yaml::ReadMapping(item, *schema, Sink());
      for (const Entry& field : item_fields.entries()) {
        yaml::ReadString(field, Sink());
      }
    }
  }
}

void Loader::LoadPushover(const yaml::Fields& fields, Position position) {
  if (StringField(fields, "user_key", Sink()).empty()) {
    Report(position, "pushover config has no user_key; set user_key");
  } else if (StringField(fields, "token", Sink()).empty()) {
    Report(position, "pushover config has no token; set token");
  }
  for (const char* key : {"retry", "expire"}) {
    if (const Entry* entry = fields.Find(key)) {
      yaml::ReadDuration(*entry, Sink());
    }
  }
  if (const Entry* entry = fields.Find("html")) {
    yaml::ReadBool(*entry, Sink());
  }
}

void Loader::LoadOpsgenie(const yaml::Fields& fields, Position position) {
  std::string key;
  bool own_key = fields.Find("api_key") != nullptr || fields.Find("api_key_file") != nullptr;
  if (own_key) {
    ReadSecretPair(fields, "api_key", "api_key_file", key, nullptr, false);
  } else if (config_.global.opsgenie_api_key.empty() &&
             config_.global.opsgenie_api_key_file.empty()) {
    Report(position,
           "opsgenie config has no api_key; set api_key or api_key_file here, or "
           "opsgenie_api_key or opsgenie_api_key_file under global");
  }
  CheckUrlField(fields, "api_url");
  if (const Entry* entry = fields.Find("details")) {
    yaml::ReadStringMap(*entry, Sink());
  }
  if (const Entry* entry = fields.Find("update_alerts")) {
    yaml::ReadBool(*entry, Sink());
  }
  const Entry* responders = fields.Find("responders");
  if (responders == nullptr || responders->value.IsNull()) {
    return;
  }
  if (!responders->value.IsSequence()) {
    Report(responders->value_position(),
           "responders must be a list, got " + yaml::KindName(responders->value));
    return;
  }
  for (const YAML::Node& item : responders->value) {
    yaml::Fields responder = yaml::ReadMapping(item, kResponderSchema, Sink());
    std::string type = StringField(responder, "type", Sink());
    if (StringField(responder, "id", Sink()).empty() &&
        StringField(responder, "name", Sink()).empty() &&
        StringField(responder, "username", Sink()).empty()) {
      Report(yaml::PositionOf(item), "opsgenie responder needs one of id, name or username");
      continue;
    }
    std::string lower = type;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
      return static_cast<char>(std::tolower(c));
    });
    bool templated = type.find("{{") != std::string::npos;
    if (!templated && lower != "team" && lower != "teams" && lower != "user" &&
        lower != "escalation" && lower != "schedule") {
      const Entry* where = responder.Find("type");
      Report(where != nullptr ? where->value_position() : yaml::PositionOf(item),
             "invalid opsgenie responder type " + Quote(type) +
                 ": use team, teams, user, escalation or schedule");
    }
  }
}

void Loader::LoadVictorops(const yaml::Fields& fields, Position position) {
  std::string key;
  bool own_key = fields.Find("api_key") != nullptr || fields.Find("api_key_file") != nullptr;
  if (own_key) {
    ReadSecretPair(fields, "api_key", "api_key_file", key, nullptr, false);
  } else if (config_.global.victorops_api_key.empty() &&
             config_.global.victorops_api_key_file.empty()) {
    Report(position,
           "victorops config has no api_key; set api_key or api_key_file here, or "
           "victorops_api_key or victorops_api_key_file under global");
  }
  if (StringField(fields, "routing_key", Sink()).empty()) {
    Report(position, "victorops config has no routing_key; set routing_key");
  }
  CheckUrlField(fields, "api_url");
  if (const Entry* entry = fields.Find("custom_fields")) {
    for (const yaml::StringItem& item : yaml::ReadStringMap(*entry, Sink())) {
      for (const char* reserved : {"routing_key",
                                   "message_type",
                                   "state_message",
                                   "entity_display_name",
                                   "monitoring_tool",
                                   "entity_id",
                                   "entity_state"}) {
        if (item.key == reserved) {
          Report(item.key_position,
                 "custom field " + Quote(item.key) +
                     " in victorops config is one of VictorOps's fixed fields; rename it");
        }
      }
    }
  }
}

void Loader::LoadWechat(const yaml::Fields& fields, Position position) {
  if (StringField(fields, "api_secret", Sink()).empty() &&
      config_.global.wechat_api_secret.empty()) {
    Report(position,
           "wechat config has no api_secret; set api_secret here or wechat_api_secret under "
           "global");
  }
  if (StringField(fields, "corp_id", Sink()).empty() && config_.global.wechat_api_corp_id.empty()) {
    Report(position,
           "wechat config has no corp_id; set corp_id here or wechat_api_corp_id under global");
  }
  CheckUrlField(fields, "api_url");
  if (const Entry* entry = fields.Find("message_type")) {
    std::string type = yaml::ReadString(*entry, Sink()).value_or("");
    if (!type.empty() && type != "text" && type != "markdown") {
      Report(entry->value_position(),
             "invalid message_type " + Quote(type) + " in wechat config: use text or markdown");
    }
  }
}

void Loader::LoadTelegram(const yaml::Fields& fields, Position position) {
  if (StringField(fields, "bot_token", Sink()).empty()) {
    Report(position, "telegram config has no bot_token; set bot_token");
  }
  const Entry* chat = fields.Find("chat_id");
  std::optional<int64_t> chat_id;
  if (chat != nullptr) {
    chat_id = yaml::ReadInt(*chat, Sink());
  }
  if (chat == nullptr || (chat_id && *chat_id == 0) || chat->value.IsNull()) {
    Report(chat != nullptr ? chat->value_position() : position,
           "telegram config has no chat_id; set chat_id to the chat's number");
  }
  CheckUrlField(fields, "api_url");
  if (const Entry* entry = fields.Find("disable_notifications")) {
    yaml::ReadBool(*entry, Sink());
  }
  if (const Entry* entry = fields.Find("parse_mode")) {
    std::string mode = yaml::ReadString(*entry, Sink()).value_or("");
    if (!mode.empty() && mode != "Markdown" && mode != "MarkdownV2" && mode != "HTML") {
      Report(entry->value_position(),
             "invalid parse_mode " + Quote(mode) +
                 " in telegram config: use Markdown, MarkdownV2, HTML or an empty string");
    }
  }
}

void Loader::LoadSns(const yaml::Fields& fields, Position position) {
  bool target = !StringField(fields, "target_arn", Sink()).empty();
  bool topic = !StringField(fields, "topic_arn", Sink()).empty();
  bool phone = !StringField(fields, "phone_number", Sink()).empty();
  // Alertmanager 0.25 tests (target == "") != (topic == "") != (phone == ""), which accepts
  // exactly one of the three, and also all three.
  if (((!target != !topic) != !phone)) {
    Report(position, "sns config needs one of target_arn, topic_arn or phone_number; set one");
  }
  CheckUrlField(fields, "api_url");
  if (const Entry* entry = fields.Find("attributes")) {
    yaml::ReadStringMap(*entry, Sink());
  }
  if (const Entry* entry = fields.Find("sigv4")) {
    yaml::Fields sigv4 = yaml::ReadMapping(entry->value, kSigv4Schema, Sink());
    bool access = !StringField(sigv4, "access_key", Sink()).empty();
    bool secret = !StringField(sigv4, "secret_key", Sink()).empty();
    StringField(sigv4, "region", Sink());
    StringField(sigv4, "profile", Sink());
    StringField(sigv4, "role_arn", Sink());
    if (access != secret) {
      Report(entry->value_position(),
             std::string("sigv4 has ") +
                 (access ? "access_key but no secret_key" : "secret_key but no access_key") +
                 "; set both or neither");
    }
  }
}

void Loader::LoadWebex(const yaml::Fields& fields, Position position) {
  if (StringField(fields, "room_id", Sink()).empty()) {
    Report(position, "webex config has no room_id; set room_id");
  }
  const Entry* http = fields.Find("http_config");
  if (http == nullptr || !http->value.IsMap() || !http->value["authorization"] ||
      http->value["authorization"].IsNull()) {
    Report(http != nullptr ? http->value_position() : position,
           "webex config has no http_config authorization; set http_config.authorization."
           "credentials to the bot's access token");
  }
  CheckUrlField(fields, "api_url");
}

void Loader::LoadDiscord(const yaml::Fields& fields, Position position) {
  const Entry* url = fields.Find("webhook_url");
  if (url == nullptr || url->value.IsNull()) {
    Report(position, "discord config has no webhook_url; set webhook_url");
    return;
  }
  if (std::optional<std::string> value = yaml::ReadString(*url, Sink())) {
    CheckSecretUrl(*value, url->value_position(), "webhook_url");
  }
}

}  // namespace alertd::config::internal
