#pragma once
// The bow_toy cases (tests/data/bow_toy/README.md) as the
// library's types: support vectors, descriptor frames, pyramid cells, and the
// encoding of a case from its given codes M. Used by the exact (additive) and
// the Taylor (expchi2) checks.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pixelwise/classifiers/svm.hpp"
#include "pixelwise/features/bow.hpp"
#include "test_support.hpp"

namespace pixelwise::test {

inline Frame frame_with_box(int x0, int y0, int x1, int y1) {
  Frame f;
  f.x = (x0 + x1) / 2.0;
  f.y = (y0 + y1) / 2.0;
  f.support = {x0, y0, x1, y1};
  return f;
}

struct BowToy {
  nlohmann::json toy = read_json(reference_dir() + "/bow_toy/toy_cases.json");
  int V = static_cast<int>(toy["codebook"].size());
  int height = toy["image_shape"][0], width = toy["image_shape"][1];
  std::vector<std::vector<int>> blocks = toy["blocks"].get<std::vector<std::vector<int>>>();
  RowMatrixXd sv;
  std::vector<Frame> frames;
  std::vector<std::vector<int>> cells_of;  ///< pyramid cells of each descriptor

  BowToy() {
    const auto rows = toy["sv"].get<std::vector<std::vector<double>>>();
    sv.resize(static_cast<long>(rows.size()), static_cast<long>(rows[0].size()));
    for (size_t i = 0; i < rows.size(); ++i)
      for (size_t d = 0; d < rows[i].size(); ++d) sv(static_cast<long>(i), static_cast<long>(d)) = rows[i][d];
    for (const auto& b : toy["boxes_x0y0x1y1_exclusive"])
      frames.push_back(frame_with_box(b[0], b[1], b[2], b[3]));
    cells_of.resize(frames.size());
    for (size_t c = 0; c < blocks.size(); ++c)
      for (size_t l = 0; l < frames.size(); ++l)
        if (blocks[c][l]) cells_of[l].push_back(static_cast<int>(c));
  }

  /// The case's codes M pooled over the 1x1 + 2x2 pyramid and L1-normalised.
  BowEncoding encode(const nlohmann::json& tc) const {
    Codes codes;
    codes.words = V;
    for (const auto& row : tc["M"]) {
      for (int d = 0; d < V; ++d)
        if (row[d].get<double>() != 0) {
          codes.word.push_back(d);
          codes.weight.push_back(row[d]);
        }
      codes.offsets.push_back(static_cast<int>(codes.word.size()));
    }
    PoolingOptions pooling;
    pooling.pyramid = {{1, 1}, {2, 2}};
    BowEncoding e = pool(codes, cells_of, static_cast<int>(blocks.size()), pooling);
    e.histogram = normalise(e.pooled, NormalisationOptions{});
    return e;
  }
};

}  // namespace pixelwise::test
