#include "pixelwise/pipelines/evaluation/report.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <stdexcept>

#include "pixelwise/pipelines/io/heatmap.hpp"

namespace pixelwise {
namespace {

constexpr int kMinSide = 112;  // small images are enlarged to at least this (as render_heatmap)

}  // namespace

std::string png_bytes(const cv::Mat& image, const std::string& what) {
  std::vector<uchar> png;
  if (!cv::imencode(".png", image, png)) throw std::runtime_error(what + ": PNG encoding failed");
  return std::string(png.begin(), png.end());
}

namespace {
int enlargement(int rows, int cols) {
  const int side = std::min(rows, cols);
  return side < kMinSide ? (kMinSide + side - 1) / side : 1;
}
}  // namespace

cv::Mat original_panel(const cv::Mat& gray, const std::optional<MaskArray>& mask) {
  cv::Mat bytes, bgr;
  gray.convertTo(bytes, CV_8U, 255.0);
  cv::cvtColor(bytes, bgr, cv::COLOR_GRAY2BGR);
  const int f = enlargement(gray.rows, gray.cols);
  cv::resize(bgr, bgr, cv::Size(), f, f, cv::INTER_NEAREST);
  if (mask) {
    cv::Mat m(gray.rows, gray.cols, CV_8U);
    for (int y = 0; y < m.rows; ++y)
      for (int x = 0; x < m.cols; ++x) m.at<uchar>(y, x) = (*mask)(y, x) ? 255 : 0;
    cv::resize(m, m, cv::Size(), f, f, cv::INTER_NEAREST);
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(m, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
    cv::drawContours(bgr, contours, -1, cv::Scalar(0, 200, 0), 1);
  }
  return bgr;
}

namespace {

std::string method_colour(const std::string& method) {
  static const std::map<std::string, std::string> colours{{"lrp", "#d62728"},       {"taylor", "#9467bd"},
                                                          {"occlusion", "#1f77b4"}, {"sensitivity", "#2ca02c"},
                                                          {"random", "#7f7f7f"}};
  auto it = colours.find(method);
  return it == colours.end() ? "#ff7f0e" : it->second;
}

std::string number(double v, int precision = 4) {
  if (!std::isfinite(v)) return "&ndash;";
  std::ostringstream s;
  s << std::fixed << std::setprecision(precision) << v;
  return s.str();
}

std::string number(const nlohmann::json& v, int precision = 4) {
  return v.is_number() ? number(v.get<double>(), precision) : "&ndash;";
}

// "mean ± ci95" of a Summary's JSON, or a dash.
std::string mean_ci(const nlohmann::json& summary, const std::string& key, int precision = 4) {
  if (!summary.contains(key)) return "&ndash;";
  const nlohmann::json& s = summary.at(key);
  if (!s.at("mean").is_number()) return "&ndash;";
  std::string text = number(s.at("mean"), precision);
  if (s.at("count").get<long>() > 1) text += " &plusmn; " + number(s.at("ci95"), precision);
  return text;
}

std::string count_of(const nlohmann::json& summary, const std::string& key) {
  if (!summary.contains(key)) return "&ndash;";
  const nlohmann::json& s = summary.at(key);
  std::string text = std::to_string(s.at("count").get<long>());
  if (s.at("undefined").get<long>() > 0) text += " (+" + std::to_string(s.at("undefined").get<long>()) + " undefined)";
  return text;
}

std::string file_stem(size_t index, const std::string& name) {
  std::string safe;
  for (char ch : name) safe += std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' ? ch : '_';
  return std::to_string(index) + "-" + safe;
}

// Nice tick step for a range.
double tick_step(double range) {
  if (!(range > 0)) return 1;
  const double raw = range / 5, power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * power) return m * power;
  return 10 * power;
}

void flatten(const nlohmann::json& j, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out) {
  if (j.is_object() && !j.empty()) {
    for (const auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  } else {
    out.emplace_back(prefix, j.is_string() ? j.get<std::string>() : j.dump());
  }
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string svg_line_chart(const std::string& title, const std::string& x_label, const std::string& y_label,
                           const std::vector<ChartSeries>& series) {
  const double W = 520, H = 320, left = 70, right = 130, top = 34, bottom = 48;
  const double pw = W - left - right, ph = H - top - bottom;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  size_t n = 0;
  for (const auto& s : series) {
    n = std::max(n, s.values.size());
    for (double v : s.values)
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
  }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
  const double step = tick_step(hi - lo);
  lo = std::floor(lo / step) * step;
  hi = std::ceil(hi / step) * step;
  const double xmax = std::max<double>(1, static_cast<double>(n) - 1);
  auto X = [&](double x) { return left + pw * x / xmax; };
  auto Y = [&](double y) { return top + ph * (hi - y) / (hi - lo); };
  std::ostringstream s;
  s << std::fixed << std::setprecision(2);
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W << " "
    << H << "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  s << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s << "<text x=\"" << left + pw / 2 << "\" y=\"18\" text-anchor=\"middle\" font-size=\"13\">" << html_escape(title)
    << "</text>\n";
  for (double y = lo; y <= hi + step / 2; y += step) {
    s << "<line x1=\"" << left << "\" x2=\"" << left + pw << "\" y1=\"" << Y(y) << "\" y2=\"" << Y(y)
      << "\" stroke=\"#ddd\"/>\n";
    s << "<text x=\"" << left - 6 << "\" y=\"" << Y(y) + 4 << "\" text-anchor=\"end\">" << std::setprecision(3) << y
      << std::setprecision(2) << "</text>\n";
  }
  const double xstep = tick_step(xmax);
  for (double x = 0; x <= xmax + xstep / 2; x += xstep) {
    s << "<line x1=\"" << X(x) << "\" x2=\"" << X(x) << "\" y1=\"" << top + ph << "\" y2=\"" << top + ph + 4
      << "\" stroke=\"#333\"/>\n";
    s << "<text x=\"" << X(x) << "\" y=\"" << top + ph + 16 << "\" text-anchor=\"middle\">" << std::setprecision(xstep >= 1 ? 0 : 2)
      << x << std::setprecision(2) << "</text>\n";
  }
  s << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << pw << "\" height=\"" << ph
    << "\" fill=\"none\" stroke=\"#333\"/>\n";
  s << "<text x=\"" << left + pw / 2 << "\" y=\"" << H - 10 << "\" text-anchor=\"middle\">" << html_escape(x_label)
    << "</text>\n";
  s << "<text transform=\"translate(16," << top + ph / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
    << html_escape(y_label) << "</text>\n";
  for (size_t k = 0; k < series.size(); ++k) {
    const auto& ser = series[k];
    s << "<polyline fill=\"none\" stroke=\"" << html_escape(ser.colour) << "\" stroke-width=\"2\" points=\"";
    for (size_t i = 0; i < ser.values.size(); ++i)
      if (std::isfinite(ser.values[i])) s << X(static_cast<double>(i)) << "," << Y(ser.values[i]) << " ";
    s << "\"/>\n";
    const double ly = top + 14 + 18 * static_cast<double>(k);
    s << "<line x1=\"" << left + pw + 10 << "\" x2=\"" << left + pw + 30 << "\" y1=\"" << ly - 4 << "\" y2=\"" << ly - 4
      << "\" stroke=\"" << html_escape(ser.colour) << "\" stroke-width=\"2\"/>\n";
    s << "<text x=\"" << left + pw + 35 << "\" y=\"" << ly << "\">" << html_escape(ser.name) << "</text>\n";
  }
  s << "</svg>\n";
  return s.str();
}

std::string ReportPage::img(const std::string& src, const std::string& alt, const std::string& cls) {
  ++images;
  std::ostringstream s;
  s << "<img src=\"" << html_escape(src) << "\" alt=\"" << html_escape(alt) << "\"" << (cls.empty() ? "" : " class=\"" + cls + "\"")
    << ">";
  return s.str();
}

namespace {

// The parts of an evaluation's JSON that the sections of the page read.
struct Evaluation {
  const nlohmann::json& all;
  const nlohmann::json& settings;
  const nlohmann::json& summary;
  std::vector<std::string> methods;
  std::vector<Metric> metrics;

  bool wants(Metric metric) const { return pixelwise::wants(metrics, metric); }
};

using Page = ReportPage;

void write_overview(Page& page, const Evaluation& e) {
  const nlohmann::json& settings = e.settings;
  const nlohmann::json& data = settings.at("data");
  page.html << "<h1>pixelwise evaluation</h1>\n<p>Model <code>" << html_escape(settings.at("model").value("source", "?"))
         << "</code> (" << html_escape(settings.at("model").value("kind", "?")) << "), data <code>"
         << html_escape(data.at("spec").get<std::string>()) << "</code>: " << data.at("evaluated").get<long>()
         << " images evaluated, explained class: " << html_escape(settings.at("class").get<std::string>())
         << ". Masks: " << html_escape(data.at("masks").get<std::string>()) << ". Total time "
         << number(e.all.at("seconds"), 1) << " s.</p>\n";
}

void write_faithfulness(Page& page, const Evaluation& e) {
  std::ostringstream& h = page.html;
  h << "<h2>Faithfulness: region perturbation</h2>\n<p>AOPC = 1/(L+1) mean over images of sum<sub>k=0..L</sub> "
       "(f(x<sup>(0)</sup>) &minus; f(x<sup>(k)</sup>)) (Samek et al. 2017). Higher is better for MoRF and pixel "
       "flipping (the score falls fast when the most relevant regions go), lower for LeRF. The random heatmap is "
       "the chance level. Mean &plusmn; 95&nbsp;% confidence half-width.</p>\n";
  if (e.all.contains("regions"))
    for (const auto& r : e.all["regions"])
      if (r.contains("note")) h << "<p class=\"region-note\">Note: " << html_escape(r["note"].get<std::string>()) << ".</p>\n";
  page.table_start("faithfulness", {"method", "AOPC MoRF", "AOPC LeRF", "pixel flipping AOPC", "images",
                                    "seconds / image", "model evaluations / image"});
  for (const auto& m : e.methods) {
    const nlohmann::json& s = e.summary.at(m);
    h << "<tr><td><span class=\"swatch\" style=\"background:" << method_colour(m) << "\"></span>" << html_escape(m)
      << "</td><td>" << mean_ci(s, "aopc") << "</td><td>" << mean_ci(s, "lerf") << "</td><td>"
      << mean_ci(s, "pixel-flipping") << "</td><td>" << count_of(s, "seconds") << "</td><td>" << mean_ci(s, "seconds")
      << "</td><td>" << mean_ci(s, "evaluations", 1) << "</td></tr>\n";
  }
  h << "</tbody></table>\n";
}

// One chart per perturbation metric evaluated, every method a line in it.
void write_mean_curves(Page& page, const Evaluation& e) {
  struct Curve {
    std::string metric, title;
  };
  std::vector<Curve> curves;
  if (e.wants(Metric::aopc)) curves.push_back({"aopc", "MoRF region perturbation"});
  if (e.wants(Metric::lerf)) curves.push_back({"lerf", "LeRF region perturbation"});
  if (e.wants(Metric::pixel_flipping)) curves.push_back({"pixel-flipping", "Pixel flipping (MoRF)"});
  if (curves.empty()) return;
  page.html << "<h2>Mean perturbation curves</h2>\n<p>Mean score drop f(x<sup>(0)</sup>) &minus; f(x<sup>(k)</sup>) after k "
            "steps; per-image curves are in evaluation.json.</p>\n<div class=\"charts\">\n";
  for (const auto& c : curves) {
    std::vector<ChartSeries> series;
    for (const auto& m : e.methods)
      series.push_back({m, method_colour(m), e.summary.at(m).at("mean_drop_curves").at(c.metric).get<std::vector<double>>()});
    const std::string name = "img/curve-" + c.metric + ".svg";
    page.files[name] = svg_line_chart(c.title, "step k", "mean f(x0) - f(xk)", series);
    page.html << page.img(name, c.title + " curves", "chart") << "\n";
  }
  page.html << "</div>\n";
}

// Faithfulness correlation, infidelity, max-sensitivity, sparseness and
// complexity (decomposition/faithfulness.hpp): one table, and the mean
// sensitivity-n curve.
void write_faithfulness_metrics(Page& page, const Evaluation& e) {
  struct Column {
    Metric metric;
    std::string key, title;
  };
  const std::vector<Column> all{
      {Metric::faithfulness_correlation, "faithfulness-correlation", "faithfulness correlation &uarr;"},
      {Metric::infidelity, "infidelity", "infidelity &darr;"},
      {Metric::infidelity, "relative_infidelity", "relative infidelity &darr;"},
      {Metric::max_sensitivity, "max-sensitivity", "max-sensitivity &darr;"},
      {Metric::sparseness, "sparseness", "sparseness (Gini) &uarr;"},
      {Metric::complexity, "complexity", "complexity (entropy) &darr;"}};
  std::vector<Column> columns;
  for (const auto& c : all)
    if (e.wants(c.metric)) columns.push_back(c);
  std::ostringstream& h = page.html;
  if (!columns.empty()) {
    h << "<h2>Faithfulness, robustness and complexity</h2>\n<p>Faithfulness correlation (Bhatt et al. 2020): "
         "Pearson correlation of the relevance summed over random pixel subsets with the score drop when they are "
         "replaced (1: faithful, ~0: unrelated to the model). Infidelity (Yeh et al. 2019): mean squared error of "
         "&beta; I<sup>T</sup>R against f(x) &minus; f(x &minus; I) for Gaussian I, at the optimal scale &beta;; "
         "relative: divided by the mean squared drop (0 to 1). Max-sensitivity (Yeh et al. 2019): the largest "
         "relative change of the map under small uniform noise (the random baseline ignores the input and scores "
         "0: robustness alone says nothing). Sparseness: Gini index of |R| (Chalasani et al. 2020); complexity: "
         "entropy of |R| / &sum;|R| (Bhatt et al. 2020); undefined for all-zero maps. Mean &plusmn; 95&nbsp;% "
         "confidence half-width; settings below.</p>\n";
    std::vector<std::string> header{"method"};
    for (const auto& c : columns) header.push_back(c.title);
    header.push_back("images");
    page.table_start("faithfulness-metrics", header);
    for (const auto& m : e.methods) {
      const nlohmann::json& s = e.summary.at(m);
      h << "<tr><td><span class=\"swatch\" style=\"background:" << method_colour(m) << "\"></span>" << html_escape(m)
        << "</td>";
      for (const auto& c : columns) h << "<td>" << mean_ci(s, c.key) << "</td>";
      h << "<td>" << count_of(s, columns.front().key) << "</td></tr>\n";
    }
    h << "</tbody></table>\n";
  }
  if (!e.wants(Metric::sensitivity_n)) return;
  std::vector<ChartSeries> series;
  nlohmann::json sizes, fractions;
  for (const auto& m : e.methods) {
    const nlohmann::json& s = e.summary.at(m);
    if (!s.contains("sensitivity-n")) continue;
    const nlohmann::json& curve = s.at("sensitivity-n");
    std::vector<double> mean;
    for (const auto& v : curve.at("mean")) mean.push_back(v.is_number() ? v.get<double>() : NAN);
    series.push_back({m, method_colour(m), mean});
    sizes = curve.at("sizes");
    fractions = curve.at("fractions");
  }
  if (series.empty()) return;
  std::string points;
  for (size_t k = 0; k < sizes.size(); ++k)
    points += (k ? ", " : "") + std::to_string(k) + ": n = " +
              (sizes[k].is_number() ? std::to_string(sizes[k].get<long>()) : "varies") + " (" +
              number(100.0 * fractions[k].get<double>(), fractions[k].get<double>() < 0.01 ? 2 : 1) + "&nbsp;%)";
  h << "<h2>Sensitivity-n</h2>\n<p>Mean over the images of the Pearson correlation of the relevance of random "
       "subsets of n pixels with the score drop when they are replaced (Ancona et al. 2018), at each subset size "
       "(point k, n log-spaced; the share of the pixels in brackets): "
    << points << ".</p>\n<div class=\"charts\">\n";
  const std::string name = "img/curve-sensitivity-n.svg";
  page.files[name] = svg_line_chart("Sensitivity-n", "subset size point k (n log-spaced)", "mean correlation", series);
  h << page.img(name, "sensitivity-n curves", "chart") << "\n</div>\n";
}

void write_localisation(Page& page, const Evaluation& e) {
  std::ostringstream& h = page.html;
  const nlohmann::json& chance = e.all.at("chance").at("mask_fraction");
  h << "<h2>Localisation against the ground-truth mask</h2>\n<p>Relevance mass accuracy: positive relevance inside "
       "the mask / all positive relevance. Rank accuracy: share of the |mask| most relevant pixels inside the mask. "
       "Pointing game: the most relevant pixel lies in the mask. Chance level: the mask fraction |mask| / pixels "
       "(what a heatmap unrelated to the mask scores on average). Images with a mask: "
    << chance.at("count").get<long>() << ".</p>\n";
  page.table_start("localisation", {"method", "relevance mass accuracy", "relevance rank accuracy", "pointing game", "images"});
  // The image count of the first localisation metric evaluated.
  const std::string counted = name_of(e.wants(Metric::mass) ? Metric::mass : e.wants(Metric::rank) ? Metric::rank : Metric::pointing);
  for (const auto& m : e.methods) {
    const nlohmann::json& s = e.summary.at(m);
    h << "<tr><td><span class=\"swatch\" style=\"background:" << method_colour(m) << "\"></span>" << html_escape(m)
      << "</td><td>" << mean_ci(s, "mass") << "</td><td>" << mean_ci(s, "rank") << "</td><td>" << mean_ci(s, "pointing")
      << "</td><td>" << count_of(s, counted) << "</td></tr>\n";
  }
  const std::string ch = chance.at("mean").is_number() ? number(chance.at("mean")) : "&ndash;";
  h << "<tr class=\"chance\"><td>chance (mask fraction)</td><td>" << ch << "</td><td>" << ch << "</td><td>" << ch
    << "</td><td>" << chance.at("count").get<long>() << "</td></tr>\n</tbody></table>\n";
}

// Written only when some method decomposes the score (has conservation
// statistics). It leaves the page stream at precision 2; no later section
// writes a double into it directly.
void write_conservation(Page& page, const Evaluation& e) {
  bool any = false;
  for (const auto& m : e.methods) any = any || e.summary.at(m).contains("conservation");
  if (!any) return;
  std::ostringstream& h = page.html;
  h << "<h2>Conservation</h2>\n<p>Residual f(x) &minus; &sum;<sub>q</sub> R<sub>q</sub> of the methods that "
       "decompose the score, and per layer what it absorbed (e.g. a bias), could not pass on (unassigned) or lost "
       "to rounding (unaccounted).</p>\n";
  page.table_start("conservation", {"method", "layer", "explanations", "residual (mean)", "|residual| / |f(x)| (mean)",
                                    "absorbed (mean)", "unassigned (mean)", "unaccounted (max |.|)"});
  for (const auto& m : e.methods) {
    if (!e.summary.at(m).contains("conservation")) continue;
    const nlohmann::json& c = e.summary.at(m).at("conservation");
    h << "<tr><td>" << html_escape(m) << "</td><td>all</td><td>" << c.at("explanations").get<long>() << "</td><td>"
      << number(c.at("residual").at("mean"), 6) << "</td><td>" << number(c.at("relative_residual").at("mean"), 6)
      << "</td><td></td><td></td><td></td></tr>\n";
    for (const auto& layer : c.at("layers")) {
      const double worst = std::max(std::abs(layer.at("unaccounted").at("min").get<double>()),
                                    std::abs(layer.at("unaccounted").at("max").get<double>()));
      h << "<tr><td></td><td>" << html_escape(layer.at("layer").get<std::string>()) << "</td><td></td><td></td><td></td><td>"
        << number(layer.at("absorbed").at("mean"), 6) << "</td><td>" << number(layer.at("unassigned").at("mean"), 6)
        << "</td><td>" << std::scientific << std::setprecision(2) << worst << std::defaultfloat << "</td></tr>\n";
    }
  }
  h << "</tbody></table>\n";
}

// The evaluation's record of a shown image (the last one of that name).
const nlohmann::json& image_record(const nlohmann::json& records, const std::string& name) {
  const nlohmann::json* rec = nullptr;
  for (const auto& r : records)
    if (r.at("name").get<std::string>() == name) rec = &r;
  if (!rec) throw std::logic_error("report: no record for image " + name);
  return *rec;
}

// The image's row of the heatmap table: the original with its record, then
// every method's heatmap and overlay with its numbers.
void write_image_row(Page& page, const ReportImage& v, const nlohmann::json& rec, const std::string& stem) {
  std::ostringstream& h = page.html;
  page.files["img/" + stem + "-original.png"] = png_bytes(original_panel(v.gray, v.mask), v.name);
  h << "<tr><td class=\"image\">" << page.img("img/" + stem + "-original.png", v.name + " original") << "<br><b>"
    << html_escape(v.name) << "</b><br>label " << html_escape(rec.at("label").is_null() ? "?" : rec.at("label").get<std::string>())
    << ", predicted " << html_escape(rec.at("predicted").get<std::string>()) << "<br>explained "
    << html_escape(rec.at("class").get<std::string>()) << ": f = " << number(rec.at("score"));
  if (rec.contains("mask_fraction")) h << "<br>mask fraction " << number(rec.at("mask_fraction"), 3);
  h << "</td>";
  const cv::Mat white(v.gray.rows, v.gray.cols, CV_32FC1, cv::Scalar(1.0));
  for (const auto& r : v.results) {
    const std::string heat = "img/" + stem + "-" + name_of(r.method) + "-heatmap.png";
    const std::string overlay = "img/" + stem + "-" + name_of(r.method) + "-overlay.png";
    page.files[heat] = png_bytes(render_heatmap(r.pixels, white), heat);
    page.files[overlay] = png_bytes(render_heatmap(r.pixels, v.gray), overlay);
    const nlohmann::json& m = rec.at("methods").at(name_of(r.method));
    h << "<td>" << page.img(heat, v.name + " " + name_of(r.method) + " heatmap")
      << page.img(overlay, v.name + " " + name_of(r.method) + " overlay") << "<br><small>";
    for (const auto& [key, label] : std::vector<std::pair<std::string, std::string>>{
             {"aopc", "AOPC"}, {"lerf", "LeRF"}, {"pixel-flipping", "flip"}, {"mass", "mass"}, {"rank", "rank"}, {"pointing", "point"},
             {"faithfulness-correlation", "corr"}, {"relative_infidelity", "rel. infid."}, {"max-sensitivity", "max-sens"},
             {"sparseness", "Gini"}, {"complexity", "entropy"}})
      if (m.contains(key)) h << label << " " << number(m.at(key), 3) << " &middot; ";
    h << number(m.at("seconds"), 3) << " s</small></td>";
  }
  h << "</tr>\n";
}

// The image's MoRF curves as score drops, in a row spanning the table.
void write_image_morf(Page& page, const Evaluation& e, const ReportImage& v, const nlohmann::json& rec,
                      const std::string& stem) {
  std::vector<ChartSeries> series;
  for (const auto& r : v.results) {
    std::vector<double> drop = rec.at("methods").at(name_of(r.method)).at("curves").at("aopc").at("scores").get<std::vector<double>>();
    const double f0 = drop.front();
    for (double& d : drop) d = f0 - d;
    series.push_back({name_of(r.method), method_colour(name_of(r.method)), drop});
  }
  const std::string name = "img/" + stem + "-morf.svg";
  page.files[name] = svg_line_chart(v.name + ": MoRF", "step k", "f(x0) - f(xk)", series);
  page.html << "<tr><td colspan=\"" << e.methods.size() + 1 << "\">" << page.img(name, v.name + " MoRF curves", "chart")
         << "</td></tr>\n";
}

void write_heatmaps(Page& page, const Evaluation& e, const std::vector<ReportImage>& shown) {
  page.html << "<h2>Heatmaps</h2>\n<p>Red: evidence for the explained class, blue: against, white: none; each map is "
            "divided by its own max |R|. For every method the heatmap and its overlay on the image. The green outline "
            "is the ground-truth mask.</p>\n";
  std::vector<std::string> header{"image"};
  for (const auto& m : e.methods) header.push_back(html_escape(m));
  page.table_start("heatmaps", header);
  const nlohmann::json& records = e.all.at("images");
  for (size_t i = 0; i < shown.size(); ++i) {
    const nlohmann::json& rec = image_record(records, shown[i].name);
    const std::string stem = file_stem(i, shown[i].name);
    write_image_row(page, shown[i], rec, stem);
    if (e.wants(Metric::aopc)) write_image_morf(page, e, shown[i], rec, stem);
  }
  page.html << "</tbody></table>\n";
}

// The similarity measures of the sanity checks (similarity.hpp): key and
// column title.
const std::vector<std::pair<std::string, std::string>>& similarity_columns() {
  static const std::vector<std::pair<std::string, std::string>> columns{
      {"spearman", "Spearman"}, {"spearman_abs", "Spearman |R|"}, {"ssim", "SSIM"}, {"top_k_intersection", "top-k intersection"}};
  return columns;
}

// A table header: the leading columns, then one per similarity measure.
std::vector<std::string> similarity_header(std::vector<std::string> header) {
  for (const auto& [key, label] : similarity_columns()) header.push_back(label);
  return header;
}

// The mean top-k intersection of unrelated maps, or NaN when not measured.
double top_k_chance(const Evaluation& e) {
  const nlohmann::json& chance = e.all.at("chance").value("similarity", nlohmann::json::object());
  return chance.contains("top_k_intersection") && chance.at("top_k_intersection").at("mean").is_number()
             ? chance.at("top_k_intersection").at("mean").get<double>()
             : std::numeric_limits<double>::quiet_NaN();
}

// What the checks measure and what passes them, with the chance levels.
void write_sanity_introduction(Page& page, const Evaluation& e, double top_k_chance) {
  page.html << "<h2>Sanity checks</h2>\n<p>Adebayo et al. 2018: an explanation that depends on what the model learnt "
               "changes when the model's parameters are randomised (model randomisation, cascading from the top: "
               "trained parameters permuted, stage by stage) or when the model was trained on permuted labels (data "
               "randomisation). <b>Low similarity passes the check</b>; a similarity near 1 (the random heatmap, seeded "
               "per image, scores exactly 1) fails it. Measures: Spearman rank correlation of R and of |R|, SSIM of "
               "the maps divided by their max |R|, top-k intersection (k = "
            << number(e.settings.at("sanity_checks").at("top_k"), 3)
            << " of the pixels). Chance level of unrelated maps: Spearman 0, SSIM about 0, top-k intersection "
            << number(top_k_chance, 3) << ". Mean &plusmn; 95&nbsp;% confidence half-width over the images.</p>\n";
}

// Per method and randomisation stage the mean similarity to the model's maps.
void write_mprt_table(Page& page, const Evaluation& e) {
  std::ostringstream& h = page.html;
  page.table_start("mprt", similarity_header({"method", "stage (cumulative)"}));
  for (const auto& m : e.methods) {
    const nlohmann::json& curve = e.summary.at(m).at("mprt");
    for (size_t k = 0; k < curve.size(); ++k) {
      h << "<tr><td>" << (k == 0 ? html_escape(m) : "") << "</td><td>" << k + 1 << ": "
        << html_escape(curve[k].at("stage").get<std::string>()) << "</td>";
      for (const auto& [key, label] : similarity_columns()) h << "<td>" << mean_ci(curve[k], key, 3) << "</td>";
      h << "</tr>\n";
    }
  }
  h << "</tbody></table>\n";
}

// Per method a chart of the mean similarities by stage, from 1 for the model
// itself, and the top-k intersection's chance level when known.
void write_mprt_charts(Page& page, const Evaluation& e, double top_k_chance) {
  static const std::vector<std::string> colours{"#d62728", "#ff9896", "#1f77b4", "#2ca02c"};
  const size_t stages = e.settings.at("sanity_checks").at("mprt").at("stages").size();
  page.html << "<div class=\"charts\">\n";
  for (const auto& m : e.methods) {
    std::vector<ChartSeries> series;
    size_t colour = 0;
    for (const auto& [key, label] : similarity_columns()) {
      std::vector<double> values{1.0};  // x = 0: the model itself
      for (const auto& stage : e.summary.at(m).at("mprt")) {
        const nlohmann::json& mean = stage.at(key).at("mean");
        values.push_back(mean.is_number() ? mean.get<double>() : std::numeric_limits<double>::quiet_NaN());
      }
      series.push_back({key == "top_k_intersection" ? "top-k" : label, colours[colour++], values});
    }
    if (std::isfinite(top_k_chance))
      series.push_back({"top-k chance", "#999999", std::vector<double>(stages + 1, top_k_chance)});
    const std::string name = "img/mprt-" + file_stem(0, m) + ".svg";
    page.files[name] = svg_line_chart("MPRT: " + m, "randomised stages (0: the model)", "mean similarity", series);
    page.html << page.img(name, m + " MPRT similarity curve", "chart") << "\n";
  }
  page.html << "</div>\n";
}

// Per method the mean similarity to its maps on the randomised-label model.
void write_data_randomisation(Page& page, const Evaluation& e) {
  std::ostringstream& h = page.html;
  h << "<p>Data randomisation: every method's map on the model against its map on the model trained on permuted "
       "labels, same class.</p>\n";
  page.table_start("data-randomisation", similarity_header({"method"}));
  for (const auto& m : e.methods) {
    h << "<tr><td>" << html_escape(m) << "</td>";
    for (const auto& [key, label] : similarity_columns())
      h << "<td>" << mean_ci(e.summary.at(m).at("data_randomisation"), key, 3) << "</td>";
    h << "</tr>\n";
  }
  h << "</tbody></table>\n";
}

// One method's row of an image in the sanity heatmap table: its map on the
// model, then its maps on the randomised models with their similarity to it.
void write_sanity_row(Page& page, const Evaluation& e, const ReportImage& v, size_t k, const nlohmann::json& rec,
                      const std::string& stem) {
  std::ostringstream& h = page.html;
  const cv::Mat blank(v.gray.rows, v.gray.cols, CV_32FC1, cv::Scalar(1.0));
  const std::string method = name_of(v.results[k].method);
  const nlohmann::json& m = rec.at("methods").at(method);
  h << "<tr><td>" << (k == 0 ? html_escape(v.name) : "") << "</td><td>" << html_escape(method) << "</td><td>";
  const std::string own = "img/" + stem + "-" + method + "-heatmap.png";  // written by the heatmap table
  if (!page.files.count(own)) page.files[own] = png_bytes(render_heatmap(v.results[k].pixels, blank), own);
  h << page.img(own, v.name + " " + method + " on the model") << "</td>";
  auto cell = [&](const RowMatrixXd& map, const std::string& file, const nlohmann::json& similarity) {
    page.files[file] = png_bytes(render_heatmap(map, blank), file);
    h << "<td>" << page.img(file, v.name + " " + method + " " + file) << "<small>&rho; "
      << number(similarity.at("spearman"), 3) << " &middot; SSIM " << number(similarity.at("ssim"), 3)
      << "</small></td>";
  };
  if (e.wants(Metric::mprt) && k < v.mprt.size())
    for (size_t s = 0; s < v.mprt[k].size(); ++s)
      cell(v.mprt[k][s], "img/" + stem + "-" + method + "-mprt-" + std::to_string(s + 1) + ".png", m.at("mprt").at(s));
  if (e.wants(Metric::data_randomisation) && k < v.data_randomisation.size())
    cell(v.data_randomisation[k], "img/" + stem + "-" + method + "-permuted-labels.png", m.at("data_randomisation"));
  h << "</tr>\n";
}

// The heatmaps: per image and method, the model's map, then the maps of the
// randomised models with their Spearman correlation and SSIM to it.
void write_sanity_heatmaps(Page& page, const Evaluation& e, const std::vector<ReportImage>& shown) {
  std::vector<std::string> header{"image", "method", "model"};
  if (e.wants(Metric::mprt))
    for (const auto& stage : e.settings.at("sanity_checks").at("mprt").at("stages")) header.push_back(html_escape(stage.get<std::string>()));
  if (e.wants(Metric::data_randomisation)) header.push_back("permuted labels");
  page.table_start("sanity-heatmaps", header);
  const nlohmann::json& records = e.all.at("images");
  for (size_t i = 0; i < shown.size(); ++i) {
    const nlohmann::json& rec = image_record(records, shown[i].name);
    const std::string stem = file_stem(i, shown[i].name);
    for (size_t k = 0; k < shown[i].results.size(); ++k) write_sanity_row(page, e, shown[i], k, rec, stem);
  }
  page.html << "</tbody></table>\n";
}

// The sanity checks (docs/evaluation.md "Sanity checks"; Adebayo et al. 2018):
// per method the mean similarity of its maps on the randomised models to its
// maps on the model, the MPRT similarity curve, and for the first images the
// row of heatmaps per randomisation stage.
void write_sanity_checks(Page& page, const Evaluation& e, const std::vector<ReportImage>& shown) {
  const double chance = top_k_chance(e);
  write_sanity_introduction(page, e, chance);
  if (e.wants(Metric::mprt)) {
    write_mprt_table(page, e);
    write_mprt_charts(page, e, chance);
  }
  if (e.wants(Metric::data_randomisation)) write_data_randomisation(page, e);
  if (!shown.empty()) write_sanity_heatmaps(page, e, shown);
}

// Every setting of the evaluation, nested keys dotted.
void write_settings(Page& page, const Evaluation& e) {
  page.html << "<h2>Settings</h2>\n";
  page.table_start("settings", {"setting", "value"});
  std::vector<std::pair<std::string, std::string>> flat;
  flatten(e.settings, "", flat);
  for (const auto& [k, v] : flat)
    page.html << "<tr><td><code>" << html_escape(k) << "</code></td><td>" << html_escape(v) << "</td></tr>\n";
  page.html << "</tbody></table>\n";
}

// The whole document around the sections: the style, the expected counts and
// the script that checks them in the browser.
}  // namespace

std::string report_document(const ReportPage& page, const std::string& title) {
  std::ostringstream d;
  d << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" << html_escape(title) << "</title>\n"
    << "<style>body{font-family:sans-serif;margin:1.5em;max-width:1400px}table{border-collapse:collapse;margin:0.5em 0 "
       "1.5em}td,th{border:1px solid #ccc;padding:3px 7px;vertical-align:top;text-align:left}th{background:#f2f2f2}"
       "tr.chance td{font-style:italic;background:#fafafa}.swatch{display:inline-block;width:10px;height:10px;"
       "margin-right:5px}td img{display:block;margin-bottom:3px}.charts img{margin-right:10px}td.image{min-width:"
       "130px}small{color:#444}</style></head>\n"
    << "<body data-expected-images=\"" << page.images << "\" data-expected-tables=\"" << page.tables << "\">\n"
    << page.html.str()
    << "<script>\nwindow.addEventListener('load', function () {\n"
       "  var imgs = document.images, loaded = 0, broken = [];\n"
       "  for (var i = 0; i < imgs.length; ++i) {\n"
       "    if (imgs[i].complete && imgs[i].naturalWidth > 0) ++loaded; else broken.push(imgs[i].getAttribute('src'));\n"
       "  }\n"
       "  var b = document.body;\n"
       "  b.setAttribute('data-images-total', imgs.length);\n"
       "  b.setAttribute('data-images-loaded', loaded);\n"
       "  b.setAttribute('data-images-broken', broken.join(' '));\n"
       "  b.setAttribute('data-tables', document.getElementsByTagName('table').length);\n"
       "  b.setAttribute('data-check', 'done');\n"
       "});\n</script>\n</body></html>\n";
  return d.str();
}

ReportFiles render_report(const nlohmann::json& ev, const std::vector<ReportImage>& shown) {
  const nlohmann::json& settings = ev.at("settings");
  const Evaluation e{ev, settings, ev.at("summary"), settings.at("methods").get<std::vector<std::string>>(),
                     parse_metrics(settings.at("metrics").get<std::vector<std::string>>(), "settings.metrics")};
  Page page;
  write_overview(page, e);
  write_faithfulness(page, e);
  write_mean_curves(page, e);
  write_faithfulness_metrics(page, e);
  if (e.wants(Metric::mass) || e.wants(Metric::rank) || e.wants(Metric::pointing)) write_localisation(page, e);
  if (e.wants(Metric::conservation)) write_conservation(page, e);
  if (!shown.empty()) write_heatmaps(page, e, shown);
  if (e.wants(Metric::mprt) || e.wants(Metric::data_randomisation)) write_sanity_checks(page, e, shown);
  write_settings(page, e);
  page.files["index.html"] = report_document(page, "pixelwise evaluation");
  return std::move(page.files);
}

}  // namespace pixelwise
