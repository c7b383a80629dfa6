// Evaluation health of a rule, as /api/v1/rules reports it (Prometheus 2.42 rules.RuleHealth).
#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/result.h"

namespace alertd {

enum class RuleHealth { kUnknown, kOk, kErr };

// Returns "unknown", "ok" or "err", the strings of Prometheus's API.
inline const char* RuleHealthName(RuleHealth health) {
  switch (health) {
    case RuleHealth::kOk:
      return "ok";
    case RuleHealth::kErr:
      return "err";
    case RuleHealth::kUnknown:
      break;
  }
  return "unknown";
}

// The outcome of a rule's last evaluation.
struct RuleEvalStatus {
  RuleHealth health = RuleHealth::kUnknown;  // kUnknown until the first evaluation
  std::string last_error;                    // empty when the last evaluation succeeded
  TimePoint last_evaluation{};               // evaluation time of the last evaluation
  std::chrono::nanoseconds evaluation_duration{0};
};

// Thread-safe holder of a RuleEvalStatus, shared by the rule types.
class RuleEvalStatusRecorder {
 public:
  void RecordSuccess(TimePoint t) {
    std::lock_guard lock(mu_);
    status_.health = RuleHealth::kOk;
    status_.last_error.clear();
    status_.last_evaluation = t;
  }

  void RecordFailure(const Error& error, TimePoint t) {
    std::lock_guard lock(mu_);
    status_.health = RuleHealth::kErr;
    status_.last_error = error.message();
    status_.last_evaluation = t;
  }

  void SetEvaluationDuration(std::chrono::nanoseconds duration) {
    std::lock_guard lock(mu_);
    status_.evaluation_duration = duration;
  }

  RuleEvalStatus Get() const {
    std::lock_guard lock(mu_);
    return status_;
  }

  void Set(const RuleEvalStatus& status) {
    std::lock_guard lock(mu_);
    status_ = status;
  }

 private:
  mutable std::mutex mu_;
  RuleEvalStatus status_;
};

}  // namespace alertd
