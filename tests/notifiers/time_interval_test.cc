#include "notifiers/time_interval.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "notifiers/time_util.h"

namespace alertd {
namespace {

using testing::Utc;
using Range = config::TimeIntervalSpec::Range;

std::shared_ptr<const TimeZone> Zone(const std::string& name) {
  auto zone = TimeZone::Load(name);
  EXPECT_TRUE(zone.ok()) << zone.error().message();
  return zone.ok() ? *zone : TimeZone::Utc();
}

bool Contains(const config::TimeIntervalSpec& spec, TimePoint t) {
  return SpecContainsTime(spec, *Zone(spec.location.empty() ? "UTC" : spec.location), t);
}

TEST(TimeIntervalTest, EmptySpecContainsEveryTime) {
  EXPECT_TRUE(Contains(config::TimeIntervalSpec{}, Utc(2026, 12, 4, 3, 0, 0)));
}

TEST(TimeIntervalTest, TimesEndBeforeTheirEndMinute) {
  config::TimeIntervalSpec spec;
  spec.times = {Range{.begin = 9 * 60, .end = 17 * 60}};

  struct Case {
    int hour, minute, second;
    bool want;
  };

  for (const Case& c : std::vector<Case>{
           {8, 59, 59, false}, {9, 0, 0, true}, {16, 59, 59, true}, {17, 0, 0, false}}) {
    EXPECT_EQ(Contains(spec, Utc(2026, 12, 4, c.hour, c.minute, c.second)), c.want)
        << c.hour << ":" << c.minute << ":" << c.second;
  }
}

TEST(TimeIntervalTest, WeekdaysCountFromSunday) {
  config::TimeIntervalSpec spec;
  spec.weekdays = {Range{.begin = 0, .end = 0}, Range{.begin = 5, .end = 5}};  // Sunday, Friday
  EXPECT_TRUE(Contains(spec, Utc(2026, 12, 4, 12, 0, 0)));                     // a Friday
  EXPECT_FALSE(Contains(spec, Utc(2026, 12, 5, 12, 0, 0)));                    // Saturday
  EXPECT_TRUE(Contains(spec, Utc(2026, 12, 6, 0, 0, 0)));                      // Sunday
  EXPECT_FALSE(Contains(spec, Utc(2026, 12, 7, 0, 0, 0)));                     // Monday
}

TEST(TimeIntervalTest, NegativeDaysCountFromMonthEnd) {
  config::TimeIntervalSpec last_day;
  last_day.days_of_month = {Range{.begin = -1, .end = -1}};
  EXPECT_TRUE(Contains(last_day, Utc(2026, 2, 28, 12, 0, 0)));
  EXPECT_FALSE(Contains(last_day, Utc(2028, 2, 28, 12, 0, 0)));  // a leap year
  EXPECT_TRUE(Contains(last_day, Utc(2028, 2, 29, 12, 0, 0)));
  EXPECT_TRUE(Contains(last_day, Utc(2026, 12, 31, 0, 0, 0)));
  EXPECT_FALSE(Contains(last_day, Utc(2026, 12, 30, 23, 59, 59)));

  config::TimeIntervalSpec last_week;
  last_week.days_of_month = {Range{.begin = -7, .end = -1}};
  EXPECT_TRUE(Contains(last_week, Utc(2026, 11, 24, 0, 0, 0)));
  EXPECT_FALSE(Contains(last_week, Utc(2026, 11, 23, 23, 0, 0)));
}

TEST(TimeIntervalTest, DayRangesStayInTheMonth) {
  // A range beginning after the month's last day never matches in that month.
  config::TimeIntervalSpec late;
  late.days_of_month = {Range{.begin = 30, .end = 31}};
  EXPECT_FALSE(Contains(late, Utc(2026, 2, 28, 12, 0, 0)));
  EXPECT_TRUE(Contains(late, Utc(2026, 4, 30, 12, 0, 0)));
  // -31 in a 28-day month is before its first day: the range is clamped to the month.
  config::TimeIntervalSpec early;
  early.days_of_month = {Range{.begin = -31, .end = -27}};
  EXPECT_TRUE(Contains(early, Utc(2026, 2, 1, 0, 0, 0)));
  EXPECT_TRUE(Contains(early, Utc(2026, 2, 2, 0, 0, 0)));
  EXPECT_FALSE(Contains(early, Utc(2026, 2, 3, 0, 0, 0)));
  // An end past the month's length runs to its last day.
  config::TimeIntervalSpec to_end;
  to_end.days_of_month = {Range{.begin = 28, .end = 31}};
  EXPECT_TRUE(Contains(to_end, Utc(2026, 2, 28, 23, 0, 0)));
  EXPECT_FALSE(Contains(to_end, Utc(2026, 3, 1, 0, 0, 0)));
}

TEST(TimeIntervalTest, MonthsAndYears) {
  config::TimeIntervalSpec spec;
  spec.months = {Range{.begin = 11, .end = 12}};
  spec.years = {Range{.begin = 2026, .end = 2027}};
  EXPECT_TRUE(Contains(spec, Utc(2026, 12, 4, 0, 0, 0)));
  EXPECT_FALSE(Contains(spec, Utc(2026, 10, 31, 23, 59, 59)));
  EXPECT_FALSE(Contains(spec, Utc(2028, 12, 4, 0, 0, 0)));
}

TEST(TimeIntervalTest, LocationConvertsBeforeMatching) {
  config::TimeIntervalSpec spec;
  spec.times = {Range{.begin = 9 * 60, .end = 17 * 60}};
  spec.weekdays = {Range{.begin = 1, .end = 5}};
  spec.location = "America/New_York";
  // Winter: UTC-5.
  EXPECT_FALSE(Contains(spec, Utc(2026, 12, 4, 13, 59, 0)));
  EXPECT_TRUE(Contains(spec, Utc(2026, 12, 4, 14, 0, 0)));
  EXPECT_TRUE(Contains(spec, Utc(2026, 12, 4, 21, 59, 0)));
  EXPECT_FALSE(Contains(spec, Utc(2026, 12, 4, 22, 0, 0)));
  // Summer: UTC-4.
  EXPECT_TRUE(Contains(spec, Utc(2026, 7, 1, 13, 0, 0)));
  EXPECT_FALSE(Contains(spec, Utc(2026, 7, 1, 12, 59, 0)));
  // Saturday 01:00 UTC is still Friday evening in New York, but after 17:00.
  spec.times = {Range{.begin = 20 * 60, .end = 21 * 60}};
  EXPECT_TRUE(Contains(spec, Utc(2026, 12, 5, 1, 30, 0)));
}

TEST(TimeIntervalTest, ZoneFollowsItsRuleAfterTheLastTransition) {
  std::shared_ptr<const TimeZone> berlin = Zone("Europe/Berlin");

  struct Case {
    TimePoint t;
    int64_t offset;
  };

  for (const Case& c : std::vector<Case>{
           {Utc(2026, 1, 15, 12, 0, 0), 3600},
           {Utc(2026, 7, 15, 12, 0, 0), 7200},
           // 2100 is past the transitions in the file: the POSIX rule at its end applies.
           {Utc(2100, 1, 15, 12, 0, 0), 3600},
           {Utc(2100, 7, 15, 12, 0, 0), 7200},
           // Last Sunday of March 2100 is the 28th; the change is at 01:00 UTC.
           {Utc(2100, 3, 28, 0, 59, 59), 3600},
           {Utc(2100, 3, 28, 1, 0, 0), 7200},
           // Last Sunday of October 2100 is the 31st.
           {Utc(2100, 10, 31, 0, 59, 59), 7200},
           {Utc(2100, 10, 31, 1, 0, 0), 3600},
       }) {
    EXPECT_EQ(berlin->OffsetAt(ToMillis(c.t) / 1000), c.offset) << ToMillis(c.t);
  }
  std::shared_ptr<const TimeZone> sydney = Zone("Australia/Sydney");
  EXPECT_EQ(sydney->OffsetAt(ToMillis(Utc(2100, 1, 15, 0, 0, 0)) / 1000), 11 * 3600);
  EXPECT_EQ(sydney->OffsetAt(ToMillis(Utc(2100, 7, 15, 0, 0, 0)) / 1000), 10 * 3600);
  // Rules without daylight time, one with a quoted <-05> name.
  EXPECT_EQ(Zone("Asia/Tokyo")->OffsetAt(ToMillis(Utc(2100, 7, 15, 0, 0, 0)) / 1000), 9 * 3600);
  EXPECT_EQ(Zone("Etc/GMT+5")->OffsetAt(ToMillis(Utc(2100, 7, 15, 0, 0, 0)) / 1000), -5 * 3600);
}

TEST(TimeIntervalTest, UnknownZoneIsAnError) {
  auto zone = TimeZone::Load("Mars/Olympus", "/usr/share/zoneinfo");
  ASSERT_FALSE(zone.ok());
  EXPECT_EQ(zone.error().message(),
            "time zone Mars/Olympus was not found: cannot read /usr/share/zoneinfo/Mars/Olympus; "
            "check the name or install the tz database (tzdata)");
  auto escaping = TimeZone::Load("../etc/passwd");
  ASSERT_FALSE(escaping.ok());
  EXPECT_EQ(escaping.error().message(),
            "time zone ../etc/passwd is not a valid IANA zone name; use a name such as "
            "Europe/Berlin");
  config::TimeInterval interval;
  interval.name = "night";
  config::TimeIntervalSpec spec;
  spec.location = "Nowhere";
  interval.time_intervals = {spec};
  auto matcher = TimeIntervalMatcher::Create(interval, "/usr/share/zoneinfo");
  ASSERT_FALSE(matcher.ok());
  EXPECT_EQ(matcher.error().message(),
            "time interval night: time zone Nowhere was not found: cannot read "
            "/usr/share/zoneinfo/Nowhere; check the name or install the tz database (tzdata)");
}

TEST(TimeIntervalTest, IntervalMatchesWhenAnySpecDoes) {
  config::TimeInterval interval;
  interval.name = "weekend";
  config::TimeIntervalSpec saturday;
  saturday.weekdays = {Range{.begin = 6, .end = 6}};
  config::TimeIntervalSpec sunday;
  sunday.weekdays = {Range{.begin = 0, .end = 0}};
  interval.time_intervals = {saturday, sunday};
  auto matcher = TimeIntervalMatcher::Create(interval);
  ASSERT_TRUE(matcher.ok());
  EXPECT_FALSE(matcher->ContainsTime(Utc(2026, 12, 4, 12, 0, 0)));
  EXPECT_TRUE(matcher->ContainsTime(Utc(2026, 12, 5, 12, 0, 0)));
  EXPECT_TRUE(matcher->ContainsTime(Utc(2026, 12, 6, 12, 0, 0)));
}

}  // namespace
}  // namespace alertd
