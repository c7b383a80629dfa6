#include "notifiers/email/email_notifier.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <map>
#include <random>
#include <utility>

#include "notifiers/email/mime.h"
#include "notifiers/payload.h"
#include "notifiers/templates.h"
#include "rules/template.h"

namespace alertd {

namespace {

constexpr std::string_view kDefaultSubject = R"({{ template "email.default.subject" . }})";
constexpr std::string_view kDefaultHtml = R"({{ template "email.default.html" . }})";

// Go's RFC 1123 with a numeric zone, the Date format of Alertmanager's mail, in UTC.
std::string FormatRfc1123Z(TimePoint t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  std::array<char, 64> buffer{};
  std::strftime(buffer.data(), buffer.size(), "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buffer.data();
}

std::string LocalHostname() {
  std::array<char, 256> buffer{};
  if (::gethostname(buffer.data(), buffer.size() - 1) != 0 || buffer[0] == '\0') {
    return "localhost";
  }
  return buffer.data();
}

uint64_t RandomUint64() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return generator();
}

// 30 random bytes in hex, as Go's multipart.Writer picks its boundary.
std::string RandomBoundary() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string boundary;
  for (int i = 0; i < 4; ++i) {
    uint64_t bits = RandomUint64();
    for (int k = 0; k < 16 && boundary.size() < 60; ++k) {
      boundary += kHex[bits & 0xf];
      bits >>= 4;
    }
  }
  return boundary;
}

std::string_view Trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) {
    return {};
  }
  size_t end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

// Splits at commas outside double quotes and angle brackets.
std::vector<std::string_view> SplitAddresses(std::string_view list) {
  std::vector<std::string_view> parts;
  bool quoted = false;
  bool angle = false;
  size_t start = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    char c = list[i];
    if (c == '\\' && quoted) {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == '<' && !quoted) {
      angle = true;
    } else if (c == '>' && !quoted) {
      angle = false;
    } else if (c == ',' && !quoted && !angle) {
      parts.push_back(list.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(list.substr(start));
  return parts;
}

Result<std::string> ParseAddress(std::string_view entry, std::string_view field) {
  std::string_view text = Trim(entry);
  std::string_view address = text;
  if (size_t open = text.rfind('<'); open != std::string_view::npos) {
    size_t close = text.find('>', open);
    if (close == std::string_view::npos || Trim(text.substr(close + 1)).size() > 0) {
      return Error::Invalid("email " + std::string(field) + " address \"" + std::string(text) +
                            "\" is invalid: a '<' has no matching '>' at the end.");
    }
    address = Trim(text.substr(open + 1, close - open - 1));
  }
  size_t at = address.rfind('@');
  bool valid = at != std::string_view::npos && at > 0 && at + 1 < address.size() &&
               address.find_first_of(" \t\r\n<>,\"") == std::string_view::npos;
  if (!valid) {
    return Error::Invalid("email " + std::string(field) + " address \"" + std::string(text) +
                          "\" is invalid: expected local-part@domain, optionally as "
                          "\"Name <local-part@domain>\".");
  }
  return std::string(address);
}

Status ParseTemplate(std::string_view what, const std::string& text) {
  ParseOptions options;
  options.dialect = TemplateDialect::kAlertmanager;
  auto parsed = Template::Parse(what, text, options);
  if (!parsed.ok()) {
    return Error::Invalid(
        "email " + std::string(what) + " template is invalid: " + parsed.error().message(),
        parsed.error().line(),
        parsed.error().column());
  }
  return Status::Ok();
}

// Canonical header names with Alertmanager's defaults for Subject, To and From.
Result<std::map<std::string, std::string>> NormalizeHeaders(const config::EmailConfig& config) {
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : config.headers) {
    std::string canonical = CanonicalHeaderName(name);
    if (canonical.empty()) {
      return Error::Invalid("email header name \"" + StripLineBreaks(name) +
                            "\" is invalid: use letters, digits and '-', as in X-Team.");
    }
    if (!headers.emplace(canonical, value).second) {
      return Error::Invalid("email header \"" + canonical +
                            "\" is set twice (names are case-insensitive): keep one of them.");
    }
  }
  headers.emplace("Subject", kDefaultSubject);
  headers.emplace("To", config.to);
  headers.emplace("From", config.from);
  return headers;
}

Status ValidateConfig(const config::EmailConfig& config) {
  if (config.to.empty()) {
    return Error::Invalid("email to is empty: set email_configs[].to to one or more addresses.");
  }
  if (config.from.empty()) {
    return Error::Invalid("email from is empty: set email_configs[].from or global.smtp_from.");
  }
  if (config.smarthost.empty()) {
    return Error::Invalid(
        "email smarthost is empty: set email_configs[].smarthost or global.smtp_smarthost.");
  }
  auto host_port = SplitSmarthost(config.smarthost);
  if (!host_port.ok()) {
    return host_port.error();
  }
  const config::TlsConfig& tls = config.tls_config;
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return Error::Invalid(
        "email tls_config sets only one of cert_file and key_file: set both or neither.");
  }
  return Status::Ok();
}

SmtpEndpoint MakeEndpoint(const config::EmailConfig& config, Duration timeout) {
  auto [host, port] = SplitSmarthost(config.smarthost).value();
  SmtpEndpoint endpoint;
  endpoint.host = host;
  endpoint.port = port;
  endpoint.hello = config.hello.empty() ? "localhost" : config.hello;
  endpoint.implicit_tls = port == "465";
  endpoint.require_starttls = config.require_tls.value_or(true);
  endpoint.username = config.auth_username;
  endpoint.password = config.auth_password.empty() ? config.auth_secret : config.auth_password;
  endpoint.identity = config.auth_identity;
  endpoint.tls = config.tls_config;
  endpoint.timeout = timeout;
  return endpoint;
}

}  // namespace

Result<std::pair<std::string, std::string>> SplitSmarthost(std::string_view smarthost) {
  std::string_view host;
  std::string_view port;
  if (smarthost.starts_with("[")) {
    size_t close = smarthost.find(']');
    if (close != std::string_view::npos && smarthost.substr(close + 1, 1) == ":") {
      host = smarthost.substr(1, close - 1);
      port = smarthost.substr(close + 2);
    }
  } else if (size_t colon = smarthost.rfind(':');
             colon != std::string_view::npos && smarthost.find(':') == colon) {
    host = smarthost.substr(0, colon);
    port = smarthost.substr(colon + 1);
  }
  bool numeric = !port.empty() && port.size() <= 5 &&
                 port.find_first_not_of("0123456789") == std::string_view::npos;
  if (host.empty() || !numeric || std::stoi(std::string(port)) > 65535) {
    return Error::Invalid("email smarthost \"" + std::string(smarthost) +
                          "\" is invalid: expected host:port, e.g. smtp.example.com:587.");
  }
  return std::pair{std::string(host), std::string(port)};
}

Result<std::vector<std::string>> ParseAddressList(std::string_view list, std::string_view field) {
  if (Trim(list).empty()) {
    return Error::Invalid("email " + std::string(field) +
                          " is empty after expanding its template: it must give an address.");
  }
  std::vector<std::string> addresses;
  for (std::string_view entry : SplitAddresses(list)) {
    auto address = ParseAddress(entry, field);
    if (!address.ok()) {
      return address.error();
    }
    addresses.push_back(std::move(address).value());
  }
  return addresses;
}

Result<std::unique_ptr<EmailNotifier>> EmailNotifier::Create(config::EmailConfig config,
                                                             EmailNotifierOptions options) {
  Status valid = ValidateConfig(config);
  if (!valid.ok()) {
    return valid.error();
  }
  auto headers = NormalizeHeaders(config);
  if (!headers.ok()) {
    return headers.error();
  }
  config.headers = std::move(headers).value();
  if (config.html.empty()) {
    config.html = kDefaultHtml;
  }
  for (const auto& [name, value] : config.headers) {
    Status parsed = ParseTemplate("header \"" + name + "\"", value);
    if (!parsed.ok()) {
      return parsed.error();
    }
  }
  for (const auto& [field, text] : {std::pair{"to", &config.to},
                                    {"from", &config.from},
                                    {"html", &config.html},
                                    {"text", &config.text}}) {
    Status parsed = ParseTemplate(field, *text);
    if (!parsed.ok()) {
      return parsed.error();
    }
  }

  if (!options.templates) {
    options.templates = NotificationTemplates::Defaults();
  }
  if (!options.clock) {
    options.clock = std::make_shared<SystemClock>();
  }
  if (options.hostname.empty()) {
    options.hostname = LocalHostname();
  }
  if (!options.sender) {
    options.sender = MakeCurlSmtpSender(MakeEndpoint(config, options.timeout));
  }
  return std::unique_ptr<EmailNotifier>(new EmailNotifier(std::move(config), std::move(options)));
}

Result<std::string> EmailNotifier::Expand(std::string_view field,
                                          const std::string& text,
                                          const nlohmann::json& data) const {
  auto expanded = options_.templates->Expand(text, data);
  if (!expanded.ok()) {
    return expanded.error().WithContext("expanding the email " + std::string(field) +
                                        " template failed");
  }
  return expanded;
}

Result<std::string> EmailNotifier::RenderHeaders(const nlohmann::json& data) const {
  std::string out;
  for (const auto& [name, text] : config_.headers) {
    auto value = Expand("header \"" + name + "\"", text, data);
    if (!value.ok()) {
      return value.error();
    }
    out += name + ": " + EncodeHeaderWord(StripLineBreaks(*value)) + "\r\n";
  }
  if (!config_.headers.contains("Message-Id")) {
    auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
        options_.clock->Now().time_since_epoch());
    out += "Message-Id: <" + std::to_string(nanos.count()) + "." + std::to_string(RandomUint64()) +
           "@" + options_.hostname + ">\r\n";
  }
  out += "Date: " + FormatRfc1123Z(options_.clock->Now()) + "\r\n";
  return out;
}

Result<SmtpMessage> EmailNotifier::Render(const Notification& notification) const {
  nlohmann::json data = TemplateData(notification);
  SmtpMessage message;

  auto from = Expand("from", config_.from, data);
  if (!from.ok()) {
    return from.error();
  }
  auto from_addresses = ParseAddressList(*from, "from");
  if (!from_addresses.ok()) {
    return from_addresses.error();
  }
  if (from_addresses->size() != 1) {
    return Error::Invalid("email from \"" + *from +
                          "\" gives more than one address: set exactly one sender.");
  }
  message.from = from_addresses->front();

  auto to = Expand("to", config_.to, data);
  if (!to.ok()) {
    return to.error();
  }
  auto recipients = ParseAddressList(*to, "to");
  if (!recipients.ok()) {
    return recipients.error();
  }
  message.recipients = std::move(recipients).value();

  auto headers = RenderHeaders(data);
  if (!headers.ok()) {
    return headers.error();
  }
  std::vector<MimePart> parts;
  if (!config_.text.empty()) {
    auto text = Expand("text", config_.text, data);
    if (!text.ok()) {
      return text.error();
    }
    parts.push_back({"text/plain; charset=UTF-8", std::move(text).value()});
  }
  // RFC 2046 section 5.1.4: the preferred alternative, HTML, comes last.
  // NOTE: Alertmanager executes `html` with Go's html/template, which escapes every value for
  // HTML. Expand does not, so a custom `html` template must escape values itself.
  auto html = Expand("html", config_.html, data);
  if (!html.ok()) {
    return html.error();
  }
  parts.push_back({"text/html; charset=UTF-8", std::move(html).value()});

  std::string boundary = RandomBoundary();
  message.data = *headers;
  // Alertmanager 0.25 writes two spaces before boundary=.
  message.data += "Content-Type: multipart/alternative;  boundary=" + boundary + "\r\n";
  message.data += "MIME-Version: 1.0\r\n\r\n";
  message.data += WriteMultipart(boundary, parts);
  return message;
}

NotifyError EmailNotifier::Classify(const SmtpFailure& failure) const {
  NotifyError error;
  const std::string target = "SMTP server " + config_.smarthost;
  switch (failure.kind) {
    case SmtpFailure::Kind::kConnect:
      error = {true, FailureReason::kTransport, "connecting to " + target + " failed: ", {}};
      break;
    case SmtpFailure::Kind::kTimeout:
      error = {
          true, FailureReason::kTimeout, "sending mail through " + target + " timed out: ", {}};
      break;
    case SmtpFailure::Kind::kNoStartTls:
      error = {false,
               FailureReason::kClient,
               "'require_tls' is true (default) but \"" + config_.smarthost +
                   "\" does not advertise the STARTTLS extension: enable STARTTLS on the server "
                   "or set require_tls: false",
               {}};
      return error;
    case SmtpFailure::Kind::kTls:
      error = {false, FailureReason::kClient, "TLS with " + target + " failed: ", {}};
      break;
    case SmtpFailure::Kind::kAuth:
      error = {false,
               FailureReason::kAuth,
               "authentication as \"" + config_.auth_username + "\" with " + target + " failed: ",
               {}};
      break;
    case SmtpFailure::Kind::kReply: {
      const bool temporary = failure.reply_code >= 400 && failure.reply_code < 500;
      FailureReason reason = temporary ? FailureReason::kServer : FailureReason::kClient;
      if (failure.reply_code == 530 || failure.reply_code == 535) {
        reason = FailureReason::kAuth;
      }
      error = {
          temporary,
          reason,
          target + " rejected the mail with reply " + std::to_string(failure.reply_code) + ": ",
          {}};
      break;
    }
    case SmtpFailure::Kind::kOther:
      error = {true, FailureReason::kTransport, "sending mail through " + target + " failed: ", {}};
      break;
  }
  error.message += failure.message;
  return error;
}

std::optional<NotifyError> EmailNotifier::Notify(const Notification& notification) {
  Result<SmtpMessage> message = Render(notification);
  if (!message.ok()) {
    return NotifyError{
        .retryable = false,
        .reason = FailureReason::kClient,
        .message = message.error().message(),
        .retry_after = std::nullopt,
    };
  }
  std::optional<SmtpFailure> failure = options_.sender->Send(*message);
  if (!failure) {
    return std::nullopt;
  }
  return Classify(*failure);
}

}  // namespace alertd
