#include "pixelwise/decomposition/bow_relevance.hpp"

#include <stdexcept>

namespace pixelwise {

FeatureRelevance pool_relevance(const BowEncoding& e, const Eigen::VectorXd& bin_relevance) {
  if (bin_relevance.size() != e.pooled.size())
    throw std::invalid_argument("pooling relevance: " + std::to_string(bin_relevance.size()) +
                                " bin relevances for a histogram of " + std::to_string(e.pooled.size()));
  const Codes& codes = e.codes;
  FeatureRelevance out;
  out.relevance = Eigen::VectorXd::Zero(codes.features());
  for (int l = 0; l < codes.features(); ++l)
    for (int c : e.cells_of[l])
      for (int k = codes.offsets[l]; k < codes.offsets[l + 1]; ++k) {
        const long bin = static_cast<long>(c) * codes.words + codes.word[k];
        if (e.pooled[bin] > 0) out.relevance[l] += bin_relevance[bin] * codes.weight[k] / e.pooled[bin];
      }
  double unassigned = 0;
  for (long bin = 0; bin < e.pooled.size(); ++bin)
    if (!(e.pooled[bin] > 0)) unassigned += bin_relevance[bin];
  out.layer.name = "pooling";
  out.layer.relevance_in = bin_relevance.sum();
  out.layer.relevance_out = out.relevance.sum();
  out.layer.unassigned = unassigned;
  return out;
}

PixelRelevance spread_to_pixels(const std::vector<Frame>& frames, const Eigen::VectorXd& feature_relevance,
                                int width, int height) {
  if (static_cast<long>(frames.size()) != feature_relevance.size())
    throw std::invalid_argument("pixel relevance: frames and relevances differ in number");
  if (width < 1 || height < 1) throw std::invalid_argument("pixel relevance: empty image");
  RowMatrixXd diff = RowMatrixXd::Zero(height + 1, width + 1);
  double unassigned = 0;
  for (size_t l = 0; l < frames.size(); ++l) {
    const PixelBox& box = frames[l].support;
    if (box.x0 < 0 || box.y0 < 0 || box.x1 > width || box.y1 > height)
      throw std::invalid_argument("pixel relevance: a support box lies outside the image");
    if (box.area() <= 0) {
      unassigned += feature_relevance[l];
      continue;
    }
    const double v = feature_relevance[l] / static_cast<double>(box.area());
    diff(box.y0, box.x0) += v;
    diff(box.y0, box.x1) -= v;
    diff(box.y1, box.x0) -= v;
    diff(box.y1, box.x1) += v;
  }
  PixelRelevance out;
  out.relevance = RowMatrixXd::Zero(height, width);
  for (int y = 0; y < height; ++y) {
    double row = 0;
    for (int x = 0; x < width; ++x) {
      row += diff(y, x);
      out.relevance(y, x) = row + (y > 0 ? out.relevance(y - 1, x) : 0.0);
    }
  }
  out.layer.name = "pixels";
  out.layer.relevance_in = feature_relevance.sum();
  out.layer.relevance_out = out.relevance.sum();
  out.layer.unassigned = unassigned;
  return out;
}

}  // namespace pixelwise
