// A strict reader of libsvm's text model format, for the models pixelwise
// writes: C-SVC with a precomputed kernel (support vectors given as "0:INDEX"),
// two or more classes. libsvm's own svm_load_model trusts its input (a "rho"
// line before "nr_class", a declared count larger than the lines that follow,
// or a huge nr_class make it read or write out of bounds), so model files,
// which come from outside, are read here: every count is checked against what
// the text actually holds before anything is allocated, and the result is a
// libsvm model allocated the way libsvm frees it (malloc, free_sv = 1).
#include <libsvm/svm.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "pixelwise/classifiers/svm.hpp"
#include "libsvm_training.hpp"
#include "text_lines.hpp"

namespace pixelwise {
namespace {

using libsvm_training::allocate;
using text::tokens_of;



}  // namespace

LibsvmModel LibsvmModel::parse(const std::string& text, const std::string& what) {
  auto fail = [&](const std::string& why) {
    return std::runtime_error(what + ": not a valid libsvm model file (" + why + ")");
  };
  auto shown = [](const std::string& s) { return "\"" + (s.size() > 40 ? s.substr(0, 40) + "..." : s) + "\""; };
  auto integer = [&](const std::string& token, const std::string& field) {
    long v = 0;
    const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), v);
    if (error != std::errc() || end != token.data() + token.size() || v < -2147483647L || v > 2147483647L)
      throw fail(field + ": " + shown(token) + " is not an integer");
    return v;
  };
  auto number = [&](const std::string& token, const std::string& field) {
    double v = 0;
    const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), v);
    if (error != std::errc() || end != token.data() + token.size() || !std::isfinite(v))
      throw fail(field + ": " + shown(token) + " is not a finite number");
    return v;
  };

  const std::vector<std::string> lines = text::split_lines(text);

  // Header: "key values..." lines up to "SV", each key once.
  static const std::vector<std::string> keys{"svm_type", "kernel_type", "nr_class", "total_sv", "rho", "label", "nr_sv"};
  std::map<std::string, std::vector<std::string>> header;
  size_t i = 0;
  bool sv_section = false;
  for (; i < lines.size(); ++i) {
    const std::vector<std::string> t = tokens_of(lines[i]);
    if (t.size() == 1 && t[0] == "SV") {
      sv_section = true;
      ++i;
      break;
    }
    if (t.empty()) throw fail("empty line in the header");
    bool known = false;
    for (const auto& k : keys) known = known || k == t[0];
    if (!known) throw fail("unexpected header line " + shown(lines[i]));
    if (header.count(t[0])) throw fail("\"" + t[0] + "\" given twice");
    header[t[0]].assign(t.begin() + 1, t.end());
  }
  if (!sv_section) throw fail("no \"SV\" line");
  for (const auto& k : keys)
    if (!header.count(k)) throw fail("no \"" + k + "\" line");
  auto single = [&](const std::string& key) -> const std::string& {
    if (header[key].size() != 1) throw fail("\"" + key + "\" takes one value");
    return header[key][0];
  };
  if (single("svm_type") != "c_svc") throw fail("svm_type must be c_svc");
  if (single("kernel_type") != "precomputed") throw fail("kernel_type must be precomputed");
  const long K = integer(single("nr_class"), "nr_class");
  if (K < 2 || K > 65535) throw fail("nr_class must be between 2 and 65535");
  const long l = integer(single("total_sv"), "total_sv");
  if (l < 0) throw fail("total_sv is negative");
  const long pairs = K * (K - 1) / 2;
  if (static_cast<long>(header["rho"].size()) != pairs)
    throw fail("rho needs " + std::to_string(pairs) + " values for " + std::to_string(K) + " classes");
  if (static_cast<long>(header["label"].size()) != K) throw fail("label needs one value per class");
  if (static_cast<long>(header["nr_sv"].size()) != K) throw fail("nr_sv needs one value per class");
  std::vector<double> rho;
  for (const auto& t : header["rho"]) rho.push_back(number(t, "rho"));
  std::vector<int> label, count;
  for (const auto& t : header["label"]) {
    label.push_back(static_cast<int>(integer(t, "label")));
    for (size_t j = 0; j + 1 < label.size(); ++j)
      if (label[j] == label.back()) throw fail("label " + t + " given twice");
  }
  long total = 0;
  for (const auto& t : header["nr_sv"]) {
    count.push_back(static_cast<int>(integer(t, "nr_sv")));
    if (count.back() < 0) throw fail("nr_sv is negative");
    total += count.back();
  }
  if (total != l) throw fail("nr_sv adds up to " + std::to_string(total) + ", total_sv is " + std::to_string(l));

  // Support vectors: K - 1 coefficients and "0:INDEX", one line each.
  size_t end = lines.size();
  while (end > i && tokens_of(lines[end - 1]).empty()) --end;  // trailing blank lines
  if (static_cast<long>(end - i) != l)
    throw fail("total_sv is " + std::to_string(l) + " but " + std::to_string(end - i) + " support-vector lines follow");
  std::vector<std::vector<double>> coef(K - 1, std::vector<double>(l));
  std::vector<int> index(l);
  for (long k = 0; k < l; ++k) {
    const std::vector<std::string> t = tokens_of(lines[i + k]);
    const std::string where = "support vector " + std::to_string(k + 1);
    if (static_cast<long>(t.size()) != K) throw fail(where + ": expected " + std::to_string(K - 1) + " coefficients and 0:INDEX");
    for (long j = 0; j + 1 < K; ++j) coef[j][k] = number(t[j], where);
    const std::string& node = t[K - 1];
    if (node.rfind("0:", 0) != 0) throw fail(where + ": expected 0:INDEX (precomputed kernel), got " + shown(node));
    const long row = integer(node.substr(2), where);
    if (row < 1) throw fail(where + ": index must be at least 1");
    index[k] = static_cast<int>(row);
  }

  svm_model* model = allocate<svm_model>(1);
  LibsvmModel owner(model);
  model->param.svm_type = C_SVC;
  model->param.kernel_type = PRECOMPUTED;
  model->nr_class = static_cast<int>(K);
  model->l = static_cast<int>(l);
  model->free_sv = 1;  // libsvm frees SV[0], the block of all nodes
  model->SV = allocate<svm_node*>(l);
  model->sv_coef = allocate<double*>(K - 1);
  for (long j = 0; j + 1 < K; ++j) {
    model->sv_coef[j] = allocate<double>(l);
    std::copy(coef[j].begin(), coef[j].end(), model->sv_coef[j]);
  }
  model->rho = allocate<double>(pairs);
  std::copy(rho.begin(), rho.end(), model->rho);
  model->label = allocate<int>(K);
  std::copy(label.begin(), label.end(), model->label);
  model->nSV = allocate<int>(K);
  std::copy(count.begin(), count.end(), model->nSV);
  if (l > 0) {
    svm_node* block = allocate<svm_node>(2 * static_cast<size_t>(l));
    for (long k = 0; k < l; ++k) {
      block[2 * k] = {0, static_cast<double>(index[k])};
      block[2 * k + 1] = {-1, 0.0};
      model->SV[k] = &block[2 * k];
    }
  }
  return owner;
}

}  // namespace pixelwise
