// RFC 3339 times as Go's time.Parse(time.RFC3339Nano) reads them, for the JSON APIs and
// payloads that Prometheus, Alertmanager and Grafana send.
#pragma once

#include <optional>
#include <string_view>

#include "common/clock.h"

namespace alertd {

// Parses an RFC 3339 time with a four-digit year, such as 2021-10-12T09:51:03.157076+02:00.
// Go's zero time "0001-01-01T00:00:00Z" gives TimePoint{}; a time a TimePoint cannot hold
// (before 1678 or after 2262) gives nullopt.
std::optional<TimePoint> ParseRfc3339Time(std::string_view text);

}  // namespace alertd
