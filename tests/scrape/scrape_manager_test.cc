#include "engine/scrape/scrape_manager.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "common/local_http_server.h"
#include "common/logging.h"

namespace alertd {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int64_t kStartMs = 1'700'000'000'000;

struct AppendedSample {
  Labels labels;
  int64_t t;
  double v;
};

class FakeAppender final : public Appender {
 public:
  void Append(const Labels& labels, int64_t t, double v) override {
    std::lock_guard lock(mu_);
    samples_.push_back({labels, t, v});
  }

  std::vector<AppendedSample> Take() {
    std::lock_guard lock(mu_);
    return std::exchange(samples_, {});
  }

 private:
  std::mutex mu_;
  std::vector<AppendedSample> samples_;
};

// Serves canned responses by URL and advances the fake clock by `latency` per request.
class FakeHttpClient final : public HttpClient {
 public:
  explicit FakeHttpClient(FakeClock* clock) : clock_(clock) {}

  Result<HttpResponse> Do(const HttpRequest& request) override {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    clock_->Advance(latency_);
    auto it = responses_.find(request.url);
    if (it == responses_.end()) {
      return Error::Unavailable("HTTP request failed: no fake response");
    }
    Result<HttpResponse> response = it->second;
    // As the libcurl client: keep the first max_response_bytes of a larger body.
    if (response.ok() && request.truncate_large_body &&
        response->body.size() > request.max_response_bytes) {
      response->body.resize(request.max_response_bytes);
      response->body_truncated = true;
    }
    return response;
  }

  void SetBody(const std::string& url, const std::string& body, int status = 200) {
    HttpResponse response;
    response.status = status;
    response.body = body;
    std::lock_guard lock(mu_);
    responses_.insert_or_assign(url, Result<HttpResponse>(response));
  }

  void SetError(const std::string& url, Error error) {
    std::lock_guard lock(mu_);
    responses_.insert_or_assign(url, Result<HttpResponse>(std::move(error)));
  }

  void set_latency(milliseconds latency) { latency_ = latency; }

  std::vector<HttpRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  FakeClock* clock_;
  std::mutex mu_;
  std::map<std::string, Result<HttpResponse>> responses_;
  std::vector<HttpRequest> requests_;
  milliseconds latency_{0};
};

config::ScrapeConfig Job(std::string name, std::vector<std::string> targets, Labels labels = {}) {
  config::ScrapeConfig config;
  config.job_name = std::move(name);
  config.scrape_interval = seconds(15);
  config.scrape_timeout = seconds(10);
  config.static_configs.push_back({std::move(targets), std::move(labels)});
  return config;
}

// Returns the samples of the series named `name`, in append order.
std::vector<AppendedSample> Named(const std::vector<AppendedSample>& samples,
                                  std::string_view name) {
  std::vector<AppendedSample> out;
  for (const auto& s : samples) {
    if (s.labels.Get("__name__") == name) {
      out.push_back(s);
    }
  }
  return out;
}

double OnlyValue(const std::vector<AppendedSample>& samples, std::string_view name) {
  auto named = Named(samples, name);
  EXPECT_EQ(named.size(), 1u) << name;
  return named.empty() ? -1 : named[0].v;
}

class ScrapeManagerTest : public ::testing::Test {
 protected:
  static constexpr const char* kUrl = "http://host-1:9100/metrics";

  ScrapeManagerTest() : clock_(FromMillis(kStartMs)), http_(&clock_) {}

  std::unique_ptr<ScrapeManager> Make(std::vector<config::ScrapeConfig> configs) {
    return std::make_unique<ScrapeManager>(
        std::move(configs), global_, &appender_, &http_, &clock_);
  }

  std::unique_ptr<ScrapeManager> MakeOne(bool honor_labels = false, Labels static_labels = {}) {
    auto config = Job("node", {"host-1:9100"}, std::move(static_labels));
    config.honor_labels = honor_labels;
    return Make({config});
  }

  config::GlobalConfig global_;
  FakeClock clock_;
  FakeAppender appender_;
  FakeHttpClient http_;
};

TEST_F(ScrapeManagerTest, BuildsTargetsFromStaticConfigs) {
  auto first = Job("node", {"a:9100", "b:9100", "a:9100"}, Labels{{"env", "prod"}});
  first.scrape_interval = Duration(0);
  first.scrape_timeout = Duration(0);
  auto second = Job("app", {"c:8080"});
  second.scheme = "https";
  second.metrics_path = "/stats";
  second.scrape_interval = seconds(5);
  second.scrape_timeout = seconds(10);
  global_.scrape_interval = seconds(30);
  global_.scrape_timeout = seconds(7);
  auto manager = Make({first, second});

  auto targets = manager->Targets();
  ASSERT_EQ(targets.size(), 3u);  // the repeated a:9100 is scraped once
  EXPECT_EQ(targets[0].index, 0u);
  EXPECT_EQ(targets[0].job, "node");
  EXPECT_EQ(targets[0].instance, "a:9100");
  EXPECT_EQ(targets[0].url, "http://a:9100/metrics");
  EXPECT_EQ(targets[0].interval, seconds(30));
  EXPECT_EQ(targets[0].timeout, seconds(7));
  EXPECT_EQ(targets[1].instance, "b:9100");
  EXPECT_EQ(targets[2].index, 2u);
  EXPECT_EQ(targets[2].url, "https://c:8080/stats");
  EXPECT_EQ(targets[2].interval, seconds(5));
  EXPECT_EQ(targets[2].timeout, seconds(5));  // cut to the interval

  auto status = manager->Status();
  ASSERT_EQ(status.size(), 3u);
  EXPECT_EQ(status[0].labels, (Labels{{"env", "prod"}, {"instance", "a:9100"}, {"job", "node"}}));
  EXPECT_EQ(status[0].discovered_labels.Get("__address__"), "a:9100");
  EXPECT_EQ(status[0].discovered_labels.Get("__scrape_interval__"), "30s");
  EXPECT_EQ(status[0].scrape_pool, "node");
  EXPECT_EQ(status[0].health, TargetHealth::kUnknown);
  EXPECT_FALSE(status[0].last_scrape.has_value());
  EXPECT_EQ(status[2].scrape_url, "https://c:8080/stats");
}

TEST_F(ScrapeManagerTest, StaticLabelsOverrideJobInstanceAndPath) {
  auto manager = MakeOne(
      false, Labels{{"job", "custom"}, {"instance", "node-1"}, {"__metrics_path__", "/probe"}});
  auto targets = manager->Targets();
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0].job, "custom");
  EXPECT_EQ(targets[0].instance, "node-1");
  EXPECT_EQ(targets[0].url, "http://host-1:9100/probe");
  EXPECT_EQ(manager->Status()[0].labels, (Labels{{"instance", "node-1"}, {"job", "custom"}}));
}

TEST_F(ScrapeManagerTest, AppendsSamplesAndReportSeries) {
  auto manager = MakeOne();
  http_.SetBody(kUrl, "# TYPE a counter\na 1\nb{x=\"y\"} 2.5\n");
  http_.set_latency(milliseconds(250));
  manager->Scrape(0);

  auto samples = appender_.Take();
  const Labels target{{"instance", "host-1:9100"}, {"job", "node"}};
  ASSERT_EQ(Named(samples, "a").size(), 1u);
  EXPECT_EQ(Named(samples, "a")[0].labels, LabelsBuilder(target).Set("__name__", "a").Build());
  EXPECT_EQ(Named(samples, "a")[0].t, kStartMs);
  EXPECT_EQ(Named(samples, "a")[0].v, 1);
  ASSERT_EQ(Named(samples, "b").size(), 1u);
  EXPECT_EQ(Named(samples, "b")[0].labels.Get("x"), "y");
  EXPECT_EQ(Named(samples, "b")[0].v, 2.5);
  EXPECT_EQ(OnlyValue(samples, "up"), 1);
  EXPECT_EQ(OnlyValue(samples, "scrape_duration_seconds"), 0.25);
  EXPECT_EQ(OnlyValue(samples, "scrape_samples_scraped"), 2);
  EXPECT_EQ(OnlyValue(samples, "scrape_samples_post_metric_relabeling"), 2);
  EXPECT_EQ(OnlyValue(samples, "scrape_series_added"), 2);
  EXPECT_EQ(Named(samples, "up")[0].labels, LabelsBuilder(target).Set("__name__", "up").Build());
  EXPECT_EQ(Named(samples, "up")[0].t, kStartMs);
  EXPECT_EQ(samples.size(), 7u);
  EXPECT_EQ(manager->scrapes_total(), 1u);
  EXPECT_EQ(manager->scrape_failures_total(), 0u);
  EXPECT_EQ(manager->samples_appended_total(), 2u);
}

TEST_F(ScrapeManagerTest, SendsAcceptAndTimeoutHeaders) {
  auto manager = MakeOne();
  http_.SetBody(kUrl, "");
  manager->Scrape(0);
  auto requests = http_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].url, kUrl);
  EXPECT_EQ(requests[0].timeout, seconds(10));
  std::map<std::string, std::string> headers(requests[0].headers.begin(),
                                             requests[0].headers.end());
  EXPECT_EQ(headers["Accept"], "text/plain;version=0.0.4;q=1,*/*;q=0.1");
  EXPECT_EQ(headers["X-Prometheus-Scrape-Timeout-Seconds"], "10.000000");
}

TEST_F(ScrapeManagerTest, RenamesConflictingLabelsWithoutHonorLabels) {
  auto manager = MakeOne(false, Labels{{"env", "prod"}});
  http_.SetBody(kUrl,
                "m{job=\"other\",instance=\"i2\",exported_job=\"z\",env=\"dev\",x=\"1\"} 1\n");
  manager->Scrape(0);
  auto samples = Named(appender_.Take(), "m");
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].labels,
            (Labels{{"__name__", "m"},
                    {"env", "prod"},
                    {"exported_env", "dev"},
                    {"exported_exported_job", "other"},
                    {"exported_instance", "i2"},
                    {"exported_job", "z"},
                    {"instance", "host-1:9100"},
                    {"job", "node"},
                    {"x", "1"}}));
}

TEST_F(ScrapeManagerTest, KeepsScrapedLabelsWithHonorLabels) {
  auto manager = MakeOne(true, Labels{{"env", "prod"}});
  http_.SetBody(kUrl, "m{job=\"other\",env=\"dev\"} 1\nn 2\n");
  manager->Scrape(0);
  auto samples = appender_.Take();
  ASSERT_EQ(Named(samples, "m").size(), 1u);
  EXPECT_EQ(
      Named(samples, "m")[0].labels,
      (Labels{{"__name__", "m"}, {"env", "dev"}, {"instance", "host-1:9100"}, {"job", "other"}}));
  ASSERT_EQ(Named(samples, "n").size(), 1u);
  EXPECT_EQ(Named(samples, "n")[0].labels.Get("job"), "node");
  // The report series always carry the target labels.
  EXPECT_EQ(Named(samples, "up")[0].labels.Get("job"), "node");
}

TEST(MergeTargetLabelsTest, RenamesByShortestNameFirst) {
  const Labels target{{"a", "t1"}, {"exported_a", "t2"}};
  const Labels scraped{{"__name__", "m"}, {"a", "s1"}, {"exported_a", "s2"}};
  Labels merged = MergeTargetLabels(scraped, target, false);
  EXPECT_EQ(merged,
            (Labels{{"__name__", "m"},
                    {"a", "t1"},
                    {"exported_a", "t2"},
                    {"exported_exported_a", "s1"},
                    {"exported_exported_exported_a", "s2"}}));
}

TEST_F(ScrapeManagerTest, MarksVanishedSeriesStale) {
  auto manager = MakeOne();
  http_.SetBody(kUrl, "a 1\nb 2\n");
  manager->Scrape(0);
  appender_.Take();

  clock_.Advance(seconds(15));
  http_.SetBody(kUrl, "a 3\n");
  manager->Scrape(0);
  auto second = appender_.Take();
  ASSERT_EQ(Named(second, "b").size(), 1u);
  EXPECT_TRUE(IsStaleNaN(Named(second, "b")[0].v));
  EXPECT_EQ(Named(second, "b")[0].t, kStartMs + 15000);
  EXPECT_EQ(Named(second, "b")[0].labels.Get("job"), "node");
  ASSERT_EQ(Named(second, "a").size(), 1u);
  EXPECT_EQ(Named(second, "a")[0].v, 3);
  EXPECT_EQ(OnlyValue(second, "scrape_series_added"), 0);

  clock_.Advance(seconds(15));
  http_.SetBody(kUrl, "a 4\nb 5\n");
  manager->Scrape(0);
  auto third = appender_.Take();
  ASSERT_EQ(Named(third, "b").size(), 1u);
  EXPECT_EQ(Named(third, "b")[0].v, 5);
  EXPECT_EQ(OnlyValue(third, "scrape_series_added"), 1);
  for (const auto& s : third) {
    EXPECT_FALSE(IsStaleNaN(s.v)) << s.labels.ToString();
  }
}

TEST_F(ScrapeManagerTest, UsesExplicitTimestampsWithoutStaleness) {
  auto manager = MakeOne();
  http_.SetBody(kUrl, "a 1 1600000000000\nb 2\n");
  manager->Scrape(0);
  auto first = appender_.Take();
  ASSERT_EQ(Named(first, "a").size(), 1u);
  EXPECT_EQ(Named(first, "a")[0].t, 1600000000000);
  EXPECT_EQ(Named(first, "b")[0].t, kStartMs);

  clock_.Advance(seconds(15));
  http_.SetBody(kUrl, "");
  manager->Scrape(0);
  auto second = appender_.Take();
  EXPECT_EQ(Named(second, "a").size(), 0u);  // explicit timestamps bypass staleness
  ASSERT_EQ(Named(second, "b").size(), 1u);
  EXPECT_TRUE(IsStaleNaN(Named(second, "b")[0].v));
}

TEST_F(ScrapeManagerTest, KeepsSeriesThatGainsTimestampFresh) {
  auto manager = MakeOne();
  http_.SetBody(kUrl, "a 1\n");
  manager->Scrape(0);
  appender_.Take();

  clock_.Advance(seconds(15));
  http_.SetBody(kUrl, "a 2 1600000000000\n");
  manager->Scrape(0);
  auto second = appender_.Take();
  ASSERT_EQ(Named(second, "a").size(), 1u);
  EXPECT_EQ(Named(second, "a")[0].v, 2);
  EXPECT_EQ(Named(second, "a")[0].t, 1600000000000);
}

TEST_F(ScrapeManagerTest, ClampsNegativeDurationToZero) {
  auto manager = MakeOne();
  http_.SetBody(kUrl, "");
  http_.set_latency(milliseconds(-500));
  manager->Scrape(0);
  EXPECT_EQ(OnlyValue(appender_.Take(), "scrape_duration_seconds"), 0);
}

TEST_F(ScrapeManagerTest, IgnoresTimestampsWhenNotHonored) {
  auto config = Job("node", {"host-1:9100"});
  config.honor_timestamps = false;
  auto manager = Make({config});
  http_.SetBody(kUrl, "a 1 1600000000000\n");
  manager->Scrape(0);
  auto first = appender_.Take();
  ASSERT_EQ(Named(first, "a").size(), 1u);
  EXPECT_EQ(Named(first, "a")[0].t, kStartMs);

  clock_.Advance(seconds(15));
  http_.SetBody(kUrl, "");
  manager->Scrape(0);
  auto second = appender_.Take();
  ASSERT_EQ(Named(second, "a").size(), 1u);
  EXPECT_TRUE(IsStaleNaN(Named(second, "a")[0].v));
}

TEST_F(ScrapeManagerTest, KeepsFirstSampleOfRepeatedSeries) {
  auto manager = MakeOne();
  http_.SetBody(kUrl, "a 1\na 2\n");
  manager->Scrape(0);
  auto samples = appender_.Take();
  ASSERT_EQ(Named(samples, "a").size(), 1u);
  EXPECT_EQ(Named(samples, "a")[0].v, 1);
  EXPECT_EQ(OnlyValue(samples, "scrape_samples_scraped"), 2);
  EXPECT_EQ(OnlyValue(samples, "scrape_samples_post_metric_relabeling"), 1);
}

TEST_F(ScrapeManagerTest, MarksAllSeriesStaleWhenTargetGoesDown) {
  struct Case {
    std::string name;
    std::function<void(FakeHttpClient&)> fail;
    std::string want_error;
  };

  const std::vector<Case> cases = {
      {"http 500",
       [](FakeHttpClient& h) { h.SetBody(kUrl, "oops", 500); },
       "server returned HTTP status 500 Internal Server Error"},
      {"http 204",
       [](FakeHttpClient& h) { h.SetBody(kUrl, "", 204); },
       "server returned HTTP status 204 No Content"},
      {"http 599",
       [](FakeHttpClient& h) { h.SetBody(kUrl, "", 599); },
       "server returned HTTP status 599"},
      {"timeout",
       [](FakeHttpClient& h) {
         h.SetError(kUrl, Error::Timeout("HTTP request timed out after 10000ms"));
       },
       "HTTP request timed out after 10000ms"},
      {"parse error",
       [](FakeHttpClient& h) { h.SetBody(kUrl, "c 1\nb{ 2\n"); },
       "line 2: invalid label name \"2\""},
  };
  for (const Case& c : cases) {
    FakeAppender appender;
    FakeClock clock(FromMillis(kStartMs));
    FakeHttpClient http(&clock);
    ScrapeManager manager({Job("node", {"host-1:9100"})}, global_, &appender, &http, &clock);
    http.SetBody(kUrl, "a 1\nb 2\n");
    manager.Scrape(0);
    appender.Take();

    clock.Advance(seconds(15));
    c.fail(http);
    manager.Scrape(0);
    auto down = appender.Take();
    for (std::string_view name : {"a", "b"}) {
      ASSERT_EQ(Named(down, name).size(), 1u) << c.name << " " << name;
      EXPECT_TRUE(IsStaleNaN(Named(down, name)[0].v)) << c.name << " " << name;
      EXPECT_EQ(Named(down, name)[0].t, kStartMs + 15000) << c.name;
    }
    EXPECT_EQ(Named(down, "c").size(), 0u) << c.name;  // a failed parse stores nothing
    EXPECT_EQ(OnlyValue(down, "up"), 0) << c.name;
    EXPECT_EQ(OnlyValue(down, "scrape_samples_scraped"), 0) << c.name;
    EXPECT_EQ(OnlyValue(down, "scrape_series_added"), 0) << c.name;
    auto status = manager.Status();
    EXPECT_EQ(status[0].health, TargetHealth::kDown) << c.name;
    EXPECT_EQ(status[0].last_error, c.want_error) << c.name;

    clock.Advance(seconds(15));
    manager.Scrape(0);
    auto still_down = appender.Take();
    EXPECT_EQ(still_down.size(), 5u) << c.name;  // only the report series, no new markers
    EXPECT_EQ(manager.scrapes_total(), 3u) << c.name;
    EXPECT_EQ(manager.scrape_failures_total(), 2u) << c.name;
  }
}

TEST_F(ScrapeManagerTest, FailsScrapeOverLimits) {
  struct Case {
    std::string name;
    std::function<void(config::ScrapeConfig&)> set_limit;
    std::string body;
    std::string want_error;
    double want_scraped;  // scrape_samples_scraped
  };

  const std::string long_name(60, 'n');
  const std::string long_value(60, 'v');
  const std::vector<Case> cases = {
      {"sample_limit",
       [](config::ScrapeConfig& c) { c.sample_limit = 2; },
       "a 1\nb 2\nc 3\n",
       "sample limit exceeded: 3 samples, sample_limit 2",
       3},
      {"label_limit",
       [](config::ScrapeConfig& c) { c.label_limit = 3; },
       "a 1\nb{x=\"1\"} 2\n",
       "label_limit exceeded (metric: b, number of labels: 4, limit: 3)",
       2},
      {"label_name_length_limit",
       [](config::ScrapeConfig& c) { c.label_name_length_limit = 8; },
       "a 1\nb{" + long_name + "=\"1\"} 2\n",
       "label_name_length_limit exceeded (metric: b, label name: " + std::string(50, 'n') +
           ", length: 60, limit: 8)",
       2},
      {"label_value_length_limit",
       [](config::ScrapeConfig& c) { c.label_value_length_limit = 11; },
       "a 1\nb{x=\"" + long_value + "\"} 2\n",
       "label_value_length_limit exceeded (metric: b, label name: x, value: \"" +
           std::string(50, 'v') + "\", length: 60, limit: 11)",
       2},
      {"target label over label_value_length_limit",
       [](config::ScrapeConfig& c) { c.label_value_length_limit = 5; },
       "a 1\n",
       "label_value_length_limit exceeded (metric: a, label name: instance, value: "
       "\"host-1:9100\", length: 11, limit: 5)",
       1},
      {"body_size_limit",
       [](config::ScrapeConfig& c) { c.body_size_limit = 8; },
       "a 1\nb 2\nc 3\n",
       "body size limit exceeded: the response body is larger than 8B, the body_size_limit",
       0},
      {"max_line_length",
       [](config::ScrapeConfig& c) { c.max_line_length = 10; },
       "a 1\nlong_metric_name 2\n",
       "line 2 of the exposition is 18 bytes, more than limits.max_line_length (10 bytes)",
       0},
  };
  for (const Case& c : cases) {
    FakeAppender appender;
    FakeClock clock(FromMillis(kStartMs));
    FakeHttpClient http(&clock);
    config::ScrapeConfig job = Job("node", {"host-1:9100"});
    c.set_limit(job);
    ScrapeManager manager({job}, global_, &appender, &http, &clock);
    http.SetBody(kUrl, "a 1\n");
    manager.Scrape(0);
    if (c.name == "target label over label_value_length_limit") {
      ASSERT_EQ(manager.Status()[0].health, TargetHealth::kDown) << c.name;
    } else {
      ASSERT_EQ(manager.Status()[0].health, TargetHealth::kUp) << c.name;
    }
    appender.Take();

    clock.Advance(seconds(15));
    http.SetBody(kUrl, c.body);
    manager.Scrape(0);
    auto samples = appender.Take();
    for (std::string_view name : {"b", "c"}) {
      EXPECT_EQ(Named(samples, name).size(), 0u) << c.name << " " << name;
    }
    if (c.name != "target label over label_value_length_limit") {
      // `a` of the first scrape gets a staleness marker and no new sample.
      ASSERT_EQ(Named(samples, "a").size(), 1u) << c.name;
      EXPECT_TRUE(IsStaleNaN(Named(samples, "a")[0].v)) << c.name;
    }
    EXPECT_EQ(OnlyValue(samples, "up"), 0) << c.name;
    EXPECT_EQ(OnlyValue(samples, "scrape_samples_scraped"), c.want_scraped) << c.name;
    EXPECT_EQ(OnlyValue(samples, "scrape_samples_post_metric_relabeling"), 0) << c.name;
    EXPECT_EQ(OnlyValue(samples, "scrape_series_added"), 0) << c.name;
    auto status = manager.Status();
    EXPECT_EQ(status[0].health, TargetHealth::kDown) << c.name;
    EXPECT_EQ(status[0].last_error, c.want_error) << c.name;
    EXPECT_EQ(manager.scrape_failures_total(),
              c.name == "target label over label_value_length_limit" ? 2u : 1u)
        << c.name;
  }
}

TEST_F(ScrapeManagerTest, AcceptsScrapeAtLimits) {
  config::ScrapeConfig job = Job("node", {"host-1:9100"});
  job.sample_limit = 2;
  job.label_limit = 4;  // __name__, instance, job and x
  job.label_name_length_limit = 8;
  job.label_value_length_limit = 11;  // instance="host-1:9100"
  job.body_size_limit = 15;
  job.max_line_length = 10;
  auto manager = Make({job});
  http_.SetBody(kUrl, "a 1\nb{x=\"1\"} 2\n");  // 15 bytes, lines of 3 and 10 bytes
  manager->Scrape(0);
  auto status = manager->Status();
  EXPECT_EQ(status[0].health, TargetHealth::kUp);
  EXPECT_EQ(status[0].last_error, "");
  auto samples = appender_.Take();
  EXPECT_EQ(Named(samples, "a").size(), 1u);
  EXPECT_EQ(Named(samples, "b").size(), 1u);
}

TEST_F(ScrapeManagerTest, SendsBodySizeLimitToClient) {
  config::ScrapeConfig job = Job("node", {"host-1:9100"});
  job.body_size_limit = 10 << 20;
  auto manager = Make({job});
  http_.SetBody(kUrl, "a 1\n");
  manager->Scrape(0);
  auto requests = http_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].max_response_bytes, 10u << 20);
  EXPECT_TRUE(requests[0].truncate_large_body);
}

TEST_F(ScrapeManagerTest, RecordsStatusOfLastScrape) {
  auto manager = MakeOne();
  http_.SetBody(kUrl, "a 1\n");
  http_.set_latency(milliseconds(120));
  manager->Scrape(0);
  auto status = manager->Status();
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].health, TargetHealth::kUp);
  ASSERT_TRUE(status[0].last_scrape.has_value());
  EXPECT_EQ(ToMillis(*status[0].last_scrape), kStartMs);
  EXPECT_DOUBLE_EQ(status[0].last_scrape_duration_seconds, 0.12);
  EXPECT_EQ(status[0].last_error, "");
  EXPECT_EQ(status[0].scrape_interval, seconds(15));
  EXPECT_EQ(status[0].scrape_timeout, seconds(10));

  http_.SetBody(kUrl, "", 503);
  manager->Scrape(0);
  http_.SetBody(kUrl, "a 1\n");
  manager->Scrape(0);
  status = manager->Status();
  EXPECT_EQ(status[0].health, TargetHealth::kUp);
  EXPECT_EQ(status[0].last_error, "");
}

TEST(TargetHealthNameTest, ReturnsApiStrings) {
  EXPECT_EQ(TargetHealthName(TargetHealth::kUnknown), "unknown");
  EXPECT_EQ(TargetHealthName(TargetHealth::kUp), "up");
  EXPECT_EQ(TargetHealthName(TargetHealth::kDown), "down");
}

TEST_F(ScrapeManagerTest, LogsFailuresOncePerChange) {
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  sink->set_pattern("%l %v");
  auto logger = Logger("scrape");
  logger->sinks().push_back(sink);

  auto manager = MakeOne();
  http_.SetBody(kUrl, "", 500);
  manager->Scrape(0);
  manager->Scrape(0);
  http_.SetBody(kUrl, "", 404);
  manager->Scrape(0);
  http_.SetBody(kUrl, "a 1\n");
  manager->Scrape(0);
  manager->Scrape(0);
  logger->flush();
  logger->sinks().pop_back();

  EXPECT_EQ(log.str(),
            "warning Scrape failed job=node instance=host-1:9100 "
            "err=\"server returned HTTP status 500 Internal Server Error\"\n"
            "warning Scrape failed job=node instance=host-1:9100 "
            "err=\"server returned HTTP status 404 Not Found\"\n"
            "info Scrape recovered job=node instance=host-1:9100\n");
}

TEST_F(ScrapeManagerTest, ScrapesDifferentTargetsConcurrently) {
  constexpr int kTargets = 4;
  constexpr int kScrapesPerTarget = 20;
  std::vector<std::string> addresses;
  for (int i = 0; i < kTargets; ++i) {
    addresses.push_back("host-" + std::to_string(i) + ":9100");
    http_.SetBody("http://" + addresses.back() + "/metrics", "a 1\nb 2\n");
  }
  auto manager = Make({Job("node", addresses)});
  std::vector<std::thread> threads;
  for (int i = 0; i < kTargets; ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < kScrapesPerTarget; ++n) {
        manager->Scrape(static_cast<size_t>(i));
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  auto samples = appender_.Take();
  EXPECT_EQ(Named(samples, "a").size(), static_cast<size_t>(kTargets * kScrapesPerTarget));
  EXPECT_EQ(Named(samples, "up").size(), static_cast<size_t>(kTargets * kScrapesPerTarget));
  EXPECT_EQ(manager->scrapes_total(), static_cast<uint64_t>(kTargets * kScrapesPerTarget));
  for (const auto& status : manager->Status()) {
    EXPECT_EQ(status.health, TargetHealth::kUp) << status.scrape_url;
  }
}

// Real HTTP peers, through the libcurl client.

config::ScrapeConfig LocalJob(int port) {
  return Job("local", {"127.0.0.1:" + std::to_string(port)});
}

TEST(ScrapeManagerHttpTest, ScrapesLocalServerOverHttp) {
  testing::LocalHttpServer server([](const testing::ReceivedRequest& request) {
    if (request.target != "/metrics") {
      return testing::HttpResponseBytes(404, "not found");
    }
    return testing::HttpResponseBytes(200,
                                      "# TYPE hits counter\nhits{path=\"/\"} 42\n",
                                      {"Content-Type: text/plain; version=0.0.4"});
  });
  auto http = MakeCurlHttpClient();
  SystemClock clock;
  FakeAppender appender;
  ScrapeManager manager(
      {LocalJob(server.port())}, config::GlobalConfig{}, &appender, http.get(), &clock);
  manager.Scrape(0);
  auto samples = appender.Take();
  ASSERT_EQ(Named(samples, "hits").size(), 1u);
  EXPECT_EQ(Named(samples, "hits")[0].v, 42);
  EXPECT_EQ(OnlyValue(samples, "up"), 1);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].Header("accept"), "text/plain;version=0.0.4;q=1,*/*;q=0.1");
  EXPECT_EQ(requests[0].Header("x-prometheus-scrape-timeout-seconds"), "10.000000");
}

TEST(ScrapeManagerHttpTest, ReportsDownForClosedPort) {
  int port = testing::ClosedLocalPort();
  auto http = MakeCurlHttpClient();
  SystemClock clock;
  FakeAppender appender;
  ScrapeManager manager({LocalJob(port)}, config::GlobalConfig{}, &appender, http.get(), &clock);
  manager.Scrape(0);
  auto samples = appender.Take();
  EXPECT_EQ(OnlyValue(samples, "up"), 0);
  auto status = manager.Status();
  EXPECT_EQ(status[0].health, TargetHealth::kDown);
  EXPECT_TRUE(status[0].last_error.starts_with("HTTP request failed: ")) << status[0].last_error;
  EXPECT_NE(status[0].last_error.find("Could"), std::string::npos) << status[0].last_error;
}

TEST(ScrapeManagerHttpTest, ReportsDownForTimeout) {
  testing::LocalHttpServer server([](const testing::ReceivedRequest&) {
    std::this_thread::sleep_for(milliseconds(1500));
    return testing::HttpResponseBytes(200, "a 1\n");
  });
  auto http = MakeCurlHttpClient();
  SystemClock clock;
  FakeAppender appender;
  config::ScrapeConfig job = LocalJob(server.port());
  job.scrape_timeout = milliseconds(200);
  ScrapeManager manager({job}, config::GlobalConfig{}, &appender, http.get(), &clock);
  manager.Scrape(0);
  auto samples = appender.Take();
  EXPECT_EQ(Named(samples, "a").size(), 0u);
  EXPECT_EQ(OnlyValue(samples, "up"), 0);
  auto status = manager.Status();
  EXPECT_EQ(status[0].health, TargetHealth::kDown);
  EXPECT_EQ(status[0].last_error, "HTTP request timed out after 200ms");
}

TEST(ScrapeManagerHttpTest, ReportsDownForServerError) {
  testing::LocalHttpServer server(
      [](const testing::ReceivedRequest&) { return testing::HttpResponseBytes(500, "boom"); });
  auto http = MakeCurlHttpClient();
  SystemClock clock;
  FakeAppender appender;
  ScrapeManager manager(
      {LocalJob(server.port())}, config::GlobalConfig{}, &appender, http.get(), &clock);
  manager.Scrape(0);
  auto samples = appender.Take();
  EXPECT_EQ(OnlyValue(samples, "up"), 0);
  auto status = manager.Status();
  EXPECT_EQ(status[0].health, TargetHealth::kDown);
  EXPECT_EQ(status[0].last_error, "server returned HTTP status 500 Internal Server Error");
}

TEST(ScrapeManagerHttpTest, StopsReadingAtBodySizeLimit) {
  struct Case {
    const char* name;
    bool with_content_length;
  };

  for (const Case& c : {Case{"content-length", true}, Case{"chunked", false}}) {
    std::string line = "metric_with_a_long_name 1\n";  // 26 bytes
    testing::LocalHttpServer server([&](const testing::ReceivedRequest&) {
      std::string body;
      for (int i = 0; i < 2000; ++i) {
        body += line;
      }
      if (c.with_content_length) {
        return testing::HttpResponseBytes(200, body);
      }
      std::string raw =
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
      for (int i = 0; i < 100; ++i) {
        std::string chunk = body.substr(0, 520);
        char size[16];
        std::snprintf(size, sizeof(size), "%zx", chunk.size());
        raw += std::string(size) + "\r\n" + chunk + "\r\n";
      }
      raw += "0\r\n\r\n";
      return raw;
    });
    auto http = MakeCurlHttpClient();
    SystemClock clock;
    FakeAppender appender;
    config::ScrapeConfig job = LocalJob(server.port());
    job.body_size_limit = 1024;
    ScrapeManager manager({job}, config::GlobalConfig{}, &appender, http.get(), &clock);
    manager.Scrape(0);
    auto samples = appender.Take();
    EXPECT_EQ(Named(samples, "metric_with_a_long_name").size(), 0u) << c.name;
    EXPECT_EQ(OnlyValue(samples, "up"), 0) << c.name;
    auto status = manager.Status();
    EXPECT_EQ(status[0].health, TargetHealth::kDown) << c.name;
    EXPECT_EQ(status[0].last_error,
              "body size limit exceeded: the response body is larger than 1KiB, the "
              "body_size_limit")
        << c.name;
  }
}

// Starts prometheus-node-exporter on 127.0.0.1:`port` and stops it when destroyed.
class NodeExporter {
 public:
  static constexpr const char* kBinary = "/usr/bin/prometheus-node-exporter";

  explicit NodeExporter(int port) {
    std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port);
    pid_ = ::fork();
    if (pid_ == 0) {
      int null_fd = ::open("/dev/null", O_WRONLY);
      ::dup2(null_fd, STDOUT_FILENO);
      ::dup2(null_fd, STDERR_FILENO);
      ::execl(kBinary, kBinary, listen.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }

  ~NodeExporter() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  NodeExporter(const NodeExporter&) = delete;
  NodeExporter& operator=(const NodeExporter&) = delete;

 private:
  pid_t pid_ = -1;
};

TEST(ScrapeManagerHttpTest, ScrapesRealNodeExporter) {
  if (::access(NodeExporter::kBinary, X_OK) != 0) {
    GTEST_SKIP() << NodeExporter::kBinary << " is not installed: apt-get install "
                 << "prometheus-node-exporter to run this test";
  }
  int port = testing::ClosedLocalPort();
  NodeExporter exporter(port);
  auto http = MakeCurlHttpClient();
  SystemClock clock;
  FakeAppender appender;
  ScrapeManager manager({LocalJob(port)}, config::GlobalConfig{}, &appender, http.get(), &clock);

  // The exporter needs a moment to listen: retry for at most 10 s.
  auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    manager.Scrape(0);
    if (manager.Status()[0].health == TargetHealth::kUp) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  auto status = manager.Status();
  ASSERT_EQ(status[0].health, TargetHealth::kUp) << status[0].last_error;
  auto samples = appender.Take();
  auto up = Named(samples, "up");
  ASSERT_FALSE(up.empty());
  EXPECT_EQ(up.back().v, 1);
  auto scraped = Named(samples, "scrape_samples_scraped");
  ASSERT_FALSE(scraped.empty());
  EXPECT_GT(scraped.back().v, 50);
  auto build_info = Named(samples, "node_exporter_build_info");
  ASSERT_FALSE(build_info.empty());
  EXPECT_EQ(build_info.back().labels.Get("job"), "local");
  EXPECT_EQ(build_info.back().labels.Get("instance"), "127.0.0.1:" + std::to_string(port));
  EXPECT_FALSE(build_info.back().labels.Get("version").empty());
}

}  // namespace
}  // namespace alertd
