// The `limits` section of alertd.yml: bounds on input that Prometheus has no setting for.
#include "config/config_internal.h"

namespace alertd::config::internal {
namespace {

const yaml::Schema kLimitsSchema{
    "limits",
    {"max_line_length", "max_rules", "max_template_output", "max_request_body_size"},
    {},
    {}};

void ReadLimit(const yaml::Fields& fields,
               const char* key,
               uint64_t& out,
               const yaml::ErrorSink& errors) {
  const yaml::Entry* entry = fields.Find(key);
  if (entry == nullptr) {
    return;
  }
  std::optional<int64_t> value = yaml::ReadInt(*entry, errors);
  if (value && *value < 0) {
    errors(entry->value_position(),
           std::string("limits ") + key + " must not be negative, got " + std::to_string(*value) +
               "; use 0 for no limit");
  } else if (value) {
    out = static_cast<uint64_t>(*value);
  }
}

// A byte size such as 1MiB or a plain number of bytes; 0 means no limit.
void ReadByteLimit(const yaml::Fields& fields,
                   const char* key,
                   uint64_t& out,
                   const yaml::ErrorSink& errors) {
  const yaml::Entry* entry = fields.Find(key);
  if (entry == nullptr) {
    return;
  }
  std::optional<uint64_t> value = ReadByteSize(*entry, errors);
  if (value) {
    out = *value;
  }
}

}  // namespace

void LoadLimitsConfig(const YAML::Node& node, LimitsConfig& limits, const yaml::ErrorSink& errors) {
  yaml::Fields fields = yaml::ReadMapping(node, kLimitsSchema, errors);
  ReadByteLimit(fields, "max_line_length", limits.max_line_length, errors);
  ReadLimit(fields, "max_rules", limits.max_rules, errors);
  ReadByteLimit(fields, "max_template_output", limits.max_template_output, errors);
  ReadByteLimit(fields, "max_request_body_size", limits.max_request_body_size, errors);
}

}  // namespace alertd::config::internal
