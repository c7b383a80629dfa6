// Classification of HTTP outcomes into NotifyError, shared by the HTTP integrations.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/http_client.h"
#include "common/result.h"
#include "notifiers/notifier.h"

namespace alertd {

// Classifies the outcome of one request to `peer` (a display name such as "Slack webhook"):
//   2xx: success (nothing returned);
//   429: rate limited, retryable, with retry_after from a Retry-After header in seconds;
//   401, 403: auth, not retryable;  other 4xx (and 1xx, 3xx): client, not retryable;
//   5xx: server, retryable;  kTimeout: timeout, retryable;  other errors: transport, retryable.
// Messages name `url` only through RedactUrl and have every occurrence of `url` itself replaced
// by its redacted form, even where the peer echoed it back in a response body.
std::optional<NotifyError> ClassifyHttpResult(const Result<HttpResponse>& result,
                                              std::string_view peer,
                                              std::string_view url);

// Returns `message` with every occurrence of `secret` replaced by RedactUrl(secret), and of its
// part after the host by "<redacted>" when that part is longer than 8 characters. An empty
// `secret` leaves `message` unchanged.
std::string ScrubSecret(std::string message, std::string_view secret);

// Parses a Retry-After header given in seconds ("120"); the HTTP-date form and anything else
// yield nothing.
std::optional<Duration> ParseRetryAfter(std::string_view header);

}  // namespace alertd
