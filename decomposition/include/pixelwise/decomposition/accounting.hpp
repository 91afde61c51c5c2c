#pragma once
// Conservation accounting (docs/design.md section 2): every relevance step reports
// what it received, what it passed on, and what it absorbed or could not pass.
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace pixelwise {

struct LayerRelevance {
  std::string name;
  double relevance_in = 0;   ///< sum of the relevance the step received
  double relevance_out = 0;  ///< sum of the relevance it passed to the layer below
  double absorbed = 0;       ///< kept by the step on purpose (e.g. the SVM bias under policy "none")
  double unassigned = 0;     ///< relevance of units with nothing below them to pass it to
  /// Part of relevance_out that the step passed on by its fallback rule instead
  /// of its own (gradient pixel spreading: descriptors of flat patches, spread
  /// uniformly over their supports, docs/design.md 1.9); written to JSON only
  /// when not 0.
  double fallback = 0;
  /// relevance_in - relevance_out - absorbed - unassigned: rounding only.
  double unaccounted() const { return relevance_in - relevance_out - absorbed - unassigned; }
};

void to_json(nlohmann::json& j, const LayerRelevance& layer);
/// Reads what to_json writes; files written before the key was renamed spell
/// relevance_out "relevance_sum", and are read as well.
void from_json(const nlohmann::json& j, LayerRelevance& layer);

}  // namespace pixelwise
