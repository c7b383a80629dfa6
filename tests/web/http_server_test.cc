#include "web/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "web/metrics.h"

namespace alertd {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr milliseconds kWait{5000};

// --- A minimal HTTP/1.1 client over a raw socket, for cases curl hides (keep-alive on one
// connection, partial requests, bodies sent without waiting for 100 Continue). ---

struct RawResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  std::string Header(const std::string& name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) {
        return value;
      }
    }
    return {};
  }
};

class RawConnection {
 public:
  explicit RawConnection(int port, bool ipv6 = false) {
    fd_ = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (ipv6) {
      sockaddr_in6 address{};
      address.sin6_family = AF_INET6;
      address.sin6_port = htons(static_cast<uint16_t>(port));
      inet_pton(AF_INET6, "::1", &address.sin6_addr);
      connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    } else {
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_port = htons(static_cast<uint16_t>(port));
      inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
      connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    }
  }

  ~RawConnection() { close(fd_); }

  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t sent = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (sent <= 0) {
        return false;
      }
      data.remove_prefix(static_cast<size_t>(sent));
    }
    return true;
  }

  // Reads one response, using Content-Length for the body (no body for `head`). Returns
  // nullopt when the connection closes or `timeout` passes first.
  std::optional<RawResponse> ReadResponse(bool head = false, milliseconds timeout = kWait) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(deadline)) {
        return std::nullopt;
      }
    }
    RawResponse response;
    std::string head_text = buffer_.substr(0, header_end);
    buffer_.erase(0, header_end + 4);
    size_t line_end = head_text.find("\r\n");
    std::string status_line = head_text.substr(0, line_end);
    response.status = std::stoi(status_line.substr(status_line.find(' ') + 1, 3));
    size_t pos = line_end == std::string::npos ? head_text.size() : line_end + 2;
    while (pos < head_text.size()) {
      size_t end = head_text.find("\r\n", pos);
      if (end == std::string::npos) {
        end = head_text.size();
      }
      std::string line = head_text.substr(pos, end - pos);
      size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      response.headers.emplace_back(name, value);
      pos = end + 2;
    }
    std::string length = response.Header("content-length");
    size_t body_size = head || length.empty() ? 0 : std::stoul(length);
    while (buffer_.size() < body_size) {
      if (!Fill(deadline)) {
        return std::nullopt;
      }
    }
    response.body = buffer_.substr(0, body_size);
    buffer_.erase(0, body_size);
    return response;
  }

  // Returns whether the server closes the connection within `timeout`.
  bool WaitForClose(milliseconds timeout = kWait) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!Fill(deadline)) {
        return !timed_out_;
      }
    }
    return false;
  }

 private:
  // Appends received bytes to buffer_. Returns false on close, error or deadline.
  bool Fill(std::chrono::steady_clock::time_point deadline) {
    auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out_ = true;
      return false;
    }
    pollfd descriptor{fd_, POLLIN, 0};
    if (poll(&descriptor, 1, static_cast<int>(left.count())) <= 0) {
      timed_out_ = true;
      return false;
    }
    char chunk[4096];
    ssize_t received = recv(fd_, chunk, sizeof(chunk), 0);
    if (received <= 0) {
      timed_out_ = false;
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(received));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool timed_out_ = false;
  std::string buffer_;
};

// --- libcurl client ---

struct CurlResult {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::vector<std::string> header_lines;

  bool HasHeader(const std::string& line) const {
    for (const auto& header : header_lines) {
      if (header == line) {
        return true;
      }
    }
    return false;
  }
};

size_t AppendBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t AppendHeader(char* data, size_t size, size_t count, void* user) {
  std::string line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.pop_back();
  }
  if (!line.empty()) {
    static_cast<std::vector<std::string>*>(user)->push_back(line);
  }
  return size * count;
}

CurlResult Fetch(const std::string& method,
                 const std::string& url,
                 const std::string& body = "",
                 const std::vector<std::string>& headers = {}) {
  static const bool curl_initialized = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  CurlResult result;
  if (!curl_initialized) {
    result.code = CURLE_FAILED_INIT;
    return result;
  }
  CURL* curl = curl_easy_init();
  curl_slist* header_list = nullptr;
  for (const auto& header : headers) {
    header_list = curl_slist_append(header_list, header.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, AppendHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &result.header_lines);
  if (method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  if (!body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  result.code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  curl_slist_free_all(header_list);
  curl_easy_cleanup(curl);
  return result;
}

HttpServerResponse Ok(std::string body) {
  return HttpServerResponse::Text(200, std::move(body));
}

class HttpServerTest : public ::testing::Test {
 protected:
  // Creates and starts a server on 127.0.0.1 with a free port.
  void StartServer(HttpServerOptions options = {}) {
    auto created = HttpServer::Create("127.0.0.1:0", options);
    ASSERT_TRUE(created.ok()) << created.error().message();
    server_ = std::move(created).value();
    for (auto& [method, path, handler] : routes_) {
      server_->Handle(method, path, handler);
    }
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.error().message();
    ASSERT_GT(server_->port(), 0);
  }

  void Route(std::string method, std::string path, HttpHandler handler) {
    routes_.push_back({std::move(method), std::move(path), std::move(handler)});
  }

  std::string Url(const std::string& target) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + target;
  }

  struct RouteEntry {
    std::string method;
    std::string path;
    HttpHandler handler;
  };

  std::vector<RouteEntry> routes_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, ServesRegisteredRoute) {
  Route("GET", "/hello", [](const HttpServerRequest&) { return Ok("hello\n"); });
  StartServer();

  CurlResult result = Fetch("GET", Url("/hello"));

  ASSERT_EQ(result.code, CURLE_OK);
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.body, "hello\n");
  EXPECT_TRUE(result.HasHeader("Content-Type: text/plain; charset=utf-8"));
  EXPECT_TRUE(result.HasHeader("Content-Length: 6"));
}

TEST_F(HttpServerTest, AddressReportsBoundPort) {
  StartServer();

  EXPECT_EQ(server_->address(), "127.0.0.1:" + std::to_string(server_->port()));
}

TEST_F(HttpServerTest, UnknownPathReturns404) {
  Route("GET", "/hello", [](const HttpServerRequest&) { return Ok("hello"); });
  StartServer();

  CurlResult result = Fetch("GET", Url("/missing"));

  EXPECT_EQ(result.status, 404);
  EXPECT_EQ(result.body, "404 page not found\n");
}

TEST_F(HttpServerTest, OtherMethodReturns405WithAllow) {
  Route("GET", "/thing", [](const HttpServerRequest&) { return Ok("get"); });
  Route("POST", "/thing", [](const HttpServerRequest&) { return Ok("post"); });
  StartServer();

  CurlResult result = Fetch("DELETE", Url("/thing"));

  EXPECT_EQ(result.status, 405);
  EXPECT_EQ(result.body, "Method Not Allowed\n");
  EXPECT_TRUE(result.HasHeader("Allow: GET, HEAD, POST"));
}

TEST_F(HttpServerTest, HeadUsesGetHandlerWithoutBody) {
  Route("GET", "/page", [](const HttpServerRequest&) { return Ok("twelve bytes"); });
  StartServer();
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.connected());

  ASSERT_TRUE(connection.Send("HEAD /page HTTP/1.1\r\nHost: test\r\n\r\n"));
  std::optional<RawResponse> head = connection.ReadResponse(/*head=*/true);
  // A body sent after the HEAD response would be read as the start of this response.
  ASSERT_TRUE(connection.Send("GET /page HTTP/1.1\r\nHost: test\r\n\r\n"));
  std::optional<RawResponse> get = connection.ReadResponse();

  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("content-length"), "12");
  ASSERT_TRUE(get.has_value());
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "twelve bytes");
}

TEST_F(HttpServerTest, PrefixRouteUsesLongestPrefix) {
  StartServer();
  server_->HandlePrefix(
      "POST", "/api/", [](const HttpServerRequest& r) { return Ok("api " + r.path); });
  server_->HandlePrefix("POST", "/api/v1/webhook/", [](const HttpServerRequest& r) {
    return Ok("webhook " + r.path);
  });
  server_->Handle(
      "POST", "/api/v1/webhook/exact", [](const HttpServerRequest&) { return Ok("exact"); });

  EXPECT_EQ(Fetch("POST", Url("/api/v1/webhook/team-a"), "{}").body,
            "webhook /api/v1/webhook/team-a");
  EXPECT_EQ(Fetch("POST", Url("/api/v1/other"), "{}").body, "api /api/v1/other");
  EXPECT_EQ(Fetch("POST", Url("/api/v1/webhook/exact"), "{}").body, "exact");
  EXPECT_EQ(Fetch("POST", Url("/apix"), "{}").status, 404);
}

TEST_F(HttpServerTest, QueryAndPathAreDecoded) {
  HttpServerRequest seen;
  Route("GET", "/a b", [&seen](const HttpServerRequest& r) {
    seen = r;
    return Ok("ok");
  });
  StartServer();

  CurlResult result =
      Fetch("GET", Url("/a%20b?query=up%7Bjob%3D%22x%22%7D&m=1&m=2&plus=a+b&empty=&flag"));

  ASSERT_EQ(result.status, 200);
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.path, "/a b");
  EXPECT_EQ(seen.target, "/a%20b?query=up%7Bjob%3D%22x%22%7D&m=1&m=2&plus=a+b&empty=&flag");
  EXPECT_EQ(seen.Query("query"), "up{job=\"x\"}");
  EXPECT_EQ(seen.QueryValues("m"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(seen.Query("plus"), "a b");
  EXPECT_EQ(seen.query.count("empty"), 1u);
  EXPECT_EQ(seen.query.count("flag"), 1u);
  EXPECT_EQ(seen.Query("missing"), "");
}

TEST_F(HttpServerTest, FormBodyIsParsed) {
  HttpServerRequest seen;
  Route("POST", "/api/v1/query", [&seen](const HttpServerRequest& r) {
    seen = r;
    return Ok("ok");
  });
  StartServer();

  CurlResult result = Fetch("POST",
                            Url("/api/v1/query?match[]=from_query&time=1"),
                            "query=sum%28up%29&match%5B%5D=a&match%5B%5D=b",
                            {"Content-Type: application/x-www-form-urlencoded"});

  ASSERT_EQ(result.status, 200);
  EXPECT_EQ(seen.body, "query=sum%28up%29&match%5B%5D=a&match%5B%5D=b");
  EXPECT_EQ(seen.FormValue("query"), "sum(up)");
  EXPECT_EQ(seen.FormValue("time"), "1");
  EXPECT_EQ(seen.FormValues("match[]"), (std::vector<std::string>{"a", "b", "from_query"}));
}

TEST_F(HttpServerTest, JsonBodyIsNotParsedAsForm) {
  HttpServerRequest seen;
  Route("POST", "/hook", [&seen](const HttpServerRequest& r) {
    seen = r;
    return Ok("ok");
  });
  StartServer();

  Fetch("POST", Url("/hook"), "a=b", {"Content-Type: application/json"});

  EXPECT_EQ(seen.body, "a=b");
  EXPECT_TRUE(seen.form.empty());
}

TEST_F(HttpServerTest, HeadersAndRemoteAddressReachHandler) {
  HttpServerRequest seen;
  Route("GET", "/h", [&seen](const HttpServerRequest& r) {
    seen = r;
    HttpServerResponse response = HttpServerResponse::Json(201, "{}");
    response.headers.emplace_back("X-Reply", "yes");
    return response;
  });
  StartServer();

  CurlResult result = Fetch("GET", Url("/h"), "", {"X-Custom-Header: Value One"});

  EXPECT_EQ(result.status, 201);
  EXPECT_TRUE(result.HasHeader("Content-Type: application/json"));
  EXPECT_TRUE(result.HasHeader("X-Reply: yes"));
  EXPECT_EQ(seen.Header("x-custom-header"), "Value One");
  EXPECT_EQ(seen.Header("X-CUSTOM-HEADER"), "Value One");
  EXPECT_THAT(seen.remote_address, StartsWith("127.0.0.1:"));
  bool lower_case = true;
  for (const auto& [name, value] : seen.headers) {
    for (char c : name) {
      lower_case = lower_case && !(c >= 'A' && c <= 'Z');
    }
  }
  EXPECT_TRUE(lower_case);
}

TEST_F(HttpServerTest, BodyOverLimitReturns413) {
  std::atomic<int> calls{0};
  Route("POST", "/upload", [&calls](const HttpServerRequest&) {
    ++calls;
    return Ok("stored");
  });
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  StartServer(options);

  CurlResult over = Fetch("POST", Url("/upload"), std::string(1025, 'x'));
  CurlResult at_limit = Fetch("POST", Url("/upload"), std::string(1024, 'x'));

  EXPECT_EQ(over.status, 413);
  EXPECT_EQ(over.body, "Request body is larger than the limit of 1024 bytes.\n");
  EXPECT_EQ(at_limit.status, 200);
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(HttpServerTest, ZeroBodyLimitAcceptsAnyBody) {
  Route("POST", "/upload", [](const HttpServerRequest& request) {
    return Ok(std::to_string(request.body.size()));
  });
  HttpServerOptions options;
  options.max_body_bytes = 0;
  StartServer(options);

  CurlResult small = Fetch("POST", Url("/upload"), "x");
  CurlResult large = Fetch("POST", Url("/upload"), std::string(12 << 20, 'x'));

  EXPECT_EQ(small.status, 200);
  EXPECT_EQ(small.body, "1");
  EXPECT_EQ(large.status, 200);
  EXPECT_EQ(large.body, std::to_string(12 << 20));
}

TEST_F(HttpServerTest, BodyOverLimitSentAtOnceStillGets413) {
  Route("POST", "/upload", [](const HttpServerRequest&) { return Ok("stored"); });
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  StartServer(options);
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.connected());

  ASSERT_TRUE(
      connection.Send("POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 65536\r\n\r\n" +
                      std::string(65536, 'x')));
  std::optional<RawResponse> response = connection.ReadResponse();

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_TRUE(connection.WaitForClose());
}

TEST_F(HttpServerTest, ChunkedBodyOverLimitReturns413) {
  Route("POST", "/upload", [](const HttpServerRequest&) { return Ok("stored"); });
  HttpServerOptions options;
  options.max_body_bytes = 100;
  StartServer(options);
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.connected());

  ASSERT_TRUE(
      connection.Send("POST /upload HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "c8\r\n" +
                      std::string(200, 'x') + "\r\n0\r\n\r\n"));
  std::optional<RawResponse> response = connection.ReadResponse();

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
}

TEST_F(HttpServerTest, ExpectContinueGets100BeforeBody) {
  Route("POST", "/echo", [](const HttpServerRequest& r) { return Ok(r.body); });
  StartServer();
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.connected());

  ASSERT_TRUE(connection.Send(
      "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  std::optional<RawResponse> interim = connection.ReadResponse(/*head=*/true);
  ASSERT_TRUE(connection.Send("hello"));
  std::optional<RawResponse> final_response = connection.ReadResponse();

  ASSERT_TRUE(interim.has_value());
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(final_response.has_value());
  EXPECT_EQ(final_response->status, 200);
  EXPECT_EQ(final_response->body, "hello");
}

TEST_F(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  std::vector<std::string> remotes;
  std::mutex mu;
  Route("GET", "/n", [&](const HttpServerRequest& r) {
    std::lock_guard lock(mu);
    remotes.push_back(r.remote_address);
    return Ok("request " + std::to_string(remotes.size()));
  });
  StartServer();
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.connected());

  ASSERT_TRUE(connection.Send("GET /n HTTP/1.1\r\nHost: test\r\n\r\n"));
  std::optional<RawResponse> first = connection.ReadResponse();
  ASSERT_TRUE(connection.Send("GET /n HTTP/1.1\r\nHost: test\r\n\r\n"));
  std::optional<RawResponse> second = connection.ReadResponse();

  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(first->body, "request 1");
  EXPECT_EQ(second->body, "request 2");
  EXPECT_NE(first->Header("connection"), "close");
  std::lock_guard lock(mu);
  ASSERT_EQ(remotes.size(), 2u);
  EXPECT_EQ(remotes[0], remotes[1]);
}

TEST_F(HttpServerTest, Http10RequestClosesConnection) {
  Route("GET", "/old", [](const HttpServerRequest&) { return Ok("old"); });
  StartServer();
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.connected());

  ASSERT_TRUE(connection.Send("GET /old HTTP/1.0\r\n\r\n"));
  std::optional<RawResponse> response = connection.ReadResponse();

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "old");
  EXPECT_TRUE(connection.WaitForClose());
}

TEST_F(HttpServerTest, ThrowingHandlerReturns500AndServerKeepsServing) {
  Route("GET", "/boom", [](const HttpServerRequest&) -> HttpServerResponse {
    throw std::runtime_error("handler exploded");
  });
  Route("GET", "/ok", [](const HttpServerRequest&) { return Ok("fine"); });
  StartServer();
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.connected());

  ASSERT_TRUE(connection.Send("GET /boom HTTP/1.1\r\nHost: test\r\n\r\n"));
  std::optional<RawResponse> failed = connection.ReadResponse();
  ASSERT_TRUE(connection.Send("GET /ok HTTP/1.1\r\nHost: test\r\n\r\n"));
  std::optional<RawResponse> same_connection = connection.ReadResponse();
  CurlResult new_connection = Fetch("GET", Url("/ok"));

  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->status, 500);
  EXPECT_EQ(failed->body, "Internal Server Error\n");
  ASSERT_TRUE(same_connection.has_value());
  EXPECT_EQ(same_connection->status, 200);
  EXPECT_EQ(new_connection.status, 200);
}

TEST_F(HttpServerTest, InvalidStatusFromHandlerReturns500) {
  Route("GET", "/bad", [](const HttpServerRequest&) { return HttpServerResponse::Text(42, ""); });
  StartServer();

  EXPECT_EQ(Fetch("GET", Url("/bad")).status, 500);
}

TEST_F(HttpServerTest, NoContentResponseHasNoBody) {
  Route("DELETE", "/item", [](const HttpServerRequest&) {
    return HttpServerResponse::Text(204, "ignored");
  });
  StartServer();
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.connected());

  ASSERT_TRUE(connection.Send("DELETE /item HTTP/1.1\r\nHost: test\r\n\r\n"));
  std::optional<RawResponse> response = connection.ReadResponse();
  ASSERT_TRUE(connection.Send("DELETE /item HTTP/1.1\r\nHost: test\r\n\r\n"));
  std::optional<RawResponse> next = connection.ReadResponse();

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 204);
  EXPECT_EQ(response->Header("content-length"), "");
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->status, 204);
}

TEST_F(HttpServerTest, ConcurrentRequestsRunInParallel) {
  // Each request waits until two handlers run at once, which needs two server threads.
  std::mutex mu;
  std::condition_variable changed;
  int running = 0;
  int max_running = 0;
  Route("GET", "/pair", [&](const HttpServerRequest&) {
    std::unique_lock lock(mu);
    ++running;
    max_running = std::max(max_running, running);
    changed.notify_all();
    changed.wait_for(lock, milliseconds(200), [&] { return running >= 2; });
    --running;
    return Ok("ok");
  });
  HttpServerOptions options;
  options.threads = 2;
  StartServer(options);

  std::vector<std::thread> clients;
  std::atomic<int> successes{0};
  for (int i = 0; i < 6; ++i) {
    clients.emplace_back([&] {
      for (int j = 0; j < 5; ++j) {
        if (Fetch("GET", Url("/pair")).status == 200) {
          ++successes;
        }
      }
    });
  }
  for (auto& client : clients) {
    client.join();
  }

  EXPECT_EQ(successes.load(), 30);
  EXPECT_EQ(max_running, 2);
}

TEST_F(HttpServerTest, HeaderTimeoutClosesSlowClient) {
  Route("GET", "/", [](const HttpServerRequest&) { return Ok("root"); });
  HttpServerOptions options;
  options.header_timeout = milliseconds(200);
  StartServer(options);
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.connected());

  ASSERT_TRUE(connection.Send("GET / HTTP/1.1\r\nHost: te"));

  EXPECT_TRUE(connection.WaitForClose(milliseconds(3000)));
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosedAfterHeaderTimeout) {
  Route("GET", "/", [](const HttpServerRequest&) { return Ok("root"); });
  HttpServerOptions options;
  options.header_timeout = milliseconds(200);
  StartServer(options);
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.connected());

  ASSERT_TRUE(connection.Send("GET / HTTP/1.1\r\nHost: test\r\n\r\n"));
  std::optional<RawResponse> response = connection.ReadResponse();

  ASSERT_TRUE(response.has_value());
  EXPECT_TRUE(connection.WaitForClose(milliseconds(3000)));
}

TEST_F(HttpServerTest, OversizedHeaderReturns431) {
  Route("GET", "/", [](const HttpServerRequest&) { return Ok("root"); });
  HttpServerOptions options;
  options.max_header_bytes = 1024;
  StartServer(options);

  CurlResult result = Fetch("GET", Url("/"), "", {"X-Big: " + std::string(2000, 'a')});

  EXPECT_EQ(result.status, 431);
}

TEST_F(HttpServerTest, MalformedRequestReturns400) {
  StartServer();
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.connected());

  ASSERT_TRUE(connection.Send("GET / HTTP/1.1\r\nBad Header Line\r\n\r\n"));
  std::optional<RawResponse> response = connection.ReadResponse();

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 400);
  EXPECT_TRUE(connection.WaitForClose());
}

TEST_F(HttpServerTest, StopClosesSlowClientWithinTimeout) {
  Route("GET", "/", [](const HttpServerRequest&) { return Ok("root"); });
  HttpServerOptions options;
  options.shutdown_timeout = milliseconds(3000);
  StartServer(options);
  RawConnection slow(server_->port());
  ASSERT_TRUE(slow.connected());
  ASSERT_TRUE(slow.Send("GET / HTTP/1.1\r\nHost: te"));
  // The request above is only known to have reached the server once a full request on
  // another connection has been served after it.
  ASSERT_EQ(Fetch("GET", Url("/")).status, 200);

  auto started = std::chrono::steady_clock::now();
  server_->Stop();
  auto elapsed = std::chrono::steady_clock::now() - started;

  EXPECT_LT(elapsed, options.shutdown_timeout);
  EXPECT_TRUE(slow.WaitForClose(milliseconds(1000)));
}

TEST_F(HttpServerTest, StopLetsRequestInFlightFinish) {
  std::mutex mu;
  std::condition_variable changed;
  bool entered = false;
  bool released = false;
  Route("GET", "/slow", [&](const HttpServerRequest&) {
    std::unique_lock lock(mu);
    entered = true;
    changed.notify_all();
    changed.wait_for(lock, kWait, [&] { return released; });
    return Ok("finished");
  });
  HttpServerOptions options;
  options.shutdown_timeout = milliseconds(5000);
  StartServer(options);
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.connected());
  ASSERT_TRUE(connection.Send("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n"));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(changed.wait_for(lock, kWait, [&] { return entered; }));
  }

  auto started = std::chrono::steady_clock::now();
  std::thread stopper([this] { server_->Stop(); });
  {
    std::lock_guard lock(mu);
    released = true;
    changed.notify_all();
  }
  std::optional<RawResponse> response = connection.ReadResponse();
  stopper.join();
  auto elapsed = std::chrono::steady_clock::now() - started;

  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "finished");
  EXPECT_LT(elapsed, options.shutdown_timeout);
  EXPECT_TRUE(connection.WaitForClose());
}

TEST_F(HttpServerTest, StopIsIdempotentAndRefusesNewConnections) {
  Route("GET", "/", [](const HttpServerRequest&) { return Ok("root"); });
  StartServer();
  int port = server_->port();

  server_->Stop();
  server_->Stop();

  RawConnection connection(port);
  EXPECT_FALSE(connection.connected());
}

TEST_F(HttpServerTest, SecondStartFails) {
  StartServer();

  Status again = server_->Start();

  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kInternal);
}

TEST_F(HttpServerTest, HandlerRegisteredWhileRunningIsServed) {
  StartServer();
  EXPECT_EQ(Fetch("GET", Url("/late")).status, 404);

  server_->Handle("GET", "/late", [](const HttpServerRequest&) { return Ok("late"); });

  EXPECT_EQ(Fetch("GET", Url("/late")).body, "late");
}

TEST_F(HttpServerTest, RoutedRequestsAreRecordedInMetrics) {
  metrics::Registry registry;
  Route("GET", "/hello", [](const HttpServerRequest&) { return Ok("hello"); });
  Route("GET", "/boom", [](const HttpServerRequest&) -> HttpServerResponse {
    throw std::runtime_error("handler exploded");
  });
  Route("GET", "/metrics", [&registry](const HttpServerRequest&) {
    return metrics::MetricsResponse(registry);
  });
  HttpServerOptions options;
  options.metrics = &registry;
  StartServer(options);
  server_->HandlePrefix("POST", "/hook/", [](const HttpServerRequest&) { return Ok("hooked"); });

  Fetch("GET", Url("/hello"));
  Fetch("GET", Url("/hello"));
  Fetch("GET", Url("/boom"));
  Fetch("POST", Url("/hook/a"), "{}");
  Fetch("POST", Url("/hook/b"), "{}");
  Fetch("GET", Url("/missing"));
  Fetch("POST", Url("/hello"), "{}");
  CurlResult scrape = Fetch("GET", Url("/metrics"));

  EXPECT_EQ(scrape.status, 200);
  EXPECT_TRUE(scrape.HasHeader("Content-Type: text/plain; version=0.0.4; charset=utf-8"));
  EXPECT_THAT(scrape.body,
              HasSubstr("alertd_http_requests_total{code=\"200\",handler=\"/hello\"} 2\n"));
  EXPECT_THAT(scrape.body,
              HasSubstr("alertd_http_requests_total{code=\"500\",handler=\"/boom\"} 1\n"));
  EXPECT_THAT(scrape.body,
              HasSubstr("alertd_http_requests_total{code=\"200\",handler=\"/hook/\"} 2\n"));
  EXPECT_THAT(scrape.body,
              HasSubstr("alertd_http_request_duration_seconds_count{handler=\"/hello\"} 2\n"));
  EXPECT_THAT(
      scrape.body,
      HasSubstr("alertd_http_request_duration_seconds_bucket{handler=\"/hello\",le=\"120\"} 2\n"));
  EXPECT_THAT(scrape.body, ::testing::Not(HasSubstr("/missing")));
  EXPECT_THAT(scrape.body, ::testing::Not(HasSubstr("code=\"405\"")));
}

TEST(HttpServerBind, AddressInUseNamesAddress) {
  auto first = HttpServer::Create("127.0.0.1:0");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->Start().ok());
  std::string address = "127.0.0.1:" + std::to_string((*first)->port());

  auto second = HttpServer::Create(address);
  ASSERT_TRUE(second.ok());
  Status started = (*second)->Start();

  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code(), ErrorCode::kIo);
  EXPECT_EQ(started.error().message(),
            "Cannot listen on " + address +
                ": Address already in use. Stop the process that uses this address or choose "
                "another listen address.");
}

TEST(HttpServerBind, InvalidAddressIsRejected) {
  struct Case {
    std::string address;
    std::string message;
  };

  const std::vector<Case> cases = {
      {"127.0.0.1",
       "Invalid listen address \"127.0.0.1\": missing port; expected host:port, e.g. "
       "127.0.0.1:9095 or [::1]:9095."},
      {"127.0.0.1:99999",
       "Invalid listen address \"127.0.0.1:99999\": the port \"99999\" is not a number from 0 "
       "to 65535."},
      {"127.0.0.1:http",
       "Invalid listen address \"127.0.0.1:http\": the port \"http\" is not a number from 0 to "
       "65535."},
      {"127.0.0.1:",
       "Invalid listen address \"127.0.0.1:\": the port \"\" is not a number from 0 to 65535."},
      {"::1:9095",
       "Invalid listen address \"::1:9095\": an IPv6 address must be in brackets; expected "
       "host:port, e.g. 127.0.0.1:9095 or [::1]:9095."},
      {"[::1:9095",
       "Invalid listen address \"[::1:9095\": missing ']' after the IPv6 address; expected "
       "host:port, e.g. 127.0.0.1:9095 or [::1]:9095."},
      {"[::1]9095",
       "Invalid listen address \"[::1]9095\": missing ':port' after ']'; expected host:port, "
       "e.g. 127.0.0.1:9095 or [::1]:9095."},
      {"[127.0.0.1]:9095",
       "Invalid listen address \"[127.0.0.1]:9095\": \"127.0.0.1\" is not an IPv6 address."},
  };
  for (const auto& c : cases) {
    auto created = HttpServer::Create(c.address);
    ASSERT_FALSE(created.ok()) << c.address;
    EXPECT_EQ(created.error().code(), ErrorCode::kInvalidArgument) << c.address;
    EXPECT_EQ(created.error().message(), c.message);
  }
}

TEST(HttpServerBind, Ipv6LoopbackIsServed) {
  auto created = HttpServer::Create("[::1]:0");
  ASSERT_TRUE(created.ok()) << created.error().message();
  std::unique_ptr<HttpServer> server = std::move(created).value();
  server->Handle("GET", "/v6", [](const HttpServerRequest& r) { return Ok(r.remote_address); });
  Status started = server->Start();
  if (!started.ok()) {
    GTEST_SKIP() << "IPv6 loopback unavailable: " << started.error().message();
  }

  RawConnection connection(server->port(), /*ipv6=*/true);
  ASSERT_TRUE(connection.connected());
  ASSERT_TRUE(connection.Send("GET /v6 HTTP/1.1\r\nHost: [::1]\r\n\r\n"));
  std::optional<RawResponse> response = connection.ReadResponse();

  EXPECT_EQ(server->address(), "[::1]:" + std::to_string(server->port()));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_THAT(response->body, StartsWith("[::1]:"));
}

TEST(HttpServerBind, LocalhostResolvesToIpv4Loopback) {
  auto created = HttpServer::Create("localhost:0");
  ASSERT_TRUE(created.ok()) << created.error().message();
  ASSERT_TRUE((*created)->Start().ok());

  EXPECT_EQ((*created)->address(), "127.0.0.1:" + std::to_string((*created)->port()));
}

TEST(PercentDecode, DecodesEscapesAndKeepsInvalidOnes) {
  EXPECT_EQ(PercentDecode("a%20b%2Fc", false), "a b/c");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("100%", true), "100%");
  EXPECT_EQ(PercentDecode("%zz%4", true), "%zz%4");
  EXPECT_EQ(PercentDecode("%e2%9c%93", true), "\xe2\x9c\x93");
}

TEST(ParseUrlEncoded, SplitsPairs) {
  auto values = ParseUrlEncoded("a=1&&b=&c&a=2&d=x%3Dy");

  EXPECT_EQ(values.count("a"), 2u);
  EXPECT_EQ(values.find("b")->second, "");
  EXPECT_EQ(values.find("c")->second, "");
  EXPECT_EQ(values.find("d")->second, "x=y");
  EXPECT_EQ(values.size(), 5u);
}

}  // namespace
}  // namespace alertd
