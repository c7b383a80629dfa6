#include "notifiers/http_options.h"

#include <cstdint>

namespace alertd {

std::string Base64Encode(std::string_view text) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((text.size() + 2) / 3 * 4);
  for (size_t i = 0; i < text.size(); i += 3) {
    const size_t left = text.size() - i;
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(text[i])) << 16;
    if (left > 1) {
      n |= static_cast<uint32_t>(static_cast<unsigned char>(text[i + 1])) << 8;
    }
    if (left > 2) {
      n |= static_cast<unsigned char>(text[i + 2]);
    }
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += left > 1 ? kAlphabet[(n >> 6) & 63] : '=';
    out += left > 2 ? kAlphabet[n & 63] : '=';
  }
  return out;
}

std::optional<std::pair<std::string, std::string>> AuthorizationHeader(
    const config::HttpClientConfig& http) {
  if (!http.basic_auth_username.empty()) {
    return std::pair<std::string, std::string>(
        "Authorization",
        "Basic " + Base64Encode(http.basic_auth_username + ":" + http.basic_auth_password));
  }
  if (!http.authorization_credentials.empty()) {
    return std::pair<std::string, std::string>(
        "Authorization", http.authorization_type + " " + http.authorization_credentials);
  }
  return std::nullopt;
}

HttpTlsOptions TlsOptions(const config::TlsConfig& tls) {
  HttpTlsOptions options;
  options.ca_file = tls.ca_file;
  options.cert_file = tls.cert_file;
  options.key_file = tls.key_file;
  options.insecure_skip_verify = tls.insecure_skip_verify;
  options.min_version = tls.min_version;
  return options;
}

void ApplyHttpConfig(const config::HttpClientConfig& http, HttpRequest& request) {
  if (auto header = AuthorizationHeader(http)) {
    request.headers.push_back(std::move(*header));
  }
  request.tls = TlsOptions(http.tls_config);
}

}  // namespace alertd
