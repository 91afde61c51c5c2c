// Seeded construction and mini-batch training of small networks (softmax
// cross-entropy; SGD with momentum or Adam).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <ostream>
#include <random>
#include <stdexcept>

#include "pixelwise/classifiers/network.hpp"

namespace pixelwise {

Network make_mlp(int inputs, const std::vector<int>& hidden, int classes, LayerKind activation, std::uint64_t seed) {
  if (activation != LayerKind::relu && activation != LayerKind::tanh)
    throw std::invalid_argument("MLP activation must be Rect (relu) or Tanh, not " + layer_keyword(activation));
  if (inputs <= 0 || classes < 2)
    throw std::invalid_argument("an MLP needs at least one input and two classes (got " + std::to_string(inputs) +
                                " inputs, " + std::to_string(classes) + " classes)");
  std::mt19937_64 rng(seed);
  Network net;
  std::vector<int> sizes{inputs};
  for (int h : hidden) {
    if (h <= 0) throw std::invalid_argument("hidden layer size " + std::to_string(h) + " is not positive");
    sizes.push_back(h);
  }
  sizes.push_back(classes);
  for (size_t k = 0; k + 1 < sizes.size(); ++k) {
    const int m = sizes[k], n = sizes[k + 1];
    const double gain = activation == LayerKind::relu ? 2.0 : 1.0;
    std::normal_distribution<double> normal(0.0, std::sqrt(gain / m));
    RowMatrixXd W(m, n);
    for (long i = 0; i < W.size(); ++i) W.data()[i] = normal(rng);
    net.add(std::make_unique<LinearLayer>(std::move(W), Eigen::VectorXd::Zero(n)));
    if (k + 2 < sizes.size()) net.add(std::make_unique<ElementwiseLayer>(activation));
  }
  net.add(std::make_unique<ElementwiseLayer>(LayerKind::softmax));
  return net;
}

const EnumNames<Optimizer>& enum_names(Optimizer) {
  static const EnumNames<Optimizer> names{{Optimizer::adam, "adam"}, {Optimizer::sgd, "sgd"}};
  return names;
}

const OptionSchema<TrainingOptions>& TrainingOptions::schema() {
  using F = Fields<TrainingOptions>;
  constexpr long long int_max = std::numeric_limits<int>::max();
  static const OptionSchema<TrainingOptions> s(
      {F::integer("epochs", [](auto& o) -> auto& { return o.epochs; }, 1, int_max),
       F::integer("batch_size", [](auto& o) -> auto& { return o.batch_size; }, 1, int_max),
       F::choice("optimizer", [](auto& o) -> auto& { return o.optimizer; }),
       F::real("learning_rate", [](auto& o) -> auto& { return o.learning_rate; }, {0, true}),
       F::real("momentum", [](auto& o) -> auto& { return o.momentum; }, {0, false, 1, true}),
       F::real("weight_decay", [](auto& o) -> auto& { return o.weight_decay; }, {0}),
       F::integer("seed", [](auto& o) -> auto& { return o.seed; }, 0, std::numeric_limits<long long>::max())});
  return s;
}

void TrainingOptions::validate() const { schema().check(*this, "training"); }

double softmax_cross_entropy(const RowMatrixXd& scores, const std::vector<int>& labels, RowMatrixXd* gradient) {
  if (static_cast<long>(labels.size()) != scores.rows())
    throw std::invalid_argument("cross-entropy: " + std::to_string(labels.size()) + " labels for " +
                                std::to_string(scores.rows()) + " score rows");
  const Eigen::VectorXd top = scores.rowwise().maxCoeff();
  RowMatrixXd p = (scores.colwise() - top).array().exp().matrix();
  const Eigen::VectorXd total = p.rowwise().sum();
  p.array().colwise() /= total.array();
  double loss = 0;
  for (long s = 0; s < scores.rows(); ++s) {
    const int y = labels[s];
    if (y < 0 || y >= scores.cols())
      throw std::invalid_argument("cross-entropy: label " + std::to_string(y) + " outside 0.." +
                                  std::to_string(scores.cols() - 1));
    loss += std::log(total[s]) + top[s] - scores(s, y);  // -log softmax_y, computed stably
  }
  const double n = static_cast<double>(std::max<long>(1, scores.rows()));
  if (gradient) {
    *gradient = p;
    for (long s = 0; s < scores.rows(); ++s) (*gradient)(s, labels[s]) -= 1.0;
    *gradient /= n;
  }
  return loss / n;
}

std::vector<int> predict_classes(const Network& network, const RowMatrixXd& x, const TensorShape& in) {
  std::vector<int> out;
  out.reserve(x.rows());
  constexpr long kChunk = 1024;
  for (long first = 0; first < x.rows(); first += kChunk) {
    const RowMatrixXd s = network.scores(x.middleRows(first, std::min(kChunk, x.rows() - first)), in);
    for (long r = 0; r < s.rows(); ++r) {
      int best;
      s.row(r).maxCoeff(&best);
      out.push_back(best);
    }
  }
  return out;
}

TrainingHistory train_classifier(Network& network, const RowMatrixXd& x, const TensorShape& in,
                                 const std::vector<int>& labels, const TrainingOptions& options, std::ostream* log) {
  options.validate();
  const long n = x.rows();
  if (n == 0) throw std::invalid_argument("training: no samples");
  if (static_cast<long>(labels.size()) != n)
    throw std::invalid_argument("training: " + std::to_string(labels.size()) + " labels for " + std::to_string(n) +
                                " samples");
  const int L = network.score_layers();
  const long classes = network.shapes(in).back().size();
  for (int y : labels)
    if (y < 0 || y >= classes)
      throw std::invalid_argument("training: label " + std::to_string(y) + " but the network has " +
                                  std::to_string(classes) + " outputs");

  // Optimiser state per affine layer: first (velocity / Adam m) and second (Adam v) moments.
  std::vector<ParameterGradient> grads(L), first(L), second(L);
  auto zero_like = [](ParameterGradient& g, const AffineLayer& a) {
    g.weights = RowMatrixXd::Zero(a.weights.rows(), a.weights.cols());
    g.bias = Eigen::VectorXd::Zero(a.bias.size());
  };
  for (int k = 0; k < L; ++k)
    if (const auto* a = dynamic_cast<const AffineLayer*>(&network.layer(k))) {
      zero_like(first[k], *a);
      zero_like(second[k], *a);
    }

  std::mt19937_64 rng(options.seed);
  std::vector<long> order(n);
  std::iota(order.begin(), order.end(), 0L);
  const double beta1 = 0.9, beta2 = 0.999, adam_eps = 1e-8;
  long step = 0;
  TrainingHistory history;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    double loss_sum = 0;
    long correct = 0, batches = 0;
    for (long first_row = 0; first_row < n; first_row += options.batch_size) {
      const long b = std::min<long>(options.batch_size, n - first_row);
      RowMatrixXd xb(b, x.cols());
      std::vector<int> yb(b);
      for (long r = 0; r < b; ++r) {
        xb.row(r) = x.row(order[first_row + r]);
        yb[r] = labels[order[first_row + r]];
      }
      const Network::Record record = network.forward_record(xb, in, L);
      RowMatrixXd d_scores;
      loss_sum += softmax_cross_entropy(record.activations.back(), yb, &d_scores);
      for (long r = 0; r < b; ++r) {
        int best;
        record.activations.back().row(r).maxCoeff(&best);
        correct += best == yb[r];
      }
      ++batches;
      for (int k = 0; k < L; ++k)
        if (const auto* a = dynamic_cast<const AffineLayer*>(&network.layer(k))) zero_like(grads[k], *a);
      network.backward(record, d_scores, &grads);
      ++step;
      for (int k = 0; k < L; ++k) {
        auto* a = dynamic_cast<AffineLayer*>(&network.layer(k));
        if (!a) continue;
        if (options.weight_decay > 0) grads[k].weights += options.weight_decay * a->weights;
        if (options.optimizer == Optimizer::sgd) {
          first[k].weights = options.momentum * first[k].weights - options.learning_rate * grads[k].weights;
          first[k].bias = options.momentum * first[k].bias - options.learning_rate * grads[k].bias;
          a->weights += first[k].weights;
          a->bias += first[k].bias;
        } else {
          const double c1 = 1 - std::pow(beta1, static_cast<double>(step));
          const double c2 = 1 - std::pow(beta2, static_cast<double>(step));
          auto adam = [&](auto& param, auto& m, auto& v, const auto& g) {
            m = beta1 * m + (1 - beta1) * g;
            v = beta2 * v + (1 - beta2) * g.cwiseAbs2();
            param.array() -= options.learning_rate * (m.array() / c1) / ((v.array() / c2).sqrt() + adam_eps);
          };
          adam(a->weights, first[k].weights, second[k].weights, grads[k].weights);
          adam(a->bias, first[k].bias, second[k].bias, grads[k].bias);
        }
      }
    }
    history.loss.push_back(loss_sum / batches);
    history.accuracy.push_back(static_cast<double>(correct) / n);
    if (!std::isfinite(history.loss.back()))
      throw std::runtime_error("training diverged in epoch " + std::to_string(epoch + 1) +
                               " (loss is not finite); try a smaller learning rate");
    if (log)
      *log << "epoch " << epoch + 1 << "/" << options.epochs << ": loss " << history.loss.back()
           << ", training accuracy " << history.accuracy.back() << std::endl;
  }
  return history;
}

}  // namespace pixelwise
