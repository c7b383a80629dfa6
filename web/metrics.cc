#include "web/metrics.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <numeric>
#include <set>

#include "common/logging.h"
#include "web/float_format.h"

namespace alertd::metrics {
namespace {

std::string EscapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    out += (out.empty() ? "" : ",") + name;
  }
  return out;
}

void WriteSample(std::string& out,
                 const std::string& name,
                 const std::string& labels,
                 double value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += FormatMetricValue(value);
  out += '\n';
}

std::vector<double> SanitizeBounds(std::vector<double> bounds) {
  bounds.erase(std::remove_if(bounds.begin(), bounds.end(), [](double b) { return std::isnan(b); }),
               bounds.end());
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  if (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0) {
    bounds.pop_back();
  }
  return bounds;
}

std::string Signature(const std::vector<std::string>& label_names,
                      const std::vector<double>* upper_bounds) {
  std::string signature = "labels=" + JoinNames(label_names);
  if (upper_bounds != nullptr) {
    signature += " buckets=";
    for (double bound : SanitizeBounds(*upper_bounds)) {
      signature += FormatMetricValue(bound) + ",";
    }
  }
  return signature;
}

// Returns the reason the names are invalid, or an empty string.
std::string CheckNames(const std::string& name,
                       const std::vector<std::string>& label_names,
                       bool histogram) {
  if (!IsValidMetricName(name)) {
    return "invalid metric name";
  }
  std::set<std::string> seen;
  for (const auto& label : label_names) {
    if (!IsValidLabelName(label)) {
      return "invalid label name \"" + label + "\"";
    }
    if (histogram && label == "le") {
      return "label name \"le\" is reserved for histogram buckets";
    }
    if (!seen.insert(label).second) {
      return "duplicate label name \"" + label + "\"";
    }
  }
  return {};
}

std::function<void(std::string&, const std::string&)> SampleWriter(const std::string& name,
                                                                   double value) {
  return [name, value](std::string& out, const std::string& labels) {
    WriteSample(out, name, labels, value);
  };
}

std::function<void(std::string&, const std::string&)> MakeWriter(const std::string& name,
                                                                 const Counter& counter) {
  return SampleWriter(name, counter.Value());
}

std::function<void(std::string&, const std::string&)> MakeWriter(const std::string& name,
                                                                 const Gauge& gauge) {
  return SampleWriter(name, gauge.Value());
}

std::function<void(std::string&, const std::string&)> MakeWriter(const std::string& name,
                                                                 const Histogram& histogram) {
  return [name, snapshot = histogram.Read()](std::string& out, const std::string& labels) {
    std::string prefix = labels.empty() ? "" : labels + ",";
    for (size_t i = 0; i <= snapshot.upper_bounds.size(); ++i) {
      double bound = i < snapshot.upper_bounds.size() ? snapshot.upper_bounds[i]
                                                      : std::numeric_limits<double>::infinity();
      WriteSample(out,
                  name + "_bucket",
                  prefix + "le=\"" + FormatMetricValue(bound) + "\"",
                  static_cast<double>(snapshot.cumulative_counts[i]));
    }
    WriteSample(out, name + "_sum", labels, snapshot.sum);
    WriteSample(out, name + "_count", labels, static_cast<double>(snapshot.count));
  };
}

// A metric whose samples a function returns at render time.
class CallbackCollector : public internal::Collector {
 public:
  CallbackCollector(std::string name,
                    std::string help,
                    std::string type,
                    std::vector<std::string> label_names,
                    std::function<std::vector<LabeledValue>()> values_fn)
      : Collector(std::move(name),
                  std::move(help),
                  std::move(type),
                  label_names,
                  Signature(label_names, nullptr)),
        values_fn_(std::move(values_fn)) {}

 protected:
  std::vector<Child> Children() const override {
    std::vector<LabeledValue> values;
    try {
      values = values_fn_();
    } catch (const std::exception& e) {
      Logger("metrics")->error(
          "Metric callback failed metric={} error={}", name(), LogValue(e.what()));
      return {};
    }
    std::vector<Child> children;
    for (auto& value : values) {
      if (value.label_values.size() != label_names().size()) {
        Logger("metrics")->error(
            "Metric callback returned the wrong number of label values metric={} expected={} "
            "got={}",
            name(),
            label_names().size(),
            value.label_values.size());
        continue;
      }
      children.push_back({std::move(value.label_values), SampleWriter(name(), value.value)});
    }
    return children;
  }

 private:
  std::function<std::vector<LabeledValue>()> values_fn_;
};

}  // namespace

void Counter::Inc(double delta) {
  if (!(delta >= 0)) {
    return;
  }
  value_.fetch_add(delta, std::memory_order_relaxed);
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(SanitizeBounds(std::move(upper_bounds))),
      counts_(upper_bounds_.size() + 1, 0) {}

void Histogram::Observe(double value) {
  // Like the Go client, NaN lands in the +Inf bucket only (and makes the sum NaN).
  size_t bucket = upper_bounds_.size();
  if (!std::isnan(value)) {
    bucket =
        static_cast<size_t>(std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) -
                            upper_bounds_.begin());
  }
  std::lock_guard lock(mu_);
  ++counts_[bucket];
  sum_ += value;
  ++count_;
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot;
  snapshot.upper_bounds = upper_bounds_;
  std::lock_guard lock(mu_);
  snapshot.cumulative_counts.resize(counts_.size());
  std::partial_sum(counts_.begin(), counts_.end(), snapshot.cumulative_counts.begin());
  snapshot.sum = sum_;
  snapshot.count = count_;
  return snapshot;
}

std::vector<double> DefaultBuckets() {
  return {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> bounds;
  double bound = start;
  for (int i = 0; i < count; ++i) {
    bounds.push_back(bound);
    bound *= factor;
  }
  return bounds;
}

std::vector<double> LinearBuckets(double start, double width, int count) {
  std::vector<double> bounds;
  for (int i = 0; i < count; ++i) {
    bounds.push_back(start + width * i);
  }
  return bounds;
}

namespace internal {

void Collector::Render(std::string& out) const {
  std::vector<Child> children = Children();
  // Like the Go client's gatherer, a family without samples is left out entirely.
  if (children.empty()) {
    return;
  }
  std::vector<size_t> order(label_names_.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [this](size_t a, size_t b) {
    return label_names_[a] < label_names_[b];
  });

  struct Sorted {
    std::vector<std::string> values;  // in label-name order
    std::string labels;
    const Child* child;
  };

  std::vector<Sorted> sorted;
  sorted.reserve(children.size());
  for (const auto& child : children) {
    Sorted entry{{}, {}, &child};
    for (size_t index : order) {
      entry.values.push_back(child.label_values[index]);
      entry.labels += (entry.labels.empty() ? "" : ",") + label_names_[index] + "=\"" +
                      EscapeLabelValue(child.label_values[index]) + "\"";
    }
    sorted.push_back(std::move(entry));
  }
  std::sort(sorted.begin(), sorted.end(), [](const Sorted& a, const Sorted& b) {
    return a.values < b.values;
  });

  out += "# HELP " + name_ + " " + EscapeHelp(help_) + "\n";
  out += "# TYPE " + name_ + " " + type_ + "\n";
  for (const auto& entry : sorted) {
    entry.child->write(out, entry.labels);
  }
}

}  // namespace internal

template <typename T>
T& Family<T>::WithLabels(const std::vector<std::string>& label_values) {
  std::lock_guard lock(mu_);
  if (label_values.size() != label_names().size()) {
    Logger("metrics")->error(
        "Metric used with the wrong number of label values metric={} expected={} got={}",
        name(),
        label_names().size(),
        label_values.size());
    if (!invalid_child_) {
      invalid_child_ = make_child_();
    }
    return *invalid_child_;
  }
  auto it = children_.find(label_values);
  if (it == children_.end()) {
    it = children_.emplace(label_values, make_child_()).first;
  }
  return *it->second;
}

template <typename T>
void Family<T>::Remove(const std::vector<std::string>& label_values) {
  std::lock_guard lock(mu_);
  children_.erase(label_values);
}

template <typename T>
std::vector<internal::Collector::Child> Family<T>::Children() const {
  std::lock_guard lock(mu_);
  std::vector<Child> children;
  children.reserve(children_.size());
  for (const auto& [values, child] : children_) {
    children.push_back({values, MakeWriter(name(), *child)});
  }
  return children;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Registry::Registry() = default;

Registry::~Registry() = default;

template <typename T>
Family<T>& Registry::AddFamily(const std::string& name,
                               const std::string& help,
                               const std::string& type,
                               std::vector<std::string> label_names,
                               const std::vector<double>* upper_bounds,
                               std::function<std::unique_ptr<T>()> make_child) {
  std::string signature = Signature(label_names, upper_bounds);
  std::string problem = CheckNames(name, label_names, upper_bounds != nullptr);
  std::lock_guard lock(mu_);
  if (problem.empty()) {
    auto it = collectors_.find(name);
    if (it == collectors_.end()) {
      auto family = std::make_shared<Family<T>>(
          name, help, type, std::move(label_names), std::move(signature), std::move(make_child));
      collectors_.emplace(name, family);
      return *family;
    }
    auto* existing = dynamic_cast<Family<T>*>(it->second.get());
    if (existing != nullptr && it->second->type() == type && it->second->signature() == signature) {
      return *existing;
    }
    problem = "already registered as a " + it->second->type() + " with " + it->second->signature();
  }
  Logger("metrics")->error(
      "Metric registration failed, the metric will not be exported "
      "metric={} type={} error={}",
      LogValue(name),
      type,
      LogValue(problem));
  auto detached = std::make_shared<Family<T>>(
      name, help, type, std::move(label_names), std::move(signature), std::move(make_child));
  detached_.push_back(detached);
  return *detached;
}

Counter& Registry::AddCounter(const std::string& name, const std::string& help) {
  return AddCounterFamily(name, help, {}).WithLabels({});
}

Family<Counter>& Registry::AddCounterFamily(const std::string& name,
                                            const std::string& help,
                                            std::vector<std::string> label_names) {
  return AddFamily<Counter>(name, help, "counter", std::move(label_names), nullptr, [] {
    return std::make_unique<Counter>();
  });
}

Gauge& Registry::AddGauge(const std::string& name, const std::string& help) {
  return AddGaugeFamily(name, help, {}).WithLabels({});
}

Family<Gauge>& Registry::AddGaugeFamily(const std::string& name,
                                        const std::string& help,
                                        std::vector<std::string> label_names) {
  return AddFamily<Gauge>(name, help, "gauge", std::move(label_names), nullptr, [] {
    return std::make_unique<Gauge>();
  });
}

Histogram& Registry::AddHistogram(const std::string& name,
                                  const std::string& help,
                                  std::vector<double> upper_bounds) {
  return AddHistogramFamily(name, help, {}, std::move(upper_bounds)).WithLabels({});
}

Family<Histogram>& Registry::AddHistogramFamily(const std::string& name,
                                                const std::string& help,
                                                std::vector<std::string> label_names,
                                                std::vector<double> upper_bounds) {
  return AddFamily<Histogram>(
      name, help, "histogram", std::move(label_names), &upper_bounds, [upper_bounds] {
        return std::make_unique<Histogram>(upper_bounds);
      });
}

void Registry::AddCallback(std::shared_ptr<internal::Collector> collector) {
  std::string problem = CheckNames(collector->name(), collector->label_names(), false);
  std::lock_guard lock(mu_);
  if (problem.empty() && collectors_.count(collector->name()) > 0) {
    problem = "already registered";
  }
  if (!problem.empty()) {
    Logger("metrics")->error(
        "Metric registration failed, the metric will not be exported "
        "metric={} type={} error={}",
        LogValue(collector->name()),
        collector->type(),
        LogValue(problem));
    return;
  }
  collectors_.emplace(collector->name(), std::move(collector));
}

void Registry::AddCallbackGauge(const std::string& name,
                                const std::string& help,
                                std::function<double()> value_fn) {
  AddCallback(std::make_shared<CallbackCollector>(
      name, help, "gauge", std::vector<std::string>{}, [fn = std::move(value_fn)] {
        return std::vector<LabeledValue>{{{}, fn()}};
      }));
}

void Registry::AddCallbackGaugeFamily(const std::string& name,
                                      const std::string& help,
                                      std::vector<std::string> label_names,
                                      std::function<std::vector<LabeledValue>()> values_fn) {
  AddCallback(std::make_shared<CallbackCollector>(
      name, help, "gauge", std::move(label_names), std::move(values_fn)));
}

void Registry::AddCallbackCounter(const std::string& name,
                                  const std::string& help,
                                  std::function<double()> value_fn) {
  AddCallback(std::make_shared<CallbackCollector>(
      name, help, "counter", std::vector<std::string>{}, [fn = std::move(value_fn)] {
        return std::vector<LabeledValue>{{{}, fn()}};
      }));
}

bool Registry::Unregister(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = collectors_.find(name);
  if (it == collectors_.end()) {
    return false;
  }
  detached_.push_back(std::move(it->second));
  collectors_.erase(it);
  return true;
}

std::string Registry::Render() const {
  // Callbacks run without mu_ held, so that one may use the registry itself.
  std::vector<std::shared_ptr<internal::Collector>> collectors;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, collector] : collectors_) {
      collectors.push_back(collector);
    }
  }
  std::string out;
  for (const auto& collector : collectors) {
    collector->Render(out);
  }
  return out;
}

HttpServerResponse MetricsResponse(const Registry& registry) {
  HttpServerResponse response = HttpServerResponse::Text(200, registry.Render());
  response.content_type = kTextContentType;
  return response;
}

std::string FormatMetricValue(double value) {
  return FormatGoFloat(value, 'g');
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool IsValidMetricName(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) {
      return false;
    }
  }
  return true;
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || name.starts_with("__")) {
    return false;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) {
      return false;
    }
  }
  return true;
}

}  // namespace alertd::metrics
