#pragma once
// `pixelwise explain`: every model kind and every method through the one
// explanation path (explain/explanation.hpp) and the one writer
// (explain/explanation_files.hpp). Which flag applies to which method and
// model kind is one table (explain_flag_scopes), from which both the checks
// and the scope shown in --help come.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pixelwise/pipelines/explain/explanation.hpp"

namespace pixelwise {

/// The model kinds a flag applies to.
enum class KindScope { any, bow, network };

/// Where a flag of `explain` applies: the methods (none listed: every method)
/// and the model kind.
struct FlagScope {
  std::string flag;
  std::vector<ExplainMethod> methods;
  KindScope kinds = KindScope::any;
};

/// The flags of `explain` that do not apply everywhere. --model, --out,
/// --class, --method and the batch flags (--list, --shard, --jobs, --resume)
/// apply to every model and method.
const std::vector<FlagScope>& explain_flag_scopes();

/// " (BoW models, --method taylor)": a flag's scope for its help text.
std::string flag_scope_note(const std::string& flag);

/// Why `scope` excludes `method` on a model of kind `kind` (ExplainableModel::kind):
/// "applies to BoW models only; this model is a network model", "applies to
/// <method_word>lrp only, not taylor", or empty when the flag applies.
/// `method_word` is how the caller names the method ("--method " on the
/// command line, "method " for Python's keywords), so both say the same.
std::string scope_refusal(const FlagScope& scope, ExplainMethod method, const std::string& kind,
                          const std::string& method_word);

/// Throws std::invalid_argument naming the first of `given` that does not
/// apply to `method` on a model of kind `kind` (scope_refusal).
void check_flag_scopes(const std::set<std::string>& given, ExplainMethod method, const std::string& kind);

struct ExplainRequest {
  std::string model, class_name, out;
  std::vector<std::string> images;
  ExplainMethod method = ExplainMethod::lrp;
  ExplainSettings settings;
  std::optional<std::pair<double, double>> input_range;  ///< toolbox text files: what grey 0..1 maps to
  std::string list;     ///< --list FILE: more image references, one a line
  std::string shard;    ///< --shard K/N
  int jobs = 0;         ///< images explained at once, on threads sharing the model (0: all cores)
  bool resume = false;  ///< skip images whose outputs are complete
  /// Occlusion: threads for the batched model evaluations of one image (0:
  /// the cores the jobs leave) and images per batch.
  int threads = 0, batch = 32;
  std::set<std::string> given;  ///< the flags given, checked against explain_flag_scopes()
};

/// Reads and checks the model, the flags and every image reference, then
/// explains each image and writes OUT/NAME.npy, .png, (extra files) and
/// .json; one line per image on `out`.
int run_explain(const ExplainRequest& request, std::ostream& out);

}  // namespace pixelwise
