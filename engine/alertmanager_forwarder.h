// Sends alerts to Alertmanagers through their API v2 (POST <path_prefix>/api/v2/alerts), as
// Prometheus's notifier does: one queue for all Alertmanagers, batches of at most 64 alerts,
// each batch posted to every Alertmanager, the oldest alerts dropped when the queue is full.
// Resending is the rule manager's: it hands over a firing alert again at the first group
// evaluation more than resend_delay after the last send, so about every max(resend_delay,
// interval), with endsAt = now + 4 * max(resend_delay, interval), and resolved alerts with
// their end time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/http_client.h"
#include "engine/remote_query_source.h"
#include "notifiers/notifier.h"

namespace alertd {

struct AlertmanagerForwarderOptions {
  // One per Alertmanager; url is the full alerts URL, e.g. http://127.0.0.1:9093/api/v2/alerts.
  std::vector<RemoteEndpoint> alertmanagers;
  size_t capacity = 10000;  // Prometheus's --alertmanager.notification-queue-capacity
  size_t max_batch = 64;    // Prometheus's maxBatchSize
};

// Returns the API v2 body for `alerts`: a list of {labels, annotations, startsAt, endsAt,
// generatorURL}, times in RFC 3339 with milliseconds.
std::string AlertsToApiV2Json(const std::vector<NotifyAlert>& alerts);

// Builds the alerts URL from prometheus.yml's scheme, target host:port and path_prefix.
std::string AlertmanagerAlertsUrl(const std::string& scheme,
                                  const std::string& target,
                                  const std::string& path_prefix);

class AlertmanagerForwarder {
 public:
  AlertmanagerForwarder(AlertmanagerForwarderOptions options, std::shared_ptr<HttpClient> http);
  ~AlertmanagerForwarder();

  AlertmanagerForwarder(const AlertmanagerForwarder&) = delete;
  AlertmanagerForwarder& operator=(const AlertmanagerForwarder&) = delete;

  // Queues alerts; when the queue overflows, the oldest are dropped and counted. Thread-safe.
  void Send(std::vector<NotifyAlert> alerts);

  void Start();
  // Stops after one last attempt to send what is queued.
  void Stop();

  // Posts the queued alerts, batch by batch, to every Alertmanager. Returns false when no
  // Alertmanager accepted some batch. For tests that drive the forwarder without the thread.
  bool SendPending();

  size_t pending() const;

  uint64_t alerts_sent() const { return sent_.load(); }  // per Alertmanager that accepted

  uint64_t errors() const { return errors_.load(); }  // failed posts of a batch

  uint64_t dropped() const { return dropped_.load(); }  // queue overflow, or no one accepted

 private:
  bool PostToAll(const std::vector<NotifyAlert>& batch);
  void Run();

  AlertmanagerForwarderOptions options_;
  std::shared_ptr<HttpClient> http_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<NotifyAlert> queue_;  // guarded by mu_
  bool stopping_ = false;          // guarded by mu_
  std::thread thread_;

  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace alertd
