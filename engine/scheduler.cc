#include "engine/scheduler.h"

#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/logging.h"

namespace alertd {

namespace asio = boost::asio;

struct Scheduler::Impl {
  struct Job {
    std::string name;
    Duration interval;
    std::function<void()> fn;
    asio::steady_timer timer;
    std::chrono::steady_clock::time_point next;
    std::atomic<bool> running{false};
    std::atomic<bool> cancelled{false};

    Job(asio::io_context& io, std::string n, Duration i, std::function<void()> f)
        : name(std::move(n)), interval(i), fn(std::move(f)), timer(io) {}
  };

  explicit Impl(int threads) : thread_count(threads), work(asio::make_work_guard(io)) {}

  void Arm(const std::shared_ptr<Job>& job, std::atomic<uint64_t>& missed) {
    job->timer.expires_at(job->next);
    job->timer.async_wait([this, job, &missed](const boost::system::error_code& ec) {
      if (ec || job->cancelled) {
        return;
      }
      job->next += job->interval;
      // Catch up without a burst when the process was suspended: skip past due times.
      auto now = std::chrono::steady_clock::now();
      while (job->next <= now) {
        job->next += job->interval;
        missed.fetch_add(1);
      }
      if (job->running.exchange(true)) {
        missed.fetch_add(1);
        Logger("scheduler")
            ->warn(
                "Skipped an iteration because the previous run is still going "
                "job={}",
                LogValue(job->name));
      } else {
        asio::post(io, [job] {
          job->fn();
          job->running = false;
        });
      }
      Arm(job, missed);
    });
  }

  int thread_count;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::map<uint64_t, std::shared_ptr<Job>> jobs;
  uint64_t next_id = 1;
};

Scheduler::Scheduler(int threads) : impl_(std::make_unique<Impl>(threads < 1 ? 1 : threads)) {}

Scheduler::~Scheduler() {
  Stop();
}

uint64_t Scheduler::Every(std::string name,
                          Duration interval,
                          Duration offset,
                          std::function<void()> job_fn) {
  if (interval.count() <= 0) {
    interval = Duration(1000);
  }
  auto job = std::make_shared<Impl::Job>(impl_->io, std::move(name), interval, std::move(job_fn));
  job->next = std::chrono::steady_clock::now() + offset;
  uint64_t id;
  {
    std::lock_guard lock(impl_->mu);
    id = impl_->next_id++;
    impl_->jobs[id] = job;
  }
  asio::post(impl_->io, [this, job] { impl_->Arm(job, missed_); });
  return id;
}

void Scheduler::Cancel(uint64_t id) {
  std::shared_ptr<Impl::Job> job;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->jobs.find(id);
    if (it == impl_->jobs.end()) {
      return;
    }
    job = it->second;
    impl_->jobs.erase(it);
  }
  job->cancelled = true;
  asio::post(impl_->io, [job] { job->timer.cancel(); });
}

void Scheduler::Post(std::function<void()> job) {
  asio::post(impl_->io, std::move(job));
}

void Scheduler::Start() {
  if (!impl_->threads.empty()) {
    return;
  }
  for (int i = 0; i < impl_->thread_count; ++i) {
    impl_->threads.emplace_back([this] { impl_->io.run(); });
  }
}

void Scheduler::Stop() {
  {
    std::lock_guard lock(impl_->mu);
    for (auto& [id, job] : impl_->jobs) {
      job->cancelled = true;
    }
  }
  impl_->work.reset();
  impl_->io.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) {
      t.join();
    }
  }
  impl_->threads.clear();
}

Duration SpreadOffset(const std::string& key, Duration interval, TimePoint now) {
  if (interval.count() <= 0) {
    return Duration(0);
  }
  // FNV-1a of the key gives each job a stable slot within the interval; the offset is the
  // distance from now to the next time that slot comes around.
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  int64_t period = interval.count();
  int64_t slot = static_cast<int64_t>(h % static_cast<uint64_t>(period));
  int64_t now_ms = ToMillis(now);
  int64_t base = now_ms - now_ms % period;
  int64_t next = base + slot;
  if (next < now_ms) {
    next += period;
  }
  return Duration(next - now_ms);
}

}  // namespace alertd
