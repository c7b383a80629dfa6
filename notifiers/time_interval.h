// Alertmanager 0.25's time intervals (timeinterval.TimeInterval.ContainsTime), with the
// `location` time zone read from the system's TZif files. Everything here is immutable after
// construction and safe to share between threads; no function touches the process's TZ
// environment or calls localtime.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "config/config.h"

namespace alertd {

inline constexpr char kZoneInfoDir[] = "/usr/share/zoneinfo";

// The UTC offsets of one IANA time zone over time, from its TZif file.
class TimeZone {
 public:
  // Reads `dir`/`name`, e.g. "Europe/Berlin"; "UTC" and "" need no file. The error names the
  // zone and the file.
  static Result<std::shared_ptr<const TimeZone>> Load(const std::string& name,
                                                      const std::string& dir = kZoneInfoDir);
  static std::shared_ptr<const TimeZone> Utc();

  // Seconds to add to UTC to get local time at `unix_seconds`.
  int64_t OffsetAt(int64_t unix_seconds) const;

  const std::string& name() const { return name_; }

  // A POSIX TZ rule such as "CET-1CEST,M3.5.0,M10.5.0/3", the footer of a TZif file; used for
  // instants after the file's last transition.
  struct PosixRule;

  TimeZone(std::string name,
           std::vector<int64_t> transitions,
           std::vector<int32_t> offsets,
           int32_t initial_offset,
           std::shared_ptr<const PosixRule> footer);

 private:
  std::string name_;
  std::vector<int64_t> transitions_;  // unix seconds, ascending
  std::vector<int32_t> offsets_;      // offset in effect from transitions_[i]
  int32_t initial_offset_;            // before the first transition
  std::shared_ptr<const PosixRule> footer_;
};

// Local calendar fields of an instant in a zone.
struct CivilTime {
  int year = 1970;
  int month = 1;    // 1..12
  int day = 1;      // 1..31
  int weekday = 4;  // 0 = Sunday
  int minute_of_day = 0;
  int days_in_month = 31;
};

CivilTime ToCivil(TimePoint t, const TimeZone& zone);

// Returns whether `spec` contains `t`, as Alertmanager's ContainsTime. The instant is converted
// to `zone`, and each non-empty list must contain it. `times` ranges end before their end
// minute. Negative days_of_month count from the month's end (-1 is the last day), a range that
// begins after the month's last day is skipped, and both ends are clamped to the month.
bool SpecContainsTime(const config::TimeIntervalSpec& spec, const TimeZone& zone, TimePoint t);

// A named time interval with its zones loaded.
class TimeIntervalMatcher {
 public:
  // Loads each spec's location from `zoneinfo_dir`; the error names the interval and zone.
  static Result<TimeIntervalMatcher> Create(const config::TimeInterval& interval,
                                            const std::string& zoneinfo_dir = kZoneInfoDir);

  // Returns whether any of the interval's specs contains `t`.
  bool ContainsTime(TimePoint t) const;

  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::vector<config::TimeIntervalSpec> specs_;
  std::vector<std::shared_ptr<const TimeZone>> zones_;  // one per spec
};

}  // namespace alertd
