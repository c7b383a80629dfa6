#include "notifiers/templates.h"

#include <glob.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "common/logging.h"
#include "notifiers/payload.h"

namespace alertd {

namespace {

// Names of the templates that `text` defines, found by parsing it alone.
std::vector<std::string> DefinedNames(std::string_view text) {
  std::vector<std::string> names;
  size_t pos = 0;
  // A textual scan is enough: the text already parsed, so every `define "NAME"` found here
  // outside a comment or string is a real definition, and a false positive only marks a
  // name as user-defined.
  while ((pos = text.find("define", pos)) != std::string_view::npos) {
    pos += 6;
    size_t open = text.find_first_not_of(" \t\r\n", pos);
    if (open == std::string_view::npos || (text[open] != '"' && text[open] != '`')) {
      continue;
    }
    size_t close = text.find(text[open], open + 1);
    if (close == std::string_view::npos) {
      break;
    }
    names.emplace_back(text.substr(open + 1, close - open - 1));
    pos = close + 1;
  }
  return names;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error::Io("reading template file " + path + " failed: cannot open the file");
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) {
    return Error::Io("reading template file " + path + " failed");
  }
  return content.str();
}

// Expands `pattern` as Go's filepath.Glob: matches in lexical order, and neither no match nor
// an unreadable directory is an error.
Result<std::vector<std::string>> ExpandGlob(const std::string& pattern) {
  glob_t matches{};
  int rc = glob(pattern.c_str(), 0, nullptr, &matches);
  std::vector<std::string> paths;
  if (rc == 0) {
    for (size_t i = 0; i < matches.gl_pathc; ++i) {
      paths.emplace_back(matches.gl_pathv[i]);
    }
  }
  globfree(&matches);
  if (rc != GLOB_NOSPACE) {
    return paths;
  }
  return Error::Io("expanding the templates glob \"" + pattern + "\" failed: out of memory");
}

TemplateOptions ExecuteOptions(const nlohmann::json& data, uint64_t max_output_bytes) {
  TemplateOptions options;
  options.max_output_bytes = max_output_bytes;
  auto url = data.find("ExternalURL");
  if (url != data.end() && url->is_string()) {
    options.external_url = url->get<std::string>();
  }
  options.missing_key = MissingKey::kZero;
  return options;
}

}  // namespace

NotificationTemplates::NotificationTemplates() : set_(TemplateDialect::kAlertmanager) {}

std::shared_ptr<const NotificationTemplates> NotificationTemplates::Defaults() {
  static const std::shared_ptr<const NotificationTemplates> kDefaults = [] {
    auto templates = Load({}, "");
    if (!templates.ok()) {
      // The built-in text is fixed and covered by tests, so this is a build defect.
      spdlog::critical("The built-in notification templates do not parse: {}",
                       templates.error().message());
      std::abort();
    }
    return std::move(templates).value();
  }();
  return kDefaults;
}

Result<std::shared_ptr<const NotificationTemplates>> NotificationTemplates::Load(
    const std::vector<std::string>& globs, const std::string& base_dir) {
  std::shared_ptr<NotificationTemplates> templates(new NotificationTemplates());
  Status added = templates->set_.AddFile("default.tmpl", DefaultTemplateText());
  if (!added.ok()) {
    return added.error().WithContext("parsing the built-in notification templates failed");
  }
  for (const std::string& pattern : globs) {
    std::filesystem::path full = pattern;
    if (full.is_relative() && !base_dir.empty()) {
      full = std::filesystem::path(base_dir) / full;
    }
    auto paths = ExpandGlob(full.string());
    if (!paths.ok()) {
      return paths.error();
    }
    for (const std::string& path : *paths) {
      auto text = ReadFile(path);
      if (!text.ok()) {
        return text.error();
      }
      std::string name = std::filesystem::path(path).filename().string();
      Status file_added = templates->AddFile(name, *text);
      if (!file_added.ok()) {
        const Error& error = file_added.error();
        std::string where = path;
        if (error.has_position()) {
          where += ":" + std::to_string(error.line()) + ":" + std::to_string(error.column());
        }
        return Error(error.code(),
                     where + ": invalid template file: " + error.message(),
                     error.line(),
                     error.column());
      }
    }
  }
  return std::shared_ptr<const NotificationTemplates>(std::move(templates));
}

Result<std::shared_ptr<const NotificationTemplates>> NotificationTemplates::Load(
    const config::Config& config) {
  auto loaded = Load(config.templates, config.templates_base_dir);
  if (!loaded.ok()) {
    return loaded;
  }
  // Load built the object, so nothing else holds it yet.
  auto templates = std::const_pointer_cast<NotificationTemplates>(*loaded);
  templates->max_output_bytes_ = config.limits.max_template_output;
  return std::shared_ptr<const NotificationTemplates>(std::move(templates));
}

Status NotificationTemplates::AddFile(std::string_view name, std::string_view text) {
  Status added = set_.AddFile(name, text);
  if (!added.ok()) {
    return added;
  }
  for (std::string& defined : DefinedNames(text)) {
    user_defined_.insert(std::move(defined));
  }
  return Status::Ok();
}

bool NotificationTemplates::Has(std::string_view template_name) const {
  return set_.Has(template_name);
}

bool NotificationTemplates::IsUserDefined(std::string_view template_name) const {
  return user_defined_.find(template_name) != user_defined_.end();
}

Result<std::string> NotificationTemplates::Expand(std::string_view text,
                                                  const Notification& notification) const {
  if (text.empty()) {
    return std::string();
  }
  return Expand(text, TemplateData(notification));
}

Result<std::string> NotificationTemplates::Expand(std::string_view text,
                                                  const nlohmann::json& data) const {
  // Alertmanager's ExecuteTextString returns "" for an empty text without parsing it.
  if (text.empty()) {
    return std::string();
  }
  return set_.ExecuteText(text, data, ExecuteOptions(data, max_output_bytes_));
}

std::string NotificationTemplates::ExpandOr(std::string_view text,
                                            const Notification& notification,
                                            std::string_view fallback_text,
                                            spdlog::logger& logger,
                                            std::string_view field) const {
  return ExpandOr(text, TemplateData(notification), fallback_text, logger, field);
}

std::string NotificationTemplates::ExpandOr(std::string_view text,
                                            const nlohmann::json& data,
                                            std::string_view fallback_text,
                                            spdlog::logger& logger,
                                            std::string_view field) const {
  Result<std::string> expanded = Expand(text, data);
  if (expanded.ok()) {
    return std::move(expanded).value();
  }
  const std::string receiver = data.value("Receiver", "");
  logger.warn("Template expansion failed, using the default text field={} receiver={} error={}",
              LogValue(field),
              LogValue(receiver),
              LogValue(expanded.error().message()));
  Result<std::string> fallback = Expand(fallback_text, data);
  if (fallback.ok()) {
    return std::move(fallback).value();
  }
  logger.error(
      "Default template expansion failed, using an empty text field={} receiver={} "
      "error={}",
      LogValue(field),
      LogValue(receiver),
      LogValue(fallback.error().message()));
  return std::string();
}

}  // namespace alertd
