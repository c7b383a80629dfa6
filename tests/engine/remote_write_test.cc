#include "engine/remote_write.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include <gtest/gtest.h>

#include "common/local_http_server.h"

namespace alertd {
namespace {

using testing::HttpResponseBytes;
using testing::LocalHttpServer;
using testing::ReceivedRequest;

TEST(RemoteWriteEncoding, RoundTripsAndGroupsSeries) {
  Labels a{{"__name__", "job:up:sum"}, {"job", "a"}};
  Labels b{{"__name__", "job:up:sum"}, {"job", "b"}};
  std::string body =
      EncodeWriteRequest({{a, Sample{1000, 1}}, {a, Sample{2000, 2}}, {b, Sample{1000, NAN}}});
  auto decoded = DecodeWriteRequest(body);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  ASSERT_EQ(decoded->size(), 2u);
  EXPECT_EQ((*decoded)[0].labels, a);
  ASSERT_EQ((*decoded)[0].samples.size(), 2u);
  EXPECT_EQ((*decoded)[0].samples[1].t, 2000);
  EXPECT_EQ((*decoded)[0].samples[1].v, 2);
  EXPECT_EQ((*decoded)[1].labels, b);
  ASSERT_EQ((*decoded)[1].samples.size(), 1u);
  EXPECT_TRUE(std::isnan((*decoded)[1].samples[0].v));
}

TEST(RemoteWriteEncoding, RejectsUncompressedBody) {
  auto decoded = DecodeWriteRequest("plain text");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().message(), "remote write body is not snappy-compressed");
}

RemoteWriteOptions OptionsFor(const LocalHttpServer& server) {
  RemoteWriteOptions options;
  options.endpoint.url = server.BaseUrl() + "/api/v1/write";
  options.endpoint.timeout = Duration(2000);
  options.endpoint.headers = {{"X-Scope-OrgID", "team-a"}};
  options.min_backoff = Duration(5);
  options.max_backoff = Duration(20);
  return options;
}

TEST(RemoteWriteQueue, SendsBatchesWithProtocolHeadersAndExternalLabels) {
  LocalHttpServer server([](const ReceivedRequest&) { return HttpResponseBytes(204, ""); });
  RemoteWriteOptions options = OptionsFor(server);
  options.max_samples_per_send = 2;
  options.external_labels = Labels{{"replica", "a"}, {"job", "ignored"}};
  RemoteWriteQueue queue(options, MakeCurlHttpClient());
  for (int i = 0; i < 3; ++i) {
    queue.Append(Labels{{"__name__", "r"}, {"job", "x"}}, 1000 * i, i);
  }
  ASSERT_TRUE(queue.SendPending().ok());
  EXPECT_EQ(queue.samples_sent(), 3u);
  EXPECT_EQ(queue.pending(), 0u);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/api/v1/write");
  EXPECT_EQ(requests[0].Header("content-encoding"), "snappy");
  EXPECT_EQ(requests[0].Header("content-type"), "application/x-protobuf");
  EXPECT_EQ(requests[0].Header("x-prometheus-remote-write-version"), "0.1.0");
  EXPECT_EQ(requests[0].Header("x-scope-orgid"), "team-a");
  auto first = DecodeWriteRequest(requests[0].body);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].samples.size(), 2u);
  EXPECT_EQ((*first)[0].labels, (Labels{{"__name__", "r"}, {"job", "x"}, {"replica", "a"}}));
}

TEST(RemoteWriteQueue, DropsSamplesBeyondCapacity) {
  LocalHttpServer server([](const ReceivedRequest&) { return HttpResponseBytes(204, ""); });
  RemoteWriteOptions options = OptionsFor(server);
  options.capacity = 2;
  RemoteWriteQueue queue(options, MakeCurlHttpClient());
  for (int i = 0; i < 5; ++i) {
    queue.Append(Labels{{"__name__", "r"}}, i, i);
  }
  EXPECT_EQ(queue.pending(), 2u);
  EXPECT_EQ(queue.samples_dropped(), 3u);
}

TEST(RemoteWriteQueue, ClientErrorDropsBatch) {
  LocalHttpServer server(
      [](const ReceivedRequest&) { return HttpResponseBytes(400, "out of order sample\n"); });
  RemoteWriteQueue queue(OptionsFor(server), MakeCurlHttpClient());
  queue.Append(Labels{{"__name__", "r"}}, 1, 1);
  EXPECT_TRUE(queue.SendPending().ok());
  EXPECT_EQ(queue.samples_failed(), 1u);
  EXPECT_EQ(queue.samples_sent(), 0u);
  EXPECT_EQ(queue.pending(), 0u);
}

TEST(RemoteWriteQueue, ServerErrorKeepsBatchForRetry) {
  LocalHttpServer server([](const ReceivedRequest&) { return HttpResponseBytes(503, "busy"); });
  RemoteWriteQueue queue(OptionsFor(server), MakeCurlHttpClient());
  queue.Append(Labels{{"__name__", "r"}}, 1, 1);
  Status status = queue.SendPending();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message(), "HTTP status 503: busy");
  EXPECT_EQ(queue.pending(), 1u);
}

TEST(RemoteWriteQueue, Retries429And5xxUntilSent) {
  std::atomic<int> calls{0};
  LocalHttpServer server([&](const ReceivedRequest&) {
    int n = calls.fetch_add(1);
    if (n == 0) {
      return HttpResponseBytes(429, "slow down");
    }
    if (n == 1) {
      return HttpResponseBytes(500, "oops");
    }
    return HttpResponseBytes(200, "");
  });
  RemoteWriteQueue queue(OptionsFor(server), MakeCurlHttpClient());
  queue.Start();
  queue.Append(Labels{{"__name__", "r"}}, 1, 1);
  for (int i = 0; i < 500 && queue.samples_sent() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  queue.Stop();
  EXPECT_EQ(queue.samples_sent(), 1u);
  EXPECT_EQ(queue.retries(), 2u);
  EXPECT_EQ(calls.load(), 3);
}

TEST(RemoteWriteAppender, FansOutToEveryQueue) {
  LocalHttpServer first([](const ReceivedRequest&) { return HttpResponseBytes(204, ""); });
  LocalHttpServer second([](const ReceivedRequest&) { return HttpResponseBytes(204, ""); });
  RemoteWriteQueue a(OptionsFor(first), MakeCurlHttpClient());
  RemoteWriteQueue b(OptionsFor(second), MakeCurlHttpClient());
  RemoteWriteAppender appender({&a, &b});
  appender.Append(Labels{{"__name__", "r"}}, 1, 1);
  EXPECT_EQ(a.pending(), 1u);
  EXPECT_EQ(b.pending(), 1u);
}

}  // namespace
}  // namespace alertd
