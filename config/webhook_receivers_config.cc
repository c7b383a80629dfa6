// The `webhook_receivers` section of alertd.yml: inbound webhook endpoints, each served on
// POST /api/v1/webhook/NAME (docs/webhook-receivers.md).
#include <algorithm>
#include <set>
#include <string>
#include <string_view>

#include "common/duration.h"
#include "config/config_internal.h"
#include "rules/template.h"

namespace alertd::config::internal {
namespace {

const yaml::Schema kReceiverSchema{"webhook receiver",
                                   {"name",
                                    "type",
                                    "authorization",
                                    "basic_auth",
                                    "hmac",
                                    "max_body_size",
                                    "labels",
                                    "max_age",
                                    "json"},
                                   {},
                                   {}};
const yaml::Schema kAuthorizationSchema{
    "webhook receiver authorization", {"type", "credentials", "credentials_file"}, {}, {}};
const yaml::Schema kBasicAuthSchema{
    "webhook receiver basic_auth", {"username", "password", "password_file"}, {}, {}};
const yaml::Schema kHmacSchema{
    "webhook receiver hmac", {"secret", "secret_file", "header", "prefix"}, {}, {}};
const yaml::Schema kJsonSchema{
    "webhook receiver json", {"labels", "annotations", "resolved"}, {}, {}};

using ReadFile = std::function<std::optional<std::string>(const yaml::Entry&)>;

bool IsValidEndpointName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// The position of a template error inside the YAML value. Exact for values on one line;
// for multi-line values the line is exact and the column is that of the template text.
yaml::Position TemplateErrorPosition(const yaml::StringItem& item, const Error& error) {
  yaml::Position position = item.value_position;
  if (error.line() <= 0) {
    return position;
  }
  const std::string tag = item.value_node.IsDefined() ? item.value_node.Tag() : "";
  // yaml-cpp tags quoted scalars "!"; the text then starts one column after the quote.
  int quote = tag == "!" ? 1 : 0;
  if (error.line() == 1) {
    position.column += quote + std::max(error.column(), 1) - 1;
  } else {
    position.line += error.line() - 1;
    position.column = std::max(error.column(), 1);
  }
  return position;
}

class ReceiverReader {
 public:
  ReceiverReader(const ReadFile& read_file, const yaml::ErrorSink& errors)
      : read_file_(read_file), errors_(errors) {}

  // Returns false when the entry had a problem (already reported).
  bool Read(const YAML::Node& node, WebhookReceiverConfig& receiver) {
    yaml::Fields fields = yaml::ReadMapping(node, kReceiverSchema, Sink());
    if (!node.IsMap() && !node.IsNull()) {
      return false;  // ReadMapping reported it
    }
    if (const yaml::Entry* entry = fields.Find("name")) {
      if (auto name = yaml::ReadString(*entry, Sink())) {
        if (!IsValidEndpointName(*name)) {
          Report(entry->value_position(),
                 "invalid webhook receiver name \"" + *name +
                     "\": use only letters, digits, '_' and '-', because the name is the last "
                     "part of the URL path /api/v1/webhook/NAME");
        } else {
          receiver.name = *name;
        }
      }
    } else if (ok_) {
      Report(yaml::PositionOf(node),
             "webhook receiver has no name: set name, which makes the endpoint "
             "/api/v1/webhook/NAME");
    }
    what_ = receiver.name.empty() ? std::string("webhook receiver")
                                  : "webhook receiver \"" + receiver.name + "\"";
    ReadType(fields, node, receiver);
    ReadAuthentication(fields, receiver);
    if (const yaml::Entry* entry = fields.Find("max_body_size")) {
      std::optional<uint64_t> size = ReadByteSize(*entry, Sink());
      if (size && *size == 0) {
        Report(entry->value_position(),
               what_ + ": max_body_size must be positive; remove it for the default of 1MiB");
      } else if (size) {
        receiver.max_body_size = *size;
      }
    }
    if (const yaml::Entry* entry = fields.Find("labels")) {
      ReadLabels(*entry, receiver.labels, receiver.removed_labels);
    }
    if (const yaml::Entry* entry = fields.Find("max_age")) {
      std::optional<Duration> age = yaml::ReadDuration(*entry, Sink());
      if (age && age->count() <= 0) {
        Report(entry->value_position(),
               what_ + ": max_age must be positive, got " + FormatDuration(*age) +
                   "; set how long a firing alert lasts without an update, for example 24h");
      } else if (age) {
        receiver.max_age = *age;
      }
    }
    const yaml::Entry* json = fields.Find("json");
    if (json != nullptr && receiver.type != "json" && !receiver.type.empty()) {
      Report(json->key_position(),
             what_ + ": the json section applies only to type json, not " + receiver.type +
                 "; remove it");
    } else if (json != nullptr) {
      ReadJson(*json, receiver);
    }
    if (receiver.type == "json" && json == nullptr) {
      Report(yaml::PositionOf(node),
             what_ +
                 " of type json has no json section: set json.labels.alertname to a "
                 "template over the request body, for example '{{ .check.name }}'");
    }
    return ok_;
  }

 private:
  yaml::ErrorSink Sink() {
    return [this](yaml::Position position, std::string message) {
      Report(position, std::move(message));
    };
  }

  void Report(yaml::Position position, std::string message) {
    ok_ = false;
    errors_(position, std::move(message));
  }

  void ReadType(const yaml::Fields& fields, const YAML::Node& node, WebhookReceiverConfig& r) {
    const yaml::Entry* entry = fields.Find("type");
    if (entry == nullptr) {
      Report(yaml::PositionOf(node),
             what_ + " has no type: set type to alertmanager, grafana or json");
      return;
    }
    std::optional<std::string> type = yaml::ReadString(*entry, Sink());
    if (!type) {
      return;
    }
    if (*type != "alertmanager" && *type != "grafana" && *type != "json") {
      Report(entry->value_position(),
             what_ + ": unknown type \"" + *type + "\"; use alertmanager, grafana or json");
      return;
    }
    r.type = *type;
  }

  // Reads an inline secret under `key` or a file under `file_key`; exactly one is required.
  std::optional<std::string> ReadSecret(const yaml::Fields& fields,
                                        const yaml::Entry& section,
                                        std::string_view key,
                                        std::string_view file_key) {
    const yaml::Entry* inline_entry = fields.Find(key);
    const yaml::Entry* file_entry = fields.Find(file_key);
    const std::string where = what_ + " " + section.key;
    if (inline_entry != nullptr && file_entry != nullptr) {
      Report(file_entry->key_position(),
             where + ": set " + std::string(key) + " or " + std::string(file_key) + ", not both");
      return std::nullopt;
    }
    if (inline_entry == nullptr && file_entry == nullptr) {
      Report(section.key_position(),
             where + ": set " + std::string(key) + " or " + std::string(file_key));
      return std::nullopt;
    }
    if (file_entry != nullptr) {
      std::optional<std::string> secret = read_file_(*file_entry);
      if (!secret) {
        ok_ = false;
      }
      return secret;
    }
    std::optional<std::string> secret = yaml::ReadString(*inline_entry, Sink());
    if (secret && secret->empty()) {
      Report(inline_entry->value_position(),
             where + " " + std::string(key) + " is empty; set a secret or remove " + section.key);
      return std::nullopt;
    }
    return secret;
  }

  void ReadAuthentication(const yaml::Fields& fields, WebhookReceiverConfig& receiver) {
    const yaml::Entry* first = nullptr;
    for (const char* key : {"authorization", "basic_auth", "hmac"}) {
      const yaml::Entry* entry = fields.Find(key);
      if (entry == nullptr) {
        continue;
      }
      if (first != nullptr) {
        Report(entry->key_position(),
               what_ + ": set only one of authorization, basic_auth and hmac, not both " +
                   first->key + " and " + entry->key);
        continue;
      }
      first = entry;
    }
    if (first == nullptr) {
      return;
    }
    const yaml::Entry& entry = *first;
    if (entry.key == "authorization") {
      yaml::Fields auth = yaml::ReadMapping(entry.value, kAuthorizationSchema, Sink());
      if (const yaml::Entry* type = auth.Find("type")) {
        std::optional<std::string> scheme = yaml::ReadString(*type, Sink());
        if (scheme && *scheme != "Bearer") {
          Report(type->value_position(),
                 what_ + " authorization: type \"" + *scheme +
                     "\" is not supported; only Bearer is, so remove type or set it to Bearer");
        }
      }
      if (auto secret = ReadSecret(auth, entry, "credentials", "credentials_file")) {
        receiver.bearer_token = *secret;
      }
    } else if (entry.key == "basic_auth") {
      yaml::Fields auth = yaml::ReadMapping(entry.value, kBasicAuthSchema, Sink());
      const yaml::Entry* username = auth.Find("username");
      std::optional<std::string> name;
      if (username != nullptr) {
        name = yaml::ReadString(*username, Sink());
      }
      if (!name || name->empty()) {
        if (username == nullptr || name) {
          Report(username != nullptr ? username->value_position() : entry.key_position(),
                 what_ + " basic_auth: set a username");
        }
      } else if (name->find(':') != std::string::npos) {
        Report(username->value_position(),
               what_ +
                   " basic_auth: the username must not contain ':', because HTTP basic "
                   "authentication separates the username from the password with it");
      } else {
        receiver.basic_auth_username = *name;
      }
      if (auto secret = ReadSecret(auth, entry, "password", "password_file")) {
        receiver.basic_auth_password = *secret;
      }
    } else {
      yaml::Fields hmac = yaml::ReadMapping(entry.value, kHmacSchema, Sink());
      if (auto secret = ReadSecret(hmac, entry, "secret", "secret_file")) {
        receiver.hmac_secret = *secret;
      }
      if (const yaml::Entry* header = hmac.Find("header")) {
        std::optional<std::string> name = yaml::ReadString(*header, Sink());
        if (name && !IsValidHeaderName(*name)) {
          Report(header->value_position(),
                 what_ + " hmac: invalid header name \"" + *name +
                     "\"; use letters, digits and '-', for example X-Hub-Signature-256");
        } else if (name) {
          receiver.hmac_header = *name;
        }
      }
      if (const yaml::Entry* prefix = hmac.Find("prefix")) {
        // An empty prefix is allowed: the header then carries the bare hex digest.
        if (auto text = yaml::ReadString(*prefix, Sink())) {
          receiver.hmac_prefix = *text;
        } else if (prefix->value.IsNull()) {
          receiver.hmac_prefix.clear();
        }
      }
    }
  }

  static bool IsValidHeaderName(std::string_view name) {
    // RFC 9110 token characters.
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    });
  }

  void ReadLabels(const yaml::Entry& entry, Labels& labels, std::vector<std::string>& removed) {
    std::vector<Label> items;
    for (const yaml::StringItem& item : yaml::ReadStringMap(entry, Sink())) {
      if (!IsValidLabelName(item.key)) {
        Report(item.key_position,
               what_ + ": invalid label name \"" + item.key +
                   "\" in labels: label names must match [a-zA-Z_][a-zA-Z0-9_]*");
        continue;
      }
      if (item.value.empty() && item.key == "alertname") {
        Report(item.key_position,
               what_ +
                   ": labels.alertname is empty, which would remove every alert's name; "
                   "set a name or remove the entry");
        continue;
      }
      if (item.value.empty()) {
        removed.push_back(item.key);
        continue;
      }
      items.push_back(Label{item.key, item.value});
    }
    labels = Labels(std::move(items));
  }

  // Parses `item` as a notification template so that a broken one fails at load, not when an
  // event arrives.
  bool CheckTemplate(const yaml::StringItem& item, const std::string& field) {
    ParseOptions options;
    options.dialect = TemplateDialect::kAlertmanager;
    Result<Template> parsed = Template::Parse(field, item.value, options);
    if (!parsed.ok()) {
      Report(TemplateErrorPosition(item, parsed.error()),
             what_ + ": invalid template in " + field + ": " + parsed.error().message());
      return false;
    }
    return true;
  }

  void ReadTemplateMap(const yaml::Entry& entry,
                       const std::string& section,
                       bool label_names,
                       std::map<std::string, std::string>& out) {
    for (const yaml::StringItem& item : yaml::ReadStringMap(entry, Sink())) {
      const std::string field = section + "." + item.key;
      if (label_names && !IsValidLabelName(item.key)) {
        Report(item.key_position,
               what_ + ": invalid label name \"" + item.key +
                   "\" in json.labels: label names must match [a-zA-Z_][a-zA-Z0-9_]*");
        continue;
      }
      if (!label_names && !IsValidLabelName(item.key)) {
        Report(item.key_position,
               what_ + ": invalid annotation name \"" + item.key +
                   "\" in json.annotations: names must match [a-zA-Z_][a-zA-Z0-9_]*");
        continue;
      }
      if (CheckTemplate(item, field)) {
        out[item.key] = item.value;
      }
    }
  }

  void ReadJson(const yaml::Entry& json, WebhookReceiverConfig& receiver) {
    yaml::Fields fields = yaml::ReadMapping(json.value, kJsonSchema, Sink());
    const yaml::Entry* labels = fields.Find("labels");
    if (labels != nullptr) {
      ReadTemplateMap(*labels, "json.labels", true, receiver.label_templates);
    }
    bool has_alertname =
        labels != nullptr && labels->value.IsMap() && labels->value["alertname"].IsDefined();
    if (!has_alertname) {
      Report(labels != nullptr ? labels->key_position() : json.key_position(),
             what_ +
                 ": json.labels has no alertname; set it to a template over the request "
                 "body, for example alertname: '{{ .check.name }}'");
    }
    if (const yaml::Entry* annotations = fields.Find("annotations")) {
      ReadTemplateMap(*annotations, "json.annotations", false, receiver.annotation_templates);
    }
    if (const yaml::Entry* resolved = fields.Find("resolved")) {
      if (std::optional<std::string> text = yaml::ReadString(*resolved, Sink())) {
        yaml::StringItem item{resolved->key,
                              *text,
                              resolved->key_position(),
                              resolved->value_position(),
                              resolved->value};
        if (CheckTemplate(item, "json.resolved")) {
          receiver.resolved_template = *text;
        }
      }
    }
  }

  const ReadFile& read_file_;
  const yaml::ErrorSink& errors_;
  std::string what_ = "webhook receiver";
  bool ok_ = true;
};

}  // namespace

void LoadWebhookReceivers(const yaml::Entry& entry,
                          Config& config,
                          const ReadFile& read_file,
                          const yaml::ErrorSink& errors) {
  if (entry.value.IsNull()) {
    return;
  }
  if (!entry.value.IsSequence()) {
    errors(entry.value_position(),
           "webhook_receivers must be a list of endpoints, got " + yaml::KindName(entry.value));
    return;
  }
  std::set<std::string> names;
  const bool loopback = config::IsLoopbackListenAddress(config.web.listen_address);
  for (const YAML::Node& node : entry.value) {
    WebhookReceiverConfig receiver;
    yaml::Position position = yaml::PositionOf(node);
    receiver.mark = Mark{config.file, position.line, position.column};
    ReceiverReader reader(read_file, errors);
    bool ok = reader.Read(node, receiver);
    if (!receiver.name.empty() && !names.insert(receiver.name).second) {
      errors(node["name"].IsDefined() ? yaml::PositionOf(node["name"]) : position,
             "duplicate webhook receiver name \"" + receiver.name +
                 "\": each endpoint needs its own name");
      continue;
    }
    bool has_authentication = !receiver.bearer_token.empty() ||
                              !receiver.basic_auth_password.empty() ||
                              !receiver.hmac_secret.empty();
    bool names_authentication =
        node.IsMap() && (node["authorization"].IsDefined() || node["basic_auth"].IsDefined() ||
                         node["hmac"].IsDefined());
    if (!has_authentication && !names_authentication && !loopback) {
      errors(position,
             "webhook receiver \"" + receiver.name + "\" has no authentication while " +
                 "web.listen_address \"" + config.web.listen_address +
                 "\" is not a loopback address: set authorization, basic_auth or hmac, or "
                 "listen on 127.0.0.1");
      continue;
    }
    if (ok) {
      config.webhook_receivers.push_back(std::move(receiver));
    }
  }
}

}  // namespace alertd::config::internal

namespace alertd::config {

bool IsLoopbackListenAddress(std::string_view address) {
  std::string_view host;
  if (address.starts_with('[')) {
    size_t end = address.find(']');
    host = address.substr(1, end == std::string_view::npos ? std::string_view::npos : end - 1);
  } else {
    size_t colon = address.rfind(':');
    host = address.substr(0, colon);
  }
  if (host == "localhost" || host == "::1") {
    return true;
  }
  // 127.0.0.0/8: four decimal octets, the first 127.
  if (!host.starts_with("127.")) {
    return false;
  }
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

}  // namespace alertd::config
