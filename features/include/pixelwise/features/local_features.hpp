#pragma once
// Local features of one image: descriptors, frames and pixel supports
// (DESIGN.md section 1, notation l = 1..M, supp(l)).
#include <Eigen/Core>
#include <vector>

namespace pixelwise {

using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Pixel rectangle [x0, x1) x [y0, y1), already clipped to the image.
struct PixelBox {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  int width() const { return x1 - x0; }
  int height() const { return y1 - y0; }
  long area() const { return static_cast<long>(width()) * height(); }
  bool contains(int x, int y) const { return x >= x0 && x < x1 && y >= y0 && y < y1; }
};

/// Where a descriptor was computed: centre (x right, y down, in pixels), the
/// bin size it was computed with and the support square it summarises.
struct Frame {
  double x = 0, y = 0;
  int bin_size = 0;
  PixelBox support;
};

struct LocalFeatures {
  int image_width = 0, image_height = 0;
  RowMatrixXf descriptors;    ///< M x D, one descriptor a row
  std::vector<Frame> frames;  ///< M frames, same order
  int size() const { return static_cast<int>(frames.size()); }
};

}  // namespace pixelwise
