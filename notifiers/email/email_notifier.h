// Email integration, sending mail as Alertmanager 0.25's notify/email does:
//   - MAIL FROM is the address of the expanded `from`, and there is one RCPT TO per address of
//     the expanded `to` (a comma-separated list, e.g. "Ops <ops@example.com>, dev@example.com");
//   - the headers are the expanded `headers` templates, each value stripped of CR and LF and
//     RFC 2047-encoded when not plain ASCII; Subject, To and From default to
//     '{{ template "email.default.subject" . }}', `to` and `from` when absent; then Message-Id
//     (unless a header sets it), Date, Content-Type multipart/alternative and MIME-Version;
//   - the body has a text/plain part when `text` is set, then a text/html part from `html`
//     (default '{{ template "email.default.html" . }}'), both quoted-printable.
// The smarthost's port 465 means implicit TLS (smtps); otherwise STARTTLS is used when the
// server offers it, and required when require_tls is true.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/result.h"
#include "config/config.h"
#include "notifiers/email/smtp_sender.h"
#include "notifiers/notifier.h"

namespace alertd {

class NotificationTemplates;

struct EmailNotifierOptions {
  // Default: NotificationTemplates::Defaults(), which define email.default.subject and
  // email.default.html.
  std::shared_ptr<const NotificationTemplates> templates;
  std::shared_ptr<const Clock> clock;  // default: SystemClock; stamps Date and Message-Id
  // Default: the libcurl sender for the config's smarthost. Tests pass a fake.
  std::shared_ptr<SmtpSender> sender;
  std::string hostname;     // Message-Id's domain; default: gethostname(), else "localhost"
  Duration timeout{30000};  // one SMTP transaction, connect included
};

class EmailNotifier final : public Notifier {
 public:
  // Fails when to, from or smarthost is empty, smarthost is not host:port, a header name is
  // invalid or repeated (names compare case-insensitively), tls_config has a certificate
  // without its key or the other way round, or a template does not parse.
  static Result<std::unique_ptr<EmailNotifier>> Create(config::EmailConfig config,
                                                       EmailNotifierOptions options = {});

  // Returns the SMTP envelope and the message, or the error of a template that failed to
  // execute or of an address that does not parse.
  Result<SmtpMessage> Render(const Notification& notification) const;

  // Turns a failed transaction into an error, by RFC 5321's reply classes: a 4xx reply is a
  // temporary failure (retryable, reason "server"), a 5xx reply a permanent one (not
  // retryable, reason "client", or "auth" for a rejected login). Connection failures and
  // timeouts are retryable; TLS failures are not, because they need a config change.
  NotifyError Classify(const SmtpFailure& failure) const;

  // notify::Notifier
  std::string_view integration() const override { return "email"; }

  bool send_resolved() const override { return config_.send_resolved; }

  std::optional<NotifyError> Notify(const Notification& notification) override;

 private:
  EmailNotifier(config::EmailConfig config, EmailNotifierOptions options)
      : config_(std::move(config)), options_(std::move(options)) {}

  Result<std::string> Expand(std::string_view field,
                             const std::string& text,
                             const nlohmann::json& data) const;

  Result<std::string> RenderHeaders(const nlohmann::json& data) const;

  config::EmailConfig config_;  // headers hold canonical names and the defaults
  EmailNotifierOptions options_;
};

// Splits a comma-separated address list as Go's mail.ParseAddressList reads one, returning
// the bare addresses ("Ops <ops@example.com>" gives "ops@example.com"). Fails on an empty
// list or an address without a local part and a domain; `field` names the list in errors.
Result<std::vector<std::string>> ParseAddressList(std::string_view list, std::string_view field);

// Splits "host:port", as Go's net.SplitHostPort; IPv6 hosts are bracketed ("[::1]:25").
Result<std::pair<std::string, std::string>> SplitSmarthost(std::string_view smarthost);

}  // namespace alertd
