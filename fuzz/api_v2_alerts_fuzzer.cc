// Parses arbitrary request bodies of POST /api/v2/alerts and POST /api/v2/silences, which any
// client that reaches the listen address can send.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "app/api_v2.h"
#include "common/clock.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  // 2023-01-02T03:04:05Z, a fixed time so a finding replays.
  const alertd::TimePoint now{alertd::Duration{1672628645000}};
  auto alerts = alertd::ParsePostableAlerts(body, now, alertd::Duration{300000});
  if (alerts.ok()) {
    for (const auto& alert : *alerts) {
      if (alert.labels.empty()) {
        std::fprintf(stderr, "an accepted alert has no labels\n");
        std::abort();
      }
      if (alert.starts_at != alertd::TimePoint{} && alert.ends_at != alertd::TimePoint{} &&
          alert.ends_at < alert.starts_at) {
        std::fprintf(stderr, "an accepted alert ends before it starts\n");
        std::abort();
      }
    }
  }
  static_cast<void>(alertd::ParsePostableSilence(body));
  static_cast<void>(alertd::ParseApiV2Time(body.substr(0, 64)));
  return 0;
}
