#pragma once
// Model randomisation for the sanity checks (Adebayo, Gilmer, Muelly,
// Goodfellow, Hardt and Kim, "Sanity checks for saliency maps", NeurIPS 2018,
// section 3.1 "cascading randomization"; docs/evaluation.md "Sanity checks").
// The paper re-initialises a network's weights from the initialisation
// distribution, layer by layer from the output. A trained SVM or codebook has
// no initialisation distribution; we permute its trained parameters instead:
// the randomised model has exactly the trained values (the same multiset, so
// the same distribution), but their assignment to support vectors, bins, words
// or units is random, which destroys what training learnt about the data.
// Every permutation is seeded (Fisher-Yates on std::mt19937_64, no standard
// library distribution, so the result does not depend on the library).
#include <cstdint>
#include <vector>

#include "pixelwise/classifiers/homkermap_svm.hpp"
#include "pixelwise/classifiers/network.hpp"
#include "pixelwise/classifiers/svm.hpp"

namespace pixelwise {

/// A seeded uniform random permutation of 0 .. n-1.
std::vector<long> seeded_permutation(long n, std::uint64_t seed);
/// The seed of randomisation stage `stage` (1-based, top first) of a run seeded
/// with `seed`, and of part `part` within a stage (a 64-bit mix): a stage
/// is randomised the same way whatever stages follow it.
std::uint64_t randomisation_seed(std::uint64_t seed, long stage, long part = 0);

/// Every machine's dual coefficients (alpha_i y_i) permuted among its support
/// vectors (machine c seeded by randomisation_seed(seed, 0, c)); the support
/// vectors and the biases are kept.
OneVsRestSvm permute_svm_coefficients(const OneVsRestSvm& svm, std::uint64_t seed);

/// Every class's weights permuted across the bins: the 2n + 1 weights of one
/// bin move together (for the linear kernel, n = 0, every weight on its own),
/// so that each bin gets another bin's trained function h_{c,d}; biases kept.
MappedLinearSvm permute_mapped_weights(const MappedLinearSvm& svm, std::uint64_t seed);

/// The affine (Linear, Convolution) layers of a network, output first: its
/// randomisation stages.
std::vector<int> affine_layers_from_output(const Network& network);
/// A copy whose first `count` affine layers from the output have their
/// weights permuted among all weights of the layer and their biases among its
/// units; affine layer i (1-based from the output) seeded by
/// randomisation_seed(seed, first_stage + i - 1). Throws std::invalid_argument
/// when count exceeds the affine layers.
Network randomise_network_layers(const Network& network, int count, std::uint64_t seed, int first_stage = 1);

}  // namespace pixelwise
