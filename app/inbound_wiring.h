// Serves the inbound webhook endpoints of alertd.yml's `webhook_receivers` on the HTTP server:
// POST /api/v1/webhook/NAME hands the request to notifiers/inbound's Endpoint NAME, and
// counts it in alertd_webhook_requests_total{endpoint,code} and each rejection in
// alertd_webhook_rejected_total{endpoint,reason}. A name that is not configured gets 404.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "config/config.h"
#include "notifiers/alert_store.h"
#include "notifiers/inbound/endpoint.h"
#include "web/http_server.h"
#include "web/metrics.h"

namespace alertd {

inline constexpr char kWebhookPathPrefix[] = "/api/v1/webhook/";

// Turns one configured endpoint into the endpoint's options.
Result<inbound::EndpointOptions> EndpointOptionsFromConfig(
    const config::WebhookReceiverConfig& receiver);

// The endpoint table behind /api/v1/webhook/. Configure swaps the whole table at once, so a
// reload that removes an endpoint makes its path answer 404 while the route stays registered.
// Thread-safe: requests may run while Configure replaces the table.
class InboundWebhooks {
 public:
  // Registers the two metric families on `registry`. `store`, `clock` and `registry` must
  // outlive every server this object is registered on.
  InboundWebhooks(AlertStore* store, const Clock* clock, metrics::Registry* registry);

  // Builds an endpoint for each receiver and replaces the table. On an error (a template that
  // does not parse) the table is unchanged and the error names the endpoint. With a `server`,
  // it also registers the routes (as Register does) in an order that never lets a request
  // skip both the endpoint's and the server-wide authentication.
  Status Configure(const std::vector<config::WebhookReceiverConfig>& receivers,
                   HttpServer* server = nullptr);

  // Registers POST /api/v1/webhook/ (a prefix route) and one exact route per configured
  // endpoint on `server`; the exact route of an endpoint with its own authentication is
  // registered with own_authentication, so the server-wide check does not apply to it. Call
  // it after each Configure: a route registered for an endpoint that a later configuration
  // removed stays, and answers 404. The handlers share this object's table, so they keep
  // working after this object is destroyed.
  void Register(HttpServer& server) const;

  // Handles one request for path /api/v1/webhook/NAME, as the registered routes do.
  HttpServerResponse Serve(const HttpServerRequest& request) const;

  // The configured endpoint names, in configuration order.
  std::vector<std::string> names() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace alertd
