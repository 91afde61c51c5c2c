#pragma once
// Feature channels of a BoW pipeline: each channel has its own
// descriptors, codebook, coding, pooling and normalisation; the channels'
// histograms are combined into the one vector the SVM sees, either
//   "concatenate":    x = normalise(concat_ch pooled_ch) with the top-level
//                     normalisation (one kernel on the joint histogram), or
//   "sum_of_kernels": x_ch = s_ch * normalise_ch(pooled_ch), so that for the
//                     additive kernel k, k(x, y) = sum_ch weight_ch k(x_ch, y_ch)
//                     (s_ch from kernel_weight_scale).
// Relevance passes through the combination unchanged (global factors, docs/design.md
// 1.3); each channel's block of bin relevance goes down its own pooling and
// pixel layers, and the channels' pixel maps add up.
#include <memory>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "pixelwise/classifiers/kernels.hpp"
#include "pixelwise/features/bow.hpp"
#include "pixelwise/features/codebook.hpp"
#include "pixelwise/features/descriptors.hpp"
#include "pixelwise/features/fisher.hpp"

namespace pixelwise {

/// How the channels' histograms are combined (above).
enum class Combine { concatenate, sum_of_kernels };
const EnumNames<Combine>& enum_names(Combine);

struct ChannelConfig {
  std::string name;
  DescriptorOptions descriptor;
  CodebookOptions codebook;
  CodingOptions coding;
  PoolingOptions pooling;
  NormalisationOptions normalisation;
  /// The mapping from descriptors to the channel's block (docs/design.md 1.8):
  /// the histogram (codebook, coding, pooling), or a Fisher vector on the
  /// channel's GMM, or VLAD on its codebook and coding; both per pyramid cell.
  MappingOptions mapping;
  GmmOptions gmm;       ///< fisher only
  PcaOptions pca;       ///< fisher and vlad: descriptor PCA before the vocabulary
  double weight = 1.0;  ///< sum_of_kernels only: weight of this channel's kernel

  /// Block dimension: cells * words (histogram), cells * 2 K D (Fisher),
  /// cells * words * D (VLAD), D the descriptor dimension.
  long dimension() const;
  /// The descriptor dimension the vocabulary sees (after PCA).
  long mapped_dimension() const;
  /// Whether the descriptor needs a colour image (otherwise the grey one is used).
  bool uses_colour() const { return descriptor.colour != ColourSpace::grey; }
};

/// Reads the channel sections (descriptor, codebook, coding, pooling,
/// normalisation) present in `j`, each over the matching section of `base`
/// (key by key; a section naming another "type" than the base replaces it).
/// Unknown keys are errors naming `where`.
ChannelConfig parse_channel_sections(const nlohmann::json& j, const ChannelConfig& base, const std::string& where);
nlohmann::json channel_sections_json(const ChannelConfig& c);

/// The "channels" list of a configuration: each entry's sections over `base`,
/// plus "name" and "weight". With combine "concatenate" a channel may not set
/// its own normalisation or weight (the joint histogram is normalised once).
std::vector<ChannelConfig> parse_channel_list(const nlohmann::json& list, const ChannelConfig& base, Combine combine);
nlohmann::json channel_list_json(const std::vector<ChannelConfig>& channels, Combine combine);

/// The channels a pipeline computes: a channel whose colour planes are
/// "separate" becomes one channel per plane (name + "/" + plane name); names
/// must be unique. An empty name becomes "<type>-<colour>".
std::vector<ChannelConfig> expand_channels(std::vector<ChannelConfig> channels);

/// What every bin of the classifier's input is, one entry per bin in order
/// (docs/design.md 1.2 and 1.8): the channels' blocks follow each other; within
/// a block, bins are cell-major, the cells of pyramid level 0 first, each
/// level's cells row-major over its grid (columns x rows). Inside a cell:
///   histogram: word d (bin = cell * words + d);
///   Fisher:    component k, descriptor dimension j, part mean (k D + j) or
///              variance (K D + k D + j), D the mapped descriptor dimension;
///   VLAD:      component (centre) k and dimension j (k D + j).
/// Entries that do not apply are -1 (word for Fisher and VLAD; component,
/// dimension and part for a histogram).
struct BinLayout {
  enum Part { none = -1, mean = 0, variance = 1 };
  std::vector<int> channel;
  std::vector<int> level;
  std::vector<int> cell;       ///< index among the channel's cells (all levels), as assign_cells numbers them
  std::vector<int> row, column;  ///< of the cell in its level's grid
  std::vector<int> word;
  std::vector<int> component;
  std::vector<int> dimension;
  std::vector<int> part;       ///< Part
  long size() const { return static_cast<long>(channel.size()); }
};

/// The layout of the vector the channels make (their dimension() in order).
BinLayout bin_layout(const std::vector<ChannelConfig>& channels);

/// One channel's part of an image encoding.
struct ChannelEncoding {
  std::string name;
  LocalFeatures features;       ///< frames carry `channel` = index of this channel
  BowEncoding bow;              ///< bow.histogram = this channel's block of the SVM input
  /// Fisher vector or VLAD: the per-descriptor terms (their record); then
  /// bow.pooled is the encoding (terms->encoded) and bow.codes is empty.
  std::shared_ptr<const TermEncoding> terms;
  long offset = 0;              ///< first dimension of the block in the SVM input
};

struct ImageEncoding {
  std::vector<ChannelEncoding> channels;
  Eigen::VectorXd histogram;    ///< what the SVM sees: the channels' blocks in order
};

/// The descriptors of one channel for a grey (CV_32FC1) or colour (CV_32FC3,
/// BGR) float image.
LocalFeatures channel_features(const ChannelConfig& channel, const cv::Mat& image, const std::string& what);

/// Encodes an image with every channel and combines the blocks.
/// `gmms` holds the GMM of every Fisher channel (an empty Gmm for the
/// others), `pcas` every channel's descriptor PCA (empty: none).
ImageEncoding encode_image(const std::vector<ChannelConfig>& channels, const std::vector<Codebook>& codebooks,
                           const std::vector<Gmm>& gmms, const std::vector<Pca>& pcas,
                           Combine combine, const NormalisationOptions& joint_normalisation,
                           KernelType kernel, const cv::Mat& image, const std::string& what);

}  // namespace pixelwise
