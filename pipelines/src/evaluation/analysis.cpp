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

// The Clever Hans measures of the tagged class (analysis.hpp).
nlohmann::json watermark_measures(const ExplainableModel& model, const MaskedDataset& data, const ClassAnalysis& a,
                                  const std::vector<int>& predicted_all, const AnalysisOptions& options, long jobs) {
  const long n = static_cast<long>(data.data.images.size());
  long correct[2] = {0, 0}, total[2] = {0, 0};
  for (long i = 0; i < n; ++i) {
    const int t = data.tagged[i] ? 1 : 0;
    ++total[t];
    if (predicted_all[i] == data.data.images[i].label) ++correct[t];
  }
  // Relevance on the tag of the class's tagged images.
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
  // The tag pasted onto the untagged images of other classes not predicted as C.
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
      paste_tag(copy.gray, static_cast<int>(image_seed(options.seed, i) % 4), data.tag_scale);
      const Eigen::VectorXd s = model.all_scores(model.input(copy), copy.source + " (tag pasted)");
      int p;
      s.maxCoeff(&p);
      flipped[q] = p == a.class_index ? 1 : 0;
    });
  });
  long flips = 0;
  for (int f : flipped) flips += f;
  // Clusters against the tagged flag.
  std::vector<int> tagged_flag;
  for (long i : a.images) tagged_flag.push_back(data.tagged[i] ? 1 : 0);
  nlohmann::json clusters = nlohmann::json::array();
  int best = -1;
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
    clusters.push_back({{"cluster", c}, {"size", size}, {"tagged", tagged_in}, {"tagged_share", share(tagged_in, size)},
                        {"recall", number_or_null(share(tagged_in, tagged_all))}, {"adjusted_rand_index", ari}});
    if (ari > best_ari) best_ari = ari, best = c;
  }
  // Each cluster labelled by its majority: the tagged images' clusters against
  // the rest (clustering purity, and the adjusted Rand index of that split);
  // and the clustering against the tag's corner (untagged images one group),
  // as the tag sits in one of four corners.
  long pure = 0;
  std::vector<int> majority(a.images.size()), corner(a.images.size());
  nlohmann::json tagged_clusters = nlohmann::json::array();
  for (int c = 0; c < a.spray.clusters; ++c) {
    const long size = clusters[c].at("size").get<long>(), tagged_in = clusters[c].at("tagged").get<long>();
    pure += std::max(tagged_in, size - tagged_in);
    if (2 * tagged_in > size) tagged_clusters.push_back(c);
  }
  for (size_t k = 0; k < a.images.size(); ++k) {
    const int c = a.spray.assignment[k];
    majority[k] = 2 * clusters[c].at("tagged").get<long>() > clusters[c].at("size").get<long>() ? 1 : 0;
    const long i = a.images[k];
    corner[k] = 0;
    if (data.tagged[i]) {
      const MaskArray& t = *data.tags[i];
      Eigen::Index y = 0, x = 0;
      for (Eigen::Index q = 0; q < t.size(); ++q)
        if (t(q / t.cols(), q % t.cols())) {
          y = q / t.cols(), x = q % t.cols();
          break;
        }
      corner[k] = 1 + (2 * y < t.rows() ? 0 : 2) + (2 * x < t.cols() ? 0 : 1);
    }
  }
  nlohmann::json best_cluster = clusters.at(best);
  const double tagged_share = best_cluster.at("tagged_share").get<double>();
  best_cluster["purity"] = std::max(tagged_share, 1 - tagged_share);
  return {{"class", model.class_names()[a.class_index]},
          {"accuracy", {{"tagged", number_or_null(share(correct[1], total[1]))}, {"tagged_images", total[1]},
                        {"untagged", number_or_null(share(correct[0], total[0]))}, {"untagged_images", total[0]}}},
          {"tag_mass", {{"mean", number_or_null(mean_of(mass))}, {"images", mass.size()}, {"undefined", undefined}}},
          {"tag_rank", {{"mean", number_or_null(mean_of(rank))}, {"images", rank.size()}}},
          {"tag_area_fraction", number_or_null(mean_of(area))},
          {"tag_flip", {{"rate", number_or_null(share(flips, static_cast<long>(candidates.size())))},
                        {"flipped", flips}, {"images", candidates.size()},
                        {"corner", "image_seed(seed, index) mod 4"}}},
          {"clusters", clusters},
          {"best_cluster", best_cluster},
          {"adjusted_rand_index", adjusted_rand_index(a.spray.assignment, tagged_flag)},
          {"purity", share(pure, static_cast<long>(a.images.size()))},
          {"majority_split", {{"tagged_clusters", tagged_clusters},
                              {"adjusted_rand_index", adjusted_rand_index(majority, tagged_flag)}}},
          {"adjusted_rand_index_corners", adjusted_rand_index(a.spray.assignment, corner)},
          {"tagged_images", std::count(tagged_flag.begin(), tagged_flag.end(), 1)}};
}

}  // namespace

Analysis analyse(const ExplainableModel& model, const MaskedDataset& data, const AnalysisOptions& options,
                 std::ostream* log) {
  options.validate();
  const auto started = Clock::now();
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
  SprayOptions spray_options = options.spray;
  spray_options.seed = options.seed;

  // The analysed classes, each with at least two images of its label.
  std::vector<int> classes;
  if (options.classes.empty())
    for (int c = 0; c < static_cast<int>(names.size()); ++c) classes.push_back(c);
  for (const auto& c : options.classes) classes.push_back(model.class_index(c));
  std::vector<long> selected;
  std::vector<ClassAnalysis> per_class(classes.size());
  std::vector<int> slot(names.size(), -1);
  for (size_t k = 0; k < classes.size(); ++k) {
    if (slot[classes[k]] >= 0)  // e.g. a class given by its name and by its index
      throw std::invalid_argument("analyse: class " + names[classes[k]] + " given twice");
    per_class[k].class_index = classes[k];
    slot[classes[k]] = static_cast<int>(k);
  }
  for (long i = 0; i < static_cast<long>(data.data.images.size()); ++i) {
    const int label = data.data.images[i].label;
    if (label < 0) throw std::runtime_error(data.data.images[i].source + ": no label (analyse explains each image's own class)");
    if (slot[label] >= 0) selected.push_back(i);
  }
  for (const ClassAnalysis& a : per_class) {
    long count = 0;
    for (long i : selected) count += data.data.images[i].label == a.class_index;
    if (count < 2)
      throw std::invalid_argument(data.data.spec + ": class " + names[a.class_index] + " has " + std::to_string(count) +
                                  " image(s); SpRAy needs at least two");
    if (options.spray.clusters > count)
      throw std::invalid_argument("analyse: --clusters " + std::to_string(options.spray.clusters) + " exceeds the " +
                                  std::to_string(count) + " images of class " + names[a.class_index]);
  }

  const long count = static_cast<long>(selected.size());
  const CoreShare share = share_cores(count, options.jobs, options.batching.threads, model.concurrent());
  const long cores = share.cores, jobs = share.jobs;
  BatchOptions batching = options.batching;
  batching.threads = share.threads;
  settings.occlusion.batching = batching;

  // Explanations through the one loop (evaluate.hpp); only the maps and scores are kept.
  std::vector<RowMatrixXd> heatmaps(count);
  std::vector<double> scores(count);
  std::vector<Eigen::VectorXd> outputs(count);
  std::vector<int> predicted_all(data.data.images.size(), -1);
  Progress progress(log ? count : 0, "analyse");
  explain_images(model, data.data, selected, {options.method}, "label", settings, jobs,
                 [&](long position, ExplainedImage& e) {
                   heatmaps[position] = std::move(e.results[0].pixels);
                   scores[position] = e.scores[e.class_index];
                   outputs[position] = e.scores;
                   predicted_all[e.index] = e.predicted;
                   progress.advance();
                 });
  for (long q = 0; q < count; ++q) {
    ClassAnalysis& a = per_class[slot[data.data.images[selected[q]].label]];
    a.images.push_back(selected[q]);
    a.heatmaps.push_back(std::move(heatmaps[q]));
    a.scores.push_back(scores[q]);
    a.outputs.push_back(std::move(outputs[q]));
    a.predicted.push_back(predicted_all[selected[q]]);
  }

  // Watermark scenes: the predictions of the images not explained, for the accuracies.
  const bool watermark = !data.tagged.empty();
  if (watermark) {
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

  nlohmann::json results = nlohmann::json::array();
  for (ClassAnalysis& a : per_class) {
    a.spray = spray(a.heatmaps, spray_options);
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
      if (watermark) {
        const long i = a.images[k];
        record["tagged"] = static_cast<bool>(data.tagged[i]);
        if (data.tagged[i]) record["tag_mass"] = number_or_null(localise(a.heatmaps[k], *data.tags[i]).mass_accuracy);
      }
      images.push_back(record);
    }
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
    std::vector<double> eigenvalues(s.eigenvalues.data(), s.eigenvalues.data() + s.eigenvalues.size());
    nlohmann::json r = {{"class", names[a.class_index]},
                        {"class_index", a.class_index},
                        {"images", images},
                        {"eigenvalues", eigenvalues},
                        {"clusters", s.clusters},
                        {"clusters_from_eigengap", s.clusters_from_eigengap},
                        {"eigengap_clusters", largest_eigengap(s.eigenvalues, options.spray.max_clusters)},
                        {"neighbours", s.neighbours},
                        {"per_cluster", clusters}};
    if (watermark && names[a.class_index] == data.target)
      r["watermark"] = watermark_measures(model, data, a, predicted_all, options, jobs);
    results.push_back(std::move(r));
  }

  const SprayOptions& o = options.spray;
  nlohmann::json settings_json = {
      {"model", model.describe()},
      {"data", {{"spec", data.data.spec}, {"images", data.data.images.size()}, {"explained", count}}},
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
      {"execution", {{"cores", cores}, {"jobs", jobs}, {"threads_per_image", batching.threads}}}};
  Analysis out;
  out.json = {{"format", "pixelwise-analysis"},
              {"version", 1},
              {"settings", settings_json},
              {"classes", results},
              {"seconds", std::chrono::duration<double>(Clock::now() - started).count()}};
  out.classes = std::move(per_class);
  return out;
}

}  // namespace pixelwise
