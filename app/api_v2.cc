#include "app/api_v2.h"

#include <time.h>

#include <algorithm>
#include <map>
#include <set>

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include "common/http_client.h"
#include "common/logging.h"
#include "common/rfc3339.h"
#include "config/alertmanager_fields.h"
#include "config/config.h"
#include "web/api_json.h"

namespace alertd {
namespace {

using nlohmann::json;

std::string TimeJson(TimePoint t) {
  if (t == TimePoint{}) {
    return "0001-01-01T00:00:00.000Z";
  }
  return FormatRfc3339Millis(t);
}

json LabelsJson(const Labels& labels) {
  json out = json::object();
  for (const auto& label : labels) {
    out[label.name] = label.value;
  }
  return out;
}

HttpServerResponse JsonResponse(int status, const json& body) {
  return HttpServerResponse::Json(status, DumpJson(body) + "\n");
}

// Alertmanager returns errors with the message as a JSON string.
HttpServerResponse ErrorResponse(int status, const std::string& message) {
  return JsonResponse(status, json(message));
}

HttpServerResponse EmptyOk() {
  HttpServerResponse response;
  response.status = 200;
  response.content_type = "application/json";
  return response;
}

HttpServerResponse StatusError(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kInvalidArgument:
      return ErrorResponse(400, error.message());
    case ErrorCode::kNotFound:
      return ErrorResponse(404, error.message());
    default:
      return ErrorResponse(500, error.message());
  }
}

// nlohmann's parse errors start with "[json.exception.parse_error.101] ".
std::string JsonParseMessage(const std::exception& e) {
  std::string message = e.what();
  if (!message.empty() && message[0] == '[') {
    if (size_t end = message.find("] "); end != std::string::npos) {
      message.erase(0, end + 2);
    }
  }
  return message;
}

Result<json> ParseBody(std::string_view body) {
  try {
    return json::parse(body);
  } catch (const json::exception& e) {
    return Error::Invalid("the body is not valid JSON: " + JsonParseMessage(e));
  }
}

std::string TypeName(const json& value) {
  return value.type_name();
}

// Whether `text` is an RFC 3339 time whose year TimePoint cannot hold (Go's zero time aside).
bool IsOutOfRangeTime(std::string_view text) {
  if (text.size() < 5 || text[4] != '-') {
    return false;
  }
  int year = 0;
  for (char c : text.substr(0, 4)) {
    if (c < '0' || c > '9') {
      return false;
    }
    year = year * 10 + (c - '0');
  }
  return year != 1 && (year <= 1677 || year >= 2262);
}

// Reads an optional RFC 3339 time field; absent or null gives TimePoint{}.
Result<TimePoint> TimeField(const json& object, const char* name, const std::string& where) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) {
    return TimePoint{};
  }
  if (!it->is_string()) {
    return Error::Invalid(where + "field \"" + name + "\" must be an RFC 3339 time string, not " +
                          TypeName(*it));
  }
  const std::string& text = it->get_ref<const std::string&>();
  auto t = ParseApiV2Time(text);
  if (!t && IsOutOfRangeTime(text)) {
    return Error::Invalid(where + "time \"" + text + "\" in field \"" + name +
                          "\" is out of range: use a time between 1678 and 2261");
  }
  if (!t) {
    return Error::Invalid(where + "invalid time \"" + it->get<std::string>() + "\" in field \"" +
                          name + "\": use RFC 3339, e.g. 2023-11-14T22:13:20Z");
  }
  return *t;
}

// Reads a labelSet field: an object of strings. Empty values are dropped, as Alertmanager's
// removeEmptyLabels does for labels.
Result<Labels> LabelSetField(const json& object,
                             const char* name,
                             const std::string& where,
                             const char* what) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) {
    return Labels{};
  }
  if (!it->is_object()) {
    return Error::Invalid(where + "field \"" + name + "\" must be an object of strings, not " +
                          TypeName(*it));
  }
  std::vector<Label> labels;
  for (const auto& [key, value] : it->items()) {
    if (!value.is_string()) {
      return Error::Invalid(where + what + " \"" + key + "\" must have a string value, not " +
                            TypeName(value));
    }
    if (!IsValidLabelName(key)) {
      return Error::Invalid(where + "invalid " + what + " name \"" + key +
                            "\": a name starts with a letter or underscore and contains only "
                            "letters, digits and underscores");
    }
    labels.push_back(Label{key, value.get<std::string>()});
  }
  return Labels(std::move(labels));
}

Result<StoreAlert> ParseOneAlert(const json& item,
                                 size_t position,
                                 TimePoint now,
                                 Duration resolve_timeout) {
  std::string where = "alert " + std::to_string(position) + ": ";
  if (!item.is_object()) {
    return Error::Invalid(where + "must be an object, not " + TypeName(item));
  }
  if (!item.contains("labels")) {
    return Error::Invalid(where + "field \"labels\" is missing");
  }
  StoreAlert alert;
  auto labels = LabelSetField(item, "labels", where, "label");
  if (!labels.ok()) {
    return labels.error();
  }
  alert.labels = std::move(labels).value();
  auto annotations = LabelSetField(item, "annotations", where, "annotation");
  if (!annotations.ok()) {
    return annotations.error();
  }
  alert.annotations = std::move(annotations).value();
  auto starts = TimeField(item, "startsAt", where);
  if (!starts.ok()) {
    return starts.error();
  }
  auto ends = TimeField(item, "endsAt", where);
  if (!ends.ok()) {
    return ends.error();
  }
  alert.starts_at = *starts;
  alert.ends_at = *ends;
  if (auto url = item.find("generatorURL"); url != item.end() && !url->is_null()) {
    if (!url->is_string()) {
      return Error::Invalid(where + "field \"generatorURL\" must be a string, not " +
                            TypeName(*url));
    }
    alert.generator_url = url->get<std::string>();
  }
  if (alert.labels.empty()) {
    return Error::Invalid(where +
                          "the alert has no labels: give at least one label with a value, such "
                          "as alertname");
  }
  // The times AlertStore::Put will use, so the check matches what is stored.
  TimePoint effective_end = alert.ends_at == TimePoint{} ? now + resolve_timeout : alert.ends_at;
  TimePoint effective_start = alert.starts_at != TimePoint{} ? alert.starts_at
                              : alert.ends_at != TimePoint{} ? alert.ends_at
                                                             : now;
  if (effective_end < effective_start) {
    return Error::Invalid(where + alert.labels.ToString() + ": end time " +
                          TimeJson(effective_end) + " is before start time " +
                          TimeJson(effective_start) + ": give an end after the start");
  }
  return alert;
}

Result<bool> BoolParam(const HttpServerRequest& request, const char* name, bool fallback) {
  std::string value = request.Query(name);
  if (value.empty()) {
    return fallback;
  }
  if (value == "true" || value == "1") {
    return true;
  }
  if (value == "false" || value == "0") {
    return false;
  }
  return Error::Invalid("invalid value \"" + value + "\" of parameter " + name +
                        ": use true or false");
}

Result<std::vector<LabelMatcher>> FilterParam(const HttpServerRequest& request) {
  std::vector<LabelMatcher> matchers;
  for (const std::string& text : request.QueryValues("filter")) {
    auto matcher = config::ParseMatcher(text);
    if (!matcher.ok()) {
      return Error::Invalid("invalid filter \"" + text + "\": " + matcher.error().message());
    }
    matchers.push_back(std::move(matcher).value());
  }
  return matchers;
}

Result<std::unique_ptr<RE2>> ReceiverParam(const HttpServerRequest& request) {
  if (request.query.find("receiver") == request.query.end()) {
    return std::unique_ptr<RE2>();
  }
  std::string pattern = request.Query("receiver");
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<RE2>("^(?:" + pattern + ")$", options);
  if (!re->ok()) {
    return Error::Invalid("failed to parse receiver param: invalid regular expression \"" +
                          pattern + "\": " + re->error());
  }
  return re;
}

// The alert's status as Alertmanager's marker reports it after the API sets it.
struct AlertStatus {
  std::vector<std::string> silenced_by;
  std::vector<std::string> inhibited_by;

  bool suppressed() const { return !silenced_by.empty() || !inhibited_by.empty(); }
};

AlertStatus StatusOf(const ApiV2Sources* sources, const Labels& labels, TimePoint now) {
  AlertStatus status;
  if (sources->silences) {
    status.silenced_by = sources->silences->MutedBy(labels, now);
  }
  if (sources->inhibited_by) {
    status.inhibited_by = sources->inhibited_by(labels, now);
  }
  return status;
}

json AlertJson(const StoreAlert& alert,
               const AlertStatus& status,
               const std::vector<std::string>& receivers) {
  json out;
  out["annotations"] = LabelsJson(alert.annotations);
  out["endsAt"] = TimeJson(alert.ends_at);
  out["fingerprint"] = alert.labels.Fingerprint();
  json receiver_list = json::array();
  for (const auto& name : receivers) {
    receiver_list.push_back({{"name", name}});
  }
  out["receivers"] = receiver_list;
  out["startsAt"] = TimeJson(alert.starts_at);
  out["status"] = {{"inhibitedBy", status.inhibited_by},
                   {"silencedBy", status.silenced_by},
                   {"state", status.suppressed() ? "suppressed" : "active"}};
  out["updatedAt"] = TimeJson(alert.updated_at);
  if (!alert.generator_url.empty()) {
    out["generatorURL"] = alert.generator_url;
  }
  out["labels"] = LabelsJson(alert.labels);
  // alertd's own field: the webhook_receivers endpoint the alert came in on.
  if (!alert.received_from.empty()) {
    out["receivedFrom"] = alert.received_from;
  }
  return out;
}

bool MatchesFilter(const Labels& labels, const std::vector<LabelMatcher>& matchers) {
  return std::all_of(matchers.begin(), matchers.end(), [&](const LabelMatcher& m) {
    return m.Matches(labels.Get(m.name()));
  });
}

struct AlertQuery {
  std::vector<LabelMatcher> filter;
  std::unique_ptr<RE2> receiver;
  bool active = true;
  bool silenced = true;
  bool inhibited = true;
};

Result<AlertQuery> ParseAlertQuery(const HttpServerRequest& request) {
  AlertQuery query;
  auto filter = FilterParam(request);
  if (!filter.ok()) {
    return filter.error();
  }
  query.filter = std::move(filter).value();
  auto receiver = ReceiverParam(request);
  if (!receiver.ok()) {
    return receiver.error();
  }
  query.receiver = std::move(receiver).value();
  for (auto [name, field] : {std::pair{"active", &AlertQuery::active},
                             std::pair{"silenced", &AlertQuery::silenced},
                             std::pair{"inhibited", &AlertQuery::inhibited}}) {
    auto value = BoolParam(request, name, true);
    if (!value.ok()) {
      return value.error();
    }
    query.*field = *value;
  }
  // Alertmanager 0.25 accepts `unprocessed` but does not filter on it: the API sets each
  // alert's status before it filters, so none is left unprocessed.
  if (auto value = BoolParam(request, "unprocessed", true); !value.ok()) {
    return value.error();
  }
  return query;
}

// Alertmanager's alertFilter: drops resolved alerts and applies the state flags and matchers.
bool Keep(const AlertQuery& query,
          const StoreAlert& alert,
          const AlertStatus& status,
          TimePoint now) {
  if (alert.ends_at != TimePoint{} && alert.ends_at < now) {
    return false;
  }
  if (!query.active && !status.suppressed()) {
    return false;
  }
  if (!query.silenced && !status.silenced_by.empty()) {
    return false;
  }
  if (!query.inhibited && !status.inhibited_by.empty()) {
    return false;
  }
  return MatchesFilter(alert.labels, query.filter);
}

std::vector<const Route*> RoutesOf(const ApiV2Sources* sources, const Labels& labels) {
  if (sources->route == nullptr) {
    return {};
  }
  return sources->route->Match(labels);
}

HttpServerResponse GetAlerts(const ApiV2Sources* sources, const HttpServerRequest& request) {
  auto query = ParseAlertQuery(request);
  if (!query.ok()) {
    return ErrorResponse(400, query.error().message());
  }
  TimePoint now = sources->clock ? sources->clock->Now() : TimePoint{};
  std::vector<std::pair<std::string, json>> out;
  if (sources->alerts) {
    for (const auto& alert : sources->alerts->List()) {
      std::vector<std::string> receivers;
      for (const Route* route : RoutesOf(sources, alert.labels)) {
        receivers.push_back(route->receiver());
      }
      if (query->receiver &&
          std::none_of(receivers.begin(), receivers.end(), [&](const std::string& r) {
            return RE2::FullMatch(r, *query->receiver);
          })) {
        continue;
      }
      AlertStatus status = StatusOf(sources, alert.labels, now);
      if (!Keep(*query, alert, status, now)) {
        continue;
      }
      out.emplace_back(alert.labels.Fingerprint(), AlertJson(alert, status, receivers));
    }
  }
  std::stable_sort(
      out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  json list = json::array();
  for (auto& [fingerprint, alert] : out) {
    list.push_back(std::move(alert));
  }
  return JsonResponse(200, list);
}

// Alertmanager's types.AlertSlice order: by job, then instance, then labels.
bool AlertSliceLess(const StoreAlert& a, const StoreAlert& b) {
  for (const char* key : {"job", "instance"}) {
    bool a_has = a.labels.Has(key);
    bool b_has = b.labels.Has(key);
    if (!a_has && !b_has) {
      continue;
    }
    if (!a_has) {
      return false;
    }
    if (!b_has) {
      return true;
    }
    if (a.labels.Get(key) != b.labels.Get(key)) {
      return a.labels.Get(key) < b.labels.Get(key);
    }
  }
  return a.labels < b.labels;
}

HttpServerResponse GetAlertGroups(const ApiV2Sources* sources, const HttpServerRequest& request) {
  auto query = ParseAlertQuery(request);
  if (!query.ok()) {
    return ErrorResponse(400, query.error().message());
  }
  TimePoint now = sources->clock ? sources->clock->Now() : TimePoint{};

  struct Group {
    Labels labels;
    std::string receiver;
    std::vector<StoreAlert> alerts;
  };

  std::map<std::pair<std::string, Labels>, Group> groups;  // by route ID and group labels
  std::map<Labels, std::pair<AlertStatus, std::vector<std::string>>> info;
  if (sources->alerts) {
    for (const auto& alert : sources->alerts->List()) {
      std::vector<const Route*> routes = RoutesOf(sources, alert.labels);
      AlertStatus status = StatusOf(sources, alert.labels, now);
      if (!Keep(*query, alert, status, now)) {
        continue;
      }
      std::vector<std::string> receivers;
      for (const Route* route : routes) {
        receivers.push_back(route->receiver());
      }
      for (const Route* route : routes) {
        if (query->receiver && !RE2::FullMatch(route->receiver(), *query->receiver)) {
          continue;
        }
        Labels group_labels = route->GroupLabels(alert.labels);
        Group& group = groups[{route->ID(), group_labels}];
        group.labels = group_labels;
        group.receiver = route->receiver();
        group.alerts.push_back(alert);
      }
      info[alert.labels] = {std::move(status), std::move(receivers)};
    }
  }
  std::vector<Group*> sorted;
  for (auto& [key, group] : groups) {
    std::sort(group.alerts.begin(), group.alerts.end(), AlertSliceLess);
    sorted.push_back(&group);
  }
  // Alertmanager's AlertGroups order: by group labels, then receiver.
  std::stable_sort(sorted.begin(), sorted.end(), [](const Group* a, const Group* b) {
    if (a->labels != b->labels) {
      return a->labels < b->labels;
    }
    return a->receiver < b->receiver;
  });
  json list = json::array();
  for (const Group* group : sorted) {
    json alerts = json::array();
    for (const auto& alert : group->alerts) {
      const auto& [status, receivers] = info[alert.labels];
      alerts.push_back(AlertJson(alert, status, receivers));
    }
    list.push_back({{"alerts", alerts},
                    {"labels", LabelsJson(group->labels)},
                    {"receiver", {{"name", group->receiver}}}});
  }
  return JsonResponse(200, list);
}

HttpServerResponse PostAlerts(const ApiV2Sources* sources, const HttpServerRequest& request) {
  if (sources->alerts == nullptr || sources->clock == nullptr) {
    return ErrorResponse(503, "alertd is starting: the alert store is not ready, retry later");
  }
  auto alerts = ParsePostableAlerts(request.body, sources->clock->Now(), sources->resolve_timeout);
  if (!alerts.ok()) {
    Logger("api")->debug("Rejected posted alerts remote={} err={}",
                         request.remote_address,
                         LogValue(alerts.error().message()));
    return ErrorResponse(400, alerts.error().message());
  }
  if (Status s = sources->alerts->Put(std::move(alerts).value()); !s.ok()) {
    Logger("api")->error("Storing posted alerts failed err={}", LogValue(s.error().message()));
    return ErrorResponse(500, s.error().message());
  }
  return EmptyOk();
}

// Alertmanager's matchFilterLabels over a silence's equality view: a filter on a name the
// silence does not use matches only when the filter accepts the empty value that way.
bool SilenceMatchesFilter(const StoredSilence& silence, const std::vector<LabelMatcher>& filter) {
  std::map<std::string, std::string> values;
  for (const auto& m : silence.matchers) {
    values[m.name] = m.value;
  }
  for (const auto& m : filter) {
    auto it = values.find(m.name());
    bool present = it != values.end();
    std::string value = present ? it->second : "";
    bool negative = m.type() == MatchType::kNotEqual || m.type() == MatchType::kRegexNoMatch;
    if (m.value().empty() && (negative ? present : !present)) {
      continue;
    }
    if (!m.Matches(value)) {
      return false;
    }
  }
  return true;
}

int StateOrder(SilenceState state) {
  switch (state) {
    case SilenceState::kActive:
      return 1;
    case SilenceState::kPending:
      return 2;
    case SilenceState::kExpired:
      return 3;
  }
  return 3;
}

HttpServerResponse GetSilences(const ApiV2Sources* sources, const HttpServerRequest& request) {
  auto filter = FilterParam(request);
  if (!filter.ok()) {
    return ErrorResponse(400, filter.error().message());
  }
  TimePoint now = sources->clock ? sources->clock->Now() : TimePoint{};
  std::vector<StoredSilence> silences;
  if (sources->silences) {
    for (auto& silence : sources->silences->List()) {
      if (SilenceMatchesFilter(silence, *filter)) {
        silences.push_back(std::move(silence));
      }
    }
  }
  // Alertmanager's SortSilences: active by end, then pending by start, then expired by end,
  // latest first.
  std::stable_sort(silences.begin(), silences.end(), [now](const auto& a, const auto& b) {
    SilenceState sa = StateOf(a, now);
    SilenceState sb = StateOf(b, now);
    if (sa != sb) {
      return StateOrder(sa) < StateOrder(sb);
    }
    switch (sa) {
      case SilenceState::kActive:
        return a.ends_at < b.ends_at;
      case SilenceState::kPending:
        return a.starts_at < b.starts_at;
      case SilenceState::kExpired:
        return a.ends_at > b.ends_at;
    }
    return false;
  });
  json list = json::array();
  for (const auto& silence : silences) {
    list.push_back(SilenceJson(silence, now));
  }
  return JsonResponse(200, list);
}

HttpServerResponse PostSilence(const ApiV2Sources* sources, const HttpServerRequest& request) {
  if (sources->silences == nullptr) {
    return ErrorResponse(503, "alertd is starting: silences are not ready, retry later");
  }
  auto silence = ParsePostableSilence(request.body);
  if (!silence.ok()) {
    Logger("api")->debug("Rejected a silence remote={} err={}",
                         request.remote_address,
                         LogValue(silence.error().message()));
    return ErrorResponse(400, silence.error().message());
  }
  auto id = sources->silences->Set(std::move(silence).value());
  if (!id.ok()) {
    Logger("api")->debug("Rejected a silence remote={} err={}",
                         request.remote_address,
                         LogValue(id.error().message()));
    return StatusError(id.error());
  }
  Logger("api")->info("Silence stored id={}", *id);
  return JsonResponse(200, json{{"silenceID", *id}});
}

std::string SilenceIdOf(const HttpServerRequest& request) {
  static constexpr std::string_view kPrefix = "/api/v2/silence/";
  return request.path.substr(std::min(request.path.size(), kPrefix.size()));
}

HttpServerResponse GetSilence(const ApiV2Sources* sources, const HttpServerRequest& request) {
  std::string id = SilenceIdOf(request);
  std::optional<StoredSilence> silence;
  if (sources->silences) {
    silence = sources->silences->Get(id);
  }
  if (!silence) {
    return ErrorResponse(404, "silence \"" + id + "\" not found");
  }
  TimePoint now = sources->clock ? sources->clock->Now() : TimePoint{};
  return JsonResponse(200, SilenceJson(*silence, now));
}

HttpServerResponse DeleteSilence(const ApiV2Sources* sources, const HttpServerRequest& request) {
  std::string id = SilenceIdOf(request);
  if (sources->silences == nullptr) {
    return ErrorResponse(404, "silence \"" + id + "\" not found");
  }
  if (Status s = sources->silences->Expire(id); !s.ok()) {
    return StatusError(s.error());
  }
  Logger("api")->info("Silence expired id={}", LogValue(id));
  return EmptyOk();
}

HttpServerResponse GetReceivers(const ApiV2Sources* sources) {
  json list = json::array();
  for (const auto& name : sources->receivers) {
    list.push_back({{"name", name}});
  }
  return JsonResponse(200, list);
}

HttpServerResponse GetStatus(const ApiV2Sources* sources) {
  json body;
  body["cluster"] = {{"peers", json::array()}, {"status", "disabled"}};
  body["config"] = {{"original", sources->config_original}};
  body["uptime"] = TimeJson(sources->started_at);
  body["versionInfo"] = {{"branch", ""},
                         {"buildDate", ""},
                         {"buildUser", ""},
                         {"goVersion", ""},
                         {"revision", ""},
                         {"version", sources->version}};
  return JsonResponse(200, body);
}

// Config redaction.

const std::set<std::string>& SecretKeys() {
  static const std::set<std::string> keys = {"password",
                                             "auth_password",
                                             "auth_secret",
                                             "smtp_auth_password",
                                             "smtp_auth_secret",
                                             "credentials",
                                             "bearer_token",
                                             "service_key",
                                             "routing_key",
                                             "api_key",
                                             "opsgenie_api_key",
                                             "victorops_api_key",
                                             "wechat_api_secret",
                                             "api_secret",
                                             "token",
                                             "bot_token",
                                             "client_secret",
                                             "slack_api_url",
                                             "dsn",
                                             "auth_token",
                                             "secret"};  // webhook_receivers hmac.secret
  return keys;
}

void Redact(YAML::Node node, const std::string& parent_key) {
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = it->first.as<std::string>("");
      YAML::Node value = it->second;
      if (value.IsScalar()) {
        std::string text = value.as<std::string>("");
        if (text.empty()) {
          continue;
        }
        if (SecretKeys().count(key) || (key == "api_url" && parent_key == "slack_configs")) {
          it->second = "<secret>";
        } else if ((key == "url" && parent_key == "webhook_configs") || key == "proxy_url") {
          it->second = RedactUrl(text);
        }
        continue;
      }
      Redact(value, key);
    }
  } else if (node.IsSequence()) {
    for (auto item : node) {
      Redact(item, parent_key);
    }
  }
}

void DropRouteExtensions(YAML::Node route) {
  if (!route.IsMap()) {
    return;
  }
  route.remove("notify_resolved_when_muted");
  if (YAML::Node children = route["routes"]; children && children.IsSequence()) {
    for (auto child : children) {
      DropRouteExtensions(child);
    }
  }
}

}  // namespace

std::optional<TimePoint> ParseApiV2Time(std::string_view s) {
  return ParseRfc3339Time(s);
}

Result<std::vector<StoreAlert>> ParsePostableAlerts(std::string_view body,
                                                    TimePoint now,
                                                    Duration resolve_timeout) {
  auto parsed = ParseBody(body);
  if (!parsed.ok()) {
    return parsed.error();
  }
  if (!parsed->is_array()) {
    return Error::Invalid("the body must be a JSON array of alerts, not " + TypeName(*parsed));
  }
  std::vector<StoreAlert> alerts;
  std::string errors;
  for (size_t i = 0; i < parsed->size(); ++i) {
    auto alert = ParseOneAlert((*parsed)[i], i + 1, now, resolve_timeout);
    if (!alert.ok()) {
      errors += (errors.empty() ? "" : "; ") + alert.error().message();
      continue;
    }
    alerts.push_back(std::move(alert).value());
  }
  if (!errors.empty()) {
    return Error::Invalid(errors);
  }
  return alerts;
}

Result<StoredSilence> ParsePostableSilence(std::string_view body) {
  auto parsed = ParseBody(body);
  if (!parsed.ok()) {
    return parsed.error();
  }
  const json& object = *parsed;
  if (!object.is_object()) {
    return Error::Invalid("the body must be a JSON object (a silence), not " + TypeName(object));
  }
  StoredSilence silence;
  const std::string where = "silence: ";
  for (auto [name, field] : {std::pair{"id", &StoredSilence::id},
                             std::pair{"createdBy", &StoredSilence::created_by},
                             std::pair{"comment", &StoredSilence::comment}}) {
    auto it = object.find(name);
    if (it == object.end() || it->is_null()) {
      if (std::string_view(name) != "id") {
        return Error::Invalid(where + "field \"" + name + "\" is missing");
      }
      continue;
    }
    if (!it->is_string()) {
      return Error::Invalid(where + "field \"" + name + "\" must be a string, not " +
                            TypeName(*it));
    }
    silence.*field = it->get<std::string>();
  }
  for (const char* name : {"startsAt", "endsAt"}) {
    if (!object.contains(name) || object[name].is_null()) {
      return Error::Invalid(where + "field \"" + name + "\" is missing");
    }
  }
  auto starts = TimeField(object, "startsAt", where);
  if (!starts.ok()) {
    return starts.error();
  }
  auto ends = TimeField(object, "endsAt", where);
  if (!ends.ok()) {
    return ends.error();
  }
  silence.starts_at = *starts;
  silence.ends_at = *ends;
  auto matchers = object.find("matchers");
  if (matchers == object.end() || matchers->is_null()) {
    return Error::Invalid(where + "field \"matchers\" is missing");
  }
  if (!matchers->is_array()) {
    return Error::Invalid(where + "field \"matchers\" must be an array, not " +
                          TypeName(*matchers));
  }
  for (size_t i = 0; i < matchers->size(); ++i) {
    const json& item = (*matchers)[i];
    std::string at = "silence matcher " + std::to_string(i + 1) + ": ";
    if (!item.is_object()) {
      return Error::Invalid(at + "must be an object, not " + TypeName(item));
    }
    StoredSilenceMatcher matcher;
    for (auto [name, field] : {std::pair{"name", &StoredSilenceMatcher::name},
                               std::pair{"value", &StoredSilenceMatcher::value}}) {
      auto it = item.find(name);
      if (it == item.end() || it->is_null()) {
        return Error::Invalid(at + "field \"" + name + "\" is missing");
      }
      if (!it->is_string()) {
        return Error::Invalid(at + "field \"" + name + "\" must be a string, not " + TypeName(*it));
      }
      matcher.*field = it->get<std::string>();
    }
    for (auto [name, field, required] :
         {std::tuple{"isRegex", &StoredSilenceMatcher::is_regex, true},
          std::tuple{"isEqual", &StoredSilenceMatcher::is_equal, false}}) {
      auto it = item.find(name);
      if (it == item.end() || it->is_null()) {
        if (required) {
          return Error::Invalid(at + "field \"" + name + "\" is missing");
        }
        continue;
      }
      if (!it->is_boolean()) {
        return Error::Invalid(at + "field \"" + name + "\" must be true or false, not " +
                              TypeName(*it));
      }
      matcher.*field = it->get<bool>();
    }
    silence.matchers.push_back(std::move(matcher));
  }
  return silence;
}

json SilenceJson(const StoredSilence& silence, TimePoint now) {
  json matchers = json::array();
  for (const auto& m : silence.matchers) {
    matchers.push_back(
        {{"isEqual", m.is_equal}, {"isRegex", m.is_regex}, {"name", m.name}, {"value", m.value}});
  }
  json out;
  out["id"] = silence.id;
  out["status"] = {{"state", SilenceStateName(StateOf(silence, now))}};
  out["updatedAt"] = TimeJson(silence.updated_at);
  out["comment"] = silence.comment;
  out["createdBy"] = silence.created_by;
  out["endsAt"] = TimeJson(silence.ends_at);
  out["matchers"] = matchers;
  out["startsAt"] = TimeJson(silence.starts_at);
  return out;
}

Result<std::string> AlertmanagerConfigOriginal(const std::string& yaml_text) {
  static const std::set<std::string> kTopLevel = {"global",
                                                  "route",
                                                  "receivers",
                                                  "inhibit_rules",
                                                  "templates",
                                                  "time_intervals",
                                                  "mute_time_intervals"};
  try {
    YAML::Node root = YAML::Load(yaml_text);
    YAML::Node out(YAML::NodeType::Map);
    if (root.IsMap()) {
      for (auto it = root.begin(); it != root.end(); ++it) {
        std::string key = it->first.as<std::string>("");
        if (!kTopLevel.count(key)) {
          continue;
        }
        if (key == "global" && it->second.IsMap()) {
          YAML::Node global(YAML::NodeType::Map);
          for (auto g = it->second.begin(); g != it->second.end(); ++g) {
            std::string name = g->first.as<std::string>("");
            const auto& global_fields = config::AlertmanagerGlobalFields();
            if (std::find(global_fields.begin(), global_fields.end(), name) !=
                global_fields.end()) {
              global[name] = YAML::Clone(g->second);
            }
          }
          out[key] = global;
          continue;
        }
        out[key] = YAML::Clone(it->second);
      }
    }
    if (YAML::Node route = out["route"]) {
      DropRouteExtensions(route);
    }
    if (YAML::Node receivers = out["receivers"]; receivers && receivers.IsSequence()) {
      for (auto receiver : receivers) {
        if (receiver.IsMap()) {
          receiver.remove("sentry_configs");
        }
      }
    }
    Redact(out, "");
    YAML::Emitter emitter;
    emitter << out;
    return std::string(emitter.c_str()) + "\n";
  } catch (const YAML::Exception& e) {
    return Error::Invalid(std::string("invalid configuration YAML: ") + e.what());
  }
}

Result<std::string> RedactedConfigYaml(const std::string& yaml_text) {
  try {
    YAML::Node root = YAML::Load(yaml_text);
    if (!root.IsDefined() || root.IsNull()) {
      return std::string();
    }
    Redact(root, "");
    YAML::Emitter emitter;
    emitter << root;
    return std::string(emitter.c_str()) + "\n";
  } catch (const YAML::Exception& e) {
    return Error::Invalid(std::string("invalid configuration YAML: ") + e.what());
  }
}

void RegisterApiV2(HttpServer& server, const ApiV2Sources* sources) {
  server.Handle("POST", "/api/v2/alerts", [sources](const HttpServerRequest& request) {
    return PostAlerts(sources, request);
  });
  server.Handle("GET", "/api/v2/alerts", [sources](const HttpServerRequest& request) {
    return GetAlerts(sources, request);
  });
  server.Handle("GET", "/api/v2/alerts/groups", [sources](const HttpServerRequest& request) {
    return GetAlertGroups(sources, request);
  });
  server.Handle("GET", "/api/v2/silences", [sources](const HttpServerRequest& request) {
    return GetSilences(sources, request);
  });
  server.Handle("POST", "/api/v2/silences", [sources](const HttpServerRequest& request) {
    return PostSilence(sources, request);
  });
  server.HandlePrefix("GET", "/api/v2/silence/", [sources](const HttpServerRequest& request) {
    return GetSilence(sources, request);
  });
  server.HandlePrefix("DELETE", "/api/v2/silence/", [sources](const HttpServerRequest& request) {
    return DeleteSilence(sources, request);
  });
  server.Handle("GET", "/api/v2/receivers", [sources](const HttpServerRequest&) {
    return GetReceivers(sources);
  });
  server.Handle(
      "GET", "/api/v2/status", [sources](const HttpServerRequest&) { return GetStatus(sources); });
}

}  // namespace alertd
