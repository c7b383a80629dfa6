// The `query` section of alertd.yml: limits on each PromQL query.
#include "common/duration.h"
#include "config/config_internal.h"

namespace alertd::config::internal {
namespace {

const yaml::Schema kQuerySchema{"query", {"max_samples", "timeout"}, {}, {}};

}  // namespace

void LoadQueryConfig(const YAML::Node& node, QueryConfig& query, const yaml::ErrorSink& errors) {
  yaml::Fields fields = yaml::ReadMapping(node, kQuerySchema, errors);
  if (const yaml::Entry* entry = fields.Find("max_samples")) {
    std::optional<int64_t> value = yaml::ReadInt(*entry, errors);
    if (value && *value <= 0) {
      errors(entry->value_position(),
             "query max_samples must be positive, got " + std::to_string(*value) +
                 "; set it to the most samples one query may load");
    } else if (value) {
      query.max_samples = *value;
    }
  }
  if (const yaml::Entry* entry = fields.Find("timeout")) {
    std::optional<Duration> value = yaml::ReadDuration(*entry, errors);
    if (value && value->count() <= 0) {
      errors(entry->value_position(),
             "query timeout must be positive, got " + FormatDuration(*value) +
                 "; set it to how long one query may run, for example 2m");
    } else if (value) {
      query.timeout = *value;
    }
  }
}

}  // namespace alertd::config::internal
