#include "pixelwise/pipelines/bow_model.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <ostream>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

#include "pixelwise/pipelines/files.hpp"
#include "pixelwise/pipelines/npy.hpp"

namespace fs = std::filesystem;

namespace pixelwise {
namespace {

constexpr const char* kFormat = "pixelwise-bow-model";
constexpr int kVersion = 1;

void check_keys(const nlohmann::json& j, const std::set<std::string>& allowed, const std::string& where) {
  if (!j.is_object()) throw std::invalid_argument(where + ": must be a JSON object");
  for (const auto& item : j.items())
    if (!allowed.count(item.key())) {
      std::string known;
      for (const auto& k : allowed) known += (known.empty() ? "" : ", ") + k;
      throw std::invalid_argument(where + ": unknown key \"" + item.key() + "\" (known: " + known + ")");
    }
}

template <typename Options>
Options section(const nlohmann::json& j, const char* name, const std::set<std::string>& keys) {
  if (!j.contains(name)) return Options{};
  check_keys(j.at(name), keys, std::string("config section \"") + name + "\"");
  try {
    return j.at(name).get<Options>();
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("config section \"") + name + "\": " + e.what());
  }
}

// Runs fn(i) for i in [0, n) on all cores.
template <typename Fn>
void parallel_for(long n, Fn&& fn) {
  const long threads = std::max(1L, std::min<long>(n, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  std::exception_ptr error;
  std::mutex error_mutex;
  for (long t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      try {
        for (long i = t; i < n; i += threads) fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
      }
    });
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

std::string svm_file(int c) { return "svm-" + std::to_string(c) + ".model"; }

}  // namespace

PipelineConfig PipelineConfig::parse(const nlohmann::json& j) {
  check_keys(j, {"descriptor", "codebook", "coding", "pooling", "normalisation", "svm", "description"}, "config");
  PipelineConfig c;
  if (j.contains("descriptor")) {
    const std::string type = j.at("descriptor").value("type", "dsift");
    if (type != "dsift") throw std::invalid_argument("config section \"descriptor\": unknown type \"" + type + "\" (known: dsift)");
  }
  c.descriptor = section<DenseSiftOptions>(j, "descriptor", {"type", "step", "bin_sizes", "smoothing_magnif", "fast"});
  c.codebook = section<CodebookOptions>(j, "codebook", {"words", "training_descriptors", "seed", "max_iterations",
                                                        "search", "kdforest_trees", "kdforest_checks"});
  c.coding = section<CodingOptions>(j, "coding", {"type"});
  c.pooling = section<PoolingOptions>(j, "pooling", {"type", "pyramid"});
  c.normalisation = section<NormalisationOptions>(j, "normalisation", {"steps"});
  c.svm = section<SvmOptions>(j, "svm", {"kernel", "C", "tolerance", "cache_mb"});
  return c;
}

PipelineConfig PipelineConfig::load(const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": not valid JSON: " + e.what());
  }
  try {
    return parse(j);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

nlohmann::json PipelineConfig::to_json() const {
  return {{"descriptor", descriptor}, {"codebook", codebook},           {"coding", coding},
          {"pooling", pooling},       {"normalisation", normalisation}, {"svm", svm}};
}

BowModel::Forward BowModel::forward(const cv::Mat& gray, const std::string& what) const {
  Forward f;
  f.features = compute_dense_sift(gray, config.descriptor, what);
  Codes codes = encode(codebook, f.features, config.coding);
  f.encoding = pool(std::move(codes), assign_cells(f.features, config.pooling), config.pooling.cells(), config.pooling);
  f.encoding.histogram = normalise(f.encoding.pooled, config.normalisation);
  f.scores = svm.decisions(f.encoding.histogram);
  return f;
}

Eigen::VectorXd BowModel::histogram(const cv::Mat& gray, const std::string& what) const {
  const LocalFeatures features = compute_dense_sift(gray, config.descriptor, what);
  Codes codes = encode(codebook, features, config.coding);
  const BowEncoding e = pool(std::move(codes), assign_cells(features, config.pooling), config.pooling.cells(), config.pooling);
  return normalise(e.pooled, config.normalisation);
}

BowModel BowModel::train(const PipelineConfig& config, const Dataset& data, std::ostream* log) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  auto say = [&](const std::string& line) {
    if (log) *log << "[" << std::chrono::duration<double>(clock::now() - start).count() << " s] " << line << std::endl;
  };
  const long n = static_cast<long>(data.images.size());
  if (n == 0) throw std::runtime_error(data.spec + ": empty data set");
  if (data.classes.size() < 2) throw std::runtime_error(data.spec + ": at least two classes are needed");

  // 1. Descriptors, and a seeded sample of them for the codebook.
  say("descriptors of " + std::to_string(n) + " images");
  const long per_image = (config.codebook.training_descriptors + n - 1) / n;
  std::vector<RowMatrixXf> samples(n);
  parallel_for(n, [&](long i) {
    const ImageSample& image = data.images[i];
    const LocalFeatures f = compute_dense_sift(image.gray, config.descriptor, image.source);
    std::mt19937_64 rng(config.codebook.seed * 1000003ULL + static_cast<unsigned long long>(i));
    std::vector<long> rows(f.size());
    std::iota(rows.begin(), rows.end(), 0L);
    std::shuffle(rows.begin(), rows.end(), rng);
    rows.resize(std::min<long>(per_image, f.size()));
    std::sort(rows.begin(), rows.end());
    samples[i].resize(static_cast<long>(rows.size()), f.descriptors.cols());
    for (size_t r = 0; r < rows.size(); ++r) samples[i].row(r) = f.descriptors.row(rows[r]);
  });
  long total = 0;
  for (const auto& s : samples) total += s.rows();
  RowMatrixXf pool_of_descriptors(total, samples.front().cols());
  long row = 0;
  for (const auto& s : samples) {
    pool_of_descriptors.middleRows(row, s.rows()) = s;
    row += s.rows();
  }
  samples.clear();

  // 2. Codebook.
  say("k-means: " + std::to_string(config.codebook.words) + " words from " + std::to_string(total) + " descriptors");
  BowModel model;
  model.config = config;
  model.classes = data.classes;
  model.codebook = Codebook::train(pool_of_descriptors, config.codebook);

  // 3. Histograms.
  say("histograms");
  RowMatrixXd X(n, static_cast<long>(config.pooling.cells()) * config.codebook.words);
  std::vector<int> labels(n);
  const bool threads_safe = config.codebook.search == "exact";  // a kd-forest query is not reentrant
  auto encode_one = [&](long i) {
    X.row(i) = model.histogram(data.images[i].gray, data.images[i].source).transpose();
    labels[i] = data.images[i].label;
  };
  if (threads_safe)
    parallel_for(n, encode_one);
  else
    for (long i = 0; i < n; ++i) encode_one(i);

  // 4. One-vs-rest SVMs.
  say("SVMs: " + std::to_string(data.classes.size()) + " one-vs-rest machines, kernel " + config.svm.kernel);
  model.svm = OneVsRestSvm::train(X, labels, static_cast<int>(data.classes.size()), config.svm);
  say("done: " + std::to_string(model.svm.support_vectors().rows()) + " support vectors");
  model.training_info = {{"data", data.spec},
                         {"images", n},
                         {"codebook_descriptors", total},
                         {"seconds", std::chrono::duration<double>(clock::now() - start).count()}};
  return model;
}

void BowModel::save(const std::string& dir) const {
  const fs::path target = fs::absolute(dir).lexically_normal();
  if (fs::exists(target) && !(fs::is_directory(target) && (fs::is_empty(target) || fs::exists(target / "manifest.json"))))
    throw std::runtime_error(dir + ": exists and is not a pixelwise model directory; refusing to replace it");
  const fs::path partial = target.string() + ".partial-" + std::to_string(::getpid());
  fs::remove_all(partial);
  fs::create_directories(partial);
  try {
    std::map<std::string, std::string> files;
    files["codebook.npy"] = npy_bytes(codebook.centres());
    files["support_vectors.npy"] = npy_bytes(svm.support_vectors());
    for (int c = 0; c < svm.classes(); ++c) {
      const fs::path p = partial / svm_file(c);
      svm.save_machine(c, p.string());
      files[svm_file(c)] = read_file(p.string());
    }
    nlohmann::json manifest = {{"format", kFormat},
                               {"version", kVersion},
                               {"pipeline", config.to_json()},
                               {"classes", classes},
                               {"training", training_info}};
    for (const auto& [name, bytes] : files) {
      write_file_atomically((partial / name).string(), bytes);
      manifest["files"][name] = {{"bytes", bytes.size()}, {"crc32", crc32_of(bytes)}};
    }
    write_file_atomically((partial / "manifest.json").string(), manifest.dump(2) + "\n");
    if (fs::exists(target)) {
      const fs::path old = target.string() + ".old-" + std::to_string(::getpid());
      fs::rename(target, old);
      fs::rename(partial, target);
      fs::remove_all(old);
    } else {
      fs::rename(partial, target);
    }
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(partial, ignored);
    throw;
  }
}

BowModel BowModel::load(const std::string& dir) {
  const fs::path root(dir);
  if (!fs::is_directory(root)) throw std::runtime_error(dir + ": model directory does not exist");
  const std::string manifest_path = (root / "manifest.json").string();
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(read_file(manifest_path));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(manifest_path + ": damaged manifest (not valid JSON)");
  }
  try {
    if (manifest.value("format", "") != kFormat || manifest.value("version", 0) != kVersion)
      throw std::runtime_error("not a pixelwise BoW model of format version " + std::to_string(kVersion));
    BowModel model;
    model.config = PipelineConfig::parse(manifest.at("pipeline"));
    model.classes = manifest.at("classes").get<std::vector<std::string>>();
    model.training_info = manifest.value("training", nlohmann::json::object());
    if (model.classes.size() < 2) throw std::runtime_error("a model needs at least two classes");
    std::map<std::string, std::string> contents;
    for (const auto& [name, info] : manifest.at("files").items()) {
      if (name.find('/') != std::string::npos || name.rfind("..", 0) == 0)
        throw std::runtime_error("file name \"" + name + "\" is not a plain name");
      const std::string path = (root / name).string();
      std::string bytes = read_file(path);
      if (bytes.size() != info.at("bytes").get<size_t>() || crc32_of(bytes) != info.at("crc32").get<std::uint32_t>())
        throw std::runtime_error(path + ": damaged (size or checksum differs from the manifest)");
      contents[name] = std::move(bytes);
    }
    auto need = [&](const std::string& name) -> const std::string& {
      auto it = contents.find(name);
      if (it == contents.end()) throw std::runtime_error("the manifest lists no file " + name);
      return it->second;
    };
    model.codebook = Codebook(parse_npy_f4(need("codebook.npy"), (root / "codebook.npy").string()), model.config.codebook);
    if (model.codebook.words() != model.config.codebook.words)
      throw std::runtime_error("codebook.npy has " + std::to_string(model.codebook.words()) + " words, the config " +
                               std::to_string(model.config.codebook.words));
    RowMatrixXd sv = parse_npy_f8(need("support_vectors.npy"), (root / "support_vectors.npy").string());
    if (sv.cols() != static_cast<long>(model.config.pooling.cells()) * model.codebook.words())
      throw std::runtime_error("support_vectors.npy has the wrong dimension for this pipeline");
    std::vector<std::string> svm_paths;
    for (size_t c = 0; c < model.classes.size(); ++c) {
      need(svm_file(static_cast<int>(c)));
      svm_paths.push_back((root / svm_file(static_cast<int>(c))).string());
    }
    model.svm = OneVsRestSvm::load(parse_kernel(model.config.svm.kernel), std::move(sv), svm_paths);
    return model;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(manifest_path + ": damaged manifest (" + e.what() + ")");
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw std::runtime_error(what.rfind(dir, 0) == 0 ? what : dir + ": " + what);
  }
}

int BowModel::class_index(const std::string& name_or_index) const {
  for (size_t c = 0; c < classes.size(); ++c)
    if (classes[c] == name_or_index) return static_cast<int>(c);
  if (!name_or_index.empty() && name_or_index.size() < 6 &&
      std::all_of(name_or_index.begin(), name_or_index.end(), ::isdigit)) {
    const int c = std::stoi(name_or_index);
    if (c < static_cast<int>(classes.size())) return c;
  }
  std::string known;
  for (const auto& name : classes) known += (known.empty() ? "" : ", ") + name;
  throw std::runtime_error("class \"" + name_or_index + "\" does not exist (classes: " + known + ", or an index 0-" +
                           std::to_string(classes.size() - 1) + ")");
}

}  // namespace pixelwise
