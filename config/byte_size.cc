// Byte sizes as Prometheus's body_size_limit reads them (github.com/alecthomas/units
// ParseBase2Bytes, used by Prometheus 2.42): a sequence of number-unit pairs such as 1.5MiB or
// 1GiB512MiB, where KB, MB, ... are 1024 based like KiB, MiB, .... alertd also reads a plain
// integer as bytes, which Prometheus rejects.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "config/config_internal.h"

namespace alertd::config::internal {
namespace {

using UnitTable = std::array<std::pair<std::string_view, long double>, 7>;

constexpr long double kKi = 1024.0L;
// ParseBase2Bytes tries the IEC names first, then the older names, as two separate tables:
// one value cannot mix KiB and KB.
constexpr UnitTable kIecUnits{{{"B", 1.0L},
                               {"KiB", kKi},
                               {"MiB", kKi* kKi},
                               {"GiB", kKi* kKi* kKi},
                               {"TiB", kKi* kKi* kKi* kKi},
                               {"PiB", kKi* kKi* kKi* kKi* kKi},
                               {"EiB", kKi* kKi* kKi* kKi* kKi* kKi}}};
constexpr UnitTable kOldUnits{{{"B", 1.0L},
                               {"KB", kKi},
                               {"MB", kKi* kKi},
                               {"GB", kKi* kKi* kKi},
                               {"TB", kKi* kKi* kKi* kKi},
                               {"PB", kKi* kKi* kKi* kKi* kKi},
                               {"EB", kKi* kKi* kKi* kKi* kKi* kKi}}};

// Prometheus stores the size in an int64.
constexpr long double kMaxBytes = 9223372036854775807.0L;

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// Returns the bytes `text` means with `units`, or nullopt when it is not a sequence of
// number-unit pairs of that table.
std::optional<long double> ParseWithUnits(std::string_view text, const UnitTable& units) {
  long double total = 0;
  while (!text.empty()) {
    size_t i = 0;
    long double number = 0;
    bool has_digits = false;
    for (; i < text.size() && IsDigit(text[i]); ++i) {
      number = number * 10 + (text[i] - '0');
      has_digits = true;
    }
    if (i < text.size() && text[i] == '.') {
      ++i;
      long double scale = 0.1L;
      for (; i < text.size() && IsDigit(text[i]); ++i) {
        number += (text[i] - '0') * scale;
        scale /= 10;
        has_digits = true;
      }
    }
    if (!has_digits) {
      return std::nullopt;
    }
    size_t unit_end = i;
    while (unit_end < text.size() && !IsDigit(text[unit_end]) && text[unit_end] != '.') {
      ++unit_end;
    }
    std::string_view unit = text.substr(i, unit_end - i);
    const auto* found = std::find_if(
        units.begin(), units.end(), [unit](const auto& entry) { return entry.first == unit; });
    if (found == units.end()) {
      return std::nullopt;
    }
    total += number * found->second;
    text.remove_prefix(unit_end);
  }
  return total;
}

std::string Quote(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

}  // namespace

std::optional<uint64_t> ReadByteSize(const yaml::Entry& entry, const yaml::ErrorSink& errors) {
  if (entry.value.IsNull()) {
    return std::nullopt;
  }
  const std::string example =
      "use a plain number of bytes or a number with a unit such as "
      "512KiB, 10MB or 1GiB (KB, MB and GB are 1024 based like KiB, MiB "
      "and GiB)";
  if (!entry.value.IsScalar()) {
    errors(entry.value_position(),
           entry.key + " must be a byte size such as 1MiB, got " + yaml::KindName(entry.value));
    return std::nullopt;
  }
  const std::string& text = entry.value.Scalar();
  std::string_view rest = text;
  if (rest.starts_with('-')) {
    errors(entry.value_position(),
           "invalid byte size " + Quote(text) + " in " + entry.key +
               ": it must not be negative; use 0 for no limit");
    return std::nullopt;
  }
  if (rest.starts_with('+')) {
    rest.remove_prefix(1);
  }
  const std::string too_large = "invalid byte size " + Quote(text) + " in " + entry.key +
                                ": it is larger than the maximum of 8EiB minus one byte";
  if (!rest.empty() && std::all_of(rest.begin(), rest.end(), IsDigit)) {
    uint64_t bytes = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), bytes);
    if (ec != std::errc() || end != rest.data() + rest.size() ||
        bytes > static_cast<uint64_t>(INT64_MAX)) {
      errors(entry.value_position(), too_large);
      return std::nullopt;
    }
    return bytes;
  }
  std::optional<long double> bytes;
  if (!rest.empty()) {
    bytes = ParseWithUnits(rest, kIecUnits);
    if (!bytes) {
      bytes = ParseWithUnits(rest, kOldUnits);
    }
  }
  if (!bytes) {
    errors(entry.value_position(),
           "invalid byte size " + Quote(text) + " in " + entry.key + ": " + example);
    return std::nullopt;
  }
  if (*bytes > kMaxBytes) {
    errors(entry.value_position(), too_large);
    return std::nullopt;
  }
  // Go converts the float64 sum to int64, which drops the fraction of a byte.
  return static_cast<uint64_t>(std::floor(*bytes));
}

}  // namespace alertd::config::internal
