// Field names of Alertmanager 0.25's configuration, for code that must tell the notification
// part of a file from the rest.
#pragma once

#include <string_view>
#include <vector>

namespace alertd::config {

// Returns the `global` field names of Alertmanager 0.25's config.GlobalConfig.
const std::vector<std::string_view>& AlertmanagerGlobalFields();

}  // namespace alertd::config
