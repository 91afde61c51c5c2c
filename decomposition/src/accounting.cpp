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
}

}  // namespace pixelwise
