// Parses a Go text/template and executes it over fixed alert data, in both dialects and the
// three ways alertd runs templates: a standalone template, an alerting rule's annotation, and
// an Alertmanager notification text over a template set.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/labels.h"
#include "rules/template.h"

namespace {

// Output beyond this is a runaway template; the fuzzer treats it as a finding.
constexpr size_t kMaxOutput = 1 << 20;

const nlohmann::json& NotificationData() {
  static const nlohmann::json data = nlohmann::json::parse(R"({
    "Receiver": "team-x",
    "Status": "firing",
    "Alerts": [
      {"Status": "firing", "Labels": {"alertname": "HighLatency", "severity": "page"},
       "Annotations": {"summary": "Latency is high", "runbook": "https://runbooks.example/x"},
       "StartsAt": "2023-01-02T03:04:05.678Z", "EndsAt": "0001-01-01T00:00:00Z",
       "GeneratorURL": "http://prometheus.example/graph", "Fingerprint": "8d3e0a1b2c3d4e5f"},
      {"Status": "resolved", "Labels": {"alertname": "DiskFull", "instance": "db:9100"},
       "Annotations": {"description": "Disk is 99% full"},
       "StartsAt": "2023-01-02T00:00:00Z", "EndsAt": "2023-01-02T01:00:00Z",
       "GeneratorURL": "", "Fingerprint": "0000000000000001"}
    ],
    "GroupLabels": {"alertname": "HighLatency"},
    "CommonLabels": {"alertname": "HighLatency"},
    "CommonAnnotations": {"summary": "Latency is high"},
    "ExternalURL": "http://alertd.example:9093",
    "Numbers": [1, 2.5, -3, 1e300],
    "Nested": {"a": {"b": [true, false, null]}}
  })");
  return data;
}

void CheckOutput(const alertd::Result<std::string>& out) {
  if (out.ok() && out->size() > kMaxOutput) {
    std::fprintf(stderr, "template output of %zu bytes exceeds %zu\n", out->size(), kMaxOutput);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  // The first byte picks how the rest runs, so one corpus covers every entry point.
  const uint8_t mode = data[0];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  alertd::TemplateOptions options;
  options.external_url = "http://alertd.example:9093/prefix";
  options.query = [](const std::string& expr) -> alertd::Result<nlohmann::json> {
    return nlohmann::json::array(
        {{{"Labels", {{"__name__", "up"}, {"instance", expr.substr(0, 16)}}}, {"Value", 1.5}},
         {{"Labels", {{"__name__", "up"}, {"job", "node"}}}, {"Value", 0}}});
  };

  switch ((mode & 0x0F) % 3) {
    case 0: {
      alertd::ParseOptions parse_options;
      parse_options.dialect = (mode & 0x80) ? alertd::TemplateDialect::kAlertmanager
                                            : alertd::TemplateDialect::kPrometheus;
      auto tmpl = alertd::Template::Parse("fuzz", text, parse_options);
      if (tmpl.ok()) {
        if (mode & 0x40) {
          options.missing_key = alertd::MissingKey::kZero;
        }
        CheckOutput(tmpl->Execute(NotificationData(), options));
      }
      break;
    }
    case 1: {
      alertd::Labels labels{{"alertname", "HighLatency"}, {"instance", "web-1:9100"}};
      alertd::Labels external{{"cluster", "eu-1"}};
      CheckOutput(alertd::ExpandAlertTemplate(
          "__alert_HighLatency", text, labels, external, options.external_url, 0.25, options));
      static_cast<void>(alertd::CheckAlertTemplate(text));
      break;
    }
    default: {
      alertd::TemplateSet set;
      if (set.AddFile("fuzz.tmpl", text).ok()) {
        CheckOutput(set.ExecuteText(R"({{ template "fuzz" . }})", NotificationData(), options));
      }
      CheckOutput(set.ExecuteText(text, NotificationData(), options));
      break;
    }
  }
  return 0;
}
