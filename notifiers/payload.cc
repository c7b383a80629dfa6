#include "notifiers/payload.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace alertd {

std::string FormatGoTime(TimePoint t) {
  if (t == TimePoint{}) {
    return "0001-01-01T00:00:00Z";
  }
  auto since_epoch = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
  auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  int64_t nanos = (since_epoch - seconds).count();
  std::time_t secs = static_cast<std::time_t>(seconds.count());
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf,
                sizeof(buf),
                "%04d-%02d-%02dT%02d:%02d:%02d",
                tm.tm_year + 1900,
                tm.tm_mon + 1,
                tm.tm_mday,
                tm.tm_hour,
                tm.tm_min,
                tm.tm_sec);
  std::string out = buf;
  if (nanos > 0) {
    char frac[32];
    std::snprintf(frac, sizeof(frac), ".%09lld", static_cast<long long>(nanos));
    std::string fraction = frac;
    while (fraction.back() == '0') {
      fraction.pop_back();
    }
    out += fraction;
  }
  out += 'Z';
  return out;
}

std::string EncodeGoJson(const nlohmann::ordered_json& value) {
  // Invalid UTF-8 is replaced rather than thrown on; Go's encoder replaces it with U+FFFD too.
  std::string dumped = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(dumped.size() + 16);
  // These characters can only occur inside JSON strings, so replacing them in the serialised
  // text keeps the document valid.
  for (size_t i = 0; i < dumped.size(); ++i) {
    char c = dumped[i];
    if (c == '\\' && i + 1 < dumped.size()) {
      // Go 1.19, which built Alertmanager 0.25, has no short escapes for backspace and form
      // feed. Escape pairs are copied whole so an escaped backslash is never misread.
      char next = dumped[i + 1];
      if (next == 'b') {
        out += "\\u0008";
      } else if (next == 'f') {
        out += "\\u000c";
      } else {
        out += c;
        out += next;
      }
      ++i;
    } else if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xe2' && i + 2 < dumped.size() && dumped[i + 1] == '\x80' &&
               (dumped[i + 2] == '\xa8' || dumped[i + 2] == '\xa9')) {
      out += dumped[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  out += '\n';
  return out;
}

nlohmann::ordered_json LabelsToJson(const Labels& labels) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& label : labels) {
    out[label.name] = label.value;
  }
  return out;
}

std::string QueryEscape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

namespace {

nlohmann::json KeyValueObject(const Labels& labels) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& label : labels) {
    out[label.name] = label.value;
  }
  return out;
}

}  // namespace

std::string GoQuoteMeta(std::string_view text) {
  constexpr std::string_view kSpecial = "\\.+*?()|[]{}^$";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (kSpecial.find(c) != std::string_view::npos) {
      out += '\\';
    }
    out += c;
  }
  return out;
}

nlohmann::json TemplateData(const Notification& notification) {
  nlohmann::json alerts = nlohmann::json::array();
  for (const auto& alert : notification.alerts) {
    alerts.push_back({
        {"Status", alert.status()},
        {"Labels", KeyValueObject(alert.labels)},
        {"Annotations", KeyValueObject(alert.annotations)},
        {"StartsAt", FormatGoTime(alert.starts_at)},
        {"EndsAt", FormatGoTime(alert.ends_at)},
        {"GeneratorURL", alert.generator_url},
        {"Fingerprint", alert.fingerprint()},
    });
  }
  return {
      {"Receiver", GoQuoteMeta(notification.receiver)},
      {"Status", notification.status},
      {"Alerts", alerts},
      {"GroupLabels", KeyValueObject(notification.group_labels)},
      {"CommonLabels", KeyValueObject(notification.common_labels)},
      {"CommonAnnotations", KeyValueObject(notification.common_annotations)},
      {"ExternalURL", notification.external_url},
  };
}

}  // namespace alertd
