#include "common/rfc3339.h"

#include <cstdint>
#include <ctime>

namespace alertd {
namespace {

constexpr int64_t kGoZeroTimeSeconds = -62135596800;  // 0001-01-01T00:00:00Z
// Whole seconds a TimePoint (int64 nanoseconds since 1970) can hold.
constexpr int64_t kMinTimeSeconds = -9'223'372'035;
constexpr int64_t kMaxTimeSeconds = 9'223'372'035;

}  // namespace

std::optional<TimePoint> ParseRfc3339Time(std::string_view s) {
  auto digits = [&s](size_t pos, size_t n) -> std::optional<int> {
    if (pos + n > s.size()) {
      return std::nullopt;
    }
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') {
        return std::nullopt;
      }
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
  auto hour = digits(11, 2), minute = digits(14, 2), second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || s[4] != '-' || s[7] != '-' ||
      (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 ||
      *second > 59) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (pos - start < 9) {
        nanos = nanos * 10 + (s[pos] - '0');
      }
      ++pos;
    }
    if (pos == start) {
      return std::nullopt;
    }
    for (size_t n = pos - start; n < 9; ++n) {
      nanos *= 10;
    }
  }
  int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    size_t sign = pos;
    auto oh = digits(pos + 1, 2), om = digits(pos + 4, 2);
    if (!oh || !om || pos + 3 >= s.size() || s[pos + 3] != ':' || *oh > 23 || *om > 59) {
      return std::nullopt;
    }
    offset_s = (s[sign] == '-' ? -1 : 1) * (*oh * 3600 + *om * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) {
    return std::nullopt;
  }

  struct tm tm {};

  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  const int64_t seconds = static_cast<int64_t>(timegm(&tm)) - offset_s;
  if (seconds == kGoZeroTimeSeconds && nanos == 0) {
    return TimePoint{};
  }
  // TimePoint counts nanoseconds in 64 bits, so it spans 1677-09-21 to 2262-04-11 only.
  if (seconds < kMinTimeSeconds || seconds > kMaxTimeSeconds) {
    return std::nullopt;
  }
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::seconds(seconds) + std::chrono::nanoseconds(nanos)));
}

}  // namespace alertd
