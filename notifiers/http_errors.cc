#include "notifiers/http_errors.h"

#include <charconv>

namespace alertd {

namespace {

// Peers' error bodies can be whole HTML pages, and a prefix is enough to tell what went wrong.
constexpr size_t kMaxBodyInMessage = 256;

constexpr size_t kMinSecretPathLength = 8;

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  if (from.empty()) {
    return;
  }
  size_t pos = 0;
  while ((pos = text.find(from, pos)) != std::string::npos) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
}

std::string BodyExcerpt(std::string_view body) {
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r' || body.back() == ' ')) {
    body.remove_suffix(1);
  }
  if (body.size() <= kMaxBodyInMessage) {
    return std::string(body);
  }
  return std::string(body.substr(0, kMaxBodyInMessage)) + "...";
}

}  // namespace

std::string ScrubSecret(std::string message, std::string_view secret) {
  if (secret.empty()) {
    return message;
  }
  ReplaceAll(message, secret, RedactUrl(secret));
  // The path and query of a webhook URL carry its token, and a peer may echo only those. A short
  // path such as "/hook" is no token, and replacing it would mangle ordinary words.
  size_t scheme = secret.find("://");
  size_t path = secret.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  if (path != std::string_view::npos && secret.size() - path - 1 > kMinSecretPathLength) {
    ReplaceAll(message, secret.substr(path + 1), "<redacted>");
  }
  return message;
}

std::optional<Duration> ParseRetryAfter(std::string_view header) {
  while (!header.empty() && header.front() == ' ') {
    header.remove_prefix(1);
  }
  while (!header.empty() && header.back() == ' ') {
    header.remove_suffix(1);
  }
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(header.data(), header.data() + header.size(), seconds);
  if (header.empty() || ec != std::errc() || end != header.data() + header.size() || seconds < 0) {
    return std::nullopt;
  }
  return std::chrono::duration_cast<Duration>(std::chrono::seconds(seconds));
}

std::optional<NotifyError> ClassifyHttpResult(const Result<HttpResponse>& result,
                                              std::string_view peer,
                                              std::string_view url) {
  std::string target = std::string(peer) + " " + RedactUrl(url);
  if (!result.ok()) {
    NotifyError error;
    error.retryable = true;
    if (result.error().code() == ErrorCode::kTimeout) {
      error.reason = FailureReason::kTimeout;
      error.message = "request to " + target + " timed out: " + result.error().message();
    } else {
      error.reason = FailureReason::kTransport;
      error.message = "request to " + target + " failed: " + result.error().message();
    }
    error.message = ScrubSecret(std::move(error.message), url);
    return error;
  }
  const HttpResponse& response = *result;
  if (response.status >= 200 && response.status < 300) {
    return std::nullopt;
  }
  NotifyError error;
  if (response.status == 429) {
    error.retryable = true;
    error.reason = FailureReason::kRateLimited;
    error.retry_after = ParseRetryAfter(response.Header("retry-after"));
  } else if (response.status >= 500) {
    error.retryable = true;
    error.reason = FailureReason::kServer;
  } else if (response.status == 401 || response.status == 403) {
    error.reason = FailureReason::kAuth;
  } else {
    error.reason = FailureReason::kClient;
  }
  error.message = target + " returned HTTP status " + std::to_string(response.status);
  std::string body = BodyExcerpt(response.body);
  if (!body.empty()) {
    error.message += ": " + body;
  }
  error.message = ScrubSecret(std::move(error.message), url);
  return error;
}

}  // namespace alertd
