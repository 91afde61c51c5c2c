// Layers and forward/backward passes of layered networks (docs/design.md 1.7).
#include "pixelwise/classifiers/network.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace pixelwise {
namespace {

void check_positive(int value, const char* what, const std::string& layer) {
  if (value <= 0) throw std::invalid_argument(layer + ": " + what + " must be positive, got " + std::to_string(value));
}

void check_columns(const RowMatrixXd& x, long expected, const std::string& layer) {
  if (x.cols() != expected)
    throw std::invalid_argument(layer + ": a sample has " + std::to_string(x.cols()) + " values, expected " +
                                std::to_string(expected));
}

// Output size of a valid window of `window` cells moved by `stride` over `size` cells.
int valid_extent(int size, int window, int stride) { return size < window ? 0 : (size - window) / stride + 1; }

}  // namespace

std::string TensorShape::str() const {
  return std::to_string(height) + "x" + std::to_string(width) + "x" + std::to_string(channels);
}

std::string layer_keyword(LayerKind kind) {
  switch (kind) {
    case LayerKind::linear: return "Linear";
    case LayerKind::convolution: return "Convolution";
    case LayerKind::sum_pool: return "SumPool";
    case LayerKind::max_pool: return "MaxPool";
    case LayerKind::relu: return "Rect";
    case LayerKind::tanh: return "Tanh";
    case LayerKind::softmax: return "SoftMax";
    case LayerKind::flatten: return "Flatten";
  }
  return "?";
}

// ---------------------------------------------------------------- affine

Eigen::RowVectorXd AffineLayer::expanded_bias(const TensorShape& in) const {
  const TensorShape out = output_shape(in);
  return bias.transpose().replicate(1, out.size() / bias.size());
}

RowMatrixXd AffineLayer::forward(const RowMatrixXd& x, const TensorShape& in) const {
  RowMatrixXd y = apply(x, in, weights);
  y.rowwise() += expanded_bias(in);
  return y;
}

RowMatrixXd AffineLayer::backward(const RowMatrixXd& x, const RowMatrixXd&, const RowMatrixXd& dy,
                                  const TensorShape& in, ParameterGradient* grads) const {
  if (grads) {
    grads->weights += weight_gradient(x, in, dy);
    // d/db_k: dy summed over the batch and over every position of filter k.
    const Eigen::RowVectorXd columns = dy.colwise().sum();
    for (long u = 0; u < columns.size(); ++u) grads->bias[u % bias.size()] += columns[u];
  }
  return apply_transposed(dy, in, weights);
}

LinearLayer::LinearLayer(RowMatrixXd w, Eigen::VectorXd b) {
  weights = std::move(w);
  bias = std::move(b);
  if (weights.rows() == 0 || weights.cols() == 0) throw std::invalid_argument("Linear layer: empty weight matrix");
  if (bias.size() != weights.cols())
    throw std::invalid_argument("Linear layer: " + std::to_string(bias.size()) + " biases for " +
                                std::to_string(weights.cols()) + " outputs");
}

std::string LinearLayer::describe() const {
  return "Linear " + std::to_string(inputs()) + " -> " + std::to_string(outputs());
}

TensorShape LinearLayer::output_shape(const TensorShape& in) const {
  if (in.size() != inputs())
    throw std::invalid_argument(describe() + ": takes " + std::to_string(inputs()) + " inputs, got " + in.str());
  return {1, 1, outputs()};
}

RowMatrixXd LinearLayer::apply(const RowMatrixXd& x, const TensorShape& in, const RowMatrixXd& V) const {
  output_shape(in);
  check_columns(x, inputs(), describe());
  return x * V;
}

RowMatrixXd LinearLayer::apply_transposed(const RowMatrixXd& g, const TensorShape& in, const RowMatrixXd& V) const {
  output_shape(in);
  check_columns(g, outputs(), describe());
  return g * V.transpose();
}

RowMatrixXd LinearLayer::weight_gradient(const RowMatrixXd& x, const TensorShape&, const RowMatrixXd& dy) const {
  return x.transpose() * dy;
}

// ----------------------------------------------------------- convolution

ConvolutionLayer::ConvolutionLayer(int h, int w, int d, int n, int s0, int s1, RowMatrixXd W, Eigen::VectorXd b)
    : filter_height(h), filter_width(w), depth(d), filters(n), stride_rows(s0), stride_cols(s1) {
  const std::string what = "Convolution layer";
  check_positive(h, "filter height", what);
  check_positive(w, "filter width", what);
  check_positive(d, "filter depth", what);
  check_positive(n, "number of filters", what);
  check_positive(s0, "row stride", what);
  check_positive(s1, "column stride", what);
  weights = std::move(W);
  bias = std::move(b);
  if (weights.rows() != static_cast<long>(h) * w * d || weights.cols() != n)
    throw std::invalid_argument(what + ": weight matrix is " + std::to_string(weights.rows()) + " x " +
                                std::to_string(weights.cols()) + ", expected " + std::to_string(h * w * d) + " x " +
                                std::to_string(n));
  if (bias.size() != n)
    throw std::invalid_argument(what + ": " + std::to_string(bias.size()) + " biases for " + std::to_string(n) +
                                " filters");
}

std::string ConvolutionLayer::describe() const {
  return "Convolution " + std::to_string(filter_height) + "x" + std::to_string(filter_width) + "x" +
         std::to_string(depth) + " -> " + std::to_string(filters) + ", stride " + std::to_string(stride_rows) + "x" +
         std::to_string(stride_cols);
}

TensorShape ConvolutionLayer::output_shape(const TensorShape& in) const {
  if (in.channels != depth)
    throw std::invalid_argument(describe() + ": input " + in.str() + " has " + std::to_string(in.channels) +
                                " channels, the filters " + std::to_string(depth));
  if (in.height < filter_height || in.width < filter_width)
    throw std::invalid_argument(describe() + ": input " + in.str() + " is smaller than the filter");
  return {valid_extent(in.height, filter_height, stride_rows), valid_extent(in.width, filter_width, stride_cols),
          filters};
}

// im2col: row p = i*Wo + j holds the window of output position (i, j); since
// the window row (a, b = 0..w-1, c = 0..d-1) is contiguous in NHWC memory,
// each window row is one block copy.
RowMatrixXd ConvolutionLayer::patches(const double* sample, const TensorShape& in) const {
  const TensorShape out = output_shape(in);
  const long run = static_cast<long>(filter_width) * depth;
  RowMatrixXd P(static_cast<long>(out.height) * out.width, weights.rows());
  for (int i = 0; i < out.height; ++i)
    for (int j = 0; j < out.width; ++j)
      for (int a = 0; a < filter_height; ++a) {
        const double* src = sample + (static_cast<long>(i * stride_rows + a) * in.width + j * stride_cols) * depth;
        std::copy(src, src + run, P.row(static_cast<long>(i) * out.width + j).data() + a * run);
      }
  return P;
}

void ConvolutionLayer::add_patches(const RowMatrixXd& P, const TensorShape& in, double* sample) const {
  const TensorShape out = output_shape(in);
  const long run = static_cast<long>(filter_width) * depth;
  for (int i = 0; i < out.height; ++i)
    for (int j = 0; j < out.width; ++j)
      for (int a = 0; a < filter_height; ++a) {
        double* dst = sample + (static_cast<long>(i * stride_rows + a) * in.width + j * stride_cols) * depth;
        const double* src = P.row(static_cast<long>(i) * out.width + j).data() + a * run;
        for (long t = 0; t < run; ++t) dst[t] += src[t];
      }
}

RowMatrixXd ConvolutionLayer::apply(const RowMatrixXd& x, const TensorShape& in, const RowMatrixXd& V) const {
  const TensorShape out = output_shape(in);
  check_columns(x, in.size(), describe());
  RowMatrixXd y(x.rows(), out.size());
  for (long s = 0; s < x.rows(); ++s) {
    const RowMatrixXd Y = patches(x.row(s).data(), in) * V;  // (Ho*Wo) x n, row-major = NHWC
    y.row(s) = Eigen::Map<const Eigen::RowVectorXd>(Y.data(), Y.size());
  }
  return y;
}

RowMatrixXd ConvolutionLayer::apply_transposed(const RowMatrixXd& g, const TensorShape& in,
                                               const RowMatrixXd& V) const {
  const TensorShape out = output_shape(in);
  check_columns(g, out.size(), describe());
  RowMatrixXd x = RowMatrixXd::Zero(g.rows(), in.size());
  for (long s = 0; s < g.rows(); ++s) {
    const Eigen::Map<const RowMatrixXd> G(g.row(s).data(), static_cast<long>(out.height) * out.width, filters);
    add_patches(G * V.transpose(), in, x.row(s).data());
  }
  return x;
}

RowMatrixXd ConvolutionLayer::weight_gradient(const RowMatrixXd& x, const TensorShape& in,
                                              const RowMatrixXd& dy) const {
  const TensorShape out = output_shape(in);
  RowMatrixXd grad = RowMatrixXd::Zero(weights.rows(), weights.cols());
  for (long s = 0; s < x.rows(); ++s) {
    const Eigen::Map<const RowMatrixXd> G(dy.row(s).data(), static_cast<long>(out.height) * out.width, filters);
    grad.noalias() += patches(x.row(s).data(), in).transpose() * G;
  }
  return grad;
}

// --------------------------------------------------------------- pooling

PoolLayer::PoolLayer(int h, int w, int s0, int s1) : pool_height(h), pool_width(w), stride_rows(s0), stride_cols(s1) {
  const std::string what = "pooling layer";
  check_positive(h, "window height", what);
  check_positive(w, "window width", what);
  check_positive(s0, "row stride", what);
  check_positive(s1, "column stride", what);
}

std::string PoolLayer::geometry() const {
  return std::to_string(pool_height) + "x" + std::to_string(pool_width) + ", stride " + std::to_string(stride_rows) +
         "x" + std::to_string(stride_cols);
}

TensorShape PoolLayer::output_shape(const TensorShape& in) const {
  if (in.height < pool_height || in.width < pool_width)
    throw std::invalid_argument(describe() + ": input " + in.str() + " is smaller than the window");
  return {valid_extent(in.height, pool_height, stride_rows), valid_extent(in.width, pool_width, stride_cols),
          in.channels};
}

namespace {

// Calls fn(output index, input index) for every (window, member) pair of one sample.
template <typename Fn>
void for_each_window_member(const PoolLayer& p, const TensorShape& in, const TensorShape& out, Fn&& fn) {
  const int C = in.channels;
  for (int i = 0; i < out.height; ++i)
    for (int j = 0; j < out.width; ++j)
      for (int a = 0; a < p.pool_height; ++a)
        for (int b = 0; b < p.pool_width; ++b) {
          const long base_in = (static_cast<long>(i * p.stride_rows + a) * in.width + j * p.stride_cols + b) * C;
          const long base_out = (static_cast<long>(i) * out.width + j) * C;
          for (int c = 0; c < C; ++c) fn(base_out + c, base_in + c);
        }
}

}  // namespace

RowMatrixXd PoolLayer::window_sum(const RowMatrixXd& x, const TensorShape& in) const {
  const TensorShape out = output_shape(in);
  check_columns(x, in.size(), describe());
  RowMatrixXd y = RowMatrixXd::Zero(x.rows(), out.size());
  for (long s = 0; s < x.rows(); ++s)
    for_each_window_member(*this, in, out, [&](long o, long i) { y(s, o) += x(s, i); });
  return y;
}

RowMatrixXd PoolLayer::window_spread(const RowMatrixXd& g, const TensorShape& in) const {
  const TensorShape out = output_shape(in);
  check_columns(g, out.size(), describe());
  RowMatrixXd x = RowMatrixXd::Zero(g.rows(), in.size());
  for (long s = 0; s < g.rows(); ++s)
    for_each_window_member(*this, in, out, [&](long o, long i) { x(s, i) += g(s, o); });
  return x;
}

double SumPoolLayer::scale() const { return 1.0 / std::sqrt(static_cast<double>(pool_height) * pool_width); }

RowMatrixXd SumPoolLayer::forward(const RowMatrixXd& x, const TensorShape& in) const {
  return window_sum(x, in) * scale();
}

RowMatrixXd SumPoolLayer::backward(const RowMatrixXd&, const RowMatrixXd&, const RowMatrixXd& dy,
                                   const TensorShape& in, ParameterGradient*) const {
  return window_spread(dy, in) * scale();
}

RowMatrixXd MaxPoolLayer::forward(const RowMatrixXd& x, const TensorShape& in) const {
  const TensorShape out = output_shape(in);
  check_columns(x, in.size(), describe());
  RowMatrixXd y = RowMatrixXd::Constant(x.rows(), out.size(), -std::numeric_limits<double>::infinity());
  for (long s = 0; s < x.rows(); ++s)
    for_each_window_member(*this, in, out, [&](long o, long i) { y(s, o) = std::max(y(s, o), x(s, i)); });
  return y;
}

std::vector<std::vector<long>> MaxPoolLayer::winners(const Eigen::RowVectorXd& x, const Eigen::RowVectorXd& y,
                                                     const TensorShape& in) const {
  const TensorShape out = output_shape(in);
  if (x.size() != in.size() || y.size() != out.size())
    throw std::invalid_argument(describe() + ": record does not match the input shape " + in.str());
  std::vector<std::vector<long>> result(out.size());
  for_each_window_member(*this, in, out, [&](long o, long i) {
    if (x[i] == y[o]) result[o].push_back(i);
  });
  return result;
}

RowMatrixXd MaxPoolLayer::backward(const RowMatrixXd& x, const RowMatrixXd& y, const RowMatrixXd& dy,
                                   const TensorShape& in, ParameterGradient*) const {
  RowMatrixXd dx = RowMatrixXd::Zero(x.rows(), x.cols());
  for (long s = 0; s < x.rows(); ++s) {
    const auto w = winners(x.row(s), y.row(s), in);
    for (size_t o = 0; o < w.size(); ++o)
      for (long i : w[o]) dx(s, i) += dy(s, static_cast<long>(o)) / static_cast<double>(w[o].size());
  }
  return dx;
}

// ----------------------------------------------------------- elementwise

ElementwiseLayer::ElementwiseLayer(LayerKind kind) : kind_(kind) {
  if (kind != LayerKind::relu && kind != LayerKind::tanh && kind != LayerKind::softmax && kind != LayerKind::flatten)
    throw std::invalid_argument(layer_keyword(kind) + " is not an element-wise layer");
}

TensorShape ElementwiseLayer::output_shape(const TensorShape& in) const {
  return kind_ == LayerKind::flatten ? TensorShape{1, 1, static_cast<int>(in.size())} : in;
}

RowMatrixXd ElementwiseLayer::forward(const RowMatrixXd& x, const TensorShape& in) const {
  check_columns(x, in.size(), describe());
  switch (kind_) {
    case LayerKind::relu: return x.cwiseMax(0.0);
    case LayerKind::tanh: return x.array().tanh().matrix();
    case LayerKind::softmax: {
      RowMatrixXd y = (x.colwise() - x.rowwise().maxCoeff()).array().exp().matrix();
      y.array().colwise() /= y.rowwise().sum().array();
      return y;
    }
    default: return x;
  }
}

RowMatrixXd ElementwiseLayer::backward(const RowMatrixXd& x, const RowMatrixXd& y, const RowMatrixXd& dy,
                                       const TensorShape&, ParameterGradient*) const {
  switch (kind_) {
    case LayerKind::relu: return (x.array() > 0.0).select(dy, 0.0);
    case LayerKind::tanh: return (dy.array() * (1.0 - y.array().square())).matrix();
    case LayerKind::softmax: {
      // dx = y * (dy - <dy, y>) per sample.
      const Eigen::VectorXd inner = (dy.array() * y.array()).rowwise().sum();
      return (y.array() * (dy.colwise() - inner).array()).matrix();
    }
    default: return dy;
  }
}

// --------------------------------------------------------------- network

Network::Network(const Network& other) {
  for (const auto& l : other.layers_) layers_.push_back(l->clone());
}

Network& Network::operator=(const Network& other) {
  if (this != &other) {
    Network copy(other);
    layers_ = std::move(copy.layers_);
  }
  return *this;
}

void Network::add(std::unique_ptr<Layer> layer) {
  if (!layer) throw std::invalid_argument("Network::add: null layer");
  layers_.push_back(std::move(layer));
}

const Layer& Network::layer(int k) const {
  if (k < 0 || k >= size())
    throw std::out_of_range("layer " + std::to_string(k) + " does not exist (the network has " +
                            std::to_string(size()) + ")");
  return *layers_[k];
}

Layer& Network::layer(int k) { return const_cast<Layer&>(static_cast<const Network&>(*this).layer(k)); }

int Network::score_layers() const {
  return !layers_.empty() && layers_.back()->kind() == LayerKind::softmax ? size() - 1 : size();
}

std::vector<TensorShape> Network::shapes(const TensorShape& in, int layers) const {
  if (layers < 0) layers = score_layers();
  if (layers > size()) throw std::out_of_range("the network has only " + std::to_string(size()) + " layers");
  std::vector<TensorShape> s{in};
  for (int k = 0; k < layers; ++k) {
    try {
      s.push_back(layers_[k]->output_shape(s.back()));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("layer " + std::to_string(k) + " (" + e.what() + ")");
    }
  }
  return s;
}

Network::Record Network::forward_record(const RowMatrixXd& x, const TensorShape& in, int layers) const {
  Record r;
  r.shapes = shapes(in, layers);
  if (x.cols() != in.size())
    throw std::invalid_argument("network input has " + std::to_string(x.cols()) + " values per sample, the shape " +
                                in.str() + " needs " + std::to_string(in.size()));
  r.activations.reserve(r.shapes.size());
  r.activations.push_back(x);
  for (size_t k = 0; k + 1 < r.shapes.size(); ++k)
    r.activations.push_back(layers_[k]->forward(r.activations.back(), r.shapes[k]));
  return r;
}

RowMatrixXd Network::forward(const RowMatrixXd& x, const TensorShape& in) const {
  return std::move(forward_record(x, in, size()).activations.back());
}

RowMatrixXd Network::scores(const RowMatrixXd& x, const TensorShape& in) const {
  return std::move(forward_record(x, in).activations.back());
}

RowMatrixXd Network::backward(const Record& r, const RowMatrixXd& d_scores, std::vector<ParameterGradient>* grads) const {
  const int L = static_cast<int>(r.shapes.size()) - 1;
  RowMatrixXd d = d_scores;
  for (int k = L - 1; k >= 0; --k) {
    ParameterGradient* g = grads && dynamic_cast<const AffineLayer*>(layers_[k].get()) ? &(*grads)[k] : nullptr;
    d = layers_[k]->backward(r.activations[k], r.activations[k + 1], d, r.shapes[k], g);
  }
  return d;
}

RowMatrixXd Network::gradient(const RowMatrixXd& x, const TensorShape& in, int c) const {
  const Record r = forward_record(x, in);
  const long outputs = r.shapes.back().size();
  if (c < 0 || c >= outputs)
    throw std::out_of_range("output " + std::to_string(c) + " does not exist (the network has " +
                            std::to_string(outputs) + " outputs)");
  RowMatrixXd seed = RowMatrixXd::Zero(x.rows(), outputs);
  seed.col(c).setOnes();
  return backward(r, seed, nullptr);
}

}  // namespace pixelwise
