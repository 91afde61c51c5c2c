// The summary of an evaluation from its per-image records, and the merge of
// sharded evaluations (evaluate.hpp, docs/cluster.md).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <ostream>
#include <set>
#include <stdexcept>

#include "pixelwise/pipelines/evaluation/evaluate.hpp"
#include "pixelwise/common/files.hpp"
#include "pixelwise/common/json_input.hpp"
#include "pixelwise/pipelines/evaluation/report.hpp"

namespace fs = std::filesystem;

namespace pixelwise {
namespace {

double number_or_nan(const nlohmann::json& v) {
  return v.is_number() ? v.get<double>() : std::numeric_limits<double>::quiet_NaN();
}

ConservationRecord account_of(const nlohmann::json& a) {
  ConservationRecord r;
  r.score = a.at("score").get<double>();
  r.pixel_sum = a.at("pixel_sum").get<double>();
  for (const auto& l : a.at("layers")) r.layers.push_back(l.get<LayerRelevance>());
  return r;
}

// The mean sensitivity-n curve: point k of every image's curve (the k-th
// subset size), its mean correlation over the images where it is defined,
// the mean share n / N of the pixels, and n itself when every image has the same.
nlohmann::json sensitivity_n_curve(const std::vector<const nlohmann::json*>& curves) {
  size_t points = 0;
  for (const auto* c : curves) points = std::max(points, c->at("sizes").size());
  nlohmann::json mean = nlohmann::json::array(), fraction = nlohmann::json::array(), sizes = nlohmann::json::array(),
                 count = nlohmann::json::array(), ci95 = nlohmann::json::array();
  for (size_t k = 0; k < points; ++k) {
    std::vector<double> values, shares;
    std::set<long> n;
    for (const auto* c : curves) {
      if (k >= c->at("sizes").size()) continue;
      const long size = c->at("sizes")[k].get<long>();
      n.insert(size);
      shares.push_back(static_cast<double>(size) / c->at("pixels").get<double>());
      values.push_back(number_or_nan(c->at("correlations")[k]));
    }
    const Summary s = summarise(values);
    auto number = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
    mean.push_back(number(s.mean));
    ci95.push_back(number(s.count ? s.ci95() : NAN));
    count.push_back(s.count);
    fraction.push_back(summarise(shares).mean);
    sizes.push_back(n.size() == 1 ? nlohmann::json(*n.begin()) : nlohmann::json(nullptr));
  }
  return {{"sizes", sizes}, {"fractions", fraction}, {"mean", mean}, {"ci95", ci95}, {"count", count}};
}

// The similarity measures of the sanity checks (similarity.hpp), one name each.
const std::vector<std::string>& similarity_measures() {
  static const std::vector<std::string> names{"spearman", "spearman_abs", "ssim", "top_k_intersection"};
  return names;
}

// Per measure the Summary of a list of similarity records.
nlohmann::json similarity_summary(const std::vector<const nlohmann::json*>& records) {
  nlohmann::json s = nlohmann::json::object();
  for (const auto& measure : similarity_measures()) {
    std::vector<double> values;
    for (const nlohmann::json* r : records) values.push_back(number_or_nan(r->at(measure)));
    s[measure] = summarise(values);
  }
  return s;
}

}  // namespace

nlohmann::json summarise_evaluation_images(const nlohmann::json& images, const std::vector<std::string>& methods,
                                           const std::vector<Metric>& metrics) {
  const bool conservation = wants(metrics, Metric::conservation);
  nlohmann::json summary = nlohmann::json::object();
  for (const auto& method : methods) {
    std::map<std::string, std::vector<double>> values;
    std::map<std::string, std::vector<std::vector<double>>> curves;  // scores f(x^(k)) per image
    std::vector<ConservationRecord> accounts;
    std::vector<const nlohmann::json*> sensitivity_n;  // per image {sizes, pixels, correlations}
    std::vector<std::vector<const nlohmann::json*>> mprt;  // per stage, the images' similarity records
    std::vector<std::string> stage_names;
    std::vector<const nlohmann::json*> data_randomisation;
    for (const auto& image : images) {
      if (!image.contains("methods") || !image["methods"].contains(method)) continue;
      const nlohmann::json& m = image["methods"][method];
      for (const char* key : {"seconds", "evaluations", "aopc", "lerf", "pixel-flipping", "mass", "rank", "pointing",
                              "faithfulness-correlation", "infidelity", "relative_infidelity", "max-sensitivity",
                              "sparseness", "complexity"})
        if (m.contains(key)) values[key].push_back(number_or_nan(m[key]));
      if (m.contains("sensitivity-n")) sensitivity_n.push_back(&m["sensitivity-n"]);
      if (m.contains("curves"))
        for (const auto& [metric, curve] : m["curves"].items())
          curves[metric].push_back(curve.at("scores").get<std::vector<double>>());
      if (m.contains("account")) accounts.push_back(account_of(m["account"]));
      if (m.contains("mprt"))
        for (size_t s = 0; s < m["mprt"].size(); ++s) {
          if (mprt.size() <= s) {
            mprt.emplace_back();
            stage_names.push_back(m["mprt"][s].at("stage").get<std::string>());
          }
          mprt[s].push_back(&m["mprt"][s]);
        }
      if (m.contains("data_randomisation")) data_randomisation.push_back(&m["data_randomisation"]);
    }
    nlohmann::json s = nlohmann::json::object();
    for (const auto& [metric, list] : values) s[metric] = summarise(list);
    nlohmann::json mean_curves = nlohmann::json::object();
    for (const auto& [metric, list] : curves) {
      // Mean drop f(x^(0)) - f(x^(k)) at every step k over the images that have it.
      size_t longest = 0;
      for (const auto& c : list) longest = std::max(longest, c.size());
      std::vector<double> mean(longest, 0.0), count(longest, 0.0);
      for (const auto& c : list)
        for (size_t k = 0; k < c.size(); ++k) {
          mean[k] += c.front() - c[k];
          count[k] += 1;
        }
      for (size_t k = 0; k < longest; ++k) mean[k] /= count[k];
      mean_curves[metric] = mean;
    }
    s["mean_drop_curves"] = mean_curves;
    if (!sensitivity_n.empty()) s["sensitivity-n"] = sensitivity_n_curve(sensitivity_n);
    if (conservation && !accounts.empty()) s["conservation"] = conservation_statistics(accounts);
    // The MPRT similarity curve: per cumulative randomisation stage the
    // summary of every similarity measure over the images (Adebayo et al. 2018, 3.1).
    if (!mprt.empty()) {
      nlohmann::json curve = nlohmann::json::array();
      for (size_t k = 0; k < mprt.size(); ++k) {
        nlohmann::json stage = similarity_summary(mprt[k]);
        stage["stage"] = stage_names[k];
        curve.push_back(std::move(stage));
      }
      s["mprt"] = std::move(curve);
    }
    if (!data_randomisation.empty()) s["data_randomisation"] = similarity_summary(data_randomisation);
    summary[method] = s;
  }
  return summary;
}

nlohmann::json chance_of_evaluation_images(const nlohmann::json& images) {
  std::vector<double> fractions, top_k;  // k / N of the images with a similarity record
  for (const auto& image : images) {
    if (image.contains("mask_fraction")) fractions.push_back(image["mask_fraction"].get<double>());
    if (!image.contains("methods")) continue;
    for (const auto& [method, m] : image["methods"].items()) {
      const nlohmann::json* record = m.contains("mprt") && !m["mprt"].empty() ? &m["mprt"][0]
                                     : m.contains("data_randomisation")       ? &m["data_randomisation"]
                                                                              : nullptr;
      if (!record) continue;
      const auto size = image.at("size").get<std::vector<long>>();
      top_k.push_back(record->at("top_k").get<double>() / static_cast<double>(size.at(0) * size.at(1)));
      break;
    }
  }
  nlohmann::json chance = {{"mask_fraction", summarise(fractions)},
                           {"note", "a heatmap independent of the mask scores the mask fraction on average in "
                                    "relevance mass accuracy, rank accuracy and the pointing game"}};
  if (!top_k.empty())
    chance["similarity"] = {{"spearman", 0.0}, {"spearman_abs", 0.0}, {"ssim", 0.0},
                            {"top_k_intersection", summarise(top_k)},
                            {"note", "two unrelated heatmaps: Spearman correlations 0, SSIM about 0, top-k "
                                     "intersection k / N (docs/evaluation.md, \"Sanity checks\")"}};
  return chance;
}

nlohmann::json regions_of_evaluation_images(const nlohmann::json& images) {
  // Region side of the region-perturbation curves (MoRF or LeRF) per image size.
  std::map<std::pair<long, long>, std::pair<int, long>> used;  // size -> region, images
  for (const auto& image : images) {
    if (!image.contains("methods") || !image.contains("size")) continue;
    for (const auto& [method, m] : image["methods"].items()) {
      if (!m.contains("curves")) continue;
      const nlohmann::json* curve = m["curves"].contains("aopc")   ? &m["curves"]["aopc"]
                                    : m["curves"].contains("lerf") ? &m["curves"]["lerf"]
                                                                   : nullptr;
      if (!curve) continue;
      auto& entry = used[{image["size"].at(0).get<long>(), image["size"].at(1).get<long>()}];
      entry.first = curve->at("region").get<int>();
      ++entry.second;
      break;
    }
  }
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [size, entry] : used) {
    const auto [rows, cols] = size;
    const auto [region, count] = entry;
    nlohmann::json r = {{"size", {rows, cols}}, {"region", region}, {"images", count}};
    // Samek et al. 2017 use 9 x 9 regions and L = 100 steps; an image too small
    // for 100 such regions gets smaller ones (PerturbationOptions::region_side).
    const long nine = ((rows + 8) / 9) * ((cols + 8) / 9);
    if (region < 9 && nine < 100)
      r["note"] = std::to_string(rows) + " x " + std::to_string(cols) + " images hold only " + std::to_string(nine) +
                  " regions of 9 x 9 (Samek et al. 2017: L = 100 steps of 9 x 9 regions), so regions of " +
                  std::to_string(region) + " x " + std::to_string(region) + " are used";
    list.push_back(r);
  }
  return list;
}

nlohmann::json merge_evaluations(const std::vector<nlohmann::json>& parts, const std::vector<std::string>& names) {
  if (parts.empty()) throw std::runtime_error("merge: no evaluation to merge");
  if (names.size() != parts.size()) throw std::invalid_argument("merge: one name per part needed");
  // The settings that must agree: everything but the shard, the command, the
  // image count and how each part used its machine (no result depends on it).
  auto comparable = [](nlohmann::json settings) {
    settings.erase("shard");
    settings.erase("command");
    settings.erase("execution");
    if (settings.contains("data")) settings["data"].erase("evaluated");
    return settings;
  };
  nlohmann::json images = nlohmann::json::array();
  std::set<long> seen;
  std::set<int> shards;
  std::map<int, nlohmann::json> executions;  // by shard
  int count = 0;
  double seconds = 0;
  for (size_t p = 0; p < parts.size(); ++p) {
    const nlohmann::json& part = parts[p];
    if (!part.is_object() || part.value("format", "") != "pixelwise-evaluation" || part.value("version", 0) != 1)
      throw std::runtime_error(names[p] + ": not a pixelwise evaluation (format pixelwise-evaluation, version 1)");
    const nlohmann::json settings = comparable(part.at("settings"));
    const nlohmann::json first = comparable(parts[0].at("settings"));
    if (settings != first) {
      std::string key = "?";
      for (const auto& [k, v] : first.items())
        if (!settings.contains(k) || settings[k] != v) key = k;
      throw std::runtime_error(names[p] + ": its settings differ from those of " + names[0] + " (\"" + key +
                               "\"); only shards of one evaluation can be merged");
    }
    const Shard shard = Shard::parse(part.at("settings").value("shard", std::string("1/1")));
    if (p == 0) count = shard.count;
    if (shard.count != count)
      throw std::runtime_error(names[p] + ": shard " + shard.str() + " is not one of " + std::to_string(count));
    if (!shards.insert(shard.index).second) throw std::runtime_error(names[p] + ": shard " + shard.str() + " given twice");
    executions[shard.index] = part.at("settings").value("execution", nlohmann::json());
    for (const auto& image : part.at("images")) {
      if (!seen.insert(image.at("index").get<long>()).second)
        throw std::runtime_error(names[p] + ": image " + std::to_string(image.at("index").get<long>()) +
                                 " is also in another part");
      images.push_back(image);
    }
    seconds += part.value("seconds", 0.0);
  }
  std::string missing;
  for (int k = 1; k <= count; ++k)
    if (!shards.count(k)) missing += (missing.empty() ? "" : ", ") + std::to_string(k) + "/" + std::to_string(count);
  if (!missing.empty()) throw std::runtime_error("merge: shards " + missing + " are missing");
  std::sort(images.begin(), images.end(),
            [](const nlohmann::json& a, const nlohmann::json& b) { return a.at("index").get<long>() < b.at("index").get<long>(); });

  nlohmann::json settings = parts[0].at("settings");
  settings["shard"] = "merged " + std::to_string(count) + " shards";
  settings.erase("command");
  settings["execution"] = nlohmann::json::array();
  for (const auto& [shard, execution] : executions) settings["execution"].push_back(execution);
  settings["data"]["evaluated"] = images.size();
  const auto methods = settings.at("methods").get<std::vector<std::string>>();
  const auto metrics = parse_metrics(settings.at("metrics").get<std::vector<std::string>>(), "settings.metrics");
  return {{"format", "pixelwise-evaluation"},
          {"version", 1},
          {"settings", settings},
          {"summary", summarise_evaluation_images(images, methods, metrics)},
          {"chance", chance_of_evaluation_images(images)},
          {"regions", regions_of_evaluation_images(images)},
          {"seconds", seconds},
          {"images", images}};
}

int run_merge_evaluations(const std::vector<std::string>& inputs, const std::string& out, std::ostream& log) {
  std::vector<nlohmann::json> parts;
  std::vector<std::string> names;
  for (const auto& input : inputs) {
    // An `evaluate --out` folder stands for its evaluation.json.
    const std::string path = fs::is_directory(input) ? (fs::path(input) / "evaluation.json").string() : input;
    names.push_back(path);
    parts.push_back(read_json_file(path));
  }
  nlohmann::json merged;
  try {
    merged = merge_evaluations(parts, names);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("merge: a part lacks an entry of an evaluation (" + std::string(e.what()) + ")");
  }
  const fs::path target(out);
  if (fs::exists(target) && !(fs::is_directory(target) && (fs::is_empty(target) || fs::exists(target / "evaluation.json"))))
    throw std::runtime_error(out + ": exists and is not an evaluation folder; refusing to write into it");
  const ReportFiles files = render_report(merged, {});
  fs::create_directories(target / "report");
  write_file_atomically((target / "evaluation.json").string(), merged.dump(1) + "\n");
  for (const auto& [name, bytes] : files) {
    fs::create_directories((target / "report" / name).parent_path());
    write_file_atomically((target / "report" / name).string(), bytes);
  }
  log << "merged " << parts.size() << " evaluations: " << merged["images"].size() << " images -> "
      << (target / "evaluation.json").string() << "\n";
  return 0;
}

}  // namespace pixelwise
