// SMTP transport seam of the email integration. Production code uses the libcurl sender;
// tests use it against a local SMTP server or pass a fake.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace alertd {

// One message for the SMTP envelope: MAIL FROM, one RCPT TO per recipient, and the DATA.
struct SmtpMessage {
  std::string from;                     // bare address, e.g. alertd@example.com
  std::vector<std::string> recipients;  // bare addresses
  std::string data;                     // headers and body with CRLF line ends
};

struct SmtpFailure {
  enum class Kind {
    kConnect,  // TCP connection failed: refused, unreachable, DNS
    kTimeout,
    kTls,         // TLS handshake or certificate failure
    kNoStartTls,  // STARTTLS is required but the server does not offer it
    kAuth,        // the server rejected the credentials
    kReply,       // the server rejected a command; reply_code is set
    kOther,
  };
  Kind kind = Kind::kOther;
  int reply_code = 0;   // the server's last SMTP reply code, 0 when there was none
  std::string message;  // never contains the password
};

// Connection settings of one smarthost, derived from config::EmailConfig.
struct SmtpEndpoint {
  std::string host;
  std::string port;
  std::string hello;              // EHLO name
  bool implicit_tls = false;      // smtps://, as Alertmanager uses for port 465
  bool require_starttls = false;  // fail when the server does not offer STARTTLS
  std::string username;           // empty: no AUTH
  std::string password;           // secret; for CRAM-MD5 the auth_secret
  std::string identity;           // PLAIN authorization identity
  config::TlsConfig tls;
  std::chrono::milliseconds timeout{30000};  // whole transaction, connect included
};

class SmtpSender {
 public:
  virtual ~SmtpSender() = default;

  // Delivers `message` in one SMTP transaction; nothing on success. Thread-safe.
  virtual std::optional<SmtpFailure> Send(const SmtpMessage& message) = 0;
};

// libcurl-backed sender. STARTTLS is used whenever the server offers it (CURLUSESSL_TRY), and
// is required with require_starttls (CURLUSESSL_ALL). Each Send uses its own easy handle.
std::unique_ptr<SmtpSender> MakeCurlSmtpSender(SmtpEndpoint endpoint);

}  // namespace alertd
