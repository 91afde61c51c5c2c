#pragma once
// The one writer of explanations: whatever the model and method, an
// explanation of image NAME is NAME.npy (the H x W relevance, float64),
// NAME.png (the heatmap over the image), the method's extra files (e.g.
// NAME-root.npy) and NAME.json, written in that order, each atomically.
// NAME.json records the size and CRC-32 of every other file ("files"), so
// that a NAME.json whose files match means complete outputs, even after a
// crash of the machine (batch.hpp, explanation_complete).
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>

#include "pixelwise/pipelines/explain/explanation.hpp"

namespace pixelwise {

/// The explanation JSON: the fields every explanation has (image, model,
/// classifier, method, class, class_index, predicted, score, scores,
/// image_size, pixel_sum, evaluations; residual when the method
/// decomposes the score) and then the explanation's details, which may add
/// to them (a BoW model's layers and channels, a network's rules, ...).
nlohmann::json explanation_record(const ExplainableModel& model, const Explanation& e, const std::string& reference);

/// Writes STEM.npy, STEM.png (render_heatmap over `background`, the grey
/// image), the extra files and STEM.json (`record` with "files": suffix ->
/// {"bytes", "crc32"}) last, with Durability::later: the caller syncs the
/// file system when its batch is done (sync_filesystem_of).
void write_explanation_files(const std::string& stem, const Explanation& e, const nlohmann::json& record,
                             const cv::Mat& background);

/// The line printed for an explained image: "NAME: class C score S pixel sum P
/// [residual R] (METHOD, E evaluations, T s[; remark])".
std::string explanation_line(const ExplainableModel& model, const Explanation& e, const std::string& name);

}  // namespace pixelwise
