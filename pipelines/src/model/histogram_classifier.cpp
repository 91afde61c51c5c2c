// The registry of classifier kinds (histogram_classifier.hpp).
#include "pixelwise/pipelines/model/histogram_classifier.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include "pixelwise/pipelines/model/classifier_kinds.hpp"

namespace pixelwise {

bool ClassifierAbilities::offers(ExplainMethod m) const {
  return std::find(methods.begin(), methods.end(), m) != methods.end();
}

const std::string& StoredFiles::need(const std::string& name) const {
  auto it = contents->find(name);
  if (it == contents->end()) throw std::runtime_error("the manifest lists no file " + name);
  return it->second;
}

std::shared_ptr<const HistogramClassifier> HistogramClassifier::randomised(int, std::uint64_t) const {
  throw std::invalid_argument("classifier kind \"" + kind() +
                              "\" has no model randomisation (sanity checks, docs/evaluation.md): the kind does not "
                              "say how to randomise its parameters");
}

void check_randomisation_stages(int stages, long available, const std::string& what) {
  if (available == 0)
    throw std::invalid_argument(what + ": has no randomisation stages (sanity checks, docs/evaluation.md)");
  if (stages < 1 || stages > available)
    throw std::invalid_argument(what + ": " + std::to_string(stages) + " randomisation stages asked for; it has " +
                                std::to_string(available) + " (1 to " + std::to_string(available) + ")");
}

namespace {

// The built-in kinds, in the order their sections are recognised: the
// specific SVM sections before the plain one. One line per kind.
std::vector<ClassifierKind> builtin_kinds() {
  return {kernel_map_svm_kind(), one_vs_one_svm_kind(), one_vs_rest_svm_kind(), network_kind()};
}

struct Registry {
  std::mutex lock;
  std::vector<ClassifierKind> kinds = builtin_kinds();
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void register_classifier_kind(ClassifierKind kind) {
  if (kind.name.empty() || kind.section.empty() || !kind.recognises || !kind.parse || !kind.train || !kind.load)
    throw std::invalid_argument("classifier kind \"" + kind.name + "\": name, section and all functions are needed");
  Registry& r = registry();
  std::lock_guard<std::mutex> guard(r.lock);
  for (const auto& k : r.kinds)
    if (k.name == kind.name) throw std::invalid_argument("classifier kind \"" + kind.name + "\" is already registered");
  r.kinds.push_back(std::move(kind));
}

std::vector<ClassifierKind> classifier_kinds() {
  Registry& r = registry();
  std::lock_guard<std::mutex> guard(r.lock);
  return r.kinds;
}

ClassifierKind classifier_kind(const std::string& name) {
  std::string known;
  for (const auto& k : classifier_kinds()) {
    if (k.name == name) return k;
    known += (known.empty() ? "" : ", ") + k.name;
  }
  throw std::invalid_argument("unknown classifier kind \"" + name + "\" (known: " + known + ")");
}

std::shared_ptr<const ClassifierSection> default_classifier_section() {
  static const std::shared_ptr<const ClassifierSection> section =
      one_vs_rest_svm_kind().parse(nlohmann::json::object());
  return section;
}

std::shared_ptr<const ClassifierSection> parse_classifier_section(const nlohmann::json& j) {
  const std::vector<ClassifierKind> kinds = classifier_kinds();
  std::vector<std::string> present;
  for (const auto& k : kinds)
    if (j.contains(k.section) && std::find(present.begin(), present.end(), k.section) == present.end())
      present.push_back(k.section);
  if (present.empty()) return default_classifier_section();
  if (present.size() > 1)
    throw std::invalid_argument("config: sections \"" + present[0] + "\" and \"" + present[1] +
                                "\" name two classifiers; give one of them");
  const nlohmann::json& section = j.at(present[0]);
  for (const auto& k : kinds)
    if (k.section == present[0] && k.recognises(section)) return k.parse(section);
  throw std::invalid_argument("config section \"" + present[0] + "\": no classifier kind takes it");
}

}  // namespace pixelwise
