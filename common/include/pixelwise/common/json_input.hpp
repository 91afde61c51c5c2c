#pragma once
// The one reader of JSON that comes from outside the process: configuration
// files, model manifests, evaluation.json, explanation JSON read back by
// --resume, and (through the same limits) Python dicts. Limits are documented
// in docs/errors.md, "Limits": nesting deeper than kJsonMaxDepth or text larger
// than kJsonMaxBytes is refused before the document is built, so that a
// hostile file cannot exhaust the stack of the recursive code that walks the
// document afterwards (dump, comparison, the option readers).
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

namespace pixelwise {

/// Deepest nesting of arrays and objects accepted (a top-level array is depth 1).
inline constexpr int kJsonMaxDepth = 64;
/// Largest JSON text accepted, in bytes (1 GiB).
inline constexpr std::size_t kJsonMaxBytes = std::size_t{1} << 30;

/// Parses `text`; throws std::runtime_error starting with `what` (the file or
/// argument the text came from) when it is not valid JSON, nests deeper than
/// kJsonMaxDepth or is larger than kJsonMaxBytes.
nlohmann::json parse_json_input(const std::string& text, const std::string& what);

/// Reads the file at `path` (refusing one larger than kJsonMaxBytes before
/// reading it) and parses it with parse_json_input; errors name the path.
nlohmann::json read_json_file(const std::string& path);

/// Throws std::runtime_error naming `what` when `depth` exceeds
/// kJsonMaxDepth; for converters that build a document from other nested data.
void check_json_depth(int depth, const std::string& what);

}  // namespace pixelwise
