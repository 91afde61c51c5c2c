// Hardened input handling (docs/errors.md): every outside input is refused
// with a message naming it and the problem, with the documented exit status,
// and a refusal leaves no output file and no empty output folder behind.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

#include "pixelwise/common/batch.hpp"
#include "pixelwise/common/errors.hpp"
#include "pixelwise/common/files.hpp"
#include "pixelwise/common/folder_lock.hpp"
#include "pixelwise/common/json_input.hpp"
#include "pixelwise/common/manifest_file.hpp"
#include "pixelwise/features/codebook.hpp"
#include "pixelwise/features/descriptors.hpp"
#include "pixelwise/features/image.hpp"
#include "pixelwise/pipelines/explain/explanation.hpp"
#include "pixelwise/pipelines/model/bow_model.hpp"
#include "pixelwise/pipelines/model/network_model.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace pixelwise;

namespace {

fs::path fixture_model(const std::string& name) { return test::format1_fixtures() / "models" / name; }

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// A network model directory for 28 x 28 grey images: 784 inputs, 2 classes.
void save_network_model(const fs::path& dir) {
  std::string text = "Linear 784 2\n";
  for (int i = 0; i < 784 * 2; ++i) text += (i ? " " : "") + std::string(i % 3 ? "0.01" : "-0.02");
  text += "\n0.1 -0.1\n";
  NetworkModel model;
  model.network = Network::parse_toolbox(text, "test network");
  model.classes = {"cat", "dog"};
  model.input.shape = {28, 28, 1};
  model.input.low = 0;
  model.input.high = 1;
  model.save(dir.string());
}

// Replaces the first `from` in a file by `to` (which must be there).
void edit_file(const fs::path& path, const std::string& from, const std::string& to) {
  std::string text = read_file(path.string());
  const size_t at = text.find(from);
  BOOST_REQUIRE_MESSAGE(at != std::string::npos, path << " lacks " << from);
  write_text(path, text.replace(at, from.size(), to));
}

// A 28 x 28 grey gradient encoded as `extension` (".png", ".jpg").
std::string encoded_image(const std::string& extension) {
  cv::Mat image(28, 28, CV_8UC1);
  for (int r = 0; r < 28; ++r)
    for (int c = 0; c < 28; ++c) image.at<unsigned char>(r, c) = static_cast<unsigned char>(9 * r + c);
  std::vector<unsigned char> bytes;
  BOOST_REQUIRE(cv::imencode(extension, image, bytes));
  return std::string(bytes.begin(), bytes.end());
}

std::string nested_array(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// A CLI run that must fail with `status`, name `names` in its message and leave `out` absent.
void expect_refused(const std::string& arguments, int status, const std::string& names, const fs::path& out) {
  const auto r = test::run_cli(arguments);
  BOOST_TEST(r.exit_code == status, arguments << ": " << r.output);
  BOOST_TEST(r.output.find(names) != std::string::npos, arguments << ": " << r.output);
  BOOST_TEST(!fs::exists(out), arguments << ": left " << out);
}

}  // namespace

// docs/errors.md, "Limits": JSON nesting.
BOOST_AUTO_TEST_CASE(deep_json_is_refused_by_name_without_a_crash) {
  const std::string message = test::error_of([] { parse_json_input(nested_array(100000), "deep.json"); });
  BOOST_TEST(message.find("deep.json") != std::string::npos, message);
  BOOST_TEST(message.find("deeper than 64") != std::string::npos, message);
  BOOST_TEST(parse_json_input(nested_array(kJsonMaxDepth), "ok.json").is_array());
  BOOST_TEST(test::error_of([] { parse_json_input(nested_array(kJsonMaxDepth + 1), "x"); }).find("deeper") !=
             std::string::npos);
  // Brackets inside strings are text, not nesting.
  BOOST_TEST(parse_json_input("{\"a\": \"" + std::string(1000, '[') + "\\\"[\"}", "s.json").is_object());
  BOOST_TEST(test::error_of([] { parse_json_input("{\"a\": ", "bad.json"); }).find("bad.json: not valid JSON") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_json_reader_refuses_deep_nesting) {
  test::ScratchDir dir("deep-json");
  const std::string deep = nested_array(100000);
  // A configuration file.
  write_text(dir.path() / "config.json", "{\"descriptor\": " + deep + "}");
  BOOST_TEST(test::error_of([&] { PipelineConfig::load(dir / "config.json"); }).find("config.json: JSON nested") !=
             std::string::npos);
  expect_refused("train --config " + (dir / "config.json") + " --data fashion-mnist:train:20 --out " +
                     (dir / "trained"),
                 1, "config.json: JSON nested deeper than 64", dir.path() / "trained");
  // Manifests of BoW and network model directories.
  save_network_model(dir.path() / "network");
  fs::copy(fixture_model("grey-hik"), dir.path() / "bow", fs::copy_options::recursive);
  for (const std::string kind : {"bow", "network"}) {
    const fs::path model = dir.path() / kind;
    write_text(model / "manifest.json", "{\"format\": " + deep + "}");
    fs::remove(model / kManifestChecksumFile);  // else the manifest's checksum refuses it first
    const std::string message = test::error_of([&] {
      if (kind == "bow")
        BowModel::load(model.string());
      else
        NetworkModel::load(model.string());
    });
    BOOST_TEST(message.find("manifest.json: JSON nested") != std::string::npos, message);
    expect_refused("explain --model " + model.string() + " --out " + (dir / "out") + " fashion-mnist:test@0", 1,
                   "manifest.json: JSON nested", dir.path() / "out");
  }
  // An evaluation.json to merge.
  write_text(dir.path() / "evaluation.json", deep);
  expect_refused("merge-evaluations --out " + (dir / "merged") + " " + (dir / "evaluation.json"), 1,
                 "evaluation.json: JSON nested", dir.path() / "merged");
}

// docs/errors.md, "Model directories": the manifest's own checksum.
BOOST_AUTO_TEST_CASE(an_edited_manifest_is_refused_naming_the_file) {
  test::ScratchDir dir("manifest-crc");
  const fs::path bow = dir.path() / "bow", network = dir.path() / "network";
  BowModel::load(fixture_model("grey-hik").string()).save(bow.string());  // a format-1 directory, saved again
  save_network_model(network);
  for (const fs::path& model : {bow, network}) {
    BOOST_TEST(fs::is_regular_file(model / kManifestChecksumFile), model);
    BOOST_TEST(read_file((model / kManifestChecksumFile).string()).size() == 9u);
  }
  BOOST_TEST(BowModel::load(bow.string()).classes.size() == 10u);
  BOOST_TEST(NetworkModel::load(network.string()).classes.size() == 2u);

  edit_file(bow / "manifest.json", "\"t-shirt\"", "\"tshirt\"");
  edit_file(network / "manifest.json", "\"dog\"", "\"fox\"");
  for (const fs::path& model : {bow, network}) {
    const std::string message = test::error_of([&] {
      if (model == bow)
        BowModel::load(model.string());
      else
        NetworkModel::load(model.string());
    });
    BOOST_TEST(message.find((model / "manifest.json").string() + ": edited or damaged") != std::string::npos, message);
    expect_refused("explain --model " + model.string() + " --out " + (dir / "out") + " fashion-mnist:test@0", 1,
                   "manifest.json: edited or damaged", dir.path() / "out");
  }
  // A damaged checksum file is named too.
  write_text(network / kManifestChecksumFile, "zz\n");
  BOOST_TEST(test::error_of([&] { NetworkModel::load(network.string()); }).find("manifest.crc32: damaged") !=
             std::string::npos);
  // Without the checksum file (directories written before it existed) the edited manifest loads.
  fs::remove(bow / kManifestChecksumFile);
  BOOST_TEST(BowModel::load(bow.string()).classes.at(0) == "tshirt");
}

// docs/errors.md, "Inputs": a blank line or garbage among the layers of a toolbox text file.
BOOST_AUTO_TEST_CASE(a_toolbox_file_with_a_blank_line_among_its_layers_is_refused) {
  test::ScratchDir dir("toolbox-blank");
  std::string layer = "Linear 784 2\n";
  for (int i = 0; i < 784 * 2; ++i) layer += (i ? " " : "") + std::string("0.01");
  layer += "\n0 0\n";
  write_text(dir.path() / "ok.txt", layer + "SoftMax \n\n  \n");
  write_text(dir.path() / "blank.txt", layer + "\nSoftMax\n");
  write_text(dir.path() / "garbage.txt", layer + "SoftMax\n\n# a note\n");
  BOOST_TEST(NetworkModel::load((dir / "ok.txt")).network.size() == 2);
  expect_refused("explain --model " + (dir / "blank.txt") + " --out " + (dir / "out") + " fashion-mnist:test@0", 1,
                 "blank.txt: line 4: blank line among the layers", dir.path() / "out");
  expect_refused("explain --model " + (dir / "garbage.txt") + " --out " + (dir / "out") + " fashion-mnist:test@0", 1,
                 "garbage.txt: line 5: blank line among the layers", dir.path() / "out");
}

// docs/errors.md, "Inputs": OpenCV decodes truncated PNG and JPEG files with a warning only.
BOOST_AUTO_TEST_CASE(truncated_images_are_refused_naming_the_file) {
  test::ScratchDir dir("truncated");
  for (const std::string extension : {".png", ".jpg"}) {
    const std::string bytes = encoded_image(extension);
    BOOST_TEST(decode_image_bytes(bytes, "whole" + extension).rows == 28);
    write_text(dir.path() / ("whole" + extension), bytes);
    for (const size_t cut : {bytes.size() / 2, bytes.size() - 2, bytes.size() - 1}) {
      const std::string name = "cut-" + std::to_string(cut) + extension;
      const std::string message = test::error_of([&] { decode_image_bytes(bytes.substr(0, cut), name); });
      BOOST_TEST(message.find(name + ": truncated or corrupt") == 0, message);
    }
    write_text(dir.path() / ("half" + extension), bytes.substr(0, bytes.size() / 2));
    // The whole batch is checked first: the good image before it is not written either.
    expect_refused("explain --model " + fixture_model("grey-hik").string() + " --out " + (dir / "out") + " " +
                       (dir / ("whole" + extension)) + " " + (dir / ("half" + extension)),
                   1, "half" + extension + ": truncated or corrupt", dir.path() / "out");
  }
  // Bytes that are no image at all.
  BOOST_TEST(test::error_of([] { decode_image_bytes("not an image", "x.png"); }).find("x.png: not a readable image") == 0);
  BOOST_TEST(test::error_of([] { decode_image_bytes("", "e.png"); }).find("e.png: not a readable image") == 0);
}

// docs/errors.md, "Exit status": 2 for usage errors, 1 for every other failure.
BOOST_AUTO_TEST_CASE(usage_errors_exit_with_status_2) {
  test::ScratchDir dir("usage");
  const std::string explain = "explain --model " + fixture_model("grey-hik").string() + " --out " + (dir / "out") + " ";
  struct Case {
    std::string arguments, names;
  };
  for (const Case& c : std::vector<Case>{
           {explain + "--shard 3/2 fashion-mnist:test@0", "shard \"3/2\""},
           {explain + "--tiles 0,0 fashion-mnist:test@0", "tiles"},
           {explain + "--jobs -1 fashion-mnist:test@0", "--jobs -1"},
           {explain + "--bogus fashion-mnist:test@0", "--bogus"},
           {explain + "--method nope fashion-mnist:test@0", "--method"},
           {explain + "--input-range 1 fashion-mnist:test@0", "--input-range"},
           {"explain --model " + fixture_model("grey-hik").string() + " fashion-mnist:test@0", "--out"},
           {"evaluate --model " + fixture_model("grey-hik").string() + " --data fashion-mnist:test:2 --shard 0/2 --out " +
                (dir / "out"),
            "shard \"0/2\""},
           {"train-network --data digits:train:50 --hidden 0 --out " + (dir / "out"), "not a positive layer size"},
           {"frobnicate", "A subcommand is required"}})
    expect_refused(c.arguments, 2, c.names, dir.path() / "out");
  // Other failures keep status 1; --help and --version succeed.
  expect_refused(explain + (dir / "missing.png"), 1, "missing.png", dir.path() / "out");
  BOOST_TEST(test::run_cli("explain --help").exit_code == 0);
  BOOST_TEST(test::run_cli("--version").exit_code == 0);
}

// docs/errors.md, "What is checked up front": every image, its size too, before the folder is made.
BOOST_AUTO_TEST_CASE(an_image_too_small_for_the_model_fails_before_any_output) {
  test::ScratchDir dir("too-small");
  std::vector<unsigned char> bytes;
  BOOST_REQUIRE(cv::imencode(".png", cv::Mat(1, 1, CV_8UC1, cv::Scalar(7)), bytes));
  write_text(dir.path() / "dot.png", std::string(bytes.begin(), bytes.end()));
  write_text(dir.path() / "whole.png", encoded_image(".png"));
  expect_refused("explain --model " + fixture_model("grey-hik").string() + " --out " + (dir / "out") + " " +
                     (dir / "whole.png") + " " + (dir / "dot.png"),
                 1, "dot.png: image of 1 x 1 pixels is smaller than one descriptor support", dir.path() / "out");
  // A good batch still makes its folder.
  const auto ok = test::run_cli("explain --model " + fixture_model("grey-hik").string() + " --out " + (dir / "out") +
                                " " + (dir / "whole.png"));
  BOOST_TEST(ok.exit_code == 0, ok.output);
  BOOST_TEST(fs::is_regular_file(dir.path() / "out" / "whole.json"));
}

// docs/errors.md, "--resume": an image is skipped only when it was made with the same settings.
BOOST_AUTO_TEST_CASE(resume_refuses_outputs_made_with_other_settings) {
  test::ScratchDir dir("resume-settings");
  const std::string explain = "explain --model " + fixture_model("grey-hik").string() + " --out " + (dir / "out") + " ";
  const auto first = test::run_cli(explain + "fashion-mnist:test@0");
  BOOST_REQUIRE_MESSAGE(first.exit_code == 0, first.output);
  const std::string json = (dir.path() / "out" / "fashion-mnist-test-0.json").string();
  const nlohmann::json made = test::read_json(json)["produced_by"];
  BOOST_TEST(made["method"] == "lrp");
  BOOST_TEST(made["class"] == "predicted");
  BOOST_TEST(made["model_checksum"].get<std::string>().size() == 8u);
  const std::string before = read_file(json);

  const auto same = test::run_cli(explain + "--resume fashion-mnist:test@0");
  BOOST_TEST(same.exit_code == 0, same.output);
  BOOST_TEST(same.output.find("1 of 1 images already have complete outputs") != std::string::npos, same.output);
  struct Case {
    std::string arguments, difference;
  };
  for (const Case& c : std::vector<Case>{{"--method occlusion", "was made with --method \"lrp\", this run has \"occlusion\""},
                                         {"--class 3", "was made with --class \"predicted\", this run has \"3\""},
                                         {"--bias-policy none", "was made with --bias-policy null, this run has \"none\""}}) {
    const auto r = test::run_cli(explain + "--resume " + c.arguments + " fashion-mnist:test@0");
    BOOST_TEST(r.exit_code == 1, c.arguments << ": " << r.output);
    BOOST_TEST(r.output.find("fashion-mnist:test@0: --resume: " + json) != std::string::npos, r.output);
    BOOST_TEST(r.output.find(c.difference) != std::string::npos, r.output);
  }
  // Another model under the same path.
  fs::copy(fixture_model("grey-hik"), dir.path() / "model", fs::copy_options::recursive);
  const auto other = test::run_cli("explain --model " + (dir / "model") + " --out " + (dir / "out") +
                                   " --resume fashion-mnist:test@0");
  BOOST_TEST(other.exit_code == 0, other.output);  // the same model content elsewhere resumes
  edit_file(dir.path() / "model" / "manifest.json", "\"t-shirt\"", "\"tshirt\"");
  const auto edited = test::run_cli("explain --model " + (dir / "model") + " --out " + (dir / "out") +
                                    " --resume fashion-mnist:test@0");
  BOOST_TEST(edited.exit_code == 1, edited.output);
  BOOST_TEST(edited.output.find("was made with another model") != std::string::npos, edited.output);
  BOOST_TEST(read_file(json) == before);
}

// docs/errors.md, "Concurrent writers": one writer per output folder and model directory.
BOOST_AUTO_TEST_CASE(a_second_writer_is_refused) {
  test::ScratchDir dir("lock");
  {
    FolderLock held((dir / "out"));  // as another process would hold it (flock locks are per open file)
    BOOST_TEST(held.held());
    BOOST_TEST(fs::exists(FolderLock::lock_path(dir / "out")));
    expect_refused("explain --model " + fixture_model("grey-hik").string() + " --out " + (dir / "out") +
                       " fashion-mnist:test@0",
                   1, (dir / "out") + ": another pixelwise process is writing this folder", dir.path() / "out");
    FolderLock model((dir / "model"));
    const std::string message =
        test::error_of([&] { BowModel::load(fixture_model("grey-hik").string()).save(dir / "model"); });
    BOOST_TEST(message.find((dir / "model") + ": another pixelwise process is writing this folder") == 0, message);
    BOOST_TEST(!fs::exists(dir.path() / "model"));
  }
  // Released and removed: the next writer goes ahead and leaves no lock file.
  BOOST_TEST(!fs::exists(FolderLock::lock_path(dir / "out")));
  const auto r = test::run_cli("explain --model " + fixture_model("grey-hik").string() + " --out " + (dir / "out") +
                               " fashion-mnist:test@0");
  BOOST_TEST(r.exit_code == 0, r.output);
  BOOST_TEST(!fs::exists(FolderLock::lock_path(dir / "out")));
  // A folder whose parent does not exist yet is locked when it is made.
  FolderLock later((dir / "a/b"));
  BOOST_TEST(!later.held());
  fs::create_directories(dir.path() / "a/b");
  later.acquire();
  BOOST_TEST(later.held());
}

// docs/errors.md, "Atomic outputs": each file is fsynced before its rename
// and its folder after it; explanations instead record every file's size and
// CRC-32 and the command syncs the file system once at the end.
BOOST_AUTO_TEST_CASE(outputs_are_synced_to_disk) {
  test::ScratchDir dir("fsync");
  write_file_atomically(dir / "a.txt", "bytes");
  BOOST_TEST(read_file(dir / "a.txt") == "bytes");
  BOOST_TEST(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);  // no temporary left
  BOOST_TEST(test::error_of([&] { write_file_atomically(dir / "missing/a.txt", "x"); }).find("missing/a.txt") !=
             std::string::npos);
  // strace (scripts/setup.sh installs it) counts the calls of a real command.
  // LeakSanitizer cannot run under ptrace; leaks are checked by every other test of the sanitizer build.
  auto count_calls = [&](const std::string& name, const std::string& arguments) {
    const std::string trace = dir / (name + ".trace");
    const auto r = test::run_command("ASAN_OPTIONS=\"${ASAN_OPTIONS:-}:detect_leaks=0\" strace -f -e trace=fsync,syncfs -o " +
                                     trace + " \"" + test::cli_binary() + "\" " + arguments + " 2>&1");
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    std::ifstream in(trace);
    BOOST_REQUIRE_MESSAGE(in, "strace wrote no trace: is it installed?");
    std::pair<int, int> calls{0, 0};  // fsync, syncfs
    for (std::string line; std::getline(in, line);) {
      calls.first += line.find(" fsync(") != std::string::npos || line.rfind("fsync(", 0) == 0;
      calls.second += line.find("syncfs(") != std::string::npos;
    }
    return calls;
  };
  // evaluate writes evaluation.json and its report, each file synced with its folder.
  const auto evaluate = count_calls("evaluate", "evaluate --model " + fixture_model("grey-hik").string() +
                                                    " --data fashion-mnist:test:1 --methods random --out " + (dir / "evaluation"));
  BOOST_TEST(evaluate.first >= 4, evaluate.first << " fsync calls for evaluation.json, a report file and their folders");
  // explain: no fsync per file, one syncfs at the end, and a record that lets
  // --resume check every file.
  const auto explain = count_calls("explain", "explain --model " + fixture_model("grey-hik").string() + " --out " +
                                                  (dir / "out") + " fashion-mnist:test@0 fashion-mnist:test@1");
  BOOST_TEST(explain.first == 0);
  BOOST_TEST(explain.second == 1);
  for (const char* name : {"fashion-mnist-test-0", "fashion-mnist-test-1"}) {
    const nlohmann::json record = nlohmann::json::parse(read_file(dir / ("out/" + std::string(name) + ".json")));
    BOOST_TEST(record.at("files").size() == 2u);
    for (const char* suffix : {".npy", ".png"}) {
      const std::string bytes = read_file(dir / ("out/" + std::string(name) + suffix));
      BOOST_TEST(record.at("files").at(suffix).at("bytes").get<std::size_t>() == bytes.size());
      BOOST_TEST(record.at("files").at(suffix).at("crc32").get<std::string>() == crc32_hex(crc32_of(bytes)));
    }
    BOOST_TEST(explanation_complete(dir / "out", name));
  }
}

// docs/errors.md, "Limits": images above PIXELWISE_MAX_IMAGE_PIXELS (default 4096 x 4096).
BOOST_AUTO_TEST_CASE(images_above_the_pixel_limit_are_refused) {
  test::ScratchDir dir("large");
  BOOST_TEST(max_image_pixels() == 4096L * 4096L);
  std::vector<unsigned char> bytes;
  BOOST_REQUIRE(cv::imencode(".png", cv::Mat::zeros(4100, 4100, CV_8UC1), bytes));
  write_text(dir.path() / "large.png", std::string(bytes.begin(), bytes.end()));
  const std::string message = test::error_of([&] { read_image_file(dir / "large.png"); });
  BOOST_TEST(message.find((dir / "large.png") +
                          ": image of 4100 x 4100 = 16810000 pixels is above the limit of 16777216 pixels") == 0,
             message);
  write_text(dir.path() / "small.jpg", encoded_image(".jpg"));
  expect_refused("explain --model " + fixture_model("grey-hik").string() + " --out " + (dir / "out") + " " +
                     (dir / "large.png"),
                 1, "large.png: image of 4100 x 4100", dir.path() / "out");
  // The limit is configurable; the same refusal for JPEG (read from its frame header) and arrays.
  const auto env = test::run_command("PIXELWISE_MAX_IMAGE_PIXELS=700 \"" + test::cli_binary() + "\" explain --model " +
                                     fixture_model("grey-hik").string() + " --out " + (dir / "out") + " " +
                                     (dir / "small.jpg") + " 2>&1");
  BOOST_TEST(env.exit_code == 1, env.output);
  BOOST_TEST(env.output.find("small.jpg: image of 28 x 28 = 784 pixels is above the limit of 700 pixels") !=
                 std::string::npos,
             env.output);
  BOOST_TEST(!fs::exists(dir.path() / "out"));
  ::setenv("PIXELWISE_MAX_IMAGE_PIXELS", "700", 1);
  const std::string array = test::error_of([] { to_gray_float(cv::Mat::zeros(28, 28, CV_8UC1), "array"); });
  ::setenv("PIXELWISE_MAX_IMAGE_PIXELS", "lots", 1);
  const std::string bad = test::error_of([] { max_image_pixels(); });
  ::setenv("PIXELWISE_MAX_IMAGE_PIXELS", "0", 1);
  const long unlimited = max_image_pixels();
  ::unsetenv("PIXELWISE_MAX_IMAGE_PIXELS");
  BOOST_TEST(array.find("array: image of 28 x 28 = 784 pixels is above the limit of 700") == 0, array);
  BOOST_TEST(bad.find("PIXELWISE_MAX_IMAGE_PIXELS=\"lots\"") == 0, bad);
  BOOST_TEST(unlimited == 0);
}

// Config integers are read strictly (common/option_schema.hpp), end to end through `train --config`.
BOOST_AUTO_TEST_CASE(config_integers_out_of_range_or_fractional_are_refused) {
  test::ScratchDir dir("config-integers");
  struct Case {
    std::string json, message;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"descriptor": {"step": 4294967300}})", "step must be a positive integer, got 4294967300"},
           {R"({"codebook": {"words": 4294967312}})", "words must be a positive integer, got 4294967312"},
           {R"({"descriptor": {"step": 2.5}})", "step must be a positive integer, got 2.5"},
           {R"({"pooling": {"pyramid": [[1, 1, 1]]}})", "pyramid entries must be pairs [a, b], got [1,1,1]"}}) {
    write_text(dir.path() / "config.json", c.json);
    expect_refused("train --config " + (dir / "config.json") + " --data fashion-mnist:train:20 --out " + (dir / "out"),
                   1, "config.json", dir.path() / "out");
    const std::string message = test::error_of([&] { PipelineConfig::load(dir / "config.json"); });
    BOOST_TEST(message.find(c.message) != std::string::npos, c.json << ": " << message);
  }
}

// docs/errors.md, "What is checked up front": a file given as a model directory.
BOOST_AUTO_TEST_CASE(a_file_given_as_a_model_directory_is_named_as_such) {
  test::ScratchDir dir("model-file");
  write_text(dir.path() / "model.bin", "not a model");
  for (const std::string kind : {"bow", "network"}) {
    const std::string message = test::error_of([&] {
      if (kind == "bow")
        BowModel::load(dir / "model.bin");
      else
        NetworkModel::load(dir / "model.bin");
    });
    BOOST_TEST(message.find((dir / "model.bin") + ": is a file, not a model directory") == 0, message);
  }
  expect_refused("explain --model " + (dir / "model.bin") + " --out " + (dir / "out") + " fashion-mnist:test@0", 1,
                 "model.bin: is a file, not a model directory", dir.path() / "out");
  expect_refused("explain --model " + (dir / "missing") + " --out " + (dir / "out") + " fashion-mnist:test@0", 1,
                 "missing: model directory does not exist", dir.path() / "out");
}

// docs/errors.md, "Inputs": a soft or rank code's knn against its codebook's words, with the configuration.
BOOST_AUTO_TEST_CASE(knn_above_the_codebook_words_is_refused_with_the_config_file) {
  test::ScratchDir dir("knn");
  write_text(dir.path() / "config.json",
             R"({"codebook": {"words": 16, "training_descriptors": 100}, "coding": {"type": "soft", "knn": 50, "sigma": 0.3}})");
  const std::string message = test::error_of([&] { PipelineConfig::load(dir / "config.json"); });
  BOOST_TEST(message.find((dir / "config.json") + ": config channel \"dsift-grey\": coding knn = 50 exceeds the 16 words") ==
                 0,
             message);
  // Refused before the data set is read (a missing folder here), so before any training.
  expect_refused("train --config " + (dir / "config.json") + " --data " + (dir / "no-data") + " --out " + (dir / "out"),
                 1, "config.json: config channel \"dsift-grey\": coding knn = 50 exceeds the 16 words",
                 dir.path() / "out");
}

// docs/errors.md, "Inputs": toolbox text files, a SoftMax before the last layer and layers too large for the file.
BOOST_AUTO_TEST_CASE(toolbox_softmax_and_huge_layers_are_refused_naming_the_file_and_line) {
  test::ScratchDir dir("toolbox-layers");
  std::string layer = "Linear 784 2\n";
  for (int i = 0; i < 784 * 2; ++i) layer += (i ? " " : "") + std::string("0.01");
  layer += "\n0 0\n";
  write_text(dir.path() / "softmax.txt", layer + "SoftMax\nRect\n");
  const std::string linear = "Linear 100000000 100000000\n0 0\n0 0\n";
  write_text(dir.path() / "linear.txt", linear);
  write_text(dir.path() / "conv.txt", layer + "Convolution 100000 100000 100000 100000 1 1\n0\n0\n");
  struct Case {
    std::string file, message;
  };
  for (const Case& c : std::vector<Case>{
           {"softmax.txt", "softmax.txt: line 4: SoftMax is only allowed as the last layer"},
           {"linear.txt", "linear.txt: line 1: declares 10000000000000000 weights (m*n), more numbers than the file "
                          "(" + std::to_string(linear.size()) + " bytes) can hold"},
           {"conv.txt", "conv.txt: line 4: declares 100000000000000000000 weights (h*w*d*n)"}}) {
    const std::string message = test::error_of([&] { NetworkModel::load(dir / c.file); });
    BOOST_TEST(message.find((dir.path() / c.message).string()) == 0, message);
    expect_refused("explain --model " + (dir / c.file) + " --out " + (dir / "out") + " fashion-mnist:test@0", 1,
                   c.message, dir.path() / "out");
  }
  // A trailing SoftMax is fine.
  write_text(dir.path() / "last.txt", layer + "SoftMax\n");
  BOOST_TEST(NetworkModel::load(dir / "last.txt").network.size() == 2);
}

// docs/errors.md, "What is checked up front": data specs and image references of another model kind.
BOOST_AUTO_TEST_CASE(data_specs_a_model_cannot_read_are_refused_by_name) {
  test::ScratchDir dir("spec-kinds");
  const std::string bow = fixture_model("grey-hik").string();
  write_text(dir.path() / "config.json", R"({"codebook": {"words": 8, "training_descriptors": 100}})");
  expect_refused("train --config " + (dir / "config.json") + " --data digits:train:50 --out " + (dir / "out"), 1,
                 "digits:train:50: digits: data sets are read by network models only", dir.path() / "out");
  expect_refused("explain --model " + bow + " --out " + (dir / "out") + " fashion-mnist:test@0 digits:test@0", 1,
                 "digits:test@0: digits: image references are read by network models only", dir.path() / "out");
  expect_refused("evaluate --model " + bow + " --data digits:test:5 --out " + (dir / "out"), 1,
                 "digits:test:5: digits: data sets are read by network models only", dir.path() / "out");
  expect_refused("train --config " + (dir / "config.json") + " --data scenes:x:train --out " + (dir / "out"), 1,
                 "scenes:x:train: scenes: data sets are read by evaluate only", dir.path() / "out");
}

// docs/errors.md, "Exit status": option values out of range whatever the model are usage errors.
BOOST_AUTO_TEST_CASE(negative_occlusion_sizes_and_an_empty_class_are_usage_errors) {
  test::ScratchDir dir("occlusion-usage");
  const std::string model = fixture_model("grey-hik").string();
  const std::string explain = "explain --model " + model + " --out " + (dir / "out") + " ";
  struct Case {
    std::string arguments, names;
  };
  for (const Case& c : std::vector<Case>{
           {explain + "--method occlusion --patch -3 fashion-mnist:test@0", "--patch -3: must be 0"},
           {explain + "--method occlusion --stride -1 fashion-mnist:test@0", "--stride -1: must be 0"},
           {explain + "--class \"\" fashion-mnist:test@0", "--class \"\": empty"},
           {"evaluate --model " + model + " --data fashion-mnist:test:2 --methods occlusion --patch -2 --out " +
                (dir / "out"),
            "--patch -2: must be 0"},
           {"evaluate --model " + model + " --data fashion-mnist:test:2 --class \"\" --out " + (dir / "out"),
            "--class \"\": empty"}})
    expect_refused(c.arguments, 2, c.names, dir.path() / "out");
  // Below the command line, a negative size is refused too, never taken for "auto".
  const std::string message = test::error_of([] { occlusion_for(OcclusionOptions{-4, 0, 0.0, {}}, 28, 28); });
  BOOST_TEST(message.find("patch -4: must be 0") == 0, message);
  const OcclusionOptions automatic = occlusion_for(OcclusionOptions{0, 0, 0.0, {}}, 28, 28);
  BOOST_TEST(automatic.patch == 7);
  BOOST_TEST(automatic.stride == 3);
}

// docs/errors.md, "What is checked up front": `train --out` on a folder that is not a model directory.
BOOST_AUTO_TEST_CASE(train_refuses_a_foreign_out_folder_before_training) {
  test::ScratchDir dir("train-out");
  fs::create_directories(dir.path() / "notes");
  write_text(dir.path() / "notes" / "todo.txt", "keep me");
  write_text(dir.path() / "config.json", R"({"codebook": {"words": 8, "training_descriptors": 100}})");
  // The data set does not exist: the refusal comes before it is read.
  for (const std::string& command : {"train --config " + (dir / "config.json"), std::string("train-network")}) {
    const auto r = test::run_cli(command + " --data " + (dir / "no-data") + " --out " + (dir / "notes"));
    BOOST_TEST(r.exit_code == 1, command << ": " << r.output);
    BOOST_TEST(r.output.find((dir / "notes") + ": exists and is not a pixelwise model directory") != std::string::npos,
               r.output);
    BOOST_TEST(r.output.find("no-data") == std::string::npos, r.output);
  }
  BOOST_TEST(read_file(dir / "notes/todo.txt") == "keep me");
  BOOST_TEST(std::distance(fs::directory_iterator(dir.path() / "notes"), fs::directory_iterator()) == 1);
}

namespace {

// An address-space limit (KiB) that an explanation of a 28 x 28 image fits in
// (it needs about 400 MB of address space with its libraries) and one of a
// 4000 x 4000 image does not (its dense SIFT descriptors alone take 1.8 GB).
constexpr long kMemoryTestLimitKiB = 800000;

// The id of a process that has ended (forked, exited and reaped).
pid_t ended_process() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

}  // namespace

// docs/errors.md, "Atomic outputs": temporaries left by a killed writer are removed by the next write there.
BOOST_AUTO_TEST_CASE(stale_partial_files_and_folders_are_cleaned_on_the_next_write) {
  test::ScratchDir dir("stale");
  const std::string dead = std::to_string(ended_process()), alive = std::to_string(::getpid());
  fs::create_directories(dir.path() / "out");
  write_text(dir.path() / "out" / ("fashion-mnist-test-0.npy.partial-" + dead + "-0"), "half");
  write_text(dir.path() / "out" / ("other.png.partial-" + dead + "-7"), "half");
  write_text(dir.path() / "out" / ("busy.json.partial-" + alive + "-0"), "being written");
  write_text(dir.path() / "out" / "notes.partial-draft", "not a temporary of ours");
  const auto r = test::run_cli("explain --model " + fixture_model("grey-hik").string() + " --out " + (dir / "out") +
                               " fashion-mnist:test@0");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  BOOST_TEST(!fs::exists(dir.path() / "out" / ("fashion-mnist-test-0.npy.partial-" + dead + "-0")));
  BOOST_TEST(!fs::exists(dir.path() / "out" / ("other.png.partial-" + dead + "-7")));
  BOOST_TEST(fs::exists(dir.path() / "out" / ("busy.json.partial-" + alive + "-0")));  // its writer still runs
  BOOST_TEST(fs::exists(dir.path() / "out" / "notes.partial-draft"));
  // A model directory's partial sibling folder, in process.
  fs::create_directories(dir.path() / ("model.partial-" + dead) / "sub");
  write_text(dir.path() / ("model.partial-" + dead) / "sub" / "codebook.npy", "half");
  BowModel::load(fixture_model("grey-hik").string()).save(dir / "model");
  BOOST_TEST(!fs::exists(dir.path() / ("model.partial-" + dead)));
  BOOST_TEST(fs::is_regular_file(dir.path() / "model" / "manifest.json"));
}

// docs/errors.md, "What is checked up front": an image that fails after others were written is named.
BOOST_AUTO_TEST_CASE(an_image_failing_late_in_a_batch_is_named) {
  test::ScratchDir dir("late");
  write_text(dir.path() / "first.png", encoded_image(".png"));
  write_text(dir.path() / "second.png", encoded_image(".png"));
  // second.npy cannot be written: a folder stands in its place.
  fs::create_directories(dir.path() / "out" / "second.npy");
  const auto r = test::run_cli("explain --jobs 1 --model " + fixture_model("grey-hik").string() + " --out " +
                               (dir / "out") + " " + (dir / "first.png") + " " + (dir / "second.png"));
  BOOST_TEST(r.exit_code == 1, r.output);
  BOOST_TEST(r.output.find("pixelwise: error: " + (dir / "second.png") + ": ") != std::string::npos, r.output);
  BOOST_TEST(fs::is_regular_file(dir.path() / "out" / "first.json"));  // the finished image stays complete
  BOOST_TEST(!fs::exists(dir.path() / "out" / "second.json"));
}

// docs/errors.md, "Limits": memory running out is reported naming the input, never as a bare std::bad_alloc.
BOOST_AUTO_TEST_CASE(running_out_of_memory_names_the_input) {
  const std::string named = test::error_of([] {
    naming_input("big.png", []() -> int { throw std::bad_alloc(); });
  });
  BOOST_TEST(named.find("big.png: out of memory (std::bad_alloc)") == 0, named);
  // The kind of error is kept, and a message naming the input is not named twice.
  BOOST_CHECK_THROW(naming_input("x", [] { throw InputError("x: too small"); }), InputError);
  BOOST_TEST(test::error_of([] { naming_input("x", [] { throw InputError("x: too small"); }); }) == "x: too small");
  BOOST_CHECK_THROW(naming_input("x", [] { throw UsageError("bad"); }), UsageError);
#if defined(PIXELWISE_SANITIZED)
  // Sanitizers reserve terabytes of address space and abort on a failed
  // allocation instead of throwing: the limited run below needs a plain build.
  BOOST_TEST_MESSAGE("sanitizer build: the run under an address-space limit is left out");
#else
  // A real allocation failure: the command under an address-space limit
  // (RLIMIT_AS) that a 28 x 28 image fits in and a 4000 x 4000 one does not.
  test::ScratchDir dir("memory");
  write_text(dir.path() / "small.png", encoded_image(".png"));
  std::vector<unsigned char> bytes;
  BOOST_REQUIRE(cv::imencode(".png", cv::Mat(4000, 4000, CV_8UC1, cv::Scalar(90)), bytes));
  write_text(dir.path() / "large.png", std::string(bytes.begin(), bytes.end()));
  auto limited = [&](const std::string& image) {
    return test::run_command("(ulimit -v " + std::to_string(kMemoryTestLimitKiB) + " && MALLOC_ARENA_MAX=1 \"" +
                             test::cli_binary() + "\" explain --jobs 1 --model " + fixture_model("grey-hik").string() +
                             " --out " + (dir / "out") + " " + image + ") 2>&1");
  };
  const auto small = limited(dir / "small.png");
  BOOST_TEST(small.exit_code == 0, small.output);
  fs::remove_all(dir.path() / "out");
  const auto large = limited(dir / "large.png");
  BOOST_TEST(large.exit_code == 1, large.output);
  BOOST_TEST(large.output.find("pixelwise: error: " + (dir / "large.png") + ": out of memory (std::bad_alloc)") !=
                 std::string::npos,
             large.output);
  // The allocation that failed is named: dense SIFT reserves its buffers first (errors.hpp, reserve_or_throw).
  BOOST_TEST(large.output.find("while building dense SIFT (bin size ") != std::string::npos, large.output);
  BOOST_TEST(!fs::exists(dir.path() / "out"));
#endif
}

// docs/errors.md, "Limits": --max-image-pixels over PIXELWISE_MAX_IMAGE_PIXELS over the default.
BOOST_AUTO_TEST_CASE(the_max_image_pixels_flag_overrides_the_environment) {
  test::ScratchDir dir("limit-flag");
  write_text(dir.path() / "small.jpg", encoded_image(".jpg"));
  const std::string model = fixture_model("grey-hik").string();
  const std::string explain = "explain --model " + model + " --out " + (dir / "out") + " ";
  auto run = [&](const std::string& env, const std::string& arguments) {
    return test::run_command(env + " \"" + test::cli_binary() + "\" " + arguments + " 2>&1");
  };
  const std::string refusal = "small.jpg: image of 28 x 28 = 784 pixels is above the limit of 700 pixels";
  // The flag, after the sub-command's name or before it, and over a larger limit in the environment.
  for (const auto& r : {run("", explain + "--max-image-pixels 700 " + (dir / "small.jpg")),
                        run("", "--max-image-pixels 700 " + explain + (dir / "small.jpg")),
                        run("PIXELWISE_MAX_IMAGE_PIXELS=100000", explain + "--max-image-pixels 700 " + (dir / "small.jpg")),
                        run("", "predict --model " + model + " --max-image-pixels 700 " + (dir / "small.jpg"))}) {
    BOOST_TEST(r.exit_code == 1, r.output);
    BOOST_TEST(r.output.find(refusal) != std::string::npos, r.output);
    BOOST_TEST(r.output.find("--max-image-pixels or PIXELWISE_MAX_IMAGE_PIXELS changes the limit") != std::string::npos,
               r.output);
    BOOST_TEST(!fs::exists(dir.path() / "out"));
  }
  // 0 lifts a limit the environment sets.
  const auto lifted = run("PIXELWISE_MAX_IMAGE_PIXELS=700", explain + "--max-image-pixels 0 " + (dir / "small.jpg"));
  BOOST_TEST(lifted.exit_code == 0, lifted.output);
  BOOST_TEST(fs::is_regular_file(dir.path() / "out" / "small.json"));
  fs::remove_all(dir.path() / "out");
  // A negative or non-numeric limit is a usage error.
  expect_refused(explain + "--max-image-pixels -5 " + (dir / "small.jpg"), 2, "--max-image-pixels", dir.path() / "out");
  expect_refused(explain + "--max-image-pixels lots " + (dir / "small.jpg"), 2, "--max-image-pixels", dir.path() / "out");
  // In the library: the value set wins over the environment; a negative one unsets it.
  ::setenv("PIXELWISE_MAX_IMAGE_PIXELS", "5000", 1);
  set_max_image_pixels(700);
  const long set = max_image_pixels();
  set_max_image_pixels(-1);
  const long from_env = max_image_pixels();
  ::unsetenv("PIXELWISE_MAX_IMAGE_PIXELS");
  BOOST_TEST(set == 700);
  BOOST_TEST(from_env == 5000);
  BOOST_TEST(max_image_pixels() == kDefaultMaxImagePixels);
}

// docs/errors.md, "Limits": the size an image above the limit is downscaled to.
BOOST_AUTO_TEST_CASE(downscaling_keeps_the_aspect_ratio_within_the_limit) {
  BOOST_TEST(fitted_image_size(56, 56, 784) == cv::Size(28, 28));
  BOOST_TEST(fitted_image_size(28, 28, 784) == cv::Size(28, 28));  // within the limit: unchanged
  BOOST_TEST(fitted_image_size(4100, 4100, 16777216) == cv::Size(4096, 4096));
  const cv::Size wide = fitted_image_size(3000, 1000, 30000);  // 300 x 100 exactly
  BOOST_TEST(wide == cv::Size(300, 100));
  const cv::Size odd = fitted_image_size(1001, 333, 1000);
  BOOST_TEST(static_cast<long>(odd.width) * odd.height <= 1000L);
  BOOST_TEST(std::abs(static_cast<double>(odd.width) / odd.height - 1001.0 / 333.0) < 0.2);
  BOOST_TEST(fitted_image_size(100000, 1, 10) == cv::Size(10, 1));
  // Area interpolation: a 2 x 2 block becomes its mean.
  set_max_image_pixels(4);
  cv::Mat blocks(4, 4, CV_8UC1, cv::Scalar(0));
  blocks(cv::Rect(0, 0, 2, 2)).setTo(200);
  const cv::Mat small = fit_image_limit(blocks, OversizeImages::downscale, "blocks");
  const std::string refused = test::error_of([&] { fit_image_limit(blocks, OversizeImages::refuse, "blocks"); });
  set_max_image_pixels(-1);
  BOOST_TEST(small.size() == cv::Size(2, 2));
  BOOST_TEST(static_cast<int>(small.at<unsigned char>(0, 0)) == 200);
  BOOST_TEST(static_cast<int>(small.at<unsigned char>(1, 1)) == 0);
  BOOST_TEST(refused.find("blocks: image of 4 x 4 = 16 pixels is above the limit of 4 pixels") == 0, refused);
}

// docs/errors.md, "Limits": a model configured with "input": {"oversize": "downscale"}.
BOOST_AUTO_TEST_CASE(a_model_configured_to_downscale_explains_the_downscaled_image) {
  test::ScratchDir dir("downscale");
  fs::copy(fixture_model("grey-hik"), dir.path() / "model", fs::copy_options::recursive);
  fs::remove(dir.path() / "model" / kManifestChecksumFile);  // absent in format 1; the manifest is edited below
  edit_file(dir.path() / "model" / "manifest.json", "\"pipeline\": {", "\"pipeline\": {\"input\": {\"oversize\": \"downscale\"},");
  BOOST_TEST((BowModel::load(dir / "model").config.input.oversize == OversizeImages::downscale));
  // A 56 x 56 image, 4 x the limit of 784 pixels: explained at 28 x 28.
  cv::Mat large;
  cv::resize(decode_image_bytes(encoded_image(".png"), "gradient"), large, cv::Size(56, 56), 0, 0, cv::INTER_NEAREST);
  std::vector<unsigned char> bytes;
  BOOST_REQUIRE(cv::imencode(".png", large, bytes));
  write_text(dir.path() / "large.png", std::string(bytes.begin(), bytes.end()));
  const auto r = test::run_cli("explain --max-image-pixels 784 --model " + (dir / "model") + " --out " + (dir / "out") +
                               " " + (dir / "large.png"));
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  const nlohmann::json j = test::read_json((dir.path() / "out" / "large.json").string());
  BOOST_TEST(j.at("image_size") == nlohmann::json::array({28, 28}));
  const std::string npy = read_file(dir / "out/large.npy");  // the relevance map at the explained size
  BOOST_TEST(npy.find("'shape': (28, 28)") != std::string::npos, npy.substr(0, 128));
  const double score = j.at("score"), total = j.at("pixel_sum").get<double>() + j.at("absorbed").get<double>() +
                                                 j.at("unassigned").get<double>();
  BOOST_TEST(std::abs(total - score) <= 1e-9 * std::max(1.0, std::abs(score)), total << " vs " << score);
  // The same pixels as the image downscaled beforehand: the same explanation.
  cv::Mat by_hand;
  cv::resize(large, by_hand, cv::Size(28, 28), 0, 0, cv::INTER_AREA);
  BOOST_REQUIRE(cv::imencode(".png", by_hand, bytes));
  write_text(dir.path() / "by-hand.png", std::string(bytes.begin(), bytes.end()));
  const auto same = test::run_cli("explain --model " + (dir / "model") + " --out " + (dir / "out") + " " +
                                  (dir / "by-hand.png"));
  BOOST_REQUIRE_MESSAGE(same.exit_code == 0, same.output);
  BOOST_TEST(read_file(dir / "out/by-hand.npy") == read_file(dir / "out/large.npy"));
  // The model as trained refuses the same image, naming it, its size and the limit, and writes nothing.
  expect_refused("explain --max-image-pixels 784 --model " + fixture_model("grey-hik").string() + " --out " +
                     (dir / "refused") + " " + (dir / "large.png"),
                 1, "large.png: image of 56 x 56 = 3136 pixels is above the limit of 784 pixels", dir.path() / "refused");
  // The configuration key is read strictly.
  write_text(dir.path() / "config.json", R"({"input": {"oversize": "shrink"}})");
  const std::string bad = test::error_of([&] { PipelineConfig::load(dir / "config.json"); });
  BOOST_TEST(bad.find("oversize") != std::string::npos, bad);
  BOOST_TEST(bad.find("shrink") != std::string::npos, bad);
  write_text(dir.path() / "config.json", R"({"input": {"oversize": "downscale", "size": 3}})");
  BOOST_TEST(test::error_of([&] { PipelineConfig::load(dir / "config.json"); }).find("size") != std::string::npos);
  write_text(dir.path() / "config.json", R"({"input": {"oversize": "downscale"}})");
  const PipelineConfig config = PipelineConfig::load(dir / "config.json");
  BOOST_TEST((config.input.oversize == OversizeImages::downscale));
  BOOST_TEST(config.to_json().at("input") == nlohmann::json({{"oversize", "downscale"}}));
  BOOST_TEST(PipelineConfig().to_json().at("input") == nlohmann::json({{"oversize", "refuse"}}));
}

// errors.hpp, rethrow_naming: a message names its input only as a name, not as any substring.
BOOST_AUTO_TEST_CASE(an_input_is_named_by_a_prefix_a_step_or_quotes_not_a_substring) {
  auto named = [](const std::string& what, const std::string& message) {
    return test::error_of([&] { naming_input(what, [&]() -> int { throw std::runtime_error(message); }); });
  };
  // Not named: the name inside another name, a one-letter name inside words, a name's prefix.
  BOOST_TEST(named("a.png", "data/a.png.json: not valid JSON") == "a.png: data/a.png.json: not valid JSON");
  BOOST_TEST(named("a.png", "xa.png: truncated") == "a.png: xa.png: truncated");
  BOOST_TEST(named("x", "index 3 exceeds the 2 classes") == "x: index 3 exceeds the 2 classes");
  BOOST_TEST(named("a", "a.png: truncated") == "a: a.png: truncated");
  BOOST_TEST(named("fashion-mnist", "fashion-mnist:test@0: bad") == "fashion-mnist: fashion-mnist:test@0: bad");
  BOOST_TEST(named("x.png", "x.pngx: bad") == "x.png: x.pngx: bad");
  // Named: as the prefix, as a step of a chain of prefixes, quoted.
  BOOST_TEST(named("a.png", "a.png: truncated") == "a.png: truncated");
  BOOST_TEST(named("a.png", "a.png:") == "a.png:");
  BOOST_TEST(named("x", "x: too small") == "x: too small");
  BOOST_TEST(named("a.png", "config.json: a.png: bad") == "config.json: a.png: bad");
  BOOST_TEST(named("a.png", "image \"a.png\" is too large") == "image \"a.png\" is too large");
  BOOST_TEST(named("fashion-mnist:test@0", "fashion-mnist:test@0: --resume: out/x.json: differs") ==
             "fashion-mnist:test@0: --resume: out/x.json: differs");
  BOOST_TEST(named("models/m", "models/m/manifest.json: edited or damaged") == "models/m/manifest.json: edited or damaged");
  BOOST_TEST(named("models/m", "models/mx/manifest.json: bad") == "models/m: models/mx/manifest.json: bad");
  BOOST_TEST(!names_input("image a.png is bad", "a.png"));
  BOOST_TEST(names_input("anything", ""));
}

#if !defined(PIXELWISE_SANITIZED)
namespace {

// The message of f() run in a child process under an address-space limit
// (RLIMIT_AS, KiB), as error_text gives it; "(no error)" when it succeeds.
std::string error_under_memory_limit(long kib, const std::function<void()>& f) {
  int fds[2];
  BOOST_REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    const rlimit limit{static_cast<rlim_t>(kib) * 1024, static_cast<rlim_t>(kib) * 1024};
    ::setrlimit(RLIMIT_AS, &limit);
    std::string text = "(no error)";
    try {
      f();
    } catch (const std::exception& e) {
      text = error_text(e);
    }
    const ssize_t written = ::write(fds[1], text.data(), text.size());
    ::_exit(written == static_cast<ssize_t>(text.size()) ? 0 : 3);
  }
  ::close(fds[1]);
  std::string out;
  char buffer[512];
  for (ssize_t k; (k = ::read(fds[0], buffer, sizeof buffer)) > 0;) out.append(buffer, static_cast<size_t>(k));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0), "child status " << status << ": " << out);
  return out;
}

}  // namespace
#endif

// docs/errors.md, "Limits": VLFeat's constructors and unchecked buffers, guarded and named.
BOOST_AUTO_TEST_CASE(vlfeat_allocations_that_fail_name_what_was_being_built) {
  int value = 0;
  BOOST_TEST(allocated(&value, "an int") == &value);
  BOOST_CHECK_THROW(allocated(static_cast<int*>(nullptr), "k-means of 8 words"), std::bad_alloc);
  const std::string named = test::error_of([] {
    naming_input("img.png", []() -> int { return *allocated(static_cast<int*>(nullptr), "a kd-forest searcher"); });
  });
  BOOST_TEST(named == "img.png: out of memory (std::bad_alloc) while building a kd-forest searcher: the system refused an "
                      "allocation; try a smaller image or model, or fewer --jobs",
             named);
#if defined(PIXELWISE_SANITIZED)
  // Sanitizers abort on a failed allocation instead of returning null: the
  // runs under an address-space limit below need a plain build.
  BOOST_TEST_MESSAGE("sanitizer build: the runs under an address-space limit are left out");
#else
  // A kd-forest of 2^30 trees over two words: its nodes cannot be had.
  const std::string forest = error_under_memory_limit(kMemoryTestLimitKiB, [] {
    CodebookOptions options;
    options.search = CodebookSearch::kdforest;
    options.kdforest_trees = 1 << 30;
    Codebook(RowMatrixXf::Ones(2, 4), options);
  });
  BOOST_TEST(forest.find("out of memory (std::bad_alloc) while building the kd-forest of a codebook of 2 words:") == 0, forest);
  // Elkan's k-means of 60000 words: its bounds (60000 x 60000 floats) cannot be had.
  const std::string kmeans = error_under_memory_limit(kMemoryTestLimitKiB, [] {
    CodebookOptions options;
    options.words = 60000;
    options.training_descriptors = 60000;
    Codebook::train(RowMatrixXf::Random(60000, 2), options);
  });
  BOOST_TEST(kmeans.find("out of memory (std::bad_alloc) while building k-means of 60000 words on 60000 descriptors:") == 0,
             kmeans);
  // Keypoint SIFT of a 4000 x 4000 image from the doubled octave: its scale space cannot be had.
  const std::string sift = error_under_memory_limit(kMemoryTestLimitKiB, [] {
    DescriptorOptions options;
    options.type = DescriptorType::sift;
    options.keypoint.first_octave = -1;
    compute_descriptors(cv::Mat(4000, 4000, CV_32FC1, cv::Scalar(0.5)), options, "big");
  });
  BOOST_TEST(sift.find("out of memory (std::bad_alloc) while building SIFT keypoints of a 4000 x 4000 image:") == 0, sift);
  // The same calls within the limit succeed.
  BOOST_TEST(error_under_memory_limit(kMemoryTestLimitKiB, [] {
               CodebookOptions options;
               options.search = CodebookSearch::kdforest;
               Codebook(RowMatrixXf::Ones(2, 4), options);
             }) == "(no error)");
#endif
}
