// Prometheus 2.42's query API over alertd's own sample store: /api/v1/query,
// /api/v1/query_range, /api/v1/series, /api/v1/labels and /api/v1/label/NAME/values, with
// Prometheus's parameters, limits, error types and error texts. Queries run with
// ApiSources::engine (max_samples and timeout from alertd.yml's `query` section).
#pragma once

#include <cstdint>
#include <string_view>

#include "app/api.h"
#include "common/result.h"
#include "web/http_server.h"

namespace alertd {

// Registers the query endpoints (GET and POST) on `server`. They return an empty result
// while sources->storage is null. `sources` must outlive the server.
void RegisterQueryApi(HttpServer& server, const ApiSources* sources);

// Parses a time parameter as Prometheus's API does: Unix seconds with an optional fraction
// (rounded to milliseconds), or RFC 3339 with an optional fraction and a zone. Returns
// milliseconds since the epoch. Error: `cannot parse "TEXT" to a valid timestamp`.
Result<int64_t> ParseApiTime(std::string_view text);

// Parses a duration parameter: float seconds ("1.5") or a Prometheus duration ("1m30s").
// Returns milliseconds. Error: `cannot parse "TEXT" to a valid duration`.
Result<int64_t> ParseApiDuration(std::string_view text);

}  // namespace alertd
