// The relevance-step mechanism (docs/design.md section 2): the loop that carries
// relevance down a chain of steps and closes every layer's account, the rule
// vocabulary of the network layers applied to the BoW pooling layer
// (hand-computed cases and a slow reference), the classifier step and the
// pixel step.
#include <boost/test/unit_test.hpp>
#include <random>

#include "pixelwise/decomposition/bow_relevance.hpp"
#include "pixelwise/decomposition/network_lrp.hpp"
#include "pixelwise/decomposition/svm_relevance.hpp"
#include "bow_toy.hpp"
#include "test_support.hpp"

using namespace pixelwise;

namespace {

// A toy step: passes `share` of each input on, keeps the rest as absorbed,
// and doubles the number of units (each value split in two halves).
class HalvingStep : public RelevanceStep {
 public:
  explicit HalvingStep(double share) : share_(share) {}
  std::string selector() const override { return "toy"; }
  Relevance relevance(const Eigen::VectorXd& upper, const LrpRule* rule) const override {
    Relevance r;
    r.account.name = "toy" + std::string(rule ? " [" + rule->name() + "]" : "");
    r.relevance.resize(2 * upper.size());
    for (long i = 0; i < upper.size(); ++i) r.relevance[2 * i] = r.relevance[2 * i + 1] = share_ * upper[i] / 2;
    r.account.absorbed = (1 - share_) * upper.sum();
    return r;
  }

 private:
  double share_;
};

// Codes of four features in one cell of a 2-word vocabulary (CSR): l0 -> w0
// (1), l1 -> w0 (3), l2 -> w1 (0.5) and w0 (0.5), l3 -> w1 (2).
BowEncoding four_features() {
  Codes codes;
  codes.words = 2;
  const std::vector<std::vector<std::pair<int, double>>> rows{{{0, 1.0}}, {{0, 3.0}}, {{1, 0.5}, {0, 0.5}}, {{1, 2.0}}};
  for (const auto& row : rows) {
    for (const auto& [w, m] : row) {
      codes.word.push_back(w);
      codes.weight.push_back(m);
    }
    codes.offsets.push_back(static_cast<int>(codes.word.size()));
  }
  return pool(codes, {{0}, {0}, {0}, {0}}, 1, PoolingOptions{});
}

// Slow, obviously-correct epsilon rule on the pooling layer: for every bin,
// every (feature, entry) with that word gets m / (sum m + eps) of its relevance.
Eigen::VectorXd pooled_epsilon_slowly(const BowEncoding& e, const Eigen::VectorXd& R, double eps) {
  Eigen::VectorXd out = Eigen::VectorXd::Zero(e.codes.features());
  for (long bin = 0; bin < R.size(); ++bin) {
    double z = 0;
    for (int l = 0; l < e.codes.features(); ++l)
      for (int k = e.codes.offsets[l]; k < e.codes.offsets[l + 1]; ++k)
        if (e.codes.word[k] == bin) z += e.codes.weight[k];
    if (z == 0) continue;
    for (int l = 0; l < e.codes.features(); ++l)
      for (int k = e.codes.offsets[l]; k < e.codes.offsets[l + 1]; ++k)
        if (e.codes.word[k] == bin) out[l] += e.codes.weight[k] / (z + eps) * R[bin];
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(propagate_closes_every_account_in_one_place) {
  Steps steps;
  steps.push_back(std::make_unique<HalvingStep>(0.75));
  steps.push_back(std::make_unique<HalvingStep>(0.5));
  const LrpRule flat = LrpRule::flat();
  const Propagation p = propagate(steps, (Eigen::VectorXd(2) << 4.0, 2.0).finished(),
                                  [&](const RelevanceStep&, int k) { return k == 1 ? &flat : nullptr; });
  BOOST_REQUIRE_EQUAL(p.layers.size(), 2u);
  BOOST_REQUIRE_EQUAL(p.relevance.size(), 3u);
  BOOST_TEST(p.layers[0].name == "toy");
  BOOST_TEST(p.layers[1].name == "toy [flat]");
  // 6 in; 4.5 passed on, 1.5 absorbed; then 2.25 on, 2.25 absorbed.
  BOOST_TEST(p.layers[0].relevance_in == 6.0);
  BOOST_TEST(p.layers[0].relevance_out == 4.5);
  BOOST_TEST(p.layers[0].absorbed == 1.5);
  BOOST_TEST(p.layers[1].relevance_in == 4.5);
  BOOST_TEST(p.layers[1].relevance_out == 2.25);
  BOOST_TEST(p.layers[1].absorbed == 2.25);
  BOOST_TEST(p.lowest().size() == 8);
  BOOST_TEST(p.lowest()[0] == 0.375);  // 4 * 0.75 / 2 * 0.5 / 2
  for (const auto& layer : p.layers) BOOST_TEST(layer.unaccounted() == 0.0);
}

BOOST_AUTO_TEST_CASE(pooling_takes_the_network_rules_by_hand) {
  const BowEncoding e = four_features();
  // z_w0 = 1 + 3 + 0.5 = 4.5, z_w1 = 0.5 + 2 = 2.5.
  const Eigen::VectorXd R = (Eigen::VectorXd(2) << 9.0, 5.0).finished();
  // LRP-0 (the default) is the sum-pooling rule of docs/design.md 1.2.
  const Relevance lrp0 = pool_relevance(e, R);
  const Eigen::VectorXd want0 = (Eigen::VectorXd(4) << 2.0, 6.0, 1.0 + 1.0, 4.0).finished();
  BOOST_TEST((lrp0.relevance - want0).cwiseAbs().maxCoeff() <= 1e-15);
  BOOST_TEST(lrp0.account.name == "pooling");
  BOOST_TEST(lrp0.account.absorbed == 0.0);
  // epsilon 0.5: denominators 5 and 3; absorbed 9 * 0.5 / 5 + 5 * 0.5 / 3.
  const LrpRule eps = LrpRule::epsilon(0.5);
  const Relevance r = pool_relevance(e, R, &eps);
  const Eigen::VectorXd want = (Eigen::VectorXd(4) << 9.0 / 5, 27.0 / 5, 0.5 * 9 / 5 + 0.5 * 5 / 3, 2.0 * 5 / 3).finished();
  BOOST_TEST((r.relevance - want).cwiseAbs().maxCoeff() <= 1e-15);
  BOOST_TEST(std::abs(r.account.absorbed - (0.9 + 2.5 / 3)) <= 1e-15);
  BOOST_TEST(std::abs(r.account.unaccounted()) <= 1e-14);
  BOOST_TEST(r.account.name == "pooling [epsilon:0.5]");
  // flat: every code entry of the bin gets an equal share (3 entries of w0, 2 of w1).
  const LrpRule flat = LrpRule::flat();
  const Relevance f = pool_relevance(e, R, &flat);
  const Eigen::VectorXd wantf = (Eigen::VectorXd(4) << 3.0, 3.0, 3.0 + 2.5, 2.5).finished();
  BOOST_TEST((f.relevance - wantf).cwiseAbs().maxCoeff() <= 1e-15);
}

BOOST_AUTO_TEST_CASE(pooling_epsilon_matches_slow_reference) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int trial = 0; trial < 10; ++trial) {
    Codes codes;
    codes.words = 7;
    const int features = 1 + static_cast<int>(rng() % 40);
    for (int l = 0; l < features; ++l) {
      for (int w = 0; w < codes.words; ++w)
        if (u(rng) < 0.3) {
          codes.word.push_back(w);
          codes.weight.push_back(u(rng));
        }
      codes.offsets.push_back(static_cast<int>(codes.word.size()));
    }
    const BowEncoding e = pool(codes, std::vector<std::vector<int>>(features, {0}), 1, PoolingOptions{});
    Eigen::VectorXd R(codes.words);
    for (long i = 0; i < R.size(); ++i) R[i] = u(rng) - 0.5;
    const LrpRule eps = LrpRule::epsilon(0.1);
    const Relevance fast = pool_relevance(e, R, &eps);
    BOOST_TEST((fast.relevance - pooled_epsilon_slowly(e, R, 0.1)).cwiseAbs().maxCoeff() <= 1e-13, "trial " << trial);
    BOOST_TEST(std::abs(fast.account.unaccounted()) <= 1e-13);
  }
}

BOOST_AUTO_TEST_CASE(classifier_step_passes_its_record_and_scales_other_relevance) {
  Relevance record;
  record.relevance = (Eigen::VectorXd(3) << 0.5, 0.25, 0.0).finished();
  record.account.name = "svm";
  record.account.absorbed = 0.25;  // f = 1 = 0.75 + 0.25
  const ClassifierStep step(record, 1.0);
  const Relevance same = step.relevance(Eigen::VectorXd::Constant(1, 1.0), nullptr);
  BOOST_TEST((same.relevance - record.relevance).cwiseAbs().maxCoeff() == 0.0);
  const Relevance half = step.relevance(Eigen::VectorXd::Constant(1, 0.5), nullptr);
  BOOST_TEST(half.relevance[0] == 0.25);
  BOOST_TEST(half.account.absorbed == 0.125);
  const LrpRule eps = LrpRule::epsilon(0.1);
  BOOST_CHECK_THROW(step.relevance(Eigen::VectorXd::Constant(1, 1.0), &eps), std::invalid_argument);
  BOOST_CHECK_THROW(step.relevance(Eigen::VectorXd::Constant(2, 1.0), nullptr), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(bow_chain_conserves_and_pixel_step_takes_only_flat) {
  // Two features with 2 x 2 supports on a 4 x 4 image, one word each.
  Codes codes;
  codes.words = 2;
  for (int w : {0, 1}) {
    codes.word.push_back(w);
    codes.weight.push_back(1.0);
    codes.offsets.push_back(static_cast<int>(codes.word.size()));
  }
  const BowEncoding e = pool(codes, {{0}, {0}}, 1, PoolingOptions{});
  const std::vector<Frame> frames{test::frame_with_box(0, 0, 2, 2), test::frame_with_box(2, 2, 4, 4)};
  const std::vector<BowChannelRecord> channel{{"grey", &e, nullptr, 0, &frames, SupportWeighting{}}};
  Steps steps;
  steps.push_back(std::make_unique<PoolingStep>(channel));
  steps.push_back(std::make_unique<PixelStep>(channel, 4, 4));
  const Propagation p = propagate(steps, (Eigen::VectorXd(2) << 4.0, -2.0).finished());
  const RowMatrixXd map = pixel_map(p.lowest(), 4, 4);
  BOOST_TEST(map(0, 0) == 1.0);
  BOOST_TEST(map(3, 3) == -0.5);
  BOOST_TEST(map(0, 3) == 0.0);
  BOOST_TEST(p.layers[1].relevance_out == 2.0);
  BOOST_REQUIRE_EQUAL(p.parts[1].size(), 1u);
  BOOST_TEST((p.parts[1][0].relevance - p.lowest()).cwiseAbs().maxCoeff() == 0.0);
  const LrpRule lrp0 = LrpRule::lrp0();
  BOOST_CHECK_THROW(propagate(steps, Eigen::VectorXd::Ones(2), [&](const RelevanceStep& s, int) {
                      return s.selector() == "pixels" ? &lrp0 : nullptr;
                    }),
                    std::invalid_argument);
}
