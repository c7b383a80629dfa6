// HTTP client seam. Production code uses the libcurl implementation; tests either run a local
// server on 127.0.0.1 or pass a fake.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace alertd {

// TLS settings of one request, as prometheus/common's tls_config. Empty fields keep
// libcurl's defaults (the system CA bundle, no client certificate).
struct HttpTlsOptions {
  std::string ca_file;    // PEM file of CA certificates that verify the server
  std::string cert_file;  // PEM client certificate, with key_file
  std::string key_file;
  bool insecure_skip_verify = false;  // skips verification of the server's certificate and name
  std::string min_version;            // "TLS10", "TLS11", "TLS12" or "TLS13"; empty: default
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{10000};
  // Limit on the response body; a larger body fails the request unless truncate_large_body
  // is set. Reading stops at the limit either way, so a larger body is never buffered.
  size_t max_response_bytes = 64 << 20;
  // With true, a body over max_response_bytes returns the response with body_truncated set
  // and at most max_response_bytes of the body, instead of failing the request.
  bool truncate_large_body = false;
  HttpTlsOptions tls;  // applies to https:// URLs
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  // The body was longer than HttpRequest::max_response_bytes and reading stopped at the limit
  // (only with HttpRequest::truncate_large_body).
  bool body_truncated = false;

  // Returns the first header named `name` (lower case), or an empty string.
  std::string Header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) {
        return value;
      }
    }
    return {};
  }
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Performs the request. A transport failure (connection refused, DNS, TLS) is kUnavailable
  // and a timeout is kTimeout; any HTTP status, 5xx included, is a successful result. Error
  // messages never contain the URL, because webhook URLs are secrets. Thread-safe.
  // A body over max_response_bytes is kUnavailable unless the request sets
  // truncate_large_body; a URL that is not http:// or https://,
  // or that libcurl cannot parse, is kInvalidArgument. Redirects are followed (at most 10).
  virtual Result<HttpResponse> Do(const HttpRequest& request) = 0;
};

// libcurl-backed client. Thread-safe: each call uses its own easy handle.
std::unique_ptr<HttpClient> MakeCurlHttpClient();

// Returns the URL with user info, path and query replaced by "<redacted>" when it may carry a
// secret (scheme://host[:port]/<redacted>), for log lines and error messages.
std::string RedactUrl(std::string_view url);

}  // namespace alertd
