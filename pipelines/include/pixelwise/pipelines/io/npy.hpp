#pragma once
// NumPy .npy (format 1.0) for 2-D little-endian float64 / float32 arrays in C order,
// readable by numpy.load (docs/design.md section 5: raw relevance as float64 H x W).
#include <string>

#include "pixelwise/features/local_features.hpp"

namespace pixelwise {

std::string npy_bytes(const RowMatrixXd& array);
std::string npy_bytes(const RowMatrixXf& array);
/// Parses a 2-D (or 1-D, read as one row) .npy; `what` names the input in errors.
RowMatrixXd parse_npy_f8(const std::string& bytes, const std::string& what);
RowMatrixXf parse_npy_f4(const std::string& bytes, const std::string& what);

}  // namespace pixelwise
