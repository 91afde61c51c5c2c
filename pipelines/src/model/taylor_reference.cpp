#include "pixelwise/pipelines/model/taylor_reference.hpp"

#include <stdexcept>

#include "pixelwise/common/files.hpp"
#include "pixelwise/pipelines/io/npy.hpp"

namespace pixelwise {

TaylorReference TaylorReference::parse(const std::string& spec) {
  TaylorReference r;
  if (spec == name_of(ReferenceKind::nearest) || spec == name_of(ReferenceKind::mean)) {
    r.kind = parse_enum<ReferenceKind>(spec, "Taylor reference");
    return r;
  }
  if (spec.size() < 4 || spec.substr(spec.size() - 4) != ".npy")
    throw std::invalid_argument("Taylor reference \"" + spec + "\": expected nearest, mean or a .npy file");
  const RowMatrixXd m = parse_npy_f8(read_file(spec), spec);
  if (m.rows() != 1) throw std::runtime_error(spec + ": a Taylor reference must be one histogram (1-D or one row)");
  if (!m.allFinite()) throw std::runtime_error(spec + ": the reference histogram holds NaN or infinite values");
  return given(m.row(0).transpose(), spec);
}

TaylorReference TaylorReference::given(Eigen::VectorXd point, std::string name) {
  TaylorReference r;
  r.kind = ReferenceKind::given;
  r.point = std::move(point);
  r.name = std::move(name);
  return r;
}

ReferencePoints taylor_references(const ReferenceSources& model, const TaylorReference& reference, int c, int versus,
                                  double score) {
  const long dimension = model.support_vectors.cols();
  ReferencePoints out;
  if (reference.kind == ReferenceKind::nearest) {
    out.kind = "support vectors";
    out.points = model.support_vectors;
    for (long r = 0; r < out.points.rows(); ++r) out.names.push_back("support vector " + std::to_string(r));
    return out;
  }
  if (reference.kind == ReferenceKind::given) {
    if (reference.point.size() != dimension)
      throw std::runtime_error(reference.name + ": the reference histogram has dimension " +
                               std::to_string(reference.point.size()) + ", the model's histograms " +
                               std::to_string(dimension));
    out.kind = "given reference";
    out.points = reference.point.transpose();
    out.names = {reference.name};
    return out;
  }
  const int k = static_cast<int>(model.classes.size());
  if (model.class_means.rows() != k)
    throw std::runtime_error("the model keeps no class mean histograms (it was saved before they were stored); "
                             "retrain it, or use the nearest support vector or a given reference");
  // The other side of the machine: class c when f < 0, else the negative side.
  std::vector<int> side;
  if (score < 0)
    side = {c};
  else if (versus >= 0)
    side = {versus};
  else
    for (int o = 0; o < k; ++o)
      if (o != c) side.push_back(o);
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(dimension);
  double images = 0;
  for (int o : side) {
    mean += static_cast<double>(model.class_counts[o]) * model.class_means.row(o).transpose();
    images += static_cast<double>(model.class_counts[o]);
  }
  if (!(images > 0)) throw std::runtime_error("the model has no training images on the other side of the machine");
  out.kind = "mean histogram";
  out.points = (mean / images).transpose();
  out.names = {side.size() == 1 ? "mean training histogram of " + model.classes[side[0]]
                                : "mean training histogram of the classes other than " + model.classes[c]};
  return out;
}

}  // namespace pixelwise
