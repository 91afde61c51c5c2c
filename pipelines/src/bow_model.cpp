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

const std::set<std::string> kTopLevelKeys{"descriptor", "codebook", "coding", "pooling", "normalisation", "svm",
                                          "description", "channels", "combine"};

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
constexpr const char* kOneVsOneFile = "svm-ovo.model";
// Channel 0 keeps the single-channel name codebook.npy.
std::string codebook_file(size_t channel) {
  return channel == 0 ? "codebook.npy" : "codebook-" + std::to_string(channel) + ".npy";
}

}  // namespace

PipelineConfig PipelineConfig::parse(const nlohmann::json& j) {
  check_keys(j, kTopLevelKeys, "config");
  PipelineConfig c;
  // Top-level sections over the defaults; they are also what every channel starts from.
  const ChannelConfig top = parse_channel_sections(j, ChannelConfig{}, "config");
  c.descriptor = top.descriptor;
  c.codebook = top.codebook;
  c.coding = top.coding;
  c.pooling = top.pooling;
  c.normalisation = top.normalisation;
  if (j.contains("svm")) {
    const std::string where = "config section \"svm\"";
    check_keys(j.at("svm"), {"kernel", "C", "tolerance", "cache_mb", "multiclass", "gamma", "degree", "coef0"}, where);
    try {
      c.svm = j.at("svm").get<SvmOptions>();
      c.multiclass = j.at("svm").value("multiclass", c.multiclass);
    } catch (const nlohmann::json::exception& e) {
      throw std::invalid_argument(where + ": " + e.what());
    }
    if (c.multiclass != "one_vs_rest" && c.multiclass != "one_vs_one")
      throw std::invalid_argument(where + ": multiclass must be \"one_vs_rest\" or \"one_vs_one\", got \"" +
                                  c.multiclass + "\"");
    if (c.multiclass == "one_vs_one" && !is_additive(parse_kernel(c.svm.kernel)))
      throw std::invalid_argument(where + ": one_vs_one models take an additive kernel (linear, hik, chi2, hellinger), not " +
                                  c.svm.kernel);
  }
  try {
    c.combine = j.value("combine", c.combine);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("config: combine: ") + e.what());
  }
  check_combine(c.combine);
  if (c.combine == "sum_of_kernels" && !is_additive(parse_kernel(c.svm.kernel)))
    throw std::invalid_argument("config: combine \"sum_of_kernels\" weights additive kernels (linear, hik, chi2, "
                                "hellinger), not " + c.svm.kernel);
  if (j.contains("channels")) c.channels = parse_channel_list(j.at("channels"), top, c.combine);
  c.channel_list();  // checks the expanded channels (unique names)
  return c;
}

std::vector<ChannelConfig> PipelineConfig::channel_list() const {
  if (!channels.empty()) return expand_channels(channels);
  ChannelConfig single;
  single.descriptor = descriptor;
  single.codebook = codebook;
  single.coding = coding;
  single.pooling = pooling;
  single.normalisation = normalisation;
  return expand_channels({single});
}

bool PipelineConfig::uses_colour() const {
  for (const auto& c : channel_list())
    if (c.uses_colour()) return true;
  return false;
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
  nlohmann::json svm_json = svm;
  svm_json["multiclass"] = multiclass;
  nlohmann::json j = {{"descriptor", descriptor}, {"codebook", codebook},           {"coding", coding},
                      {"pooling", pooling},       {"normalisation", normalisation}, {"svm", svm_json},
                      {"combine", combine}};
  if (!channels.empty()) j["channels"] = channel_list_json(channels, combine);
  return j;
}

BowModel::Forward BowModel::forward(const cv::Mat& image, const std::string& what) const {
  Forward f;
  f.encoding = encode_image(channels, codebooks, config.combine, config.normalisation, svm.kernel(), image, what);
  // Additive kernels: per-dimension tables, one pass for the scores and the
  // bin terms an explanation needs (additive_tables.hpp; equal to the direct
  // kernel sum up to rounding).
  if (svm.kernel_function().additive()) {
    f.svm_pass = svm.evaluate_additive(f.encoding.histogram);
    f.scores = f.svm_pass.scores;
  } else {
    f.scores = svm.decisions(f.encoding.histogram);
  }
  return f;
}

Eigen::VectorXd BowModel::histogram(const cv::Mat& image, const std::string& what) const {
  return encode_image(channels, codebooks, config.combine, config.normalisation, parse_kernel(config.svm.kernel), image,
                      what)
      .histogram;
}

const cv::Mat& BowModel::input(const ImageSample& sample) const {
  return config.uses_colour() && !sample.colour.empty() ? sample.colour : sample.gray;
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

  BowModel model;
  model.config = config;
  model.classes = data.classes;
  model.channels = config.channel_list();
  long total = 0;
  for (size_t ch = 0; ch < model.channels.size(); ++ch) {
    const ChannelConfig& channel = model.channels[ch];
    // 1. Descriptors, and a seeded sample of them for the channel's codebook.
    say("channel " + channel.name + ": descriptors of " + std::to_string(n) + " images");
    const long per_image = (channel.codebook.training_descriptors + n - 1) / n;
    std::vector<RowMatrixXf> samples(n);
    parallel_for(n, [&](long i) {
      const ImageSample& image = data.images[i];
      const LocalFeatures f = channel_features(channel, model.input(image), image.source);
      std::mt19937_64 rng(channel.codebook.seed * 1000003ULL + static_cast<unsigned long long>(i));
      std::vector<long> rows(f.size());
      std::iota(rows.begin(), rows.end(), 0L);
      std::shuffle(rows.begin(), rows.end(), rng);
      rows.resize(std::min<long>(per_image, f.size()));
      std::sort(rows.begin(), rows.end());
      samples[i].resize(static_cast<long>(rows.size()), channel.descriptor.dimension());
      for (size_t r = 0; r < rows.size(); ++r) samples[i].row(r) = f.descriptors.row(rows[r]);
    });
    long count = 0;
    for (const auto& s : samples) count += s.rows();
    RowMatrixXf pool_of_descriptors(count, channel.descriptor.dimension());
    long row = 0;
    for (const auto& s : samples) {
      pool_of_descriptors.middleRows(row, s.rows()) = s;
      row += s.rows();
    }
    samples.clear();
    total += count;

    // 2. Codebook.
    say("channel " + channel.name + ": k-means, " + std::to_string(channel.codebook.words) + " words from " +
        std::to_string(count) + " descriptors");
    model.codebooks.push_back(Codebook::train(pool_of_descriptors, channel.codebook));
  }

  // 3. Histograms.
  say("histograms");
  long dimension = 0;
  for (const auto& channel : model.channels) dimension += channel.dimension();
  RowMatrixXd X(n, dimension);
  std::vector<int> labels(n);
  bool threads_safe = true;  // a kd-forest query is not reentrant
  for (const auto& channel : model.channels) threads_safe = threads_safe && channel.codebook.search == "exact";
  auto encode_one = [&](long i) {
    X.row(i) = model.histogram(model.input(data.images[i]), data.images[i].source).transpose();
    labels[i] = data.images[i].label;
  };
  if (threads_safe)
    parallel_for(n, encode_one);
  else
    for (long i = 0; i < n; ++i) encode_one(i);
  // Class means, reference points of the Taylor decomposition.
  model.class_means = RowMatrixXd::Zero(static_cast<long>(data.classes.size()), dimension);
  model.class_counts.assign(data.classes.size(), 0);
  for (long i = 0; i < n; ++i) {
    model.class_means.row(labels[i]) += X.row(i);
    ++model.class_counts[labels[i]];
  }
  for (size_t c = 0; c < data.classes.size(); ++c)
    if (model.class_counts[c] > 0) model.class_means.row(c) /= static_cast<double>(model.class_counts[c]);

  // 4. SVMs: one-vs-rest machines, or libsvm's one-vs-one model whose summed
  // pairwise machines give the class scores.
  const int k = static_cast<int>(data.classes.size());
  say("SVMs: " + config.multiclass + ", " + std::to_string(k) + " classes, kernel " + config.svm.kernel);
  if (config.multiclass == "one_vs_one") {
    model.pairwise = OneVsOneSvm::train(X, labels, k, config.svm);
    model.svm = model.pairwise.summed_machines();
  } else {
    model.svm = OneVsRestSvm::train(X, labels, k, config.svm);
  }
  say("done: " + std::to_string(model.svm.support_vectors().rows()) + " support vectors");
  // A gamma set by the "mean" rule is stored, so that the model reloads exactly.
  if (model.svm.kernel_function().uses_gamma()) model.config.svm.gamma = model.svm.kernel_function().gamma;
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
    for (size_t ch = 0; ch < codebooks.size(); ++ch) files[codebook_file(ch)] = npy_bytes(codebooks[ch].centres());
    files["support_vectors.npy"] = npy_bytes(svm.support_vectors());
    if (class_means.size() > 0) files["class_means.npy"] = npy_bytes(class_means);
    if (config.multiclass == "one_vs_one") {
      const fs::path p = partial / kOneVsOneFile;
      pairwise.save(p.string());
      files[kOneVsOneFile] = read_file(p.string());
    } else {
      for (int c = 0; c < svm.classes(); ++c) {
        const fs::path p = partial / svm_file(c);
        svm.save_machine(c, p.string());
        files[svm_file(c)] = read_file(p.string());
      }
    }
    nlohmann::json manifest = {{"format", kFormat},
                               {"version", kVersion},
                               {"pipeline", config.to_json()},
                               {"classes", classes},
                               {"training", training_info}};
    if (class_means.size() > 0) manifest["class_counts"] = class_counts;
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
    model.channels = model.config.channel_list();
    long dimension = 0;
    for (size_t ch = 0; ch < model.channels.size(); ++ch) {
      const ChannelConfig& channel = model.channels[ch];
      const std::string name = codebook_file(ch), path = (root / name).string();
      model.codebooks.emplace_back(parse_npy_f4(need(name), path), channel.codebook);
      const Codebook& codebook = model.codebooks.back();
      if (codebook.words() != channel.codebook.words || codebook.dimension() != channel.descriptor.dimension())
        throw std::runtime_error(path + ": " + std::to_string(codebook.words()) + " words of dimension " +
                                 std::to_string(codebook.dimension()) + ", channel " + channel.name + " needs " +
                                 std::to_string(channel.codebook.words) + " of dimension " +
                                 std::to_string(channel.descriptor.dimension()));
      dimension += channel.dimension();
    }
    RowMatrixXd sv = parse_npy_f8(need("support_vectors.npy"), (root / "support_vectors.npy").string());
    if (sv.cols() != dimension)
      throw std::runtime_error("support_vectors.npy has the wrong dimension for this pipeline");
    const Kernel kernel = model.config.svm.kernel_function();
    const int k = static_cast<int>(model.classes.size());
    if (contents.count("class_means.npy")) {
      const std::string path = (root / "class_means.npy").string();
      model.class_means = parse_npy_f8(contents.at("class_means.npy"), path);
      model.class_counts = manifest.at("class_counts").get<std::vector<long>>();
      if (model.class_means.rows() != k || model.class_means.cols() != dimension ||
          static_cast<int>(model.class_counts.size()) != k)
        throw std::runtime_error(path + ": needs one row of dimension " + std::to_string(dimension) +
                                 " and one class count per class");
    }
    if (model.config.multiclass == "one_vs_one") {
      need(kOneVsOneFile);
      model.pairwise = OneVsOneSvm::load(kernel.type, std::move(sv), k, (root / kOneVsOneFile).string());
      model.svm = model.pairwise.summed_machines();
    } else {
      std::vector<std::string> svm_paths;
      for (int c = 0; c < k; ++c) {
        need(svm_file(c));
        svm_paths.push_back((root / svm_file(c)).string());
      }
      model.svm = OneVsRestSvm::load(kernel, std::move(sv), svm_paths);
    }
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
