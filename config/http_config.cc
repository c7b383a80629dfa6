// http_config and tls_config, read and validated as prometheus/common's HTTPClientConfig and
// TLSConfig in the version Alertmanager 0.25 uses.
#include <algorithm>
#include <cctype>

#include "config/config_internal.h"

namespace alertd::config::internal {
namespace {

using yaml::Entry;
using yaml::Position;

const yaml::Schema kHttpSchema{"http_config",
                               {"basic_auth",
                                "authorization",
                                "bearer_token",
                                "bearer_token_file",
                                "proxy_url",
                                "tls_config",
                                "follow_redirects",
                                "enable_http2"},
                               {"oauth2"},
                               {}};

const yaml::Schema kBasicAuthSchema{
    "basic_auth", {"username", "password", "password_file"}, {}, {}};

const yaml::Schema kAuthorizationSchema{
    "authorization", {"type", "credentials", "credentials_file"}, {}, {}};

const yaml::Schema kTlsSchema{
    "tls_config",
    {"ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify", "min_version"},
    {"max_version"},
    {}};

// Returns why Go's url.Parse rejects `url`, or "".
std::string ProxyUrlProblem(std::string_view url) {
  if (url.starts_with(':')) {
    return "it has no scheme";
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return "it contains a control character";
    }
  }
  for (size_t i = url.find('%'); i != std::string_view::npos; i = url.find('%', i + 1)) {
    auto hex = [&](size_t at) {
      return at < url.size() && std::isxdigit(url[at]) != 0;
    };
    if (!hex(i + 1) || !hex(i + 2)) {
      return "it has a % not followed by two hexadecimal digits";
    }
  }
  return "";
}

}  // namespace

void Loader::LoadHttpConfig(const Entry& entry, HttpClientConfig& http) {
  if (entry.value.IsNull()) {
    return;  // an empty http_config keeps the global one, as in Alertmanager
  }
  http = HttpClientConfig{};
  yaml::Fields fields = yaml::ReadMapping(entry.value, kHttpSchema, Sink());
  const Entry* basic_auth = fields.Find("basic_auth");
  const Entry* authorization = fields.Find("authorization");
  const Entry* bearer = fields.Find("bearer_token");
  const Entry* bearer_file = fields.Find("bearer_token_file");
  if (basic_auth != nullptr && basic_auth->value.IsNull()) {
    basic_auth = nullptr;
  }
  if (authorization != nullptr && authorization->value.IsNull()) {
    authorization = nullptr;
  }

  // The legacy bearer token becomes the credentials of a Bearer authorization.
  std::string token;
  bool has_bearer = bearer != nullptr || bearer_file != nullptr;
  if (has_bearer) {
    ReadSecretPair(fields, "bearer_token", "bearer_token_file", token, nullptr, false);
  }
  if (basic_auth != nullptr && has_bearer) {
    Report((bearer != nullptr ? bearer : bearer_file)->key_position(),
           "at most one of basic_auth, bearer_token and bearer_token_file may be set in "
           "http_config; remove the others");
  }
  if (authorization != nullptr && has_bearer) {
    Report((bearer != nullptr ? bearer : bearer_file)->key_position(),
           "authorization cannot be combined with bearer_token or bearer_token_file; move the "
           "token to authorization credentials");
  }
  if (basic_auth != nullptr && authorization != nullptr) {
    Report(authorization->key_position(),
           "at most one of basic_auth and authorization may be set in http_config; remove one");
  }
  if (basic_auth != nullptr) {
    yaml::Fields auth = yaml::ReadMapping(basic_auth->value, kBasicAuthSchema, Sink());
    if (const Entry* username = auth.Find("username")) {
      http.basic_auth_username = yaml::ReadString(*username, Sink()).value_or("");
    }
    ReadSecretPair(auth, "password", "password_file", http.basic_auth_password, nullptr, false);
  }
  if (authorization != nullptr) {
    yaml::Fields auth = yaml::ReadMapping(authorization->value, kAuthorizationSchema, Sink());
    if (const Entry* type = auth.Find("type")) {
      std::string value = Trim(yaml::ReadString(*type, Sink()).value_or(""));
      std::string lower = value;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
      });
      if (lower == "basic") {
        Report(type->value_position(),
               "authorization type \"" + value + "\" is not allowed; use basic_auth instead");
      } else if (!value.empty()) {
        http.authorization_type = value;
      }
    }
    ReadSecretPair(
        auth, "credentials", "credentials_file", http.authorization_credentials, nullptr, false);
  } else if (!token.empty()) {
    http.authorization_credentials = token;
  }
  if (const Entry* proxy = fields.Find("proxy_url")) {
    std::string url = yaml::ReadString(*proxy, Sink()).value_or("");
    std::string problem = ProxyUrlProblem(url);
    if (!problem.empty()) {
      // A proxy URL may hold a password, so it is not shown.
      Report(proxy->value_position(), "proxy_url is not a valid URL: " + problem);
    } else {
      http.proxy_url = url;
    }
  }
  if (const Entry* follow = fields.Find("follow_redirects")) {
    http.follow_redirects = yaml::ReadBool(*follow, Sink()).value_or(true);
  }
  if (const Entry* http2 = fields.Find("enable_http2")) {
    // NOTE: accepted for compatibility; libcurl negotiates the HTTP version itself.
    yaml::ReadBool(*http2, Sink());
  }
  if (const Entry* tls = fields.Find("tls_config")) {
    LoadTlsConfig(*tls, http.tls_config);
  }
}

void Loader::LoadTlsConfig(const Entry& entry, TlsConfig& tls) {
  yaml::Fields fields = yaml::ReadMapping(entry.value, kTlsSchema, Sink());
  for (auto [key, target] : {std::pair{"ca_file", &tls.ca_file},
                             std::pair{"cert_file", &tls.cert_file},
                             std::pair{"key_file", &tls.key_file},
                             std::pair{"server_name", &tls.server_name}}) {
    if (const Entry* field = fields.Find(key)) {
      std::string value = yaml::ReadString(*field, Sink()).value_or("");
      // Files are relative to the file that names them, as in Alertmanager.
      bool is_path = std::string_view(key).ends_with("_file");
      *target = is_path && !value.empty() ? JoinPath(current_base_dir_, value) : value;
    }
  }
  if (const Entry* skip = fields.Find("insecure_skip_verify")) {
    tls.insecure_skip_verify = yaml::ReadBool(*skip, Sink()).value_or(false);
  }
  if (const Entry* version = fields.Find("min_version")) {
    std::string value = yaml::ReadString(*version, Sink()).value_or("");
    if (value != "TLS10" && value != "TLS11" && value != "TLS12" && value != "TLS13") {
      Report(version->value_position(),
             "unknown TLS version \"" + value +
                 "\" in min_version; use TLS10, TLS11, TLS12 or "
                 "TLS13");
    } else {
      tls.min_version = value;
    }
  }
}

}  // namespace alertd::config::internal
