#pragma once
// What does a classifier rely on across a data set? `pixelwise analyse`
// (docs/design.md 7, docs/evaluation.md "Data-set-wide analysis"): the images
// of each analysed class explained for their own class through the one
// explanation loop (evaluate.hpp, explain_images), then spectral relevance
// analysis of their heatmaps (decomposition/spray.hpp; Lapuschkin et al.,
// Nature Communications 10:1096, 2019).
//
// On watermark scenes (benchmark_scenes.hpp) the Clever Hans measures of the
// tagged class C are added:
//   accuracy           of the model on the tagged and on the untagged images;
//   tag mass           per tagged image of C: positive relevance inside the tag
//                      mask / all positive relevance (relevance mass accuracy,
//                      metrics.hpp, against the tag), beside the tag's area
//                      fraction (its chance level), and the rank accuracy;
//   tag flip           the untagged images of other classes not predicted C:
//                      the tag pasted into a corner (seeded per image), the
//                      share whose prediction becomes C;
//   clusters vs tag    per cluster the share of tagged images (purity), and
//                      the cluster whose membership best matches the tagged
//                      flag (adjusted Rand index of the two-way split), and
//                      the adjusted Rand index of the whole clustering.
#include <cstdint>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pixelwise/decomposition/spray.hpp"
#include "pixelwise/pipelines/evaluation/evaluate.hpp"
#include "pixelwise/pipelines/evaluation/report.hpp"

namespace pixelwise {

struct AnalysisOptions {
  ExplainMethod method = ExplainMethod::lrp;
  std::vector<std::string> classes;  ///< class names or indices; empty: every class of the model
  SprayOptions spray;                ///< spray.seed is set from `seed`
  ExplainSettings method_settings;   ///< method_settings.seed is set from `seed`
  std::uint64_t seed = 1;            ///< the random method, k-means and the tag-flip corners
  int jobs = 0;                      ///< images at once (0: all cores; 1 for a model that is not concurrent)
  BatchOptions batching;             ///< occlusion's batched evaluations
  void validate() const;
};

/// One analysed class: its images (data set indices, in data set order),
/// their heatmaps and scores, and SpRAy's result on them.
struct ClassAnalysis {
  int class_index = 0;
  std::vector<long> images;
  std::vector<RowMatrixXd> heatmaps;
  std::vector<double> scores;          ///< the explained (own) class's score
  std::vector<Eigen::VectorXd> outputs; ///< every class's score
  std::vector<int> predicted;
  SprayResult spray;
};

struct Analysis {
  nlohmann::json json;  ///< format "pixelwise-analysis" (analysis.json)
  std::vector<ClassAnalysis> classes;
};

/// Analyses the images of `data` whose label is one of the chosen classes.
/// Throws std::invalid_argument for a class the model lacks, a method it does
/// not offer, or a class with fewer than two images; std::runtime_error for
/// data whose classes differ from the model's or images without labels.
Analysis analyse(const ExplainableModel& model, const MaskedDataset& data, const AnalysisOptions& options,
                 std::ostream* log);

/// The HTML report (report/index.html and its images; checked in a browser as
/// the evaluation report, report.hpp): per class the eigenvalues with the
/// gap, the embedding coloured by cluster, per cluster its mean heatmap and
/// the images nearest its centre with their heatmaps.
ReportFiles render_analysis_report(const Analysis& analysis, const MaskedDataset& data);

}  // namespace pixelwise
