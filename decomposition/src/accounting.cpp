#include "pixelwise/decomposition/accounting.hpp"

#include <nlohmann/json.hpp>

namespace pixelwise {

void to_json(nlohmann::json& j, const LayerRelevance& layer) {
  j = {{"name", layer.name},
       {"relevance_in", layer.relevance_in},
       {"relevance_out", layer.relevance_out},
       {"absorbed", layer.absorbed},
       {"unassigned", layer.unassigned},
       {"unaccounted", layer.unaccounted()}};
  if (layer.fallback != 0) j["fallback"] = layer.fallback;
}

void from_json(const nlohmann::json& j, LayerRelevance& layer) {
  layer.name = j.at("name").get<std::string>();
  layer.relevance_in = j.at("relevance_in").get<double>();
  layer.relevance_out = (j.contains("relevance_out") ? j.at("relevance_out") : j.at("relevance_sum")).get<double>();
  layer.absorbed = j.at("absorbed").get<double>();
  layer.unassigned = j.at("unassigned").get<double>();
  layer.fallback = j.value("fallback", 0.0);
}

}  // namespace pixelwise
