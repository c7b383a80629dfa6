// Go time.Time for templates: Time.String, Time.Format with Go's reference layout, RFC 3339
// parsing and the methods templates call on a time.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "rules/template_internal.h"

namespace alertd::template_internal {
namespace {

constexpr std::string_view kLongMonths[] = {"January",
                                            "February",
                                            "March",
                                            "April",
                                            "May",
                                            "June",
                                            "July",
                                            "August",
                                            "September",
                                            "October",
                                            "November",
                                            "December"};
constexpr std::string_view kLongDays[] = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// Broken-down civil time in the value's own offset.
struct Civil {
  int64_t year;
  int month;  // 1-12
  int day;
  int hour;
  int minute;
  int second;
  int64_t nanos;
  int weekday;  // 0 = Sunday
  int yearday;  // 1-366
};

bool IsLeap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

Civil ToCivil(const Value& t) {
  int64_t secs = t.unix_seconds;
  int offset_seconds = t.offset_seconds;
  Civil c;
  c.nanos = t.nanos;
  secs += offset_seconds;
  int64_t days = FloorDiv(secs, 86400);
  int64_t rem = secs - days * 86400;
  c.hour = static_cast<int>(rem / 3600);
  c.minute = static_cast<int>(rem / 60 % 60);
  c.second = static_cast<int>(rem % 60);
  c.weekday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  // Howard Hinnant's civil_from_days.
  int64_t z = days + 719468;
  int64_t era = FloorDiv(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2 ? 1 : 0);
  static constexpr int kDaysBefore[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  c.yearday = kDaysBefore[c.month - 1] + c.day + (c.month > 2 && IsLeap(c.year) ? 1 : 0);
  return c;
}

// Days from 1970-01-01 to a civil date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  int64_t era = FloorDiv(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::string Int(int64_t v, int width, char pad = '0') {
  std::string digits = std::to_string(v < 0 ? -v : v);
  while (static_cast<int>(digits.size()) < width) {
    digits.insert(digits.begin(), pad);
  }
  return (v < 0 ? "-" : "") + digits;
}

// A numeric zone such as -0700, -07:00, -07 or -070000 for `offset_seconds`.
std::string NumericZone(int offset_seconds, bool colon, bool with_minutes, bool with_seconds) {
  int abs = offset_seconds < 0 ? -offset_seconds : offset_seconds;
  std::string out = offset_seconds < 0 ? "-" : "+";
  out += Int(abs / 3600, 2);
  if (with_minutes) {
    out += (colon ? ":" : "") + Int(abs / 60 % 60, 2);
  }
  if (with_seconds) {
    out += (colon ? ":" : "") + Int(abs % 60, 2);
  }
  return out;
}

bool StartsWithLower(std::string_view s) {
  return !s.empty() && s[0] >= 'a' && s[0] <= 'z';
}

bool IsDigitAt(std::string_view s, size_t i) {
  return i < s.size() && s[i] >= '0' && s[i] <= '9';
}

// Appends the layout element at the start of `rest` and returns its length, or 0 when
// `rest` does not start with one.
size_t FormatElement(std::string_view rest, const Civil& c, int offset, std::string* out) {
  auto starts = [&](std::string_view p) {
    return rest.substr(0, p.size()) == p;
  };
  int hour12 = c.hour % 12 == 0 ? 12 : c.hour % 12;
  switch (rest[0]) {
    case 'J':
      if (starts("January")) {
        *out += kLongMonths[c.month - 1];
        return 7;
      }
      if (starts("Jan") && !StartsWithLower(rest.substr(3))) {
        *out += kLongMonths[c.month - 1].substr(0, 3);
        return 3;
      }
      return 0;
    case 'M':
      if (starts("Monday")) {
        *out += kLongDays[c.weekday];
        return 6;
      }
      if (starts("Mon") && !StartsWithLower(rest.substr(3))) {
        *out += kLongDays[c.weekday].substr(0, 3);
        return 3;
      }
      if (starts("MST")) {
        *out += offset == 0 ? "UTC" : NumericZone(offset, false, true, false);
        return 3;
      }
      return 0;
    case '0':
      if (rest.size() >= 2 && rest[1] >= '1' && rest[1] <= '6') {
        int64_t values[] = {c.month, c.day, hour12, c.minute, c.second, c.year % 100};
        *out += Int(values[rest[1] - '1'], 2);
        return 2;
      }
      if (starts("002")) {
        *out += Int(c.yearday, 3);
        return 3;
      }
      return 0;
    case '1':
      if (starts("15")) {
        *out += Int(c.hour, 2);
        return 2;
      }
      *out += std::to_string(c.month);
      return 1;
    case '2':
      if (starts("2006")) {
        *out += Int(c.year, 4);
        return 4;
      }
      *out += std::to_string(c.day);
      return 1;
    case '_':
      if (starts("_2006")) {
        *out += "_" + Int(c.year, 4);
        return 5;
      }
      if (starts("_2")) {
        *out += Int(c.day, 2, ' ');
        return 2;
      }
      if (starts("__2")) {
        *out += Int(c.yearday, 3, ' ');
        return 3;
      }
      return 0;
    case '3':
      *out += std::to_string(hour12);
      return 1;
    case '4':
      *out += std::to_string(c.minute);
      return 1;
    case '5':
      *out += std::to_string(c.second);
      return 1;
    case 'P':
      if (starts("PM")) {
        *out += c.hour >= 12 ? "PM" : "AM";
        return 2;
      }
      return 0;
    case 'p':
      if (starts("pm")) {
        *out += c.hour >= 12 ? "pm" : "am";
        return 2;
      }
      return 0;
    case '-':
    case 'Z': {
      bool z = rest[0] == 'Z';

      struct ZoneForm {
        std::string_view suffix;
        bool colon, minutes, seconds;
      };

      static constexpr ZoneForm kForms[] = {{"070000", false, true, true},
                                            {"07:00:00", true, true, true},
                                            {"0700", false, true, false},
                                            {"07:00", true, true, false},
                                            {"07", false, false, false}};
      for (const ZoneForm& f : kForms) {
        if (rest.substr(1, f.suffix.size()) == f.suffix) {
          *out += z && offset == 0 ? "Z" : NumericZone(offset, f.colon, f.minutes, f.seconds);
          return 1 + f.suffix.size();
        }
      }
      return 0;
    }
    case '.':
    case ',': {
      if (rest.size() < 2 || (rest[1] != '0' && rest[1] != '9')) {
        return 0;
      }
      size_t j = 1;
      while (j < rest.size() && rest[j] == rest[1]) {
        ++j;
      }
      if (IsDigitAt(rest, j)) {
        return 0;
      }
      std::string frac = Int(c.nanos, 9).substr(0, j - 1);
      if (rest[1] == '9') {
        while (!frac.empty() && frac.back() == '0') {
          frac.pop_back();
        }
        if (!frac.empty()) {
          *out += rest[0] + frac;
        }
      } else {
        *out += rest[0] + frac;
      }
      return j;
    }
    default:
      return 0;
  }
}

[[noreturn]] void Fail(std::string message) {
  throw FuncError{std::move(message)};
}

// The receiver of a time method, from a time value or an RFC 3339 string.
Value AsTime(const Value& v) {
  if (v.kind == Value::Kind::kTime) {
    return v;
  }
  Value time;
  if (v.IsString() && ParseRfc3339(v.json.get_ref<const std::string&>(), &time)) {
    return time;
  }
  Fail("value is not a time");
}

Civil CivilOf(const Value& t) {
  return ToCivil(t);
}

FuncSpec Method(std::vector<ParamType> params,
                std::function<Value(const CallContext&, std::vector<Value>&)> fn) {
  return FuncSpec{std::move(params), false, std::move(fn)};
}

}  // namespace

Value Value::Time(int64_t unix_nanos, int offset) {
  int64_t seconds = FloorDiv(unix_nanos, 1000000000);
  return Time(seconds, unix_nanos - seconds * 1000000000, offset);
}

std::string FormatGoTime(const Value& time, std::string_view layout) {
  Civil c = ToCivil(time);
  int offset_seconds = time.offset_seconds;
  std::string out;
  size_t i = 0;
  while (i < layout.size()) {
    size_t n = FormatElement(layout.substr(i), c, offset_seconds, &out);
    if (n == 0) {
      out.push_back(layout[i]);
      n = 1;
    }
    i += n;
  }
  return out;
}

std::string GoTimeString(const Value& t) {
  return FormatGoTime(t, "2006-01-02 15:04:05.999999999 -0700 MST");
}

bool ParseRfc3339(std::string_view s, Value* time) {
  auto digits = [&](size_t pos, size_t n, int64_t* v) {
    if (pos + n > s.size()) {
      return false;
    }
    *v = 0;
    for (size_t k = pos; k < pos + n; ++k) {
      if (s[k] < '0' || s[k] > '9') {
        return false;
      }
      *v = *v * 10 + (s[k] - '0');
    }
    return true;
  };
  int64_t y, mo, d, h, mi, se;
  if (!digits(0, 4, &y) || s.size() < 20 || s[4] != '-' || !digits(5, 2, &mo) || s[7] != '-' ||
      !digits(8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(11, 2, &h) || s[13] != ':' ||
      !digits(14, 2, &mi) || s[16] != ':' || !digits(17, 2, &se)) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) {
    return false;
  }
  size_t pos = 19;
  int64_t frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (pos - start < 9) {
        frac = frac * 10 + (s[pos] - '0');
      }
      ++pos;
    }
    if (pos == start) {
      return false;
    }
    for (size_t k = pos - start; k < 9; ++k) {
      frac *= 10;
    }
  }
  int offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':') {
    int64_t oh, om;
    if (!digits(pos + 1, 2, &oh) || !digits(pos + 4, 2, &om)) {
      return false;
    }
    offset = static_cast<int>((oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1));
    pos += 6;
  } else {
    return false;
  }
  if (pos != s.size()) {
    return false;
  }
  int64_t days = DaysFromCivil(y, static_cast<int>(mo), static_cast<int>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset;
  *time = Value::Time(secs, frac, offset);
  return true;
}

const std::map<std::string, FuncSpec, std::less<>>& TimeMethods() {
  using P = ParamType;
  static const std::map<std::string, FuncSpec, std::less<>> kMethods = [] {
    std::map<std::string, FuncSpec, std::less<>> m;
    auto int_method = [](int64_t (*get)(const Value&)) {
      return Method({}, [get](auto&, auto& a) { return Value::Json(get(AsTime(a[0]))); });
    };
    m["Format"] = Method({P::kString}, [](auto&, auto& a) {
      Value t = AsTime(a[0]);
      return Value::Json(FormatGoTime(t, a[1].json.template get<std::string>()));
    });
    m["String"] =
        Method({}, [](auto&, auto& a) { return Value::Json(GoTimeString(AsTime(a[0]))); });
    m["UTC"] = Method({}, [](auto&, auto& a) {
      Value t = AsTime(a[0]);
      return Value::Time(t.unix_seconds, t.nanos, 0);
    });
    m["Unix"] = int_method([](const Value& t) { return t.unix_seconds; });
    m["UnixMilli"] =
        int_method([](const Value& t) { return t.unix_seconds * 1000 + t.nanos / 1000000; });
    m["UnixNano"] =
        int_method([](const Value& t) { return t.unix_seconds * 1000000000 + t.nanos; });
    m["Year"] = int_method([](const Value& t) { return CivilOf(t).year; });
    m["Day"] = int_method([](const Value& t) { return int64_t{CivilOf(t).day}; });
    m["Hour"] = int_method([](const Value& t) { return int64_t{CivilOf(t).hour}; });
    m["Minute"] = int_method([](const Value& t) { return int64_t{CivilOf(t).minute}; });
    m["Second"] = int_method([](const Value& t) { return int64_t{CivilOf(t).second}; });
    m["Nanosecond"] = int_method([](const Value& t) { return CivilOf(t).nanos; });
    m["YearDay"] = int_method([](const Value& t) { return int64_t{CivilOf(t).yearday}; });
    // Month and Weekday return Go enum types that print as their names.
    m["Month"] = Method({}, [](auto&, auto& a) {
      return Value::Json(std::string(kLongMonths[CivilOf(AsTime(a[0])).month - 1]));
    });
    m["Weekday"] = Method({}, [](auto&, auto& a) {
      return Value::Json(std::string(kLongDays[CivilOf(AsTime(a[0])).weekday]));
    });
    return m;
  }();
  return kMethods;
}

}  // namespace alertd::template_internal
