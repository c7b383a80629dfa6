// The in-memory sample window: what the scraper and recording rules append and what the PromQL
// evaluator reads.
#pragma once

#include <bit>
#include <cstdint>
#include <limits>
#include <vector>

#include "common/labels.h"
#include "common/matcher.h"

namespace alertd {

struct Sample {
  int64_t t;  // milliseconds since the Unix epoch
  double v;

  friend bool operator==(const Sample&, const Sample&) = default;
};

// Prometheus's staleness marker: a NaN with a specific bit pattern (value.StaleNaN), written
// when a series disappears from its target or its target goes down. Compare bits, not values,
// because every NaN compares unequal.
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;

inline double StaleNaN() { return std::bit_cast<double>(kStaleNaNBits); }

inline bool IsStaleNaN(double v) { return std::bit_cast<uint64_t>(v) == kStaleNaNBits; }

struct Series {
  Labels labels;
  std::vector<Sample> samples;  // ascending by t
};

// Write side. Implementations are thread-safe.
class Appender {
 public:
  virtual ~Appender() = default;
  // Appends one sample. A sample older than the newest one of its series is dropped, and a
  // sample with the same timestamp replaces the newest one.
  virtual void Append(const Labels& labels, int64_t t, double v) = 0;
};

// Read side. Implementations are thread-safe.
class Queryable {
 public:
  virtual ~Queryable() = default;
  // Returns every series that satisfies all matchers, with its samples in [mint, maxt]
  // (inclusive, milliseconds), including staleness markers. Series without samples in the range
  // are omitted. Order is unspecified.
  virtual std::vector<Series> Select(const std::vector<LabelMatcher>& matchers, int64_t mint,
                                     int64_t maxt) const = 0;
};

}  // namespace alertd
