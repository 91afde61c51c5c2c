#pragma once
// Layered neural networks (docs/design.md 1.7): the layers of the LRP Toolbox
// (Linear, Convolution, SumPool, MaxPool, Rect, Tanh, SoftMax, Flatten), a
// forward pass that keeps the activations every relevance rule needs, input
// gradients (for sensitivity and Taylor decomposition), the toolbox's
// plain-text model format, and seeded training of small classifiers.
//
// Activations are batches: one sample a row, each row one sample's tensor in
// NHWC order without N, i.e. element (i, j, c) of an H x W x C sample is at
// column (i * W + j) * C + c (the toolbox's C order). A plain vector of n
// values has the shape 1 x 1 x n. This part knows no relevance rule; the rules
// (decomposition/network_lrp.hpp) use the records and the linear maps below.
#include "pixelwise/common/matrix.hpp"
#include <Eigen/Core>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "pixelwise/common/option_schema.hpp"

namespace pixelwise {


/// Shape of one sample's activation: height x width x channels.
struct TensorShape {
  int height = 1, width = 1, channels = 1;
  long size() const { return static_cast<long>(height) * width * channels; }
  std::string str() const;  ///< "28x28x1"
  bool operator==(const TensorShape& o) const {
    return height == o.height && width == o.width && channels == o.channels;
  }
  bool operator!=(const TensorShape& o) const { return !(*this == o); }
};

enum class LayerKind { linear, convolution, sum_pool, max_pool, relu, tanh, softmax, flatten };
/// The toolbox keyword of a layer kind: Linear, Convolution, SumPool, MaxPool, Rect, Tanh, SoftMax, Flatten.
std::string layer_keyword(LayerKind kind);

/// Gradient of a loss with respect to the parameters of an affine layer.
struct ParameterGradient {
  RowMatrixXd weights;
  Eigen::VectorXd bias;
};

class Layer {
 public:
  virtual ~Layer() = default;
  virtual LayerKind kind() const = 0;
  /// One line for reports, e.g. "Convolution 5x5x1 -> 10, stride 1x1".
  virtual std::string describe() const = 0;
  /// The output shape for an input shape; std::invalid_argument if the layer cannot take it.
  virtual TensorShape output_shape(const TensorShape& in) const = 0;
  virtual RowMatrixXd forward(const RowMatrixXd& x, const TensorShape& in) const = 0;
  /// dL/dx from x, y = forward(x) and dL/dy. Layers with parameters add dL/dW
  /// and dL/db into `grads` when it is given (sized like the parameters).
  virtual RowMatrixXd backward(const RowMatrixXd& x, const RowMatrixXd& y, const RowMatrixXd& dy,
                               const TensorShape& in, ParameterGradient* grads) const = 0;
  virtual std::unique_ptr<Layer> clone() const = 0;
};

/// Linear and Convolution: y = A_W(x) + b, linear in the weight matrix W.
/// The rules substitute modified weights (w+, w-, w^2, ...) through apply().
class AffineLayer : public Layer {
 public:
  /// Linear: m x n (rows = inputs). Convolution: (h*w*d) x n, row (a*w + b)*d + c
  /// for filter position (a, b) and input channel c; both the toolbox's C order.
  RowMatrixXd weights;
  Eigen::VectorXd bias;  ///< one per output unit (Linear) or filter (Convolution)

  /// A_V(x) for weights V shaped like `weights`, without the bias.
  virtual RowMatrixXd apply(const RowMatrixXd& x, const TensorShape& in, const RowMatrixXd& V) const = 0;
  /// The transposed map A_V^T(g), i.e. the input gradient of <g, A_V(x)>.
  virtual RowMatrixXd apply_transposed(const RowMatrixXd& g, const TensorShape& in, const RowMatrixXd& V) const = 0;
  /// The bias of every output unit of one sample (b_k repeated at every position of a convolution).
  Eigen::RowVectorXd expanded_bias(const TensorShape& in) const;

  RowMatrixXd forward(const RowMatrixXd& x, const TensorShape& in) const override;
  RowMatrixXd backward(const RowMatrixXd& x, const RowMatrixXd& y, const RowMatrixXd& dy, const TensorShape& in,
                       ParameterGradient* grads) const override;

 protected:
  /// sum over the batch of dL/dW for dL/dy = dy.
  virtual RowMatrixXd weight_gradient(const RowMatrixXd& x, const TensorShape& in, const RowMatrixXd& dy) const = 0;
};

/// y_j = sum_i x_i W[i][j] + b_j; takes any input shape of m values, gives 1 x 1 x n.
class LinearLayer : public AffineLayer {
 public:
  LinearLayer(RowMatrixXd weights, Eigen::VectorXd bias);
  int inputs() const { return static_cast<int>(weights.rows()); }
  int outputs() const { return static_cast<int>(weights.cols()); }
  LayerKind kind() const override { return LayerKind::linear; }
  std::string describe() const override;
  TensorShape output_shape(const TensorShape& in) const override;
  RowMatrixXd apply(const RowMatrixXd& x, const TensorShape& in, const RowMatrixXd& V) const override;
  RowMatrixXd apply_transposed(const RowMatrixXd& g, const TensorShape& in, const RowMatrixXd& V) const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<LinearLayer>(*this); }

 protected:
  RowMatrixXd weight_gradient(const RowMatrixXd& x, const TensorShape& in, const RowMatrixXd& dy) const override;
};

/// Valid (unpadded), strided cross-correlation:
/// Y[i][j][k] = sum_{a,b,c} X[i*s0 + a][j*s1 + b][c] W[a][b][c][k] + b_k.
class ConvolutionLayer : public AffineLayer {
 public:
  ConvolutionLayer(int filter_height, int filter_width, int depth, int filters, int stride_rows, int stride_cols,
                   RowMatrixXd weights, Eigen::VectorXd bias);
  int filter_height, filter_width, depth, filters, stride_rows, stride_cols;
  LayerKind kind() const override { return LayerKind::convolution; }
  std::string describe() const override;
  TensorShape output_shape(const TensorShape& in) const override;
  RowMatrixXd apply(const RowMatrixXd& x, const TensorShape& in, const RowMatrixXd& V) const override;
  RowMatrixXd apply_transposed(const RowMatrixXd& g, const TensorShape& in, const RowMatrixXd& V) const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<ConvolutionLayer>(*this); }

 protected:
  RowMatrixXd weight_gradient(const RowMatrixXd& x, const TensorShape& in, const RowMatrixXd& dy) const override;

 private:
  RowMatrixXd patches(const double* sample, const TensorShape& in) const;          // im2col
  void add_patches(const RowMatrixXd& P, const TensorShape& in, double* sample) const;  // col2im
};

/// Pooling windows of h x w, strides s0 x s1, per channel, no padding.
class PoolLayer : public Layer {
 public:
  PoolLayer(int pool_height, int pool_width, int stride_rows, int stride_cols);
  int pool_height, pool_width, stride_rows, stride_cols;
  TensorShape output_shape(const TensorShape& in) const override;
  /// The unscaled window sums S_j = sum_{i in window j} x_i.
  RowMatrixXd window_sum(const RowMatrixXd& x, const TensorShape& in) const;
  /// The transpose of window_sum: every input gets the sum of g over the windows holding it.
  RowMatrixXd window_spread(const RowMatrixXd& g, const TensorShape& in) const;

 protected:
  std::string geometry() const;
};

/// The toolbox's sum pooling: window sum times 1 / sqrt(h * w).
class SumPoolLayer : public PoolLayer {
 public:
  using PoolLayer::PoolLayer;
  double scale() const;
  LayerKind kind() const override { return LayerKind::sum_pool; }
  std::string describe() const override { return "SumPool " + geometry(); }
  RowMatrixXd forward(const RowMatrixXd& x, const TensorShape& in) const override;
  RowMatrixXd backward(const RowMatrixXd& x, const RowMatrixXd& y, const RowMatrixXd& dy, const TensorShape& in,
                       ParameterGradient* grads) const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<SumPoolLayer>(*this); }
};

/// Window maximum. The gradient of a window with k equal maxima goes 1/k to each.
class MaxPoolLayer : public PoolLayer {
 public:
  using PoolLayer::PoolLayer;
  LayerKind kind() const override { return LayerKind::max_pool; }
  std::string describe() const override { return "MaxPool " + geometry(); }
  RowMatrixXd forward(const RowMatrixXd& x, const TensorShape& in) const override;
  RowMatrixXd backward(const RowMatrixXd& x, const RowMatrixXd& y, const RowMatrixXd& dy, const TensorShape& in,
                       ParameterGradient* grads) const override;
  /// For every output j of one sample: the input positions equal to the window maximum y_j.
  std::vector<std::vector<long>> winners(const Eigen::RowVectorXd& x, const Eigen::RowVectorXd& y,
                                         const TensorShape& in) const;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<MaxPoolLayer>(*this); }
};

/// Rect (ReLU), Tanh, SoftMax (over all values of a sample) and Flatten.
class ElementwiseLayer : public Layer {
 public:
  explicit ElementwiseLayer(LayerKind kind);
  LayerKind kind() const override { return kind_; }
  std::string describe() const override { return layer_keyword(kind_); }
  TensorShape output_shape(const TensorShape& in) const override;
  RowMatrixXd forward(const RowMatrixXd& x, const TensorShape& in) const override;
  RowMatrixXd backward(const RowMatrixXd& x, const RowMatrixXd& y, const RowMatrixXd& dy, const TensorShape& in,
                       ParameterGradient* grads) const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<ElementwiseLayer>(*this); }

 private:
  LayerKind kind_;
};

class Network {
 public:
  Network() = default;
  Network(const Network& other);
  Network& operator=(const Network& other);
  Network(Network&&) = default;
  Network& operator=(Network&&) = default;

  void add(std::unique_ptr<Layer> layer);
  int size() const { return static_cast<int>(layers_.size()); }
  const Layer& layer(int k) const;
  Layer& layer(int k);
  /// The layers that compute the scores: all but a trailing SoftMax (docs/design.md
  /// 1.7: the explained score is the pre-softmax one).
  int score_layers() const;

  /// Shapes at the layer boundaries: shapes[0] = in, shapes[k + 1] = output of layer k.
  /// Throws std::invalid_argument naming the first layer that cannot take its input.
  std::vector<TensorShape> shapes(const TensorShape& in, int layers = -1) const;

  /// What the relevance rules need: the activation at every layer boundary.
  struct Record {
    std::vector<TensorShape> shapes;       ///< as shapes()
    std::vector<RowMatrixXd> activations;  ///< activations[k] = input of layer k; back() = output
  };
  /// Forward pass through the first `layers` layers (-1: score_layers()).
  Record forward_record(const RowMatrixXd& x, const TensorShape& in, int layers = -1) const;
  /// Output of all layers (with a trailing SoftMax, probabilities).
  RowMatrixXd forward(const RowMatrixXd& x, const TensorShape& in) const;
  /// Output of the score layers (pre-softmax).
  RowMatrixXd scores(const RowMatrixXd& x, const TensorShape& in) const;
  /// d score_c / dx for every sample (rows).
  RowMatrixXd gradient(const RowMatrixXd& x, const TensorShape& in, int c) const;
  /// Backpropagates dL/d(scores) given a record of forward_record(); adds the
  /// parameter gradients into `grads` (one entry per layer, empty for layers
  /// without parameters) when given. Returns dL/dx.
  RowMatrixXd backward(const Record& record, const RowMatrixXd& d_scores, std::vector<ParameterGradient>* grads) const;

  /// The LRP Toolbox's plain-text format (see tests/data/lrp_toolbox/README.md):
  /// layers from input to output, a header line each, then weights and biases
  /// on one line each for Linear and Convolution. Stricter than the toolbox's
  /// reader, which stops at the first empty line: only the end of the file may
  /// be blank, and a blank line among the layers is an error naming the line
  /// (docs/errors.md, "Inputs"), so that no layer is silently dropped. Also
  /// reads the older layout with a Linear layer's W on m lines.
  /// `what` names the source in errors.
  static Network parse_toolbox(const std::string& text, const std::string& what);
  static Network load_toolbox(const std::string& path);
  /// Writes every number as the shortest decimal that reads back as the same double.
  std::string toolbox_text() const;

 private:
  std::vector<std::unique_ptr<Layer>> layers_;
};

/// A multilayer perceptron inputs -> hidden... -> classes with the given
/// activation (relu or tanh) after every hidden layer and a trailing SoftMax.
/// Weights N(0, sqrt(2/m)) for relu (He), N(0, sqrt(1/m)) for tanh; biases 0.
Network make_mlp(int inputs, const std::vector<int>& hidden, int classes, LayerKind activation, std::uint64_t seed);

/// "sgd" is with momentum.
enum class Optimizer { adam, sgd };
const EnumNames<Optimizer>& enum_names(Optimizer);

struct TrainingOptions {
  int epochs = 20;
  int batch_size = 32;
  Optimizer optimizer = Optimizer::adam;
  double learning_rate = 1e-3;
  double momentum = 0.9;           ///< sgd only
  double weight_decay = 0;         ///< L2 penalty factor on the weights (not the biases)
  std::uint64_t seed = 1;          ///< order of the mini-batches
  void validate() const;
  /// Its keys in a "network" configuration section.
  static const OptionSchema<TrainingOptions>& schema();
};

struct TrainingHistory {
  std::vector<double> loss;      ///< mean cross-entropy over each epoch's mini-batches
  std::vector<double> accuracy;  ///< training accuracy of each epoch's mini-batches
};

/// Mean softmax cross-entropy of score rows against labels; `gradient`, when
/// given, receives d(mean loss)/d(scores).
double softmax_cross_entropy(const RowMatrixXd& scores, const std::vector<int>& labels, RowMatrixXd* gradient);

/// Mini-batch training of the score layers with softmax cross-entropy.
/// Same seed, same data: same network. Progress lines go to `log` when given.
TrainingHistory train_classifier(Network& network, const RowMatrixXd& x, const TensorShape& in,
                                 const std::vector<int>& labels, const TrainingOptions& options, std::ostream* log);

/// Arg-max class of each row of x.
std::vector<int> predict_classes(const Network& network, const RowMatrixXd& x, const TensorShape& in);

}  // namespace pixelwise
