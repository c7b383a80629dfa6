#include "engine/alertmanager_forwarder.h"

#include <time.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "common/logging.h"

namespace alertd {
namespace {

// Formats as RFC 3339 in UTC with milliseconds, e.g. 2026-12-04T15:38:11.120Z.
std::string FormatTime(TimePoint t) {
  int64_t ms = ToMillis(t);
  time_t seconds = static_cast<time_t>(ms / 1000);
  int millis = static_cast<int>(ms % 1000);
  if (millis < 0) {
    millis += 1000;
    seconds -= 1;
  }

  struct tm utc {};

  gmtime_r(&seconds, &utc);
  char buffer[80];
  std::snprintf(buffer,
                sizeof(buffer),
                "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                utc.tm_year + 1900,
                utc.tm_mon + 1,
                utc.tm_mday,
                utc.tm_hour,
                utc.tm_min,
                utc.tm_sec,
                millis);
  return buffer;
}

nlohmann::json LabelsToJson(const Labels& labels) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& label : labels) {
    out[label.name] = label.value;
  }
  return out;
}

}  // namespace

std::string AlertsToApiV2Json(const std::vector<NotifyAlert>& alerts) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& alert : alerts) {
    nlohmann::json item = {
        {"labels", LabelsToJson(alert.labels)},
        {"annotations", LabelsToJson(alert.annotations)},
        {"startsAt", FormatTime(alert.starts_at)},
        {"generatorURL", alert.generator_url},
    };
    if (alert.ends_at != TimePoint{}) {
      item["endsAt"] = FormatTime(alert.ends_at);
    }
    out.push_back(std::move(item));
  }
  return out.dump();
}

std::string AlertmanagerAlertsUrl(const std::string& scheme,
                                  const std::string& target,
                                  const std::string& path_prefix) {
  std::string prefix = path_prefix;
  while (!prefix.empty() && prefix.back() == '/') {
    prefix.pop_back();
  }
  if (!prefix.empty() && prefix.front() != '/') {
    prefix.insert(prefix.begin(), '/');
  }
  return scheme + "://" + target + prefix + "/api/v2/alerts";
}

AlertmanagerForwarder::AlertmanagerForwarder(AlertmanagerForwarderOptions options,
                                             std::shared_ptr<HttpClient> http)
    : options_(std::move(options)), http_(std::move(http)) {
  options_.capacity = std::max<size_t>(options_.capacity, 1);
  options_.max_batch = std::max<size_t>(options_.max_batch, 1);
}

AlertmanagerForwarder::~AlertmanagerForwarder() {
  Stop();
}

void AlertmanagerForwarder::Send(std::vector<NotifyAlert> alerts) {
  {
    std::lock_guard lock(mu_);
    for (auto& alert : alerts) {
      queue_.push_back(std::move(alert));
    }
    while (queue_.size() > options_.capacity) {
      queue_.pop_front();
      dropped_.fetch_add(1);
    }
  }
  cv_.notify_one();
}

size_t AlertmanagerForwarder::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

bool AlertmanagerForwarder::PostToAll(const std::vector<NotifyAlert>& batch) {
  auto logger = Logger("forwarder");
  std::string body = AlertsToApiV2Json(batch);
  bool any_ok = false;
  // NOTE: Alertmanagers are posted to one after another; Prometheus posts concurrently, which
  // matters only when one of many Alertmanagers is slow.
  for (const auto& am : options_.alertmanagers) {
    HttpRequest request;
    request.method = "POST";
    request.url = am.url;
    request.timeout = am.timeout;
    request.tls = am.tls;
    request.headers = am.headers;
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = body;
    auto response = http_->Do(request);
    std::string error;
    if (!response.ok()) {
      error = response.error().message();
    } else if (response->status / 100 != 2) {
      error = "HTTP status " + std::to_string(response->status);
    }
    if (error.empty()) {
      any_ok = true;
      sent_.fetch_add(batch.size());
      continue;
    }
    errors_.fetch_add(1);
    logger->error("Sending alerts to Alertmanager failed alertmanager={} alerts={} err={}",
                  LogValue(RedactUrl(am.url)),
                  batch.size(),
                  LogValue(error));
  }
  return any_ok;
}

bool AlertmanagerForwarder::SendPending() {
  bool all_ok = true;
  while (true) {
    std::vector<NotifyAlert> batch;
    {
      std::lock_guard lock(mu_);
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (batch.empty()) {
      return all_ok;
    }
    // As in Prometheus, a batch no Alertmanager accepted is dropped: the rule manager sends
    // firing alerts again after the resend delay.
    if (!PostToAll(batch)) {
      all_ok = false;
      dropped_.fetch_add(batch.size());
    }
  }
}

void AlertmanagerForwarder::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) {
    return;
  }
  thread_ = std::thread([this] { Run(); });
}

void AlertmanagerForwarder::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      return;
    }
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void AlertmanagerForwarder::Run() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) {
        break;
      }
    }
    SendPending();
  }
  SendPending();
}

}  // namespace alertd
