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
  std::set<std::string> keys{"descriptor", "codebook", "coding", "pooling", "normalisation", "description",
                             "channels",   "combine"};
  for (const auto& kind : classifier_kinds()) keys.insert(kind.section);
  return keys;
}

// Channel 0 keeps the single-channel name codebook.npy.
std::string codebook_file(size_t channel) {
  return channel == 0 ? "codebook.npy" : "codebook-" + std::to_string(channel) + ".npy";
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
  c.classifier = parse_classifier_section(j);
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
  j[classifier_kind(classifier->kind()).section] = classifier->to_json();
  if (!channels.empty()) j["channels"] = channel_list_json(channels, combine);
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
  f.encoding = encode_image(channels, codebooks, config.combine, config.normalisation, summed_kernel(config), image, what);
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
  return encode_image(channels, codebooks, config.combine, config.normalisation, summed_kernel(config), image, what)
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
RowMatrixXf codebook_sample(const BowModel& model, const ChannelConfig& channel, const Dataset& data) {
  const long n = static_cast<long>(data.images.size());
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
  return pool_of_descriptors;
}

// One codebook per channel of the model; returns how many descriptors they
// were trained on in all.
long train_codebooks(BowModel& model, const Dataset& data, const Progress& say) {
  long total = 0;
  for (const ChannelConfig& channel : model.channels) {
    say("channel " + channel.name + ": descriptors of " + std::to_string(data.images.size()) + " images");
    const RowMatrixXf pool_of_descriptors = codebook_sample(model, channel, data);
    const long count = pool_of_descriptors.rows();
    total += count;
    say("channel " + channel.name + ": k-means, " + std::to_string(channel.codebook.words) + " words from " +
        std::to_string(count) + " descriptors");
    model.codebooks.push_back(Codebook::train(pool_of_descriptors, channel.codebook));
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
    for (size_t ch = 0; ch < codebooks.size(); ++ch) files[codebook_file(ch)] = npy_bytes(codebooks[ch].centres());
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
      const std::string name = codebook_file(ch), path = (root / name).string();
      model.codebooks.emplace_back(parse_npy_f4(files.need(name), path), channel.codebook);
      const Codebook& codebook = model.codebooks.back();
      if (codebook.words() != channel.codebook.words || codebook.dimension() != channel.descriptor.dimension())
        throw std::runtime_error(path + ": " + std::to_string(codebook.words()) + " words of dimension " +
                                 std::to_string(codebook.dimension()) + ", channel " + channel.name + " needs " +
                                 std::to_string(channel.codebook.words) + " of dimension " +
                                 std::to_string(channel.descriptor.dimension()));
      dimension += channel.dimension();
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
