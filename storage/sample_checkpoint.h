// A checkpoint of the in-memory sample window in a directory: a write-ahead log of the samples
// the window keeps, plus a periodic snapshot of the whole window after which the log is cut.
// Open replays both into the window. docs/sample-checkpoint.md describes the file format, the
// fsync points and what a crash loses.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "storage/memory_sample_store.h"

namespace alertd {

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of `size` bytes, continuing from `crc`.
uint32_t Crc32c(const void* data, size_t size, uint32_t crc = 0);

struct SampleCheckpointOptions {
  std::string dir;  // created when missing
  // How often the buffered samples are written to the log as one record and fsynced. A crash
  // loses at most the samples of the last interval.
  std::chrono::milliseconds flush_interval{1000};
  // Encoded size of the buffered samples that starts a flush before the interval ends.
  size_t flush_bytes = 4 << 20;
};

struct SampleReplayStats {
  bool snapshot = false;       // whether a snapshot was read
  size_t segments = 0;         // log segments read
  size_t samples = 0;          // samples appended to the window
  size_t dropped_samples = 0;  // samples older than the retention, skipped
  // One entry per damaged file: its path, why reading stopped and at which offset.
  std::vector<std::string> truncations;
};

// Writes every sample the window keeps to the log (as its AppendObserver) and the window to a
// snapshot on Snapshot(). Thread-safe. Write failures never reach the appenders: they are
// logged once per distinct error and counted, and the next snapshot stores the samples again.
class SampleCheckpoint final : public AppendObserver {
 public:
  // Creates options.dir, replays the snapshot and then the log segments into `store` (samples
  // with t < min_t are skipped, torn or corrupt records are logged and cut off), starts a new
  // log segment and registers with `store` as its observer. `store` must outlive the
  // checkpoint. Errors name the path that could not be created or written.
  static Result<std::unique_ptr<SampleCheckpoint>> Open(SampleCheckpointOptions options,
                                                        MemorySampleStore* store,
                                                        int64_t min_t);

  // Calls Close.
  ~SampleCheckpoint() override;

  SampleCheckpoint(const SampleCheckpoint&) = delete;
  SampleCheckpoint& operator=(const SampleCheckpoint&) = delete;

  const SampleReplayStats& replay_stats() const { return replay_stats_; }

  // Writes the buffered samples to the log and fsyncs it.
  Status Flush();

  // Starts a new log segment, writes the whole window to a snapshot and deletes the segments
  // the snapshot covers. Does nothing after Close.
  Status Snapshot();

  // Unregisters from the store, flushes the buffer and closes the log. Idempotent.
  void Close();

  // AppendObserver
  void OnAppend(const Labels& labels, int64_t t, double v) override;

  uint64_t write_failures_total() const { return write_failures_; }

  uint64_t samples_lost_total() const { return samples_lost_; }

  uint64_t snapshots_total() const { return snapshots_; }

  uint64_t snapshot_failures_total() const { return snapshot_failures_; }

  // One record's worth of samples, with each series's labels stored once. Public for the
  // encoder tests.
  class Batch {
   public:
    void Add(const Labels& labels, int64_t t, double v);

    bool empty() const { return samples_.empty(); }

    size_t size() const { return samples_.size(); }

    size_t encoded_size() const { return encoded_size_; }

    // Returns the record: a length, a CRC-32C of the payload and the payload.
    std::string EncodeRecord() const;

   private:
    struct Entry {
      uint32_t ref;  // index into series_
      int64_t t;
      double v;
    };

    uint32_t Ref(const Labels& labels);

    std::vector<Labels> series_;
    std::unordered_map<uint64_t, std::vector<uint32_t>> refs_;  // Labels::Hash -> series_ index
    std::vector<Entry> samples_;
    size_t encoded_size_ = 8;  // the two counts
  };

 private:
  SampleCheckpoint(SampleCheckpointOptions options, MemorySampleStore* store);

  void Replay(int64_t min_t);
  // Reads one file and appends its samples; returns the number in its header, or nullopt
  // when the header is missing or invalid.
  std::optional<uint64_t> ReplayFile(const std::string& path, bool is_snapshot, int64_t min_t);
  void FlushLoop();
  Status FlushLocked();
  Status OpenSegmentLocked();
  Status WriteSnapshot(const std::vector<Series>& window, uint64_t first_segment);
  void ReportLocked(const Status& status, std::string& last_error, const char* what);
  std::string SegmentPath(uint64_t index) const;

  const SampleCheckpointOptions options_;
  MemorySampleStore* const store_;
  SampleReplayStats replay_stats_;

  std::mutex buffer_mu_;  // guards buffer_, flush_requested_ and closing_
  std::condition_variable flush_cv_;
  Batch buffer_;
  bool flush_requested_ = false;
  bool closing_ = false;

  std::mutex file_mu_;  // guards the fields below it up to snapshot_mu_
  int fd_ = -1;         // the current log segment, -1 after a failure until the next flush
  uint64_t next_segment_ = 1;
  std::string log_error_;  // last logged write error, empty after a success

  std::mutex snapshot_mu_;      // one snapshot at a time
  std::string snapshot_error_;  // guarded by snapshot_mu_

  std::atomic<uint64_t> write_failures_{0};
  std::atomic<uint64_t> samples_lost_{0};
  std::atomic<uint64_t> snapshots_{0};
  std::atomic<uint64_t> snapshot_failures_{0};
  std::thread flusher_;
};

}  // namespace alertd
