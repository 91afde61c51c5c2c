#pragma once
// Data sets and image references.
//
// A data set SPEC is either
//   fashion-mnist:SPLIT[:LIMIT]   Debian's dataset-fashion-mnist (SPLIT train or test;
//                                 the first LIMIT images of the split)
//   PATH                          a folder with one sub-folder of images per class
//   voc:ROOT:CLASS:SPLIT[:LIMIT]  a PASCAL VOC folder (ROOT holds JPEGImages/ and
//                                 ImageSets/Main/CLASS_SPLIT.txt, lines "ID 1|-1|0");
//                                 classes "not-CLASS" (-1) and CLASS (1); images
//                                 marked 0 (difficult) are skipped
// An image reference is either an image file or fashion-mnist:SPLIT@INDEX.
// The Fashion-MNIST folder is /usr/share/datasets/fashion-mnist unless the
// environment variable PIXELWISE_FASHION_MNIST_DIR names another.
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "pixelwise/features/image.hpp"

namespace pixelwise {

struct ImageSample {
  std::string name;    ///< stem used for output files
  std::string source;  ///< where it came from (file path or reference), for messages
  cv::Mat gray;      ///< CV_32F in [0, 1]
  cv::Mat colour;    ///< CV_32FC3 (BGR) in [0, 1] when the source has colour, else empty
  int label = -1;    ///< class index, -1 when unknown
};

struct Dataset {
  std::string spec;
  std::vector<std::string> classes;
  std::vector<ImageSample> images;
};

/// A data set or one image; `oversize` says what to do with an image above
/// the pixel limit (a BoW model's "input" configuration; docs/errors.md, "Limits").
Dataset load_dataset(const std::string& spec, OversizeImages oversize = OversizeImages::refuse);
ImageSample load_image_reference(const std::string& reference, OversizeImages oversize = OversizeImages::refuse);

const std::vector<std::string>& fashion_mnist_classes();
std::string fashion_mnist_dir();

}  // namespace pixelwise
