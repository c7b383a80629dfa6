// alertd's HTTP endpoints: health, readiness, /metrics, the Prometheus-compatible
// /api/v1/alerts, /api/v1/rules and /api/v1/targets, and Alertmanager's /api/v2 (app/api_v2.h).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/api_v2.h"
#include "common/clock.h"
#include "engine/promql/engine.h"
#include "engine/rule_manager.h"
#include "engine/scrape/scrape_manager.h"
#include "web/http_server.h"
#include "web/metrics.h"

namespace alertd {

// One readiness check: a name ("rules", "store") and a probe returning an error message, or
// an empty string when the component is ready.
struct ReadinessCheck {
  std::string name;
  std::function<std::string()> probe;
};

// What the handlers read. Pointers may be null while the daemon starts: readiness then fails
// and the APIs return empty lists.
struct ApiSources {
  const Clock* clock = nullptr;
  const RuleManager* rules = nullptr;
  const ScrapeManager* scrape = nullptr;
  const metrics::Registry* registry = nullptr;
  std::vector<ReadinessCheck> readiness;
  // The sample store /api/v1/query and friends read (app/query_api.h), and the limits their
  // queries run with.
  const Queryable* storage = nullptr;
  promql::EngineOptions engine;
  // The loaded alertd.yml with secrets redacted (RedactedConfigYaml), for
  // GET /api/v1/status/config.
  std::string config_yaml;
  // Sources that Alertmanager's API v2 endpoints read.
  ApiV2Sources v2;
};

// Applies a new configuration and returns the problems that kept it from being applied, one
// "FILE:LINE:COL: message" each; empty when it was applied.
using ReloadFunction = std::function<std::vector<std::string>()>;

// Registers POST and PUT /-/reload, as Prometheus's --web.enable-lifecycle endpoint (always on,
// as in Alertmanager). Success answers 200 with an empty body; failure answers 500 with
// "failed to reload config: " and the errors, one a line, as Prometheus does.
void RegisterReloadApi(HttpServer& server, ReloadFunction reload);

// Registers every endpoint on `server`. `sources` is read on each request: the daemon fills
// it in as components start and must keep it alive while the server runs.
void RegisterApi(HttpServer& server, const ApiSources* sources);

// The JSON bodies, exposed for tests.
nlohmann::json AlertsJson(const std::vector<ActiveAlert>& alerts);
nlohmann::json RulesJson(const std::vector<GroupStatus>& groups, const std::string& type_filter);
nlohmann::json TargetsJson(const std::vector<TargetStatus>& targets);

// Go's time.Duration.String(): "1.234ms", "567µs", "5.001s", "1m30s".
std::string FormatGoDuration(std::chrono::nanoseconds d);

}  // namespace alertd
