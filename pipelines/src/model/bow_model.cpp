#include "pixelwise/pipelines/model/bow_model.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>
#include <random>
#include <set>
#include <stdexcept>

#include "pixelwise/common/errors.hpp"
#include "pixelwise/common/parallel.hpp"
#include "pixelwise/common/files.hpp"
#include "pixelwise/common/json_input.hpp"
#include "pixelwise/common/manifest_file.hpp"
#include "pixelwise/pipelines/io/npy.hpp"

namespace fs = std::filesystem;

namespace pixelwise {
namespace {

constexpr const char* kFormat = "pixelwise-bow-model";
constexpr int kVersion = 1;

// The top-level sections: the pipeline's and every registered classifier kind's.
std::set<std::string> top_level_keys() {
  std::set<std::string> keys{"descriptor", "codebook", "coding",   "pooling", "normalisation",
                             "mapping",    "gmm",      "pca",      "channels", "combine", "description",
                             "input"};
  for (const auto& kind : classifier_kinds()) keys.insert(kind.section);
  return keys;
}

// Channel 0 keeps the single-channel name codebook.npy.
std::string codebook_file(size_t channel) {
  return channel == 0 ? "codebook.npy" : "codebook-" + std::to_string(channel) + ".npy";
}
// gmm_priors.npy, gmm_means.npy, gmm_variances.npy (with "-<i>" for channel i >= 1).
std::string gmm_file(const std::string& part, size_t channel) {
  return "gmm_" + part + (channel == 0 ? "" : "-" + std::to_string(channel)) + ".npy";
}
// pca_mean.npy, pca_projection.npy (with "-<i>" for channel i >= 1).
std::string pca_file(const std::string& part, size_t channel) {
  return "pca_" + part + (channel == 0 ? "" : "-" + std::to_string(channel)) + ".npy";
}

}  // namespace


PipelineConfig PipelineConfig::parse(const nlohmann::json& j) {
  check_keys(j, top_level_keys(), "config");
  PipelineConfig c;
  // Top-level sections over the defaults; they are also what every channel starts from.
  const ChannelConfig top = parse_channel_sections(j, ChannelConfig{}, "config");
  c.descriptor = top.descriptor;
  c.codebook = top.codebook;
  c.coding = top.coding;
  c.pooling = top.pooling;
  c.normalisation = top.normalisation;
  c.mapping = top.mapping;
  c.gmm = top.gmm;
  c.pca = top.pca;
  c.classifier = parse_classifier_section(j);
  if (j.contains("input")) c.input = j.at("input").get<InputOptions>();
  if (j.contains("combine")) c.combine = enum_names(c.combine).read(j.at("combine"), "combine", "config");
  c.classifier->check_combine(c.combine);
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
  single.mapping = mapping;
  single.gmm = gmm;
  single.pca = pca;
  return expand_channels({single});
}

std::optional<std::pair<double, double>> PipelineConfig::histogram_bounds() const {
  if (normalisation.steps.empty()) return std::nullopt;
  // Fisher vectors and VLAD are signed (docs/design.md 1.8): no [0, 1] bounds.
  for (const auto& c : channel_list())
    if (c.mapping.type != MappingType::histogram) return std::nullopt;
  return std::make_pair(0.0, 1.0);
}

bool PipelineConfig::uses_colour() const {
  for (const auto& c : channel_list())
    if (c.uses_colour()) return true;
  return false;
}

PipelineConfig PipelineConfig::load(const std::string& path) {
  const nlohmann::json j = read_json_file(path);
  try {
    return parse(j);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

nlohmann::json PipelineConfig::to_json() const {
  nlohmann::json j = {{"descriptor", descriptor}, {"codebook", codebook},           {"coding", coding},
                      {"pooling", pooling},       {"normalisation", normalisation}, {"combine", name_of(combine)}};
  // As in channel_sections_json: a histogram pipeline's manifest has no mapping section.
  if (mapping.type != MappingType::histogram) j["mapping"] = mapping;
  if (mapping.type == MappingType::fisher) j["gmm"] = gmm;
  if (mapping.type != MappingType::histogram) j["pca"] = pca;
  j[classifier_kind(classifier->kind()).section] = classifier->to_json();
  if (!channels.empty()) j["channels"] = channel_list_json(channels, combine);
  j["input"] = input;
  return j;
}

namespace {

// The kernel "sum_of_kernels" weights the channels for; a kind that takes only
// "concatenate" has none, and the encoding does not use it.
KernelType summed_kernel(const PipelineConfig& config) {
  return config.classifier->summed_kernel().value_or(KernelType::intersection);
}

}  // namespace

BowModel::Forward BowModel::forward(const cv::Mat& image, const std::string& what) const {
  Forward f;
  f.encoding = encode_image(channels, codebooks, gmms, pcas, config.combine, config.normalisation, summed_kernel(config), image, what);
  f.pass = classifier->forward(f.encoding.histogram);
  f.scores = f.pass.scores;
  return f;
}

ClassifierContext BowModel::context() const {
  return {&classes, &class_means, &class_counts, config.histogram_bounds()};
}

void BowModel::check_image(const cv::Mat& image, const std::string& what) const {
  for (const ChannelConfig& channel : channels) {
    if (channel.descriptor.type != DescriptorType::dsift) continue;
    const int side = channel.descriptor.dense.minimum_image_side();
    if (image.cols < side || image.rows < side)
      throw InputError(what + ": image of " + std::to_string(image.cols) + " x " + std::to_string(image.rows) +
                               " pixels is smaller than one descriptor support of channel " + channel.name +
                               " (needs at least " + std::to_string(side) + " x " + std::to_string(side) + ")");
  }
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
  return encode_image(channels, codebooks, gmms, pcas, config.combine, config.normalisation, summed_kernel(config), image, what)
      .histogram;
}

const cv::Mat& BowModel::input(const ImageSample& sample) const {
  return config.uses_colour() && !sample.colour.empty() ? sample.colour : sample.gray;
}

namespace {

using Progress = std::function<void(const std::string&)>;

// A seeded sample of every image's descriptors of the channel, about
// training_descriptors in all, stacked in image order: the k-means input of
// the channel's codebook. The per-image samples are gone before the k-means
// starts.
RowMatrixXf codebook_sample(const BowModel& model, const ChannelConfig& channel, const Dataset& data, long wanted,
                            std::uint32_t seed) {
  const long n = static_cast<long>(data.images.size());
  const long per_image = (wanted + n - 1) / n;
  std::vector<RowMatrixXf> samples(n);
  for_each_parallel(n, 0, [&](long i) {
    const ImageSample& image = data.images[i];
    const LocalFeatures f = channel_features(channel, model.input(image), image.source);
    std::mt19937_64 rng(seed * 1000003ULL + static_cast<unsigned long long>(i));
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
  return pool_of_descriptors;
}

// One codebook per channel of the model; returns how many descriptors they
// were trained on in all.
long train_codebooks(BowModel& model, const Dataset& data, const Progress& say) {
  long total = 0;
  for (const ChannelConfig& channel : model.channels) {
    say("channel " + channel.name + ": descriptors of " + std::to_string(data.images.size()) + " images");
    // A Fisher channel's vocabulary is its GMM (docs/design.md 1.8); the others' the k-means codebook.
    const bool fisher = channel.mapping.type == MappingType::fisher;
    const RowMatrixXf pool_of_descriptors =
        fisher ? codebook_sample(model, channel, data, channel.gmm.training_descriptors, channel.gmm.seed)
               : codebook_sample(model, channel, data, channel.codebook.training_descriptors, channel.codebook.seed);
    const long count = pool_of_descriptors.rows();
    total += count;
    // PCA (docs/design.md 1.8) is fitted on the same sample, and the vocabulary on its projection.
    model.pcas.push_back(fit_pca(pool_of_descriptors, channel.pca));
    const RowMatrixXf projected =
        model.pcas.back().empty() ? RowMatrixXf() : model.pcas.back().apply(pool_of_descriptors.cast<double>()).cast<float>();
    const RowMatrixXf& sample = model.pcas.back().empty() ? pool_of_descriptors : projected;
    if (fisher) {
      say("channel " + channel.name + ": GMM, " + std::to_string(channel.gmm.components) + " components from " +
          std::to_string(count) + " descriptors");
      model.gmms.push_back(train_gmm(sample, channel.gmm));
      model.codebooks.emplace_back();
      continue;
    }
    say("channel " + channel.name + ": k-means, " + std::to_string(channel.codebook.words) + " words from " +
        std::to_string(count) + " descriptors");
    model.codebooks.push_back(Codebook::train(sample, channel.codebook));
    model.gmms.emplace_back();
  }
  return total;
}

// The training images as the classifier sees them.
struct TrainingSet {
  RowMatrixXd X;            ///< one histogram per row
  std::vector<int> labels;  ///< class of every row
};

TrainingSet encode_training_set(const BowModel& model, const Dataset& data) {
  const long n = static_cast<long>(data.images.size());
  long dimension = 0;
  for (const auto& channel : model.channels) dimension += channel.dimension();
  TrainingSet set{RowMatrixXd(n, dimension), std::vector<int>(n)};
  bool threads_safe = true;  // a kd-forest query is not reentrant
  for (const auto& channel : model.channels) threads_safe = threads_safe && channel.codebook.search == CodebookSearch::exact;
  auto encode_one = [&](long i) {
    set.X.row(i) = model.histogram(model.input(data.images[i]), data.images[i].source).transpose();
    set.labels[i] = data.images[i].label;
  };
  if (threads_safe)
    for_each_parallel(n, 0, encode_one);
  else
    for (long i = 0; i < n; ++i) encode_one(i);
  return set;
}

// Class means, reference points of the Taylor decomposition.
void set_class_means(BowModel& model, const TrainingSet& set) {
  const size_t classes = model.classes.size();
  model.class_means = RowMatrixXd::Zero(static_cast<long>(classes), set.X.cols());
  model.class_counts.assign(classes, 0);
  for (long i = 0; i < set.X.rows(); ++i) {
    model.class_means.row(set.labels[i]) += set.X.row(i);
    ++model.class_counts[set.labels[i]];
  }
  for (size_t c = 0; c < classes; ++c)
    if (model.class_counts[c] > 0) model.class_means.row(c) /= static_cast<double>(model.class_counts[c]);
}

// The classifier of the configured kind on the histograms; what its training
// reports goes into the model's training info.
void train_classifier(BowModel& model, const PipelineConfig& config, const TrainingSet& set, const Progress& say,
                      std::ostream* log) {
  const long n = set.X.rows();
  const int k = static_cast<int>(model.classes.size());
  const TrainedClassifier trained =
      classifier_kind(config.classifier->kind()).train(*config.classifier, TrainingRun{set.X, set.labels, k, say, log});
  model.classifier = trained.classifier;
  model.config.classifier = trained.classifier->section();  // with values fixed at training
  for (const auto& [key, value] : trained.info.items()) model.training_info[key] = value;
  if (trained.predicted) {
    // A classifier without a libsvm report: its accuracy on the training set.
    long correct = 0;
    for (long i = 0; i < n; ++i) correct += (*trained.predicted)[i] == set.labels[i];
    model.training_info["training_accuracy"] = static_cast<double>(correct) / static_cast<double>(n);
    say("done: training accuracy " + std::to_string(model.training_info["training_accuracy"].get<double>()));
  }
}

}  // namespace

BowModel BowModel::train(const PipelineConfig& config, const Dataset& data, std::ostream* log) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const Progress say = [&](const std::string& line) {
    if (log) *log << "[" << std::chrono::duration<double>(clock::now() - start).count() << " s] " << line << std::endl;
  };
  const long n = static_cast<long>(data.images.size());
  if (n == 0) throw std::runtime_error(data.spec + ": empty data set");
  if (data.classes.size() < 2) throw std::runtime_error(data.spec + ": at least two classes are needed");

  BowModel model;
  model.config = config;
  model.classes = data.classes;
  model.channels = config.channel_list();
  const long codebook_descriptors = train_codebooks(model, data, say);
  say("histograms");
  const TrainingSet set = encode_training_set(model, data);
  set_class_means(model, set);
  model.training_info = {{"data", data.spec}, {"images", n}, {"codebook_descriptors", codebook_descriptors}};
  train_classifier(model, config, set, say, log);
  model.training_info["seconds"] = std::chrono::duration<double>(clock::now() - start).count();
  return model;
}

void BowModel::save(const std::string& dir) const {
  write_folder_atomically(dir, "manifest.json", "pixelwise model directory", [&](const fs::path& partial) {
    std::map<std::string, std::string> files;
    for (size_t ch = 0; ch < channels.size(); ++ch) {
      if (!pcas[ch].empty()) {
        files[pca_file("mean", ch)] = npy_bytes(RowMatrixXd(pcas[ch].mean));
        files[pca_file("projection", ch)] = npy_bytes(pcas[ch].projection);
      }
      if (channels[ch].mapping.type != MappingType::fisher) {
        files[codebook_file(ch)] = npy_bytes(codebooks[ch].centres());
        continue;
      }
      files[gmm_file("priors", ch)] = npy_bytes(RowMatrixXd(gmms[ch].priors.transpose()));
      files[gmm_file("means", ch)] = npy_bytes(gmms[ch].means);
      files[gmm_file("variances", ch)] = npy_bytes(gmms[ch].variances);
    }
    if (class_means.size() > 0) files["class_means.npy"] = npy_bytes(class_means);
    for (auto& [name, bytes] : classifier->save(partial)) files[name] = std::move(bytes);
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
    write_manifest(partial, manifest.dump(2) + "\n");
  });
}

namespace {
// A stored float64 matrix of `rows` x `cols`; errors name the file.
RowMatrixXd read_matrix(const StoredFiles& files, const fs::path& root, const std::string& name, long rows, long cols,
                        const ChannelConfig& channel) {
  const std::string path = (root / name).string();
  RowMatrixXd m = parse_npy_f8(files.need(name), path);
  if (m.rows() != rows || m.cols() != cols)
    throw std::runtime_error(path + ": " + std::to_string(m.rows()) + " x " + std::to_string(m.cols()) +
                             " values, channel " + channel.name + " needs " + std::to_string(rows) + " x " +
                             std::to_string(cols));
  if (!m.allFinite()) throw std::runtime_error(path + ": a value is not finite");
  return m;
}

// The descriptor PCA of channel `ch` (empty when it has none).
Pca load_pca(const StoredFiles& files, const fs::path& root, size_t ch, const ChannelConfig& channel) {
  Pca pca;
  if (channel.pca.dimensions == 0) return pca;
  const long D = channel.descriptor.dimension();
  pca.mean = read_matrix(files, root, pca_file("mean", ch), 1, D, channel).row(0);
  pca.projection = read_matrix(files, root, pca_file("projection", ch), channel.pca.dimensions, D, channel);
  return pca;
}

// The GMM of Fisher channel `ch`: three files, each checked against the
// channel's configuration; errors name the file.
Gmm load_gmm(const StoredFiles& files, const fs::path& root, size_t ch, const ChannelConfig& channel) {
  const long K = channel.gmm.components, D = channel.mapped_dimension();
  auto read = [&](const std::string& part, long rows, long cols) {
    const std::string name = gmm_file(part, ch);
    return read_matrix(files, root, name, rows, cols, channel);
  };
  Gmm g;
  g.priors = read("priors", 1, K).row(0).transpose();
  g.means = read("means", K, D);
  g.variances = read("variances", K, D);
  g.validate((root / gmm_file("*", ch)).string());
  return g;
}
}  // namespace

BowModel BowModel::load(const std::string& dir) {
  const fs::path root(dir);
  require_model_directory(dir);
  const std::string manifest_path = (root / "manifest.json").string();
  const nlohmann::json manifest = parse_json_input(read_verified_manifest(root), manifest_path);
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
    const int k = static_cast<int>(model.classes.size());
    StoredFiles files{root, &contents, 0, k};
    model.channels = model.config.channel_list();
    long dimension = 0;
    for (size_t ch = 0; ch < model.channels.size(); ++ch) {
      const ChannelConfig& channel = model.channels[ch];
      dimension += channel.dimension();
      model.pcas.push_back(load_pca(files, root, ch, channel));
      if (channel.mapping.type == MappingType::fisher) {
        model.gmms.push_back(load_gmm(files, root, ch, channel));
        model.codebooks.emplace_back();
        continue;
      }
      model.gmms.emplace_back();
      const std::string name = codebook_file(ch), path = (root / name).string();
      model.codebooks.emplace_back(parse_npy_f4(files.need(name), path), channel.codebook);
      const Codebook& codebook = model.codebooks.back();
      if (codebook.words() != channel.codebook.words || codebook.dimension() != channel.mapped_dimension())
        throw std::runtime_error(path + ": " + std::to_string(codebook.words()) + " words of dimension " +
                                 std::to_string(codebook.dimension()) + ", channel " + channel.name + " needs " +
                                 std::to_string(channel.codebook.words) + " of dimension " +
                                 std::to_string(channel.mapped_dimension()));
    }
    if (contents.count("class_means.npy")) {
      const std::string path = (root / "class_means.npy").string();
      model.class_means = parse_npy_f8(contents.at("class_means.npy"), path);
      model.class_counts = manifest.at("class_counts").get<std::vector<long>>();
      if (model.class_means.rows() != k || model.class_means.cols() != dimension ||
          static_cast<int>(model.class_counts.size()) != k)
        throw std::runtime_error(path + ": needs one row of dimension " + std::to_string(dimension) +
                                 " and one class count per class");
    }
    files.dimension = dimension;
    model.classifier = classifier_kind(model.config.classifier->kind()).load(*model.config.classifier, files);
    return model;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(manifest_path + ": damaged manifest (" + e.what() + ")");
  } catch (const std::exception& e) {
    const std::string what = error_text(e);  // std::bad_alloc: that memory ran out
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
  throw InputError("class \"" + name_or_index + "\" does not exist (classes: " + known + ", or an index 0-" +
                           std::to_string(classes.size() - 1) + ")");
}

}  // namespace pixelwise
