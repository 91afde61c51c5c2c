#pragma once
// Strict reading of the pipeline config (docs/config.md): a misspelt key is an
// error naming it and the known ones, never a silently ignored setting.
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>

namespace pixelwise {

/// Throws std::invalid_argument naming `where` when j is not an object or has
/// a key outside `allowed`.
inline void check_keys(const nlohmann::json& j, const std::set<std::string>& allowed, const std::string& where) {
  if (!j.is_object()) throw std::invalid_argument(where + ": must be a JSON object");
  for (const auto& item : j.items())
    if (!allowed.count(item.key())) {
      std::string known;
      for (const auto& k : allowed) known += (known.empty() ? "" : ", ") + k;
      throw std::invalid_argument(where + ": unknown key \"" + item.key() + "\" (known: " + known + ")");
    }
}

}  // namespace pixelwise
