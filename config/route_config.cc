// The route tree of alertd.yml, read and validated as Alertmanager 0.25's config.Route, and
// Alertmanager's matcher syntax (pkg/labels/parse.go).
#include <algorithm>

#include "config/config_internal.h"

namespace alertd::config {

namespace {

std::string_view TrimSpace(std::string_view text) {
  size_t start = text.find_first_not_of(" \t\r\n\v\f");
  if (start == std::string_view::npos) {
    return {};
  }
  size_t end = text.find_last_not_of(" \t\r\n\v\f");
  return text.substr(start, end - start + 1);
}

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

bool IsNameChar(char c) {
  return IsNameStart(c) || (c >= '0' && c <= '9');
}

// Sorted as Alertmanager's labels.Matchers: by name, then value, then type.
bool MatcherBefore(const LabelMatcher& a, const LabelMatcher& b) {
  if (a.name() != b.name()) {
    return a.name() < b.name();
  }
  if (a.value() != b.value()) {
    return a.value() < b.value();
  }
  return static_cast<int>(a.type()) < static_cast<int>(b.type());
}

}  // namespace

Result<LabelMatcher> ParseMatcher(std::string_view text) {
  // Alertmanager's regular expression
  // ^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?s).*?)\s*$, written out.
  auto bad_format = [&] {
    return Error::Invalid("bad matcher format: " + std::string(text));
  };
  std::string_view rest = TrimSpace(text);
  size_t name_end = 0;
  if (rest.empty() || !IsNameStart(rest[0])) {
    return bad_format();
  }
  while (name_end < rest.size() && IsNameChar(rest[name_end])) {
    ++name_end;
  }
  std::string name(rest.substr(0, name_end));
  rest = rest.substr(name_end);
  rest.remove_prefix(std::min(rest.size(), rest.find_first_not_of(" \t\r\n\v\f")));
  MatchType type;
  if (rest.starts_with("=~")) {
    type = MatchType::kRegexMatch;
    rest.remove_prefix(2);
  } else if (rest.starts_with("!=")) {
    type = MatchType::kNotEqual;
    rest.remove_prefix(2);
  } else if (rest.starts_with("!~")) {
    type = MatchType::kRegexNoMatch;
    rest.remove_prefix(2);
  } else if (rest.starts_with("=")) {
    type = MatchType::kEqual;
    rest.remove_prefix(1);
  } else {
    return bad_format();
  }
  const std::string raw(TrimSpace(rest));
  std::string_view value_text = raw;
  bool expect_trailing_quote = false;
  if (value_text.starts_with('"')) {
    value_text.remove_prefix(1);
    expect_trailing_quote = true;
  }
  if (!yaml::IsValidUtf8(value_text)) {
    return Error::Invalid("matcher value not valid UTF-8: " + raw);
  }
  auto unescaped_quote = [&] {
    return Error::Invalid("matcher value contains unescaped double quote: " + raw);
  };
  std::string value;
  bool escaped = false;
  for (size_t i = 0; i < value_text.size(); ++i) {
    char c = value_text[i];
    if (escaped) {
      escaped = false;
      if (c == 'n') {
        value += '\n';
      } else if (c == '"' || c == '\\') {
        value += c;
      } else {
        value += '\\';  // a spurious escape keeps its backslash
        value += c;
      }
      continue;
    }
    if (c == '\\') {
      if (i + 1 < value_text.size()) {
        escaped = true;
      } else {
        value += '\\';
      }
    } else if (c == '"') {
      if (!expect_trailing_quote || i + 1 < value_text.size()) {
        return unescaped_quote();
      }
      expect_trailing_quote = false;
    } else {
      value += c;
    }
  }
  if (expect_trailing_quote) {
    return unescaped_quote();
  }
  return LabelMatcher::Create(type, std::move(name), std::move(value));
}

Result<std::vector<LabelMatcher>> ParseMatchers(std::string_view text) {
  if (text.starts_with('{')) {
    text.remove_prefix(1);
  }
  if (text.ends_with('}')) {
    text.remove_suffix(1);
  }
  std::vector<std::string> tokens;
  std::string token;
  bool inside_quotes = false;
  bool escaped = false;
  for (char c : text) {
    if (c == ',' && !inside_quotes) {
      tokens.push_back(token);
      token.clear();
      continue;
    }
    if (c == '"') {
      if (!escaped) {
        inside_quotes = !inside_quotes;
      } else {
        escaped = false;
      }
    } else if (c == '\\') {
      escaped = !escaped;
    } else {
      escaped = false;
    }
    token += c;
  }
  if (std::string_view last = TrimSpace(token); !last.empty()) {
    tokens.emplace_back(last);
  }
  std::vector<LabelMatcher> matchers;
  for (const std::string& item : tokens) {
    Result<LabelMatcher> matcher = ParseMatcher(item);
    if (!matcher.ok()) {
      return matcher.error();
    }
    matchers.push_back(std::move(*matcher));
  }
  return matchers;
}

namespace {

Result<Config> LoadRoutingFileAt(const std::string& path,
                                 std::vector<ConfigError>* errors,
                                 bool follow_alertmanager_file);

}  // namespace

Result<Config> LoadRoutingFile(const std::string& path, std::vector<ConfigError>* errors) {
  return LoadRoutingFileAt(path, errors, true);
}

namespace {

// Loads the routing part of `path`. An alertd.yml whose notification part is in an
// alertmanager.yml (alertmanager_config_file) is followed to that file once.
Result<Config> LoadRoutingFileAt(const std::string& path,
                                 std::vector<ConfigError>* errors,
                                 bool follow_alertmanager_file) {
  Result<std::string> text = yaml::ReadTextFile(path);
  if (!text.ok()) {
    ConfigError error{Mark{path, 0, 0}, "cannot read config file: " + text.error().message()};
    if (errors != nullptr) {
      errors->push_back(error);
    }
    return Error::Io(error.ToString());
  }
  internal::Loader loader(path, internal::DirName(path));
  Config config = loader.LoadRouting(*text);
  std::vector<ConfigError>& found = loader.errors();
  std::stable_sort(found.begin(), found.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::tie(a.mark.line, a.mark.column) < std::tie(b.mark.line, b.mark.column);
  });
  if (errors != nullptr) {
    errors->insert(errors->end(), found.begin(), found.end());
  }
  if (found.empty() && follow_alertmanager_file && !config.route &&
      !config.alertmanager_config_file.empty()) {
    return LoadRoutingFileAt(config.alertmanager_config_file, errors, false);
  }
  if (found.empty()) {
    return config;
  }
  return Error::Invalid(
      found.front().ToString(), found.front().mark.line, found.front().mark.column);
}

}  // namespace

namespace internal {
namespace {

using yaml::Entry;
using yaml::Position;

const yaml::Schema kRouteSchema{"route",
                                {"receiver",
                                 "group_by",
                                 "group_wait",
                                 "group_interval",
                                 "repeat_interval",
                                 "routes",
                                 "matchers",
                                 "match",
                                 "match_re",
                                 "continue",
                                 "mute_time_intervals",
                                 "active_time_intervals",
                                 "notify_resolved_when_muted"},
                                {},
                                {}};

std::string Quote(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

}  // namespace

Config Loader::LoadRouting(const std::string& text) {
  routing_only_ = true;
  Result<YAML::Node> root = yaml::ParseDocument(text);
  if (!root.ok()) {
    Report({root.error().line(), root.error().column()}, root.error().message());
    return config_;
  }
  if (!root->IsMap()) {
    Report(yaml::PositionOf(*root),
           "the configuration must be a mapping, got " + yaml::KindName(*root));
    return config_;
  }
  std::optional<Entry> route;
  for (const auto& item : *root) {
    if (!item.first.IsScalar()) {
      continue;
    }
    Entry entry{item.first.Scalar(), item.first, item.second};
    if (entry.key == "route") {
      route = entry;
    } else if (entry.key == "alertmanager_config_file" && entry.value.IsScalar()) {
      config_.alertmanager_config_file = JoinPath(config_.base_dir, entry.value.Scalar());
    } else if (entry.key == "receivers" && entry.value.IsSequence()) {
      for (const YAML::Node& node : entry.value) {
        if (node.IsMap() && node["name"] && node["name"].IsScalar()) {
          Receiver receiver;
          receiver.name = node["name"].Scalar();
          receiver.mark = MarkAt(yaml::PositionOf(node));
          config_.receivers.push_back(std::move(receiver));
        }
      }
    }
  }
  if (route) {
    LoadRoute(*route);
  }
  return config_;
}

void Loader::LoadRoute(const Entry& entry) {
  if (entry.value.IsNull()) {
    return;
  }
  if (std::optional<Route> route = LoadRouteNode(entry.value, nullptr, entry.key_position())) {
    config_.route = std::move(*route);
  }
}

void Loader::CheckRouteReceiver(const std::string& receiver, Position position) {
  if (std::any_of(config_.receivers.begin(), config_.receivers.end(), [&](const Receiver& r) {
        return r.name == receiver;
      })) {
    return;
  }
  std::string message = "route receiver " + Quote(receiver) + " is not defined; ";
  if (config_.receivers.empty()) {
    message += "add it under receivers";
  } else {
    message += "add it under receivers or use one of:";
    for (const Receiver& r : config_.receivers) {
      message += " " + Quote(r.name);
    }
  }
  Report(position, message);
}

void Loader::ReadRouteMatchers(const yaml::Fields& fields, Route& route) {
  if (const Entry* match = fields.Find("match")) {
    for (const yaml::StringItem& item : yaml::ReadStringMap(*match, Sink())) {
      if (!IsValidLabelName(item.key)) {
        Report(item.key_position,
               "invalid label name " + Quote(item.key) +
                   " in match: label names must match [a-zA-Z_][a-zA-Z0-9_]*");
        continue;
      }
      Result<LabelMatcher> matcher = LabelMatcher::Create(MatchType::kEqual, item.key, item.value);
      if (matcher.ok()) {
        route.matchers.push_back(std::move(*matcher));
      }
    }
  }
  if (const Entry* match_re = fields.Find("match_re")) {
    for (const yaml::StringItem& item : yaml::ReadStringMap(*match_re, Sink())) {
      if (!IsValidLabelName(item.key)) {
        Report(item.key_position,
               "invalid label name " + Quote(item.key) +
                   " in match_re: label names must match "
                   "[a-zA-Z_][a-zA-Z0-9_]*");
        continue;
      }
      if (item.value_node.IsNull()) {
        // Alertmanager rejects an empty value here, though an empty regular expression is valid.
        Report(item.key_position,
               "regular expression for " + Quote(item.key) +
                   " in match_re is empty; give a regular expression, or \"\" to match an "
                   "absent label");
        continue;
      }
      Result<LabelMatcher> matcher =
          LabelMatcher::Create(MatchType::kRegexMatch, item.key, item.value);
      if (!matcher.ok()) {
        Report(item.value_position,
               "invalid regular expression in match_re for " + Quote(item.key) + ": " +
                   matcher.error().message());
        continue;
      }
      route.matchers.push_back(std::move(*matcher));
    }
  }
  if (const Entry* matchers = fields.Find("matchers")) {
    for (const yaml::StringItem& item : yaml::ReadStringItems(*matchers, Sink())) {
      Result<std::vector<LabelMatcher>> parsed = ParseMatchers(item.value);
      if (!parsed.ok()) {
        Report(item.value_position,
               "invalid matcher " + Quote(item.value) + ": " + parsed.error().message());
        continue;
      }
      for (LabelMatcher& matcher : *parsed) {
        route.matchers.push_back(std::move(matcher));
      }
    }
  }
  std::stable_sort(route.matchers.begin(), route.matchers.end(), MatcherBefore);
}

std::optional<Route> Loader::LoadRouteNode(const YAML::Node& node,
                                           const Route* parent,
                                           Position key_position) {
  Route route;
  if (parent != nullptr) {
    route.receiver = parent->receiver;
    route.group_by = parent->group_by;
    route.group_wait = parent->group_wait;
    route.group_interval = parent->group_interval;
    route.repeat_interval = parent->repeat_interval;
    route.notify_resolved_when_muted = parent->notify_resolved_when_muted;
  }
  Position position = yaml::PositionOf(node);
  route.mark = MarkAt(position);
  yaml::Fields fields = yaml::ReadMapping(node, kRouteSchema, Sink());
  if (!node.IsMap()) {
    return parent == nullptr ? std::nullopt : std::optional<Route>(route);
  }
  const Entry* receiver = fields.Find("receiver");
  std::string own_receiver;
  if (receiver != nullptr) {
    own_receiver = yaml::ReadString(*receiver, Sink()).value_or("");
  }
  if (!own_receiver.empty()) {
    route.receiver = own_receiver;
    CheckRouteReceiver(own_receiver, receiver->value_position());
  } else if (parent == nullptr) {
    Report(receiver != nullptr ? receiver->value_position() : key_position,
           "route has no receiver; set receiver to the name of one of the receivers");
  }

  if (const Entry* group_by = fields.Find("group_by")) {
    route.group_by.clear();
    for (const yaml::StringItem& item : yaml::ReadStringItems(*group_by, Sink())) {
      if (std::find(route.group_by.begin(), route.group_by.end(), item.value) !=
          route.group_by.end()) {
        Report(item.value_position, "duplicate label " + Quote(item.value) + " in group_by");
        continue;
      }
      if (item.value != "..." && !IsValidLabelName(item.value)) {
        Report(item.value_position,
               "invalid label name " + Quote(item.value) +
                   " in group_by: label names must match "
                   "[a-zA-Z_][a-zA-Z0-9_]*");
        continue;
      }
      route.group_by.push_back(item.value);
    }
    bool all =
        std::find(route.group_by.begin(), route.group_by.end(), "...") != route.group_by.end();
    if (all && route.group_by.size() > 1) {
      Report(group_by->value_position(),
             "group_by cannot mix \"...\" (all labels) with label names; use one or the other");
    }
  }
  if (const Entry* wait = fields.Find("group_wait")) {
    route.group_wait = yaml::ReadDuration(*wait, Sink()).value_or(route.group_wait);
  }
  for (auto [key, target] : {std::pair{"group_interval", &route.group_interval},
                             std::pair{"repeat_interval", &route.repeat_interval}}) {
    const Entry* field = fields.Find(key);
    if (field == nullptr) {
      continue;
    }
    std::optional<Duration> value = yaml::ReadDuration(*field, Sink());
    if (value && value->count() == 0) {
      Report(field->value_position(), std::string(key) + " cannot be zero");
    } else if (value) {
      *target = *value;
    }
  }
  if (const Entry* cont = fields.Find("continue")) {
    route.continue_matching = yaml::ReadBool(*cont, Sink()).value_or(false);
  }
  if (const Entry* notify = fields.Find("notify_resolved_when_muted")) {
    route.notify_resolved_when_muted =
        yaml::ReadBool(*notify, Sink()).value_or(route.notify_resolved_when_muted);
  }
  for (auto [key, target] : {std::pair{"mute_time_intervals", &route.mute_time_intervals},
                             std::pair{"active_time_intervals", &route.active_time_intervals}}) {
    const Entry* entry = fields.Find(key);
    if (entry == nullptr) {
      continue;
    }
    std::vector<yaml::StringItem> items = yaml::ReadStringItems(*entry, Sink());
    if (parent == nullptr && !items.empty()) {
      Report(entry->key_position(),
             "the root route must not have " + std::string(key) +
                 "; move them to a route under routes");
      continue;
    }
    for (const yaml::StringItem& item : items) {
      bool defined = std::any_of(config_.time_intervals.begin(),
                                 config_.time_intervals.end(),
                                 [&](const TimeInterval& t) { return t.name == item.value; });
      bool invalid =
          std::find(invalid_time_intervals_.begin(), invalid_time_intervals_.end(), item.value) !=
          invalid_time_intervals_.end();
      if (!defined && !invalid && !routing_only_) {
        std::string message = "time interval " + Quote(item.value) + " in " + key +
                              " is not defined; add it under time_intervals";
        if (!config_.time_intervals.empty()) {
          message += " or use one of:";
          for (const TimeInterval& t : config_.time_intervals) {
            message += " " + Quote(t.name);
          }
        }
        Report(item.value_position, message);
        continue;
      }
      target->push_back(item.value);
    }
  }

  ReadRouteMatchers(fields, route);
  if (parent == nullptr) {
    for (const char* key : {"match", "match_re", "matchers"}) {
      const Entry* entry = fields.Find(key);
      if (entry != nullptr && !entry->value.IsNull() && entry->value.size() > 0) {
        Report(entry->key_position(),
               "the root route must not have matchers; move " + std::string(key) +
                   " to a route under routes");
      }
    }
  }

  if (const Entry* routes = fields.Find("routes")) {
    if (!routes->value.IsNull() && !routes->value.IsSequence()) {
      Report(routes->value_position(),
             "routes must be a list of routes, got " + yaml::KindName(routes->value));
    } else if (routes->value.IsSequence()) {
      for (const YAML::Node& child : routes->value) {
        if (child.IsNull()) {
          continue;
        }
        if (!child.IsMap()) {
          Report(yaml::PositionOf(child), "route must be a mapping, got " + yaml::KindName(child));
          continue;
        }
        if (std::optional<Route> loaded = LoadRouteNode(child, &route, routes->key_position())) {
          route.routes.push_back(std::move(*loaded));
        }
      }
    }
  }
  return route;
}

}  // namespace internal
}  // namespace alertd::config
