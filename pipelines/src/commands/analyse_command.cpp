// `pixelwise analyse` (evaluation/analysis.hpp): spectral relevance analysis of
// a data set's explanations.
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "pixelwise/common/errors.hpp"
#include "pixelwise/common/files.hpp"
#include "pixelwise/pipelines/commands/commands.hpp"
#include "pixelwise/pipelines/evaluation/analysis.hpp"
#include "pixelwise/pipelines/io/dataset.hpp"

namespace fs = std::filesystem;

namespace pixelwise {
namespace {

constexpr const char* kMarker = "analysis.json";

struct AnalyseRequest {
  std::string model, data, out;
  std::string classes;  ///< comma-separated; empty: every class
  std::string method = "lrp";
  std::string clusters = "auto";
  std::string normalisation = "max-abs";
  int size = 16, neighbours = 0, max_clusters = 10, nearest = 8;
  std::uint64_t seed = 1;
  int jobs = 0;
  bool quiet = false;
};

// The option values, parsed and range-checked; a bad one is a UsageError
// (exit status 2, docs/errors.md, "Exit status").
AnalysisOptions analysis_options(const AnalyseRequest& r) try {
  AnalysisOptions o;
  o.method = parse_enum<ExplainMethod>(r.method, "method", "--method");
  std::stringstream list(r.classes);
  std::string item;
  while (std::getline(list, item, ','))
    if (!item.empty()) o.classes.push_back(item);
  if (r.clusters != "auto") {
    size_t used = 0;
    long k = -1;
    try {
      k = std::stol(r.clusters, &used);
    } catch (const std::exception&) {
    }
    if (used != r.clusters.size() || k < 1 || k > 1000)
      throw std::invalid_argument("--clusters " + r.clusters + ": give auto or a number of clusters from 1 to 1000");
    o.spray.clusters = static_cast<int>(k);
  }
  o.spray.normalisation = parse_enum<SprayNormalisation>(r.normalisation, "normalisation", "--normalise");
  if (r.size < 1 || r.size > 256) throw std::invalid_argument("--size " + std::to_string(r.size) + ": must be from 1 to 256");
  o.spray.rows = o.spray.cols = r.size;
  if (r.neighbours < 0) throw std::invalid_argument("--neighbours " + std::to_string(r.neighbours) + ": must be 0 (auto) or more");
  o.spray.neighbours = r.neighbours;
  if (r.max_clusters < 1) throw std::invalid_argument("--max-clusters " + std::to_string(r.max_clusters) + ": must be at least 1");
  o.spray.max_clusters = r.max_clusters;
  if (r.nearest < 0) throw std::invalid_argument("--nearest " + std::to_string(r.nearest) + ": must not be negative");
  o.spray.nearest = r.nearest;
  if (r.jobs < 0) throw std::invalid_argument("--jobs " + std::to_string(r.jobs) + ": must be 0 (all cores) or more");
  o.jobs = r.jobs;
  o.seed = r.seed;
  o.validate();
  return o;
} catch (const std::exception& e) {
  throw UsageError(e.what());
}

int run_analyse(const AnalyseRequest& request, std::ostream& out, std::ostream* log) {
  const AnalysisOptions options = analysis_options(request);
  check_folder_replaceable(request.out, kMarker, "analysis folder");
  const auto model = load_explainable_model(request.model);
  const MaskedDataset data = load_masked_dataset(request.data, -1, *model);
  const Analysis analysis = analyse(*model, data, options, request.quiet ? nullptr : log);
  // Everything is computed before the first file is written.
  const ReportFiles files = render_analysis_report(analysis, data);
  write_folder_atomically(request.out, kMarker, "analysis folder", [&](const fs::path& partial) {
    for (const auto& [name, bytes] : files) {
      fs::create_directories((partial / "report" / name).parent_path());
      write_file_atomically((partial / "report" / name).string(), bytes);
    }
    write_file_atomically((partial / kMarker).string(), analysis.json.dump(1) + "\n");
  });

  out << "analysed " << analysis.json["settings"]["data"]["explained"].get<long>() << " images of " << request.data
      << " in " << std::fixed << std::setprecision(1) << analysis.json["seconds"].get<double>() << " s\n";
  for (const auto& c : analysis.json["classes"]) {
    out << c["class"].get<std::string>() << ": " << c["images"].size() << " images, " << c["clusters"].get<int>()
        << " cluster(s)" << (c["clusters_from_eigengap"].get<bool>() ? " (eigengap)" : "") << ", sizes";
    for (const auto& k : c["per_cluster"]) out << " " << k["size"].get<long>();
    out << "\n";
    if (c.contains("watermark")) {
      const auto& w = c["watermark"];
      auto show = [](const nlohmann::json& v) {
        std::ostringstream s;
        if (v.is_number()) s << std::setprecision(3) << v.get<double>();
        else s << "-";
        return s.str();
      };
      out << "  accuracy tagged " << show(w["accuracy"]["tagged"]) << ", untagged " << show(w["accuracy"]["untagged"])
          << "; tag mass " << show(w["tag_mass"]["mean"]) << " (area " << show(w["tag_area_fraction"])
          << "); tag flip rate " << show(w["tag_flip"]["rate"]) << "; best cluster " << w["best_cluster"]["cluster"]
          << " purity " << show(w["best_cluster"]["purity"]) << ", ARI " << show(w["best_cluster"]["adjusted_rand_index"])
          << "; tagged-majority clusters " << w["majority_split"]["tagged_clusters"].dump() << " ARI "
          << show(w["majority_split"]["adjusted_rand_index"]) << "; ARI vs corners " << show(w["adjusted_rand_index_corners"])
          << "\n";
    }
  }
  out << "results: " << (fs::path(request.out) / kMarker).string()
      << ", report: " << (fs::path(request.out) / "report" / "index.html").string() << "\n";
  return 0;
}

}  // namespace

Command add_analyse_command(CLI::App& app) {
  auto r = std::make_shared<AnalyseRequest>();
  auto* cmd = app.add_subcommand("analyse", "what does the classifier rely on: spectral relevance analysis (SpRAy) of a data set's heatmaps");
  cmd->add_option("--model", r->model, "model directory (BoW or network) or toolbox text file")->required();
  cmd->add_option("--data", r->data, "data set: scenes:FOLDER:SPLIT[:LIMIT], fashion-mnist:SPLIT[:LIMIT], a folder, ...")
      ->required();
  cmd->add_option("--out", r->out, "folder for analysis.json and report/index.html")->required();
  cmd->add_option("--class", r->classes, "analysed classes, comma-separated (default: each class); each image of a "
                                         "class is explained for that class");
  cmd->add_option("--method", r->method, "explanation method (default lrp)");
  cmd->add_option("--clusters", r->clusters, "number of clusters, or auto (default): from the largest eigengap");
  cmd->add_option("--max-clusters", r->max_clusters, "auto: the eigengap is sought among the first this many (default 10)");
  cmd->add_option("--neighbours", r->neighbours, "k of the nearest-neighbour graph (default 0: min(10, N - 1))");
  cmd->add_option("--size", r->size, "heatmaps are summed to SIZE x SIZE blocks (default 16)");
  cmd->add_option("--normalise", r->normalisation, "per heatmap: max-abs (default), sum-abs or none");
  cmd->add_option("--nearest", r->nearest, "images shown per cluster (nearest its mean heatmap; default 8)");
  cmd->add_option("--seed", r->seed, "seed of k-means, the random method and the tag-flip corners (default 1)");
  cmd->add_option("--jobs", r->jobs, "images explained at once (default 0: all cores)");
  cmd->add_flag("--quiet", r->quiet, "no progress lines");
  return {cmd, [r] {
            try {
              return run_analyse(*r, std::cout, &std::cerr);
            } catch (const UsageError&) {
              throw;
            } catch (const std::invalid_argument& e) {
              throw std::runtime_error(e.what());
            }
          }};
}

}  // namespace pixelwise
