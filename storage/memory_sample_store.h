// An in-memory sample window: the Appender the scraper and recording rules write to and the
// Queryable the PromQL evaluator reads from.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "storage/sample_store.h"

namespace alertd {

// Receives every sample the store keeps, for example to write it to a log.
class AppendObserver {
 public:
  virtual ~AppendObserver() = default;
  // Called with the store's exclusive lock held, after the sample was stored (appended, or
  // replacing the newest sample at the same timestamp), in the order the store applied them.
  // Samples the store drops are not passed. Must not call back into the store.
  virtual void OnAppend(const Labels& labels, int64_t t, double v) = 0;
};

// Thread-safe: Append and Truncate take an exclusive lock, Select and the counters a shared
// one. Series are found by Labels::Hash(), and series whose hashes collide are distinguished by
// comparing their labels. An inverted index from each label name and value to the series that
// carry it keeps Select from scanning every series when a matcher narrows the set.
class MemorySampleStore : public Appender, public Queryable {
 public:
  using HashFunction = uint64_t (*)(const Labels&);

  MemorySampleStore() = default;

  // For tests: keys series by `hash` in place of Labels::Hash(), so collisions can be forced.
  explicit MemorySampleStore(HashFunction hash) : hash_(hash) {}

  MemorySampleStore(const MemorySampleStore&) = delete;
  MemorySampleStore& operator=(const MemorySampleStore&) = delete;

  // Appender
  void Append(const Labels& labels, int64_t t, double v) override;

  // Queryable
  std::vector<Series> Select(const std::vector<LabelMatcher>& matchers,
                             int64_t mint,
                             int64_t maxt) const override;

  // Sets the observer of later appends, or removes it when nullptr. The observer must outlive its
  // registration.
  void SetObserver(AppendObserver* observer);

  // Drops every sample with t < min_t, and the series left without samples.
  void Truncate(int64_t min_t);

  size_t NumSeries() const;
  size_t NumSamples() const;

 private:
  using SeriesId = uint64_t;

  struct MemSeries {
    Labels labels;
    std::deque<Sample> samples;  // ascending by t
  };

  // Returns the id of the series with exactly `labels`, or 0 when there is none.
  SeriesId FindLocked(const Labels& labels, uint64_t hash) const;
  SeriesId CreateLocked(const Labels& labels, uint64_t hash);
  void RemoveLocked(SeriesId id);
  // Returns the ids of the series that may satisfy `matchers`. Callers still check each one.
  std::vector<SeriesId> CandidatesLocked(const std::vector<LabelMatcher>& matchers) const;

  static uint64_t DefaultHash(const Labels& labels) { return labels.Hash(); }

  HashFunction hash_ = &DefaultHash;
  mutable std::shared_mutex mu_;
  SeriesId next_id_ = 1;
  size_t num_samples_ = 0;
  AppendObserver* observer_ = nullptr;
  std::unordered_map<SeriesId, MemSeries> series_;
  // Labels hash -> ids of the series with that hash (more than one on a collision).
  std::unordered_map<uint64_t, std::vector<SeriesId>> by_hash_;
  // Label name -> label value -> ids of the series with that label.
  std::map<std::string, std::map<std::string, std::set<SeriesId>>, std::less<>> postings_;
};

}  // namespace alertd
