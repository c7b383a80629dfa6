// Label matchers (=, !=, =~, !~), shared by PromQL selectors and Alertmanager-style matchers.
// Regular expressions are RE2 and fully anchored, as in Prometheus.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace re2 {
class RE2;
}

namespace alertd {

enum class MatchType { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

// Returns "=", "!=", "=~" or "!~".
std::string_view MatchTypeString(MatchType type);

class LabelMatcher {
 public:
  // Compiles the regular expression for regex types; the error names the expression.
  static Result<LabelMatcher> Create(MatchType type, std::string name, std::string value);

  MatchType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }

  // Whether `label_value` (empty when the label is absent) satisfies the matcher.
  bool Matches(std::string_view label_value) const;

  // Whether the matcher matches the empty string, i.e. also selects series without the label.
  bool MatchesEmpty() const { return Matches(""); }

  // name="value" in PromQL notation, with the value quoted and escaped.
  std::string ToString() const;

 private:
  LabelMatcher(MatchType type, std::string name, std::string value,
               std::shared_ptr<const re2::RE2> re)
      : type_(type), name_(std::move(name)), value_(std::move(value)), re_(std::move(re)) {}

  MatchType type_;
  std::string name_;
  std::string value_;
  std::shared_ptr<const re2::RE2> re_;  // set for regex types only
};

}  // namespace alertd
