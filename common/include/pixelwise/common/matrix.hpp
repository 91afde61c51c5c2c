#pragma once
// The matrix types every part uses: row-major, so that a row is one sample
// (a descriptor, a histogram, an image row) and maps to numpy without a copy.
#include <Eigen/Core>

namespace pixelwise {

using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace pixelwise
