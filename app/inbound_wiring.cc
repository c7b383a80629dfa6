#include "app/inbound_wiring.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include <nlohmann/json.hpp>

#include "common/logging.h"

namespace alertd {

struct InboundWebhooks::State {
  AlertStore* store = nullptr;
  const Clock* clock = nullptr;
  metrics::Family<metrics::Counter>* requests = nullptr;
  metrics::Family<metrics::Counter>* rejected = nullptr;
  mutable std::mutex mu;
  // Replaced as a whole by Configure; a request keeps the table it started with.
  std::shared_ptr<const std::map<std::string, std::shared_ptr<const inbound::Endpoint>>>
      endpoints;                   // guarded by mu
  std::vector<std::string> names;  // guarded by mu
  // HTTP status codes counted per endpoint, so a reload that removes the endpoint can remove
  // its series.
  mutable std::map<std::string, std::set<int>> codes;  // guarded by mu

  std::shared_ptr<const inbound::Endpoint> Find(const std::string& name) const {
    std::lock_guard lock(mu);
    if (!endpoints) {
      return nullptr;
    }
    auto it = endpoints->find(name);
    return it == endpoints->end() ? nullptr : it->second;
  }

  HttpServerResponse Serve(const HttpServerRequest& request) const {
    std::string_view path = request.path;
    std::string name;
    if (path.starts_with(kWebhookPathPrefix)) {
      name = std::string(path.substr(std::string_view(kWebhookPathPrefix).size()));
    }
    std::shared_ptr<const inbound::Endpoint> endpoint =
        name.find('/') == std::string::npos ? Find(name) : nullptr;
    if (endpoint == nullptr) {
      // Not counted: the name comes from the request, so counting it would let any client
      // create label values without bound.
      return HttpServerResponse::Json(
          404,
          nlohmann::json{{"status", "error"},
                         {"error", "no webhook receiver is configured at this path"}}
              .dump());
    }
    inbound::EndpointRequest in;
    in.headers = request.headers;
    in.body = request.body;
    in.remote_address = request.remote_address;
    inbound::EndpointResponse out = endpoint->Handle(in);
    requests->WithLabels({name, std::to_string(out.status)}).Inc();
    {
      std::lock_guard lock(mu);
      codes[name].insert(out.status);
    }
    if (!out.reason.empty()) {
      rejected->WithLabels({name, out.reason}).Inc();
    }
    HttpServerResponse response = HttpServerResponse::Json(out.status, std::move(out.body));
    response.headers = std::move(out.headers);
    return response;
  }
};

Result<inbound::EndpointOptions> EndpointOptionsFromConfig(
    const config::WebhookReceiverConfig& receiver) {
  auto type = inbound::ParsePayloadType(receiver.type);
  if (!type.ok()) {
    return type.error();
  }
  inbound::EndpointOptions options;
  options.name = receiver.name;
  options.type = *type;
  options.bearer_token = receiver.bearer_token;
  options.basic_auth_username = receiver.basic_auth_username;
  options.basic_auth_password = receiver.basic_auth_password;
  options.hmac_secret = receiver.hmac_secret;
  options.hmac_header = receiver.hmac_header;
  options.hmac_prefix = receiver.hmac_prefix;
  options.max_body_size = receiver.max_body_size;
  options.labels = receiver.labels;
  options.removed_labels = receiver.removed_labels;
  options.max_age = receiver.max_age;
  options.label_templates = receiver.label_templates;
  options.annotation_templates = receiver.annotation_templates;
  options.resolved_template = receiver.resolved_template;
  return options;
}

InboundWebhooks::InboundWebhooks(AlertStore* store, const Clock* clock, metrics::Registry* registry)
    : state_(std::make_shared<State>()) {
  state_->store = store;
  state_->clock = clock;
  state_->requests = &registry->AddCounterFamily(
      "alertd_webhook_requests_total",
      "Requests to the inbound webhook endpoints, by endpoint and HTTP status code.",
      {"endpoint", "code"});
  state_->rejected = &registry->AddCounterFamily(
      "alertd_webhook_rejected_total",
      "Rejected requests to the inbound webhook endpoints, by endpoint and reason.",
      {"endpoint", "reason"});
}

namespace {

constexpr std::string_view kRejectionReasons[] = {inbound::kReasonUnauthorized,
                                                  inbound::kReasonTooLarge,
                                                  inbound::kReasonUnsupportedMediaType,
                                                  inbound::kReasonInvalidJson,
                                                  inbound::kReasonInvalidPayload};

bool HasOwnAuthentication(const inbound::EndpointOptions& o) {
  return !o.bearer_token.empty() || !o.basic_auth_password.empty() || !o.hmac_secret.empty();
}

}  // namespace

Status InboundWebhooks::Configure(const std::vector<config::WebhookReceiverConfig>& receivers,
                                  HttpServer* server) {
  auto table = std::make_shared<std::map<std::string, std::shared_ptr<const inbound::Endpoint>>>();
  std::vector<std::string> names;
  for (const config::WebhookReceiverConfig& receiver : receivers) {
    auto options = EndpointOptionsFromConfig(receiver);
    if (!options.ok()) {
      return options.error();
    }
    auto endpoint =
        inbound::Endpoint::Create(std::move(options).value(), state_->store, state_->clock);
    if (!endpoint.ok()) {
      return endpoint.error();
    }
    names.push_back(receiver.name);
    (*table)[receiver.name] = std::move(endpoint).value();
  }
  // Every reason shows from the start, so a rate() over it needs no first rejection.
  for (const std::string& name : names) {
    for (std::string_view reason : kRejectionReasons) {
      state_->rejected->WithLabels({name, std::string(reason)});
    }
  }
  if (server != nullptr) {
    // An endpoint that loses its own authentication must not be reachable through a route
    // that still skips the server-wide check, so those routes change before the table does.
    auto handler = [state = state_](const HttpServerRequest& request) {
      return state->Serve(request);
    };
    for (const auto& [name, endpoint] : *table) {
      if (!HasOwnAuthentication(endpoint->options())) {
        server->Handle("POST", kWebhookPathPrefix + name, handler, HttpRouteOptions{});
      }
    }
  }
  {
    std::lock_guard lock(state_->mu);
    // The series of endpoints this configuration removes go, so /metrics lists only
    // configured endpoints.
    for (const std::string& old_name : state_->names) {
      if (std::find(names.begin(), names.end(), old_name) != names.end()) {
        continue;
      }
      for (std::string_view reason : kRejectionReasons) {
        state_->rejected->Remove({old_name, std::string(reason)});
      }
      for (int code : state_->codes[old_name]) {
        state_->requests->Remove({old_name, std::to_string(code)});
      }
      state_->codes.erase(old_name);
    }
    state_->endpoints = std::move(table);
    state_->names = names;
  }
  if (server != nullptr) {
    Register(*server);
  }
  for (const std::string& name : names) {
    Logger("inbound")->info(
        "Webhook endpoint ready endpoint={} path={}{}", LogValue(name), kWebhookPathPrefix, name);
  }
  return Status::Ok();
}

void InboundWebhooks::Register(HttpServer& server) const {
  std::shared_ptr<const State> state = state_;
  auto handler = [state](const HttpServerRequest& request) {
    return state->Serve(request);
  };
  server.HandlePrefix("POST", kWebhookPathPrefix, handler);
  std::vector<std::pair<std::string, bool>> routes;
  {
    std::lock_guard lock(state_->mu);
    for (const std::string& name : state_->names) {
      routes.emplace_back(name, HasOwnAuthentication(state_->endpoints->at(name)->options()));
    }
  }
  // An endpoint with its own authentication skips the server-wide check of web.config_file,
  // because one Authorization header cannot carry both credentials. The others, and unknown
  // names, stay behind the server-wide check.
  for (const auto& [name, own_authentication] : routes) {
    HttpRouteOptions options;
    options.own_authentication = own_authentication;
    server.Handle("POST", kWebhookPathPrefix + name, handler, options);
  }
}

HttpServerResponse InboundWebhooks::Serve(const HttpServerRequest& request) const {
  return state_->Serve(request);
}

std::vector<std::string> InboundWebhooks::names() const {
  std::lock_guard lock(state_->mu);
  return state_->names;
}

}  // namespace alertd
