#pragma once
// Batch runs over many images (docs/cluster.md): image lists,
// deterministic shards for job arrays, resumable output folders, and threads
// over images with a progress bar on a terminal.
#include <iosfwd>
#include <mutex>
#include <string>
#include <vector>

#include "pixelwise/common/parallel.hpp"  // for_each_parallel over images

namespace pixelwise {

/// Shard K of N, written "K/N" with 1 <= K <= N: the items at positions
/// p = 0, 1, ... of a list with p mod N = K - 1. The N shards of a list are
/// disjoint, cover it, differ in size by at most one, and depend only on the
/// list's order.
struct Shard {
  int index = 1, count = 1;
  /// Throws std::invalid_argument naming the text when it is not K/N.
  static Shard parse(const std::string& text);
  bool owns(long position) const { return position % count == index - 1; }
  std::vector<std::string> select(const std::vector<std::string>& items) const;
  std::string str() const { return std::to_string(index) + "/" + std::to_string(count); }
};

/// A list of image references, one a line; surrounding blanks are trimmed,
/// blank lines and lines starting with '#' are skipped. Throws naming the file.
std::vector<std::string> read_reference_list(const std::string& path);

/// Whether DIR/NAME.json, which an explanation writes last, parses and lists
/// in "files" (suffix -> {"bytes", "crc32"}) NAME.npy, NAME.png and any other
/// file of the image, each present with that size and CRC-32: a finished
/// image, also after a crash of the machine left some file short.
bool explanation_complete(const std::string& dir, const std::string& name);

/// Progress of a batch: a bar on standard error redrawn in place when that is
/// a terminal, nothing otherwise (logs of cluster jobs stay clean).
/// Thread-safe.
class Progress {
 public:
  Progress(long total, std::string label);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  /// Writes one line (without its newline) to `out`, keeping the bar below it.
  void print(std::ostream& out, const std::string& line);
  void advance();
  bool shown() const { return shown_; }

 private:
  void draw();  // with mutex_ held
  std::mutex mutex_;
  long total_, done_ = 0;
  std::string label_;
  bool shown_;
  double started_;
};


}  // namespace pixelwise
