// Builds alertd's remote parts from the configuration: the query source of a `datasource`,
// the remote-write queues of `remote_write` (used only with a datasource; with the built-in
// scraper, recording rules stay in the local sample store) and the Alertmanager forwarder of
// `alerting.alertmanagers`.
#pragma once

#include <memory>
#include <vector>

#include "common/http_client.h"
#include "config/config.h"
#include "engine/alertmanager_forwarder.h"
#include "engine/remote_query_source.h"
#include "engine/remote_write.h"
#include "web/metrics.h"

namespace alertd {

struct RemoteParts {
  std::unique_ptr<RemoteQuerySource> query_source;  // null: local evaluation
  std::vector<std::unique_ptr<RemoteWriteQueue>> write_queues;
  std::unique_ptr<RemoteWriteAppender> appender;     // null: append to the local store
  std::unique_ptr<AlertmanagerForwarder> forwarder;  // null: no alerting.alertmanagers
};

// Turns prometheus/common's HTTP client fields into request headers and TLS options.
RemoteEndpoint MakeEndpoint(const std::string& url,
                            Duration timeout,
                            const config::HttpClientConfig& http);

// Builds the parts `config` configures. Logs each part it builds and each remote_write it ignores.
RemoteParts BuildRemoteParts(const config::Config& config, std::shared_ptr<HttpClient> http);

// Registers alertd_remote_write_* and alertd_alertmanager_* metrics. `parts` must outlive
// `registry`'s use.
void RegisterRemoteMetrics(metrics::Registry& registry, const RemoteParts& parts);

void StartRemoteParts(RemoteParts& parts);
// Stops the senders after a last attempt to send what is queued.
void StopRemoteParts(RemoteParts& parts);

}  // namespace alertd
