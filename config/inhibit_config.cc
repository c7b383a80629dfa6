// inhibit_rules, read as Alertmanager 0.25's config.InhibitRule: source_matchers and
// target_matchers in the matcher syntax, the older source_match(_re) / target_match(_re) maps
// merged into them, and `equal`.
#include "config/config_internal.h"

namespace alertd::config::internal {
namespace {

using yaml::Entry;
using yaml::Position;

const yaml::Schema kInhibitRuleSchema{"inhibit rule",
                                      {"source_matchers",
                                       "target_matchers",
                                       "source_match",
                                       "source_match_re",
                                       "target_match",
                                       "target_match_re",
                                       "equal"},
                                      {},
                                      {}};

std::string Quote(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

}  // namespace

void Loader::LoadInhibitRules(const Entry& entry) {
  if (entry.value.IsNull()) {
    return;
  }
  if (!entry.value.IsSequence()) {
    Report(entry.value_position(),
           "inhibit_rules must be a list of inhibit rules, got " + yaml::KindName(entry.value));
    return;
  }
  for (const YAML::Node& node : entry.value) {
    if (std::optional<InhibitRule> rule = LoadInhibitRule(node)) {
      config_.inhibit_rules.push_back(std::move(*rule));
    }
  }
}

std::optional<InhibitRule> Loader::LoadInhibitRule(const YAML::Node& node) {
  InhibitRule rule;
  Position position = yaml::PositionOf(node);
  rule.mark = MarkAt(position);
  size_t errors_before = errors_.size();
  yaml::Fields fields = yaml::ReadMapping(node, kInhibitRuleSchema, Sink());
  if (!node.IsMap() && !node.IsNull()) {
    return std::nullopt;
  }
  for (auto [prefix, target] :
       {std::pair{"source", &rule.source_matchers}, std::pair{"target", &rule.target_matchers}}) {
    std::string base(prefix);
    if (const Entry* match = fields.Find(base + "_match")) {
      ReadMatchMap(*match, /*regex=*/false, *target);
    }
    if (const Entry* match_re = fields.Find(base + "_match_re")) {
      ReadMatchMap(*match_re, /*regex=*/true, *target);
    }
    if (const Entry* matchers = fields.Find(base + "_matchers")) {
      ReadMatcherList(*matchers, *target);
    }
  }
  if (const Entry* equal = fields.Find("equal")) {
    for (const yaml::StringItem& item : yaml::ReadStringItems(*equal, Sink())) {
      if (!IsValidLabelName(item.value)) {
        Report(item.value_position,
               "invalid label name " + Quote(item.value) +
                   " in equal: label names must match [a-zA-Z_][a-zA-Z0-9_]*");
        continue;
      }
      rule.equal.push_back(item.value);
    }
  }
  if (errors_.size() != errors_before) {
    return std::nullopt;
  }
  return rule;
}

void Loader::ReadMatchMap(const Entry& entry, bool regex, std::vector<LabelMatcher>& out) {
  for (const yaml::StringItem& item : yaml::ReadStringMap(entry, Sink())) {
    if (!IsValidLabelName(item.key)) {
      Report(item.key_position,
             "invalid label name " + Quote(item.key) + " in " + entry.key +
                 ": label names must match [a-zA-Z_][a-zA-Z0-9_]*");
      continue;
    }
    if (regex && item.value_node.IsNull()) {
      // Alertmanager rejects an empty value here, though an empty regular expression is valid.
      Report(item.key_position,
             "regular expression for " + Quote(item.key) + " in " + entry.key +
                 " is empty; give a regular expression, or \"\" to match an absent label");
      continue;
    }
    Result<LabelMatcher> matcher = LabelMatcher::Create(
        regex ? MatchType::kRegexMatch : MatchType::kEqual, item.key, item.value);
    if (!matcher.ok()) {
      Report(item.value_position,
             "invalid regular expression in " + entry.key + " for " + Quote(item.key) + ": " +
                 matcher.error().message());
      continue;
    }
    out.push_back(std::move(*matcher));
  }
}

void Loader::ReadMatcherList(const Entry& entry, std::vector<LabelMatcher>& out) {
  for (const yaml::StringItem& item : yaml::ReadStringItems(entry, Sink())) {
    Result<std::vector<LabelMatcher>> parsed = ParseMatchers(item.value);
    if (!parsed.ok()) {
      Report(item.value_position,
             "invalid matcher " + Quote(item.value) + " in " + entry.key + ": " +
                 parsed.error().message());
      continue;
    }
    for (LabelMatcher& matcher : *parsed) {
      out.push_back(std::move(matcher));
    }
  }
}

}  // namespace alertd::config::internal
