// A QuerySource that sends each expression to a Prometheus-compatible HTTP API, as vmalert and
// the Thanos ruler do: POST /api/v1/query, form-encoded, with `time` set to the evaluation
// time, and the JSON result parsed into a promql::Value.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/result.h"
#include "engine/promql/value.h"
#include "engine/query_source.h"

namespace alertd {

// An HTTP peer: base URL, request timeout, and the headers and TLS settings every request
// carries (authentication included).
struct RemoteEndpoint {
  std::string url;
  Duration timeout{30000};
  std::vector<std::pair<std::string, std::string>> headers;
  HttpTlsOptions tls;
};

struct RemoteQueryOptions {
  RemoteEndpoint endpoint;  // url is the API's base, e.g. http://127.0.0.1:9090
  // Extra parameters added to the URL of every query, e.g. Thanos's `dedup` or `partial_response`.
  std::vector<std::pair<std::string, std::string>> query_params;
};

class RemoteQuerySource final : public QuerySource {
 public:
  RemoteQuerySource(RemoteQueryOptions options, std::shared_ptr<HttpClient> http);

  // Fails with kUnavailable when the peer cannot be reached, returns a 5xx status or an
  // unparsable body, kTimeout when it does not respond within the timeout, and kInvalidArgument
  // with the API's errorType and error for a query the API rejects.
  Result<promql::Value> Query(const std::string& expr, TimePoint t) override;

  // The URL queries are sent to, with the query parameters.
  const std::string& query_url() const { return query_url_; }

 private:
  RemoteQueryOptions options_;
  std::shared_ptr<HttpClient> http_;
  std::string query_url_;
};

// Parses the body of an /api/v1/query response (Prometheus's HTTP API format). `status` is
// the HTTP status, used in the message when the body is not an API response.
Result<promql::Value> ParseQueryResponse(int status, const std::string& body);

// Percent-encodes `text` for a URL query or a form body (RFC 3986 unreserved characters kept).
std::string FormEncode(std::string_view text);

// Formats `t` as Unix seconds with millisecond precision, e.g. "1700000000.123".
std::string FormatUnixSeconds(TimePoint t);

}  // namespace alertd
