#include "pixelwise/classifiers/svm.hpp"

#include "libsvm_training.hpp"

#include <libsvm/svm.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace pixelwise {
namespace {

using namespace libsvm_training;

void silent(const char*) {}

struct SilenceLibsvm {
  SilenceLibsvm() { svm_set_print_string_function(&silent); }
};
const SilenceLibsvm silence_libsvm;



}  // namespace

void SvmOptions::validate() const {
  Kernel k(kernel);
  if (!(C > 0) || !std::isfinite(C)) throw std::invalid_argument("svm: C must be a positive number");
  if (!(tolerance > 0)) throw std::invalid_argument("svm: tolerance must be positive");
  if (!(cache_mb > 0)) throw std::invalid_argument("svm: cache_mb must be positive");
  if (k.uses_gamma()) {
    k.gamma = gamma.value_or(1.0);  // "mean" is checked when training sets it
    k.degree = degree;
    k.coef0 = coef0;
    k.validate();
  }
}
Kernel SvmOptions::kernel_function() const {
  validate();
  Kernel k(kernel);
  if (k.uses_gamma()) {
    if (!gamma) throw std::invalid_argument("svm: kernel " + name_of(kernel) + " has no gamma yet (\"mean\" is set by training)");
    k.gamma = *gamma;
    k.degree = degree;
    k.coef0 = coef0;
  }
  return k;
}
// Only the parameters the kernel uses are written (and accepted), so that an
// additive kernel's section reads as before and a stray parameter is an error.
void to_json(nlohmann::json& j, const SvmOptions& o) {
  j = {{"kernel", name_of(o.kernel)}, {"C", o.C}, {"tolerance", o.tolerance}, {"cache_mb", o.cache_mb}};
  const KernelType type = o.kernel;
  if (!is_additive(type)) j["gamma"] = o.gamma ? nlohmann::json(*o.gamma) : nlohmann::json("mean");
  if (type == KernelType::polynomial) {
    j["degree"] = o.degree;
    j["coef0"] = o.coef0;
  }
}
void from_json(const nlohmann::json& j, SvmOptions& o) {
  SvmOptions d;
  o.kernel = j.contains("kernel") ? enum_names(KernelType{}).read(j.at("kernel"), "kernel", "svm") : d.kernel;
  o.C = j.value("C", d.C);
  o.tolerance = j.value("tolerance", d.tolerance);
  o.cache_mb = j.value("cache_mb", d.cache_mb);
  const KernelType type = o.kernel;
  for (const char* key : {"gamma", "degree", "coef0"}) {
    const bool used = std::string(key) == "gamma" ? !is_additive(type) : type == KernelType::polynomial;
    if (j.contains(key) && !used)
      throw std::invalid_argument(std::string("svm: ") + key + " does not apply to kernel " + name_of(o.kernel) +
                                  (std::string(key) == "gamma" ? " (only rbf, expchi2, poly)" : " (only poly)"));
  }
  o.gamma = d.gamma;
  if (j.contains("gamma")) {
    const nlohmann::json& g = j.at("gamma");
    if (g.is_number())
      o.gamma = g.get<double>();
    else if (!(g.is_string() && g.get<std::string>() == "mean"))
      throw std::invalid_argument("svm: gamma must be a positive number or \"mean\", got " + g.dump());
  }
  o.degree = j.value("degree", d.degree);
  o.coef0 = j.value("coef0", d.coef0);
  o.validate();
}

void LibsvmModel::Deleter::operator()(svm_model* m) const { svm_free_and_destroy_model(&m); }

LibsvmModel LibsvmModel::load(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw std::runtime_error(path + ": libsvm model file is missing");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) throw std::runtime_error(path + ": cannot read the libsvm model file");
  return parse(text.str(), path);
}

void LibsvmModel::save(const std::string& path) const {
  if (svm_save_model(path.c_str(), model_.get()) != 0) throw std::runtime_error(path + ": cannot write libsvm model");
}

OneVsRestSvm::OneVsRestSvm(Kernel kernel, RowMatrixXd support_vectors, std::vector<BinaryMachine> machines)
    : kernel_(kernel), support_vectors_(std::move(support_vectors)), machines_(std::move(machines)) {
  kernel_.validate();
  if (!support_vectors_.allFinite()) throw std::invalid_argument("svm: support vectors contain NaN or infinite values");
  for (const auto& m : machines_) {
    if (m.support.size() != m.coef.size()) throw std::invalid_argument("svm: support and coefficients differ in length");
    for (int u : m.support)
      if (u < 0 || u >= support_vectors_.rows()) throw std::invalid_argument("svm: support vector index out of range");
    if (!std::isfinite(m.rho)) throw std::invalid_argument("svm: rho is not finite");
  }
}

const BinaryMachine& OneVsRestSvm::machine(int c) const {
  if (c < 0 || c >= classes())
    throw std::out_of_range("class index " + std::to_string(c) + " out of range (model has " +
                            std::to_string(classes()) + " classes)");
  return machines_[c];
}

OneVsRestSvm OneVsRestSvm::train(const RowMatrixXd& X, const std::vector<int>& labels, int classes,
                                 const SvmOptions& options) {
  options.validate();
  Kernel kernel(options.kernel);
  const bool mean_gamma = kernel.uses_gamma() && !options.gamma;
  if (!mean_gamma) kernel = options.kernel_function();
  const long n = X.rows();
  const std::vector<long> counts = check_training_set(X, labels, classes);
  for (int c = 0; c < classes; ++c)
    if (counts[c] == n)
      throw std::runtime_error("svm: class " + std::to_string(c) +
                               " needs both positive and negative training images for one-vs-rest");

  // Precomputed kernel rows: node 0 holds the 1-based sample index, nodes
  // 1..n the kernel values (libsvm README, "precomputed kernel"). For the
  // "mean" gamma rule the rows first hold inner(x_i, x_j), whose mean over
  // i != j sets gamma, and are then mapped through outer (kernel_function.hpp).
  PrecomputedRows rows = precomputed_rows(
      X, [&](const double* a, const double* b, long d) { return mean_gamma ? kernel.inner(a, b, d) : kernel(a, b, d); });
  if (mean_gamma) {
    double sum = 0;
    for (long i = 0; i < n; ++i)
      for (long j = 0; j < n; ++j)
        if (j != i) sum += rows.value(i, j);
    kernel.gamma = gamma_from_mean(kernel, n > 1 ? sum / (static_cast<double>(n) * (n - 1)) : 0.0);
    kernel.degree = options.degree;
    kernel.coef0 = options.coef0;
    kernel.validate();
    for_each_parallel(n, 0, [&](long i) {
      for (long j = 0; j < n; ++j) rows.value(i, j) = kernel.outer(rows.value(i, j));
    });
  }

  const svm_parameter param = precomputed_parameters(options);

  struct Trained {
    std::vector<int> samples;  // 0-based training indices
    std::vector<double> coef;
    double rho;
  };
  std::vector<Trained> trained(classes);
  std::vector<std::string> errors(classes);
  for_each_parallel(classes, 0, [&](long c) {
    std::vector<double> y(n);
    for (long i = 0; i < n; ++i) y[i] = labels[i] == c ? +1.0 : -1.0;
    svm_problem problem{static_cast<int>(n), y.data(), rows.rows.data()};
    if (const char* error = svm_check_parameter(&problem, &param)) {
      errors[c] = error;
      return;
    }
    svm_model* raw = svm_train(&problem, &param);
    // libsvm orients the decision towards the first label it met.
    const double sign = raw->label[0] == +1 ? 1.0 : -1.0;
    Trained t;
    for (int k = 0; k < raw->l; ++k) {
      t.samples.push_back(raw->sv_indices[k] - 1);
      t.coef.push_back(sign * raw->sv_coef[0][k]);
    }
    t.rho = sign * raw->rho[0];
    svm_free_and_destroy_model(&raw);
    trained[c] = std::move(t);
  });
  for (int c = 0; c < classes; ++c)
    if (!errors[c].empty()) throw std::runtime_error("svm: libsvm rejected the parameters: " + errors[c]);

  // One support-vector table shared by all machines, rows in training order.
  std::map<int, int> table_row;
  for (const auto& t : trained)
    for (int s : t.samples) table_row.emplace(s, 0);
  RowMatrixXd table(table_row.size(), X.cols());
  int next = 0;
  for (auto& [sample, row] : table_row) {
    row = next;
    table.row(next++) = X.row(sample);
  }
  std::vector<BinaryMachine> machines(classes);
  for (int c = 0; c < classes; ++c) {
    for (int s : trained[c].samples) machines[c].support.push_back(table_row[s]);
    machines[c].coef = trained[c].coef;
    machines[c].rho = trained[c].rho;
  }
  return OneVsRestSvm(kernel, std::move(table), std::move(machines));
}

LibsvmModel OneVsRestSvm::to_libsvm(int c) const {
  const BinaryMachine& m = machine(c);
  const int l = static_cast<int>(m.support.size());
  svm_model* model = allocate<svm_model>(1);
  LibsvmModel owner(model);
  model->param.svm_type = C_SVC;
  model->param.kernel_type = PRECOMPUTED;
  model->nr_class = 2;
  model->l = l;
  model->free_sv = 1;  // libsvm then frees SV[0], the block of all nodes
  model->SV = allocate<svm_node*>(l);
  svm_node* block = allocate<svm_node>(2 * static_cast<size_t>(l));
  for (int k = 0; k < l; ++k) {
    block[2 * k] = {0, static_cast<double>(m.support[k] + 1)};
    block[2 * k + 1] = {-1, 0.0};
    model->SV[k] = &block[2 * k];
  }
  if (l == 0) std::free(block);
  model->sv_coef = allocate<double*>(1);
  model->sv_coef[0] = allocate<double>(l);
  std::copy(m.coef.begin(), m.coef.end(), model->sv_coef[0]);
  model->rho = allocate<double>(1);
  model->rho[0] = m.rho;
  model->label = allocate<int>(2);
  model->label[0] = +1;
  model->label[1] = -1;
  model->nSV = allocate<int>(2);
  for (double a : m.coef) ++model->nSV[a > 0 ? 0 : 1];
  return owner;
}

void OneVsRestSvm::save_machine(int c, const std::string& path) const { to_libsvm(c).save(path); }

OneVsRestSvm OneVsRestSvm::load(Kernel kernel, RowMatrixXd support_vectors,
                                const std::vector<std::string>& model_files) {
  std::vector<BinaryMachine> machines;
  for (const auto& path : model_files) {
    LibsvmModel model = LibsvmModel::load(path);
    const svm_model* m = model.get();
    if (m->param.svm_type != C_SVC || m->param.kernel_type != PRECOMPUTED || m->nr_class != 2 || m->l < 1)
      throw std::runtime_error(path + ": expected a binary C-SVC model with a precomputed kernel");
    if (!((m->label[0] == 1 && m->label[1] == -1) || (m->label[0] == -1 && m->label[1] == 1)))
      throw std::runtime_error(path + ": labels must be +1 and -1");
    const double sign = m->label[0] == 1 ? 1.0 : -1.0;
    BinaryMachine machine;
    for (int k = 0; k < m->l; ++k) {
      const double index = m->SV[k][0].value;
      if (m->SV[k][0].index != 0 || index != std::floor(index) || index < 1 || index > support_vectors.rows())
        throw std::runtime_error(path + ": support vector " + std::to_string(k) +
                                 " does not name a row of the support-vector table");
      machine.support.push_back(static_cast<int>(index) - 1);
      machine.coef.push_back(sign * m->sv_coef[0][k]);
      if (!std::isfinite(machine.coef.back())) throw std::runtime_error(path + ": coefficient is not finite");
    }
    machine.rho = sign * m->rho[0];
    if (!std::isfinite(machine.rho)) throw std::runtime_error(path + ": rho is not finite");
    machines.push_back(std::move(machine));
  }
  return OneVsRestSvm(kernel, std::move(support_vectors), std::move(machines));
}

void OneVsRestSvm::check_input(const Eigen::VectorXd& x) const {
  if (x.size() != dimension())
    throw std::invalid_argument("svm: input has dimension " + std::to_string(x.size()) + ", the model expects " +
                                std::to_string(dimension()));
}

Eigen::VectorXd OneVsRestSvm::kernel_row(const Eigen::VectorXd& x) const {
  check_input(x);
  Eigen::VectorXd k(support_vectors_.rows());
  for (long u = 0; u < support_vectors_.rows(); ++u)
    k[u] = kernel_(support_vectors_.row(u).data(), x.data(), x.size());
  return k;
}

namespace {
// Same summation order as libsvm's svm_predict_values: sum coef_i k_i, then - rho.
double machine_decision(const BinaryMachine& m, const Eigen::VectorXd& k) {
  double sum = 0;
  for (size_t i = 0; i < m.support.size(); ++i) sum += m.coef[i] * k[m.support[i]];
  return sum - m.rho;
}
}  // namespace

Eigen::VectorXd OneVsRestSvm::decisions(const Eigen::VectorXd& x) const {
  const Eigen::VectorXd k = kernel_row(x);
  Eigen::VectorXd f(classes());
  for (int c = 0; c < classes(); ++c) f[c] = machine_decision(machines_[c], k);
  return f;
}

double OneVsRestSvm::decision(int c, const Eigen::VectorXd& x) const {
  return machine_decision(machine(c), kernel_row(x));
}

double OneVsRestSvm::libsvm_decision(int c, const Eigen::VectorXd& x) const {
  const LibsvmModel model = to_libsvm(c);
  const Eigen::VectorXd k = kernel_row(x);
  std::vector<svm_node> nodes(k.size() + 2);
  nodes[0] = {0, 0.0};
  for (long u = 0; u < k.size(); ++u) nodes[u + 1] = {static_cast<int>(u + 1), k[u]};
  nodes[k.size() + 1] = {-1, 0.0};
  double value = 0;
  svm_predict_values(model.get(), nodes.data(), &value);
  return value;
}

Eigen::VectorXd OneVsRestSvm::kernel_terms(int c, const Eigen::VectorXd& x) const {
  check_input(x);
  if (!kernel_.additive())
    throw std::invalid_argument("svm: kernel " + kernel_.describe() +
                                " does not split over histogram bins; explain it with a Taylor decomposition");
  const BinaryMachine& m = machine(c);
  Eigen::VectorXd terms = Eigen::VectorXd::Zero(x.size());
  for (size_t i = 0; i < m.support.size(); ++i) {
    const double* sv = support_vectors_.row(m.support[i]).data();
    for (long d = 0; d < x.size(); ++d) terms[d] += m.coef[i] * kernel_term(kernel_.type, sv[d], x[d]);
  }
  return terms;
}

AdditiveEvaluation OneVsRestSvm::evaluate_additive(const Eigen::VectorXd& x) const {
  check_input(x);
  if (!kernel_.additive())
    throw std::invalid_argument("svm: kernel " + kernel_.describe() + " has no per-dimension tables");
  if (!tables_) throw std::logic_error("svm: evaluate_additive on a moved-from model");
  std::call_once(tables_->once, [&] {
    tables_->tables = std::make_unique<const AdditiveTables>(kernel_.type, support_vectors_, machines_);
  });
  return tables_->tables->evaluate(x);
}

}  // namespace pixelwise
