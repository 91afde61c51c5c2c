// The HTML report of `pixelwise analyse` (analysis.hpp), built like the
// evaluation report (report.hpp): one folder, no network, counts of images and
// tables stated on <body> for the headless-browser check.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>

#include "pixelwise/pipelines/evaluation/analysis.hpp"
#include "pixelwise/pipelines/io/heatmap.hpp"

namespace pixelwise {
namespace {

std::string cluster_colour(int c) {
  static const char* colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return colours[c % 10];
}

std::string fixed(double v, int precision = 3) {
  if (!std::isfinite(v)) return "&ndash;";
  std::ostringstream s;
  s << std::fixed << std::setprecision(precision) << v;
  return s.str();
}

std::string fixed(const nlohmann::json& v, int precision = 3) {
  return v.is_number() ? fixed(v.get<double>(), precision) : "&ndash;";
}

std::string safe(const std::string& name) {
  std::string out;
  for (char ch : name) out += std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' ? ch : '_';
  return out;
}

// The smallest eigenvalues as points, the gap after lambda_K shaded.
std::string eigenvalue_chart(const std::string& title, const std::vector<double>& values, int k) {
  const double W = 520, H = 320, left = 60, right = 20, top = 34, bottom = 48;
  const double pw = W - left - right, ph = H - top - bottom;
  const double hi = std::max(1e-12, *std::max_element(values.begin(), values.end()));
  const size_t n = values.size();
  auto x = [&](size_t i) { return left + (n > 1 ? pw * static_cast<double>(i) / static_cast<double>(n - 1) : pw / 2); };
  auto y = [&](double v) { return top + ph - ph * v / hi; };
  std::ostringstream s;
  s << std::fixed << std::setprecision(2);
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" font-family=\"sans-serif\" "
    << "font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s << "<text x=\"" << W / 2 << "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">" << html_escape(title) << "</text>\n";
  if (k >= 1 && static_cast<size_t>(k) < n)
    s << "<rect x=\"" << x(k - 1) << "\" y=\"" << y(values[k]) << "\" width=\"" << x(k) - x(k - 1) << "\" height=\""
      << y(values[k - 1]) - y(values[k]) << "\" fill=\"#ffd8a8\"/>\n";
  s << "<line x1=\"" << left << "\" y1=\"" << top + ph << "\" x2=\"" << left + pw << "\" y2=\"" << top + ph
    << "\" stroke=\"black\"/>\n<line x1=\"" << left << "\" y1=\"" << top << "\" x2=\"" << left << "\" y2=\"" << top + ph
    << "\" stroke=\"black\"/>\n";
  s << "<text x=\"" << left - 6 << "\" y=\"" << top + 4 << "\" text-anchor=\"end\">" << fixed(hi, 3) << "</text>\n";
  s << "<text x=\"" << left - 6 << "\" y=\"" << top + ph << "\" text-anchor=\"end\">0</text>\n";
  for (size_t i = 0; i < n; ++i) {
    s << "<circle cx=\"" << x(i) << "\" cy=\"" << y(values[i]) << "\" r=\"3.5\" fill=\"#1f77b4\"/>\n";
    s << "<text x=\"" << x(i) << "\" y=\"" << top + ph + 16 << "\" text-anchor=\"middle\">" << i + 1 << "</text>\n";
  }
  s << "<text x=\"" << left + pw / 2 << "\" y=\"" << H - 8 << "\" text-anchor=\"middle\">k (eigenvalue index; shaded: the "
    << "gap after &#955;_" << k << ")</text>\n</svg>\n";
  return s.str();
}

// The 2-D embedding, one dot per image coloured by cluster; tagged images ringed.
std::string scatter_chart(const std::string& title, const Eigen::MatrixXd& e, const std::vector<int>& cluster,
                          const std::vector<bool>& ringed) {
  const double W = 520, H = 420, margin = 30, top = 34;
  double lo[2], hi[2];
  for (int d = 0; d < 2; ++d) {
    lo[d] = e.col(d).minCoeff();
    hi[d] = e.col(d).maxCoeff();
    if (hi[d] - lo[d] < 1e-12) lo[d] -= 0.5, hi[d] += 0.5;
  }
  auto px = [&](double v) { return margin + (W - 2 * margin) * (v - lo[0]) / (hi[0] - lo[0]); };
  auto py = [&](double v) { return H - margin - (H - margin - top) * (v - lo[1]) / (hi[1] - lo[1]); };
  std::ostringstream s;
  s << std::fixed << std::setprecision(2);
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" font-family=\"sans-serif\" "
    << "font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s << "<text x=\"" << W / 2 << "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">" << html_escape(title) << "</text>\n";
  s << "<rect x=\"" << margin << "\" y=\"" << top << "\" width=\"" << W - 2 * margin << "\" height=\"" << H - margin - top
    << "\" fill=\"none\" stroke=\"#999\"/>\n";
  for (long i = 0; i < e.rows(); ++i) {
    s << "<circle cx=\"" << px(e(i, 0)) << "\" cy=\"" << py(e(i, 1)) << "\" r=\"4\" fill=\"" << cluster_colour(cluster[i])
      << "\" fill-opacity=\"0.8\"";
    if (!ringed.empty() && ringed[i]) s << " stroke=\"black\" stroke-width=\"1.5\"";
    s << "/>\n";
  }
  s << "<text x=\"" << W / 2 << "\" y=\"" << H - 8 << "\" text-anchor=\"middle\">u_2 (x) and u_3 (y)"
    << (ringed.empty() ? "" : "; ringed: tagged") << "</text>\n</svg>\n";
  return s.str();
}

void write_watermark(ReportPage& page, const nlohmann::json& w, const std::string& id) {
  std::ostringstream& h = page.html;
  h << "<h3>Clever Hans measures (watermark scenes, tagged class " << html_escape(w.at("class").get<std::string>())
    << ")</h3>\n";
  page.table_start(id, {"measure", "value", "images"});
  const nlohmann::json& a = w.at("accuracy");
  h << "<tr><td>accuracy, tagged images</td><td>" << fixed(a.at("tagged")) << "</td><td>" << a.at("tagged_images")
    << "</td></tr>\n<tr><td>accuracy, untagged images</td><td>" << fixed(a.at("untagged")) << "</td><td>"
    << a.at("untagged_images") << "</td></tr>\n";
  h << "<tr><td>relevance mass on the tag (tagged images of the class)</td><td>" << fixed(w.at("tag_mass").at("mean"))
    << "</td><td>" << w.at("tag_mass").at("images") << "</td></tr>\n";
  h << "<tr><td>tag area fraction (chance level of the mass)</td><td>" << fixed(w.at("tag_area_fraction"), 4)
    << "</td><td></td></tr>\n";
  h << "<tr><td>relevance rank accuracy on the tag</td><td>" << fixed(w.at("tag_rank").at("mean")) << "</td><td>"
    << w.at("tag_rank").at("images") << "</td></tr>\n";
  h << "<tr><td>tag flip rate (tag pasted onto other classes' images)</td><td>" << fixed(w.at("tag_flip").at("rate"))
    << "</td><td>" << w.at("tag_flip").at("images") << "</td></tr>\n";
  const nlohmann::json& b = w.at("best_cluster");
  h << "<tr><td>cluster best matching the tag: " << b.at("cluster") << " (purity, share tagged)</td><td>"
    << fixed(b.at("purity")) << " (" << fixed(b.at("tagged_share")) << ")</td><td>" << b.at("size") << "</td></tr>\n";
  h << "<tr><td>clusters with a tagged majority: the split they make against the tag (adjusted Rand index); "
       "clustering purity</td><td>" << fixed(w.at("majority_split").at("adjusted_rand_index")) << "; "
    << fixed(w.at("purity")) << "</td><td>" << w.at("majority_split").at("tagged_clusters").dump() << "</td></tr>\n";
  h << "<tr><td>adjusted Rand index of the clustering against the tag's corner (untagged: one group)</td><td>"
    << fixed(w.at("adjusted_rand_index_corners")) << "</td><td></td></tr>\n";
  h << "<tr><td>adjusted Rand index: that cluster / the whole clustering vs the tag</td><td>"
    << fixed(b.at("adjusted_rand_index")) << " / " << fixed(w.at("adjusted_rand_index")) << "</td><td>"
    << w.at("tagged_images") << " tagged</td></tr>\n";
  h << "</tbody></table>\n";
}

void write_class(ReportPage& page, const nlohmann::json& r, const ClassAnalysis& a,
                 const MaskedDataset& data) {
  std::ostringstream& h = page.html;
  const std::string name = r.at("class").get<std::string>();
  const std::string stem = "img/" + safe(name);
  const SprayResult& s = a.spray;
  const bool watermark = !data.tagged.empty();
  h << "<h2 id=\"class-" << safe(name) << "\">Class " << html_escape(name) << "</h2>\n<p>" << a.images.size()
    << " images explained for their class; " << s.neighbours << " neighbours; " << s.clusters << " cluster(s) "
    << (s.clusters_from_eigengap ? "from the largest eigengap" : "as given") << " (largest eigengap after &#955;_"
    << r.at("eigengap_clusters") << ").</p>\n<div class=\"charts\">\n";
  std::vector<double> values(s.eigenvalues.data(), s.eigenvalues.data() + s.eigenvalues.size());
  page.files[stem + "-eigenvalues.svg"] =
      eigenvalue_chart(name + ": smallest eigenvalues of the Laplacian", values, r.at("eigengap_clusters").get<int>());
  h << page.img(stem + "-eigenvalues.svg", name + " eigenvalues", "chart");
  std::vector<bool> ringed;
  if (watermark)
    for (long i : a.images) ringed.push_back(data.tagged[i]);
  page.files[stem + "-embedding.svg"] = scatter_chart(name + ": spectral embedding by cluster", s.embedding, s.assignment, ringed);
  h << page.img(stem + "-embedding.svg", name + " embedding", "chart") << "\n</div>\n";
  if (r.contains("watermark")) write_watermark(page, r.at("watermark"), "watermark-" + safe(name));

  page.table_start("clusters-" + safe(name), {"cluster", "size", "mean score", "mean heatmap", "images nearest the mean (heatmap over image)"});
  const cv::Mat white(s.per_cluster.empty() ? 1 : static_cast<int>(s.per_cluster[0].mean_heatmap.rows()),
                      s.per_cluster.empty() ? 1 : static_cast<int>(s.per_cluster[0].mean_heatmap.cols()), CV_32FC1,
                      cv::Scalar(1.0));
  for (int c = 0; c < s.clusters; ++c) {
    const SprayCluster& k = s.per_cluster[c];
    const nlohmann::json& jc = r.at("per_cluster").at(c);
    const std::string mean = stem + "-cluster" + std::to_string(c) + "-mean.png";
    page.files[mean] = png_bytes(render_heatmap(k.mean_heatmap, white), mean);
    h << "<tr><td><span class=\"swatch\" style=\"background:" << cluster_colour(c) << "\"></span>" << c << "</td><td>"
      << k.size << "</td><td>" << fixed(jc.at("mean_score")) << "</td><td>" << page.img(mean, name + " cluster mean")
      << "</td><td class=\"grid\">";
    for (long q : k.nearest) {
      const long i = a.images[q];
      const ImageSample& sample = data.data.images[i];
      const std::string base = stem + "-cluster" + std::to_string(c) + "-" + std::to_string(i);
      const std::optional<MaskArray> outline = watermark ? data.tags[i] : std::nullopt;
      page.files[base + "-original.png"] = png_bytes(original_panel(sample.gray, outline), sample.name);
      page.files[base + "-overlay.png"] = png_bytes(render_heatmap(a.heatmaps[q], sample.gray), sample.name);
      h << "<figure>" << page.img(base + "-original.png", sample.name + " original")
        << page.img(base + "-overlay.png", sample.name + " heatmap") << "<figcaption>" << html_escape(sample.name)
        << (watermark && data.tagged[i] ? " (tagged)" : "") << "</figcaption></figure>";
    }
    h << "</td></tr>\n";
  }
  h << "</tbody></table>\n";
}

}  // namespace

ReportFiles render_analysis_report(const Analysis& analysis, const MaskedDataset& data) {
  ReportPage page;
  const nlohmann::json& settings = analysis.json.at("settings");
  page.html << "<style>figure{display:inline-block;margin:2px 4px}figcaption{font-size:small}</style>\n";
  page.html << "<h1>pixelwise analysis (SpRAy)</h1>\n<p>Model <code>"
            << html_escape(settings.at("model").value("source", "?")) << "</code>, data <code>"
            << html_escape(settings.at("data").at("spec").get<std::string>()) << "</code>, method "
            << html_escape(settings.at("method").get<std::string>()) << ": " << settings.at("data").at("explained")
            << " images explained in " << fixed(analysis.json.at("seconds"), 1)
            << " s. Spectral relevance analysis (Lapuschkin et al., Nature Communications 2019): heatmaps summed over "
               "blocks and normalised, a symmetric k-nearest-neighbour graph, the spectrum of its normalised Laplacian, "
               "k-means on the leading eigenvectors. Heatmaps: red positive, blue negative, each scaled by its own "
               "max |R|; tags outlined in green.</p>\n";
  for (size_t k = 0; k < analysis.classes.size(); ++k)
    write_class(page, analysis.json.at("classes").at(k), analysis.classes[k], data);
  page.html << "<h2>Settings</h2>\n";
  page.table_start("settings", {"setting", "value"});
  for (const auto& [key, value] : settings.at("spray").items())
    page.html << "<tr><td><code>spray." << html_escape(key) << "</code></td><td>"
              << html_escape(value.is_string() ? value.get<std::string>() : value.dump()) << "</td></tr>\n";
  page.html << "<tr><td><code>seed</code></td><td>" << settings.at("seed") << "</td></tr>\n</tbody></table>\n";
  page.files["index.html"] = report_document(page, "pixelwise analysis");
  return std::move(page.files);
}

}  // namespace pixelwise
