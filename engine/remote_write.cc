#include "engine/remote_write.h"

#include <snappy.h>

#include <algorithm>

#include "common/logging.h"
#include "remote_write.pb.h"

namespace alertd {

std::string EncodeWriteRequest(const std::vector<std::pair<Labels, Sample>>& samples) {
  prometheus::WriteRequest request;
  const Labels* previous = nullptr;
  prometheus::TimeSeries* series = nullptr;
  for (const auto& [labels, sample] : samples) {
    if (previous == nullptr || !(*previous == labels)) {
      series = request.add_timeseries();
      for (const auto& label : labels) {
        prometheus::Label* out = series->add_labels();
        out->set_name(label.name);
        out->set_value(label.value);
      }
      previous = &labels;
    }
    prometheus::Sample* out = series->add_samples();
    out->set_value(sample.v);
    out->set_timestamp(sample.t);
  }
  std::string raw = request.SerializeAsString();
  std::string compressed;
  snappy::Compress(raw.data(), raw.size(), &compressed);
  return compressed;
}

Result<std::vector<Series>> DecodeWriteRequest(const std::string& body) {
  std::string raw;
  if (!snappy::Uncompress(body.data(), body.size(), &raw)) {
    return Error::Invalid("remote write body is not snappy-compressed");
  }
  prometheus::WriteRequest request;
  if (!request.ParseFromString(raw)) {
    return Error::Invalid("remote write body is not a WriteRequest");
  }
  std::vector<Series> out;
  for (const auto& series : request.timeseries()) {
    std::vector<Label> labels;
    for (const auto& label : series.labels()) {
      labels.push_back(Label{label.name(), label.value()});
    }
    Series decoded{Labels(std::move(labels)), {}};
    for (const auto& sample : series.samples()) {
      decoded.samples.push_back(Sample{sample.timestamp(), sample.value()});
    }
    out.push_back(std::move(decoded));
  }
  return out;
}

RemoteWriteQueue::RemoteWriteQueue(RemoteWriteOptions options, std::shared_ptr<HttpClient> http)
    : options_(std::move(options)), http_(std::move(http)) {
  name_ = options_.name.empty() ? RedactUrl(options_.endpoint.url) : options_.name;
  options_.capacity = std::max<size_t>(options_.capacity, 1);
  options_.max_samples_per_send = std::max<size_t>(options_.max_samples_per_send, 1);
}

RemoteWriteQueue::~RemoteWriteQueue() {
  Stop();
}

void RemoteWriteQueue::Append(const Labels& labels, int64_t t, double v) {
  Labels with_external = labels;
  if (!options_.external_labels.empty()) {
    LabelsBuilder builder(labels);
    for (const auto& label : options_.external_labels) {
      if (!labels.Has(label.name)) {
        builder.Set(label.name, label.value);
      }
    }
    with_external = builder.Build();
  }
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= options_.capacity) {
      dropped_.fetch_add(1);
      return;
    }
    queue_.emplace_back(std::move(with_external), Sample{t, v});
  }
  cv_.notify_one();
}

size_t RemoteWriteQueue::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

RemoteWriteQueue::Outcome RemoteWriteQueue::SendBatch(
    const std::vector<std::pair<Labels, Sample>>& batch, std::string* error) {
  HttpRequest request;
  request.method = "POST";
  request.url = options_.endpoint.url;
  request.timeout = options_.endpoint.timeout;
  request.tls = options_.endpoint.tls;
  request.headers = options_.endpoint.headers;
  request.headers.emplace_back("Content-Encoding", "snappy");
  request.headers.emplace_back("Content-Type", "application/x-protobuf");
  request.headers.emplace_back("X-Prometheus-Remote-Write-Version", "0.1.0");
  request.body = EncodeWriteRequest(batch);
  auto response = http_->Do(request);
  if (!response.ok()) {
    *error = response.error().message();
    return response.error().code() == ErrorCode::kInvalidArgument ? Outcome::kRejected
                                                                  : Outcome::kRetry;
  }
  if (response->status >= 200 && response->status < 300) {
    return Outcome::kSent;
  }
  std::string body = response->body.substr(0, 256);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) {
    body.pop_back();
  }
  *error = "HTTP status " + std::to_string(response->status) + (body.empty() ? "" : ": " + body);
  // As Prometheus's remote storage client: 5xx and 429 are recoverable, other statuses are not.
  if (response->status >= 500 || response->status == 429) {
    return Outcome::kRetry;
  }
  return Outcome::kRejected;
}

Status RemoteWriteQueue::SendPending() {
  auto logger = Logger("remote_write");
  while (true) {
    std::vector<std::pair<Labels, Sample>> batch;
    {
      std::lock_guard lock(mu_);
      size_t n = std::min(queue_.size(), options_.max_samples_per_send);
      if (n == 0) {
        return Status::Ok();
      }
      batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    std::string error;
    Outcome outcome = SendBatch(batch, &error);
    if (outcome == Outcome::kRetry) {
      return Error::Unavailable(error);
    }
    {
      std::lock_guard lock(mu_);
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(batch.size()));
    }
    if (outcome == Outcome::kSent) {
      sent_.fetch_add(batch.size());
    } else {
      failed_.fetch_add(batch.size());
      logger->error("Remote write rejected samples, dropping them remote={} samples={} err={}",
                    LogValue(name_),
                    batch.size(),
                    LogValue(error));
    }
  }
}

void RemoteWriteQueue::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) {
    return;
  }
  thread_ = std::thread([this] { Run(); });
}

void RemoteWriteQueue::Stop() {
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

void RemoteWriteQueue::Run() {
  auto logger = Logger("remote_write");
  Duration backoff = options_.min_backoff;
  std::string last_error;
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) {
        break;
      }
    }
    Status status = SendPending();
    if (status.ok()) {
      if (!last_error.empty()) {
        logger->info("Remote write recovered remote={}", LogValue(name_));
        last_error.clear();
      }
      backoff = options_.min_backoff;
      continue;
    }
    retries_.fetch_add(1);
    // Logged when the error changes, so a long outage does not flood the log.
    if (status.error().message() != last_error) {
      last_error = status.error().message();
      logger->warn("Remote write failed, retrying remote={} backoff={}ms err={}",
                   LogValue(name_),
                   backoff.count(),
                   LogValue(last_error));
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, backoff, [this] { return stopping_; });
    if (stopping_) {
      break;
    }
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  // One last attempt without retries, so a clean stop flushes what is queued.
  Status status = SendPending();
  if (!status.ok()) {
    logger->warn("Remote write stopped with samples queued remote={} samples={} err={}",
                 LogValue(name_),
                 pending(),
                 LogValue(status.error().message()));
  }
}

}  // namespace alertd
