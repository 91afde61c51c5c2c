#include "pixelwise/pipelines/bow_model.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <random>
#include <set>
#include <stdexcept>

#include "pixelwise/classifiers/parallel.hpp"
#include "pixelwise/pipelines/files.hpp"
#include "pixelwise/pipelines/npy.hpp"

namespace fs = std::filesystem;

namespace pixelwise {
namespace {

constexpr const char* kFormat = "pixelwise-bow-model";
constexpr int kVersion = 1;

const std::set<std::string> kTopLevelKeys{"descriptor", "codebook", "coding", "pooling", "normalisation", "svm",
                                          "network", "description", "channels", "combine"};

std::string svm_file(int c) { return "svm-" + std::to_string(c) + ".model"; }
constexpr const char* kOneVsOneFile = "svm-ovo.model";
constexpr const char* kNetworkFile = "network.txt";
constexpr const char* kMappedSvmFile = "mapped_svm.npy";
// Channel 0 keeps the single-channel name codebook.npy.
std::string codebook_file(size_t channel) {
  return channel == 0 ? "codebook.npy" : "codebook-" + std::to_string(channel) + ".npy";
}

}  // namespace

namespace {

// svm.feature_map (docs/config.md): the map's order and period and the SDCA
// solver's settings; kernel and C come from the svm section.
PipelineConfig::FeatureMap parse_feature_map(const nlohmann::json& j, const PipelineConfig& c) {
  const std::string where = "config section \"svm\": feature_map";
  check_keys(j, {"order", "period", "epsilon", "max_passes", "seed"}, where);
  PipelineConfig::FeatureMap f;
  try {
    f.map.kernel = c.svm.kernel;
    f.map.order = j.value("order", f.map.order);
    f.map.period = j.value("period", f.map.period);
    f.solver.C = c.svm.C;
    f.solver.epsilon = j.value("epsilon", f.solver.epsilon);
    f.solver.max_passes = j.value("max_passes", f.solver.max_passes);
    f.solver.seed = j.value("seed", f.solver.seed);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(where + ": " + e.what());
  }
  if (c.svm.kernel != "hik" && c.svm.kernel != "chi2")
    throw std::invalid_argument(where + ": homogeneous kernel maps exist for the hik and chi2 kernels, not " + c.svm.kernel);
  if (c.multiclass != Multiclass::one_vs_rest)
    throw std::invalid_argument(where + ": kernel-map SVMs are one_vs_rest, not " + name_of(c.multiclass));
  try {
    f.map.validate();
    f.solver.validate();
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(where + ": " + e.what());
  }
  return f;
}

}  // namespace

const EnumNames<Multiclass>& enum_names(Multiclass) {
  static const EnumNames<Multiclass> names{{Multiclass::one_vs_rest, "one_vs_rest"}, {Multiclass::one_vs_one, "one_vs_one"}};
  return names;
}

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
    check_keys(j.at("svm"),
               {"kernel", "C", "tolerance", "cache_mb", "multiclass", "gamma", "degree", "coef0", "feature_map"}, where);
    try {
      nlohmann::json options = j.at("svm");
      options.erase("feature_map");
      c.svm = options.get<SvmOptions>();
      if (j.at("svm").contains("multiclass"))
        c.multiclass = enum_names(c.multiclass).read(j.at("svm").at("multiclass"), "multiclass", where);
    } catch (const nlohmann::json::exception& e) {
      throw std::invalid_argument(where + ": " + e.what());
    }
    if (j.at("svm").contains("feature_map")) c.feature_map = parse_feature_map(j.at("svm").at("feature_map"), c);
    if (c.multiclass == Multiclass::one_vs_one && !is_additive(parse_kernel(c.svm.kernel)))
      throw std::invalid_argument(where + ": one_vs_one models take an additive kernel (linear, hik, chi2, hellinger), not " +
                                  c.svm.kernel);
  }
  if (j.contains("combine")) c.combine = enum_names(c.combine).read(j.at("combine"), "combine", "config");
  if (c.combine == Combine::sum_of_kernels && !is_additive(parse_kernel(c.svm.kernel)))
    throw std::invalid_argument("config: combine \"sum_of_kernels\" weights additive kernels (linear, hik, chi2, "
                                "hellinger), not " + c.svm.kernel);
  if (c.feature_map && c.combine != Combine::concatenate)
    throw std::invalid_argument("config: combine \"" + name_of(c.combine) +
                                "\" weights kernels; a kernel-map SVM (svm.feature_map) takes \"concatenate\"");
  if (j.contains("network")) {
    if (j.contains("svm"))
      throw std::invalid_argument("config: sections \"svm\" and \"network\" name two classifiers; give one of them");
    c.network = parse_network_section(j.at("network"), "config section \"network\"");
    if (c.combine != Combine::concatenate)
      throw std::invalid_argument("config: combine \"" + name_of(c.combine) +
                                  "\" weights kernels; a network classifier takes \"concatenate\"");
  }
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

std::optional<std::pair<double, double>> PipelineConfig::histogram_bounds() const {
  if (normalisation.steps.empty()) return std::nullopt;
  return std::make_pair(0.0, 1.0);
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
  nlohmann::json j = {{"descriptor", descriptor}, {"codebook", codebook},           {"coding", coding},
                      {"pooling", pooling},       {"normalisation", normalisation}, {"combine", name_of(combine)}};
  if (network) {
    j["network"] = network_section_json(*network);
  } else {
    j["svm"] = svm;
    j["svm"]["multiclass"] = name_of(multiclass);
    if (feature_map)
      j["svm"]["feature_map"] = {{"order", feature_map->map.order},        {"period", feature_map->map.period},
                                 {"epsilon", feature_map->solver.epsilon}, {"max_passes", feature_map->solver.max_passes},
                                 {"seed", feature_map->solver.seed}};
  }
  if (!channels.empty()) j["channels"] = channel_list_json(channels, combine);
  return j;
}

BowModel::Forward BowModel::forward(const cv::Mat& image, const std::string& what) const {
  Forward f;
  // (The kernel only matters to "sum_of_kernels", which a network does not take.)
  f.encoding = encode_image(channels, codebooks, config.combine, config.normalisation,
                            config.network || mapped_svm ? parse_kernel(config.svm.kernel) : svm.kernel(), image, what);
  if (config.network) {
    // The network's pre-softmax outputs (DESIGN.md 1.7).
    f.scores = network.scores(f.encoding.histogram.transpose(), histogram_shape()).row(0).transpose();
    return f;
  }
  // A kernel map: w_c . psi(x) + b_c, split over the bins in the same pass.
  if (mapped_svm) {
    f.svm_pass = mapped_svm->evaluate(f.encoding.histogram);
    f.scores = f.svm_pass.scores;
    return f;
  }
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

long BowModel::dimension() const {
  long d = 0;
  for (const auto& channel : channels) d += channel.dimension();
  return d;
}

void BowModel::check_class(int c) const {
  if (c < 0 || c >= static_cast<int>(classes.size()))
    throw std::out_of_range("class index " + std::to_string(c) + " out of range (model has " +
                            std::to_string(classes.size()) + " classes)");
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
    for_each_parallel(n, 0, [&](long i) {
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
  for (const auto& channel : model.channels) threads_safe = threads_safe && channel.codebook.search == CodebookSearch::exact;
  auto encode_one = [&](long i) {
    X.row(i) = model.histogram(model.input(data.images[i]), data.images[i].source).transpose();
    labels[i] = data.images[i].label;
  };
  if (threads_safe)
    for_each_parallel(n, 0, encode_one);
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

  const int k = static_cast<int>(data.classes.size());
  model.training_info = {{"data", data.spec}, {"images", n}, {"codebook_descriptors", total}};
  // A classifier without a libsvm report: its accuracy on the training set, and the time.
  auto finish = [&](const std::vector<int>& predicted) {
    long correct = 0;
    for (long i = 0; i < n; ++i) correct += predicted[i] == labels[i];
    model.training_info["training_accuracy"] = static_cast<double>(correct) / static_cast<double>(n);
    say("done: training accuracy " + std::to_string(model.training_info["training_accuracy"].get<double>()));
    model.training_info["seconds"] = std::chrono::duration<double>(clock::now() - start).count();
  };
  if (config.network) {
    // 4. An MLP on the histograms (DESIGN.md 1.7), seeded like `pixelwise train-network`.
    const NetworkTrainingConfig& net = *config.network;
    say("network: hidden " + nlohmann::json(net.hidden).dump() + ", " + name_of(net.activation) + ", " +
        name_of(net.training.optimizer) + ", " + std::to_string(net.training.epochs) + " epochs on " +
        std::to_string(dimension) + "-D histograms");
    model.network = make_mlp(static_cast<int>(dimension), net.hidden, k, layer_kind(net.activation),
                             net.training.seed);
    const TrainingHistory history = train_classifier(model.network, X, model.histogram_shape(), labels, net.training, log);
    model.training_info["final_loss"] = history.loss.back();
    finish(predict_classes(model.network, X, model.histogram_shape()));
    return model;
  }
  if (config.feature_map) {
    // 4. Linear SVMs on the homogeneous kernel map: no kernel matrix (homkermap_svm.hpp).
    const PipelineConfig::FeatureMap& fm = *config.feature_map;
    say("linear SVMs on the order-" + std::to_string(fm.map.order) + " " + fm.map.kernel + " kernel map: " +
        std::to_string(k) + " classes, " + std::to_string(n) + " histograms of " + std::to_string(dimension) + " bins");
    model.mapped_svm = MappedLinearSvm::train(X, labels, k, fm.map, fm.solver);
    std::vector<int> predicted(n);
    for (long i = 0; i < n; ++i) model.mapped_svm->decisions(X.row(i).transpose()).maxCoeff(&predicted[i]);
    finish(predicted);
    return model;
  }
  // 4. SVMs: one-vs-rest machines, or libsvm's one-vs-one model whose summed
  // pairwise machines give the class scores.
  say("SVMs: " + name_of(config.multiclass) + ", " + std::to_string(k) + " classes, kernel " + config.svm.kernel);
  if (config.multiclass == Multiclass::one_vs_one) {
    model.pairwise = OneVsOneSvm::train(X, labels, k, config.svm);
    model.svm = model.pairwise.summed_machines();
  } else {
    model.svm = OneVsRestSvm::train(X, labels, k, config.svm);
  }
  say("done: " + std::to_string(model.svm.support_vectors().rows()) + " support vectors");
  // A gamma set by the "mean" rule is stored, so that the model reloads exactly.
  if (model.svm.kernel_function().uses_gamma()) model.config.svm.gamma = model.svm.kernel_function().gamma;
  model.training_info["seconds"] = std::chrono::duration<double>(clock::now() - start).count();
  return model;
}

void BowModel::save(const std::string& dir) const {
  write_folder_atomically(dir, "manifest.json", "pixelwise model directory", [&](const fs::path& partial) {
    std::map<std::string, std::string> files;
    for (size_t ch = 0; ch < codebooks.size(); ++ch) files[codebook_file(ch)] = npy_bytes(codebooks[ch].centres());
    if (class_means.size() > 0) files["class_means.npy"] = npy_bytes(class_means);
    if (!config.network && !mapped_svm) files["support_vectors.npy"] = npy_bytes(svm.support_vectors());
    if (config.network) {
      files[kNetworkFile] = network.toolbox_text();
    } else if (mapped_svm) {
      RowMatrixXd table(mapped_svm->classes(), mapped_svm->weights().cols() + 1);
      table << mapped_svm->weights(), mapped_svm->bias();
      files[kMappedSvmFile] = npy_bytes(table);
    } else if (config.multiclass == Multiclass::one_vs_one) {
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
  });
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
    if (model.config.network) {
      const std::string path = (root / kNetworkFile).string();
      model.network = Network::parse_toolbox(need(kNetworkFile), path);
      long outputs = 0;
      try {
        outputs = model.network.shapes(model.histogram_shape()).back().size();
      } catch (const std::invalid_argument& e) {
        throw std::runtime_error(path + ": the network cannot take the pipeline's " + std::to_string(dimension) +
                                 "-D histograms: " + e.what());
      }
      if (outputs != k)
        throw std::runtime_error(path + ": the network has " + std::to_string(outputs) + " outputs for " +
                                 std::to_string(k) + " classes");
      return model;
    }
    if (model.config.feature_map) {
      const std::string path = (root / kMappedSvmFile).string();
      const RowMatrixXd table = parse_npy_f8(need(kMappedSvmFile), path);
      const FeatureMapOptions& map = model.config.feature_map->map;
      const long columns = dimension * (2 * map.order + 1) + 1;
      if (table.rows() != k || table.cols() != columns)
        throw std::runtime_error(path + ": " + std::to_string(table.rows()) + " x " + std::to_string(table.cols()) +
                                 ", the pipeline needs " + std::to_string(k) + " x " + std::to_string(columns) +
                                 " (a row of weights and the bias per class)");
      try {
        model.mapped_svm = MappedLinearSvm(map, table.leftCols(columns - 1), table.col(columns - 1));
      } catch (const std::invalid_argument& e) {
        throw std::runtime_error(path + ": " + e.what());
      }
      return model;
    }
    RowMatrixXd sv = parse_npy_f8(need("support_vectors.npy"), (root / "support_vectors.npy").string());
    if (sv.cols() != dimension)
      throw std::runtime_error("support_vectors.npy has the wrong dimension for this pipeline");
    const Kernel kernel = model.config.svm.kernel_function();
    if (model.config.multiclass == Multiclass::one_vs_one) {
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
