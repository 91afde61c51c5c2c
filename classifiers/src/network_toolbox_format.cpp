// The LRP Toolbox's plain-text model format (tests/data/lrp_toolbox/README.md,
// "Model text format"): reading and writing.
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "pixelwise/classifiers/network.hpp"
#include "text_lines.hpp"

namespace pixelwise {
namespace {

using text::split_lines;
using text::tokens_of;

class Reader {
 public:
  Reader(const std::string& text, std::string what)
      : lines_(split_lines(text)), what_(std::move(what)), bytes_(text.size()) {
    end_ = lines_.size();
    while (end_ > 0 && tokens_of(lines_[end_ - 1]).empty()) --end_;
  }

  // Only blank lines (spaces, tabs) may follow the last layer. A blank line
  // among the layers is an error rather than the end of the model, so that
  // layers after it are never silently dropped (docs/errors.md, "Inputs").
  bool at_end() const { return line_ >= end_; }
  size_t line_number() const { return line_ + 1; }

  std::vector<std::string> header() {
    std::vector<std::string> tokens = tokens_of(lines_[line_]);
    if (tokens.empty()) fail(line_ + 1, "blank line among the layers (only the end of the file may be blank)");
    ++line_;
    return tokens;
  }

  std::vector<double> numbers(const std::string& role) {
    if (line_ >= lines_.size()) fail(line_ + 1, "missing the line with the " + role + " (end of file)");
    const std::vector<std::string> tokens = tokens_of(lines_[line_]);
    std::vector<double> values;
    values.reserve(tokens.size());
    for (const auto& t : tokens) values.push_back(number(t, role));
    ++line_;
    return values;
  }

  int positive_integer(const std::vector<std::string>& tokens, size_t k, const std::string& role, size_t line) const {
    int value = 0;
    const std::string& t = tokens[k];
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
    if (ec != std::errc() || end != t.data() + t.size() || value <= 0)
      fail(line, tokens[0] + ": " + role + " \"" + t + "\" is not a positive whole number");
    return value;
  }

  // The number of values a layer header declares (the product of `sizes`),
  // computed without wrapping and refused before anything is read or
  // allocated when the file cannot hold that many numbers (each takes at
  // least one byte): a huge header is an error naming the file, the line and
  // the true count, never a wrapped count or a failed allocation.
  long declared_count(size_t line, const std::vector<int>& sizes, const std::string& role) const {
    unsigned __int128 count = 1;  // up to six factors below 2^31: no overflow
    for (const int s : sizes) count *= static_cast<unsigned>(s);
    if (count > bytes_) {
      std::string digits;
      for (unsigned __int128 v = count; v > 0; v /= 10) digits.insert(digits.begin(), static_cast<char>('0' + v % 10));
      fail(line, "declares " + digits + " " + role + ", more numbers than the file (" + std::to_string(bytes_) +
                     " bytes) can hold");
    }
    return static_cast<long>(count);
  }

  [[noreturn]] void fail(size_t line, const std::string& message) const {
    throw std::runtime_error(what_ + ": line " + std::to_string(line) + ": " + message);
  }

 private:
  double number(const std::string& t, const std::string& role) const {
    double value = 0;
    const char* first = t.data() + (t.size() > 1 && t[0] == '+' ? 1 : 0);
    const auto [end, ec] = std::from_chars(first, t.data() + t.size(), value);
    if (ec != std::errc() || end != t.data() + t.size() || !std::isfinite(value))
      fail(line_ + 1, "\"" + t + "\" among the " + role + " is not a finite number");
    return value;
  }

  std::vector<std::string> lines_;
  std::string what_;
  size_t bytes_ = 0;
  size_t line_ = 0, end_ = 0;
};

RowMatrixXd as_matrix(const std::vector<double>& values, long rows, long cols) {
  return Eigen::Map<const RowMatrixXd>(values.data(), rows, cols);
}

Eigen::VectorXd as_vector(const std::vector<double>& values) {
  return Eigen::Map<const Eigen::VectorXd>(values.data(), static_cast<long>(values.size()));
}

void append_number(std::string& out, double v) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);  // shortest round trip
  if (ec != std::errc()) throw std::runtime_error("cannot format a number");
  out.append(buffer, end);
}

void append_numbers(std::string& out, const double* data, long count) {
  for (long i = 0; i < count; ++i) {
    if (i) out += ' ';
    append_number(out, data[i]);
  }
  out += '\n';
}

}  // namespace

Network Network::parse_toolbox(const std::string& text, const std::string& what) {
  Reader r(text, what);
  Network net;
  size_t softmax_line = 0;
  while (!r.at_end()) {
    const size_t line = r.line_number();
    const std::vector<std::string> h = r.header();
    // A layer after a SoftMax: the explained score is the pre-softmax one
    // (docs/networks.md). Refused here, naming the file and the SoftMax's
    // line, rather than when relevance reaches it.
    if (softmax_line)
      r.fail(softmax_line, "SoftMax is only allowed as the last layer (relevance cannot pass a softmax; the "
                           "explained score is the pre-softmax one)");
    const std::string& keyword = h[0];
    auto expect_arguments = [&](size_t n, const std::string& form) {
      if (h.size() != n + 1) r.fail(line, keyword + " takes " + std::to_string(n) + " numbers: " + form);
    };
    auto count_check = [&](const std::vector<double>& v, long expected, const std::string& role) {
      if (static_cast<long>(v.size()) != expected)
        r.fail(r.line_number() - 1, keyword + " expects " + std::to_string(expected) + " " + role + ", found " +
                                        std::to_string(v.size()));
    };
    try {
      if (keyword == "Linear") {
        expect_arguments(2, "Linear m n");
        const int m = r.positive_integer(h, 1, "m", line), n = r.positive_integer(h, 2, "n", line);
        const long weights = r.declared_count(line, {m, n}, "weights (m*n)");
        std::vector<double> w = r.numbers("weights");
        if (m > 1 && static_cast<long>(w.size()) == n) {
          // Older layout: W on m lines of n values.
          for (int i = 1; i < m; ++i) {
            const std::vector<double> row = r.numbers("weights (row " + std::to_string(i + 1) + " of " +
                                                      std::to_string(m) + ")");
            count_check(row, n, "weights per row");
            w.insert(w.end(), row.begin(), row.end());
          }
        }
        count_check(w, weights, "weights (m*n)");
        const std::vector<double> b = r.numbers("biases");
        count_check(b, n, "biases");
        net.add(std::make_unique<LinearLayer>(as_matrix(w, m, n), as_vector(b)));
      } else if (keyword == "Convolution") {
        expect_arguments(6, "Convolution h w d n s0 s1");
        int v[6];
        const char* roles[6] = {"h", "w", "d", "n", "s0", "s1"};
        for (int k = 0; k < 6; ++k) v[k] = r.positive_integer(h, k + 1, roles[k], line);
        const long weights = r.declared_count(line, {v[0], v[1], v[2], v[3]}, "weights (h*w*d*n)");
        const std::vector<double> w = r.numbers("weights");
        count_check(w, weights, "weights (h*w*d*n)");
        const std::vector<double> b = r.numbers("biases");
        count_check(b, v[3], "biases");
        net.add(std::make_unique<ConvolutionLayer>(v[0], v[1], v[2], v[3], v[4], v[5],
                                                   as_matrix(w, static_cast<long>(v[0]) * v[1] * v[2], v[3]),
                                                   as_vector(b)));
      } else if (keyword == "SumPool" || keyword == "MaxPool") {
        expect_arguments(4, keyword + " h w s0 s1");
        int v[4];
        const char* roles[4] = {"h", "w", "s0", "s1"};
        for (int k = 0; k < 4; ++k) v[k] = r.positive_integer(h, k + 1, roles[k], line);
        if (keyword == "SumPool")
          net.add(std::make_unique<SumPoolLayer>(v[0], v[1], v[2], v[3]));
        else
          net.add(std::make_unique<MaxPoolLayer>(v[0], v[1], v[2], v[3]));
      } else {
        LayerKind kind;
        if (keyword == "Rect")
          kind = LayerKind::relu;
        else if (keyword == "Tanh")
          kind = LayerKind::tanh;
        else if (keyword == "SoftMax") {
          kind = LayerKind::softmax;
          softmax_line = line;
        }
        else if (keyword == "Flatten")
          kind = LayerKind::flatten;
        else
          r.fail(line, "unknown layer \"" + keyword +
                           "\" (known: Linear, Convolution, SumPool, MaxPool, Rect, Tanh, SoftMax, Flatten)");
        expect_arguments(0, keyword);
        net.add(std::make_unique<ElementwiseLayer>(kind));
      }
    } catch (const std::invalid_argument& e) {
      r.fail(line, e.what());
    }
  }
  if (net.size() == 0) throw std::runtime_error(what + ": no layers (empty model file)");
  return net;
}

Network Network::load_toolbox(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the network file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_toolbox(text.str(), path);
}

std::string Network::toolbox_text() const {
  std::string out;
  for (const auto& l : layers_) {
    out += layer_keyword(l->kind());
    if (const auto* lin = dynamic_cast<const LinearLayer*>(l.get())) {
      out += " " + std::to_string(lin->inputs()) + " " + std::to_string(lin->outputs()) + "\n";
    } else if (const auto* conv = dynamic_cast<const ConvolutionLayer*>(l.get())) {
      for (int v : {conv->filter_height, conv->filter_width, conv->depth, conv->filters, conv->stride_rows,
                    conv->stride_cols})
        out += " " + std::to_string(v);
      out += "\n";
    } else if (const auto* pool = dynamic_cast<const PoolLayer*>(l.get())) {
      for (int v : {pool->pool_height, pool->pool_width, pool->stride_rows, pool->stride_cols})
        out += " " + std::to_string(v);
      out += "\n";
    } else {
      out += "\n";
    }
    if (const auto* affine = dynamic_cast<const AffineLayer*>(l.get())) {
      append_numbers(out, affine->weights.data(), affine->weights.size());  // row-major = C order
      append_numbers(out, affine->bias.data(), affine->bias.size());
    }
  }
  return out;
}

}  // namespace pixelwise
