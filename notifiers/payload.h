// Encoding helpers shared by the integrations, so their payloads match what Alertmanager 0.25
// (a Go program) sends byte for byte: Go's time format, Go's JSON escaping, Go's query escaping.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/labels.h"
#include "notifiers/notifier.h"

namespace alertd {

// Formats `t` in UTC as Go's time.Time marshals to JSON (RFC 3339 with nanoseconds, trailing
// zeros of the fraction trimmed): 2026-12-04T15:38:11.123Z. TimePoint{} is Go's zero time,
// 0001-01-01T00:00:00Z.
std::string FormatGoTime(TimePoint t);

// Serialises `value` as Go's json.Encoder does: compact, object keys in insertion order, '<',
// '>', '&', U+2028 and U+2029 escaped as \uXXXX, and a trailing newline.
std::string EncodeGoJson(const nlohmann::ordered_json& value);

// A label set as a JSON object, keys sorted by name.
nlohmann::ordered_json LabelsToJson(const Labels& labels);

// Escapes `text` for a URL query as Go's url.QueryEscape: space becomes '+', and every byte
// except A-Z a-z 0-9 '-' '_' '.' '~' becomes %XX.
std::string QueryEscape(std::string_view text);

// Escapes the regular expression metacharacters of `text` with a backslash, as Go's
// regexp.QuoteMeta: \ . + * ? ( ) | [ ] { } ^ $.
std::string GoQuoteMeta(std::string_view text);

// Alertmanager's template data for `notification`: Receiver (escaped by GoQuoteMeta, as
// Alertmanager 0.25's template.Data does, so "team.a" reads "team\.a"), Status, Alerts (Status,
// Labels, Annotations, StartsAt, EndsAt, GeneratorURL, Fingerprint), GroupLabels, CommonLabels,
// CommonAnnotations, ExternalURL. Times are strings in FormatGoTime's format.
nlohmann::json TemplateData(const Notification& notification);

}  // namespace alertd
