// Parses an arbitrary scrape body in the Prometheus text exposition format. A successful parse
// must yield only samples with a metric name, and the samples-only entry point must agree.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "engine/scrape/textparse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto parsed = alertd::ParseTextExposition(body);
  auto samples = alertd::ParseTextFormat(body);
  if (parsed.ok() != samples.ok()) {
    std::fprintf(stderr, "ParseTextExposition and ParseTextFormat disagree on success\n");
    std::abort();
  }
  if (!parsed.ok()) {
    return 0;
  }
  if (parsed->samples.size() != samples->size()) {
    std::fprintf(stderr, "ParseTextExposition and ParseTextFormat disagree on sample count\n");
    std::abort();
  }
  for (const auto& sample : parsed->samples) {
    if (sample.labels.Get("__name__").empty()) {
      std::fprintf(stderr, "a parsed sample has no metric name\n");
      std::abort();
    }
  }
  return 0;
}
