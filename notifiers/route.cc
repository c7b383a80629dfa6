#include "notifiers/route.h"

#include <algorithm>
#include <cstdio>

#include "engine/promql/printer.h"

namespace alertd {

std::string MatchersString(const std::vector<LabelMatcher>& matchers) {
  std::string out = "{";
  for (size_t i = 0; i < matchers.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    out += matchers[i].name();
    out += MatchTypeString(matchers[i].type());
    out += promql::QuoteString(matchers[i].value());
  }
  out += '}';
  return out;
}

Route::Route(const config::Route& config, const Route* parent, int index)
    : parent_(parent),
      receiver_(config.receiver),
      group_wait_(config.group_wait),
      group_interval_(config.group_interval),
      repeat_interval_(config.repeat_interval),
      continue_(config.continue_matching),
      matchers_(config.matchers) {
  for (const std::string& name : config.group_by) {
    if (name == "...") {
      group_by_all_ = true;
    } else {
      group_by_.push_back(name);
    }
  }
  std::string own = MatchersString(matchers_);
  key_ = parent_ != nullptr ? parent_->Key() + "/" + own : own;
  id_ = parent_ != nullptr ? parent_->ID() + "/" + own + "/" + std::to_string(index) : own;
  for (size_t i = 0; i < config.routes.size(); ++i) {
    routes_.push_back(std::make_unique<Route>(config.routes[i], this, static_cast<int>(i)));
  }
}

std::vector<const Route*> Route::Match(const Labels& labels) const {
  std::vector<const Route*> out;
  MatchInto(labels, out);
  return out;
}

void Route::MatchInto(const Labels& labels, std::vector<const Route*>& out) const {
  for (const LabelMatcher& matcher : matchers_) {
    if (!matcher.Matches(labels.Get(matcher.name()))) {
      return;
    }
  }
  size_t before = out.size();
  for (const auto& child : routes_) {
    size_t child_before = out.size();
    child->MatchInto(labels, out);
    if (out.size() > child_before && !child->continue_matching()) {
      break;
    }
  }
  if (out.size() == before) {
    out.push_back(this);
  }
}

Labels Route::GroupLabels(const Labels& alert_labels) const {
  if (group_by_all_) {
    return alert_labels;
  }
  return LabelsBuilder(alert_labels).Keep(group_by_).Build();
}

}  // namespace alertd
