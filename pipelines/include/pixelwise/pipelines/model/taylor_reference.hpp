#pragma once
// Reference points x' for the Taylor decomposition of a BoW model's SVM
// (docs/design.md 1.4; decomposition/taylor.hpp): the root lies on the segment
// from x to x', and x' must have the opposite sign of the explained score.
//   nearest  the nearest support vector whose score has the opposite sign
//            (the model keeps the support vectors, not all training vectors)
//   mean     the mean training histogram of the other side of the machine:
//            of the explained class when f(x) < 0, else of the classes on
//            the negative side (all others, or the `versus` class of a
//            pairwise one-vs-one machine), weighted by their image counts
//   given    a user-given histogram (e.g. a .npy file)
// No reference of the opposite sign is an error; there is no fallback.
#include <Eigen/Core>
#include <string>
#include <vector>

#include "pixelwise/common/option_schema.hpp"
#include "pixelwise/decomposition/taylor.hpp"

namespace pixelwise {

/// Where the reference point comes from, as above.
enum class ReferenceKind { nearest, mean, given };

inline const EnumNames<ReferenceKind>& enum_names(ReferenceKind) {
  static const EnumNames<ReferenceKind> names{
      {ReferenceKind::nearest, "nearest"}, {ReferenceKind::mean, "mean"}, {ReferenceKind::given, "given"}};
  return names;
}

struct TaylorReference {
  ReferenceKind kind = ReferenceKind::nearest;
  Eigen::VectorXd point;  ///< given: the histogram
  std::string name;       ///< given: where it came from

  /// "nearest", "mean", or the path of a .npy file holding one histogram
  /// (float64, 1-D or one row). Throws naming the file on a bad one.
  static TaylorReference parse(const std::string& spec);
  /// A histogram given directly; `name` says where it came from.
  static TaylorReference given(Eigen::VectorXd point, std::string name);
  /// What the JSON records: "nearest", "mean", or the given reference's name.
  std::string describe() const { return kind == ReferenceKind::given ? name : name_of(kind); }
};

/// Where the references come from: the machine's support vectors
/// ("nearest") and the model's mean training histogram and image count of
/// every class ("mean"; empty for models saved before they were kept).
struct ReferenceSources {
  const RowMatrixXd& support_vectors;
  const RowMatrixXd& class_means;
  const std::vector<long>& class_counts;
  const std::vector<std::string>& classes;
};

/// The candidate reference points for machine `c` (explained class c, versus
/// the class `versus` of a pairwise machine or -1) when the explained score is
/// `score`.
ReferencePoints taylor_references(const ReferenceSources& sources, const TaylorReference& reference, int c, int versus,
                                  double score);

}  // namespace pixelwise
