// Alertmanager 0.25's inhibit.Inhibitor: an alert matching a rule's target_matchers is muted
// while an alert matching its source_matchers fires with the same values of every `equal`
// label (a missing label counts as the empty value).
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/labels.h"
#include "config/config.h"
#include "notifiers/muter.h"
#include "notifiers/notifier.h"

namespace alertd {

class Inhibitor final : public Muter {
 public:
  explicit Inhibitor(std::vector<config::InhibitRule> rules);

  // Feeds the source cache: every alert put is remembered by the rules whose source_matchers
  // it matches, replacing the earlier alert with the same labels. Thread-safe.
  void Put(const std::vector<NotifyAlert>& alerts);

  // Forgets source alerts resolved at `now`, which no longer inhibit anyway. Thread-safe.
  void Prune(TimePoint now);

  // Fingerprints of the firing source alerts that inhibit an alert with `labels` at `now`,
  // over all rules, sorted and unique. As Alertmanager's hasEqual, when the alert matches both
  // sides of a rule, a source alert that also matches that rule's target_matchers does not
  // count for it, so such alerts never inhibit each other (nor themselves). Thread-safe.
  std::vector<std::string> MutedBy(const Labels& labels, TimePoint now) const override;

  bool empty() const { return rules_.empty(); }

 private:
  struct Rule {
    config::InhibitRule config;
    std::map<Labels, TimePoint> sources;  // firing or recently resolved source alerts: ends_at
  };

  std::vector<Rule> rules_;
  mutable std::mutex mu_;
};

}  // namespace alertd
