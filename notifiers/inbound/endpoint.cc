#include "notifiers/inbound/endpoint.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "common/logging.h"
#include "rules/template.h"

namespace alertd::inbound {
namespace {

// What Go's text/template prints for a missing key of a map with values other than strings.
constexpr std::string_view kNoValue = "<no value>";

using nlohmann::json;

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return out;
}

std::string_view TrimSpace(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

// Standard base64 with padding (RFC 4648 section 4), as HTTP basic authentication uses.
std::optional<std::string> DecodeBase64(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t buffer = 0;
  int bits = 0;
  size_t padding = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    int value;
    if (c >= 'A' && c <= 'Z') {
      value = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      value = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      value = c - '0' + 52;
    } else if (c == '+') {
      value = 62;
    } else if (c == '/') {
      value = 63;
    } else if (c == '=' && i + 2 >= text.size()) {
      ++padding;
      continue;
    } else {
      return std::nullopt;
    }
    if (padding > 0) {
      return std::nullopt;  // data after padding
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

std::string ErrorBody(std::string_view message) {
  // The message may quote bytes of the body that are not valid UTF-8.
  return json{{"status", "error"}, {"error", message}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

// Deeper bodies are rejected before parsing: the template engine and JSON printing recurse
// once per level, so a body of many thousand levels would exhaust the stack.
constexpr size_t kMaxNestingDepth = 100;

// Returns the deepest nesting of arrays and objects in `text`, ignoring brackets inside
// strings. Invalid JSON gets a number too; the parser rejects it afterwards.
size_t NestingDepth(std::string_view text) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

Result<PayloadType> ParsePayloadType(std::string_view name) {
  if (name == "alertmanager") {
    return PayloadType::kAlertmanager;
  }
  if (name == "grafana") {
    return PayloadType::kGrafana;
  }
  if (name == "json") {
    return PayloadType::kJson;
  }
  return Error::Invalid("unknown webhook receiver type \"" + std::string(name) +
                        "\"; use alertmanager, grafana or json");
}

std::string EndpointRequest::Header(std::string_view name) const {
  std::string wanted = Lower(name);
  for (const auto& [key, value] : headers) {
    if (Lower(key) == wanted) {
      return value;
    }
  }
  return "";
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string HmacSha256Hex(std::string_view secret, std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(),
       secret.data(),
       static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()),
       body.size(),
       digest,
       &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0x0f]);
  }
  return out;
}

struct Endpoint::Templates {
  std::vector<std::pair<std::string, Template>> labels;
  std::vector<std::pair<std::string, Template>> annotations;
  std::optional<Template> resolved;
};

Endpoint::Endpoint(EndpointOptions options, AlertStore* store, const Clock* clock)
    : options_(std::move(options)),
      store_(store),
      clock_(clock),
      templates_(std::make_unique<Templates>()) {}

Endpoint::~Endpoint() = default;

Result<std::unique_ptr<Endpoint>> Endpoint::Create(EndpointOptions options,
                                                   AlertStore* store,
                                                   const Clock* clock) {
  std::unique_ptr<Endpoint> endpoint(new Endpoint(std::move(options), store, clock));
  const EndpointOptions& o = endpoint->options_;
  ParseOptions parse;
  parse.dialect = TemplateDialect::kAlertmanager;
  auto add = [&parse, &o](const std::string& field, const std::string& text) -> Result<Template> {
    auto parsed = Template::Parse(field, text, parse);
    if (!parsed.ok()) {
      return Error::Invalid("webhook receiver \"" + o.name + "\": invalid template in " + field +
                            ": " + parsed.error().message());
    }
    return parsed;
  };
  for (const auto& [name, text] : o.label_templates) {
    auto parsed = add("json.labels." + name, text);
    if (!parsed.ok()) {
      return parsed.error();
    }
    endpoint->templates_->labels.emplace_back(name, std::move(parsed).value());
  }
  for (const auto& [name, text] : o.annotation_templates) {
    auto parsed = add("json.annotations." + name, text);
    if (!parsed.ok()) {
      return parsed.error();
    }
    endpoint->templates_->annotations.emplace_back(name, std::move(parsed).value());
  }
  if (!o.resolved_template.empty()) {
    auto parsed = add("json.resolved", o.resolved_template);
    if (!parsed.ok()) {
      return parsed.error();
    }
    endpoint->templates_->resolved = std::move(parsed).value();
  }
  if (o.type == PayloadType::kJson && o.label_templates.count("alertname") == 0) {
    return Error::Invalid("webhook receiver \"" + o.name +
                          "\" of type json has no json.labels.alertname template");
  }
  return endpoint;
}

std::string Endpoint::CheckAuthentication(const EndpointRequest& request) const {
  if (!options_.hmac_secret.empty()) {
    std::string header = request.Header(options_.hmac_header);
    if (header.empty()) {
      return "header " + options_.hmac_header + " is missing";
    }
    std::string_view signature = TrimSpace(header);
    const std::string& prefix = options_.hmac_prefix;
    if (signature.size() < prefix.size() ||
        Lower(signature.substr(0, prefix.size())) != Lower(prefix)) {
      return "header " + options_.hmac_header + " does not start with \"" + prefix + "\"";
    }
    std::string expected = HmacSha256Hex(options_.hmac_secret, request.body);
    if (!ConstantTimeEquals(Lower(signature.substr(prefix.size())), expected)) {
      return "the HMAC-SHA256 signature in header " + options_.hmac_header +
             " does not match the body";
    }
    return "";
  }
  const bool bearer = !options_.bearer_token.empty();
  const bool basic = !options_.basic_auth_password.empty();
  if (!bearer && !basic) {
    return "";
  }
  std::string header = request.Header("Authorization");
  if (header.empty()) {
    return "header Authorization is missing";
  }
  std::string_view value = TrimSpace(header);
  size_t space = value.find(' ');
  std::string scheme = Lower(value.substr(0, space));
  std::string_view credentials =
      space == std::string_view::npos ? std::string_view() : TrimSpace(value.substr(space + 1));
  if (bearer) {
    if (scheme != "bearer") {
      return "the Authorization scheme is not Bearer";
    }
    if (!ConstantTimeEquals(credentials, options_.bearer_token)) {
      return "the bearer token does not match";
    }
    return "";
  }
  if (scheme != "basic") {
    return "the Authorization scheme is not Basic";
  }
  std::optional<std::string> decoded = DecodeBase64(credentials);
  size_t colon = decoded ? decoded->find(':') : std::string::npos;
  if (colon == std::string::npos) {
    return "the basic authentication credentials are not base64 of username:password";
  }
  // Both are compared, so the time does not tell which of the two was wrong.
  bool user_ok =
      ConstantTimeEquals(std::string_view(*decoded).substr(0, colon), options_.basic_auth_username);
  bool password_ok = ConstantTimeEquals(std::string_view(*decoded).substr(colon + 1),
                                        options_.basic_auth_password);
  if (!(user_ok && password_ok)) {
    return "the username or password does not match";
  }
  return "";
}

Result<std::vector<StoreAlert>> Endpoint::ParseJsonBody(const json& body, TimePoint now) const {
  std::vector<const json*> events;
  if (body.is_array()) {
    for (const json& item : body) {
      events.push_back(&item);
    }
  } else {
    events.push_back(&body);
  }
  TemplateOptions options;
  options.missing_key = MissingKey::kZero;
  // NOTE: these expansions keep TemplateOptions' default limit of 1 MiB of output, and
  // limits.max_template_output does not change it.
  std::vector<StoreAlert> out;
  size_t position = 0;
  for (const json* event : events) {
    ++position;
    std::string where = body.is_array() ? "element " + std::to_string(position) + ": " : "";
    LabelsBuilder labels;
    for (const auto& [name, tmpl] : templates_->labels) {
      auto value = tmpl.Execute(*event, options);
      if (!value.ok()) {
        return Error::Invalid(where + value.error().message());
      }
      // Go's text/template prints a missing key of a map with non-string values as
      // "<no value>" even under missingkey=zero; such a label is absent, not that text.
      if (*value == kNoValue) {
        continue;
      }
      labels.Set(name, *value);
    }
    LabelsBuilder annotations;
    for (const auto& [name, tmpl] : templates_->annotations) {
      auto value = tmpl.Execute(*event, options);
      if (!value.ok()) {
        return Error::Invalid(where + value.error().message());
      }
      if (*value == kNoValue) {
        continue;
      }
      annotations.Set(name, *value);
    }
    StoreAlert alert;
    alert.labels = labels.Build();
    if (!alert.labels.Has("alertname")) {
      return Error::Invalid(where +
                            "the json.labels.alertname template gave an empty value for this "
                            "body; every alert needs an alertname");
    }
    alert.annotations = annotations.Build();
    alert.starts_at = now;
    if (templates_->resolved) {
      auto value = templates_->resolved->Execute(*event, options);
      if (!value.ok()) {
        return Error::Invalid(where + value.error().message());
      }
      if (TrimSpace(*value) == "true") {
        alert.ends_at = now;
      }
    }
    out.push_back(std::move(alert));
  }
  return out;
}

EndpointResponse Endpoint::Handle(const EndpointRequest& request) const {
  auto reject = [this, &request](int status,
                                 std::string_view reason,
                                 const std::string& message,
                                 const std::string& detail) {
    Logger("inbound")->warn(
        "Webhook request rejected endpoint={} reason={} remote_address={} detail={}",
        LogValue(options_.name),
        reason,
        LogValue(request.remote_address),
        LogValue(detail));
    EndpointResponse response;
    response.status = status;
    response.reason = std::string(reason);
    response.body = ErrorBody(message);
    return response;
  };
  if (std::string problem = CheckAuthentication(request); !problem.empty()) {
    EndpointResponse response = reject(401, kReasonUnauthorized, "authentication failed", problem);
    if (!options_.bearer_token.empty()) {
      response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"alertd\"");
    } else if (!options_.basic_auth_password.empty()) {
      response.headers.emplace_back("WWW-Authenticate", "Basic realm=\"alertd\"");
    }
    return response;
  }
  if (request.body.size() > options_.max_body_size) {
    std::string limit = std::to_string(options_.max_body_size);
    return reject(413,
                  kReasonTooLarge,
                  "the body is larger than max_body_size (" + limit + " bytes)",
                  std::to_string(request.body.size()) + " bytes, limit " + limit);
  }
  std::string content_type = request.Header("Content-Type");
  std::string media_type =
      Lower(TrimSpace(std::string_view(content_type)
                          .substr(0, std::min(content_type.find(';'), content_type.size()))));
  if (media_type != "application/json") {
    std::string got = content_type.empty() ? "none" : "\"" + content_type + "\"";
    return reject(415,
                  kReasonUnsupportedMediaType,
                  "Content-Type must be application/json, got " + got,
                  "Content-Type " + got);
  }
  if (size_t depth = NestingDepth(request.body); depth > kMaxNestingDepth) {
    return reject(400,
                  kReasonInvalidJson,
                  "the body nests arrays and objects " + std::to_string(depth) +
                      " levels deep, more than the limit of " + std::to_string(kMaxNestingDepth),
                  "nesting depth " + std::to_string(depth));
  }
  json body;
  try {
    body = json::parse(request.body);
  } catch (const json::parse_error& e) {
    // The library's message quotes the last bytes read, so only the offset is logged.
    return reject(400,
                  kReasonInvalidJson,
                  std::string("the body is not valid JSON: ") + e.what(),
                  "parse error at byte " + std::to_string(e.byte));
  }
  TimePoint now = clock_->Now();
  Result<std::vector<StoreAlert>> alerts = options_.type == PayloadType::kJson
                                               ? ParseJsonBody(body, now)
                                               : ParseNotificationPayload(body, options_.type, now);
  if (!alerts.ok()) {
    return reject(400, kReasonInvalidPayload, alerts.error().message(), alerts.error().message());
  }
  for (StoreAlert& alert : *alerts) {
    LabelsBuilder labels(alert.labels);
    for (const Label& label : options_.labels) {
      labels.Set(label.name, label.value);
    }
    for (const std::string& name : options_.removed_labels) {
      labels.Del(name);
    }
    alert.labels = labels.Build();
  }
  size_t count = alerts->size();
  if (count > 0) {
    if (Status s = store_->PutReceived(std::move(alerts).value(), options_.name, options_.max_age);
        !s.ok()) {
      // The alerts are still routed (AlertStore::Put keeps them in memory), so the sender
      // needs no retry: 202 it is.
      Logger("inbound")->warn("Persisting webhook alerts failed endpoint={} alerts={} err={}",
                              LogValue(options_.name),
                              count,
                              LogValue(s.error().message()));
    }
  }
  EndpointResponse response;
  response.status = 202;
  response.alerts = count;
  response.body = json{{"status", "success"}, {"alerts", count}}.dump();
  return response;
}

}  // namespace alertd::inbound
