// The seam between the dispatcher and what mutes alerts from outside it (silences).
#pragma once

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/labels.h"

namespace alertd {

// Decides whether an alert is muted at a given time. Implementations are thread-safe.
class Muter {
 public:
  virtual ~Muter() = default;

  // IDs of what mutes an alert with `labels` at `now` (for silences, the IDs of the active
  // silences that match), sorted; empty when nothing does.
  virtual std::vector<std::string> MutedBy(const Labels& labels, TimePoint now) const = 0;
};

}  // namespace alertd
