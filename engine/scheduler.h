// Periodic jobs on a worker pool: scrapes, group evaluations, dispatcher ticks. Asio stays
// inside scheduler.cc.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/clock.h"

namespace alertd {

class Scheduler {
 public:
  // `threads` workers run the jobs; a blocking job (an HTTP scrape) holds one worker.
  explicit Scheduler(int threads);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs `job` every `interval` on a worker, first after `offset`. Runs of one job never
  // overlap: when a run is still going at its next due time, that iteration is skipped and
  // counted in missed(). Returns the job's id. Thread-safe; may be called after Start().
  uint64_t Every(std::string name, Duration interval, Duration offset, std::function<void()> job);

  // Cancels a job; a run in progress finishes.
  void Cancel(uint64_t id);

  // Runs `job` once on a worker as soon as one is free.
  void Post(std::function<void()> job);

  void Start();
  // Stops the timers and joins the workers after their current job.
  void Stop();

  // Iterations skipped because the previous run of the same job was still going.
  uint64_t missed() const { return missed_.load(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<uint64_t> missed_{0};
};

// The offset within `interval` at which a job keyed by `key` starts, spreading jobs evenly
// the way Prometheus spreads scrapes and group evaluations (a hash of the key).
Duration SpreadOffset(const std::string& key, Duration interval, TimePoint now);

}  // namespace alertd
