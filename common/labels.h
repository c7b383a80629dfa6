// Label sets: the identity of a series and of an alert.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace alertd {

inline constexpr std::string_view kMetricName = "__name__";

struct Label {
  std::string name;
  std::string value;

  friend bool operator==(const Label&, const Label&) = default;
  friend auto operator<=>(const Label&, const Label&) = default;
};

// An immutable set of labels sorted by name, with unique names and no empty values (an empty
// value means "label absent", as in Prometheus).
class Labels {
 public:
  Labels() = default;
  // Sorts the input; a later duplicate name replaces an earlier one; empty values are dropped.
  Labels(std::initializer_list<Label> labels);
  explicit Labels(std::vector<Label> labels);

  // Returns the value of `name`, or an empty string when absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;

  const std::vector<Label>& items() const { return labels_; }
  size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }
  auto begin() const { return labels_.begin(); }
  auto end() const { return labels_.end(); }

  // Returns a copy without __name__.
  Labels WithoutName() const;

  // 64-bit FNV-1a over name, 0xff, value, 0xff for each label in order: the same function
  // Alertmanager's model.Fingerprint uses, so alert fingerprints match Alertmanager's.
  uint64_t Hash() const;

  // Returns Hash() as 16 lowercase hex digits.
  std::string Fingerprint() const;

  // Prometheus notation: {a="1", b="2"} with Go-style escaping of values, and the metric
  // name in front when present: up{job="x"}.
  std::string ToString() const;

  friend bool operator==(const Labels&, const Labels&) = default;
  friend auto operator<=>(const Labels&, const Labels&) = default;

 private:
  std::vector<Label> labels_;
};

// Mutable helper that builds a Labels from a base set.
class LabelsBuilder {
 public:
  LabelsBuilder() = default;
  explicit LabelsBuilder(const Labels& base);

  // Sets `name` to `value`; an empty value deletes the label.
  LabelsBuilder& Set(std::string_view name, std::string_view value);
  LabelsBuilder& Del(std::string_view name);
  // Keeps only the named labels.
  LabelsBuilder& Keep(const std::vector<std::string>& names);
  Labels Build() const;

 private:
  std::vector<Label> labels_;
};

// Whether `name` is a valid label name in Prometheus 2.42: [a-zA-Z_][a-zA-Z0-9_]*.
bool IsValidLabelName(std::string_view name);
// Whether `name` is a valid metric name in Prometheus 2.42: [a-zA-Z_:][a-zA-Z0-9_:]*.
bool IsValidMetricName(std::string_view name);

}  // namespace alertd

template <>
struct std::hash<alertd::Labels> {
  size_t operator()(const alertd::Labels& labels) const { return labels.Hash(); }
};
