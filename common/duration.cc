#include "common/duration.h"

#include <array>
#include <cstdint>
#include <limits>

namespace alertd {
namespace {

struct Unit {
  std::string_view suffix;
  int64_t millis;
};

// Ordered as they must appear in a duration.
constexpr std::array<Unit, 7> kUnits = {{
    {"y", 365LL * 24 * 3600 * 1000},
    {"w", 7LL * 24 * 3600 * 1000},
    {"d", 24LL * 3600 * 1000},
    {"h", 3600LL * 1000},
    {"m", 60LL * 1000},
    {"s", 1000},
    {"ms", 1},
}};

Error InvalidDuration(std::string_view text) {
  return Error::Invalid("invalid duration \"" + std::string(text) +
                        "\": use a number followed by a unit (ms, s, m, h, d, w, y), "
                        "for example 30s or 1h30m");
}

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  if (text == "0") {
    return Duration(0);
  }
  if (text.empty()) {
    return Error::Invalid("empty duration: use a number followed by a unit, for example 30s");
  }
  int64_t total = 0;
  size_t next_unit = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t digits_start = pos;
    int64_t n = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (n > (std::numeric_limits<int64_t>::max() - 9) / 10) {
        return Error::Invalid("duration \"" + std::string(text) + "\" is out of range");
      }
      n = n * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == digits_start) {
      return InvalidDuration(text);
    }
    size_t unit_start = pos;
    while (pos < text.size() && text[pos] >= 'a' && text[pos] <= 'z') {
      ++pos;
    }
    std::string_view suffix = text.substr(unit_start, pos - unit_start);
    size_t u = next_unit;
    while (u < kUnits.size() && kUnits[u].suffix != suffix) {
      ++u;
    }
    if (u == kUnits.size()) {
      return InvalidDuration(text);
    }
    if (n > std::numeric_limits<int64_t>::max() / kUnits[u].millis ||
        total > std::numeric_limits<int64_t>::max() - n * kUnits[u].millis) {
      return Error::Invalid("duration \"" + std::string(text) + "\" is out of range");
    }
    total += n * kUnits[u].millis;
    next_unit = u + 1;
  }
  return Duration(total);
}

std::string FormatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) {
    return "0s";
  }
  std::string out;
  if (ms < 0) {
    out += '-';
    ms = -ms;
  }
  for (const auto& unit : kUnits) {
    if (ms >= unit.millis) {
      out += std::to_string(ms / unit.millis);
      out += unit.suffix;
      ms %= unit.millis;
    }
  }
  return out;
}

}  // namespace alertd
