#include "pixelwise/pipelines/model/bow_channels.hpp"

#include <set>
#include <stdexcept>

#include "pixelwise/features/image.hpp"

namespace pixelwise {
namespace {

// The user's section over the base section, key by key. When the user names
// another type, the base's type-specific keys are dropped first (they would
// not apply); keys shared by all types (e.g. the pyramid) are still inherited.
template <typename Options>
void read_section(const nlohmann::json& j, const char* name, const Options& base, Options& out,
                  const std::string& where) {
  if (!j.contains(name)) return;
  const std::string here = where + " section \"" + name + "\"";
  const OptionSchema<Options>& schema = Options::schema();
  const nlohmann::json& given = j.at(name);
  check_keys(given, schema.keys(), here);
  nlohmann::json merged = schema.write(base);
  if (given.contains("type") && given.at("type") != merged.value("type", nlohmann::json()))
    for (const auto& key : schema.specific_keys()) merged.erase(key);
  merged.merge_patch(given);
  try {
    out = schema.read(merged, here);
    out.validate();
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    throw std::invalid_argument(what.rfind(here, 0) == 0 ? what : here + ": " + what);
  }
}

}  // namespace

const EnumNames<Combine>& enum_names(Combine) {
  static const EnumNames<Combine> names{{Combine::concatenate, "concatenate"}, {Combine::sum_of_kernels, "sum_of_kernels"}};
  return names;
}

ChannelConfig parse_channel_sections(const nlohmann::json& j, const ChannelConfig& base, const std::string& where) {
  ChannelConfig c = base;
  read_section(j, "descriptor", base.descriptor, c.descriptor, where);
  read_section(j, "codebook", base.codebook, c.codebook, where);
  read_section(j, "coding", base.coding, c.coding, where);
  read_section(j, "pooling", base.pooling, c.pooling, where);
  read_section(j, "normalisation", base.normalisation, c.normalisation, where);
  read_section(j, "mapping", base.mapping, c.mapping, where);
  read_section(j, "gmm", base.gmm, c.gmm, where);
  read_section(j, "pca", base.pca, c.pca, where);
  if (j.contains("gmm") && c.mapping.type != MappingType::fisher)
    throw std::invalid_argument(where + " section \"gmm\": only the mapping \"fisher\" has a GMM");
  if (c.pca.dimensions > 0 && c.mapping.type == MappingType::histogram)
    throw std::invalid_argument(where + " section \"pca\": only the mappings \"fisher\" and \"vlad\" take a PCA");
  if (c.pca.dimensions > c.descriptor.dimension())
    throw std::invalid_argument(where + " section \"pca\": " + std::to_string(c.pca.dimensions) +
                                " dimensions asked of descriptors of " + std::to_string(c.descriptor.dimension()));
  return c;
}

long ChannelConfig::mapped_dimension() const {
  return pca.dimensions > 0 ? pca.dimensions : descriptor.dimension();
}

long ChannelConfig::dimension() const {
  const long cells = pooling.cells(), D = mapped_dimension();
  switch (mapping.type) {
    case MappingType::fisher: return cells * 2 * gmm.components * D;
    case MappingType::vlad: return cells * codebook.words * D;
    case MappingType::histogram: break;
  }
  return cells * codebook.words;
}

BinLayout bin_layout(const std::vector<ChannelConfig>& channels) {
  BinLayout b;
  long total = 0;
  for (const ChannelConfig& c : channels) total += c.dimension();
  for (auto* v : {&b.channel, &b.level, &b.cell, &b.row, &b.column, &b.word, &b.component, &b.dimension, &b.part})
    v->reserve(static_cast<size_t>(total));
  for (size_t ch = 0; ch < channels.size(); ++ch) {
    const ChannelConfig& c = channels[ch];
    const int D = static_cast<int>(c.mapped_dimension());
    int cell = 0;
    for (size_t level = 0; level < c.pooling.pyramid.size(); ++level) {
      const int columns = c.pooling.pyramid[level][0], rows = c.pooling.pyramid[level][1];
      for (int y = 0; y < rows; ++y)
        for (int x = 0; x < columns; ++x, ++cell) {
          // One entry of the cell's block in the layout of docs/design.md 1.2 / 1.8.
          auto add = [&](int word, int component, int dimension, int part) {
            b.channel.push_back(static_cast<int>(ch));
            b.level.push_back(static_cast<int>(level));
            b.cell.push_back(cell);
            b.row.push_back(y);
            b.column.push_back(x);
            b.word.push_back(word);
            b.component.push_back(component);
            b.dimension.push_back(dimension);
            b.part.push_back(part);
          };
          switch (c.mapping.type) {
            case MappingType::histogram:
              for (int d = 0; d < c.codebook.words; ++d) add(d, -1, -1, BinLayout::none);
              break;
            case MappingType::fisher:
              for (int part : {BinLayout::mean, BinLayout::variance})
                for (int k = 0; k < c.gmm.components; ++k)
                  for (int j = 0; j < D; ++j) add(-1, k, j, part);
              break;
            case MappingType::vlad:
              for (int k = 0; k < c.codebook.words; ++k)
                for (int j = 0; j < D; ++j) add(-1, k, j, BinLayout::none);
              break;
          }
        }
    }
  }
  if (b.size() != total) throw std::logic_error("bin layout: " + std::to_string(b.size()) + " bins for a vector of " +
                                                std::to_string(total));
  return b;
}

nlohmann::json channel_sections_json(const ChannelConfig& c) {
  nlohmann::json j = {{"descriptor", c.descriptor}, {"codebook", c.codebook},          {"coding", c.coding},
                      {"pooling", c.pooling},       {"normalisation", c.normalisation}};
  // A histogram pipeline writes no mapping section, so that its manifest is
  // the one models of format version 1 have always had.
  if (c.mapping.type != MappingType::histogram) j["mapping"] = c.mapping;
  if (c.mapping.type == MappingType::fisher) j["gmm"] = c.gmm;
  if (c.mapping.type != MappingType::histogram) j["pca"] = c.pca;
  return j;
}

std::vector<ChannelConfig> parse_channel_list(const nlohmann::json& list, const ChannelConfig& base, Combine combine) {
  if (!list.is_array() || list.empty()) throw std::invalid_argument("config: \"channels\" must be a non-empty list");
  std::vector<ChannelConfig> channels;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = "config channels[" + std::to_string(i) + "]";
    const nlohmann::json& entry = list[i];
    check_keys(entry, {"name", "weight", "descriptor", "codebook", "coding", "pooling", "normalisation", "mapping", "gmm",
                      "pca"},
               where);
    if (combine == Combine::concatenate && (entry.contains("weight") || entry.contains("normalisation")))
      throw std::invalid_argument(where + ": \"weight\" and \"normalisation\" of a channel need combine "
                                  "\"sum_of_kernels\" (\"concatenate\" normalises the joint histogram once)");
    ChannelConfig c = parse_channel_sections(entry, base, where);
    try {
      c.name = entry.value("name", std::string());
      c.weight = entry.value("weight", 1.0);
    } catch (const nlohmann::json::exception& e) {
      throw std::invalid_argument(where + ": " + e.what());
    }
    if (!(c.weight > 0) || !std::isfinite(c.weight)) throw std::invalid_argument(where + ": weight must be positive");
    channels.push_back(std::move(c));
  }
  return channels;
}

nlohmann::json channel_list_json(const std::vector<ChannelConfig>& channels, Combine combine) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : channels) {
    nlohmann::json j = channel_sections_json(c);
    if (!c.name.empty()) j["name"] = c.name;
    if (combine == Combine::concatenate) {
      j.erase("normalisation");
    } else {
      j["weight"] = c.weight;
    }
    list.push_back(std::move(j));
  }
  return list;
}

std::vector<ChannelConfig> expand_channels(std::vector<ChannelConfig> channels) {
  std::vector<ChannelConfig> out;
  std::set<std::string> names;
  for (auto& c : channels) {
    if (c.name.empty()) c.name = name_of(c.descriptor.type) + "-" + name_of(c.descriptor.colour);
    const auto& planes = plane_names(c.descriptor.colour);
    if (c.descriptor.planes == PlaneMode::separate && c.descriptor.plane < 0 && planes.size() > 1) {
      for (size_t p = 0; p < planes.size(); ++p) {
        ChannelConfig one = c;
        one.descriptor.plane = static_cast<int>(p);
        one.name = c.name + "/" + planes[p];
        out.push_back(std::move(one));
      }
    } else {
      out.push_back(std::move(c));
    }
  }
  for (const auto& c : out) {
    if (!names.insert(c.name).second)
      throw std::invalid_argument("config: two channels are named \"" + c.name + "\"; give them distinct names");
    // Checked with the configuration, not after k-means (a codebook has
    // exactly `words` words): a soft or rank code needs knn of them.
    if (c.coding.neighbours() > c.codebook.words)
      throw std::invalid_argument("config channel \"" + c.name + "\": coding knn = " +
                                  std::to_string(c.coding.neighbours()) + " exceeds the " +
                                  std::to_string(c.codebook.words) + " words of its codebook");
  }
  return out;
}

LocalFeatures channel_features(const ChannelConfig& channel, const cv::Mat& image, const std::string& what) {
  return compute_descriptors(image, channel.descriptor, what);
}

namespace {
// One channel's mapping (docs/design.md 1.1-1.2, 1.8). A Fisher or VLAD
// channel keeps its terms, and its encoding stands where the pooled histogram
// would.
void map_channel(const ChannelConfig& ch, const Codebook& codebook, const Gmm& gmm, const Pca& pca,
                 ChannelEncoding& e) {
  std::vector<std::vector<int>> cells = assign_cells(e.features, ch.pooling);
  const int n_cells = ch.pooling.cells();
  if (ch.mapping.type == MappingType::histogram) {
    e.bow = pool(encode(codebook, e.features, ch.coding), std::move(cells), n_cells, ch.pooling);
    return;
  }
  // The descriptors as the vocabulary sees them; PCA is part of the descriptor
  // layer, so the terms (and relevance) stay per descriptor.
  const RowMatrixXd descriptors = pca.apply(e.features.descriptors.cast<double>());
  auto terms = std::make_shared<TermEncoding>(
      ch.mapping.type == MappingType::fisher
          ? fisher_encode(gmm, descriptors, cells, n_cells, ch.mapping)
          : vlad_encode(codebook.centres().cast<double>(), encode(codebook, descriptors, ch.coding), descriptors,
                        cells, n_cells, ch.mapping));
  e.bow = BowEncoding{};
  e.bow.cells_of = std::move(cells);
  e.bow.cells = n_cells;
  e.bow.pooling = ch.pooling;
  e.bow.pooled = terms->encoded;
  e.terms = std::move(terms);
}
}  // namespace

ImageEncoding encode_image(const std::vector<ChannelConfig>& channels, const std::vector<Codebook>& codebooks,
                           const std::vector<Gmm>& gmms, const std::vector<Pca>& pcas, Combine combine, const NormalisationOptions& joint_normalisation,
                           KernelType kernel, const cv::Mat& image, const std::string& what) {
  if (codebooks.size() != channels.size() || gmms.size() != channels.size() || pcas.size() != channels.size())
    throw std::invalid_argument("encoding: " + std::to_string(codebooks.size()) + " codebooks and " +
                                std::to_string(gmms.size()) + " GMMs for " + std::to_string(channels.size()) +
                                " channels");
  ImageEncoding out;
  long offset = 0;
  for (size_t i = 0; i < channels.size(); ++i) {
    const ChannelConfig& ch = channels[i];
    ChannelEncoding e;
    e.name = ch.name;
    e.features = channel_features(ch, image, what);
    for (Frame& f : e.features.frames) f.channel = static_cast<int>(i);
    map_channel(ch, codebooks[i], gmms[i], pcas[i], e);
    e.offset = offset;
    offset += e.bow.pooled.size();
    out.channels.push_back(std::move(e));
  }
  if (combine == Combine::concatenate) {
    Eigen::VectorXd pooled(offset);
    for (const auto& e : out.channels) pooled.segment(e.offset, e.bow.pooled.size()) = e.bow.pooled;
    out.histogram = normalise(pooled, joint_normalisation);
  } else {
    out.histogram.resize(offset);
    for (size_t i = 0; i < channels.size(); ++i) {
      const auto& e = out.channels[i];
      out.histogram.segment(e.offset, e.bow.pooled.size()) =
          kernel_weight_scale(kernel, channels[i].weight) * normalise(e.bow.pooled, channels[i].normalisation);
    }
  }
  for (auto& e : out.channels) e.bow.histogram = out.histogram.segment(e.offset, e.bow.pooled.size());
  return out;
}

}  // namespace pixelwise
