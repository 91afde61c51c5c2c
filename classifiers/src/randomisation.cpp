// Model randomisation by permuting trained parameters (randomisation.hpp;
// Adebayo et al. 2018, section 3.1).
#include "pixelwise/classifiers/randomisation.hpp"

#include <algorithm>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>

namespace pixelwise {

std::vector<long> seeded_permutation(long n, std::uint64_t seed) {
  std::vector<long> p(static_cast<size_t>(std::max(0L, n)));
  for (long i = 0; i < n; ++i) p[static_cast<size_t>(i)] = i;
  std::mt19937_64 rng(seed);
  // Fisher-Yates; j uniform in 0..i by rejection, so that no library
  // distribution decides the result.
  for (long i = n - 1; i > 0; --i) {
    const std::uint64_t range = static_cast<std::uint64_t>(i) + 1;
    const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % range;
    std::uint64_t draw;
    do draw = rng();
    while (draw >= limit);
    std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(draw % range)]);
  }
  return p;
}

std::uint64_t randomisation_seed(std::uint64_t seed, long stage, long part) {
  std::uint64_t x = seed * 0x9e3779b97f4a7c15ULL + static_cast<std::uint64_t>(stage) * 0xd1b54a32d192ed03ULL +
                    static_cast<std::uint64_t>(part) * 0x8cb92ba72f3d8dd7ULL + 0x2545f4914f6cdd1dULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

OneVsRestSvm permute_svm_coefficients(const OneVsRestSvm& svm, std::uint64_t seed) {
  std::vector<BinaryMachine> machines;
  for (int c = 0; c < svm.classes(); ++c) {
    BinaryMachine m = svm.machine(c);
    const std::vector<long> p = seeded_permutation(static_cast<long>(m.coef.size()), randomisation_seed(seed, 0, c));
    std::vector<double> coef(m.coef.size());
    for (size_t i = 0; i < coef.size(); ++i) coef[i] = m.coef[static_cast<size_t>(p[i])];
    m.coef = std::move(coef);
    machines.push_back(std::move(m));
  }
  return OneVsRestSvm(svm.kernel_function(), svm.support_vectors(), std::move(machines));
}

MappedLinearSvm permute_mapped_weights(const MappedLinearSvm& svm, std::uint64_t seed) {
  const int e = svm.feature_map().expansion();
  const long bins = svm.dimension();
  RowMatrixXd w(svm.weights().rows(), svm.weights().cols());
  for (int c = 0; c < svm.classes(); ++c) {
    const std::vector<long> p = seeded_permutation(bins, randomisation_seed(seed, 0, c));
    for (long d = 0; d < bins; ++d) w.block(c, d * e, 1, e) = svm.weights().block(c, p[static_cast<size_t>(d)] * e, 1, e);
  }
  return MappedLinearSvm(svm.feature_map().options(), std::move(w), svm.bias());
}

std::vector<int> affine_layers_from_output(const Network& network) {
  std::vector<int> layers;
  for (int k = network.size() - 1; k >= 0; --k)
    if (dynamic_cast<const AffineLayer*>(&network.layer(k))) layers.push_back(k);
  return layers;
}

Network randomise_network_layers(const Network& network, int count, std::uint64_t seed, int first_stage) {
  const std::vector<int> layers = affine_layers_from_output(network);
  if (count < 0 || count > static_cast<int>(layers.size()))
    throw std::invalid_argument("network randomisation: " + std::to_string(count) + " layers asked for, the network has " +
                                std::to_string(layers.size()) + " affine layers");
  Network out = network;
  for (int i = 0; i < count; ++i) {
    auto& layer = dynamic_cast<AffineLayer&>(out.layer(layers[static_cast<size_t>(i)]));
    const std::uint64_t s = randomisation_seed(seed, first_stage + i);
    const std::vector<long> pw = seeded_permutation(layer.weights.size(), randomisation_seed(s, 0, 0));
    const std::vector<long> pb = seeded_permutation(layer.bias.size(), randomisation_seed(s, 0, 1));
    const RowMatrixXd w = layer.weights;
    const Eigen::VectorXd b = layer.bias;
    for (long q = 0; q < w.size(); ++q) layer.weights.data()[q] = w.data()[pw[static_cast<size_t>(q)]];
    for (long q = 0; q < b.size(); ++q) layer.bias[q] = b[pb[static_cast<size_t>(q)]];
  }
  return out;
}

}  // namespace pixelwise
