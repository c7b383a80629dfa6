// A small Prometheus client: counters, gauges, histograms and callback gauges in a Registry
// that renders the text exposition format 0.0.4, as served on /metrics.
//
// Registration mistakes (an invalid name, or a name registered again with another type, label
// names or buckets) are bugs in alertd, not user errors. They are logged at error level
// (component "metrics"), and the call returns a working metric that is not rendered, so the
// caller needs no error path.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "web/http_server.h"

namespace alertd::metrics {

// Content-Type of Registry::Render() output.
inline constexpr char kTextContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// A value that only goes up. Thread-safe.
class Counter {
 public:
  // Adds `delta`. A negative or NaN delta is ignored, since a counter never decreases.
  void Inc(double delta = 1);

  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down. Thread-safe.
class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }

  void Inc(double delta = 1) { value_.fetch_add(delta, std::memory_order_relaxed); }

  void Dec(double delta = 1) { value_.fetch_sub(delta, std::memory_order_relaxed); }

  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into buckets with upper bounds (inclusive) plus an implicit +Inf
// bucket, and tracks their sum and count. Thread-safe.
class Histogram {
 public:
  // `upper_bounds` is sorted and deduplicated; NaN and a trailing +Inf are dropped.
  explicit Histogram(std::vector<double> upper_bounds);

  void Observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;         // without +Inf
    std::vector<uint64_t> cumulative_counts;  // one per bound, then one for +Inf
    double sum = 0;
    uint64_t count = 0;
  };

  // Returns a consistent copy of the buckets, sum and count.
  Snapshot Read() const;

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

 private:
  std::vector<double> upper_bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; last is +Inf. Guarded by mu_.
  double sum_ = 0;                // guarded by mu_
  uint64_t count_ = 0;            // guarded by mu_
};

// Prometheus client_golang's DefBuckets: .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10.
std::vector<double> DefaultBuckets();
// `count` bounds starting at `start`, each `factor` times the previous one.
std::vector<double> ExponentialBuckets(double start, double factor, int count);
// `count` bounds starting at `start`, each `width` above the previous one.
std::vector<double> LinearBuckets(double start, double width, int count);

namespace internal {

// A named metric family that can write itself in the text format.
class Collector {
 public:
  // `signature` identifies the metric's shape (label names, buckets): registering a name
  // again returns the existing metric only when type and signature match.
  Collector(std::string name,
            std::string help,
            std::string type,
            std::vector<std::string> label_names,
            std::string signature)
      : name_(std::move(name)),
        help_(std::move(help)),
        type_(std::move(type)),
        label_names_(std::move(label_names)),
        signature_(std::move(signature)) {}

  virtual ~Collector() = default;

  // Appends the # HELP and # TYPE lines and every sample.
  void Render(std::string& out) const;

  const std::string& name() const { return name_; }

  const std::string& type() const { return type_; }

  const std::vector<std::string>& label_names() const { return label_names_; }

  const std::string& signature() const { return signature_; }

 protected:
  // One child: its label values in label_names() order and a writer for its sample lines.
  struct Child {
    std::vector<std::string> label_values;
    std::function<void(std::string& out, const std::string& labels)> write;
  };

  virtual std::vector<Child> Children() const = 0;

 private:
  std::string name_;
  std::string help_;
  std::string type_;
  std::vector<std::string> label_names_;
  std::string signature_;
};

}  // namespace internal

// The children of one metric, one per combination of label values. Thread-safe; references
// returned by WithLabels stay valid until that child is removed or the family is destroyed.
template <typename T>
class Family : public internal::Collector {
 public:
  Family(std::string name,
         std::string help,
         std::string type,
         std::vector<std::string> label_names,
         std::string signature,
         std::function<std::unique_ptr<T>()> make_child)
      : Collector(std::move(name),
                  std::move(help),
                  std::move(type),
                  std::move(label_names),
                  std::move(signature)),
        make_child_(std::move(make_child)) {}

  // Returns the child for `label_values`, given in label-name order, creating it on first
  // use. A wrong number of values is a bug: it is logged and a child that is never rendered
  // is returned.
  T& WithLabels(const std::vector<std::string>& label_values);

  // Removes the child for `label_values`, e.g. for a rule that no longer exists.
  void Remove(const std::vector<std::string>& label_values);

 protected:
  std::vector<Child> Children() const override;

 private:
  std::function<std::unique_ptr<T>()> make_child_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_;  // guarded by mu_
  std::unique_ptr<T> invalid_child_;                                 // guarded by mu_
};

// One sample of a callback gauge family.
struct LabeledValue {
  std::vector<std::string> label_values;  // in label-name order
  double value = 0;
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Counter& AddCounter(const std::string& name, const std::string& help);
  Family<Counter>& AddCounterFamily(const std::string& name,
                                    const std::string& help,
                                    std::vector<std::string> label_names);
  Gauge& AddGauge(const std::string& name, const std::string& help);
  Family<Gauge>& AddGaugeFamily(const std::string& name,
                                const std::string& help,
                                std::vector<std::string> label_names);
  Histogram& AddHistogram(const std::string& name,
                          const std::string& help,
                          std::vector<double> upper_bounds);
  Family<Histogram>& AddHistogramFamily(const std::string& name,
                                        const std::string& help,
                                        std::vector<std::string> label_names,
                                        std::vector<double> upper_bounds);

  // Registers a gauge whose value `value_fn` returns at render time. `value_fn` runs without
  // any registry lock held and must be thread-safe. Registering an existing name logs a bug
  // and keeps the first registration.
  void AddCallbackGauge(const std::string& name,
                        const std::string& help,
                        std::function<double()> value_fn);
  // Like AddCallbackGauge, for a gauge with labels: `values_fn` returns every sample.
  void AddCallbackGaugeFamily(const std::string& name,
                              const std::string& help,
                              std::vector<std::string> label_names,
                              std::function<std::vector<LabeledValue>()> values_fn);
  // A counter maintained elsewhere, e.g. by a library, read at render time.
  void AddCallbackCounter(const std::string& name,
                          const std::string& help,
                          std::function<double()> value_fn);

  // Removes the metric `name`, e.g. a callback that refers to an object being destroyed.
  // References to a removed metric stay valid until the registry is destroyed. Returns
  // whether `name` was registered.
  bool Unregister(const std::string& name);

  // Renders every metric in the text exposition format 0.0.4: families sorted by name, label
  // pairs sorted by label name, children sorted by label values. Thread-safe.
  std::string Render() const;

 private:
  template <typename T>
  Family<T>& AddFamily(const std::string& name,
                       const std::string& help,
                       const std::string& type,
                       std::vector<std::string> label_names,
                       const std::vector<double>* upper_bounds,
                       std::function<std::unique_ptr<T>()> make_child);
  void AddCallback(std::shared_ptr<internal::Collector> collector);

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<internal::Collector>> collectors_;  // guarded by mu_
  // Collectors returned by failed or superseded registrations, kept so that references
  // into them stay valid. Guarded by mu_.
  std::vector<std::shared_ptr<internal::Collector>> detached_;
};

// Returns Render() as a 200 response with kTextContentType, for a /metrics handler.
HttpServerResponse MetricsResponse(const Registry& registry);

// Formats a sample value as the Go client does (strconv 'g' with the shortest precision):
// "1", "0.25", "1.5e+06", "1e-05", "+Inf", "-Inf", "NaN".
std::string FormatMetricValue(double value);

// Escapes a label value for the text format: backslash, double quote and line feed.
std::string EscapeLabelValue(std::string_view value);

// True for names matching [a-zA-Z_:][a-zA-Z0-9_:]*.
bool IsValidMetricName(std::string_view name);
// True for names matching [a-zA-Z_][a-zA-Z0-9_]* that do not start with "__".
bool IsValidLabelName(std::string_view name);

}  // namespace alertd::metrics
