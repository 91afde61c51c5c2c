// Writes the seed corpus of the fuzz targets: small valid inputs of every
// format, made with pixelwise's own writers (nothing binary is kept in the
// repository). Usage: fuzz_seeds OUT_DIR SOURCE_DIR
//   OUT_DIR/<target>/seed-<n> for every target of fuzz_targets.hpp; the shipped
//   configs and the toolbox XOR network are read from SOURCE_DIR.
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <opencv2/imgcodecs.hpp>

#include "fuzz_targets.hpp"
#include "pixelwise/common/json_input.hpp"

namespace fs = std::filesystem;
using namespace pixelwise;

namespace {

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string folder_archive(const fs::path& dir) {
  fuzz::Files files;
  for (const auto& entry : fs::directory_iterator(dir)) files.emplace_back(entry.path().filename().string(), slurp(entry.path()));
  std::sort(files.begin(), files.end());
  return fuzz::pack(files);
}

std::string big_endian(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

class Corpus {
 public:
  explicit Corpus(fs::path root) : root_(std::move(root)) {}
  void add(const std::string& target, const std::string& bytes) {
    const fs::path dir = root_ / target;
    fs::create_directories(dir);
    int n = 0;
    while (fs::exists(dir / ("seed-" + std::to_string(n)))) ++n;
    fuzz::write(dir / ("seed-" + std::to_string(n)), bytes);
  }

 private:
  fs::path root_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: fuzz_seeds OUT_DIR SOURCE_DIR\n";
    return 2;
  }
  try {
    const fs::path out(argv[1]), source(argv[2]);
    Corpus corpus(out);
    const fs::path work = fuzz::scratch("seeds");

    // .npy: float64 and float32, 2-D and 1-D.
    RowMatrixXd d(2, 3);
    d << 0.5, -1, 2, 0, 1e-3, 7;
    corpus.add("npy", npy_bytes(d));
    corpus.add("npy", npy_bytes(RowMatrixXf(RowMatrixXf::Constant(1, 4, 0.25f))));
    std::string one_d = npy_bytes(RowMatrixXd(RowMatrixXd::Constant(1, 2, 1.0)));
    const size_t shape = one_d.find("(1, 2)");
    if (shape != std::string::npos) corpus.add("npy", one_d.replace(shape, 6, "(2,)  "));

    // libsvm model files: a one-vs-rest machine and a 3-class one-vs-one model
    // over 5 training vectors (the harness's table has 5 rows).
    RowMatrixXd X(5, 3);
    X << 1, 0, 0, 0.9, 0.1, 0, 0, 1, 0, 0.1, 0.8, 0.1, 0, 0, 1;
    const OneVsRestSvm ovr = OneVsRestSvm::train(X, {0, 0, 1, 1, 1}, 2, SvmOptions{});
    ovr.save_machine(0, (work / "ovr.model").string());
    corpus.add("libsvm_model", slurp(work / "ovr.model"));
    const OneVsOneSvm ovo = OneVsOneSvm::train(X, {0, 0, 1, 1, 2}, 3, SvmOptions{});
    ovo.save((work / "ovo.model").string());
    corpus.add("libsvm_model", slurp(work / "ovo.model"));

    // Pipeline configurations: the defaults and the shipped configs, and one
    // nested just beyond the JSON depth limit (docs/errors.md, "Limits").
    corpus.add("config", PipelineConfig().to_json().dump(2));
    corpus.add("config", "{\"pooling\": {\"pyramid\": " + std::string(kJsonMaxDepth, '[') +
                             std::string(kJsonMaxDepth, ']') + "}}");
    for (const auto& entry : fs::directory_iterator(source / "configs"))
      if (entry.path().extension() == ".json") corpus.add("config", slurp(entry.path()));

    // Model directories: a tiny BoW model (100 Fashion-MNIST images, 4 words)
    // and a network model (the toolbox's XOR network).
    PipelineConfig config = PipelineConfig::parse(nlohmann::json::parse(R"({
      "descriptor": {"step": 6, "bin_sizes": [4]},
      "codebook": {"words": 4, "training_descriptors": 100, "seed": 1},
      "pooling": {"type": "sum", "pyramid": [[1, 1]]}
    })"));
    Dataset data = load_dataset("fashion-mnist:train:100");
    BowModel::train(config, data, nullptr).save((work / "bow").string());
    corpus.add("model_dir", folder_archive(work / "bow"));
    const std::string xor_text = slurp(source / "tests" / "data" / "lrp_toolbox" / "xor_random.txt");
    NetworkModel network;
    network.network = Network::parse_toolbox(xor_text, "xor_random.txt");
    network.classes = {"false", "true"};
    network.input.shape = TensorShape{1, 2, 1};
    network.save((work / "network").string());
    corpus.add("model_dir", folder_archive(work / "network"));
    // The network model with a manifest nested beyond the JSON depth limit.
    fuzz::write(work / "network" / "manifest.json", "{\"input\": " + std::string(kJsonMaxDepth, '[') +
                                                        std::string(kJsonMaxDepth, ']') + "}");
    corpus.add("model_dir", folder_archive(work / "network"));

    // IDX: three 2 x 2 images and their labels.
    const std::string images = big_endian(0x0803) + big_endian(3) + big_endian(2) + big_endian(2) +
                               std::string("\x00\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xb0", 12);
    const std::string labels = big_endian(0x0801) + big_endian(3) + std::string("\x00\x05\x09", 3);
    corpus.add("idx", fuzz::pack({{"images", images}, {"labels", labels}}));

    // Toolbox networks: XOR (Linear, Tanh) and a small CNN-shaped text.
    corpus.add("toolbox", xor_text);
    corpus.add("toolbox",
               "Convolution 2 2 1 2 1 1\n1 0 0 1 0.5 0.5 -1 1\n0 0.1\nRect\nMaxPool 2 2 1 1\nFlatten\nLinear 2 2\n1 0 0 1\n0 0\nSoftMax\n");
    // Images: small grey and colour PNG and JPEG files, and a cut-off one of each.
    for (const char* extension : {".png", ".jpg"})
      for (const int type : {CV_8UC1, CV_8UC3}) {
        cv::Mat picture(9, 7, type);
        cv::randu(picture, 0, 255);
        std::vector<unsigned char> bytes;
        if (!cv::imencode(extension, picture, bytes)) throw std::runtime_error(std::string("cannot encode ") + extension);
        const std::string encoded(bytes.begin(), bytes.end());
        corpus.add("image", encoded);
        if (type == CV_8UC1) corpus.add("image", encoded.substr(0, encoded.size() / 2));
      }
    std::cout << "fuzz seeds written to " << out.string() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "fuzz_seeds: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
