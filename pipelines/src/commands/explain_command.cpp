// `pixelwise explain` (explain_command.hpp): one runner for every model kind
// and method.
#include "pixelwise/pipelines/commands/explain_command.hpp"
#include "pixelwise/common/parallel.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "pixelwise/common/batch.hpp"
#include "pixelwise/common/files.hpp"
#include "pixelwise/common/folder_lock.hpp"
#include "pixelwise/common/json_input.hpp"
#include "pixelwise/common/manifest_file.hpp"
#include "pixelwise/common/errors.hpp"
#include "pixelwise/pipelines/commands/commands.hpp"
#include "pixelwise/pipelines/explain/bow_explain.hpp"
#include "pixelwise/pipelines/explain/explanation_files.hpp"

namespace fs = std::filesystem;

namespace pixelwise {
namespace {

using M = ExplainMethod;

std::string kind_words(KindScope k) {
  switch (k) {
    case KindScope::bow: return "BoW models";
    case KindScope::network: return "network models";
    case KindScope::any: break;
  }
  return "every model";
}

const FlagScope* scope_of(const std::string& flag) {
  for (const FlagScope& s : explain_flag_scopes())
    if (s.flag == flag) return &s;
  return nullptr;
}

std::vector<std::string> references_of(const ExplainRequest& request) {
  std::vector<std::string> refs = request.images;
  if (!request.list.empty()) {
    const std::vector<std::string> listed = read_reference_list(request.list);
    refs.insert(refs.end(), listed.begin(), listed.end());
  }
  if (refs.empty()) throw std::runtime_error("no image to explain (give IMAGE arguments or --list FILE)");
  return refs;
}

std::string hex_checksum(const std::string& bytes) {
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", crc32_of(bytes));
  return hex;
}

// What produced an explanation, recorded in every NAME.json as "produced_by"
// and compared by --resume (docs/errors.md, "--resume"): the model (its path,
// for information, and the CRC-32 of its manifest or toolbox file, which
// decides), the method, the class asked for and every setting that can change
// the outputs, keyed by its flag. Not the batch options (--jobs, --shard,
// --threads), which never change them.
nlohmann::json provenance(const ExplainRequest& request) {
  const ExplainSettings& s = request.settings;
  const nlohmann::json none;
  const fs::path model(request.model);
  const std::string checked = fs::is_directory(model) ? (model / kManifestFile).string() : request.model;
  nlohmann::json settings = {
      {"rule", s.rule ? nlohmann::json(*s.rule) : none},
      {"ignore-bias", s.ignore_bias},
      {"bias-policy", s.bias_policy ? nlohmann::json(name_of(*s.bias_policy)) : none},
      {"pixel-rule", s.pixel_rule ? nlohmann::json(name_of(*s.pixel_rule)) : none},
      {"reference", s.reference.describe()},
      {"root-tolerance", s.taylor.tolerance},
      {"roots", s.taylor.roots},
      {"versus", s.versus},
      {"tiles", s.tiles ? nlohmann::json::array({s.tiles->size, s.tiles->offset}) : none},
      {"layers", s.layers},
      {"figure", s.figure},
      {"patch", s.occlusion.patch},
      {"stride", s.occlusion.stride},
      {"fill", s.occlusion.fill},
      {"seed", s.seed},
      {"input-range", request.input_range ? nlohmann::json::array({request.input_range->first, request.input_range->second})
                                          : none}};
  return {{"model", request.model},
          {"model_checksum", hex_checksum(read_file(checked))},
          {"method", name_of(request.method)},
          {"class", request.class_name.empty() ? "predicted" : request.class_name},
          {"settings", settings}};
}

// --resume skips an image only when its recorded "produced_by" equals this
// run's; otherwise the run stops naming the image and the first difference
// (docs/errors.md, "--resume": an error rather than a silent recomputation,
// so that one folder never mixes explanations made differently).
void check_resumable(const std::string& reference, const std::string& json_path, const nlohmann::json& now) {
  const nlohmann::json before = read_json_file(json_path).value("produced_by", nlohmann::json());
  auto refuse = [&](const std::string& difference) {
    throw std::runtime_error(reference + ": --resume: " + json_path + " " + difference +
                             "; explain into another folder, or remove its outputs to explain it again");
  };
  if (!before.is_object() || !before.contains("settings") || !before.at("settings").is_object())
    refuse("records no settings (written by an older version)");
  const std::pair<const char*, const char*> keys[] = {
      {"model_checksum", "another model (CRC-32 of its manifest or file)"}, {"method", "--method"}, {"class", "--class"}};
  for (const auto& [key, words] : keys) {
    const nlohmann::json was = before.value(key, nlohmann::json());
    if (was != now.at(key))
      refuse(std::string("was made with ") + words + " " + was.dump() + ", this run has " + now.at(key).dump());
  }
  for (const auto& [flag, value] : now.at("settings").items()) {
    const nlohmann::json was = before.at("settings").value(flag, nlohmann::json());
    if (was != value) refuse("was made with --" + flag + " " + was.dump() + ", this run has " + value.dump());
  }
}

// Every input of the shard is read and checked before anything is written,
// one at a time so that memory stays flat over long lists. Returns the
// positions to explain: the shard's, less those complete under --resume
// (made with the same settings, check_resumable).
std::vector<long> check_inputs(const ExplainableModel& model, const std::vector<std::string>& refs,
                               const ExplainRequest& request, const nlohmann::json& produced_by) {
  const Shard shard = request.shard.empty() ? Shard{} : Shard::parse(request.shard);  // checked in run_explain
  std::vector<long> todo;
  std::set<std::string> seen;
  long mine = 0;
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!shard.owns(static_cast<long>(i))) continue;
    ++mine;
    const std::string name = naming_input(refs[i], [&] { return model.read_input(refs[i]).name; });
    if (!seen.insert(name).second)
      throw std::runtime_error(refs[i] + ": another input has the same output name \"" + name + "\"");
    if (request.resume && explanation_complete(request.out, name))
      check_resumable(refs[i], (fs::path(request.out) / (name + ".json")).string(), produced_by);
    else
      todo.push_back(static_cast<long>(i));
  }
  if (static_cast<long>(todo.size()) < mine)
    std::cerr << "explain: " << mine - static_cast<long>(todo.size()) << " of " << mine
              << " images already have complete outputs in " << request.out << " (--resume): skipped\n";
  return todo;
}

}  // namespace

const std::vector<FlagScope>& explain_flag_scopes() {
  static const std::vector<FlagScope> table{
      {"--rule", {M::lrp}, KindScope::any},
      {"--ignore-bias", {M::lrp}, KindScope::any},
      {"--bias-policy", {M::lrp}, KindScope::bow},
      {"--pixel-rule", {M::lrp, M::taylor, M::sensitivity}, KindScope::bow},
      {"--reference", {M::taylor}, KindScope::bow},
      {"--root-tolerance", {M::taylor}, KindScope::bow},
      {"--roots", {M::taylor}, KindScope::bow},
      {"--versus", {M::lrp, M::taylor}, KindScope::bow},
      {"--tiles", {M::lrp, M::taylor}, KindScope::bow},
      {"--layers", {M::lrp, M::taylor}, KindScope::bow},
      {"--input-range", {}, KindScope::network},
      {"--figure", {M::lrp, M::taylor, M::sensitivity}, KindScope::network},
      {"--patch", {M::occlusion}, KindScope::any},
      {"--stride", {M::occlusion}, KindScope::any},
      {"--fill", {M::occlusion}, KindScope::any},
      {"--threads", {M::occlusion}, KindScope::any},
      {"--seed", {M::random}, KindScope::any},
  };
  return table;
}

std::string flag_scope_note(const std::string& flag) {
  const FlagScope* s = scope_of(flag);
  if (!s) return "";
  std::string note = " (" + kind_words(s->kinds);
  if (!s->methods.empty()) note += ", --method " + names_of(s->methods);
  return note + ")";
}

std::string scope_refusal(const FlagScope& scope, ExplainMethod method, const std::string& kind,
                          const std::string& method_word) {
  if ((scope.kinds == KindScope::bow && kind != "bow") || (scope.kinds == KindScope::network && kind != "network"))
    return "applies to " + kind_words(scope.kinds) + " only; this model is a " + kind + " model";
  if (!scope.methods.empty() && std::find(scope.methods.begin(), scope.methods.end(), method) == scope.methods.end())
    return "applies to " + method_word + names_of(scope.methods) + " only, not " + name_of(method);
  return "";
}

void check_flag_scopes(const std::set<std::string>& given, ExplainMethod method, const std::string& kind) {
  for (const std::string& flag : given) {
    const FlagScope* s = scope_of(flag);
    if (!s) continue;
    const std::string refusal = scope_refusal(*s, method, kind, "--method ");
    if (!refusal.empty()) throw std::invalid_argument(flag + " " + refusal);
  }
}

int run_explain(const ExplainRequest& request, std::ostream& out) {
  if (request.jobs < 0) throw UsageError("--jobs " + std::to_string(request.jobs) + ": must be 0 (all cores) or more");
  if (request.threads < 0) throw UsageError("--threads " + std::to_string(request.threads) + ": must be 0 or more");
  if (!request.shard.empty()) Shard::parse(request.shard);  // a usage error before the model is read
  ExplainSettings settings = request.settings;
  const std::vector<std::string> refs = references_of(request);
  // One writer per folder (docs/errors.md, "Concurrent writers"): taken now,
  // or when the folder is made if its parent does not exist yet.
  FolderLock lock(request.out);
  const auto model = load_explainable_model(request.model, request.input_range);
  try {
    check_flag_scopes(request.given, request.method, model->kind());
    model->check(request.method, settings);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }
  const int class_index = request.class_name.empty() ? -1 : model->class_index(request.class_name);
  const nlohmann::json produced_by = provenance(request);
  const std::vector<long> todo = check_inputs(*model, refs, request, produced_by);

  // Threads over images share the model read-only (tests/test_concurrency.cpp);
  // occlusion's batched evaluations get the cores the jobs leave. An image's
  // random seed mixes --seed with its position in the whole list, so that
  // shards explain as one run would.
  const long count = static_cast<long>(todo.size());
  const CoreShare share = share_cores(count, request.jobs, request.threads, model->concurrent());
  const long jobs = share.jobs;
  settings.occlusion.batching.threads = share.threads;
  settings.occlusion.batching.batch = request.batch;
  // The folder is made right before the first write, so that a run that fails
  // before any image is explained leaves no empty folder (docs/errors.md,
  // "What is checked up front").
  std::once_flag made;
  Progress progress(count, "explain");
  // A failure names its image (memory running out too, rethrow_naming); the
  // images finished before it keep their complete outputs (docs/errors.md,
  // "What is checked up front").
  for_each_parallel(count, static_cast<int>(jobs), [&](long t) {
    const long i = todo[t];
    naming_input(refs[i], [&] {
      const ImageSample sample = model->read_input(refs[i]);
      const Explanation e = explain_with(*model, model->input(sample), class_index, request.method, settings,
                                         image_seed(settings.seed, i), sample.source);
      std::call_once(made, [&] {
        fs::create_directories(request.out);
        lock.acquire();
      });
      nlohmann::json record = explanation_record(*model, e, refs[i]);
      record["produced_by"] = produced_by;
      write_explanation_files((fs::path(request.out) / sample.name).string(), e, record, sample.gray);
      progress.print(out, explanation_line(*model, e, sample.name));
    });
    progress.advance();
  });
  // The images were written without an fsync each (write_explanation_files):
  // one sync of the file system makes them all durable before success is
  // reported.
  if (fs::is_directory(request.out)) sync_filesystem_of(request.out);
  return 0;
}

namespace {

// Option values kept as text, by flag, until the flags given are known
// (read_given_options).
using OptionTexts = std::map<std::string, std::string>;

// The options of every method and model kind.
void add_general_options(CLI::App& cmd, ExplainRequest& r, OptionTexts& strings) {
  cmd.add_option("--model", r.model, "model directory (BoW or network) or LRP Toolbox text file")->required();
  cmd.add_option("--out", r.out, "output folder")->required();
  cmd.add_option("--class", r.class_name, "class to explain, name or index (default: the predicted one)");
  cmd.add_option("--method", strings["--method"], "lrp (default), taylor, sensitivity, occlusion or random")
      ->check(CLI::IsMember(enum_names(ExplainMethod{}).names()));
  cmd.add_option("images", r.images, "image files or fashion-mnist:SPLIT@INDEX (networks: also digits:SPLIT@INDEX)");
  cmd.add_option("--list", r.list, "a file of image references, one a line (# comments)");
  cmd.add_option("--shard", r.shard, "explain only shard K of N of the images (K/N, 1 <= K <= N)");
  cmd.add_option("--jobs", r.jobs, "images explained at once, on threads sharing the model (default 0: every core this process may run on)");
  cmd.add_flag("--resume", r.resume, "skip images whose .npy, .png and .json are complete");
}

// The options of some methods or model kinds (explain_flag_scopes): the scope
// is appended to each help text.
void add_scoped_options(CLI::App& cmd, ExplainRequest& r, OptionTexts& strings) {
  auto scoped = [&](const std::string& flag, const std::string& help) { return help + flag_scope_note(flag); };
  cmd.add_option("--rule", strings["--rule"],
                 scoped("--rule", "LRP composite preset, rule, or SELECTOR=RULE;... (networks: default "
                                  "zb-epsilon-plus; BoW models with a network classifier: " +
                                      std::string(kBowNetworkDefaultRule) +
                                      "; every BoW model: pooling=RULE and pixels=flat for the layers below the "
                                      "classifier)"));
  cmd.add_flag("--ignore-bias", r.settings.ignore_bias, scoped("--ignore-bias", "biases absorb no relevance"));
  cmd.add_option("--bias-policy", strings["--bias-policy"],
                 scoped("--bias-policy", "where an SVM's bias goes: none, uniform, nonzero (default)"))
      ->check(CLI::IsMember(enum_names(BiasPolicy{}).names()));
  cmd.add_option("--pixel-rule", strings["--pixel-rule"],
                 scoped("--pixel-rule", "how a descriptor's relevance spreads over pixels: uniform, gaussian or "
                                        "gradient (dense SIFT: to the pixels whose gradients built it; default: "
                                        "each channel's configured weighting)"))
      ->check(CLI::IsMember(enum_names(WeightingType{}).names()));
  cmd.add_option("--reference", strings["--reference"],
                 scoped("--reference", "root search towards the nearest support vector of the other sign "
                                       "(nearest, default), the other side's mean training histogram (mean), or "
                                       "a histogram in FILE.npy"));
  cmd.add_option("--root-tolerance", r.settings.taylor.tolerance,
                 scoped("--root-tolerance", "the root x0 has |f(x0)| <= this (default 1e-9)"));
  cmd.add_option("--roots", r.settings.taylor.roots,
                 scoped("--roots", "search roots towards the K nearest references of the other sign and keep "
                                   "the root nearest to the input (default 1)"));
  cmd.add_option("--versus", r.settings.versus,
                 scoped("--versus", "one-vs-one models: explain the pairwise decision of --class against this "
                                    "class (default: the sum of --class's pairwise decisions)"));
  cmd.add_option("--tiles", strings["--tiles"],
                 scoped("--tiles", "explain tiles of SIZE x SIZE pixels every OFFSET pixels and average (e.g. 102,34)"));
  cmd.add_flag("--layers", r.settings.layers, scoped("--layers", "also write descriptor and bin relevance to the JSON"));
  cmd.add_option("--input-range", strings["--input-range"],
                 scoped("--input-range", "toolbox text files: LOW,HIGH that grey 0..1 maps to (default -1,1)"));
  cmd.add_flag("--figure", r.settings.figure, scoped("--figure", "also write NAME-figure.png (input | heatmap)"));
  cmd.add_option("--patch", r.settings.occlusion.patch,
                 scoped("--patch", "patch side in pixels (default 0: a quarter of the shorter image side)"));
  cmd.add_option("--stride", r.settings.occlusion.stride,
                 scoped("--stride", "step between patches in pixels (default 0: half the patch)"));
  cmd.add_option("--fill", r.settings.occlusion.fill, scoped("--fill", "grey level of the patch (default 0)"));
  cmd.add_option("--threads", r.threads,
                 scoped("--threads", "threads for the model evaluations of one image (default 0: the cores "
                                     "--jobs leaves)"));
  cmd.add_option("--seed", r.settings.seed, scoped("--seed", "seed (default 1; image i uses a mix of seed and i)"));
}

// The flags given, and the option values kept as text parsed and checked.
void read_given_options(const CLI::App& cmd, ExplainRequest& r, const OptionTexts& strings) {
  for (const CLI::Option* option : cmd.get_options())
    if (option->count() && option->get_name().rfind("--", 0) == 0) r.given.insert(option->get_name());
  auto given = [&](const std::string& flag) { return r.given.count(flag) > 0; };
  try {
    if (given("--method")) r.method = parse_enum<ExplainMethod>(strings.at("--method"), "method");
    if (given("--rule")) r.settings.rule = strings.at("--rule");
    if (given("--bias-policy"))
      r.settings.bias_policy = parse_enum<BiasPolicy>(strings.at("--bias-policy"), "bias policy");
    if (given("--pixel-rule"))
      r.settings.pixel_rule = parse_enum<WeightingType>(strings.at("--pixel-rule"), "pixel rule");
    if (given("--reference")) r.settings.reference = TaylorReference::parse(strings.at("--reference"));
    if (given("--tiles")) r.settings.tiles = TileOptions::parse(strings.at("--tiles"));
    r.settings.taylor.validate();
    check_occlusion_sizes(r.settings.occlusion, "--");
    // An empty --class would otherwise read as "not given", the predicted class.
    if (given("--class") && r.class_name.empty())
      throw std::invalid_argument("--class \"\": empty; give a class name or index, or leave --class out "
                                  "to explain the predicted class");
    if (!r.shard.empty()) Shard::parse(r.shard);
    if (given("--input-range")) r.input_range = parse_range(strings.at("--input-range"), "--input-range");
  } catch (const std::exception& e) {
    // Option values wrong whatever the model: exit status 2 (docs/errors.md, "Exit status").
    throw UsageError(e.what());
  }
}

}  // namespace

Command add_explain_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("explain", "explain decisions pixel by pixel: LRP, Taylor, and the baselines "
                                            "sensitivity, occlusion, random, for every model");
  auto request = std::make_shared<ExplainRequest>();
  auto strings = std::make_shared<OptionTexts>();
  add_general_options(*cmd, *request, *strings);
  add_scoped_options(*cmd, *request, *strings);
  return {cmd, [cmd, request, strings] {
            read_given_options(*cmd, *request, *strings);
            return run_explain(*request, std::cout);
          }};
}

}  // namespace pixelwise
