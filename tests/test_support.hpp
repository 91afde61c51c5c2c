#pragma once
// Helpers shared by the test suites: where the reference data and the CLI are,
// scratch folders, and small models trained on real Fashion-MNIST images.
#include <Eigen/Core>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "pixelwise/pipelines/io/dataset.hpp"

namespace pixelwise::test {

/// The message of the std::exception that f() throws, or "(no error)".
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

/// A data set (load_dataset spec) read once per test program; tests run on
/// one thread, so no lock.
inline const Dataset& cached_dataset(const std::string& spec) {
  static std::map<std::string, Dataset> loaded;
  auto it = loaded.find(spec);
  if (it == loaded.end()) it = loaded.emplace(spec, load_dataset(spec)).first;
  return it->second;
}

inline std::string env_or_throw(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) throw std::runtime_error(std::string("test environment variable ") + name + " is not set (run through ctest)");
  return value;
}

inline std::string cli_binary() { return env_or_throw("PIXELWISE_BINARY"); }
inline std::string source_dir() { return env_or_throw("PIXELWISE_SOURCE_DIR"); }
/// tests/data: outputs of other implementations (lrp_toolbox/, bow_toy/), kept
/// in the repository so that a clone runs every test on its own.
inline std::string reference_dir() { return source_dir() + "/tests/data"; }
/// tests/data/format1: model directories of format version 1 and their explanations.
inline std::filesystem::path format1_fixtures() {
  return std::filesystem::path(source_dir()) / "tests" / "data" / "format1";
}

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  return nlohmann::json::parse(in);
}

/// A fresh, empty scratch folder removed when the object goes out of scope.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag) {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("pixelwise-test-" + tag + "-" + std::to_string(rd()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code;
  std::string output;
};

/// Runs a shell command and collects what it writes to standard output.
inline CommandResult run_command(const std::string& command) {
  CommandResult result{0, ""};
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + command);
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

/// Runs the pixelwise CLI with the given arguments (already shell-quoted where
/// needed); output holds stdout and stderr together.
inline CommandResult run_cli(const std::string& arguments) {
  return run_command("\"" + cli_binary() + "\" " + arguments + " 2>&1");
}

/// Three separable-ish clusters of L1-normalised 6-bin histograms (class c is
/// heavy on bins 2c and 2c + 1; one value in five is zero), seeded.
inline void clustered_histograms(Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>& X,
                                 std::vector<int>& y, int per_class, unsigned seed) {
  std::mt19937 rng(seed);
  std::gamma_distribution<double> gamma(1.0);
  X.resize(3 * per_class, 6);
  y.clear();
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < per_class; ++i) {
      const long r = c * per_class + i;
      for (int d = 0; d < 6; ++d) X(r, d) = gamma(rng) * ((d / 2 == c) ? 8.0 : 1.0) * (rng() % 5 == 0 ? 0.0 : 1.0);
      X.row(r) /= std::max(1e-12, X.row(r).sum());
      y.push_back(c);
    }
}

/// A matrix of i.i.d. uniform values in [lo, hi).
inline Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> random_matrix(long rows, long cols,
                                                                                           std::mt19937_64& rng,
                                                                                           double lo = -1,
                                                                                           double hi = 1) {
  std::uniform_real_distribution<double> u(lo, hi);
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> m(rows, cols);
  for (long i = 0; i < m.size(); ++i) m.data()[i] = u(rng);
  return m;
}

}  // namespace pixelwise::test
