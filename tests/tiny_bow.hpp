#pragma once
// A tiny BoW pipeline that trains in a second on a hundred Fashion-MNIST
// images: 2 SIFT scales, 24 words, 1x1 + 2x2 pyramid, C = 10.
#include <nlohmann/json.hpp>
#include <string>

#include "pixelwise/pipelines/bow_model.hpp"

namespace pixelwise::test {

inline PipelineConfig tiny_config(const std::string& kernel) {
  PipelineConfig c = PipelineConfig::parse(nlohmann::json::parse(R"({
    "descriptor": {"step": 3, "bin_sizes": [3, 4]},
    "codebook": {"words": 24, "training_descriptors": 3000, "seed": 3},
    "pooling": {"type": "sum", "pyramid": [[1, 1], [2, 2]]},
    "svm": {"C": 10}
  })"));
  c.svm.kernel = kernel;
  return c;
}

}  // namespace pixelwise::test
