#pragma once
// The HTML report of an evaluation: one folder that opens in a
// browser from the file system, no server and no network needed.
//   index.html                 summary tables (faithfulness, localisation with
//                              the chance level, conservation, time per image),
//                              the mean perturbation curves, per image the
//                              original (ground-truth mask outlined in green)
//                              and every method's heatmap and overlay with its
//                              numbers, the sanity checks (metrics mprt and
//                              data-randomisation: mean similarity tables, an
//                              MPRT similarity curve per method, and per shown
//                              image a row of every method's maps on the
//                              randomised models), and the settings
//   img/*.png, img/*.svg       heatmaps (docs/design.md 5 colours, each map scaled by
//                              its own max |R|), originals, curves
// All numbers come from the evaluation JSON (evaluate.hpp). A script in the
// page counts the images that loaded and the tables once the page has loaded
// and writes the counts into attributes of <body> (data-images-total,
// data-images-loaded, data-images-broken, data-tables), beside the counts the
// generator expects (data-expected-images, data-expected-tables), so that a
// headless browser can check the page.
#include <map>
#include <optional>
#include <sstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pixelwise/pipelines/evaluation/evaluate.hpp"

namespace pixelwise {

/// Relative path in the report folder -> file contents.
using ReportFiles = std::map<std::string, std::string>;

/// A page as it is written and the files it links to. Every <table> and <img>
/// goes through table_start and img, because <body> states how many of each a
/// headless browser has to find once the page has loaded (report_document).
struct ReportPage {
  std::ostringstream html;
  int images = 0, tables = 0;
  ReportFiles files;

  void table_start(const std::string& id, const std::vector<std::string>& header) {
    ++tables;
    html << "<table id=\"" << id << "\"><thead><tr>";
    for (const auto& c : header) html << "<th>" << c << "</th>";
    html << "</tr></thead><tbody>\n";
  }

  std::string img(const std::string& src, const std::string& alt, const std::string& cls = "");
};

/// The whole document around a page's sections: the style, the expected
/// counts and the script that checks them in the browser.
std::string report_document(const ReportPage& page, const std::string& title);

/// PNG file contents; `what` names the image in errors.
std::string png_bytes(const cv::Mat& image, const std::string& what);

/// The grey image enlarged like the heatmaps, with the mask's outline in green.
cv::Mat original_panel(const cv::Mat& gray, const std::optional<MaskArray>& mask);

ReportFiles render_report(const nlohmann::json& evaluation, const std::vector<ReportImage>& shown);

struct ChartSeries {
  std::string name;
  std::string colour;  ///< CSS colour
  std::vector<double> values;  ///< y at x = 0, 1, 2, ...
};

/// A standalone SVG line chart (width and height set, so that it also loads as an <img>).
std::string svg_line_chart(const std::string& title, const std::string& x_label, const std::string& y_label,
                           const std::vector<ChartSeries>& series);

/// Text with &, <, >, " escaped for HTML and SVG.
std::string html_escape(const std::string& text);

}  // namespace pixelwise
