#include "common/matcher.h"

#include <re2/re2.h>

namespace alertd {

std::string_view MatchTypeString(MatchType type) {
  switch (type) {
    case MatchType::kEqual:
      return "=";
    case MatchType::kNotEqual:
      return "!=";
    case MatchType::kRegexMatch:
      return "=~";
    case MatchType::kRegexNoMatch:
      return "!~";
  }
  return "?";
}

Result<LabelMatcher> LabelMatcher::Create(MatchType type, std::string name, std::string value) {
  std::shared_ptr<const re2::RE2> re;
  if (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) {
    RE2::Options options;
    options.set_log_errors(false);
    // Prometheus anchors the expression as ^(?:expr)$; RE2 full matching is equivalent.
    // The (?s) flag lets "." match a newline, as Prometheus's regexes do.
    auto compiled = std::make_shared<re2::RE2>("(?s:" + value + ")", options);
    if (!compiled->ok()) {
      return Error::Invalid("invalid regular expression \"" + value + "\": " + compiled->error());
    }
    re = std::move(compiled);
  }
  return LabelMatcher(type, std::move(name), std::move(value), std::move(re));
}

bool LabelMatcher::Matches(std::string_view label_value) const {
  switch (type_) {
    case MatchType::kEqual:
      return label_value == value_;
    case MatchType::kNotEqual:
      return label_value != value_;
    case MatchType::kRegexMatch:
      return RE2::FullMatch(re2::StringPiece(label_value.data(), label_value.size()), *re_);
    case MatchType::kRegexNoMatch:
      return !RE2::FullMatch(re2::StringPiece(label_value.data(), label_value.size()), *re_);
  }
  return false;
}

std::string LabelMatcher::ToString() const {
  std::string out = name_;
  out += MatchTypeString(type_);
  out += '"';
  for (char c : value_) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

}  // namespace alertd
