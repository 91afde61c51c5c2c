// Hardened input handling (docs/errors.md): every outside input is refused
// with a message naming it and the problem, with the documented exit status,
// and a refusal leaves no output file and no empty output folder behind.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <string>

#include "pixelwise/common/files.hpp"
#include "pixelwise/common/folder_lock.hpp"
#include "pixelwise/common/json_input.hpp"
#include "pixelwise/common/manifest_file.hpp"
#include "pixelwise/features/image.hpp"
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

// docs/errors.md, "Atomic outputs": each file is fsynced before its rename and its folder after it.
BOOST_AUTO_TEST_CASE(outputs_are_synced_to_disk) {
  test::ScratchDir dir("fsync");
  write_file_atomically(dir / "a.txt", "bytes");
  BOOST_TEST(read_file(dir / "a.txt") == "bytes");
  BOOST_TEST(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);  // no temporary left
  BOOST_TEST(test::error_of([&] { write_file_atomically(dir / "missing/a.txt", "x"); }).find("missing/a.txt") !=
             std::string::npos);
  if (test::run_command("strace -o /dev/null true 2>/dev/null").exit_code != 0) {
    BOOST_TEST_MESSAGE("strace is not available here: fsync calls not counted");
    return;
  }
  const std::string trace = dir / "trace.txt";
  // LeakSanitizer cannot run under ptrace; leaks are checked by every other test of the sanitizer build.
  const auto r = test::run_command("ASAN_OPTIONS=\"${ASAN_OPTIONS:-}:detect_leaks=0\" strace -f -e trace=fsync -o " +
                                   trace + " \"" + test::cli_binary() +
                                   "\" explain --model " + fixture_model("grey-hik").string() + " --out " +
                                   (dir / "out") + " fashion-mnist:test@0 2>&1");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  std::ifstream in(trace);
  int syncs = 0;
  for (std::string line; std::getline(in, line);) syncs += line.find("fsync(") != std::string::npos;
  BOOST_TEST(syncs >= 6, syncs << " fsync calls for three files and their folder");  // .npy, .png, .json
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
