#pragma once
// The explanation methods, one name each across the CLI (--method), the JSON
// ("method") and Python (method=): parsed once at the boundary into this enum.
//   lrp          decomposes the score layer by layer (docs/design.md 1.2-1.5, 1.7)
//   taylor       first-order Taylor expansion at a root point (1.4, 1.7)
//   sensitivity  squared gradient spread over the input (a baseline, 5)
//   occlusion    score drop when a patch is greyed out (a baseline, 5)
//   random       uniform noise, the chance level of every metric (5)
// A model explains some methods itself (its own methods); occlusion and
// random only need its scores and work for every model.
#include <string>
#include <vector>

#include "pixelwise/common/option_schema.hpp"

namespace pixelwise {

enum class ExplainMethod { lrp, taylor, sensitivity, occlusion, random };

inline const EnumNames<ExplainMethod>& enum_names(ExplainMethod) {
  static const EnumNames<ExplainMethod> names{{ExplainMethod::lrp, "lrp"},
                                              {ExplainMethod::taylor, "taylor"},
                                              {ExplainMethod::sensitivity, "sensitivity"},
                                              {ExplainMethod::occlusion, "occlusion"},
                                              {ExplainMethod::random, "random"}};
  return names;
}

/// Methods whose map decomposes the score, so that a conservation account
/// (pixel sum + absorbed + unassigned = score) is reported.
inline bool decomposes(ExplainMethod m) { return m == ExplainMethod::lrp || m == ExplainMethod::taylor; }

/// Methods that need nothing of a model but its scores.
inline bool model_agnostic(ExplainMethod m) { return m == ExplainMethod::occlusion || m == ExplainMethod::random; }

/// "lrp, taylor, ...": the names in the given order.
inline std::string names_of(const std::vector<ExplainMethod>& methods) {
  std::vector<std::string> names;
  for (ExplainMethod m : methods) names.push_back(name_of(m));
  return join_names(names);
}

}  // namespace pixelwise
