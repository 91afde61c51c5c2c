#pragma once
// The model randomisation test of the sanity checks (Adebayo, Gilmer, Muelly,
// Goodfellow, Hardt and Kim, "Sanity checks for saliency maps", NeurIPS 2018,
// section 3.1; docs/design.md 5, docs/evaluation.md "Sanity checks"): the
// stages of a model from the top, and copies with the first stages randomised
// (cumulative, "cascading"). The paper re-initialises network layers; for the
// trained parts of a BoW model, which have no initialisation distribution, the
// trained values are permuted (classifiers/randomisation.hpp), which keeps
// their distribution exactly and destroys what they learnt.
//
// BoW model stages, top first:
//   1. the classifier (HistogramClassifier::randomisation_stages: one stage for
//      SVMs, dual coefficients permuted among the support vectors of each
//      machine or kernel-map weights across the bins; one per network layer
//      from the output for a network classifier);
//   2. "vocabulary": the codebook or GMM of every channel. Codebook: each
//      coordinate (column) of the centres permuted across the words on its
//      own, so that every coordinate keeps its trained values but a word is no
//      longer a cluster of the data. GMM: each column of the means and of the
//      variances permuted across the components on its own, and the priors
//      permuted: the priors still sum to 1 and the variances stay positive, so
//      the GMM is valid, with the trained marginal of every parameter;
//   3. "descriptor pca" (channels with one only): the columns of the
//      projection permuted (one permutation per channel), i.e. P Q for a
//      permutation matrix Q: the rows stay orthonormal (scaled alike when
//      whitened), since P Q Q^T P^T = P P^T, but they project onto directions
//      unrelated to the descriptors' covariance; the mean is kept.
// Stage s is seeded by randomisation_seed(seed, s) (channel ch of a stage by
// randomisation_seed(seed, s, ch)), so a stage is randomised the same way
// whatever stages follow it.
#include <cstdint>
#include <string>
#include <vector>

#include "pixelwise/pipelines/model/bow_model.hpp"

namespace pixelwise {

/// Each coordinate of the centres permuted across the words (above).
Codebook permute_codebook(const Codebook& codebook, std::uint64_t seed);
/// Columns of means and variances permuted across the components, priors permuted (above).
Gmm permute_gmm(const Gmm& gmm, std::uint64_t seed);
/// The columns of the projection permuted (above).
Pca permute_pca(const Pca& pca, std::uint64_t seed);

/// The stages of a BoW model, top first (above); throws std::invalid_argument
/// when its classifier kind has no randomisation.
std::vector<std::string> bow_randomisation_stages(const BowModel& model);
/// A new model with the first `stages` stages randomised (1 .. the number of
/// stages); the training info records "randomised": {stages, names, seed}.
BowModel randomise_bow_model(const BowModel& model, int stages, std::uint64_t seed);

/// The data randomisation test (Adebayo et al. 2018, 3.2): the data set with
/// its labels permuted among its images (seeded; every class keeps its count
/// of images, but an image's label no longer says what it shows). A model
/// trained on it can only memorise. `changed` (if given) counts the images
/// whose label changed.
Dataset with_permuted_labels(const Dataset& data, std::uint64_t seed, long* changed = nullptr);

}  // namespace pixelwise
