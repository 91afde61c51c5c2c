#pragma once
// The parts of the `pixelwise` Python module, one binding source each.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <opencv2/core.hpp>

#include "pixelwise/features/local_features.hpp"

namespace pixelwise::python {

void bind_bow(pybind11::module_& m);         // bow.cpp: images, data sets, heatmaps, BowModel
void bind_blocks(pybind11::module_& m);      // blocks.cpp: descriptors, codebooks, coding, pooling, SVMs, relevance steps
void bind_network(pybind11::module_& m);     // network.cpp: NetworkModel, network explanations
void bind_evaluation(pybind11::module_& m);  // evaluation.cpp: Model (any kind), methods, baselines, metrics

/// render_heatmap for a relevance map and an optional image (None: white) as an RGB uint8 array.
pybind11::array heatmap_array(const RowMatrixXd& relevance, const pybind11::handle& image, double scale, int min_side);
/// The same for a grey CV_32FC1 image (empty: white).
pybind11::array render_rgb(const RowMatrixXd& relevance, const cv::Mat& gray, double scale, int min_side);

}  // namespace pixelwise::python
