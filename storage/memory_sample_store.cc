#include "storage/memory_sample_store.h"

#include <algorithm>
#include <iterator>
#include <mutex>

namespace alertd {

void MemorySampleStore::Append(const Labels& labels, int64_t t, double v) {
  const uint64_t hash = hash_(labels);
  std::unique_lock lock(mu_);
  SeriesId id = FindLocked(labels, hash);
  if (id == 0) {
    id = CreateLocked(labels, hash);
  }
  std::deque<Sample>& samples = series_[id].samples;
  if (!samples.empty()) {
    if (t < samples.back().t) {
      return;
    }
    if (t == samples.back().t) {
      samples.back().v = v;
      if (observer_ != nullptr) {
        observer_->OnAppend(labels, t, v);
      }
      return;
    }
  }
  samples.push_back(Sample{t, v});
  ++num_samples_;
  if (observer_ != nullptr) {
    observer_->OnAppend(labels, t, v);
  }
}

void MemorySampleStore::SetObserver(AppendObserver* observer) {
  std::unique_lock lock(mu_);
  observer_ = observer;
}

std::vector<Series> MemorySampleStore::Select(const std::vector<LabelMatcher>& matchers,
                                              int64_t mint,
                                              int64_t maxt) const {
  std::shared_lock lock(mu_);
  std::vector<Series> out;
  for (SeriesId id : CandidatesLocked(matchers)) {
    const MemSeries& s = series_.at(id);
    bool match = std::all_of(matchers.begin(), matchers.end(), [&s](const LabelMatcher& m) {
      return m.Matches(s.labels.Get(m.name()));
    });
    if (!match) {
      continue;
    }
    auto first =
        std::lower_bound(s.samples.begin(), s.samples.end(), mint, [](const Sample& a, int64_t t) {
          return a.t < t;
        });
    auto last = std::upper_bound(
        first, s.samples.end(), maxt, [](int64_t t, const Sample& a) { return t < a.t; });
    if (first == last) {
      continue;
    }
    out.push_back(Series{s.labels, std::vector<Sample>(first, last)});
  }
  return out;
}

void MemorySampleStore::Truncate(int64_t min_t) {
  std::unique_lock lock(mu_);
  std::vector<SeriesId> empty;
  for (auto& [id, s] : series_) {
    auto keep =
        std::lower_bound(s.samples.begin(), s.samples.end(), min_t, [](const Sample& a, int64_t t) {
          return a.t < t;
        });
    num_samples_ -= static_cast<size_t>(keep - s.samples.begin());
    s.samples.erase(s.samples.begin(), keep);
    if (s.samples.empty()) {
      empty.push_back(id);
    }
  }
  for (SeriesId id : empty) {
    RemoveLocked(id);
  }
}

size_t MemorySampleStore::NumSeries() const {
  std::shared_lock lock(mu_);
  return series_.size();
}

size_t MemorySampleStore::NumSamples() const {
  std::shared_lock lock(mu_);
  return num_samples_;
}

MemorySampleStore::SeriesId MemorySampleStore::FindLocked(const Labels& labels,
                                                          uint64_t hash) const {
  auto it = by_hash_.find(hash);
  if (it == by_hash_.end()) {
    return 0;
  }
  for (SeriesId id : it->second) {
    if (series_.at(id).labels == labels) {
      return id;
    }
  }
  return 0;
}

MemorySampleStore::SeriesId MemorySampleStore::CreateLocked(const Labels& labels, uint64_t hash) {
  SeriesId id = next_id_++;
  series_.emplace(id, MemSeries{labels, {}});
  by_hash_[hash].push_back(id);
  for (const Label& l : labels) {
    postings_[l.name][l.value].insert(id);
  }
  return id;
}

void MemorySampleStore::RemoveLocked(SeriesId id) {
  auto it = series_.find(id);
  if (it == series_.end()) {
    return;
  }
  const Labels& labels = it->second.labels;
  auto h = by_hash_.find(hash_(labels));
  if (h != by_hash_.end()) {
    std::erase(h->second, id);
    if (h->second.empty()) {
      by_hash_.erase(h);
    }
  }
  for (const Label& l : labels) {
    auto by_name = postings_.find(l.name);
    if (by_name == postings_.end()) {
      continue;
    }
    auto by_value = by_name->second.find(l.value);
    if (by_value != by_name->second.end()) {
      by_value->second.erase(id);
      if (by_value->second.empty()) {
        by_name->second.erase(by_value);
      }
    }
    if (by_name->second.empty()) {
      postings_.erase(by_name);
    }
  }
  series_.erase(it);
}

std::vector<MemorySampleStore::SeriesId> MemorySampleStore::CandidatesLocked(
    const std::vector<LabelMatcher>& matchers) const {
  // A matcher that rejects the empty value only selects series carrying its label, so the
  // postings of that label bound the result. Equality matchers are the cheapest and go first.
  std::vector<const LabelMatcher*> narrowing;
  for (const LabelMatcher& m : matchers) {
    if (!m.MatchesEmpty()) {
      narrowing.push_back(&m);
    }
  }
  std::stable_partition(narrowing.begin(), narrowing.end(), [](const LabelMatcher* m) {
    return m->type() == MatchType::kEqual;
  });

  std::vector<SeriesId> result;
  if (narrowing.empty()) {
    result.reserve(series_.size());
    for (const auto& [id, s] : series_) {
      result.push_back(id);
    }
    return result;
  }
  bool first = true;
  for (const LabelMatcher* m : narrowing) {
    std::vector<SeriesId> ids;
    auto by_name = postings_.find(m->name());
    if (by_name != postings_.end()) {
      if (m->type() == MatchType::kEqual) {
        auto by_value = by_name->second.find(m->value());
        if (by_value != by_name->second.end()) {
          ids.assign(by_value->second.begin(), by_value->second.end());
        }
      } else {
        std::set<SeriesId> merged;
        for (const auto& [value, set] : by_name->second) {
          if (m->Matches(value)) {
            merged.insert(set.begin(), set.end());
          }
        }
        ids.assign(merged.begin(), merged.end());
      }
    }
    if (first) {
      result = std::move(ids);
      first = false;
    } else {
      std::vector<SeriesId> both;
      std::set_intersection(
          result.begin(), result.end(), ids.begin(), ids.end(), std::back_inserter(both));
      result = std::move(both);
    }
    if (result.empty()) {
      break;
    }
  }
  return result;
}

}  // namespace alertd
