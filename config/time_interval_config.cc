// time_intervals and mute_time_intervals, read as Alertmanager 0.25's timeinterval package
// reads them, and the `templates` list.
#include <charconv>
#include <fstream>

#include "config/config_internal.h"

namespace alertd::config::internal {
namespace {

using yaml::Entry;
using yaml::Position;

const yaml::Schema kNamedIntervalSchema{"time interval", {"name", "time_intervals"}, {}, {}};

const yaml::Schema kIntervalSpecSchema{
    "time interval entry",
    {"times", "weekdays", "days_of_month", "months", "years", "location"},
    {},
    {}};

const yaml::Schema kTimeRangeSchema{"times entry", {"start_time", "end_time"}, {}, {}};

constexpr std::string_view kWeekdays[] = {
    "sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
constexpr std::string_view kMonths[] = {"january",
                                        "february",
                                        "march",
                                        "april",
                                        "may",
                                        "june",
                                        "july",
                                        "august",
                                        "september",
                                        "october",
                                        "november",
                                        "december"};

std::string Quote(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

// Go's strconv.Atoi: an optional sign and decimal digits.
std::optional<int> Atoi(std::string_view text) {
  if (text.starts_with('+')) {
    text.remove_prefix(1);
  }
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty() ||
      text.starts_with('+')) {
    return std::nullopt;
  }
  return value;
}

// "HH:MM" from 00:00 to 24:00 as minutes of the day.
std::optional<int> ParseClock(std::string_view text) {
  if (text == "24:00") {
    return 1440;
  }
  if (text.size() != 5 || text[2] != ':') {
    return std::nullopt;
  }
  auto digit = [&](size_t i) {
    return text[i] >= '0' && text[i] <= '9';
  };
  if (!digit(0) || !digit(1) || !digit(3) || !digit(4)) {
    return std::nullopt;
  }
  int hours = (text[0] - '0') * 10 + (text[1] - '0');
  int minutes = (text[3] - '0') * 10 + (text[4] - '0');
  if (hours > 23 || minutes > 59) {
    return std::nullopt;
  }
  return hours * 60 + minutes;
}

// One member of a range: `names` (lower case, index + `first`) or a number.
struct RangeKind {
  std::string_view what;  // "weekday", "day of the month", ...
  const std::string_view* names = nullptr;
  size_t name_count = 0;
  int first = 0;
  bool numbers = true;
};

// Splits "a:b" or "a" into a range as Alertmanager's stringableRangeFromString does; returns
// the problem in `problem`.
std::optional<TimeIntervalSpec::Range> ParseRange(std::string_view text,
                                                  const RangeKind& kind,
                                                  std::string& problem) {
  std::string lower = Lower(text);
  auto member = [&](std::string_view part) -> std::optional<int> {
    for (size_t i = 0; i < kind.name_count; ++i) {
      if (kind.names[i] == part) {
        return static_cast<int>(i) + kind.first;
      }
    }
    if (kind.numbers) {
      if (std::optional<int> number = Atoi(part)) {
        return number;
      }
    }
    problem = Quote(part) + " is not a valid " + std::string(kind.what);
    return std::nullopt;
  };
  size_t colon = lower.find(':');
  if (colon == std::string::npos) {
    std::optional<int> value = member(lower);
    if (!value) {
      return std::nullopt;
    }
    return TimeIntervalSpec::Range{*value, *value};
  }
  if (lower.find(':', colon + 1) != std::string::npos) {
    problem = "invalid range " + Quote(text) + ": use START:END";
    return std::nullopt;
  }
  std::optional<int> begin = member(std::string_view(lower).substr(0, colon));
  if (!begin) {
    return std::nullopt;
  }
  std::optional<int> end = member(std::string_view(lower).substr(colon + 1));
  if (!end) {
    return std::nullopt;
  }
  return TimeIntervalSpec::Range{*begin, *end};
}

// Returns why `name` is not a time zone of the tz database, or "" when it is one.
std::string LocationProblem(const std::string& name) {
  if (name.empty() || name == "UTC" || name == "Local") {
    return "";
  }
  if (name.find("..") != std::string::npos || name.starts_with('/') ||
      name.find('\\') != std::string::npos) {
    return "unknown time zone " + Quote(name) + ": use an IANA name such as Europe/Berlin";
  }
  std::ifstream in("/usr/share/zoneinfo/" + name, std::ios::binary);
  char magic[4] = {};
  if (!in.read(magic, 4) || std::string_view(magic, 4) != "TZif") {
    return "unknown time zone " + Quote(name) +
           ": use an IANA name such as Europe/Berlin, as listed under /usr/share/zoneinfo";
  }
  return "";
}

// Go's filepath.Match syntax: returns why `pattern` is malformed, or "".
std::string GlobProblem(std::string_view pattern) {
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      if (++i >= pattern.size()) {
        return "it ends with a lone backslash";
      }
      continue;
    }
    if (c != '[') {
      continue;
    }
    ++i;
    if (i < pattern.size() && pattern[i] == '^') {
      ++i;
    }
    bool first = true;
    bool closed = false;
    while (i < pattern.size()) {
      if (pattern[i] == ']' && !first) {
        closed = true;
        break;
      }
      first = false;
      auto take_char = [&]() -> bool {
        if (i >= pattern.size() || pattern[i] == '-' || pattern[i] == ']') {
          return false;
        }
        if (pattern[i] == '\\') {
          ++i;
          if (i >= pattern.size()) {
            return false;
          }
        }
        ++i;
        return true;
      };
      if (!take_char()) {
        return "a [...] character class in it is malformed";
      }
      if (i < pattern.size() && pattern[i] == '-') {
        ++i;
        if (!take_char()) {
          return "a range in a [...] character class in it is malformed";
        }
      }
    }
    if (!closed) {
      return "a [ in it is not closed by ]";
    }
  }
  return "";
}

}  // namespace

void Loader::LoadTimeIntervals(const Entry& entry, bool mute) {
  if (entry.value.IsNull()) {
    return;
  }
  if (!entry.value.IsSequence()) {
    Report(entry.value_position(),
           entry.key + " must be a list of time intervals, got " + yaml::KindName(entry.value));
    return;
  }
  for (const YAML::Node& node : entry.value) {
    TimeInterval interval;
    Position position = yaml::PositionOf(node);
    interval.mark = MarkAt(position);
    size_t errors_before = errors_.size();
    yaml::Fields fields = yaml::ReadMapping(node, kNamedIntervalSchema, Sink());
    if (!node.IsMap() && !node.IsNull()) {
      continue;
    }
    if (const Entry* name = fields.Find("name")) {
      interval.name = yaml::ReadString(*name, Sink()).value_or("");
    }
    if (interval.name.empty()) {
      Report(position,
             std::string(mute ? "mute time interval" : "time interval") +
                 " has no name; set name to a unique name");
    } else {
      auto previous = std::find_if(config_.time_intervals.begin(),
                                   config_.time_intervals.end(),
                                   [&](const TimeInterval& t) { return t.name == interval.name; });
      if (previous != config_.time_intervals.end()) {
        Report(position,
               "time interval name " + Quote(interval.name) +
                   " is already used by the time interval at " +
                   (previous->mark.file == interval.mark.file
                        ? "line " + std::to_string(previous->mark.line)
                        : previous->mark.file + ":" + std::to_string(previous->mark.line)) +
                   "; names must be unique across time_intervals and mute_time_intervals");
      }
    }
    if (const Entry* specs = fields.Find("time_intervals");
        specs != nullptr && !specs->value.IsNull()) {
      if (!specs->value.IsSequence()) {
        Report(specs->value_position(),
               "time_intervals must be a list, got " + yaml::KindName(specs->value));
      } else {
        for (const YAML::Node& spec_node : specs->value) {
          if (std::optional<TimeIntervalSpec> spec = LoadTimeIntervalSpec(spec_node)) {
            interval.time_intervals.push_back(std::move(*spec));
          }
        }
      }
    }
    if (errors_.size() == errors_before) {
      config_.time_intervals.push_back(std::move(interval));
    } else if (!interval.name.empty()) {
      invalid_time_intervals_.push_back(interval.name);
    }
  }
}

std::optional<TimeIntervalSpec> Loader::LoadTimeIntervalSpec(const YAML::Node& node) {
  TimeIntervalSpec spec;
  size_t errors_before = errors_.size();
  yaml::Fields fields = yaml::ReadMapping(node, kIntervalSpecSchema, Sink());
  if (const Entry* times = fields.Find("times"); times != nullptr && !times->value.IsNull()) {
    if (!times->value.IsSequence()) {
      Report(times->value_position(), "times must be a list, got " + yaml::KindName(times->value));
    } else {
      for (const YAML::Node& item : times->value) {
        Position position = yaml::PositionOf(item);
        yaml::Fields range = yaml::ReadMapping(item, kTimeRangeSchema, Sink());
        const Entry* start = range.Find("start_time");
        const Entry* end = range.Find("end_time");
        std::string start_text = start ? yaml::ReadString(*start, Sink()).value_or("") : "";
        std::string end_text = end ? yaml::ReadString(*end, Sink()).value_or("") : "";
        if (start_text.empty() || end_text.empty()) {
          Report(position, "times entry needs both start_time and end_time, as HH:MM");
          continue;
        }
        std::optional<int> begin_minute = ParseClock(start_text);
        std::optional<int> end_minute = ParseClock(end_text);
        if (!begin_minute || !end_minute) {
          const Entry* bad = begin_minute ? end : start;
          Report(bad->value_position(),
                 "invalid " + bad->key + " " + Quote(begin_minute ? end_text : start_text) +
                     ": use HH:MM from 00:00 to 24:00");
          continue;
        }
        if (*begin_minute >= *end_minute) {
          Report(end->value_position(),
                 "end_time " + end_text + " is not after start_time " + start_text +
                     "; to span midnight, use two entries, one ending at 24:00");
          continue;
        }
        spec.times.push_back({*begin_minute, *end_minute});
      }
    }
  }

  struct ListSpec {
    const char* key;
    RangeKind kind;
    std::vector<TimeIntervalSpec::Range>* out;
  };

  const ListSpec lists[] = {
      {"weekdays", {"weekday", kWeekdays, 7, 0, false}, &spec.weekdays},
      {"days_of_month", {"day of the month", nullptr, 0, 0, true}, &spec.days_of_month},
      {"months", {"month", kMonths, 12, 1, true}, &spec.months},
      {"years", {"year", nullptr, 0, 0, true}, &spec.years},
  };
  for (const ListSpec& list : lists) {
    const Entry* entry = fields.Find(list.key);
    if (entry == nullptr) {
      continue;
    }
    for (const yaml::StringItem& item : yaml::ReadStringItems(*entry, Sink())) {
      std::string problem;
      std::optional<TimeIntervalSpec::Range> range = ParseRange(item.value, list.kind, problem);
      std::string key = list.key;
      if (range && key == "weekdays" && range->begin > range->end) {
        problem = "weekday range " + Quote(item.value) +
                  " ends before it starts; weeks run from sunday to saturday, so split it";
      } else if (range && key == "days_of_month") {
        for (int day : {range->begin, range->end}) {
          if (problem.empty() && (day == 0 || day < -31 || day > 31)) {
            problem = "day of the month " + std::to_string(day) +
                      " is out of range: use 1 to 31, or -31 to -1 counting from the month's end";
          }
        }
        if (problem.empty() && range->begin < 0 && range->end > 0) {
          problem = "day range " + Quote(item.value) +
                    " starts at a negative day and ends at a positive one; make the end negative "
                    "too";
        }
        // With negative days the length of the month matters; 28 days rules out the ranges
        // that are empty in every month, as Alertmanager does.
        int begin = range->begin < 0 ? 28 + range->begin : range->begin;
        int end = range->end < 0 ? 28 + range->end : range->end;
        if (problem.empty() && begin > end) {
          problem = "day range " + Quote(item.value) + " ends before it starts";
        }
      } else if (range && key == "months") {
        for (int month : {range->begin, range->end}) {
          if (problem.empty() && (month < 1 || month > 12)) {
            problem = "month " + std::to_string(month) + " is out of range: use 1 to 12 or a name";
          }
        }
        if (problem.empty() && range->begin > range->end) {
          problem = "month range " + Quote(item.value) +
                    " ends before it starts; years run from january to december, so split it";
        }
      } else if (range && key == "years" && range->begin > range->end) {
        problem = "year range " + Quote(item.value) + " ends before it starts";
      }
      if (!problem.empty()) {
        Report(item.value_position, "invalid " + key + " entry: " + problem);
        continue;
      }
      list.out->push_back(*range);
    }
  }
  if (const Entry* location = fields.Find("location")) {
    std::string name = yaml::ReadString(*location, Sink()).value_or("");
    std::string problem = LocationProblem(name);
    if (!problem.empty()) {
      Report(location->value_position(), "invalid location: " + problem);
    } else {
      spec.location = name == "UTC" ? "" : name;
    }
  }
  if (errors_.size() != errors_before) {
    return std::nullopt;
  }
  return spec;
}

void Loader::LoadTemplates(const Entry& entry) {
  for (const yaml::StringItem& item : yaml::ReadStringItems(entry, Sink())) {
    std::string problem = GlobProblem(item.value);
    if (!problem.empty()) {
      Report(item.value_position,
             "invalid templates pattern " + Quote(item.value) + ": " + problem);
      continue;
    }
    config_.templates.push_back(item.value);
  }
}

}  // namespace alertd::config::internal
