#include "app/api.h"

#include <cmath>
#include <cstdio>

#include "app/query_api.h"
#include "common/duration.h"
#include "web/api_json.h"

namespace alertd {
namespace {

nlohmann::json LabelsJson(const Labels& labels) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& label : labels) {
    out[label.name] = label.value;
  }
  return out;
}

nlohmann::json PairsJson(const std::vector<std::pair<std::string, std::string>>& pairs) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, value] : pairs) {
    out[name] = value;
  }
  return out;
}

double Seconds(std::chrono::nanoseconds d) {
  return std::chrono::duration<double>(d).count();
}

// Whole seconds as a JSON integer, as Go encodes a float64 such as 5 ("5", not "5.0").
nlohmann::json Seconds(Duration d) {
  if (d.count() % 1000 == 0) {
    return d.count() / 1000;
  }
  return std::chrono::duration<double>(d).count();
}

// Prometheus writes a zero time.Time as "0001-01-01T00:00:00Z".
std::string TimeJson(TimePoint t) {
  if (t == TimePoint{}) {
    return "0001-01-01T00:00:00Z";
  }
  return FormatRfc3339Nano(t);
}

nlohmann::json AlertJson(const Alert& alert) {
  nlohmann::json json;
  json["labels"] = LabelsJson(alert.labels);
  json["annotations"] = LabelsJson(alert.annotations);
  json["state"] = AlertStateName(alert.state);
  json["activeAt"] = TimeJson(alert.active_at);
  if (alert.keep_firing_since) {
    json["keepFiringSince"] = TimeJson(*alert.keep_firing_since);
  }
  json["value"] = FormatAlertValue(alert.value);
  return json;
}

HttpServerResponse HealthyHandler(const HttpServerRequest&) {
  return HttpServerResponse::Json(200, "{\"status\":\"ok\"}\n");
}

HttpServerResponse ReadyHandler(const ApiSources* sources) {
  nlohmann::json checks = nlohmann::json::object();
  bool ready = !sources->readiness.empty();
  for (const auto& check : sources->readiness) {
    auto started = std::chrono::steady_clock::now();
    std::string error = check.probe();
    auto latency = std::chrono::steady_clock::now() - started;
    nlohmann::json result;
    result["status"] = error.empty() ? "ok" : "error";
    result["latency"] = FormatGoDuration(latency);
    if (!error.empty()) {
      result["error"] = error;
      ready = false;
    }
    checks[check.name] = result;
  }
  nlohmann::json body;
  body["status"] = ready ? "ok" : "degraded";
  TimePoint now = sources->clock ? sources->clock->Now() : TimePoint{};
  body["timestamp"] = TimeJson(std::chrono::time_point_cast<std::chrono::seconds>(now));
  body["checks"] = checks;
  return HttpServerResponse::Json(ready ? 200 : 503, DumpJson(body) + "\n");
}

}  // namespace

std::string FormatGoDuration(std::chrono::nanoseconds d) {
  int64_t ns = d.count();
  if (ns == 0) {
    return "0s";
  }
  std::string sign = ns < 0 ? "-" : "";
  uint64_t u = ns < 0 ? static_cast<uint64_t>(-ns) : static_cast<uint64_t>(ns);
  char buf[64];
  auto trim = [](std::string s) {
    if (s.find('.') != std::string::npos) {
      while (s.back() == '0') {
        s.pop_back();
      }
      if (s.back() == '.') {
        s.pop_back();
      }
    }
    return s;
  };
  if (u < 1000) {
    return sign + std::to_string(u) + "ns";
  }
  if (u < 1000000) {
    std::snprintf(buf, sizeof(buf), "%.3f", static_cast<double>(u) / 1e3);
    return sign + trim(buf) + "µs";
  }
  if (u < 1000000000) {
    std::snprintf(buf, sizeof(buf), "%.6f", static_cast<double>(u) / 1e6);
    return sign + trim(buf) + "ms";
  }
  uint64_t total_seconds = u / 1000000000;
  uint64_t frac_ns = u % 1000000000;
  std::string out = sign;
  uint64_t hours = total_seconds / 3600;
  uint64_t minutes = (total_seconds % 3600) / 60;
  uint64_t seconds = total_seconds % 60;
  if (hours > 0) {
    out += std::to_string(hours) + "h";
  }
  if (hours > 0 || minutes > 0) {
    out += std::to_string(minutes) + "m";
  }
  std::snprintf(buf,
                sizeof(buf),
                "%llu.%09llu",
                static_cast<unsigned long long>(seconds),
                static_cast<unsigned long long>(frac_ns));
  return out + trim(buf) + "s";
}

nlohmann::json AlertsJson(const std::vector<ActiveAlert>& alerts) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& active : alerts) {
    list.push_back(AlertJson(active.alert));
  }
  return nlohmann::json{{"alerts", list}};
}

nlohmann::json RulesJson(const std::vector<GroupStatus>& groups, const std::string& type_filter) {
  nlohmann::json out_groups = nlohmann::json::array();
  for (const auto& group : groups) {
    nlohmann::json rules = nlohmann::json::array();
    for (const auto& rule : group.rules) {
      if ((type_filter == "alert" && !rule.is_alert) ||
          (type_filter == "record" && rule.is_alert)) {
        continue;
      }
      nlohmann::json json;
      json["name"] = rule.name;
      json["query"] = rule.query;
      // Prometheus omits an empty lastError, and empty labels of a recording rule.
      if (rule.is_alert || !rule.labels.empty()) {
        json["labels"] = PairsJson(rule.labels);
      }
      json["health"] = RuleHealthName(rule.eval.health);
      if (!rule.eval.last_error.empty()) {
        json["lastError"] = rule.eval.last_error;
      }
      json["evaluationTime"] = Seconds(rule.eval.evaluation_duration);
      json["lastEvaluation"] = TimeJson(rule.eval.last_evaluation);
      if (rule.is_alert) {
        json["state"] = AlertStateName(rule.state);
        json["duration"] = Seconds(rule.for_);
        json["keepFiringFor"] = Seconds(rule.keep_firing_for);
        json["annotations"] = PairsJson(rule.annotations);
        nlohmann::json alerts = nlohmann::json::array();
        for (const auto& alert : rule.alerts) {
          alerts.push_back(AlertJson(alert));
        }
        json["alerts"] = alerts;
        json["type"] = "alerting";
      } else {
        json["type"] = "recording";
      }
      rules.push_back(json);
    }
    if (!type_filter.empty() && rules.empty()) {
      continue;
    }
    nlohmann::json json;
    json["name"] = group.name;
    json["file"] = group.file;
    json["rules"] = rules;
    json["interval"] = Seconds(group.interval);
    json["limit"] = group.limit;
    json["evaluationTime"] = Seconds(group.evaluation_duration);
    json["lastEvaluation"] = TimeJson(group.last_evaluation);
    out_groups.push_back(json);
  }
  return nlohmann::json{{"groups", out_groups}};
}

nlohmann::json TargetsJson(const std::vector<TargetStatus>& targets) {
  nlohmann::json active = nlohmann::json::array();
  for (const auto& target : targets) {
    nlohmann::json json;
    json["discoveredLabels"] = LabelsJson(target.discovered_labels);
    json["labels"] = LabelsJson(target.labels);
    json["scrapePool"] = target.scrape_pool;
    json["scrapeUrl"] = target.scrape_url;
    json["globalUrl"] = target.scrape_url;
    json["lastError"] = target.last_error;
    json["lastScrape"] = TimeJson(target.last_scrape.value_or(TimePoint{}));
    json["lastScrapeDuration"] = target.last_scrape_duration_seconds;
    json["health"] = std::string(TargetHealthName(target.health));
    json["scrapeInterval"] = FormatDuration(target.scrape_interval);
    json["scrapeTimeout"] = FormatDuration(target.scrape_timeout);
    active.push_back(json);
  }
  return nlohmann::json{{"activeTargets", active}, {"droppedTargets", nlohmann::json::array()}};
}

void RegisterReloadApi(HttpServer& server, ReloadFunction reload) {
  HttpHandler handler = [reload = std::move(reload)](const HttpServerRequest&) {
    std::vector<std::string> errors = reload();
    if (errors.empty()) {
      return HttpServerResponse::Text(200, "");
    }
    std::string body = "failed to reload config: ";
    for (size_t i = 0; i < errors.size(); ++i) {
      body += (i == 0 ? "" : "\n") + errors[i];
    }
    return HttpServerResponse::Text(500, body + "\n");
  };
  server.Handle("POST", "/-/reload", handler);
  server.Handle("PUT", "/-/reload", handler);
}

void RegisterApi(HttpServer& server, const ApiSources* sources) {
  server.Handle("GET", "/-/healthy", HealthyHandler);
  server.Handle(
      "GET", "/-/ready", [sources](const HttpServerRequest&) { return ReadyHandler(sources); });
  server.Handle("GET", "/metrics", [sources](const HttpServerRequest&) {
    HttpServerResponse response;
    response.content_type = metrics::kTextContentType;
    response.body = sources->registry ? sources->registry->Render() : "";
    return response;
  });
  server.Handle("GET", "/api/v1/alerts", [sources](const HttpServerRequest&) {
    std::vector<ActiveAlert> alerts;
    if (sources->rules) {
      alerts = sources->rules->ActiveAlerts();
    }
    return ApiSuccess(AlertsJson(alerts));
  });
  server.Handle("GET", "/api/v1/rules", [sources](const HttpServerRequest& request) {
    std::string type = request.FormValue("type");
    if (!type.empty() && type != "alert" && type != "record") {
      return ApiError(ApiErrorType::kBadData,
                      "invalid value \"" + type + "\" of parameter type: use alert or record");
    }
    std::vector<GroupStatus> groups;
    if (sources->rules) {
      groups = sources->rules->Status();
    }
    return ApiSuccess(RulesJson(groups, type));
  });
  server.Handle("GET", "/api/v1/targets", [sources](const HttpServerRequest&) {
    std::vector<TargetStatus> targets;
    if (sources->scrape) {
      targets = sources->scrape->Status();
    }
    return ApiSuccess(TargetsJson(targets));
  });
  server.Handle("GET", "/api/v1/status/config", [sources](const HttpServerRequest&) {
    return ApiSuccess(nlohmann::json{{"yaml", sources->config_yaml}});
  });
  RegisterQueryApi(server, sources);
  RegisterApiV2(server, &sources->v2);
}

}  // namespace alertd
