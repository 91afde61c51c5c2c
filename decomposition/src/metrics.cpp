#include "pixelwise/decomposition/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <opencv2/imgproc.hpp>
#include <random>
#include <stdexcept>

namespace pixelwise {

const EnumNames<Replacement>& enum_names(Replacement) {
  static const EnumNames<Replacement> names{
      {Replacement::uniform, "uniform"}, {Replacement::constant, "constant"}, {Replacement::blur, "blur"}};
  return names;
}

Replacement parse_replacement(const std::string& name) { return parse_enum<Replacement>(name, "replacement"); }

std::string replacement_name(Replacement replacement) { return name_of(replacement); }

void PerturbationOptions::validate() const {
  if (region < 0) throw std::invalid_argument("perturbation: region must be 0 (automatic) or a side in pixels");
  if (steps < 1) throw std::invalid_argument("perturbation: steps must be at least 1");
  if (regions_per_step < 0) throw std::invalid_argument("perturbation: regions per step must be 0 (automatic) or more");
  if (!std::isfinite(constant)) throw std::invalid_argument("perturbation: the constant must be a finite grey level");
  if (!(blur_sigma > 0) || !std::isfinite(blur_sigma)) throw std::invalid_argument("perturbation: blur sigma must be positive");
  batching.validate();
}

namespace {
long region_count(int rows, int cols, int r) {
  return static_cast<long>((rows + r - 1) / r) * ((cols + r - 1) / r);
}
}  // namespace

int PerturbationOptions::region_side(int rows, int cols) const {
  if (region > 0) return region;
  // Samek et al. 2017 use 9 x 9. The automatic side depends on the image size
  // only, never on L, so that AOPCs measured with different step counts are
  // curves over the same regions (docs/evaluation.md, "Region perturbation").
  constexpr long kAutomaticRegions = 100;
  int r = 9;
  while (r > 1 && region_count(rows, cols, r) < kAutomaticRegions) --r;
  return r;
}

double PerturbationCurve::aopc() const {
  if (scores.empty()) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0;
  for (double s : scores) sum += scores.front() - s;
  return sum / static_cast<double>(scores.size());
}

std::vector<int> rank_regions(const RowMatrixXd& relevance, int r, bool most_relevant_first, std::uint64_t seed) {
  if (r < 1) throw std::invalid_argument("region ranking: the region side must be positive");
  const int gy = static_cast<int>((relevance.rows() + r - 1) / r), gx = static_cast<int>((relevance.cols() + r - 1) / r);
  std::vector<double> sum(static_cast<size_t>(gx) * gy, 0.0);
  for (long y = 0; y < relevance.rows(); ++y)
    for (long x = 0; x < relevance.cols(); ++x) sum[(y / r) * gx + x / r] += relevance(y, x);
  std::vector<int> order(sum.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  std::shuffle(order.begin(), order.end(), rng);  // ties in seeded random order
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return most_relevant_first ? sum[a] > sum[b] : sum[a] < sum[b];
  });
  return order;
}

cv::Mat replacement_image(const cv::Mat& image, const PerturbationOptions& options) {
  check_model_image(image, "perturbation");
  cv::Mat out(image.size(), image.type());
  switch (options.replacement) {
    case Replacement::uniform: {
      std::mt19937_64 rng(options.seed);
      // One draw per value, pixel by pixel and plane by plane within a pixel.
      for (int y = 0; y < out.rows; ++y) {
        float* row = out.ptr<float>(y);
        for (int v = 0; v < out.cols * out.channels(); ++v)
          row[v] = static_cast<float>(static_cast<double>(rng() >> 11) * 0x1.0p-53);
      }
      break;
    }
    case Replacement::constant: out.setTo(cv::Scalar::all(options.constant)); break;
    case Replacement::blur:
      cv::GaussianBlur(image, out, cv::Size(0, 0), options.blur_sigma, options.blur_sigma, cv::BORDER_REFLECT);
      break;
  }
  return out;
}

PerturbationCurve region_perturbation(const ScoreModel& model, const cv::Mat& image, const RowMatrixXd& relevance,
                                      int c, const PerturbationOptions& options) {
  options.validate();
  check_model_image(image, "perturbation");
  if (relevance.rows() != image.rows || relevance.cols() != image.cols)
    throw std::invalid_argument("perturbation: the heatmap is " + std::to_string(relevance.rows()) + " x " +
                                std::to_string(relevance.cols()) + ", the image " + std::to_string(image.rows) + " x " +
                                std::to_string(image.cols));
  const int r = options.region_side(image.rows, image.cols);
  const std::vector<int> order = rank_regions(relevance, r, options.most_relevant_first, options.seed);
  const long regions = static_cast<long>(order.size());
  const long per_step = options.regions_per_step > 0 ? options.regions_per_step : (regions + options.steps - 1) / options.steps;
  const long steps = std::min<long>(options.steps, (regions + per_step - 1) / per_step);
  const int gx = (image.cols + r - 1) / r;
  const cv::Mat replacement = replacement_image(image, options);
  // x^(k) for every k, built from x^(0) by replacing the first k * per_step
  // regions of the ranking (each thread builds its own images).
  auto make = [&](long k) {
    cv::Mat x = image.clone();
    for (long i = 0; i < std::min(regions, k * per_step); ++i) {
      const int g = order[i], x0 = (g % gx) * r, y0 = (g / gx) * r;
      const cv::Rect box(x0, y0, std::min(r, image.cols - x0), std::min(r, image.rows - y0));
      replacement(box).copyTo(x(box));
    }
    return x;
  };
  const Eigen::VectorXd s = evaluate_images(model, steps + 1, make, c, options.batching);
  PerturbationCurve curve;
  curve.scores.assign(s.data(), s.data() + s.size());
  curve.region = r;
  curve.regions_per_step = static_cast<int>(per_step);
  curve.evaluations = steps + 1;
  return curve;
}

Localisation localise(const RowMatrixXd& relevance, const MaskArray& mask) {
  if (relevance.rows() != mask.rows() || relevance.cols() != mask.cols())
    throw std::invalid_argument("localisation: the heatmap is " + std::to_string(relevance.rows()) + " x " +
                                std::to_string(relevance.cols()) + ", the mask " + std::to_string(mask.rows()) + " x " +
                                std::to_string(mask.cols()));
  if (!relevance.allFinite()) throw std::invalid_argument("localisation: the heatmap has NaN or infinite values");
  const long n = relevance.size(), k = mask.count();
  if (k == 0) throw std::invalid_argument("localisation: the mask is empty");
  Localisation out;
  out.mask_pixels = k;
  out.mask_fraction = static_cast<double>(k) / static_cast<double>(n);
  const double* r = relevance.data();
  const bool* m = mask.data();

  double positive = 0, positive_inside = 0;
  for (long i = 0; i < n; ++i)
    if (r[i] > 0) {
      positive += r[i];
      if (m[i]) positive_inside += r[i];
    }
  if (positive > 0) out.mass_accuracy = positive_inside / positive;

  // Rank accuracy: the k-th largest value t; all pixels above t are in the
  // top k, and the remaining places go to the pixels equal to t in proportion.
  std::vector<double> sorted(r, r + n);
  std::nth_element(sorted.begin(), sorted.begin() + (k - 1), sorted.end(), std::greater<double>());
  const double t = sorted[k - 1];
  long above = 0, above_inside = 0, equal = 0, equal_inside = 0;
  double maximum = r[0];
  for (long i = 0; i < n; ++i) {
    maximum = std::max(maximum, r[i]);
    if (r[i] > t) {
      ++above;
      above_inside += m[i];
    } else if (r[i] == t) {
      ++equal;
      equal_inside += m[i];
    }
  }
  out.rank_accuracy = (above_inside + static_cast<double>(k - above) * equal_inside / equal) / static_cast<double>(k);

  long tied = 0, tied_inside = 0;
  for (long i = 0; i < n; ++i)
    if (r[i] == maximum) {
      ++tied;
      tied_inside += m[i];
    }
  out.pointing = static_cast<double>(tied_inside) / static_cast<double>(tied);
  return out;
}

double Summary::ci95() const { return count > 1 ? 1.96 * std / std::sqrt(static_cast<double>(count)) : 0.0; }

Summary summarise(const std::vector<double>& values) {
  Summary s;
  std::vector<double> finite;
  for (double v : values) {
    if (std::isnan(v))
      ++s.undefined;
    else
      finite.push_back(v);
  }
  s.count = static_cast<long>(finite.size());
  if (finite.empty()) {
    s.mean = s.std = s.min = s.max = s.median = std::numeric_limits<double>::quiet_NaN();
    return s;
  }
  s.mean = std::accumulate(finite.begin(), finite.end(), 0.0) / s.count;
  double ss = 0;
  for (double v : finite) ss += (v - s.mean) * (v - s.mean);
  s.std = s.count > 1 ? std::sqrt(ss / (s.count - 1)) : 0.0;
  std::sort(finite.begin(), finite.end());
  s.min = finite.front();
  s.max = finite.back();
  s.median = s.count % 2 ? finite[s.count / 2] : 0.5 * (finite[s.count / 2 - 1] + finite[s.count / 2]);
  return s;
}

void to_json(nlohmann::json& j, const Summary& s) {
  auto number = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  j = {{"count", s.count},         {"undefined", s.undefined}, {"mean", number(s.mean)},
       {"std", number(s.std)},     {"min", number(s.min)},     {"max", number(s.max)},
       {"median", number(s.median)}, {"ci95", number(s.count ? s.ci95() : NAN)}};
}

nlohmann::json conservation_statistics(const std::vector<ConservationRecord>& records) {
  std::vector<double> residual, relative;
  std::vector<std::string> order;  // layer names in first-seen order
  std::map<std::string, std::map<std::string, std::vector<double>>> layers;
  for (const auto& rec : records) {
    const double res = rec.score - rec.pixel_sum;
    residual.push_back(res);
    relative.push_back(rec.score != 0 ? std::abs(res) / std::abs(rec.score) : NAN);
    for (const auto& layer : rec.layers) {
      if (!layers.count(layer.name)) order.push_back(layer.name);
      auto& l = layers[layer.name];
      l["relevance_in"].push_back(layer.relevance_in);
      l["relevance_out"].push_back(layer.relevance_out);
      l["absorbed"].push_back(layer.absorbed);
      l["unassigned"].push_back(layer.unassigned);
      l["unaccounted"].push_back(layer.unaccounted());
    }
  }
  nlohmann::json per_layer = nlohmann::json::array();
  for (const auto& name : order) {
    nlohmann::json entry = {{"layer", name}};
    for (const auto& [quantity, values] : layers[name]) entry[quantity] = summarise(values);
    per_layer.push_back(entry);
  }
  return {{"explanations", records.size()},
          {"residual", summarise(residual)},
          {"relative_residual", summarise(relative)},
          {"layers", per_layer}};
}

}  // namespace pixelwise
