// Alertmanager 0.25's API v2 (api/v2/openapi.yaml), so Prometheus's alerting.alertmanagers and
// amtool work against alertd unchanged:
//   POST /api/v2/alerts, GET /api/v2/alerts, GET /api/v2/alerts/groups,
//   GET|POST /api/v2/silences, GET|DELETE /api/v2/silence/{id},
//   GET /api/v2/receivers, GET /api/v2/status.
// Bodies and errors are shaped as Alertmanager's: JSON, times as RFC 3339 with milliseconds in
// UTC, and a 400 whose body is a JSON string with the reason. Request bodies are bounded by the
// HTTP server's max_body_bytes (10 MiB by default; a larger body gets 413).
// Differences from Alertmanager: a POST /api/v2/alerts body with any invalid alert is rejected
// as a whole (Alertmanager stores the valid ones and also returns 400). Schema errors, for which
// Alertmanager returns 422, are 400 here.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/labels.h"
#include "common/result.h"
#include "notifiers/alert_store.h"
#include "notifiers/route.h"
#include "notifiers/silences.h"
#include "web/http_server.h"

namespace alertd {

// Sources the handlers read. With a null pointer the endpoints respond as if nothing were
// configured: empty lists, and 503 for writes that need the missing component.
struct ApiV2Sources {
  const Clock* clock = nullptr;
  AlertStore* alerts = nullptr;
  Silences* silences = nullptr;
  const Route* route = nullptr;        // the routing tree, for receivers and groups
  std::vector<std::string> receivers;  // configured receiver names, in config order
  // IDs of the alerts that inhibit an alert with these labels at this time; unset: none.
  std::function<std::vector<std::string>(const Labels&, TimePoint)> inhibited_by;
  Duration resolve_timeout{300000};  // global.resolve_timeout, for validating received alerts
  std::string config_original;       // see AlertmanagerConfigOriginal
  std::string version;
  TimePoint started_at{};
};

// Registers the endpoints on `server`. `sources` is read on each request and must outlive the
// server.
void RegisterApiV2(HttpServer& server, const ApiV2Sources* sources);

// Parses and validates a postableAlerts body as Alertmanager does: labels present and not empty
// after dropping empty values, valid label and annotation names, and an end not before the
// start, where a missing start is the end (or now) and a missing end is now + resolve_timeout.
// Times stay zero where the body has none, for AlertStore::Put to fill in. The error lists every
// invalid alert by its 1-based position, separated by "; ".
Result<std::vector<StoreAlert>> ParsePostableAlerts(std::string_view body,
                                                    TimePoint now,
                                                    Duration resolve_timeout);

// Parses a postableSilence body (id, matchers, startsAt, endsAt, createdBy, comment). Silences
// ::Set validates what it means.
Result<StoredSilence> ParsePostableSilence(std::string_view body);

// The gettableSilence JSON of `silence` at `now`.
nlohmann::json SilenceJson(const StoredSilence& silence, TimePoint now);

// The alertmanager.yml part of a configuration file, as Alertmanager shows it in
// /api/v2/status: global (its Alertmanager fields), route, receivers, inhibit_rules, templates
// and time intervals, with secrets replaced by "<secret>" and webhook URLs cut to
// scheme://host/<redacted>, and without alertd's own fields, so amtool can load it.
Result<std::string> AlertmanagerConfigOriginal(const std::string& yaml_text);

// The whole alertd.yml text for GET /api/v1/status/config, with the same secrets replaced by
// "<secret>" and webhook URLs cut as AlertmanagerConfigOriginal does.
Result<std::string> RedactedConfigYaml(const std::string& yaml_text);

// Parses an RFC 3339 time as Go's time.Parse does for four-digit years; Go's zero time
// "0001-01-01T00:00:00Z" gives TimePoint{}.
std::optional<TimePoint> ParseApiV2Time(std::string_view text);

}  // namespace alertd
