// The `rules` section of alertd.yml: how restored alert state is treated after a restart.
#include "common/duration.h"
#include "config/config_internal.h"

namespace alertd::config::internal {
namespace {

const yaml::Schema kRulesSchema{"rules", {"for_grace_period", "for_outage_tolerance"}, {}, {}};

void ReadPositiveDuration(const yaml::Fields& fields,
                          const char* key,
                          const char* purpose,
                          Duration& out,
                          const yaml::ErrorSink& errors) {
  const yaml::Entry* entry = fields.Find(key);
  if (entry == nullptr) {
    return;
  }
  std::optional<Duration> value = yaml::ReadDuration(*entry, errors);
  if (value && value->count() <= 0) {
    errors(entry->value_position(),
           std::string("rules ") + key + " must be positive, got " + FormatDuration(*value) +
               "; set it to " + purpose);
  } else if (value) {
    out = *value;
  }
}

}  // namespace

void LoadRulesConfig(const YAML::Node& node, RulesConfig& rules, const yaml::ErrorSink& errors) {
  yaml::Fields fields = yaml::ReadMapping(node, kRulesSchema, errors);
  ReadPositiveDuration(fields,
                       "for_grace_period",
                       "the least time after a start before a restored alert may fire, "
                       "for example 10m",
                       rules.for_grace_period,
                       errors);
  ReadPositiveDuration(fields,
                       "for_outage_tolerance",
                       "the longest outage after which restored `for` state is kept, for "
                       "example 1h",
                       rules.for_outage_tolerance,
                       errors);
}

}  // namespace alertd::config::internal
