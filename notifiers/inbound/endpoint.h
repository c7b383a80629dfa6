// Inbound webhook endpoints (alertd.yml `webhook_receivers`): each takes notifications that an
// Alertmanager, a Grafana contact point or another JSON source sends, turns them into alerts
// and puts them into the AlertStore, where they are routed like alerts posted to
// /api/v2/alerts. The class is transport-free: the HTTP wiring (app/inbound_wiring.h) passes
// headers, body and remote address in and sends the returned status and JSON body.
// docs/webhook-receivers.md describes the payloads and answers.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/labels.h"
#include "common/result.h"
#include "notifiers/alert_store.h"

namespace alertd::inbound {

enum class PayloadType {
  kAlertmanager,  // Alertmanager's webhook_configs payload, version 4
  kGrafana,       // Grafana's webhook contact point payload
  kJson,          // any JSON, mapped to one alert by templates
};

// Returns the PayloadType named "alertmanager", "grafana" or "json".
Result<PayloadType> ParsePayloadType(std::string_view name);

// One endpoint's settings, as config::WebhookReceiverConfig reads them.
struct EndpointOptions {
  std::string name;
  PayloadType type = PayloadType::kAlertmanager;
  // Authentication: at most one of bearer_token, basic_auth_password and hmac_secret is set;
  // none means every request is accepted.
  std::string bearer_token;
  std::string basic_auth_username;
  std::string basic_auth_password;
  std::string hmac_secret;
  std::string hmac_header = "X-Hub-Signature-256";
  std::string hmac_prefix = "sha256=";
  uint64_t max_body_size = 1 << 20;
  Labels labels;  // set on every alert, replacing the payload's label of the same name
  std::vector<std::string> removed_labels;  // removed from every alert
  Duration max_age{86400000};
  // type json: Go templates over the parsed body.
  std::map<std::string, std::string> label_templates;
  std::map<std::string, std::string> annotation_templates;
  std::string resolved_template;
};

struct EndpointRequest {
  // Header names in any case; the first of a repeated header counts.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_address;  // "ip:port", for logs

  std::string Header(std::string_view name) const;
};

// The rejection reasons, also the `reason` label of alertd_webhook_rejected_total.
inline constexpr std::string_view kReasonUnauthorized = "unauthorized";
inline constexpr std::string_view kReasonTooLarge = "too_large";
inline constexpr std::string_view kReasonUnsupportedMediaType = "unsupported_media_type";
inline constexpr std::string_view kReasonInvalidJson = "invalid_json";
inline constexpr std::string_view kReasonInvalidPayload = "invalid_payload";

struct EndpointResponse {
  int status = 202;
  std::string body;    // JSON text
  std::string reason;  // one of the kReason* values; empty when accepted
  size_t alerts = 0;   // alerts put into the store
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. WWW-Authenticate on 401
};

class Endpoint {
 public:
  // Parses the json templates. `store` and `clock` must outlive the endpoint.
  static Result<std::unique_ptr<Endpoint>> Create(EndpointOptions options,
                                                  AlertStore* store,
                                                  const Clock* clock);
  ~Endpoint();

  // Checks, in order: authentication (401), body size (413), Content-Type (415), JSON and
  // payload (400); then stores the alerts and returns 202 with
  // {"status":"success","alerts":N}. Each rejection is logged with the endpoint, the reason
  // and the remote address, never with the secret or the body. Thread-safe.
  EndpointResponse Handle(const EndpointRequest& request) const;

  const std::string& name() const { return options_.name; }

  const EndpointOptions& options() const { return options_; }

 private:
  struct Templates;
  Endpoint(EndpointOptions options, AlertStore* store, const Clock* clock);

  // Returns "" when the request is authenticated, else what failed, for the log.
  std::string CheckAuthentication(const EndpointRequest& request) const;
  Result<std::vector<StoreAlert>> ParseJsonBody(const nlohmann::json& body, TimePoint now) const;

  EndpointOptions options_;
  AlertStore* const store_;
  const Clock* const clock_;
  std::unique_ptr<Templates> templates_;
};

// Parses an Alertmanager (webhook version 4) or Grafana webhook body into alerts: firing ones
// with a zero ends_at (AlertStore::PutReceived then sets now + max_age), resolved ones ending at
// their endsAt, or at `now` when that is missing or later. Labels are checked as
// POST /api/v2/alerts checks them and `alertname` is required. For Grafana, orgId, state,
// title, message, values, valueString, silenceURL, dashboardURL and panelURL become
// annotations (docs/webhook-receivers.md lists the names).
Result<std::vector<StoreAlert>> ParseNotificationPayload(const nlohmann::json& body,
                                                         PayloadType type,
                                                         TimePoint now);

// Compares in time independent of the contents (OpenSSL's CRYPTO_memcmp); only the lengths
// may leak.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Returns the lower-case hex HMAC-SHA256 of `body` with `secret`.
std::string HmacSha256Hex(std::string_view secret, std::string_view body);

}  // namespace alertd::inbound
