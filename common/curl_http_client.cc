#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <curl/curl.h>

#include "common/http_client.h"

namespace alertd {
namespace {

constexpr std::string_view kRedacted = "<redacted>";

// curl_global_init must precede every other libcurl call and is thread-safe only in builds
// with CURL_VERSION_THREADSAFE, so call_once runs it exactly once.
void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_ALL); });
}

struct EasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// State shared with the write and header callbacks of one transfer.
struct Transfer {
  HttpResponse response;
  size_t max_body = 0;
  bool truncate = false;  // keep the first max_body bytes of a larger body
  bool body_too_large = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  if (transfer->response.body.size() + bytes > transfer->max_body) {
    transfer->body_too_large = true;
    if (transfer->truncate) {
      transfer->response.body.append(data, transfer->max_body - transfer->response.body.size());
    }
    return 0;  // makes libcurl abort the transfer with CURLE_WRITE_ERROR
  }
  transfer->response.body.append(data, bytes);
  return bytes;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  std::string_view line(data, bytes);
  // Each response of a redirect chain (and a 100 Continue) starts with a status line, so only
  // the headers of the last response are kept.
  if (line.starts_with("HTTP/")) {
    transfer->response.headers.clear();
    return bytes;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return bytes;  // the blank line that ends the headers, or a malformed line
  }
  std::string name(Trim(line.substr(0, colon)));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  transfer->response.headers.emplace_back(std::move(name),
                                          std::string(Trim(line.substr(colon + 1))));
  return bytes;
}

// Returns libcurl's detailed error text, or the generic text for `code` when the detailed one
// quotes the user info, path or query of `url`, which may be secret.
std::string DescribeError(CURLcode code, const char* error_buffer, std::string_view url) {
  std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == '\r')) {
    detail.pop_back();
  }
  // libcurl adds the elapsed time ("port 9 after 2 ms: ..."). Dropping it keeps the message
  // of a repeated failure identical, so callers that log on a change of error log it once.
  if (size_t after = detail.find(" after "); after != std::string::npos) {
    size_t digits = after + 7;
    size_t end = digits;
    while (end < detail.size() && detail[end] >= '0' && detail[end] <= '9') {
      ++end;
    }
    if (end > digits && detail.compare(end, 3, " ms") == 0) {
      detail.erase(after, end + 3 - after);
    }
  }
  std::vector<std::string_view> secrets;
  size_t scheme_end = url.find("://");
  size_t authority_start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  size_t path_start = url.find_first_of("/?#", authority_start);
  std::string_view authority = url.substr(
      authority_start,
      path_start == std::string_view::npos ? std::string_view::npos : path_start - authority_start);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    secrets.push_back(authority.substr(0, at));
  }
  if (path_start != std::string_view::npos && url.size() - path_start > 1) {
    secrets.push_back(url.substr(path_start));
  }
  for (std::string_view secret : secrets) {
    if (!secret.empty() && detail.find(secret) != std::string::npos) {
      return curl_easy_strerror(code);
    }
  }
  return detail;
}

void SetTlsOptions(CURL* curl, const HttpTlsOptions& tls) {
  if (!tls.ca_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, tls.ca_file.c_str());
  }
  if (!tls.cert_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, tls.cert_file.c_str());
  }
  if (!tls.key_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLKEY, tls.key_file.c_str());
  }
  if (tls.insecure_skip_verify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  long version = CURL_SSLVERSION_DEFAULT;
  if (tls.min_version == "TLS10") {
    version = CURL_SSLVERSION_TLSv1_0;
  } else if (tls.min_version == "TLS11") {
    version = CURL_SSLVERSION_TLSv1_1;
  } else if (tls.min_version == "TLS12") {
    version = CURL_SSLVERSION_TLSv1_2;
  } else if (tls.min_version == "TLS13") {
    version = CURL_SSLVERSION_TLSv1_3;
  }
  if (version != CURL_SSLVERSION_DEFAULT) {
    curl_easy_setopt(curl, CURLOPT_SSLVERSION, version);
  }
}

class CurlHttpClient final : public HttpClient {
 public:
  Result<HttpResponse> Do(const HttpRequest& request) override;
};

Result<HttpResponse> CurlHttpClient::Do(const HttpRequest& request) {
  InitCurlOnce();
  std::unique_ptr<CURL, EasyDeleter> handle(curl_easy_init());
  if (!handle) {
    return Error::Internal("HTTP request failed: curl_easy_init returned no handle");
  }
  CURL* curl = handle.get();
  Transfer transfer;
  transfer.max_body = request.max_response_bytes;
  transfer.truncate = request.truncate_large_body;
  char error_buffer[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  // Without NOSIGNAL, a DNS timeout raises SIGALRM, which is not safe in a threaded process.
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "alertd");
  // An empty string requests every encoding this libcurl can decode, and it decodes the body.
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(
      curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.max_response_bytes));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);

  if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (request.method != "GET" && request.method != "HEAD" &&
      (!request.body.empty() || request.method == "POST" || request.method == "PUT")) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(
        curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }

  SetTlsOptions(curl, request.tls);

  curl_slist* raw_headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    std::string line = name + ": " + value;
    raw_headers = curl_slist_append(raw_headers, line.c_str());
  }
  // Without this, libcurl waits up to a second for "100 Continue" before sending a large body.
  raw_headers = curl_slist_append(raw_headers, "Expect:");
  std::unique_ptr<curl_slist, SlistDeleter> headers(raw_headers);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());

  CURLcode code = curl_easy_perform(curl);
  if ((transfer.body_too_large || code == CURLE_FILESIZE_EXCEEDED) && request.truncate_large_body) {
    // libcurl rejects a Content-Length over the limit before reading the body, so the body
    // may be empty; the status line has been read either way.
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    transfer.response.status = static_cast<int>(status);
    transfer.response.body_truncated = true;
    return std::move(transfer.response);
  }
  if (transfer.body_too_large || code == CURLE_FILESIZE_EXCEEDED) {
    return Error::Unavailable("HTTP response body exceeds the limit of " +
                              std::to_string(request.max_response_bytes) + " bytes");
  }
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return Error::Timeout("HTTP request timed out after " +
                          std::to_string(request.timeout.count()) + "ms");
  }
  if (code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL) {
    return Error::Invalid(
        "invalid HTTP request URL: " + DescribeError(code, error_buffer, request.url) +
        ": use an http:// or https:// URL");
  }
  if (code != CURLE_OK) {
    return Error::Unavailable("HTTP request failed: " +
                              DescribeError(code, error_buffer, request.url));
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  transfer.response.status = static_cast<int>(status);
  return std::move(transfer.response);
}

}  // namespace

std::unique_ptr<HttpClient> MakeCurlHttpClient() {
  return std::make_unique<CurlHttpClient>();
}

std::string RedactUrl(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) {
    return url.empty() ? std::string() : std::string(kRedacted);
  }
  size_t authority_start = scheme_end + 3;
  size_t path_start = url.find_first_of("/?#", authority_start);
  std::string_view authority = url.substr(
      authority_start,
      path_start == std::string_view::npos ? std::string_view::npos : path_start - authority_start);
  std::string_view rest = path_start == std::string_view::npos ? "" : url.substr(path_start);
  size_t at = authority.rfind('@');
  bool has_user_info = at != std::string_view::npos;
  std::string_view host = has_user_info ? authority.substr(at + 1) : authority;
  if (!has_user_info && (rest.empty() || rest == "/")) {
    return std::string(url);
  }
  std::string out(url.substr(0, authority_start));
  out += host;
  out += '/';
  out += kRedacted;
  return out;
}

}  // namespace alertd
