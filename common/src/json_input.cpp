#include "pixelwise/common/json_input.hpp"

#include <filesystem>
#include <stdexcept>

#include "pixelwise/common/files.hpp"

namespace pixelwise {
namespace {

// Nesting depth of the text, counted without building anything: brackets
// inside strings (with their escapes) do not count. Stops at the first level
// beyond the limit, so a 100000-deep array costs 65 characters of work.
void check_depth(const std::string& text, const std::string& what) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      check_json_depth(++depth, what);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

}  // namespace

void check_json_depth(int depth, const std::string& what) {
  if (depth > kJsonMaxDepth)
    throw std::runtime_error(what + ": JSON nested deeper than " + std::to_string(kJsonMaxDepth) +
                             " levels of arrays and objects (the limit of docs/errors.md, \"Limits\")");
}

nlohmann::json parse_json_input(const std::string& text, const std::string& what) {
  if (text.size() > kJsonMaxBytes)
    throw std::runtime_error(what + ": JSON text of " + std::to_string(text.size()) + " bytes is larger than " +
                             std::to_string(kJsonMaxBytes) + " (the limit of docs/errors.md, \"Limits\")");
  check_depth(text, what);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(what + ": not valid JSON (" + e.what() + ")");
  }
}

nlohmann::json read_json_file(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (!error && size > kJsonMaxBytes)
    throw std::runtime_error(path + ": JSON file of " + std::to_string(size) + " bytes is larger than " +
                             std::to_string(kJsonMaxBytes) + " (the limit of docs/errors.md, \"Limits\")");
  return parse_json_input(read_file(path), path);
}

}  // namespace pixelwise
