// Notification templates: Alertmanager 0.25's default templates (default.tmpl and
// email.tmpl, written anew with the same template names and output, except email.default.html,
// which is alertd's own self-contained HTML email), then the files of the config's
// `templates:` globs, which may override any default. Integrations expand their config fields
// through this object over Alertmanager's template data (template.Data).
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/result.h"
#include "config/config.h"
#include "notifiers/notifier.h"
#include "rules/template.h"

namespace alertd {

// Immutable after loading, so one instance is shared by every notifier and Expand* may run
// from several threads at once.
class NotificationTemplates {
 public:
  // The default templates only.
  static std::shared_ptr<const NotificationTemplates> Defaults();

  // The defaults, then every file matching `globs`, in glob order and within a glob in
  // lexical order, as Alertmanager's template.FromGlobs. A relative glob is taken relative to
  // `base_dir`. A glob that matches nothing is not an error. Fails on an invalid glob, an
  // unreadable file or a file that does not parse; the error message names the file and the
  // line (`FILE:LINE:COL: ...`), and Error::line() and column() are those of the file.
  static Result<std::shared_ptr<const NotificationTemplates>> Load(
      const std::vector<std::string>& globs, const std::string& base_dir);

  // Load(config.templates, config.templates_base_dir), with expansions limited to
  // config.limits.max_template_output bytes.
  static Result<std::shared_ptr<const NotificationTemplates>> Load(const config::Config& config);

  // Adds template text as a file named `name` (as a file's base name), after the files
  // loaded so far. On error the object is unchanged. For callers that build their own set.
  Status AddFile(std::string_view name, std::string_view text);

  // Whether a template of that name is defined.
  bool Has(std::string_view template_name) const;

  // Whether a file given to Load or AddFile defined `template_name`, replacing or adding to the
  // defaults.
  bool IsUserDefined(std::string_view template_name) const;

  // Parses and executes `text` as Alertmanager's ExecuteTextString: an empty text gives "",
  // missing map keys read as "", and every named template may be called. Returns the parse or
  // execution error in Go's wording.
  // NOTE: HTML is executed as text too. Alertmanager executes email html with html/template,
  // which escapes values by context, so a user's HTML template must escape with `html` here.
  Result<std::string> Expand(std::string_view text, const Notification& notification) const;

  // Expand with data already built by TemplateData, for callers expanding many fields.
  Result<std::string> Expand(std::string_view text, const nlohmann::json& data) const;

  // Expands `text`; when that fails, logs the error at warn level with `field` and the
  // receiver, then expands `fallback_text` (typically the
  // default, such as '{{ template "slack.default.title" . }}'). When the fallback fails too,
  // logs that error and returns "". Send-time template errors therefore never stop a
  // notification, where Alertmanager 0.25 fails the whole notification.
  std::string ExpandOr(std::string_view text,
                       const Notification& notification,
                       std::string_view fallback_text,
                       spdlog::logger& logger,
                       std::string_view field = {}) const;

  // ExpandOr with data already built by TemplateData.
  std::string ExpandOr(std::string_view text,
                       const nlohmann::json& data,
                       std::string_view fallback_text,
                       spdlog::logger& logger,
                       std::string_view field = {}) const;

  // The underlying set, for callers that execute a named template directly.
  const TemplateSet& set() const { return set_; }

 private:
  NotificationTemplates();

  TemplateSet set_;
  std::set<std::string, std::less<>> user_defined_;
  uint64_t max_output_bytes_ = 1 << 20;  // TemplateOptions::max_output_bytes of Expand
};

// The built-in template text: Alertmanager 0.25's default.tmpl definitions and
// email.default.subject / email.default.html, in Go's template syntax.
std::string_view DefaultTemplateText();

// Alertmanager's template data for `notification` (declared in notifiers/payload.h as well):
// Receiver, Status, Alerts, GroupLabels, CommonLabels, CommonAnnotations, ExternalURL.
nlohmann::json TemplateData(const Notification& notification);

}  // namespace alertd
