// scrape_configs of alertd.yml, validated as Prometheus 2.42's ScrapeConfig for the fields
// alertd implements.
#include <algorithm>

#include "common/duration.h"
#include "config/config_internal.h"

namespace alertd::config::internal {
namespace {

using yaml::Entry;
using yaml::Position;

const yaml::Schema kScrapeSchema{
    "scrape config",
    {"job_name",
     "scrape_interval",
     "scrape_timeout",
     "metrics_path",
     "scheme",
     "honor_labels",
     "static_configs",
     "sample_limit",
     "body_size_limit",
     "label_limit",
     "label_name_length_limit",
     "label_value_length_limit"},
    {"honor_timestamps",
     "params",
     "basic_auth",
     "authorization",
     "oauth2",
     "bearer_token",
     "bearer_token_file",
     "follow_redirects",
     "enable_http2",
     "tls_config",
     "proxy_url",
     "no_proxy",
     "proxy_from_environment",
     "proxy_connect_header",
     "relabel_configs",
     "metric_relabel_configs",
     "target_limit"},
    // Every service discovery mechanism: file_sd_configs, kubernetes_sd_configs, ...
    {"_sd_configs"}};

const yaml::Schema kStaticSchema{"static config", {"targets", "labels"}, {}, {}};

// Reads a count limit such as sample_limit into `out`; 0 means no limit. Prometheus reads
// these as unsigned integers, so a negative value is invalid.
void ReadCountLimit(const yaml::Fields& fields,
                    const char* key,
                    uint64_t& out,
                    const yaml::ErrorSink& errors) {
  const Entry* entry = fields.Find(key);
  if (entry == nullptr) {
    return;
  }
  std::optional<int64_t> value = yaml::ReadInt(*entry, errors);
  if (value && *value < 0) {
    errors(entry->value_position(),
           "invalid " + std::string(key) + " " + std::to_string(*value) +
               ": use 0 for no limit or a positive number");
  } else if (value) {
    out = static_cast<uint64_t>(*value);
  }
}

}  // namespace

void Loader::LoadScrapeConfigs(const Entry& entry) {
  if (entry.value.IsNull()) {
    return;
  }
  if (!entry.value.IsSequence()) {
    Report(entry.value_position(),
           "scrape_configs must be a list of scrape configs, got " + yaml::KindName(entry.value));
    return;
  }
  for (const YAML::Node& node : entry.value) {
    std::optional<ScrapeConfig> scrape = LoadScrapeConfig(node);
    if (!scrape) {
      continue;
    }
    auto previous =
        std::find_if(config_.scrape_configs.begin(),
                     config_.scrape_configs.end(),
                     [&](const ScrapeConfig& other) { return other.job_name == scrape->job_name; });
    if (!scrape->job_name.empty() && previous != config_.scrape_configs.end()) {
      Report({scrape->mark.line, scrape->mark.column},
             "job_name \"" + scrape->job_name + "\" is already used by the scrape config at line " +
                 std::to_string(previous->mark.line) + "; job names must be unique");
      continue;
    }
    config_.scrape_configs.push_back(std::move(*scrape));
  }
}

std::optional<ScrapeConfig> Loader::LoadScrapeConfig(const YAML::Node& node) {
  ScrapeConfig scrape;
  Position position = yaml::PositionOf(node);
  scrape.mark = MarkAt(position);
  if (!node.IsMap()) {
    Report(position, "scrape config must be a mapping, got " + yaml::KindName(node));
    return std::nullopt;
  }
  yaml::Fields fields = yaml::ReadMapping(node, kScrapeSchema, Sink());
  if (const Entry* entry = fields.Find("job_name")) {
    scrape.job_name = yaml::ReadString(*entry, Sink()).value_or("");
  }
  if (scrape.job_name.empty()) {
    Report(position, "scrape config has no job_name; set job_name to a unique name");
  }

  // As Prometheus 2.42's Config: the interval defaults to the global one, an explicit timeout
  // must not exceed the interval, and the global timeout is capped at the interval.
  scrape.scrape_interval = config_.global.scrape_interval;
  if (const Entry* entry = fields.Find("scrape_interval")) {
    std::optional<Duration> value = yaml::ReadDuration(*entry, Sink());
    if (value && value->count() > 0) {
      scrape.scrape_interval = *value;
    }
  }
  scrape.scrape_timeout = std::min(config_.global.scrape_timeout, scrape.scrape_interval);
  if (const Entry* entry = fields.Find("scrape_timeout")) {
    std::optional<Duration> value = yaml::ReadDuration(*entry, Sink());
    if (value && value->count() > 0) {
      if (*value > scrape.scrape_interval) {
        Report(entry->value_position(),
               "scrape_timeout " + FormatDuration(*value) + " is greater than scrape_interval " +
                   FormatDuration(scrape.scrape_interval) + " in job \"" + scrape.job_name +
                   "\"; a scrape must time out before the next one starts");
      }
      scrape.scrape_timeout = *value;
    }
  }

  if (const Entry* entry = fields.Find("metrics_path")) {
    std::optional<std::string> path = yaml::ReadString(*entry, Sink());
    if (path && !path->starts_with('/')) {
      Report(entry->value_position(),
             "invalid metrics_path \"" + *path + "\": it must start with \"/\"");
    } else if (path) {
      scrape.metrics_path = *path;
    }
  }
  if (const Entry* entry = fields.Find("scheme")) {
    std::optional<std::string> scheme = yaml::ReadString(*entry, Sink());
    if (scheme && *scheme != "http" && *scheme != "https") {
      Report(entry->value_position(), "invalid scheme \"" + *scheme + "\": use http or https");
    } else if (scheme) {
      scrape.scheme = *scheme;
    }
  }
  if (const Entry* entry = fields.Find("honor_labels")) {
    scrape.honor_labels = yaml::ReadBool(*entry, Sink()).value_or(false);
  }
  ReadCountLimit(fields, "sample_limit", scrape.sample_limit, Sink());
  if (const Entry* entry = fields.Find("body_size_limit")) {
    scrape.body_size_limit = ReadByteSize(*entry, Sink()).value_or(0);
  }
  ReadCountLimit(fields, "label_limit", scrape.label_limit, Sink());
  ReadCountLimit(fields, "label_name_length_limit", scrape.label_name_length_limit, Sink());
  ReadCountLimit(fields, "label_value_length_limit", scrape.label_value_length_limit, Sink());
  if (const Entry* entry = fields.Find("static_configs")) {
    if (entry->value.IsSequence()) {
      for (const YAML::Node& item : entry->value) {
        LoadStaticConfig(item, scrape);
      }
    } else if (!entry->value.IsNull()) {
      Report(
          entry->value_position(),
          "static_configs must be a list of static configs, got " + yaml::KindName(entry->value));
    }
  }
  return scrape;
}

void Loader::LoadStaticConfig(const YAML::Node& node, ScrapeConfig& scrape) {
  yaml::Fields fields = yaml::ReadMapping(node, kStaticSchema, Sink());
  if (!node.IsMap()) {
    return;
  }
  StaticConfig group;
  if (const Entry* entry = fields.Find("targets")) {
    for (const yaml::StringItem& target : yaml::ReadStringItems(*entry, Sink())) {
      std::string problem = HostPortProblem(target.value, /*allow_empty_host=*/false);
      if (!problem.empty()) {
        Report(target.value_position, "invalid target \"" + target.value + "\": " + problem);
        continue;
      }
      group.targets.push_back(target.value);
    }
  }
  if (const Entry* entry = fields.Find("labels")) {
    ReadLabels(*entry, group.labels);
  }
  scrape.static_configs.push_back(std::move(group));
}

}  // namespace alertd::config::internal
