// Alertmanager 0.25's routing tree (dispatch/route.go), built from a loaded config::Route whose
// children already carry their inherited options.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/labels.h"
#include "common/matcher.h"
#include "config/config.h"

namespace alertd {

class Route {
 public:
  // Builds `config` and all its children. `parent` is null for the root; `index` is the
  // position among the parent's children.
  explicit Route(const config::Route& config, const Route* parent = nullptr, int index = 0);

  Route(const Route&) = delete;
  Route& operator=(const Route&) = delete;

  // The routes an alert with `labels` goes to, depth first: each child in order whose subtree
  // matches contributes its matches, and the search stops after the first matching child unless
  // that child has `continue`. A matching route none of whose children match is itself the
  // result. Empty when this route's own matchers do not match.
  std::vector<const Route*> Match(const Labels& labels) const;

  // Alertmanager's Route.Key: the matchers of every route from the root, as
  // `{}/{alertname="x"}`. Two sibling routes with the same matchers share a key.
  const std::string& Key() const { return key_; }

  // Alertmanager's Route.ID: Key with each route's index among its siblings, unique in a tree,
  // as `{}/{alertname="x"}/0`.
  const std::string& ID() const { return id_; }

  // The alert's labels that this route groups by: all of them with group_by "...".
  Labels GroupLabels(const Labels& alert_labels) const;

  const std::string& receiver() const { return receiver_; }

  const std::vector<std::string>& group_by() const { return group_by_; }

  bool group_by_all() const { return group_by_all_; }

  Duration group_wait() const { return group_wait_; }

  Duration group_interval() const { return group_interval_; }

  Duration repeat_interval() const { return repeat_interval_; }

  bool continue_matching() const { return continue_; }

  const std::vector<LabelMatcher>& matchers() const { return matchers_; }

  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

  const Route* parent() const { return parent_; }

 private:
  void MatchInto(const Labels& labels, std::vector<const Route*>& out) const;

  const Route* parent_;
  std::string receiver_;
  std::vector<std::string> group_by_;
  bool group_by_all_ = false;
  Duration group_wait_;
  Duration group_interval_;
  Duration repeat_interval_;
  bool continue_;
  std::vector<LabelMatcher> matchers_;
  std::vector<std::unique_ptr<Route>> routes_;
  std::string key_;
  std::string id_;
};

// Alertmanager's labels.Matchers.String: `{a="b",c=~"d"}`, values quoted as Go's %q.
std::string MatchersString(const std::vector<LabelMatcher>& matchers);

}  // namespace alertd
