// Payload parsers of the inbound webhook endpoints: Alertmanager's webhook body (version 4,
// notify/webhook/webhook.go of Alertmanager 0.25) and Grafana's webhook contact point body,
// which extends it.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/rfc3339.h"
#include "notifiers/inbound/endpoint.h"

namespace alertd::inbound {
namespace {

using nlohmann::json;

std::string TypeName(const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::null:
      return "null";
    default:
      return "a number";
  }
}

// Checks that an optional field is a string; returns it, or "" when absent or null.
Result<std::string> StringField(const json& object, const char* name, const std::string& where) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) {
    return std::string();
  }
  if (!it->is_string()) {
    return Error::Invalid(where + "field \"" + name + "\" must be a string, not " + TypeName(*it));
  }
  return it->get<std::string>();
}

Result<TimePoint> TimeField(const json& object, const char* name, const std::string& where) {
  auto text = StringField(object, name, where);
  if (!text.ok()) {
    return text.error();
  }
  if (text->empty()) {
    return TimePoint{};
  }
  std::optional<TimePoint> t = ParseRfc3339Time(*text);
  if (!t) {
    return Error::Invalid(where + "invalid time \"" + *text + "\" in field \"" + name +
                          "\": use RFC 3339 between the years 1678 and 2261, e.g. "
                          "2023-11-14T22:13:20Z");
  }
  return *t;
}

// An object of strings, checked as POST /api/v2/alerts checks labels and annotations. Empty
// values are dropped, as Alertmanager's removeEmptyLabels does.
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

Result<StoreAlert> ParseAlert(const json& item,
                              size_t position,
                              PayloadType type,
                              TimePoint now,
                              const Labels& group_annotations) {
  std::string where = "alert " + std::to_string(position) + ": ";
  if (!item.is_object()) {
    return Error::Invalid(where + "must be an object, not " + TypeName(item));
  }
  auto status = StringField(item, "status", where);
  if (!status.ok()) {
    return status.error();
  }
  if (*status != "firing" && *status != "resolved") {
    return Error::Invalid(where + "field \"status\" must be \"firing\" or \"resolved\", not \"" +
                          *status + "\"");
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
  if (!alert.labels.Has("alertname")) {
    return Error::Invalid(where + "the alert has no alertname label; every alert needs one");
  }
  auto annotations = LabelSetField(item, "annotations", where, "annotation");
  if (!annotations.ok()) {
    return annotations.error();
  }
  auto starts = TimeField(item, "startsAt", where);
  if (!starts.ok()) {
    return starts.error();
  }
  auto ends = TimeField(item, "endsAt", where);
  if (!ends.ok()) {
    return ends.error();
  }
  auto url = StringField(item, "generatorURL", where);
  if (!url.ok()) {
    return url.error();
  }
  alert.generator_url = *url;
  auto fingerprint = StringField(item, "fingerprint", where);
  if (!fingerprint.ok()) {
    return fingerprint.error();
  }
  LabelsBuilder notes(group_annotations);
  for (const Label& label : *annotations) {
    notes.Set(label.name, label.value);
  }
  if (type == PayloadType::kGrafana) {
    for (auto [field, annotation] : {std::pair{"silenceURL", "silence_url"},
                                     std::pair{"dashboardURL", "dashboard_url"},
                                     std::pair{"panelURL", "panel_url"},
                                     std::pair{"valueString", "grafana_value_string"}}) {
      auto value = StringField(item, field, where);
      if (!value.ok()) {
        return value.error();
      }
      notes.Set(annotation, *value);
    }
    if (auto values = item.find("values"); values != item.end() && !values->is_null()) {
      if (!values->is_object()) {
        return Error::Invalid(where + "field \"values\" must be an object, not " +
                              TypeName(*values));
      }
      notes.Set("grafana_values", values->dump());
    }
  }
  alert.annotations = notes.Build();
  alert.starts_at = *starts;
  if (*status == "resolved") {
    // A resolution ends the alert now at the latest, whatever endsAt the sender gave.
    alert.ends_at = *ends == TimePoint{} || *ends > now ? now : *ends;
    if (alert.starts_at == TimePoint{} || alert.starts_at > alert.ends_at) {
      alert.starts_at = alert.ends_at;
    }
  } else if (alert.starts_at > now) {
    alert.starts_at = now;
  }
  return alert;
}

}  // namespace

Result<std::vector<StoreAlert>> ParseNotificationPayload(const json& body,
                                                         PayloadType type,
                                                         TimePoint now) {
  if (!body.is_object()) {
    return Error::Invalid("the body must be a JSON object (a webhook notification), not " +
                          TypeName(body));
  }
  const std::string top;
  for (const char* name : {"version", "groupKey", "status", "receiver", "externalURL"}) {
    if (auto field = StringField(body, name, top); !field.ok()) {
      return field.error();
    }
  }
  if (type == PayloadType::kAlertmanager) {
    auto version = StringField(body, "version", top);
    if (!version->empty() && *version != "4") {
      return Error::Invalid("webhook payload version \"" + *version +
                            "\" is not supported; Alertmanager 0.25 sends version \"4\"");
    }
  }
  for (const char* name : {"groupLabels", "commonLabels", "commonAnnotations"}) {
    if (auto field = LabelSetField(body, name, top, "label"); !field.ok()) {
      return field.error();
    }
  }
  Labels group_annotations;
  if (type == PayloadType::kGrafana) {
    LabelsBuilder notes;
    if (auto org = body.find("orgId"); org != body.end() && !org->is_null()) {
      if (org->is_number_integer()) {
        notes.Set("grafana_org_id", std::to_string(org->get<int64_t>()));
      } else if (org->is_string()) {
        notes.Set("grafana_org_id", org->get<std::string>());
      } else {
        return Error::Invalid("field \"orgId\" must be an integer, not " + TypeName(*org));
      }
    }
    for (auto [field, annotation] : {std::pair{"state", "grafana_state"},
                                     std::pair{"title", "grafana_title"},
                                     std::pair{"message", "grafana_message"}}) {
      auto value = StringField(body, field, top);
      if (!value.ok()) {
        return value.error();
      }
      notes.Set(annotation, *value);
    }
    group_annotations = notes.Build();
  }
  auto alerts = body.find("alerts");
  if (alerts == body.end()) {
    return Error::Invalid("field \"alerts\" is missing");
  }
  if (!alerts->is_array()) {
    return Error::Invalid("field \"alerts\" must be an array, not " + TypeName(*alerts));
  }
  std::vector<StoreAlert> out;
  out.reserve(alerts->size());
  size_t position = 0;
  for (const json& item : *alerts) {
    auto alert = ParseAlert(item, ++position, type, now, group_annotations);
    if (!alert.ok()) {
      return alert.error();
    }
    out.push_back(std::move(alert).value());
  }
  return out;
}

}  // namespace alertd::inbound
