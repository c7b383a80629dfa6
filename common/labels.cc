#include "common/labels.h"

#include <algorithm>
#include <cstdio>

namespace alertd {
namespace {

constexpr uint64_t kFnvOffset = 14695981039346656037ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

void Normalize(std::vector<Label>& labels) {
  std::stable_sort(labels.begin(), labels.end(), [](const Label& a, const Label& b) {
    return a.name < b.name;
  });
  // Keep the last of each run of equal names.
  std::vector<Label> out;
  out.reserve(labels.size());
  for (auto& label : labels) {
    if (!out.empty() && out.back().name == label.name) {
      out.back() = std::move(label);
    } else {
      out.push_back(std::move(label));
    }
  }
  std::erase_if(out, [](const Label& l) { return l.value.empty(); });
  labels = std::move(out);
}

void AppendEscaped(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

}  // namespace

Labels::Labels(std::initializer_list<Label> labels) : labels_(labels) { Normalize(labels_); }

Labels::Labels(std::vector<Label> labels) : labels_(std::move(labels)) { Normalize(labels_); }

std::string_view Labels::Get(std::string_view name) const {
  auto it = std::lower_bound(labels_.begin(), labels_.end(), name, [](const Label& l, auto n) {
    return l.name < n;
  });
  if (it != labels_.end() && it->name == name) {
    return it->value;
  }
  return {};
}

bool Labels::Has(std::string_view name) const { return !Get(name).empty(); }

Labels Labels::WithoutName() const {
  Labels out;
  out.labels_.reserve(labels_.size());
  for (const auto& label : labels_) {
    if (label.name != kMetricName) {
      out.labels_.push_back(label);
    }
  }
  return out;
}

uint64_t Labels::Hash() const {
  uint64_t h = kFnvOffset;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= kFnvPrime;
    }
    h ^= 0xff;
    h *= kFnvPrime;
  };
  for (const auto& label : labels_) {
    mix(label.name);
    mix(label.value);
  }
  return h;
}

std::string Labels::Fingerprint() const {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(Hash()));
  return buf;
}

std::string Labels::ToString() const {
  std::string out;
  std::string_view name = Get(kMetricName);
  out += name;
  out += '{';
  bool first = true;
  for (const auto& label : labels_) {
    if (label.name == kMetricName) {
      continue;
    }
    if (!first) {
      out += ", ";
    }
    first = false;
    out += label.name;
    out += "=\"";
    AppendEscaped(out, label.value);
    out += '"';
  }
  out += '}';
  return out;
}

LabelsBuilder::LabelsBuilder(const Labels& base) : labels_(base.items()) {}

LabelsBuilder& LabelsBuilder::Set(std::string_view name, std::string_view value) {
  for (auto& label : labels_) {
    if (label.name == name) {
      label.value = std::string(value);
      return *this;
    }
  }
  labels_.push_back(Label{std::string(name), std::string(value)});
  return *this;
}

LabelsBuilder& LabelsBuilder::Del(std::string_view name) {
  std::erase_if(labels_, [name](const Label& l) { return l.name == name; });
  return *this;
}

LabelsBuilder& LabelsBuilder::Keep(const std::vector<std::string>& names) {
  std::erase_if(labels_, [&names](const Label& l) {
    return std::find(names.begin(), names.end(), l.name) == names.end();
  });
  return *this;
}

Labels LabelsBuilder::Build() const { return Labels(labels_); }

bool IsValidLabelName(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool IsValidMetricName(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) {
      return false;
    }
  }
  return true;
}

}  // namespace alertd
