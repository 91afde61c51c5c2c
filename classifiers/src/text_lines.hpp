#pragma once
// Line and token splitting for the strict readers of outside text formats
// (libsvm model files, LRP Toolbox networks); private to classifiers/src.
#include <string>
#include <vector>

namespace pixelwise::text {

/// The lines of `text` without their '\n' or "\r\n" ends.
inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    start = end + 1;
  }
  return lines;
}

/// The tokens of a line separated by blanks (spaces and tabs); any other
/// character, a stray '\r' included, belongs to a token, so a reader that
/// parses the token as a number rejects it.
inline std::vector<std::string> tokens_of(const std::string& line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

}  // namespace pixelwise::text
