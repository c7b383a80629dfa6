// Turns an http_config (prometheus/common's HTTPClientConfig) into what an HttpRequest carries:
// the Authorization header and the TLS options.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "common/http_client.h"
#include "config/config.h"

namespace alertd {

// Returns the Authorization header of `http`: Basic for basic_auth, else the authorization
// type and credentials (bearer_token included). Nothing when neither is set.
std::optional<std::pair<std::string, std::string>> AuthorizationHeader(
    const config::HttpClientConfig& http);

HttpTlsOptions TlsOptions(const config::TlsConfig& tls);

// Adds the Authorization header and the TLS options of `http` to `request`.
// NOTE: proxy_url and follow_redirects are not applied: HttpRequest has no field for them.
void ApplyHttpConfig(const config::HttpClientConfig& http, HttpRequest& request);

// Standard base64 with padding (RFC 4648 section 4).
std::string Base64Encode(std::string_view text);

}  // namespace alertd
