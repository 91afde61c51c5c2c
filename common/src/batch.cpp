#include "pixelwise/common/batch.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <stdexcept>
#include <thread>

#include "pixelwise/common/files.hpp"
#include "pixelwise/common/json_input.hpp"

namespace fs = std::filesystem;

namespace pixelwise {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool whole_number(const std::string& s) {
  return !s.empty() && s.size() <= 9 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Shard Shard::parse(const std::string& text) {
  const size_t slash = text.find('/');
  const std::string k = text.substr(0, slash), n = slash == std::string::npos ? "" : text.substr(slash + 1);
  if (slash == std::string::npos || !whole_number(k) || !whole_number(n))
    throw std::invalid_argument("shard \"" + text + "\": expected K/N, e.g. 3/8 for the third of eight shards");
  Shard s;
  s.index = std::stoi(k);
  s.count = std::stoi(n);
  if (s.count < 1 || s.index < 1 || s.index > s.count)
    throw std::invalid_argument("shard \"" + text + "\": K must be between 1 and N");
  return s;
}

std::vector<std::string> Shard::select(const std::vector<std::string>& items) const {
  std::vector<std::string> out;
  for (size_t p = 0; p < items.size(); ++p)
    if (owns(static_cast<long>(p))) out.push_back(items[p]);
  return out;
}

std::vector<std::string> read_reference_list(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open the image list (missing or unreadable)");
  std::vector<std::string> references;
  std::string line;
  while (std::getline(in, line)) {
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    const size_t last = line.find_last_not_of(" \t\r");
    references.push_back(line.substr(first, last - first + 1));
  }
  if (in.bad()) throw std::runtime_error(path + ": read failed");
  return references;
}

bool explanation_complete(const std::string& dir, const std::string& name) {
  const fs::path stem = fs::path(dir) / name;
  try {
    const std::string json_path = stem.string() + ".json";
    if (!fs::is_regular_file(json_path)) return false;
    const nlohmann::json record = parse_json_input(read_file(json_path), json_path);
    const auto files = record.find("files");
    if (files == record.end() || !files->is_object() || !files->contains(".npy") || !files->contains(".png"))
      return false;
    for (const auto& [suffix, expected] : files->items()) {
      const std::string path = stem.string() + suffix;
      if (!fs::is_regular_file(path)) return false;
      const std::string bytes = read_file(path);
      if (expected.at("bytes").get<std::size_t>() != bytes.size() ||
          expected.at("crc32").get<std::string>() != crc32_hex(crc32_of(bytes)))
        return false;
    }
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

Progress::Progress(long total, std::string label)
    : total_(total), label_(std::move(label)), shown_(::isatty(STDERR_FILENO) == 1 && total > 0), started_(now_seconds()) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (shown_) draw();
}

Progress::~Progress() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (shown_) std::fputs("\n", stderr);
}

void Progress::draw() {
  constexpr int width = 30;
  const int filled = total_ > 0 ? static_cast<int>(width * done_ / total_) : width;
  const double elapsed = now_seconds() - started_;
  const double rate = elapsed > 0 ? done_ / elapsed : 0;
  std::string eta = "?";
  if (rate > 0) eta = std::to_string(static_cast<long>((total_ - done_) / rate + 0.5)) + " s";
  std::fprintf(stderr, "\r%s [%s%s] %ld/%ld  %.2f images/s  eta %s   ", label_.c_str(), std::string(filled, '#').c_str(),
               std::string(width - filled, '.').c_str(), done_, total_, rate, eta.c_str());
  std::fflush(stderr);
}

void Progress::print(std::ostream& out, const std::string& line) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (shown_) std::fputs("\r\033[K", stderr);  // clear the bar's line
  out << line << "\n" << std::flush;
  if (shown_) draw();
}

void Progress::advance() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++done_;
  if (shown_) draw();
}


}  // namespace pixelwise
