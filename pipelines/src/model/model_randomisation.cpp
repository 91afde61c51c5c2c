// The model randomisation of BoW models (model_randomisation.hpp; Adebayo et al. 2018, 3.1).
#include "pixelwise/pipelines/model/model_randomisation.hpp"

#include <algorithm>
#include <stdexcept>

#include "pixelwise/classifiers/randomisation.hpp"

namespace pixelwise {
namespace {

// Each column of m permuted across the rows on its own, column j seeded by part j.
template <typename Matrix>
Matrix permute_columns_across_rows(const Matrix& m, std::uint64_t seed) {
  Matrix out(m.rows(), m.cols());
  for (long j = 0; j < m.cols(); ++j) {
    const std::vector<long> p = seeded_permutation(m.rows(), randomisation_seed(seed, 0, j));
    for (long i = 0; i < m.rows(); ++i) out(i, j) = m(p[static_cast<size_t>(i)], j);
  }
  return out;
}

constexpr const char* kVocabularyStage = "vocabulary (codebook or GMM of every channel)";
constexpr const char* kPcaStage = "descriptor pca";

bool has_pca(const BowModel& model) {
  for (const Pca& p : model.pcas)
    if (!p.empty()) return true;
  return false;
}

}  // namespace

Codebook permute_codebook(const Codebook& codebook, std::uint64_t seed) {
  return Codebook(permute_columns_across_rows(codebook.centres(), seed), codebook.options());
}

Gmm permute_gmm(const Gmm& gmm, std::uint64_t seed) {
  Gmm out;
  out.means = permute_columns_across_rows(gmm.means, randomisation_seed(seed, 0, 0));
  out.variances = permute_columns_across_rows(gmm.variances, randomisation_seed(seed, 0, 1));
  const std::vector<long> p = seeded_permutation(gmm.priors.size(), randomisation_seed(seed, 0, 2));
  out.priors.resize(gmm.priors.size());
  for (long k = 0; k < gmm.priors.size(); ++k) out.priors[k] = gmm.priors[p[static_cast<size_t>(k)]];
  out.validate("randomised GMM");
  return out;
}

Pca permute_pca(const Pca& pca, std::uint64_t seed) {
  Pca out = pca;
  const std::vector<long> p = seeded_permutation(pca.projection.cols(), seed);
  for (long j = 0; j < pca.projection.cols(); ++j) out.projection.col(j) = pca.projection.col(p[static_cast<size_t>(j)]);
  return out;
}

std::vector<std::string> bow_randomisation_stages(const BowModel& model) {
  std::vector<std::string> stages = model.classifier->randomisation_stages();
  if (stages.empty())
    throw std::invalid_argument("classifier kind \"" + model.classifier->kind() +
                                "\" has no model randomisation (sanity checks, docs/evaluation.md)");
  stages.push_back(kVocabularyStage);
  if (has_pca(model)) stages.push_back(kPcaStage);
  return stages;
}

BowModel randomise_bow_model(const BowModel& model, int stages, std::uint64_t seed) {
  const std::vector<std::string> names = bow_randomisation_stages(model);
  check_randomisation_stages(stages, static_cast<long>(names.size()), "BoW model");
  const int classifier_stages = static_cast<int>(model.classifier->randomisation_stages().size());
  BowModel out;
  out.config = model.config;
  out.classes = model.classes;
  out.channels = model.channels;
  out.class_means = model.class_means;
  out.class_counts = model.class_counts;
  out.training_info = model.training_info;
  out.classifier = model.classifier->randomised(std::min(stages, classifier_stages), seed);
  const int vocabulary = classifier_stages + 1, pca = classifier_stages + 2;
  for (size_t ch = 0; ch < model.channels.size(); ++ch) {
    const long part = static_cast<long>(ch);
    const bool words = model.codebooks[ch].words() > 0;
    if (stages >= vocabulary && words)
      out.codebooks.push_back(permute_codebook(model.codebooks[ch], randomisation_seed(seed, vocabulary, part)));
    else if (words)
      out.codebooks.emplace_back(model.codebooks[ch].centres(), model.codebooks[ch].options());
    else
      out.codebooks.emplace_back();
    const bool mixture = model.gmms[ch].components() > 0;
    out.gmms.push_back(stages >= vocabulary && mixture ? permute_gmm(model.gmms[ch], randomisation_seed(seed, vocabulary, part))
                                                       : model.gmms[ch]);
    const bool projected = !model.pcas[ch].empty();
    out.pcas.push_back(stages >= pca && projected ? permute_pca(model.pcas[ch], randomisation_seed(seed, pca, part))
                                                  : model.pcas[ch]);
  }
  out.training_info["randomised"] = {
      {"stages", stages},
      {"names", std::vector<std::string>(names.begin(), names.begin() + stages)},
      {"seed", seed},
      {"method", "trained parameters permuted (Adebayo et al. 2018, 3.1; docs/evaluation.md, \"Sanity checks\")"}};
  return out;
}

Dataset with_permuted_labels(const Dataset& data, std::uint64_t seed, long* changed) {
  Dataset out = data;
  const std::vector<long> p = seeded_permutation(static_cast<long>(data.images.size()), seed);
  long count = 0;
  for (size_t i = 0; i < data.images.size(); ++i) {
    out.images[i].label = data.images[static_cast<size_t>(p[i])].label;
    count += out.images[i].label != data.images[i].label;
  }
  if (changed) *changed = count;
  return out;
}

}  // namespace pixelwise
