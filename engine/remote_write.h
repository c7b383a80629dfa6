// Prometheus remote write (protocol 1.0: protobuf WriteRequest, snappy block compression) of
// the samples rules produce, for alertd with a remote datasource. Each endpoint has a bounded
// queue and a sender thread; 5xx, 429 and transport failures are retried with exponential
// backoff, other 4xx drop the batch with an error log, and samples arriving at a full queue
// are dropped and counted.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/labels.h"
#include "common/result.h"
#include "engine/remote_query_source.h"
#include "storage/sample_store.h"

namespace alertd {

struct RemoteWriteOptions {
  RemoteEndpoint endpoint;  // url is the write endpoint itself, e.g. .../api/v1/write
  std::string name;         // for logs and metrics; default: the redacted URL
  size_t capacity = 2500;   // samples queued before new ones are dropped
  size_t max_samples_per_send = 500;
  Duration min_backoff{30};
  Duration max_backoff{5000};
  // Added to every series that does not have the label, as Prometheus's external_labels.
  Labels external_labels;
};

// Encodes samples as a snappy-compressed WriteRequest, grouping consecutive samples of one
// series into one TimeSeries.
std::string EncodeWriteRequest(const std::vector<std::pair<Labels, Sample>>& samples);

// Decodes a snappy-compressed WriteRequest, for tests and receivers.
Result<std::vector<Series>> DecodeWriteRequest(const std::string& body);

class RemoteWriteQueue {
 public:
  RemoteWriteQueue(RemoteWriteOptions options, std::shared_ptr<HttpClient> http);
  ~RemoteWriteQueue();

  RemoteWriteQueue(const RemoteWriteQueue&) = delete;
  RemoteWriteQueue& operator=(const RemoteWriteQueue&) = delete;

  // Queues one sample; drops it when the queue contains `capacity` samples. Thread-safe.
  void Append(const Labels& labels, int64_t t, double v);

  // Starts the sender thread.
  void Start();
  // Stops the sender after one last attempt, without retries, to send what is queued.
  void Stop();

  // Sends queued samples in batches until the queue is empty or a send fails; returns the
  // status of the last attempt. For tests that drive the queue without the thread.
  Status SendPending();

  const std::string& name() const { return name_; }

  size_t pending() const;

  uint64_t samples_sent() const { return sent_.load(); }

  uint64_t samples_dropped() const { return dropped_.load(); }  // queue full

  uint64_t samples_failed() const { return failed_.load(); }  // rejected with a 4xx

  uint64_t retries() const { return retries_.load(); }

 private:
  enum class Outcome { kSent, kRejected, kRetry };

  Outcome SendBatch(const std::vector<std::pair<Labels, Sample>>& batch, std::string* error);
  void Run();

  RemoteWriteOptions options_;
  std::shared_ptr<HttpClient> http_;
  std::string name_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<Labels, Sample>> queue_;  // guarded by mu_
  bool stopping_ = false;                        // guarded by mu_
  std::thread thread_;

  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> retries_{0};
};

// An Appender that queues every sample on each remote-write queue.
class RemoteWriteAppender final : public Appender {
 public:
  explicit RemoteWriteAppender(std::vector<RemoteWriteQueue*> queues)
      : queues_(std::move(queues)) {}

  void Append(const Labels& labels, int64_t t, double v) override {
    for (RemoteWriteQueue* queue : queues_) {
      queue->Append(labels, t, v);
    }
  }

 private:
  std::vector<RemoteWriteQueue*> queues_;
};

}  // namespace alertd
