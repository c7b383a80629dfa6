// Builds TimePoints from UTC calendar fields for the notifiers tests.
#pragma once

#include <chrono>
#include <ctime>

#include "common/clock.h"

namespace alertd::testing {

inline TimePoint Utc(
    int year, int month, int day, int hour, int minute, int second, long nanos = 0) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  auto since_epoch = std::chrono::seconds(timegm(&tm)) + std::chrono::nanoseconds(nanos);
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(since_epoch));
}

}  // namespace alertd::testing
