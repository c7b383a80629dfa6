#include "app/remote_wiring.h"

#include <string>

#include <gtest/gtest.h>

#include "config/config.h"

namespace alertd {
namespace {

std::string AuthorizationOf(const RemoteEndpoint& endpoint) {
  for (const auto& [name, value] : endpoint.headers) {
    if (name == "Authorization") {
      return value;
    }
  }
  return "";
}

TEST(MakeEndpoint, BasicAuthIsBase64) {
  config::HttpClientConfig http;
  http.basic_auth_username = "Aladdin";
  http.basic_auth_password = "open sesame";
  RemoteEndpoint endpoint = MakeEndpoint("http://127.0.0.1:9090", Duration(5000), http);
  EXPECT_EQ(AuthorizationOf(endpoint), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(endpoint.timeout, Duration(5000));
}

TEST(MakeEndpoint, AuthorizationAndTls) {
  config::HttpClientConfig http;
  http.authorization_credentials = "token";
  http.tls_config.ca_file = "/etc/ca.pem";
  http.tls_config.insecure_skip_verify = true;
  http.tls_config.min_version = "TLS13";
  RemoteEndpoint endpoint = MakeEndpoint("https://prom", Duration(1000), http);
  EXPECT_EQ(AuthorizationOf(endpoint), "Bearer token");
  EXPECT_EQ(endpoint.tls.ca_file, "/etc/ca.pem");
  EXPECT_TRUE(endpoint.tls.insecure_skip_verify);
  EXPECT_EQ(endpoint.tls.min_version, "TLS13");
}

TEST(MakeEndpoint, NoAuthNoHeader) {
  RemoteEndpoint endpoint = MakeEndpoint("http://x", Duration(1000), {});
  EXPECT_TRUE(endpoint.headers.empty());
}

TEST(BuildRemoteParts, LocalModeIgnoresRemoteWrite) {
  config::Config config;
  config.remote_write.push_back(config::RemoteWriteConfig{});
  config.remote_write.back().url = "http://127.0.0.1:1/api/v1/write";
  RemoteParts parts = BuildRemoteParts(config, MakeCurlHttpClient());
  EXPECT_EQ(parts.query_source, nullptr);
  EXPECT_EQ(parts.appender, nullptr);
  EXPECT_TRUE(parts.write_queues.empty());
  EXPECT_EQ(parts.forwarder, nullptr);
}

TEST(BuildRemoteParts, RemoteModeBuildsEveryPart) {
  config::Config config;
  config.datasource = config::DatasourceConfig{};
  config.datasource->url = "http://127.0.0.1:9090/";
  config.datasource->query_params["dedup"] = "true";
  config.remote_write.push_back(config::RemoteWriteConfig{});
  config.remote_write.back().url = "http://127.0.0.1:1/api/v1/write";
  config.remote_write.back().name = "main";
  config::AlertmanagerTargetConfig am;
  am.targets = {"127.0.0.1:9093", "127.0.0.1:9094"};
  config.alertmanagers.push_back(am);
  RemoteParts parts = BuildRemoteParts(config, MakeCurlHttpClient());
  ASSERT_NE(parts.query_source, nullptr);
  EXPECT_EQ(parts.query_source->query_url(), "http://127.0.0.1:9090/api/v1/query?dedup=true");
  ASSERT_EQ(parts.write_queues.size(), 1u);
  EXPECT_EQ(parts.write_queues[0]->name(), "main");
  EXPECT_NE(parts.appender, nullptr);
  EXPECT_NE(parts.forwarder, nullptr);
}

}  // namespace
}  // namespace alertd
