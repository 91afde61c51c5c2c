#include "pixelwise/features/local_features.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace pixelwise {

std::vector<RowSpan> support_spans(const Frame& frame, int width, int height) {
  std::vector<RowSpan> spans;
  if (!frame.rotated()) {
    const PixelBox& b = frame.support;
    const int x0 = std::max(b.x0, 0), x1 = std::min(b.x1, width);
    if (x0 >= x1) return spans;
    for (int y = std::max(b.y0, 0); y < std::min(b.y1, height); ++y) spans.push_back({y, x0, x1});
    return spans;
  }
  const double h = frame.half_side, c = std::cos(frame.angle), s = std::sin(frame.angle);
  // Every pixel of the rotated square lies within h * sqrt(2) of the centre.
  const double reach = h * std::sqrt(2.0) + 1;
  const int y0 = std::max(0, static_cast<int>(std::floor(frame.y - reach)));
  const int y1 = std::min(height, static_cast<int>(std::ceil(frame.y + reach)) + 1);
  const int x0 = std::max(0, static_cast<int>(std::floor(frame.x - reach)));
  const int x1 = std::min(width, static_cast<int>(std::ceil(frame.x + reach)) + 1);
  for (int y = y0; y < y1; ++y) {
    int first = -1, last = -1;
    const double dy = y - frame.y;
    for (int x = x0; x < x1; ++x) {
      const double dx = x - frame.x;
      const double u = c * dx + s * dy, v = -s * dx + c * dy;
      if (u >= -h && u < h && v >= -h && v < h) {
        if (first < 0) first = x;
        last = x;
      }
    }
    if (first >= 0) spans.push_back({y, first, last + 1});
  }
  return spans;
}

PixelBox bounding_box(const std::vector<RowSpan>& spans) {
  if (spans.empty()) return {};
  PixelBox b{spans.front().x0, spans.front().y, spans.front().x1, spans.back().y + 1};
  for (const RowSpan& s : spans) {
    b.x0 = std::min(b.x0, s.x0);
    b.x1 = std::max(b.x1, s.x1);
  }
  return b;
}

const EnumNames<WeightingType>& enum_names(WeightingType) {
  static const EnumNames<WeightingType> names{{WeightingType::uniform, "uniform"}, {WeightingType::gaussian, "gaussian"},
                                                     {WeightingType::gradient, "gradient"}};
  return names;
}

const OptionSchema<SupportWeighting>& SupportWeighting::schema() {
  using F = Fields<SupportWeighting>;
  static const OptionSchema<SupportWeighting> s({F::choice("type", [](auto& w) -> auto& { return w.type; }),
                                                 F::real("sigma", [](auto& w) -> auto& { return w.sigma; }, {kMinimumSigma})});
  return s;
}

void SupportWeighting::validate() const { schema().check(*this, "support weighting"); }

}  // namespace pixelwise
