// Homogeneous kernel maps + linear SVMs against exact additive-kernel SVMs on
// Fashion-MNIST (docs/performance.md). One BoW pipeline (the demo
// configuration, codebook learnt on the first 3000 training images) gives the
// histograms; then, for training sets of growing size, the exact kernel SVM
// (libsvm, precomputed kernel matrix) and the linear SVM on the order-n map
// (VLFeat SDCA) are trained and tested on the 10000 test images: accuracy,
// training time, per-image decision time, model memory. The exact SVMs'
// accuracy comes from the per-dimension tables (the same decisions as the
// direct kernel sum to 1e-12, tests/test_additive_tables.cpp); the direct sum
// is only timed, on the first 1000 test images.
//   homkermap_fashion [CONFIG] [KERNEL_SIZES] [MAP_SIZES] [ORDERS]
//   defaults: configs/demo.json, "3000,10000", "3000,10000,60000", "1,2,3"
//   (an empty list skips that part, e.g. "" for no exact SVMs)
// Run from the source folder (scripts/bench.sh with PIXELWISE_BENCH_HOMKERMAP=1).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "pixelwise/classifiers/homkermap_svm.hpp"
#include "pixelwise/common/batch.hpp"
#include "pixelwise/pipelines/model/bow_model.hpp"
#include "pixelwise/pipelines/model/classifier_kinds.hpp"

using namespace pixelwise;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::vector<long> sizes(const std::string& text) {
  std::vector<long> out;
  std::stringstream s(text);
  for (std::string item; std::getline(s, item, ',');) out.push_back(std::stol(item));
  return out;
}

struct Histograms {
  RowMatrixXd X;
  std::vector<int> labels;
};

Histograms histograms(const BowModel& model, const Dataset& data) {
  Histograms h;
  h.X.resize(static_cast<long>(data.images.size()), model.dimension());
  h.labels.resize(data.images.size());
  for_each_parallel(static_cast<long>(data.images.size()), 0, [&](long i) {
    h.X.row(i) = model.histogram(model.input(data.images[i]), data.images[i].source).transpose();
    h.labels[i] = data.images[i].label;
  });
  return h;
}

template <typename Scores>
std::pair<double, double> accuracy_and_ms(const Histograms& test, Scores&& scores, long count = -1) {
  const long n = count < 0 ? test.X.rows() : std::min<long>(count, test.X.rows());
  long correct = 0;
  const auto start = Clock::now();
  for (long i = 0; i < n; ++i) {
    int best;
    scores(Eigen::VectorXd(test.X.row(i).transpose())).maxCoeff(&best);
    correct += best == test.labels[i];
  }
  return {static_cast<double>(correct) / n, 1e3 * since(start) / n};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string config_path = argc > 1 ? argv[1] : "configs/demo.json";
    const std::vector<long> kernel_sizes = sizes(argc > 2 ? argv[2] : "3000,10000");
    const std::vector<long> map_sizes = sizes(argc > 3 ? argv[3] : "3000,10000,60000");
    const std::vector<long> orders = sizes(argc > 4 ? argv[4] : "1,2,3");
    long largest = 0;
    for (long n : kernel_sizes) largest = std::max(largest, n);
    for (long n : map_sizes) largest = std::max(largest, n);

    auto t = Clock::now();
    const PipelineConfig config = PipelineConfig::load(config_path);
    const BowModel pipeline = BowModel::train(config, load_dataset("fashion-mnist:train:3000"), nullptr);
    std::cerr << "pipeline (codebook, 3000 images): " << since(t) << " s\n";
    t = Clock::now();
    const Histograms train = histograms(pipeline, load_dataset("fashion-mnist:train:" + std::to_string(largest)));
    const Histograms test = histograms(pipeline, load_dataset("fashion-mnist:test"));
    std::cerr << "histograms of " << train.X.rows() << " + " << test.X.rows() << " images: " << since(t) << " s\n";

    std::printf("| classifier | training images | test accuracy (10000) | training s | decision ms/image | model MB |\n");
    std::printf("|---|---|---|---|---|---|\n");
    for (const char* kernel : {"hik", "chi2"}) {
      for (long n : kernel_sizes) {
        SvmOptions options = config.section<SvmSection>()->options;
        options.kernel = parse_kernel(kernel);
        t = Clock::now();
        const OneVsRestSvm svm =
            OneVsRestSvm::train(train.X.topRows(n), std::vector<int>(train.labels.begin(), train.labels.begin() + n), 10, options);
        const double seconds = since(t);
        const auto direct = accuracy_and_ms(test, [&](const Eigen::VectorXd& x) { return svm.decisions(x); }, 1000);
        svm.evaluate_additive(test.X.row(0).transpose());  // tables built outside the timing
        const auto tables = accuracy_and_ms(test, [&](const Eigen::VectorXd& x) { return svm.evaluate_additive(x).scores; });
        std::printf("| exact %s kernel SVM (%ld SVs) | %ld | %.4f | %.1f | %.3f direct, %.3f tables | %.1f |\n", kernel,
                    static_cast<long>(svm.support_vectors().rows()), n, tables.first, seconds, direct.second,
                    tables.second, svm.support_vectors().size() * 8.0 / (1 << 20));
        std::fflush(stdout);
      }
      for (long order : orders) {
        FeatureMapOptions map;
        map.kernel = parse_kernel(kernel);
        map.order = static_cast<int>(order);
        LinearSvmOptions options;
        options.C = config.section<SvmSection>()->options.C;
        for (long n : map_sizes) {
          t = Clock::now();
          const MappedLinearSvm svm = MappedLinearSvm::train(
              train.X.topRows(n), std::vector<int>(train.labels.begin(), train.labels.begin() + n), 10, map, options);
          const double seconds = since(t);
          const auto r = accuracy_and_ms(test, [&](const Eigen::VectorXd& x) { return svm.evaluate(x).scores; });
          std::printf("| %s map order %ld + linear SVM | %ld | %.4f | %.1f | %.3f | %.1f |\n", kernel, order, n, r.first,
                      seconds, r.second, svm.weights().size() * 8.0 / (1 << 20));
          std::fflush(stdout);
        }
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "homkermap_fashion: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
