// Prometheus durations: "1h30m", "500ms", "2d". The syntax is Prometheus's model.ParseDuration:
// units y, w, d, h, m, s, ms, each at most once and in that order; "0" is zero.
#pragma once

#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace alertd {

// Parses a duration; the error message names the value and the expected form.
Result<Duration> ParseDuration(std::string_view text);

// Formats as Prometheus does: the largest units first, zero parts omitted, "0s" for zero.
std::string FormatDuration(Duration d);

}  // namespace alertd
