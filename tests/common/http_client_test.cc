#include "common/http_client.h"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/local_http_server.h"

namespace alertd {
namespace {

using testing::HttpResponseBytes;
using testing::LocalHttpServer;
using testing::ReceivedRequest;

TEST(CurlHttpClientTest, ReturnsStatusBodyAndLowerCasedHeaders) {
  LocalHttpServer server([](const ReceivedRequest&) {
    return HttpResponseBytes(200, "hello", {"X-Custom-Header: some value"});
  });
  auto client = MakeCurlHttpClient();
  HttpRequest request;
  request.url = server.BaseUrl() + "/path?q=1";
  auto response = client->Do(request);
  ASSERT_TRUE(response.ok()) << response.error().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello");
  EXPECT_EQ(response->Header("x-custom-header"), "some value");
  EXPECT_EQ(response->Header("content-length"), "5");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].method, "GET");
  EXPECT_EQ(server.requests()[0].target, "/path?q=1");
}

TEST(CurlHttpClientTest, ReturnsErrorStatusesAsSuccessfulResults) {
  for (int status : {204, 301, 400, 404, 429, 500, 503}) {
    LocalHttpServer server([status](const ReceivedRequest&) {
      // A 301 without Location is not followed, so its status reaches the caller.
      return HttpResponseBytes(status, status == 204 ? "" : "error body");
    });
    auto client = MakeCurlHttpClient();
    HttpRequest request;
    request.url = server.BaseUrl() + "/";
    auto response = client->Do(request);
    ASSERT_TRUE(response.ok()) << status << ": " << response.error().message();
    EXPECT_EQ(response->status, status);
    EXPECT_EQ(response->body, status == 204 ? "" : "error body") << status;
  }
}

TEST(CurlHttpClientTest, SendsMethodHeadersAndBody) {
  LocalHttpServer server([](const ReceivedRequest&) { return HttpResponseBytes(200, "ok"); });
  auto client = MakeCurlHttpClient();
  HttpRequest request;
  request.method = "POST";
  request.url = server.BaseUrl() + "/hook";
  request.headers = {{"Content-Type", "application/json"}, {"X-Token", "abc"}};
  request.body = std::string(5000, 'x');  // large enough that libcurl would send Expect
  auto response = client->Do(request);
  ASSERT_TRUE(response.ok()) << response.error().message();
  auto received = server.requests();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].method, "POST");
  EXPECT_EQ(received[0].target, "/hook");
  EXPECT_EQ(received[0].Header("content-type"), "application/json");
  EXPECT_EQ(received[0].Header("x-token"), "abc");
  EXPECT_EQ(received[0].Header("expect"), "");
  EXPECT_EQ(received[0].body, request.body);
}

TEST(CurlHttpClientTest, SendsEmptyPostBody) {
  LocalHttpServer server([](const ReceivedRequest&) { return HttpResponseBytes(200, "ok"); });
  auto client = MakeCurlHttpClient();
  HttpRequest request;
  request.method = "POST";
  request.url = server.BaseUrl() + "/-/reload";
  auto response = client->Do(request);
  ASSERT_TRUE(response.ok()) << response.error().message();
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].method, "POST");
  EXPECT_EQ(server.requests()[0].Header("content-length"), "0");
}

TEST(CurlHttpClientTest, FollowsRedirectsAndKeepsLastHeaders) {
  LocalHttpServer server([](const ReceivedRequest& request) {
    if (request.target == "/old") {
      return HttpResponseBytes(302, "", {"Location: /new", "X-Hop: first"});
    }
    return HttpResponseBytes(200, "moved", {"X-Hop: second"});
  });
  auto client = MakeCurlHttpClient();
  HttpRequest request;
  request.url = server.BaseUrl() + "/old";
  auto response = client->Do(request);
  ASSERT_TRUE(response.ok()) << response.error().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "moved");
  EXPECT_EQ(response->Header("x-hop"), "second");
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(CurlHttpClientTest, TimesOutOnSlowServer) {
  LocalHttpServer* server_ptr = nullptr;
  LocalHttpServer server([&server_ptr](const ReceivedRequest&) {
    server_ptr->WaitForStop(std::chrono::seconds(10));
    return HttpResponseBytes(200, "late");
  });
  server_ptr = &server;
  auto client = MakeCurlHttpClient();
  HttpRequest request;
  request.url = server.BaseUrl() + "/slow";
  request.timeout = std::chrono::milliseconds(200);
  auto start = std::chrono::steady_clock::now();
  auto response = client->Do(request);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code(), ErrorCode::kTimeout);
  EXPECT_EQ(response.error().message(), "HTTP request timed out after 200ms");
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(CurlHttpClientTest, ConnectionRefusedIsUnavailable) {
  int port = testing::ClosedLocalPort();
  auto client = MakeCurlHttpClient();
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(port) + "/services/T000/B000/SECRET";
  auto response = client->Do(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(response.error().message().starts_with("HTTP request failed: "))
      << response.error().message();
  EXPECT_EQ(response.error().message().find("SECRET"), std::string::npos)
      << response.error().message();
  // No elapsed time, so two failures of the same kind give the same message.
  EXPECT_EQ(response.error().message().find(" ms"), std::string::npos)
      << response.error().message();
  auto again = client->Do(request);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message(), response.error().message());
}

TEST(CurlHttpClientTest, ErrorMessagesOmitUserInfoPathAndQuery) {
  int port = testing::ClosedLocalPort();
  auto client = MakeCurlHttpClient();
  HttpRequest request;
  request.url = "http://admin:hunter2@127.0.0.1:" + std::to_string(port) + "/hook?token=tok42";
  auto response = client->Do(request);
  ASSERT_FALSE(response.ok());
  const std::string& message = response.error().message();
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  EXPECT_EQ(message.find("admin"), std::string::npos) << message;
  EXPECT_EQ(message.find("/hook"), std::string::npos) << message;
  EXPECT_EQ(message.find("tok42"), std::string::npos) << message;
}

TEST(CurlHttpClientTest, RejectsUnsupportedScheme) {
  auto client = MakeCurlHttpClient();
  HttpRequest request;
  request.url = "ftp://127.0.0.1:1/file";
  auto response = client->Do(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(response.error().message().find("/file"), std::string::npos)
      << response.error().message();
}

TEST(CurlHttpClientTest, FailsWhenBodyExceedsLimit) {
  struct Case {
    const char* name;
    bool with_content_length;
  };

  for (const Case& c : {Case{"content-length", true}, Case{"chunked", false}}) {
    LocalHttpServer server([&c](const ReceivedRequest&) {
      std::string body(1000, 'a');
      if (c.with_content_length) {
        return HttpResponseBytes(200, body);
      }
      std::string raw =
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
      for (int i = 0; i < 10; ++i) {
        raw += "64\r\n" + body.substr(0, 100) + "\r\n";
      }
      raw += "0\r\n\r\n";
      return raw;
    });
    auto client = MakeCurlHttpClient();
    HttpRequest request;
    request.url = server.BaseUrl() + "/big";
    request.max_response_bytes = 100;
    auto response = client->Do(request);
    ASSERT_FALSE(response.ok()) << c.name;
    EXPECT_EQ(response.error().code(), ErrorCode::kUnavailable) << c.name;
    EXPECT_EQ(response.error().message(), "HTTP response body exceeds the limit of 100 bytes")
        << c.name;
  }
}

TEST(CurlHttpClientTest, TruncatesBodyOverLimitOnRequest) {
  struct Case {
    const char* name;
    bool with_content_length;
  };

  for (const Case& c : {Case{"content-length", true}, Case{"chunked", false}}) {
    LocalHttpServer server([&c](const ReceivedRequest&) {
      std::string body(1000, 'a');
      if (c.with_content_length) {
        return HttpResponseBytes(200, body);
      }
      std::string raw =
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
      for (int i = 0; i < 10; ++i) {
        raw += "64\r\n" + body.substr(0, 100) + "\r\n";
      }
      raw += "0\r\n\r\n";
      return raw;
    });
    auto client = MakeCurlHttpClient();
    HttpRequest request;
    request.url = server.BaseUrl() + "/big";
    request.max_response_bytes = 150;
    request.truncate_large_body = true;
    auto response = client->Do(request);
    ASSERT_TRUE(response.ok()) << c.name << ": " << response.error().message();
    EXPECT_EQ(response->status, 200) << c.name;
    EXPECT_TRUE(response->body_truncated) << c.name;
    EXPECT_LE(response->body.size(), 150u) << c.name;
  }
}

TEST(CurlHttpClientTest, KeepsBodyAtLimitWhenTruncating) {
  LocalHttpServer server(
      [](const ReceivedRequest&) { return HttpResponseBytes(200, std::string(100, 'a')); });
  auto client = MakeCurlHttpClient();
  HttpRequest request;
  request.url = server.BaseUrl() + "/";
  request.max_response_bytes = 100;
  request.truncate_large_body = true;
  auto response = client->Do(request);
  ASSERT_TRUE(response.ok()) << response.error().message();
  EXPECT_FALSE(response->body_truncated);
  EXPECT_EQ(response->body.size(), 100u);
}

TEST(CurlHttpClientTest, AcceptsBodyAtLimit) {
  LocalHttpServer server(
      [](const ReceivedRequest&) { return HttpResponseBytes(200, std::string(100, 'a')); });
  auto client = MakeCurlHttpClient();
  HttpRequest request;
  request.url = server.BaseUrl() + "/";
  request.max_response_bytes = 100;
  auto response = client->Do(request);
  ASSERT_TRUE(response.ok()) << response.error().message();
  EXPECT_EQ(response->body.size(), 100u);
}

TEST(CurlHttpClientTest, ServesConcurrentCallsFromOneClient) {
  LocalHttpServer server(
      [](const ReceivedRequest& request) { return HttpResponseBytes(200, request.target); });
  auto client = MakeCurlHttpClient();
  constexpr int kThreads = 4;
  constexpr int kCallsPerThread = 5;
  std::vector<int> ok_counts(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        HttpRequest request;
        std::string target = "/t" + std::to_string(t) + "/" + std::to_string(i);
        request.url = server.BaseUrl() + target;
        auto response = client->Do(request);
        if (response.ok() && response->body == target) {
          ++ok_counts[t];
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(ok_counts[t], kCallsPerThread) << "thread " << t;
  }
}

TEST(RedactUrlTest, RedactsPartsThatMayCarrySecrets) {
  struct Case {
    std::string input;
    std::string want;
  };

  const std::vector<Case> cases = {
      {"https://hooks.slack.com/services/T00/B00/XXXX", "https://hooks.slack.com/<redacted>"},
      {"http://user:pass@example.com:8080/hook", "http://example.com:8080/<redacted>"},
      {"http://user:pass@example.com", "http://example.com/<redacted>"},
      {"http://127.0.0.1:9100?token=abc", "http://127.0.0.1:9100/<redacted>"},
      {"http://127.0.0.1:9100#frag", "http://127.0.0.1:9100/<redacted>"},
      {"http://[::1]:9093/api/v2/alerts", "http://[::1]:9093/<redacted>"},
      {"http://127.0.0.1:9100", "http://127.0.0.1:9100"},
      {"http://127.0.0.1:9100/", "http://127.0.0.1:9100/"},
      {"not a url", "<redacted>"},
      {"://host/path", "<redacted>"},
      {"", ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(RedactUrl(c.input), c.want) << c.input;
  }
}

}  // namespace
}  // namespace alertd
