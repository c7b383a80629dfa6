#include "notifiers/inhibit.h"

#include <algorithm>
#include <utility>

namespace alertd {

namespace {

bool MatchesAll(const std::vector<LabelMatcher>& matchers, const Labels& labels) {
  return std::all_of(matchers.begin(), matchers.end(), [&](const LabelMatcher& matcher) {
    return matcher.Matches(labels.Get(matcher.name()));
  });
}

bool ResolvedAt(TimePoint ends_at, TimePoint now) {
  return ends_at != TimePoint{} && ends_at <= now;
}

}  // namespace

Inhibitor::Inhibitor(std::vector<config::InhibitRule> rules) {
  rules_.reserve(rules.size());
  for (auto& rule : rules) {
    rules_.push_back(Rule{.config = std::move(rule), .sources = {}});
  }
}

void Inhibitor::Put(const std::vector<NotifyAlert>& alerts) {
  if (rules_.empty()) {
    return;
  }
  std::lock_guard lock(mu_);
  for (const NotifyAlert& alert : alerts) {
    for (Rule& rule : rules_) {
      if (MatchesAll(rule.config.source_matchers, alert.labels)) {
        rule.sources.insert_or_assign(alert.labels, alert.ends_at);
      }
    }
  }
}

void Inhibitor::Prune(TimePoint now) {
  std::lock_guard lock(mu_);
  for (Rule& rule : rules_) {
    std::erase_if(rule.sources, [now](const auto& item) { return ResolvedAt(item.second, now); });
  }
}

std::vector<std::string> Inhibitor::MutedBy(const Labels& labels, TimePoint now) const {
  std::vector<std::string> by;
  std::lock_guard lock(mu_);
  for (const Rule& rule : rules_) {
    if (!MatchesAll(rule.config.target_matchers, labels)) {
      continue;
    }
    const bool two_sided = MatchesAll(rule.config.source_matchers, labels);
    for (const auto& entry : rule.sources) {
      // A named reference, because clang 14 cannot capture a structured binding in a lambda.
      const Labels& source = entry.first;
      if (ResolvedAt(entry.second, now)) {
        continue;
      }
      bool equal = std::all_of(
          rule.config.equal.begin(), rule.config.equal.end(), [&](const std::string& name) {
            return source.Get(name) == labels.Get(name);
          });
      if (!equal || (two_sided && MatchesAll(rule.config.target_matchers, source))) {
        continue;
      }
      by.push_back(source.Fingerprint());
    }
  }
  std::sort(by.begin(), by.end());
  by.erase(std::unique(by.begin(), by.end()), by.end());
  return by;
}

}  // namespace alertd
