#include "app/remote_wiring.h"

#include "common/logging.h"
#include "notifiers/http_options.h"

namespace alertd {

RemoteEndpoint MakeEndpoint(const std::string& url,
                            Duration timeout,
                            const config::HttpClientConfig& http) {
  RemoteEndpoint endpoint;
  endpoint.url = url;
  endpoint.timeout = timeout;
  if (auto header = AuthorizationHeader(http)) {
    endpoint.headers.push_back(std::move(*header));
  }
  endpoint.tls = TlsOptions(http.tls_config);
  return endpoint;
}

RemoteParts BuildRemoteParts(const config::Config& config, std::shared_ptr<HttpClient> http) {
  auto logger = Logger("main");
  RemoteParts parts;
  if (config.datasource) {
    const config::DatasourceConfig& ds = *config.datasource;
    RemoteQueryOptions options;
    options.endpoint = MakeEndpoint(ds.url, ds.timeout, ds.http_config);
    options.query_params.assign(ds.query_params.begin(), ds.query_params.end());
    parts.query_source = std::make_unique<RemoteQuerySource>(std::move(options), http);
    logger->info("Evaluating rules against a remote datasource url={}",
                 LogValue(RedactUrl(ds.url)));
  }
  if (config.datasource && !config.remote_write.empty()) {
    std::vector<RemoteWriteQueue*> queues;
    for (const auto& rw : config.remote_write) {
      RemoteWriteOptions options;
      options.endpoint = MakeEndpoint(rw.url, rw.remote_timeout, rw.http_config);
      for (const auto& [name, value] : rw.headers) {
        options.endpoint.headers.emplace_back(name, value);
      }
      options.name = rw.name;
      options.capacity = static_cast<size_t>(rw.queue_capacity);
      options.max_samples_per_send = static_cast<size_t>(rw.max_samples_per_send);
      options.min_backoff = rw.min_backoff;
      options.max_backoff = rw.max_backoff;
      options.external_labels = config.global.external_labels;
      parts.write_queues.push_back(std::make_unique<RemoteWriteQueue>(std::move(options), http));
      queues.push_back(parts.write_queues.back().get());
      logger->info("Writing rule results by remote write remote={}",
                   LogValue(queues.back()->name()));
    }
    parts.appender = std::make_unique<RemoteWriteAppender>(std::move(queues));
  } else if (!config.remote_write.empty()) {
    logger->warn(
        "Ignoring remote_write: without a datasource, rule results stay in the local sample "
        "store endpoints={}",
        config.remote_write.size());
  }
  if (!config.alertmanagers.empty()) {
    AlertmanagerForwarderOptions options;
    for (const auto& am : config.alertmanagers) {
      for (const auto& target : am.targets) {
        options.alertmanagers.push_back(MakeEndpoint(
            AlertmanagerAlertsUrl(am.scheme, target, am.path_prefix), am.timeout, am.http_config));
      }
    }
    logger->info("Forwarding alerts to Alertmanager alertmanagers={}",
                 options.alertmanagers.size());
    parts.forwarder = std::make_unique<AlertmanagerForwarder>(std::move(options), http);
  }
  return parts;
}

void RegisterRemoteMetrics(metrics::Registry& registry, const RemoteParts& parts) {
  if (!parts.write_queues.empty()) {
    auto sum = [&parts](uint64_t (RemoteWriteQueue::*field)() const) {
      return [&parts, field] {
        double total = 0;
        for (const auto& queue : parts.write_queues) {
          total += static_cast<double>(((*queue).*field)());
        }
        return total;
      };
    };
    registry.AddCallbackCounter("alertd_remote_write_samples_sent_total",
                                "Samples accepted by remote-write endpoints.",
                                sum(&RemoteWriteQueue::samples_sent));
    registry.AddCallbackCounter("alertd_remote_write_samples_dropped_total",
                                "Samples dropped because a remote-write queue was full.",
                                sum(&RemoteWriteQueue::samples_dropped));
    registry.AddCallbackCounter("alertd_remote_write_samples_failed_total",
                                "Samples a remote-write endpoint rejected with a 4xx status.",
                                sum(&RemoteWriteQueue::samples_failed));
    registry.AddCallbackCounter("alertd_remote_write_retries_total",
                                "Remote-write sends retried after a 5xx, 429 or network error.",
                                sum(&RemoteWriteQueue::retries));
    registry.AddCallbackGaugeFamily(
        "alertd_remote_write_samples_pending",
        "Samples waiting in each remote-write queue.",
        {"remote_name"},
        [&parts] {
          std::vector<metrics::LabeledValue> out;
          for (const auto& queue : parts.write_queues) {
            out.push_back({{queue->name()}, static_cast<double>(queue->pending())});
          }
          return out;
        });
  }
  if (parts.forwarder) {
    const AlertmanagerForwarder* forwarder = parts.forwarder.get();
    registry.AddCallbackCounter(
        "alertd_alertmanager_alerts_sent_total",
        "Alerts accepted by Alertmanagers, counted once per Alertmanager.",
        [forwarder] { return static_cast<double>(forwarder->alerts_sent()); });
    registry.AddCallbackCounter("alertd_alertmanager_errors_total",
                                "Failed posts of an alert batch to one Alertmanager.",
                                [forwarder] { return static_cast<double>(forwarder->errors()); });
    registry.AddCallbackCounter(
        "alertd_alertmanager_alerts_dropped_total",
        "Alerts dropped: the queue was full or no Alertmanager accepted them.",
        [forwarder] { return static_cast<double>(forwarder->dropped()); });
    registry.AddCallbackGauge("alertd_alertmanager_queue_length",
                              "Alerts waiting to be sent to Alertmanagers.",
                              [forwarder] { return static_cast<double>(forwarder->pending()); });
  }
}

void StartRemoteParts(RemoteParts& parts) {
  for (auto& queue : parts.write_queues) {
    queue->Start();
  }
  if (parts.forwarder) {
    parts.forwarder->Start();
  }
}

void StopRemoteParts(RemoteParts& parts) {
  if (parts.forwarder) {
    parts.forwarder->Stop();
  }
  for (auto& queue : parts.write_queues) {
    queue->Stop();
  }
}

}  // namespace alertd
