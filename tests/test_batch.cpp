// Batch runs (pipelines/batch.hpp): shards, image lists, resumable
// output folders, threads over images, and `pixelwise explain` with --list,
// --shard, --jobs and --resume giving exactly the outputs of one plain run.
#include <sched.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "pixelwise/common/batch.hpp"
#include "pixelwise/common/files.hpp"
#include "pixelwise/common/parallel.hpp"
#include "pixelwise/pipelines/model/bow_model.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace pixelwise;

BOOST_AUTO_TEST_CASE(shards_partition_a_list_deterministically) {
  const Shard s = Shard::parse("3/8");
  BOOST_TEST(s.index == 3);
  BOOST_TEST(s.count == 8);
  BOOST_TEST(s.str() == "3/8");
  for (const char* bad : {"0/4", "5/4", "1/0", "4", "a/b", "1/", "/2", "-1/3", "1/2/3", ""})
    BOOST_CHECK_THROW(Shard::parse(bad), std::invalid_argument);
  std::vector<std::string> items;
  for (int i = 0; i < 23; ++i) items.push_back("image-" + std::to_string(i));
  std::multiset<std::string> union_of_shards;
  for (int k = 1; k <= 5; ++k) {
    const std::vector<std::string> part = Shard{k, 5}.select(items);
    BOOST_TEST((part.size() == 4u || part.size() == 5u));
    BOOST_TEST(part.front() == items[k - 1]);  // positions k - 1, k - 1 + 5, ...
    union_of_shards.insert(part.begin(), part.end());
  }
  BOOST_TEST((union_of_shards == std::multiset<std::string>(items.begin(), items.end())));
  BOOST_TEST((Shard{1, 1}.select(items) == items));
}

BOOST_AUTO_TEST_CASE(reference_lists_and_complete_outputs) {
  test::ScratchDir dir("batch-list");
  { std::ofstream(dir / "list.txt") << "# images\n  a.png \n\n\tfashion-mnist:test@3\r\n#b.png\n"; }
  BOOST_TEST((read_reference_list(dir / "list.txt") == std::vector<std::string>{"a.png", "fashion-mnist:test@3"}));
  BOOST_CHECK_THROW(read_reference_list(dir / "missing.txt"), std::runtime_error);

  const std::string d = dir.path().string();
  BOOST_TEST(!explanation_complete(d, "x"));
  write_file_atomically(dir / "x.npy", "npy bytes");
  write_file_atomically(dir / "x.png", "png");
  BOOST_TEST(!explanation_complete(d, "x"));  // no JSON yet
  // "npy bytes": 9 bytes, CRC-32 (zlib) 0xd71ffb15 computed independently
  // (Python: zlib.crc32(b"npy bytes")); "png": 3 bytes, 0x83180390.
  const std::string files = R"("files": {".npy": {"bytes": 9, "crc32": "d71ffb15"}, ".png": {"bytes": 3, "crc32": "83180390"}})";
  write_file_atomically(dir / "x.json", "{\"score\": 1, " + files);
  BOOST_TEST(!explanation_complete(d, "x"));  // damaged JSON
  write_file_atomically(dir / "x.json", "{\"score\": 1}");
  BOOST_TEST(!explanation_complete(d, "x"));  // no record of the files
  write_file_atomically(dir / "x.json", "{\"score\": 1, " + files + "}");
  BOOST_TEST(explanation_complete(d, "x"));
  write_file_atomically(dir / "x.npy", "npy byte");  // left short by a crash
  BOOST_TEST(!explanation_complete(d, "x"));
  write_file_atomically(dir / "x.npy", "npy bytez");  // same size, other bytes
  BOOST_TEST(!explanation_complete(d, "x"));
  write_file_atomically(dir / "x.npy", "npy bytes");
  BOOST_TEST(explanation_complete(d, "x"));
  std::filesystem::remove(dir / "x.png");
  BOOST_TEST(!explanation_complete(d, "x"));
  write_file_atomically(dir / "x.png", "png");
  // An extra file listed in the record must be there too.
  write_file_atomically(dir / "x.json", "{\"score\": 1, " + files.substr(0, files.size() - 1) +
                                            R"(, "-root.npy": {"bytes": 1, "crc32": "00000000"}}})");
  BOOST_TEST(!explanation_complete(d, "x"));
}

BOOST_AUTO_TEST_CASE(all_cores_means_the_cores_this_process_may_run_on) {
  cpu_set_t original;
  BOOST_REQUIRE(sched_getaffinity(0, sizeof original, &original) == 0);
  BOOST_TEST(available_cores() == CPU_COUNT(&original));
  // Pinned to one core (as taskset -c or a one-CPU Slurm task would), "all
  // cores" is one thread, however many the machine has.
  int first = 0;
  while (!CPU_ISSET(first, &original)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  BOOST_REQUIRE(sched_setaffinity(0, sizeof one, &one) == 0);
  const int pinned = available_cores();
  std::set<std::thread::id> threads;
  std::mutex mutex;
  for_each_parallel(16, 0, [&](long) {
    std::lock_guard<std::mutex> lock(mutex);
    threads.insert(std::this_thread::get_id());
  });
  BOOST_REQUIRE(sched_setaffinity(0, sizeof original, &original) == 0);
  BOOST_TEST(pinned == 1);
  BOOST_TEST(threads.size() == 1u);
}

BOOST_AUTO_TEST_CASE(parallel_loop_runs_every_item_once_and_passes_errors_on) {
  for (int threads : {0, 1, 3}) {
    std::vector<std::atomic<int>> runs(100);
    for_each_parallel(100, threads, [&](long i) { ++runs[i]; });
    for (const auto& r : runs) BOOST_TEST(r.load() == 1);
  }
  std::atomic<int> after{0};
  BOOST_CHECK_THROW(for_each_parallel(1000, 2,
                                      [&](long i) {
                                        if (i == 5) throw std::runtime_error("image 5 is bad");
                                        // Real items take time; without this the other thread can
                                        // finish all 1000 empty items while the exception unwinds.
                                        std::this_thread::sleep_for(std::chrono::milliseconds(1));
                                        if (i > 500) ++after;
                                      }),
                    std::runtime_error);
  BOOST_TEST(after.load() < 495);  // no new item starts after the error (the other thread may finish a few)
  BOOST_CHECK_THROW(for_each_parallel(3, -1, [](long) {}), std::invalid_argument);
  for_each_parallel(0, 2, [](long) { throw std::logic_error("never called"); });
}

BOOST_AUTO_TEST_CASE(sharded_resumed_threaded_cli_runs_equal_one_plain_run) {
  test::ScratchDir dir("batch-cli");
  const PipelineConfig config = PipelineConfig::parse(nlohmann::json::parse(R"({
    "descriptor": {"step": 3, "bin_sizes": [3, 4]},
    "codebook": {"words": 16, "training_descriptors": 1500, "seed": 2},
    "pooling": {"type": "sum", "pyramid": [[1, 1], [2, 2]]},
    "svm": {"kernel": "hik", "C": 10}
  })"));
  BowModel::train(config, load_dataset("fashion-mnist:train:100"), nullptr).save(dir / "model");
  std::vector<std::string> refs;
  {
    std::ofstream list(dir / "list.txt");
    for (int i = 0; i < 9; ++i) {
      refs.push_back("fashion-mnist:test@" + std::to_string(i));
      list << refs.back() << "\n";
    }
  }
  const std::string model = " --model " + dir / "model";
  auto run = [&](const std::string& args) {
    const test::CommandResult r = test::run_cli("explain" + model + " " + args);
    BOOST_TEST(r.exit_code == 0, args << ": " << r.output);
    return r;
  };
  run("--jobs 1 --out " + dir / "plain" + " --list " + dir / "list.txt");
  for (int k = 1; k <= 3; ++k)
    run("--jobs 2 --shard " + std::to_string(k) + "/3 --out " + dir / "sharded" + " --list " + dir / "list.txt");
  const std::string name = "fashion-mnist-test-";
  for (int i = 0; i < 9; ++i)
    for (const char* ext : {".npy", ".png", ".json"}) {
      const std::string file = name + std::to_string(i) + ext;
      BOOST_TEST(read_file(dir / ("sharded/" + file)) == read_file(dir / ("plain/" + file)), file);
    }
  // Shard 2/3 alone holds positions 1, 4 and 7 only.
  run("--shard 2/3 --out " + dir / "one-shard" + " --list " + dir / "list.txt");
  BOOST_TEST(std::distance(fs::directory_iterator(dir / "one-shard"), fs::directory_iterator()) == 9);
  BOOST_TEST(fs::exists(dir / ("one-shard/" + name + "4.json")));
  BOOST_TEST(!fs::exists(dir / ("one-shard/" + name + "3.json")));

  // Resume: complete images are skipped, an image without its JSON is redone.
  fs::remove(dir / ("sharded/" + name + "5.json"));
  const auto before = fs::last_write_time(dir / ("sharded/" + name + "0.npy"));
  const test::CommandResult resumed = run("--resume --out " + dir / "sharded" + " --list " + dir / "list.txt");
  BOOST_TEST(resumed.output.find("8 of 9 images already have complete outputs") != std::string::npos, resumed.output);
  BOOST_TEST(resumed.output.find(name + "5: class") != std::string::npos);
  BOOST_TEST(resumed.output.find(name + "0: class") == std::string::npos);
  BOOST_TEST((fs::last_write_time(dir / ("sharded/" + name + "0.npy")) == before));
  BOOST_TEST(read_file(dir / ("sharded/" + name + "5.json")) == read_file(dir / ("plain/" + name + "5.json")));

  // Bad batch input: clear errors, no output.
  for (const std::string& bad : std::vector<std::string>{"--shard 4/3", "--shard x", "--list " + dir / "missing.txt", "--jobs -2"}) {
    const test::CommandResult r = test::run_cli("explain" + model + " --out " + dir / "bad" + " " + bad + " " + refs[0]);
    BOOST_TEST(r.exit_code != 0, bad);
    BOOST_TEST(!fs::exists(dir / "bad"), bad);
  }
  const test::CommandResult none = test::run_cli("explain" + model + " --out " + dir / "bad");
  BOOST_TEST(none.exit_code == 1);
  BOOST_TEST(none.output.find("no image to explain") != std::string::npos, none.output);
  // A bad image anywhere in the list stops the run before anything is written.
  { std::ofstream(dir / "bad-list.txt") << refs[0] << "\n" << dir / "missing.png" << "\n"; }
  const test::CommandResult bad_image = test::run_cli("explain" + model + " --out " + dir / "bad" + " --list " + dir / "bad-list.txt");
  BOOST_TEST(bad_image.exit_code == 1);
  BOOST_TEST(bad_image.output.find("missing.png") != std::string::npos, bad_image.output);
  BOOST_TEST(!fs::exists(dir / "bad"));
}

namespace {

// A small hik model on 100 Fashion-MNIST images (16 words), saved at `path`.
void save_small_model(const std::string& path) {
  const PipelineConfig config = PipelineConfig::parse(nlohmann::json::parse(R"({
    "descriptor": {"step": 3, "bin_sizes": [3, 4]},
    "codebook": {"words": 16, "training_descriptors": 1500, "seed": 2},
    "svm": {"kernel": "hik", "C": 10}
  })"));
  BowModel::train(config, load_dataset("fashion-mnist:train:100"), nullptr).save(path);
}

}  // namespace

BOOST_AUTO_TEST_CASE(merged_evaluation_shards_equal_one_whole_evaluation) {
  test::ScratchDir dir("batch-evaluate");
  save_small_model(dir / "model");
  const std::string common = "evaluate --quiet --model " + dir / "model" +
                             " --data fashion-mnist:test:7 --methods lrp,random --metrics aopc,lerf,conservation "
                             "--steps 4 --region 7 --report-images 0";
  auto run = [&](const std::string& args) {
    const test::CommandResult r = test::run_cli(args);
    BOOST_TEST(r.exit_code == 0, args << ": " << r.output);
  };
  // The whole run one image at a time; the parts on threads over images,
  // except the third (parts run on different machines: how each used its
  // machine does not keep them from merging).
  run(common + " --jobs 1 --threads 1 --out " + dir / "whole");
  for (int k = 1; k <= 3; ++k)
    run(common + (k == 3 ? " --jobs 1 --threads 1" : " --jobs 2") + " --shard " + std::to_string(k) + "/3 --out " +
        dir / ("part" + std::to_string(k)));
  run("merge-evaluations --out " + dir / "merged " + dir / "part2/evaluation.json " + dir / "part1 " +
      dir / "part3/evaluation.json");  // a file or the folder holding it
  nlohmann::json whole = test::read_json(dir / "whole/evaluation.json");
  nlohmann::json merged = test::read_json(dir / "merged/evaluation.json");
  BOOST_TEST(test::read_json(dir / "part2/evaluation.json")["images"].size() == 2u);  // indices 1 and 4
  BOOST_TEST(fs::exists(dir / "merged/report/index.html"));
  // Each part's execution, in the order of the shards.
  BOOST_REQUIRE(merged["settings"]["execution"].size() == 3u);
  BOOST_TEST(merged["settings"]["execution"][0]["jobs"] == 2);
  BOOST_TEST(merged["settings"]["execution"][2]["jobs"] == 1);
  // Timings differ from run to run; everything else is the same.
  for (nlohmann::json* j : {&whole, &merged}) {
    for (auto& image : (*j)["images"])
      for (auto& [method, m] : image["methods"].items()) m.erase("seconds");
    for (auto& [method, m] : (*j)["summary"].items()) m.erase("seconds");
  }
  BOOST_TEST(merged["images"] == whole["images"]);
  BOOST_TEST(merged["summary"] == whole["summary"]);
  BOOST_TEST(merged["chance"] == whole["chance"]);
  BOOST_TEST(merged["summary"]["lrp"]["conservation"].is_object());
  // Parts of different evaluations, a missing shard or one given twice are refused.
  const test::CommandResult missing =
      test::run_cli("merge-evaluations --out " + dir / "bad " + dir / "part1/evaluation.json " + dir / "part3/evaluation.json");
  BOOST_TEST(missing.exit_code == 1);
  BOOST_TEST(missing.output.find("2/3 are missing") != std::string::npos, missing.output);
  const test::CommandResult twice = test::run_cli("merge-evaluations --out " + dir / "bad " + dir / "part1/evaluation.json " +
                                                  dir / "part1/evaluation.json");
  BOOST_TEST(twice.output.find("given twice") != std::string::npos, twice.output);
  const test::CommandResult other = test::run_cli("merge-evaluations --out " + dir / "bad " + dir / "part1/evaluation.json " +
                                                  dir / "whole/evaluation.json");
  BOOST_TEST(other.exit_code == 1);
  BOOST_TEST(!fs::exists(dir / "bad"));
}

BOOST_AUTO_TEST_CASE(baseline_and_network_explanations_on_threads_over_images_equal_sequential_ones) {
  test::ScratchDir dir("batch-methods");
  save_small_model(dir / "model");
  const std::string toolbox = test::reference_dir() + "/lrp_toolbox/mlp_relu.txt";
  std::string images;
  for (int i = 0; i < 5; ++i) images += " fashion-mnist:test@" + std::to_string(i);
  struct Case {
    std::string model, method;
  };
  for (const Case& c : std::vector<Case>{{dir / "model", "occlusion --patch 7 --stride 4"},
                                         {dir / "model", "sensitivity"},
                                         {toolbox, "lrp"},
                                         {toolbox, "occlusion --patch 7 --stride 7"}}) {
    const std::string tag = c.method.substr(0, c.method.find(' ')) + (c.model == toolbox ? "-network" : "-bow");
    for (const char* jobs : {"1", "3"}) {
      const test::CommandResult r = test::run_cli("explain --model \"" + c.model + "\" --method " + c.method + " --jobs " +
                                                  jobs + " --out " + dir / (tag + "-" + jobs) + images);
      BOOST_TEST(r.exit_code == 0, tag << ": " << r.output);
    }
    for (int i = 0; i < 5; ++i) {
      const std::string stem = "/fashion-mnist-test-" + std::to_string(i);
      for (const char* ext : {".npy", ".png"})
        BOOST_TEST(read_file(dir / (tag + "-1") + stem + ext) == read_file(dir / (tag + "-3") + stem + ext), tag << stem << ext);
      // No wall time in the JSON: the same bytes whatever the threads.
      BOOST_TEST(read_file(dir / (tag + "-1") + stem + ".json") == read_file(dir / (tag + "-3") + stem + ".json"),
                 tag << stem);
    }
  }
  // The batch options apply to every model and method: resuming a finished
  // network run skips every image.
  const test::CommandResult resumed = test::run_cli("explain --model \"" + toolbox + "\" --method lrp --resume --out " +
                                                    dir / "lrp-network-1" + images);
  BOOST_TEST(resumed.exit_code == 0, resumed.output);
  BOOST_TEST(resumed.output.find("5 of 5 images already have complete outputs") != std::string::npos, resumed.output);
  // Bad batch settings are refused before any output.
  for (const std::string bad : {"--jobs -1", "--shard 4/3"}) {
    const test::CommandResult r = test::run_cli("explain --model \"" + toolbox + "\" " + bad + " --out " + dir / "bad" + images);
    BOOST_TEST(r.exit_code != 0, bad);
    BOOST_TEST(!fs::exists(dir / "bad"), bad);
  }
}
