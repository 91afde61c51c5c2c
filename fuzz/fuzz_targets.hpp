#pragma once
// Harnesses for every parser of outside data (docs/errors.md, "Fuzzing"), shared by the
// libFuzzer programs (fuzz/fuzz_main.cpp, clang only) and the regression tests
// (tests/test_fuzz_regressions.cpp, any compiler).
//
// Each harness feeds one input to a reader the way pixelwise reads files. A
// clean rejection is a std::runtime_error or std::invalid_argument (the error
// types whose messages name the input, as the house rules ask); anything else
// — a crash, a sanitizer report, an unbounded allocation, another exception
// type — escapes the harness and is reported by the fuzzer as a bug.
//
// Several inputs are directories or file pairs; they are packed into one
// input as records "=== NAME\n" followed by the file's bytes up to the next
// "\n=== " (or the end). pack() writes that format.
#include <unistd.h>
#include <zlib.h>

#include <cctype>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "pixelwise/classifiers/network.hpp"
#include "pixelwise/classifiers/one_vs_one.hpp"
#include "pixelwise/classifiers/svm.hpp"
#include "pixelwise/pipelines/model/bow_model.hpp"
#include "pixelwise/features/image.hpp"
#include "pixelwise/pipelines/io/dataset.hpp"
#include "pixelwise/common/files.hpp"
#include "pixelwise/common/json_input.hpp"
#include "pixelwise/common/manifest_file.hpp"
#include "pixelwise/pipelines/model/network_model.hpp"
#include "pixelwise/pipelines/io/npy.hpp"

namespace pixelwise::fuzz {

using Files = std::vector<std::pair<std::string, std::string>>;

inline std::string pack(const Files& files) {
  std::string out;
  for (size_t i = 0; i < files.size(); ++i) out += (i ? "\n=== " : "=== ") + files[i].first + "\n" + files[i].second;
  return out;
}

/// Records with a plain file name (letters, digits, '.', '_', '-'; not
/// starting with '.'; at most 64 characters); other records are skipped.
inline Files unpack(const std::string& input) {
  Files files;
  const std::string delimiter = "\n=== ";
  std::string text = "\n" + input;
  size_t at = text.find(delimiter);
  while (at != std::string::npos) {
    const size_t name_start = at + delimiter.size();
    const size_t name_end = text.find('\n', name_start);
    if (name_end == std::string::npos) break;
    const size_t next = text.find(delimiter, name_end);
    const std::string name = text.substr(name_start, name_end - name_start);
    const std::string content =
        text.substr(name_end + 1, (next == std::string::npos ? text.size() : next) - name_end - 1);
    bool plain = !name.empty() && name.size() <= 64 && name[0] != '.';
    for (char c : name) plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
    if (plain) files.emplace_back(name, content);
    at = next;
  }
  return files;
}

/// A scratch folder of this process, emptied for each input.
inline std::filesystem::path scratch(const std::string& name) {
  static const std::filesystem::path root =
      std::filesystem::temp_directory_path() / ("pixelwise-fuzz-" + std::to_string(::getpid()));
  static const struct Cleanup {
    ~Cleanup() {
      std::error_code ignored;
      std::filesystem::remove_all(root, ignored);
    }
  } cleanup;
  const std::filesystem::path dir = root / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline void write(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

template <typename Fn>
void expect_clean(Fn&& fn) {
  try {
    fn();
  } catch (const std::runtime_error&) {
  } catch (const std::invalid_argument&) {
  }
}

// --- the harnesses ---------------------------------------------------------

/// .npy arrays (codebook.npy, support_vectors.npy, class_means.npy).
inline void npy(const std::string& input) {
  expect_clean([&] { parse_npy_f8(input, "fuzz.npy"); });
  expect_clean([&] { parse_npy_f4(input, "fuzz.npy"); });
}

/// libsvm model files: the strict parser, and the one-vs-rest and one-vs-one
/// loaders on top of it (5 rows of support vectors, 3 classes).
inline void libsvm_model(const std::string& input) {
  expect_clean([&] { LibsvmModel::parse(input, "fuzz.model"); });
  const std::filesystem::path file = scratch("libsvm") / "svm.model";
  write(file, input);
  const RowMatrixXd table = RowMatrixXd::Constant(5, 3, 0.25);
  expect_clean([&] { OneVsRestSvm::load(KernelType::intersection, table, {file.string()}); });
  expect_clean([&] { OneVsOneSvm::load(KernelType::intersection, table, 3, file.string()); });
}

/// Pipeline configuration files (pixelwise train --config).
inline void config(const std::string& input) {
  const std::filesystem::path file = scratch("config") / "config.json";
  write(file, input);
  expect_clean([&] { PipelineConfig::load(file.string()); });
}

/// Model directories (BoW and network): the records become the files. Sizes
/// and checksums in a manifest that parses are set to the files' own, so that
/// changed contents reach the readers behind the integrity check (which the
/// unit tests cover).
inline void model_dir(const std::string& input) {
  const std::filesystem::path dir = scratch("model");
  const Files files = unpack(input);
  for (const auto& [name, bytes] : files) write(dir / name, bytes);
  for (const auto& [name, bytes] : files) {
    if (name != "manifest.json") continue;
    // Through the readers' own JSON limits (docs/errors.md, "Limits"): a
    // manifest too deep for them is left as it is for the loaders to refuse.
    nlohmann::json manifest;
    try {
      manifest = parse_json_input(bytes, "fuzz manifest");
    } catch (const std::runtime_error&) {
      break;
    }
    if (!manifest.is_object() || !manifest.contains("files") || !manifest["files"].is_object()) break;
    for (auto& [file, info] : manifest["files"].items())
      for (const auto& [other, content] : files)
        if (other == file && info.is_object()) {
          info["bytes"] = content.size();
          info["crc32"] = crc32_of(content);
        }
    const std::string text = manifest.dump();
    write(dir / name, text);
    // A checksum record is kept in step too, so that the edited manifest
    // reaches the loaders; a manifest.crc32 beside a manifest that does not
    // parse stays as fuzzed.
    for (const auto& [other, content] : files)
      if (other == kManifestChecksumFile) {
        char hex[9];
        std::snprintf(hex, sizeof hex, "%08x", crc32_of(text));
        write(dir / other, std::string(hex) + "\n");
      }
  }
  expect_clean([&] { BowModel::load(dir.string()); });
  expect_clean([&] { NetworkModel::load(dir.string()); });
}

/// Fashion-MNIST IDX files: records "images" and "labels" become the gzip
/// files of the test split in a folder given as PIXELWISE_FASHION_MNIST_DIR.
inline void idx(const std::string& input) {
  // A new folder each time: the reader keeps parsed files by path, size and
  // modification time, which two quick writes of one size could share.
  static long calls = 0;
  const std::filesystem::path dir = scratch("idx") / std::to_string(calls++);
  std::filesystem::create_directories(dir);
  for (const auto& [name, bytes] : unpack(input)) {
    const char* target = name == "images" ? "t10k-images-idx3-ubyte.gz" : name == "labels" ? "t10k-labels-idx1-ubyte.gz" : nullptr;
    if (!target) continue;
    gzFile out = gzopen((dir / target).c_str(), "wb");
    if (!out) continue;
    if (!bytes.empty()) gzwrite(out, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(out);
  }
  const char* previous = std::getenv("PIXELWISE_FASHION_MNIST_DIR");
  const std::string restore = previous ? previous : "";
  ::setenv("PIXELWISE_FASHION_MNIST_DIR", dir.c_str(), 1);
  expect_clean([&] { load_dataset("fashion-mnist:test:3"); });
  expect_clean([&] { load_image_reference("fashion-mnist:test@1"); });
  if (previous)
    ::setenv("PIXELWISE_FASHION_MNIST_DIR", restore.c_str(), 1);
  else
    ::unsetenv("PIXELWISE_FASHION_MNIST_DIR");
}

/// Networks in the LRP Toolbox's plain-text format.
inline void toolbox(const std::string& input) {
  expect_clean([&] { Network::parse_toolbox(input, "fuzz.txt"); });
}

/// Image files as pixelwise reads them (decode_image_bytes): the PNG and JPEG
/// structure walk (truncation, header sizes) and OpenCV's decoders behind it.
/// Only PNG and JPEG inputs are decoded, so that the fuzzer explores these two
/// rather than every codec OpenCV links; the pixel limit is lowered so that a
/// header claiming a huge image is refused before it is allocated
/// (docs/errors.md, "Limits").
inline void image(const std::string& input) {
  const bool png = input.compare(0, 8, "\x89PNG\r\n\x1a\n", 8) == 0;
  const bool jpeg = input.compare(0, 3, "\xFF\xD8\xFF", 3) == 0;
  if (!png && !jpeg) return;
  ::setenv("PIXELWISE_MAX_IMAGE_PIXELS", "1048576", 1);
  expect_clean([&] {
    const cv::Mat decoded = decode_image_bytes(input, "fuzz image");
    to_gray_float(decoded, "fuzz image");
  });
  ::unsetenv("PIXELWISE_MAX_IMAGE_PIXELS");
}

}  // namespace pixelwise::fuzz
