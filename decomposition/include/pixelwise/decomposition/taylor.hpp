#pragma once
// First-order Taylor decomposition of an SVM decision at a root point
// (docs/design.md 1.4; Bach et al. 2015, Taylor-type decomposition, used there for
// the exponential chi-square SVMs of the PASCAL VOC experiments):
//
//   f(x) = f(x0) + sum_d df/dx_d(x0) (x_d - x0_d) + higher-order terms,
//   R_d  = df/dx_d(x0) (x_d - x0_d),  f(x0) = 0 (up to a tolerance),
//
// for every kernel with a gradient (kernel_gradients.hpp), the additive ones
// included, so that it can be compared with their exact decomposition. The
// root x0 = a x + (1 - a) x' lies on the segment from x to a reference point
// x' whose score has the opposite sign; it is found by scanning the segment
// from x in equal steps for the first sign change and bisecting that step,
// which gives the root nearest to x (up to the scan resolution), so that the
// higher-order terms stay small. What the first-order terms do not explain,
// f(x) - sum_d R_d = f(x0) + higher-order terms, is the residual; it is
// reported as the SVM layer's "absorbed" relevance and broken down here.
#include <Eigen/Core>
#include <functional>
#include <string>
#include <vector>

#include "pixelwise/classifiers/svm.hpp"
#include "pixelwise/decomposition/accounting.hpp"

namespace pixelwise {

struct TaylorOptions {
  double tolerance = 1e-9;  ///< the root satisfies |f(x0)| <= tolerance
  int scan_steps = 32;      ///< equal steps of the scan from x towards x' before bisection
  /// A root is searched towards each of the `roots` nearest references of the
  /// other sign, and the root nearest to x is kept (docs/design.md 1.4: a root near
  /// x keeps the higher-order terms small).
  int roots = 1;
  void validate() const;
};

/// Candidate reference points x', one a row, each with a name for reports;
/// `kind` names the set in messages ("support vectors", "mean histogram", ...).
struct ReferencePoints {
  std::string kind;
  RowMatrixXd points;
  std::vector<std::string> names;
};

struct SegmentRoot {
  Eigen::VectorXd point;  ///< x0 = a x + (1 - a) x'
  double a = 1;
  double score = 0;       ///< f(x0)
  int evaluations = 0;    ///< evaluations of f by the search
};

/// The root of f on the segment a x + (1 - a) x', a in [0, 1], nearest to x
/// up to the scan resolution, with |f(x0)| <= tolerance. f(x) = fx and
/// f(x') = f_reference must have opposite signs (or fx = 0: then x0 = x).
/// Throws std::runtime_error if they do not, or if the tolerance cannot be
/// reached in double precision.
SegmentRoot find_root_on_segment(const std::function<double(const Eigen::VectorXd&)>& f, const Eigen::VectorXd& x,
                                 double fx, const Eigen::VectorXd& reference, double f_reference,
                                 const TaylorOptions& options);

struct SvmTaylorRelevance {
  Eigen::VectorXd relevance;   ///< R_d = df/dx_d(x0) (x_d - x0_d) (0 where x_d = x0_d)
  Eigen::VectorXd root;        ///< x0
  Eigen::VectorXd reference;   ///< x'
  Eigen::VectorXd gradient;    ///< df/dx at x0
  std::string reference_name;
  double a = 1;                ///< x0 = a x + (1 - a) x'
  double score = 0;            ///< f(x)
  double reference_score = 0;  ///< f(x')
  double root_score = 0;       ///< f(x0)
  double first_order_sum = 0;  ///< sum_d R_d
  double reference_distance = 0;  ///< |x - x'| (Euclidean)
  double root_distance = 0;       ///< |x - x0|
  int evaluations = 0;         ///< evaluations of f: references' scores and root searches
  /// f(x) - sum_d R_d = root_score + higher_order(): what the first-order terms leave out.
  double residual() const { return score - first_order_sum; }
  /// f(x) - f(x0) - sum_d R_d: the second- and higher-order Taylor terms.
  double higher_order() const { return score - root_score - first_order_sum; }
  /// in: f(x); out: sum R; absorbed: the residual (kept at the top).
  LayerRelevance layer;
};

/// Taylor decomposition of f_c(x) (machine c of `svm`). The reference x' is
/// the candidate nearest to x (Euclidean norm) whose score has the opposite
/// sign of f_c(x) (with options.roots > 1: of that many nearest such
/// candidates, the one whose root is nearest to x); throws std::runtime_error
/// naming references.kind when no candidate has one (never falls back to
/// another kind of reference).
SvmTaylorRelevance taylor_decompose_svm(const OneVsRestSvm& svm, int c, const Eigen::VectorXd& x,
                                        const ReferencePoints& references, const TaylorOptions& options);

}  // namespace pixelwise
