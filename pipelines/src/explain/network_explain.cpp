#include "pixelwise/pipelines/explain/network_explain.hpp"

#include <opencv2/imgproc.hpp>
#include <stdexcept>

#include "pixelwise/pipelines/io/heatmap.hpp"

namespace pixelwise {
namespace {

// H x W map of an NHWC vector, channels summed.
RowMatrixXd pixel_map(const Eigen::VectorXd& v, const TensorShape& s) {
  RowMatrixXd m = RowMatrixXd::Zero(s.height, s.width);
  for (int r = 0; r < s.height; ++r)
    for (int c = 0; c < s.width; ++c)
      for (int ch = 0; ch < s.channels; ++ch) m(r, c) += v[(static_cast<long>(r) * s.width + c) * s.channels + ch];
  return m;
}

constexpr int kPanelSide = 140;  // figure panels are enlarged to at least this

cv::Mat grey_panel(const cv::Mat& gray) {
  cv::Mat bytes, bgr;
  gray.convertTo(bytes, CV_8U, 255.0);
  cv::cvtColor(bytes, bgr, cv::COLOR_GRAY2BGR);
  const int side = std::min(gray.rows, gray.cols);
  if (side < kPanelSide) {
    const int factor = (kPanelSide + side - 1) / side;
    cv::resize(bgr, bgr, cv::Size(), factor, factor, cv::INTER_NEAREST);
  }
  return bgr;
}

cv::Mat heat_panel(const RowMatrixXd& relevance) {
  // A white base image: the colour map is not shaded by the input.
  const cv::Mat white(static_cast<int>(relevance.rows()), static_cast<int>(relevance.cols()), CV_32FC1, cv::Scalar(1.0));
  HeatmapOptions options;
  options.min_side = kPanelSide;
  return render_heatmap(relevance, white, options);
}

}  // namespace

NetworkExplanation explain_network(const NetworkModel& model, const cv::Mat& gray, const NetworkExplainOptions& options,
                                   const std::string& what) {
  NetworkExplanation e;
  e.method = options.method;
  e.ignore_bias = options.ignore_bias;
  e.shape = model.input_shape(gray, what);
  const Eigen::VectorXd x = model.input_vector(gray, what);
  const InputBounds bounds = std::make_pair(model.input.low, model.input.high);
  switch (options.method) {
    case ExplainMethod::occlusion:
    case ExplainMethod::random:
      throw std::invalid_argument(name_of(options.method) + " is not a network's own method (explain_with runs it)");
    case ExplainMethod::lrp: {
      const Composite composite = Composite::parse(options.rule, bounds);
      NetworkRelevance r = explain_lrp(model.network, x, e.shape, options.class_index, composite,
                                       LrpOptions{options.ignore_bias});
      e.rule = composite.spec();
      e.scores = r.scores;
      e.class_index = r.class_index;
      e.predicted = r.predicted;
      e.pixels = pixel_map(r.input, e.shape);
      e.layers = std::move(r.layers);
      e.layer_rules = std::move(r.rules);
      break;
    }
    case ExplainMethod::taylor: {
      NetworkTaylorOptions t_options;
      t_options.bounds = bounds;
      const NetworkTaylorDecomposition t =
          taylor_decompose_network(model.network, x, e.shape, options.class_index, t_options);
      e.scores = t.scores;
      e.class_index = t.class_index;
      e.predicted = t.predicted;
      e.pixels = pixel_map(t.relevance, e.shape);
      e.root = pixel_map(t.root, e.shape);
      e.root_gradient = pixel_map(t.gradient, e.shape);
      e.root_score = t.root_score;
      e.root_reference = t.reference;
      break;
    }
    case ExplainMethod::sensitivity: {
      e.scores = model.network.scores(x.transpose(), e.shape).row(0).transpose();
      e.scores.maxCoeff(&e.predicted);
      e.class_index = options.class_index < 0 ? e.predicted : options.class_index;
      if (e.class_index >= e.scores.size())
        throw std::out_of_range("output " + std::to_string(e.class_index) + " does not exist");
      e.pixels = pixel_map(sensitivity(model.network, x, e.shape, e.class_index), e.shape);
      break;
    }
  }
  e.score = e.scores[e.class_index];
  e.pixel_sum = e.pixels.sum();
  return e;
}

nlohmann::json network_explanation_json(const NetworkModel& model, const NetworkExplanation& e) {
  nlohmann::json scores = nlohmann::json::object();
  for (long c = 0; c < e.scores.size(); ++c) scores[model.class_name(static_cast<int>(c))] = e.scores[c];
  nlohmann::json j = {{"model", model.source},
                      {"classifier", "network"},
                      {"class", model.class_name(e.class_index)},
                      {"class_index", e.class_index},
                      {"predicted", model.class_name(e.predicted)},
                      {"score", e.score},
                      {"scores", scores},
                      {"method", name_of(e.method)},
                      {"input_range", {model.input.low, model.input.high}},
                      {"image_size", {e.pixels.rows(), e.pixels.cols()}},
                      {"pixel_sum", e.pixel_sum}};
  if (e.method == ExplainMethod::lrp) {
    double absorbed = 0, unassigned = 0;
    for (const auto& layer : e.layers) {
      absorbed += layer.absorbed;
      unassigned += layer.unassigned;
    }
    j["rule"] = e.rule;
    j["layer_rules"] = e.layer_rules;
    j["ignore_bias"] = e.ignore_bias;
    j["layers"] = e.layers;
    j["absorbed"] = absorbed;
    j["unassigned"] = unassigned;
    j["residual"] = e.residual();
    j["unaccounted"] = e.residual() - absorbed - unassigned;
  } else if (e.method == ExplainMethod::taylor) {
    j["root_score"] = e.root_score;
    j["root_reference"] = e.root_reference;
    j["residual"] = e.residual();
    j["taylor_remainder"] = e.residual() - e.root_score;  // f(x) - f(x0) - sum R: higher-order terms
  } else {
    j["note"] = "squared gradient (sensitivity): a baseline, not a decomposition of the score";
  }
  return j;
}

cv::Mat network_figure(const NetworkModel& model, const cv::Mat& gray, const NetworkExplanation& e) {
  std::vector<cv::Mat> panels{grey_panel(gray)};
  if (e.method == ExplainMethod::taylor) {
    Eigen::VectorXd root(e.root.size());
    for (long i = 0; i < root.size(); ++i) root[i] = e.root.data()[i];
    panels.push_back(grey_panel(model.gray_of(root, {e.shape.height, e.shape.width, 1})));
    panels.push_back(heat_panel(e.root_gradient));
  }
  panels.push_back(heat_panel(e.pixels));
  const cv::Mat gap(panels.front().rows, 6, CV_8UC3, cv::Scalar(255, 255, 255));
  std::vector<cv::Mat> row;
  for (size_t p = 0; p < panels.size(); ++p) {
    if (p) row.push_back(gap);
    row.push_back(panels[p]);
  }
  cv::Mat figure;
  cv::hconcat(row, figure);
  return figure;
}

}  // namespace pixelwise
