// Parser for the Prometheus text exposition format 0.0.4. It is as lenient as the PromParser of
// Prometheus 2.42 (model/textparse). So it accepts blank lines, free comments, whitespace
// between tokens, a last line without newline and a comma after the last label. It does not
// check HELP and TYPE lines against the samples that follow.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/labels.h"
#include "common/result.h"

namespace alertd {

struct ParsedSample {
  Labels labels;  // includes __name__
  double value = 0;
  std::optional<int64_t> timestamp_ms;  // present when the line has a timestamp
};

// Metadata from the HELP and TYPE lines of one metric family.
struct MetricMetadata {
  std::string type;  // counter, gauge, histogram, summary or untyped; empty when not given
  std::string help;  // unescaped
};

struct ParsedExposition {
  std::vector<ParsedSample> samples;               // in input order
  std::map<std::string, MetricMetadata> metadata;  // by metric family name
};

// Parses a whole exposition. The first syntax error fails the parse with kInvalidArgument, the
// 1-based line number in Error::line() and a message of the form
// `line 3: invalid metric name "1abc"`. A label value with an invalid escape keeps the
// backslash, as in Prometheus; a value "NaN" parses to a quiet NaN that is never StaleNaN.
// Lines must end in "\n": a "\r\n" line ending is rejected, as Prometheus rejects it.
Result<ParsedExposition> ParseTextExposition(std::string_view body);

// Returns only the samples of ParseTextExposition.
Result<std::vector<ParsedSample>> ParseTextFormat(std::string_view body);

}  // namespace alertd
