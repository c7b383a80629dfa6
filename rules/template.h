// Go text/template for alert annotations and notification text: the subset that Prometheus
// 2.42 alert templates and Alertmanager 0.25 notification templates use, with nlohmann::json
// as the data. JSON objects behave as Go maps, arrays as slices, integers as int and other
// numbers as float64, so `{{ .Value }}` of 12.0 prints "12" as Go's %v of a float64 does.
//
// Error messages follow Go: a parse error reads `template: NAME:LINE: MESSAGE` and an
// execution error `template: NAME:LINE:COL: executing "NAME" at <NODE>: MESSAGE` (COL is
// Go's 0-based byte offset in the line). Parse errors also carry the 1-based line and
// column of the offending token in Error::line() and Error::column().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/labels.h"
#include "common/result.h"

namespace alertd {

namespace template_internal {
struct Common;
}

// The function map a template uses, as its upstream program defines it.
enum class TemplateDialect {
  // Prometheus 2.42 template/template.go: humanize*, query, first, label, value, ...
  kPrometheus,
  // Alertmanager 0.25 template/template.go: toUpper, toLower, title, join, match, ...
  kAlertmanager,
};

// The result of `.Key` on a JSON object without that key. Prometheus and Alertmanager both
// set missingkey=zero, and their maps are map[string]string, whose zero value is "".
enum class MissingKey {
  kNoValue,  // Go's default: prints "<no value>"
  kZero,     // missingkey=zero on a map[string]string: the empty string
};

// A sample as Prometheus templates see one: {"Labels": {name: value}, "Value": number}.
// Returns a JSON array of such samples, or an error that the template call reports.
using TemplateQueryFunc = std::function<Result<nlohmann::json>(const std::string& expr)>;

struct TemplateOptions {
  // Backs `query`; when unset a query call fails with "query function is not available".
  TemplateQueryFunc query;
  // Returned by `externalURL`; `pathPrefix` returns its path.
  std::string external_url;
  // Missing map keys. Unset: Go's default (kNoValue) for Template, and kZero for TemplateSet
  // and ExpandAlertTemplate, because Alertmanager and Prometheus set missingkey=zero.
  std::optional<MissingKey> missing_key;
  // Maximum nesting of {{ template }} calls. Go allows 100000 (maxExecDepth), but here each
  // level takes about 1.3 to 2.5 KB of the C++ stack (an estimate from runs under ulimit -s,
  // x86-64, GCC 12 -O2), so 100 keeps a runaway recursion within a 256 KB thread stack.
  int max_depth = 100;
  // Maximum bytes of output; a longer output fails the execution. 0 means no limit. The
  // default is the default of limits.max_template_output.
  uint64_t max_output_bytes = 1 << 20;
};

struct ParseOptions {
  TemplateDialect dialect = TemplateDialect::kPrometheus;
  // Variables (with the leading '$') the top-level text may use without declaring them.
  // Execute must then be given a value for each.
  std::vector<std::string> predeclared;
  // Added to line-1 columns in execution error messages, for text that upstream executes
  // behind a prefix (Prometheus puts its alert variable definitions before the text).
  size_t message_column_offset = 0;
  // When set, the data is a Go struct of this type rather than a map: a missing field of it
  // fails with "can't evaluate field X in type <this>", as Go reports for structs.
  std::string data_struct_type;
};

// One parsed template with the {{ define }}d templates of its text.
// Immutable after Parse; Execute may be called from several threads at once.
class Template {
 public:
  // Parses `text`; `name` appears in error messages as Go's template name does.
  static Result<Template> Parse(std::string_view name,
                                std::string_view text,
                                const ParseOptions& options = {});

  // Executes the top-level text with dot set to `data`.
  Result<std::string> Execute(const nlohmann::json& data,
                              const TemplateOptions& options = {}) const;

  // Executes like Execute, with the predeclared variables bound to `variables`.
  Result<std::string> Execute(const nlohmann::json& data,
                              const std::map<std::string, nlohmann::json>& variables,
                              const TemplateOptions& options) const;

  const std::string& name() const;

 private:
  explicit Template(std::shared_ptr<const template_internal::Common> common);

  std::shared_ptr<const template_internal::Common> common_;
};

// Named templates shared across files, as Alertmanager's template.FromGlob builds them:
// every file's {{ define }}s join one namespace, and a later file's definition replaces an
// earlier one. Not thread-safe while files are added; Execute* may run concurrently after.
//
// Data follows Alertmanager's template.Data with its Go field names (Receiver, Status,
// Alerts, GroupLabels, CommonLabels, ...). In the Alertmanager dialect, string maps have
// KV's methods (SortedPairs, Names, Values, Remove), alert arrays have Firing and Resolved,
// and RFC 3339 strings under StartsAt and EndsAt are time.Time values.
// NOTE: a missing field of Data or Alert reads as a missing map key here, where Go fails
// with "can't evaluate field X in type template.Data".
class TemplateSet {
 public:
  explicit TemplateSet(TemplateDialect dialect = TemplateDialect::kAlertmanager);
  ~TemplateSet();
  TemplateSet(TemplateSet&&) noexcept;
  TemplateSet& operator=(TemplateSet&&) noexcept;

  // Parses `text` and adds its definitions; on error the set is unchanged.
  Status AddFile(std::string_view name, std::string_view text);

  bool Has(std::string_view template_name) const;

  // Executes the named template with dot set to `data`; NotFound when it is not defined.
  Result<std::string> Execute(std::string_view template_name,
                              const nlohmann::json& data,
                              const TemplateOptions& options = {}) const;

  // Parses `text` as a template that may call every template of the set, and executes it.
  Result<std::string> ExecuteText(std::string_view text,
                                  const nlohmann::json& data,
                                  const TemplateOptions& options = {}) const;

 private:
  std::unique_ptr<template_internal::Common> common_;
};

// Expands an alerting rule's label or annotation template as Prometheus 2.42 does: with
// $labels, $externalLabels, $externalURL and $value defined, dot set to
// {Labels, ExternalLabels, ExternalURL, Value}, and missingkey=zero. `name` is the Go template
// name, "__alert_" + the alert name in Prometheus. The caller decides what to do with an
// error; Prometheus puts "<error expanding template: " + message + ">" in the annotation.
// Error::line() and column() are relative to `text`, while execution error messages count
// Prometheus's variable prefix on line 1 as Prometheus does.
Result<std::string> ExpandAlertTemplate(std::string_view name,
                                        std::string_view text,
                                        const Labels& labels,
                                        const Labels& external_labels,
                                        const std::string& external_url,
                                        double value,
                                        const TemplateOptions& options = {});

// Checks that `text` parses as an alerting rule template, as `promtool check rules` does.
Status CheckAlertTemplate(std::string_view text, std::string_view name = "__alert_");

// Go's strconv.FormatFloat(v, 'g', -1, 64), which is also fmt's %v of a float64.
std::string FormatGoFloat(double v);

}  // namespace alertd
