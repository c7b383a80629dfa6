#include "rules/template.h"

#include <string_view>
#include <utility>

#include "rules/template_internal.h"

namespace alertd {

using template_internal::Common;
using template_internal::ExecError;
using template_internal::ParseError;

namespace {

Error ToError(const ParseError& e) {
  return Error::Invalid(e.message, e.line, e.column);
}

// Runs `tree` with `options`, an unset missing_key taking `default_missing_key`.
Result<std::string> Run(MissingKey default_missing_key,
                        const Common& common,
                        const template_internal::Tree& tree,
                        const nlohmann::json& data,
                        const std::map<std::string, nlohmann::json>& variables,
                        const TemplateOptions& options) {
  TemplateOptions effective = options;
  if (!effective.missing_key.has_value()) {
    effective.missing_key = default_missing_key;
  }
  std::string out;
  try {
    template_internal::ExecuteTree(common, tree, data, variables, effective, &out);
  } catch (const ExecError& e) {
    return Error::Invalid(e.message);
  } catch (const std::exception& e) {
    // nlohmann::json and the standard library may throw on data the checks above missed.
    return Error::Internal("template " + tree.name + ": " + e.what());
  }
  return out;
}

nlohmann::json LabelsToJson(const Labels& labels) {
  nlohmann::json out = nlohmann::json::object();
  for (const Label& l : labels) {
    out[l.name] = l.value;
  }
  return out;
}

const std::vector<std::string>& AlertVariables() {
  static const std::vector<std::string> kVariables = {
      "$labels", "$externalLabels", "$externalURL", "$value"};
  return kVariables;
}

// The definitions Prometheus 2.42 (rules/alerting.go) puts before every alert template.
constexpr std::string_view kAlertPrefix =
    "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"
    "{{$externalURL := .ExternalURL}}{{$value := .Value}}";

ParseOptions AlertParseOptions() {
  ParseOptions options;
  options.dialect = TemplateDialect::kPrometheus;
  options.predeclared = AlertVariables();
  options.message_column_offset = kAlertPrefix.size();
  // template.AlertTemplateData's anonymous struct, as Go names its type.
  options.data_struct_type =
      "struct { Labels map[string]string; ExternalLabels map[string]string; "
      "ExternalURL string; Value float64 }";
  return options;
}

}  // namespace

Template::Template(std::shared_ptr<const Common> common) : common_(std::move(common)) {}

Result<Template> Template::Parse(std::string_view name,
                                 std::string_view text,
                                 const ParseOptions& options) {
  auto common = std::make_shared<Common>();
  common->dialect = options.dialect;
  common->main = std::string(name);
  common->predeclared = options.predeclared;
  common->message_column_offset = options.message_column_offset;
  common->data_struct_type = options.data_struct_type;
  try {
    template_internal::ParseInto(
        name, text, options.dialect, options.predeclared, false, &common->trees);
  } catch (const ParseError& e) {
    return ToError(e);
  }
  return Template(std::move(common));
}

Result<std::string> Template::Execute(const nlohmann::json& data,
                                      const TemplateOptions& options) const {
  return Execute(data, {}, options);
}

Result<std::string> Template::Execute(const nlohmann::json& data,
                                      const std::map<std::string, nlohmann::json>& variables,
                                      const TemplateOptions& options) const {
  for (const std::string& name : common_->predeclared) {
    if (variables.find(name) == variables.end()) {
      return Error::Invalid("template " + common_->main + ": no value given for variable " + name);
    }
  }
  auto it = common_->trees.find(common_->main);
  if (it == common_->trees.end()) {
    return Error::Internal("template " + common_->main + " has no top-level tree");
  }
  return Run(MissingKey::kNoValue, *common_, *it->second, data, variables, options);
}

const std::string& Template::name() const {
  return common_->main;
}

TemplateSet::TemplateSet(TemplateDialect dialect) : common_(std::make_unique<Common>()) {
  common_->dialect = dialect;
}

TemplateSet::~TemplateSet() = default;
TemplateSet::TemplateSet(TemplateSet&&) noexcept = default;
TemplateSet& TemplateSet::operator=(TemplateSet&&) noexcept = default;

Status TemplateSet::AddFile(std::string_view name, std::string_view text) {
  auto trees = common_->trees;
  try {
    template_internal::ParseInto(name, text, common_->dialect, {}, true, &trees);
  } catch (const ParseError& e) {
    return ToError(e);
  }
  common_->trees = std::move(trees);
  return Status::Ok();
}

bool TemplateSet::Has(std::string_view template_name) const {
  return common_->trees.find(template_name) != common_->trees.end();
}

Result<std::string> TemplateSet::Execute(std::string_view template_name,
                                         const nlohmann::json& data,
                                         const TemplateOptions& options) const {
  auto it = common_->trees.find(template_name);
  if (it == common_->trees.end()) {
    return Error::NotFound("template: no template \"" + std::string(template_name) +
                           "\" associated with template \"\"");
  }
  return Run(MissingKey::kZero, *common_, *it->second, data, {}, options);
}

Result<std::string> TemplateSet::ExecuteText(std::string_view text,
                                             const nlohmann::json& data,
                                             const TemplateOptions& options) const {
  // Alertmanager parses each text into a clone of its template set, named "".
  Common scratch = *common_;
  try {
    template_internal::ParseInto("", text, scratch.dialect, {}, true, &scratch.trees);
  } catch (const ParseError& e) {
    return ToError(e);
  }
  return Run(MissingKey::kZero, scratch, *scratch.trees.at(""), data, {}, options);
}

Result<std::string> ExpandAlertTemplate(std::string_view name,
                                        std::string_view text,
                                        const Labels& labels,
                                        const Labels& external_labels,
                                        const std::string& external_url,
                                        double value,
                                        const TemplateOptions& options) {
  Result<Template> tmpl = Template::Parse(name, text, AlertParseOptions());
  if (!tmpl.ok()) {
    return tmpl.error().WithContext("error parsing template " + std::string(name));
  }
  nlohmann::json data = {
      {"Labels", LabelsToJson(labels)},
      {"ExternalLabels", LabelsToJson(external_labels)},
      {"ExternalURL", external_url},
      {"Value", value},
  };
  std::map<std::string, nlohmann::json> variables = {
      {"$labels", data["Labels"]},
      {"$externalLabels", data["ExternalLabels"]},
      {"$externalURL", external_url},
      {"$value", value},
  };
  TemplateOptions run_options = options;
  if (!run_options.missing_key.has_value()) {
    run_options.missing_key = MissingKey::kZero;
  }
  if (run_options.external_url.empty()) {
    run_options.external_url = external_url;
  }
  Result<std::string> out = tmpl->Execute(data, variables, run_options);
  if (!out.ok()) {
    return out.error().WithContext("error executing template " + std::string(name));
  }
  return out;
}

Status CheckAlertTemplate(std::string_view text, std::string_view name) {
  Result<Template> tmpl = Template::Parse(name, text, AlertParseOptions());
  if (!tmpl.ok()) {
    return tmpl.error();
  }
  return Status::Ok();
}

}  // namespace alertd
