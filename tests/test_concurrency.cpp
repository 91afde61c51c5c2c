// One model, several threads: explanations computed concurrently
// from a shared, read-only model equal the sequential ones to the last bit,
// for exact and kd-forest codebook search (VLFeat searchers per call) and
// with the SVM's per-dimension tables built lazily by whichever thread comes first.
#include <boost/test/unit_test.hpp>
#include <thread>

#include "pixelwise/pipelines/explain/bow_explain.hpp"
#include "pixelwise/pipelines/model/bow_model.hpp"
#include "test_support.hpp"

using namespace pixelwise;

namespace {

BowModel tiny_model(const std::string& search, const Dataset& train) {
  nlohmann::json config = nlohmann::json::parse(R"({
    "descriptor": {"step": 3, "bin_sizes": [3, 4]},
    "codebook": {"words": 16, "training_descriptors": 2000, "seed": 5},
    "coding": {"type": "soft", "knn": 3, "sigma": 0.3},
    "pooling": {"type": "sum", "pyramid": [[1, 1], [2, 2]]},
    "svm": {"kernel": "hik", "C": 10}
  })");
  config["codebook"]["search"] = search;
  return BowModel::train(PipelineConfig::parse(config), train, nullptr);
}

}  // namespace

BOOST_AUTO_TEST_CASE(concurrent_explanations_equal_sequential_ones) {
  const Dataset train = load_dataset("fashion-mnist:train:120");
  const Dataset test = load_dataset("fashion-mnist:test:24");
  for (const std::string search : {"exact", "kdforest"}) {
    BOOST_TEST_CONTEXT(search) {
      const BowModel model = tiny_model(search, train);
      const long n = static_cast<long>(test.images.size());
      // Concurrent first, so that the threads race to build the SVM tables.
      std::vector<BowExplanation> parallel(n);
      std::vector<std::thread> threads;
      for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
          for (long i = t; i < n; i += 4)
            parallel[i] = explain(model, test.images[i].gray, -1, BiasPolicy::nonzero, test.images[i].name);
        });
      for (auto& th : threads) th.join();
      for (long i = 0; i < n; ++i) {
        const BowExplanation one = explain(model, test.images[i].gray, -1, BiasPolicy::nonzero, test.images[i].name);
        BOOST_TEST(parallel[i].class_index == one.class_index);
        BOOST_TEST((parallel[i].scores == one.scores));
        BOOST_TEST((parallel[i].bin_relevance == one.bin_relevance));
        BOOST_TEST((parallel[i].feature_relevance == one.feature_relevance));
        BOOST_TEST((parallel[i].pixels == one.pixels));
        BOOST_TEST(parallel[i].pixel_sum == one.pixel_sum);
        // Not a vacuous comparison: real explanations that conserve the score.
        BOOST_TEST(std::abs(one.pixel_sum - one.score) <= 1e-9 * std::max(1.0, std::abs(one.score)));
        BOOST_TEST(one.pixels.cwiseAbs().maxCoeff() > 0.0);
      }
    }
  }
}
