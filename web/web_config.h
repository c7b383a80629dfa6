// The web configuration file (--web.config.file, web.config_file): Prometheus's format from
// exporter-toolkit 0.8 (Prometheus 2.42) with tls_server_config, http_server_config and
// basic_auth_users, plus alertd's bearer_tokens and bearer_token_files. The HTTP server
// (web/http_server.h) applies it through HttpServerOptions::security.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/result.h"

namespace alertd {

// Go's tls.ClientAuthType, with the names exporter-toolkit accepts for client_auth_type.
enum class ClientAuthType {
  kNoClientCert,                // no certificate is requested
  kRequestClientCert,           // requested, not required, not verified
  kRequireAnyClientCert,        // required, not verified
  kVerifyClientCertIfGiven,     // not required, verified against client_ca_file when sent
  kRequireAndVerifyClientCert,  // required and verified against client_ca_file
};

// tls_server_config. File paths are resolved against the web config file's directory.
struct WebTlsConfig {
  std::string cert_file;  // PEM server certificate (chain); required
  std::string key_file;   // PEM private key; required
  ClientAuthType client_auth_type = ClientAuthType::kNoClientCert;
  std::string client_ca_file;  // PEM CA certificates that client certificates are checked with
  // Protocol versions as 0x0301 (TLS 1.0) .. 0x0304 (TLS 1.3); exporter-toolkit's defaults.
  int min_version = 0x0303;
  int max_version = 0x0304;
  // Go cipher suite names (tls.CipherSuites()), e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
  // empty: the library default. As in Go, they apply to TLS 1.2 and older only.
  std::vector<std::string> cipher_suites;
  bool prefer_server_cipher_suites = true;
  // Go curve names: CurveP256, CurveP384, CurveP521, X25519; empty: the library default.
  std::vector<std::string> curve_preferences;
};

// The parsed web configuration file. Secrets (bcrypt hashes, tokens) are kept as loaded.
struct WebServerSecurity {
  std::string file;  // the file it was loaded from, for logs
  // Set when tls_server_config names a certificate: the server then speaks HTTPS only.
  std::optional<WebTlsConfig> tls;
  bool http2 = true;  // http_server_config.http2; alertd serves HTTP/1.1 only either way
  // http_server_config.headers: added to every response, in file order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::map<std::string, std::string> basic_auth_users;  // user name to bcrypt hash
  // alertd extension: accepted "Authorization: Bearer <token>" values, from bearer_tokens
  // and from the files of bearer_token_files (one token per file, surrounding whitespace
  // trimmed).
  std::vector<std::string> bearer_tokens;

  // Whether requests must carry credentials (basic auth users or bearer tokens exist).
  bool RequiresAuthentication() const {
    return !basic_auth_users.empty() || !bearer_tokens.empty();
  }
};

// Reads and validates a web configuration file. Errors are kInvalidArgument with the message
// "FILE:LINE:COL: ..." (the position where known); unknown fields suggest a close known one.
// Certificate and key files are not read here: HttpServer::Create reads and checks them.
Result<WebServerSecurity> LoadWebConfigFile(const std::string& path);

// Parses web configuration text. `file` names it in errors, and relative paths in it are
// resolved against the directory of `file`.
Result<WebServerSecurity> ParseWebConfig(const std::string& text, const std::string& file);

// Checks the Authorization header of requests against a WebServerSecurity. Basic auth
// passwords are verified with bcrypt (libxcrypt); successful checks are cached, as
// exporter-toolkit does, so the bcrypt cost is paid once per user and password. Bearer tokens
// are compared in constant time. Thread-safe.
class WebAuthenticator {
 public:
  enum class Outcome {
    kAllowed,  // no authentication configured, or valid credentials
    kMissing,  // no usable Authorization header
    kDenied,   // credentials present but wrong
  };

  explicit WebAuthenticator(std::shared_ptr<const WebServerSecurity> security);

  // `authorization` is the request's Authorization header value ("" when absent).
  // `user` receives the basic auth user name or "bearer" for logs (never the secret).
  Outcome Check(std::string_view authorization, std::string* user = nullptr) const;

  const WebServerSecurity& security() const { return *security_; }

 private:
  bool CheckBasic(const std::string& user, const std::string& password) const;

  std::shared_ptr<const WebServerSecurity> security_;
  mutable std::mutex cache_mu_;
  mutable std::unordered_set<std::string> cache_;  // SHA-256 digests of verified credentials
};

// The OpenSSL cipher list ("A:B") for tls.cipher_suites, leaving out TLS 1.3 suites, which
// are not configurable (as in Go); empty when none is configured.
std::string OpenSslCipherList(const WebTlsConfig& tls);
// The OpenSSL group list ("P-256:X25519") for tls.curve_preferences; empty when none.
std::string OpenSslCurveList(const WebTlsConfig& tls);

// Whether `password` matches the bcrypt `hash` ($2a$, $2b$ or $2y$). Slow by design.
bool BcryptMatches(const std::string& password, const std::string& hash);

// Compares two strings in time that depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace alertd
