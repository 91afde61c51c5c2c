// The one writer of explanations (explanation_files.hpp).
#include "pixelwise/pipelines/explain/explanation_files.hpp"

#include <iomanip>
#include <opencv2/imgcodecs.hpp>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "pixelwise/common/files.hpp"
#include "pixelwise/pipelines/io/heatmap.hpp"
#include "pixelwise/pipelines/io/npy.hpp"

namespace pixelwise {

nlohmann::json explanation_record(const ExplainableModel& model, const Explanation& e, const std::string& reference) {
  const std::vector<std::string> names = model.class_names();
  nlohmann::json scores = nlohmann::json::object();
  for (long k = 0; k < e.scores.size() && k < static_cast<long>(names.size()); ++k) scores[names[k]] = e.scores[k];
  nlohmann::json j = {{"image", reference},
                      {"model", model.source()},
                      {"classifier", model.kind()},
                      {"method", name_of(e.method)},
                      {"class", names.at(e.class_index)},
                      {"class_index", e.class_index},
                      {"predicted", names.at(e.predicted)},
                      {"score", e.score},
                      {"scores", scores},
                      {"image_size", {e.pixels.rows(), e.pixels.cols()}},
                      {"pixel_sum", e.pixels.sum()},
                      {"evaluations", e.evaluations}};
  // No wall time: an explanation's files depend only on the model, the input
  // and the settings, so that sharded, resumed and threaded runs write the
  // same bytes as one plain run (the time is on the printed line).
  if (e.account) j["residual"] = e.account->score - e.account->pixel_sum;
  // The details come last: a kind's own record (explanation_json,
  // network_explanation_json) states these fields with the same values, and
  // its "classifier" names the classifier kind, more precise than the model kind.
  j.update(e.details);
  j["image"] = reference;
  return j;
}

void write_explanation_files(const std::string& stem, const Explanation& e, const nlohmann::json& record,
                             const cv::Mat& background) {
  std::vector<uchar> png;
  if (!cv::imencode(".png", render_heatmap(e.pixels, background), png))
    throw std::runtime_error(stem + ".png: PNG encoding failed");
  // Without an fsync per file (two per file cost a batch most of its time);
  // the JSON, written last, records each file's size and CRC-32, so that
  // --resume recognises a file a crash of the machine left short
  // (explanation_complete), and the command syncs the file system once at the
  // end (docs/errors.md, "Atomic outputs").
  nlohmann::json files = nlohmann::json::object();
  auto put = [&](const std::string& suffix, const std::string& bytes) {
    write_file_atomically(stem + suffix, bytes, Durability::later);
    files[suffix] = {{"bytes", bytes.size()}, {"crc32", crc32_hex(crc32_of(bytes))}};
  };
  put(".npy", npy_bytes(e.pixels));
  put(".png", std::string(png.begin(), png.end()));
  for (const auto& [suffix, bytes] : e.files) put(suffix, bytes);
  nlohmann::json written = record;
  written["files"] = files;
  write_file_atomically(stem + ".json", written.dump(2) + "\n", Durability::later);
}

std::string explanation_line(const ExplainableModel& model, const Explanation& e, const std::string& name) {
  std::ostringstream line;
  line << name << ": class " << model.class_names().at(e.class_index) << " score " << std::setprecision(10) << e.score
       << " pixel sum " << e.pixels.sum();
  if (e.account) line << " residual " << std::setprecision(3) << e.account->score - e.account->pixel_sum;
  line << " (" << name_of(e.method) << ", " << e.evaluations << (e.evaluations == 1 ? " evaluation, " : " evaluations, ")
       << std::setprecision(3) << e.seconds << " s" << (e.remark.empty() ? "" : "; " + e.remark) << ")";
  return line.str();
}

}  // namespace pixelwise
