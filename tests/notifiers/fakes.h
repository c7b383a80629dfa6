// Test doubles for the notifiers tests: an in-memory StateStore, a scripted HttpClient and a
// recording Notifier.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/http_client.h"
#include "notifiers/notifier.h"
#include "storage/state_store.h"

namespace alertd::testing {

// Keeps only the notification log; the alert methods store nothing.
class FakeStateStore final : public StateStore {
 public:
  Result<std::vector<StoredAlert>> LoadAlerts(TimePoint) override {
    return std::vector<StoredAlert>{};
  }

  Status WriteAlerts(const std::vector<StoredAlert>&, const std::vector<StoredAlert>&) override {
    return Status::Ok();
  }

  Result<std::optional<NotificationLogEntry>> GetNotification(
      const std::string& receiver, const std::string& group_key) override {
    std::lock_guard lock(mu_);
    auto it = entries_.find({receiver, group_key});
    if (it == entries_.end()) {
      return std::optional<NotificationLogEntry>();
    }
    return std::optional<NotificationLogEntry>(it->second);
  }

  Status PutNotification(const NotificationLogEntry& entry) override {
    std::lock_guard lock(mu_);
    entries_[{entry.receiver, entry.group_key}] = entry;
    return Status::Ok();
  }

  Status PruneNotifications(TimePoint before) override {
    std::lock_guard lock(mu_);
    std::erase_if(entries_, [&](const auto& item) { return item.second.sent_at < before; });
    return Status::Ok();
  }

  size_t size() const {
    std::lock_guard lock(mu_);
    return entries_.size();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, NotificationLogEntry> entries_;
};

// Answers requests from a script, then with 200 "ok"; records every request.
class FakeHttpClient final : public HttpClient {
 public:
  void Push(Result<HttpResponse> result) {
    std::lock_guard lock(mu_);
    script_.push_back(std::move(result));
  }

  Result<HttpResponse> Do(const HttpRequest& request) override {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    if (script_.empty()) {
      HttpResponse ok;
      ok.status = 200;
      ok.body = "ok";
      return ok;
    }
    Result<HttpResponse> next = std::move(script_.front());
    script_.pop_front();
    return next;
  }

  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  mutable std::mutex mu_;
  std::deque<Result<HttpResponse>> script_;
  std::vector<HttpRequest> requests_;
};

inline HttpResponse MakeResponse(int status,
                                 std::string body = "",
                                 std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers = std::move(headers);
  return response;
}

// What a RecordingNotifier saw; shared so a test can read it after the dispatcher took the
// notifier.
struct NotifierLog {
  std::mutex mu;
  std::vector<Notification> notifications;  // every Notify call, failed ones included
  std::deque<NotifyError> errors;           // returned by the next Notify calls, in order

  size_t calls() {
    std::lock_guard lock(mu);
    return notifications.size();
  }

  Notification last() {
    std::lock_guard lock(mu);
    return notifications.back();
  }

  void FailNext(NotifyError error) {
    std::lock_guard lock(mu);
    errors.push_back(std::move(error));
  }
};

class RecordingNotifier final : public Notifier {
 public:
  RecordingNotifier(std::string integration, bool send_resolved, std::shared_ptr<NotifierLog> log)
      : integration_(std::move(integration)), send_resolved_(send_resolved), log_(std::move(log)) {}

  std::string_view integration() const override { return integration_; }

  bool send_resolved() const override { return send_resolved_; }

  std::optional<NotifyError> Notify(const Notification& notification) override {
    std::lock_guard lock(log_->mu);
    log_->notifications.push_back(notification);
    if (log_->errors.empty()) {
      return std::nullopt;
    }
    NotifyError error = log_->errors.front();
    log_->errors.pop_front();
    return error;
  }

 private:
  std::string integration_;
  bool send_resolved_;
  std::shared_ptr<NotifierLog> log_;
};

}  // namespace alertd::testing
