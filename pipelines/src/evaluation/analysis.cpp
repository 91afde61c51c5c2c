#include "pixelwise/pipelines/evaluation/analysis.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "pixelwise/common/parallel.hpp"

namespace pixelwise {

void AnalysisOptions::validate() const {
  spray.validate();
  if (jobs < 0) throw std::invalid_argument("analyse: jobs must be 0 (all cores) or more");
  batching.validate();
  std::set<std::string> seen;
  for (const auto& c : classes) {
    if (c.empty()) throw std::invalid_argument("analyse: an empty class name");
    if (!seen.insert(c).second) throw std::invalid_argument("analyse: class \"" + c + "\" given twice");
  }
}

namespace {

using Clock = std::chrono::steady_clock;

nlohmann::json matrix_json(const RowMatrixXd& m) {
  nlohmann::json rows = nlohmann::json::array();
  for (long y = 0; y < m.rows(); ++y) {
    std::vector<double> row(m.cols());
    for (long x = 0; x < m.cols(); ++x) row[x] = m(y, x);
    rows.push_back(row);
  }
  return rows;
}

double share(long part, long whole) {
  return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : std::nan("");
}

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

double mean_of(const std::vector<double>& v) {
  if (v.empty()) return std::nan("");
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

// The model's accuracy on the tagged and on the untagged images.
nlohmann::json tag_accuracy(const MaskedDataset& data, const std::vector<int>& predicted_all) {
  const long n = static_cast<long>(data.data.images.size());
  long correct[2] = {0, 0}, total[2] = {0, 0};
  for (long i = 0; i < n; ++i) {
    const int t = data.tagged[i] ? 1 : 0;
    ++total[t];
    if (predicted_all[i] == data.data.images[i].label) ++correct[t];
  }
  return {{"tagged", number_or_null(share(correct[1], total[1]))}, {"tagged_images", total[1]},
          {"untagged", number_or_null(share(correct[0], total[0]))}, {"untagged_images", total[0]}};
}

// Relevance on the tag of the class's tagged images: relevance mass and rank
// accuracy against the tag mask, beside the tag's area fraction (their chance
// level).
nlohmann::json tag_relevance(const MaskedDataset& data, const ClassAnalysis& a) {
  std::vector<double> mass, rank, area;
  long undefined = 0;
  for (size_t k = 0; k < a.images.size(); ++k) {
    const long i = a.images[k];
    if (!data.tagged[i]) continue;
    const Localisation l = localise(a.heatmaps[k], *data.tags[i]);
    area.push_back(l.mask_fraction);
    rank.push_back(l.rank_accuracy);
    if (std::isnan(l.mass_accuracy)) ++undefined;
    else mass.push_back(l.mass_accuracy);
  }
  return {{"tag_mass", {{"mean", number_or_null(mean_of(mass))}, {"images", mass.size()}, {"undefined", undefined}}},
          {"tag_rank", {{"mean", number_or_null(mean_of(rank))}, {"images", rank.size()}}},
          {"tag_area_fraction", number_or_null(mean_of(area))}};
}

// The tag pasted onto the untagged images of other classes not predicted as
// the class, into a corner seeded per image: the share predicted as the class.
nlohmann::json tag_flip(const ExplainableModel& model, const MaskedDataset& data, const ClassAnalysis& a,
                        const std::vector<int>& predicted_all, std::uint64_t seed, long jobs) {
  const long n = static_cast<long>(data.data.images.size());
  std::vector<long> candidates;
  for (long i = 0; i < n; ++i)
    if (!data.tagged[i] && data.data.images[i].label != a.class_index && predicted_all[i] != a.class_index)
      candidates.push_back(i);
  std::vector<int> flipped(candidates.size(), 0);
  for_each_parallel(static_cast<long>(candidates.size()), static_cast<int>(jobs), [&](long q) {
    const long i = candidates[q];
    naming_input(data.data.images[i].source, [&] {
      ImageSample copy = data.data.images[i];
      copy.gray = copy.gray.clone();
      copy.colour = cv::Mat();
      paste_tag(copy.gray, static_cast<int>(image_seed(seed, i) % 4), data.tag_scale);
      const Eigen::VectorXd s = model.all_scores(model.input(copy), copy.source + " (tag pasted)");
      int p;
      s.maxCoeff(&p);
      flipped[q] = p == a.class_index ? 1 : 0;
    });
  });
  long flips = 0;
  for (int f : flipped) flips += f;
  return {{"rate", number_or_null(share(flips, static_cast<long>(candidates.size())))},
          {"flipped", flips},
          {"images", candidates.size()},
          {"corner", "image_seed(seed, index) mod 4"}};
}

// Per cluster its size and tagged images, and how well its membership matches
// the tagged flag (adjusted Rand index of the two-way split); `best` is the
// cluster that matches best.
struct TagClusters {
  nlohmann::json clusters = nlohmann::json::array();
  int best = -1;
};

TagClusters clusters_against_tag(const ClassAnalysis& a, const std::vector<int>& tagged_flag) {
  TagClusters out;
  double best_ari = -std::numeric_limits<double>::infinity();
  for (int c = 0; c < a.spray.clusters; ++c) {
    std::vector<int> inside;
    long tagged_in = 0, size = 0, tagged_all = 0;
    for (size_t k = 0; k < a.images.size(); ++k) {
      const bool in = a.spray.assignment[k] == c;
      inside.push_back(in ? 1 : 0);
      size += in;
      tagged_in += in && tagged_flag[k];
      tagged_all += tagged_flag[k];
    }
    const double ari = adjusted_rand_index(inside, tagged_flag);
    out.clusters.push_back({{"cluster", c}, {"size", size}, {"tagged", tagged_in}, {"tagged_share", share(tagged_in, size)},
                            {"recall", number_or_null(share(tagged_in, tagged_all))}, {"adjusted_rand_index", ari}});
    if (ari > best_ari) best_ari = ari, out.best = c;
  }
  return out;
}

// Each cluster labelled by its majority: the tagged images' clusters against
// the rest (the adjusted Rand index of that split), and the clustering purity.
nlohmann::json majority_split(const ClassAnalysis& a, const nlohmann::json& clusters, const std::vector<int>& tagged_flag) {
  long pure = 0;
  nlohmann::json tagged_clusters = nlohmann::json::array();
  for (int c = 0; c < a.spray.clusters; ++c) {
    const long size = clusters[c].at("size").get<long>(), tagged_in = clusters[c].at("tagged").get<long>();
    pure += std::max(tagged_in, size - tagged_in);
    if (2 * tagged_in > size) tagged_clusters.push_back(c);
  }
  std::vector<int> majority(a.images.size());
  for (size_t k = 0; k < a.images.size(); ++k) {
    const int c = a.spray.assignment[k];
    majority[k] = 2 * clusters[c].at("tagged").get<long>() > clusters[c].at("size").get<long>() ? 1 : 0;
  }
  return {{"purity", share(pure, static_cast<long>(a.images.size()))},
          {"majority_split", {{"tagged_clusters", tagged_clusters},
                              {"adjusted_rand_index", adjusted_rand_index(majority, tagged_flag)}}}};
}

// The corner of a tag mask, by its first pixel in row-major order: 1 top
// left, 2 top right, 3 bottom left, 4 bottom right.
int tag_corner(const MaskArray& t) {
  Eigen::Index y = 0, x = 0;
  for (Eigen::Index q = 0; q < t.size(); ++q)
    if (t(q / t.cols(), q % t.cols())) {
      y = q / t.cols(), x = q % t.cols();
      break;
    }
  return 1 + (2 * y < t.rows() ? 0 : 2) + (2 * x < t.cols() ? 0 : 1);
}

// The clustering against the tagged flag: per cluster, the best-matching
// cluster with its purity, the whole clustering, its majority split; and
// against the tag's corner (untagged images one group), as the tag sits in
// one of four corners.
nlohmann::json clusters_and_tag(const MaskedDataset& data, const ClassAnalysis& a) {
  std::vector<int> tagged_flag, corner;
  for (long i : a.images) {
    tagged_flag.push_back(data.tagged[i] ? 1 : 0);
    corner.push_back(data.tagged[i] ? tag_corner(*data.tags[i]) : 0);
  }
  const TagClusters t = clusters_against_tag(a, tagged_flag);
  nlohmann::json best_cluster = t.clusters.at(t.best);
  const double tagged_share = best_cluster.at("tagged_share").get<double>();
  best_cluster["purity"] = std::max(tagged_share, 1 - tagged_share);
  nlohmann::json out = {{"clusters", t.clusters},
                        {"best_cluster", best_cluster},
                        {"adjusted_rand_index", adjusted_rand_index(a.spray.assignment, tagged_flag)},
                        {"adjusted_rand_index_corners", adjusted_rand_index(a.spray.assignment, corner)},
                        {"tagged_images", std::count(tagged_flag.begin(), tagged_flag.end(), 1)}};
  out.update(majority_split(a, t.clusters, tagged_flag));
  return out;
}

// The Clever Hans measures of the tagged class (analysis.hpp).
nlohmann::json watermark_measures(const ExplainableModel& model, const MaskedDataset& data, const ClassAnalysis& a,
                                  const std::vector<int>& predicted_all, const AnalysisOptions& options, long jobs) {
  nlohmann::json measures = {{"class", model.class_names()[a.class_index]},
                             {"accuracy", tag_accuracy(data, predicted_all)}};
  measures.update(tag_relevance(data, a));
  measures["tag_flip"] = tag_flip(model, data, a, predicted_all, options.seed, jobs);
  measures.update(clusters_and_tag(data, a));
  return measures;
}

// The model, the data's classes and the method checked before any image is
// explained; returns the method's settings, seeded with the run's seed.
ExplainSettings checked_settings(const ExplainableModel& model, const MaskedDataset& data, const AnalysisOptions& options) {
  options.validate();
  const std::vector<std::string> names = model.class_names();
  if (data.data.classes != names)
    throw std::runtime_error(data.data.spec + ": its classes differ from the model's (" + join_names(data.data.classes) +
                             " against " + join_names(names) + ")");
  const std::vector<ExplainMethod> offered = model.methods();
  if (std::find(offered.begin(), offered.end(), options.method) == offered.end())
    throw std::invalid_argument("analyse: method \"" + name_of(options.method) + "\" does not apply to a " +
                                model.kind() + " model like " + model.source() + " (it has: " + names_of(offered) + ")");
  ExplainSettings settings = options.method_settings;
  settings.seed = options.seed;
  model.check(options.method, settings);
  return settings;
}

// The analysed classes in the order given (every class of the model if none
// is), and per class of the model its position among them (-1: not analysed).
struct AnalysedClasses {
  std::vector<ClassAnalysis> per_class;
  std::vector<int> slot;
};

AnalysedClasses analysed_classes(const ExplainableModel& model, const AnalysisOptions& options) {
  const std::vector<std::string> names = model.class_names();
  std::vector<int> classes;
  if (options.classes.empty())
    for (int c = 0; c < static_cast<int>(names.size()); ++c) classes.push_back(c);
  for (const auto& c : options.classes) classes.push_back(model.class_index(c));
  AnalysedClasses out{std::vector<ClassAnalysis>(classes.size()), std::vector<int>(names.size(), -1)};
  for (size_t k = 0; k < classes.size(); ++k) {
    if (out.slot[classes[k]] >= 0)  // e.g. a class given by its name and by its index
      throw std::invalid_argument("analyse: class " + names[classes[k]] + " given twice");
    out.per_class[k].class_index = classes[k];
    out.slot[classes[k]] = static_cast<int>(k);
  }
  return out;
}

// The images of the analysed classes (data set indices, in order); each class
// needs at least two of them for SpRAy, and no fewer than the clusters asked
// for.
std::vector<long> select_images(const MaskedDataset& data, const AnalysedClasses& classes,
                                const std::vector<std::string>& names, const AnalysisOptions& options) {
  std::vector<long> selected;
  for (long i = 0; i < static_cast<long>(data.data.images.size()); ++i) {
    const int label = data.data.images[i].label;
    if (label < 0) throw std::runtime_error(data.data.images[i].source + ": no label (analyse explains each image's own class)");
    if (classes.slot[label] >= 0) selected.push_back(i);
  }
  for (const ClassAnalysis& a : classes.per_class) {
    long count = 0;
    for (long i : selected) count += data.data.images[i].label == a.class_index;
    if (count < 2)
      throw std::invalid_argument(data.data.spec + ": class " + names[a.class_index] + " has " + std::to_string(count) +
                                  " image(s); SpRAy needs at least two");
    if (options.spray.clusters > count)
      throw std::invalid_argument("analyse: --clusters " + std::to_string(options.spray.clusters) + " exceeds the " +
                                  std::to_string(count) + " images of class " + names[a.class_index]);
  }
  return selected;
}

// Explanations of the selected images for their own class through the one
// loop (evaluate.hpp); only the maps and scores are kept, in their classes.
// Returns the prediction of every image of the data set (-1: not explained).
std::vector<int> explain_classes(const ExplainableModel& model, const MaskedDataset& data,
                                 const std::vector<long>& selected, const AnalysisOptions& options,
                                 const ExplainSettings& settings, long jobs, AnalysedClasses& classes, std::ostream* log) {
  const long count = static_cast<long>(selected.size());
  std::vector<RowMatrixXd> heatmaps(count);
  std::vector<double> scores(count);
  std::vector<Eigen::VectorXd> outputs(count);
  std::vector<int> predicted_all(data.data.images.size(), -1);
  Progress progress(log ? count : 0, "analyse");
  explain_images(model, data.data, selected, {options.method}, ClassChoice{ClassChoice::Kind::label}, settings, jobs,
                 [&](long position, ExplainedImage& e) {
                   heatmaps[position] = std::move(e.results[0].pixels);
                   scores[position] = e.scores[e.class_index];
                   outputs[position] = e.scores;
                   predicted_all[e.index] = e.predicted;
                   progress.advance();
                 });
  for (long q = 0; q < count; ++q) {
    ClassAnalysis& a = classes.per_class[classes.slot[data.data.images[selected[q]].label]];
    a.images.push_back(selected[q]);
    a.heatmaps.push_back(std::move(heatmaps[q]));
    a.scores.push_back(scores[q]);
    a.outputs.push_back(std::move(outputs[q]));
    a.predicted.push_back(predicted_all[selected[q]]);
  }
  return predicted_all;
}

// Watermark scenes: the predictions of the images not explained, for the
// accuracies of the Clever Hans measures.
void predict_the_rest(const ExplainableModel& model, const MaskedDataset& data, long jobs, std::vector<int>& predicted_all) {
  std::vector<long> rest;
  for (long i = 0; i < static_cast<long>(data.data.images.size()); ++i)
    if (predicted_all[i] < 0) rest.push_back(i);
  for_each_parallel(static_cast<long>(rest.size()), static_cast<int>(jobs), [&](long q) {
    const ImageSample& sample = data.data.images[rest[q]];
    naming_input(sample.source, [&] {
      model.all_scores(model.input(sample), sample.source).maxCoeff(&predicted_all[rest[q]]);
    });
  });
}

// Per image of the class: its prediction, score, cluster and embedding; on
// watermark scenes whether it is tagged and, if so, the relevance mass on the tag.
nlohmann::json image_records(const ClassAnalysis& a, const MaskedDataset& data, const std::vector<std::string>& names) {
  const SprayResult& s = a.spray;
  nlohmann::json images = nlohmann::json::array();
  for (size_t k = 0; k < a.images.size(); ++k) {
    const ImageSample& sample = data.data.images[a.images[k]];
    nlohmann::json record = {{"index", a.images[k]},
                             {"name", sample.name},
                             {"source", sample.source},
                             {"predicted", names[a.predicted[k]]},
                             {"score", a.scores[k]},
                             {"cluster", s.assignment[k]},
                             {"embedding", {s.embedding(static_cast<long>(k), 0), s.embedding(static_cast<long>(k), 1)}}};
    if (!data.tagged.empty()) {
      const long i = a.images[k];
      record["tagged"] = static_cast<bool>(data.tagged[i]);
      if (data.tagged[i]) record["tag_mass"] = number_or_null(localise(a.heatmaps[k], *data.tags[i]).mass_accuracy);
    }
    images.push_back(record);
  }
  return images;
}

// Per cluster: its size, its members' mean score, the images nearest its
// centre and its mean heatmap.
nlohmann::json cluster_records(const ClassAnalysis& a, const MaskedDataset& data) {
  const SprayResult& s = a.spray;
  nlohmann::json clusters = nlohmann::json::array();
  for (int c = 0; c < s.clusters; ++c) {
    const SprayCluster& k = s.per_cluster[c];
    std::vector<double> member_scores;
    for (size_t q = 0; q < a.images.size(); ++q)
      if (s.assignment[q] == c) member_scores.push_back(a.scores[q]);
    nlohmann::json nearest = nlohmann::json::array();
    for (long q : k.nearest) nearest.push_back(data.data.images[a.images[q]].source);
    clusters.push_back({{"cluster", c}, {"size", k.size}, {"mean_score", number_or_null(mean_of(member_scores))},
                        {"nearest", nearest}, {"mean_heatmap", matrix_json(k.mean_heatmap)}});
  }
  return clusters;
}

// One analysed class's entry of "classes", SpRAy done.
nlohmann::json class_json(const ClassAnalysis& a, const MaskedDataset& data, const std::vector<std::string>& names,
                          const AnalysisOptions& options) {
  const SprayResult& s = a.spray;
  std::vector<double> eigenvalues(s.eigenvalues.data(), s.eigenvalues.data() + s.eigenvalues.size());
  return {{"class", names[a.class_index]},
          {"class_index", a.class_index},
          {"images", image_records(a, data, names)},
          {"eigenvalues", eigenvalues},
          {"clusters", s.clusters},
          {"clusters_from_eigengap", s.clusters_from_eigengap},
          {"eigengap_clusters", largest_eigengap(s.eigenvalues, options.spray.max_clusters)},
          {"neighbours", s.neighbours},
          {"per_cluster", cluster_records(a, data)}};
}

// The "settings" of analysis.json: what the run did, and how it used the machine.
nlohmann::json analysis_settings(const ExplainableModel& model, const MaskedDataset& data, const AnalysisOptions& options,
                                 long explained, const CoreShare& execution) {
  const SprayOptions& o = options.spray;
  return {{"model", model.describe()},
          {"data", {{"spec", data.data.spec}, {"images", data.data.images.size()}, {"explained", explained}}},
          {"method", name_of(options.method)},
          {"seed", options.seed},
          {"spray", {{"size", {o.rows, o.cols}},
                     {"normalisation", name_of(o.normalisation)},
                     {"neighbours", o.neighbours == 0 ? nlohmann::json("auto (min(10, N - 1))") : nlohmann::json(o.neighbours)},
                     {"clusters", o.clusters == 0 ? nlohmann::json("auto (largest eigengap)") : nlohmann::json(o.clusters)},
                     {"max_clusters", o.max_clusters},
                     {"restarts", o.restarts},
                     {"nearest", o.nearest},
                     {"affinity", "symmetric k-nearest-neighbour graph, weights 1"},
                     {"embedding", "eigenvectors 2 and 3 of the normalised Laplacian"}}},
          {"execution", {{"cores", execution.cores}, {"jobs", execution.jobs}, {"threads_per_image", execution.threads}}}};
}

}  // namespace

Analysis analyse(const ExplainableModel& model, const MaskedDataset& data, const AnalysisOptions& options,
                 std::ostream* log) {
  const auto started = Clock::now();
  ExplainSettings settings = checked_settings(model, data, options);
  const std::vector<std::string> names = model.class_names();
  AnalysedClasses classes = analysed_classes(model, options);
  const std::vector<long> selected = select_images(data, classes, names, options);

  const long count = static_cast<long>(selected.size());
  const CoreShare share = share_cores(count, options.jobs, options.batching.threads, model.concurrent());
  settings.occlusion.batching = options.batching;
  settings.occlusion.batching.threads = share.threads;
  std::vector<int> predicted_all = explain_classes(model, data, selected, options, settings, share.jobs, classes, log);
  const bool watermark = !data.tagged.empty();
  if (watermark) predict_the_rest(model, data, share.jobs, predicted_all);

  SprayOptions spray_options = options.spray;
  spray_options.seed = options.seed;
  nlohmann::json results = nlohmann::json::array();
  for (ClassAnalysis& a : classes.per_class) {
    a.spray = spray(a.heatmaps, spray_options);
    nlohmann::json r = class_json(a, data, names, options);
    if (watermark && names[a.class_index] == data.target)
      r["watermark"] = watermark_measures(model, data, a, predicted_all, options, share.jobs);
    results.push_back(std::move(r));
  }
  Analysis out;
  out.json = {{"format", "pixelwise-analysis"},
              {"version", 1},
              {"settings", analysis_settings(model, data, options, count, share)},
              {"classes", results},
              {"seconds", std::chrono::duration<double>(Clock::now() - started).count()}};
  out.classes = std::move(classes.per_class);
  return out;
}

}  // namespace pixelwise
