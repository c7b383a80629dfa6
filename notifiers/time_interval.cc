#include "notifiers/time_interval.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <optional>
#include <string_view>
#include <utility>

namespace alertd {

namespace {

constexpr int64_t kSecondsPerDay = 86400;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

bool IsLeap(int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeap(year) ? 29 : kDays[month - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, int& m, int& d) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = yoe + era * 400 + (m <= 2 ? 1 : 0);
}

// 0 = Sunday; 1970-01-01 was a Thursday.
int WeekdayOfDays(int64_t days) {
  const int64_t weekday = (days + 4) % 7;
  return static_cast<int>(weekday < 0 ? weekday + 7 : weekday);
}

}  // namespace

// One date rule of a POSIX TZ string: Mm.w.d, Jn or n, with the local time of the change.
struct TimeZone::PosixRule {
  struct Date {
    char kind = 'M';  // 'M' month/week/day, 'J' day 1..365 without Feb 29, 'N' day 0..365
    int month = 0;
    int week = 0;
    int weekday = 0;
    int day = 0;
    int64_t time = 7200;  // seconds after local midnight; POSIX default 02:00
  };

  int32_t std_offset = 0;  // seconds east of UTC
  bool has_dst = false;
  int32_t dst_offset = 0;
  Date start;
  Date end;

  // Days since the epoch of `date` in `year`.
  static int64_t DayOf(const Date& date, int64_t year) {
    if (date.kind == 'J') {
      int day = date.day - 1;  // zero-based, Feb 29 not counted
      if (IsLeap(year) && date.day >= 60) {
        ++day;
      }
      return DaysFromCivil(year, 1, 1) + day;
    }
    if (date.kind == 'N') {
      return DaysFromCivil(year, 1, 1) + date.day;
    }
    const int64_t first = DaysFromCivil(year, date.month, 1);
    int day = 1 + (date.weekday - WeekdayOfDays(first) + 7) % 7 + (date.week - 1) * 7;
    while (day > DaysInMonth(year, date.month)) {
      day -= 7;
    }
    return first + day - 1;
  }

  int32_t OffsetAt(int64_t t) const {
    if (!has_dst) {
      return std_offset;
    }
    int64_t year;
    int month;
    int day;
    CivilFromDays(FloorDiv(t + std_offset, kSecondsPerDay), year, month, day);
    // Changes happen at local time: the start in standard time, the end in daylight time.
    const int64_t begin = DayOf(start, year) * kSecondsPerDay + start.time - std_offset;
    const int64_t finish = DayOf(end, year) * kSecondsPerDay + end.time - dst_offset;
    const bool dst = begin < finish ? (t >= begin && t < finish) : !(t >= finish && t < begin);
    return dst ? dst_offset : std_offset;
  }
};

namespace {

using PosixRule = TimeZone::PosixRule;

class PosixParser {
 public:
  explicit PosixParser(std::string_view text) : text_(text) {}

  std::optional<PosixRule> Parse() {
    PosixRule rule;
    if (!Name()) {
      return std::nullopt;
    }
    auto std_offset = Offset();
    if (!std_offset) {
      return std::nullopt;
    }
    rule.std_offset = static_cast<int32_t>(-*std_offset);  // POSIX counts west of UTC
    if (AtEnd()) {
      return rule;
    }

    if (!Name()) {
      return std::nullopt;
    }
    rule.has_dst = true;
    rule.dst_offset = rule.std_offset + 3600;
    if (!AtEnd() && Peek() != ',') {
      auto dst_offset = Offset();
      if (!dst_offset) {
        return std::nullopt;
      }
      rule.dst_offset = static_cast<int32_t>(-*dst_offset);
    }

    // Without a rule, POSIX leaves the dates to the implementation. This uses the US rules, as
    // glibc's default posixrules file (America/New_York) does.
    rule.start = PosixRule::Date{.kind = 'M', .month = 3, .week = 2, .weekday = 0};
    rule.end = PosixRule::Date{.kind = 'M', .month = 11, .week = 1, .weekday = 0};
    if (AtEnd()) {
      return rule;
    }
    if (!Eat(',') || !DateRule(rule.start) || !Eat(',') || !DateRule(rule.end) || !AtEnd()) {
      return std::nullopt;
    }
    return rule;
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }

  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }

  bool Eat(char c) {
    if (Peek() != c) {
      return false;
    }
    ++pos_;
    return true;
  }

  bool Name() {
    if (Eat('<')) {
      size_t close = text_.find('>', pos_);
      if (close == std::string_view::npos) {
        return false;
      }
      pos_ = close + 1;
      return true;
    }
    size_t begin = pos_;
    while (std::isalpha(static_cast<unsigned char>(Peek()))) {
      ++pos_;
    }
    return pos_ - begin >= 3;
  }

  std::optional<int64_t> Number() {
    size_t begin = pos_;
    int64_t value = 0;
    while (std::isdigit(static_cast<unsigned char>(Peek())) && pos_ - begin < 4) {
      value = value * 10 + (text_[pos_++] - '0');
    }
    if (pos_ == begin) {
      return std::nullopt;
    }
    return value;
  }

  // Parses [+-]hh[:mm[:ss]] into seconds.
  std::optional<int64_t> Offset() {
    int64_t sign = 1;
    if (Eat('-')) {
      sign = -1;
    } else {
      Eat('+');
    }
    auto hours = Number();
    if (!hours) {
      return std::nullopt;
    }
    int64_t seconds = *hours * 3600;
    for (int64_t unit : {60, 1}) {
      if (!Eat(':')) {
        break;
      }
      auto part = Number();
      if (!part) {
        return std::nullopt;
      }
      seconds += *part * unit;
    }
    return sign * seconds;
  }

  bool DateRule(PosixRule::Date& date) {
    if (Eat('M')) {
      auto month = Number();
      std::optional<int64_t> week;
      std::optional<int64_t> weekday;
      if (!month || !Eat('.') || !(week = Number()) || !Eat('.') || !(weekday = Number())) {
        return false;
      }
      if (*month < 1 || *month > 12 || *week < 1 || *week > 5 || *weekday > 6) {
        return false;
      }
      date = PosixRule::Date{.kind = 'M',
                             .month = static_cast<int>(*month),
                             .week = static_cast<int>(*week),
                             .weekday = static_cast<int>(*weekday)};
    } else {
      const char kind = Eat('J') ? 'J' : 'N';
      auto day = Number();
      if (!day || *day > 365 || (kind == 'J' && *day < 1)) {
        return false;
      }
      date = PosixRule::Date{.kind = kind, .day = static_cast<int>(*day)};
    }
    if (Eat('/')) {
      auto time = Offset();  // RFC 8536 allows -167..167 hours
      if (!time) {
        return false;
      }
      date.time = *time;
    }
    return true;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  bool Skip(size_t n) {
    if (data_.size() - pos_ < n) {
      return false;
    }
    pos_ += n;
    return true;
  }

  std::optional<int64_t> Int(size_t width) {
    if (data_.size() - pos_ < width) {
      return std::nullopt;
    }
    uint64_t value = 0;
    for (size_t i = 0; i < width; ++i) {
      value = (value << 8) | static_cast<unsigned char>(data_[pos_ + i]);
    }
    pos_ += width;
    if (width == 4) {
      return static_cast<int32_t>(static_cast<uint32_t>(value));
    }
    return static_cast<int64_t>(value);  // 1 byte: unsigned; 8 bytes: two's complement
  }

  std::string_view Rest() const { return data_.substr(pos_); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

struct Counts {
  int64_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

std::optional<Counts> ReadHeader(Reader& reader, char& version) {
  std::string_view magic = reader.Rest().substr(0, 5);
  if (magic.size() < 5 || magic.substr(0, 4) != "TZif") {
    return std::nullopt;
  }
  version = magic[4];
  reader.Skip(20);
  Counts counts{};
  for (int64_t* field : {&counts.isutcnt,
                         &counts.isstdcnt,
                         &counts.leapcnt,
                         &counts.timecnt,
                         &counts.typecnt,
                         &counts.charcnt}) {
    auto value = reader.Int(4);
    if (!value || *value < 0) {
      return std::nullopt;
    }
    *field = *value;
  }
  if (counts.typecnt == 0) {
    return std::nullopt;
  }
  return counts;
}

bool ValidZoneName(const std::string& name) {
  if (name.empty() || name.front() == '/' || name.size() > 255) {
    return false;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
          c == '+' || c == '.')) {
      return false;
    }
    if (c == '.' && (i == 0 || name[i - 1] == '/')) {
      return false;  // no "..", no hidden files
    }
  }
  return true;
}

}  // namespace

TimeZone::TimeZone(std::string name,
                   std::vector<int64_t> transitions,
                   std::vector<int32_t> offsets,
                   int32_t initial_offset,
                   std::shared_ptr<const PosixRule> footer)
    : name_(std::move(name)),
      transitions_(std::move(transitions)),
      offsets_(std::move(offsets)),
      initial_offset_(initial_offset),
      footer_(std::move(footer)) {}

std::shared_ptr<const TimeZone> TimeZone::Utc() {
  static const auto kUtc = std::make_shared<const TimeZone>(
      "UTC", std::vector<int64_t>{}, std::vector<int32_t>{}, 0, nullptr);
  return kUtc;
}

Result<std::shared_ptr<const TimeZone>> TimeZone::Load(const std::string& name,
                                                       const std::string& dir) {
  if (name.empty() || name == "UTC") {
    return Utc();
  }
  if (!ValidZoneName(name)) {
    return Error::Invalid("time zone " + name +
                          " is not a valid IANA zone name; use a name such as Europe/Berlin");
  }
  const std::string path = dir + "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error::NotFound("time zone " + name + " was not found: cannot read " + path +
                           "; check the name or install the tz database (tzdata)");
  }
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const Error bad = Error::Invalid("time zone file " + path + " is not a valid TZif file");
  Reader reader(data);
  char version = 0;
  auto counts = ReadHeader(reader, version);
  if (!counts) {
    return bad;
  }
  size_t width = 4;
  if (version >= '2') {
    // Skips the 32-bit block, because the 64-bit block after it has the full range.
    const Counts& c = *counts;
    if (!reader.Skip(c.timecnt * 5 + c.typecnt * 6 + c.charcnt + c.leapcnt * 8 + c.isstdcnt +
                     c.isutcnt)) {
      return bad;
    }
    counts = ReadHeader(reader, version);
    if (!counts) {
      return bad;
    }
    width = 8;
  }
  const Counts& c = *counts;
  std::vector<int64_t> transitions;
  for (int64_t i = 0; i < c.timecnt; ++i) {
    auto t = reader.Int(width);
    if (!t) {
      return bad;
    }
    transitions.push_back(*t);
  }
  std::vector<int64_t> indices;
  for (int64_t i = 0; i < c.timecnt; ++i) {
    auto index = reader.Int(1);
    if (!index || *index >= c.typecnt) {
      return bad;
    }
    indices.push_back(*index);
  }
  std::vector<int32_t> type_offsets;
  for (int64_t i = 0; i < c.typecnt; ++i) {
    auto offset = reader.Int(4);
    if (!offset || !reader.Skip(2)) {
      return bad;
    }
    type_offsets.push_back(static_cast<int32_t>(*offset));
  }
  if (!reader.Skip(c.charcnt + c.leapcnt * (width + 4) + c.isstdcnt + c.isutcnt)) {
    return bad;
  }
  std::vector<int32_t> offsets;
  for (int64_t index : indices) {
    offsets.push_back(type_offsets[index]);
  }
  std::shared_ptr<const PosixRule> footer;
  if (width == 8) {
    std::string_view rest = reader.Rest();
    if (rest.size() >= 2 && rest.front() == '\n') {
      std::string_view tz = rest.substr(1, rest.find('\n', 1) - 1);
      if (!tz.empty()) {
        auto rule = PosixParser(tz).Parse();
        if (!rule) {
          return bad;
        }
        footer = std::make_shared<const PosixRule>(*rule);
      }
    }
  }
  if (!std::is_sorted(transitions.begin(), transitions.end())) {
    return bad;
  }
  return std::make_shared<const TimeZone>(
      name, std::move(transitions), std::move(offsets), type_offsets[0], std::move(footer));
}

int64_t TimeZone::OffsetAt(int64_t unix_seconds) const {
  if (transitions_.empty() || unix_seconds >= transitions_.back()) {
    if (footer_) {
      return footer_->OffsetAt(unix_seconds);
    }
    return transitions_.empty() ? initial_offset_ : offsets_.back();
  }
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), unix_seconds);
  if (it == transitions_.begin()) {
    return initial_offset_;
  }
  return offsets_[static_cast<size_t>(it - transitions_.begin()) - 1];
}

CivilTime ToCivil(TimePoint t, const TimeZone& zone) {
  const int64_t unix_seconds =
      FloorDiv(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count(),
               1'000'000'000);
  const int64_t local = unix_seconds + zone.OffsetAt(unix_seconds);
  const int64_t days = FloorDiv(local, kSecondsPerDay);
  CivilTime civil;
  int64_t year;
  CivilFromDays(days, year, civil.month, civil.day);
  civil.year = static_cast<int>(year);
  civil.weekday = WeekdayOfDays(days);
  civil.minute_of_day = static_cast<int>((local - days * kSecondsPerDay) / 60);
  civil.days_in_month = DaysInMonth(year, civil.month);
  return civil;
}

bool SpecContainsTime(const config::TimeIntervalSpec& spec, const TimeZone& zone, TimePoint t) {
  const CivilTime civil = ToCivil(t, zone);
  using Ranges = std::vector<config::TimeIntervalSpec::Range>;
  auto any = [](const Ranges& ranges, auto contains) {
    return ranges.empty() || std::any_of(ranges.begin(), ranges.end(), contains);
  };
  using Range = config::TimeIntervalSpec::Range;
  if (!any(spec.times, [&](const Range& r) {
        return civil.minute_of_day >= r.begin && civil.minute_of_day < r.end;
      })) {
    return false;
  }
  if (!any(spec.days_of_month, [&](const Range& r) {
        const int days = civil.days_in_month;
        int begin = r.begin < 0 ? days + r.begin + 1 : r.begin;
        int end = r.end < 0 ? days + r.end + 1 : r.end;
        if (begin > days) {
          return false;  // the month does not have that day
        }
        begin = std::clamp(begin, -days, days);
        end = std::clamp(end, -days, days);
        return civil.day >= begin && civil.day <= end;
      })) {
    return false;
  }
  auto within = [](int value) {
    return [value](const Range& r) {
      return value >= r.begin && value <= r.end;
    };
  };
  return any(spec.months, within(civil.month)) && any(spec.weekdays, within(civil.weekday)) &&
         any(spec.years, within(civil.year));
}

Result<TimeIntervalMatcher> TimeIntervalMatcher::Create(const config::TimeInterval& interval,
                                                        const std::string& zoneinfo_dir) {
  TimeIntervalMatcher matcher;
  matcher.name_ = interval.name;
  for (const config::TimeIntervalSpec& spec : interval.time_intervals) {
    auto zone = TimeZone::Load(spec.location, zoneinfo_dir);
    if (!zone.ok()) {
      return zone.error().WithContext("time interval " + interval.name);
    }
    matcher.specs_.push_back(spec);
    matcher.zones_.push_back(std::move(*zone));
  }
  return matcher;
}

bool TimeIntervalMatcher::ContainsTime(TimePoint t) const {
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (SpecContainsTime(specs_[i], *zones_[i], t)) {
      return true;
    }
  }
  return false;
}

}  // namespace alertd
