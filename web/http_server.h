// Embedded HTTP/1.1 server for alertd's API, UI and /metrics endpoints. The implementation uses
// Boost.Beast; this header stays free of Boost so that callers compile quickly.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "web/web_config.h"

namespace alertd {

namespace metrics {
class Registry;
}  // namespace metrics

struct HttpServerRequest {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // raw request target, e.g. "/api/v1/query?query=up"
  std::string path;    // percent-decoded path without the query string
  std::multimap<std::string, std::string> query;  // decoded query parameters
  // Decoded fields of an application/x-www-form-urlencoded body (POST, PUT, PATCH).
  std::multimap<std::string, std::string> form;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote_address;  // "ip:port", IPv6 as "[ip]:port"

  // Returns the first header named `name` (any case), or an empty string.
  std::string Header(std::string_view name) const;
  // Returns the first query parameter named `name`, or an empty string.
  std::string Query(std::string_view name) const;
  // Returns every value of the query parameter `name`, in request order.
  std::vector<std::string> QueryValues(std::string_view name) const;
  // Returns the first value of `name` from the form body, else from the query string, like
  // Go's Request.FormValue, or an empty string.
  std::string FormValue(std::string_view name) const;
  // Returns the values of `name` from the form body followed by those of the query string,
  // like Go's Request.Form[name], which Prometheus reads for repeated parameters (match[]).
  std::vector<std::string> FormValues(std::string_view name) const;
};

struct HttpServerResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;  // sent after Content-Type
  std::string body;

  static HttpServerResponse Json(int status, std::string body);
  static HttpServerResponse Text(int status, std::string body);
};

// A request handler. It runs on one of the server's threads and may be called concurrently
// for different requests, so it must be thread-safe. An exception it throws becomes a 500.
using HttpHandler = std::function<HttpServerResponse(const HttpServerRequest&)>;

struct HttpServerOptions {
  int threads = 2;                     // threads that run handlers and socket I/O
  size_t max_body_bytes = 10 << 20;    // larger request bodies get 413; 0 means no limit
  size_t max_header_bytes = 64 << 10;  // larger request headers get 431
  // Time allowed to receive a complete request header, counted from the end of the previous
  // response (or from connect), so it also bounds idle keep-alive connections and clients
  // that send headers slowly.
  std::chrono::milliseconds header_timeout{30000};
  std::chrono::milliseconds body_timeout{30000};   // time allowed to receive the body
  std::chrono::milliseconds write_timeout{30000};  // time allowed to send the response
  // Time Stop() waits for requests in flight before it closes their connections.
  std::chrono::milliseconds shutdown_timeout{5000};
  // When set, each request that reaches a handler is counted in
  // alertd_http_requests_total{code,handler} and timed in
  // alertd_http_request_duration_seconds{handler}, where handler is the registered path or
  // prefix. Unrouted requests (404, 405) are not recorded, which keeps label values bounded.
  // The registry must outlive the server.
  metrics::Registry* metrics = nullptr;
  // TLS and authentication from a web configuration file (LoadWebConfigFile). Null: plain
  // HTTP without authentication. With TLS, Create reads the certificate, key and client CA
  // files and fails when one is missing or invalid. With users or tokens, every request
  // except those of routes registered with own_authentication needs valid credentials and
  // gets 401 with "WWW-Authenticate: Basic" otherwise.
  std::shared_ptr<const WebServerSecurity> security;
};

// Per-route settings for Handle and HandlePrefix.
struct HttpRouteOptions {
  // The handler authenticates requests itself (an inbound webhook endpoint with its own
  // token, basic auth or HMAC), so the server-wide basic auth and bearer token check is
  // skipped for this method and path. TLS still applies.
  bool own_authentication = false;
};

// Routes requests to handlers by exact path or by path prefix. Routing rules:
// - an exact route wins over a prefix route; among prefix routes the longest prefix wins;
// - a path with no route gets 404 "404 page not found";
// - a routed path without a handler for the method gets 405 with an Allow header;
// - HEAD uses the GET handler when no HEAD handler exists, and sends no body.
// Thread-safe: Handle and HandlePrefix may also be called while the server runs.
class HttpServer {
 public:
  // Parses `listen_address` ("host:port", "[ipv6]:port" or ":port" for all IPv4 interfaces;
  // port 0 picks a free port). The host must be an IP address or a name that resolves;
  // the server binds exactly that address. Nothing is bound until Start().
  static Result<std::unique_ptr<HttpServer>> Create(const std::string& listen_address,
                                                    HttpServerOptions options = {});

  ~HttpServer();  // calls Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers `handler` for requests with exactly this method and path. A later registration
  // of the same method and path replaces the earlier one.
  void Handle(std::string method,
              std::string path,
              HttpHandler handler,
              HttpRouteOptions route_options = {});
  // Registers `handler` for this method and every path that starts with `prefix`.
  void HandlePrefix(std::string method,
                    std::string prefix,
                    HttpHandler handler,
                    HttpRouteOptions route_options = {});

  // Replaces the TLS and authentication settings (null: plain HTTP, no authentication), for
  // a reload of the web configuration file. Connections accepted afterwards use the new TLS
  // settings and every request checked afterwards the new credentials; open connections
  // keep their TLS session. On error (an unreadable or invalid certificate or key) the
  // current settings stay in effect. Thread-safe.
  Status UpdateSecurity(std::shared_ptr<const WebServerSecurity> security);

  // Binds, listens and starts the server threads. Fails with kIo naming the address when the
  // address is in use or cannot be bound. A second call fails with kInternal.
  Status Start();

  // Stops accepting connections, closes idle connections and those still receiving a
  // request, lets requests in flight finish for up to options.shutdown_timeout, then closes
  // the rest and joins the threads. Idempotent.
  // NOTE: a handler that never returns blocks Stop(), since a running handler cannot be
  // interrupted.
  void Stop();

  // The bound port, or 0 before Start().
  int port() const;
  // The bound address as "ip:port" ("[ip]:port" for IPv6), or the configured address before
  // Start().
  std::string address() const;

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

// Percent-decodes `text`; with `plus_is_space`, '+' becomes a space as in query strings.
// An invalid escape is kept as it is.
std::string PercentDecode(std::string_view text, bool plus_is_space);

// Parses "a=1&b=x+y" into decoded pairs, keeping empty values and skipping empty segments.
std::multimap<std::string, std::string> ParseUrlEncoded(std::string_view text);

}  // namespace alertd
