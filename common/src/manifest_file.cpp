#include "pixelwise/common/manifest_file.hpp"

#include <cstdio>
#include <stdexcept>

#include "pixelwise/common/files.hpp"

namespace pixelwise {

void require_model_directory(const std::string& dir) {
  if (std::filesystem::is_directory(dir)) return;
  if (std::filesystem::exists(dir))
    throw std::runtime_error(dir + ": is a file, not a model directory (a model directory holds " +
                             std::string(kManifestFile) + "; an LRP Toolbox network file is read when its name ends "
                             "in .txt)");
  throw std::runtime_error(dir + ": model directory does not exist");
}

void write_manifest(const std::filesystem::path& dir, const std::string& text) {
  write_file_atomically((dir / kManifestFile).string(), text);
  write_file_atomically((dir / kManifestChecksumFile).string(), crc32_hex(crc32_of(text)) + "\n");
}

std::string read_verified_manifest(const std::filesystem::path& dir) {
  const std::string path = (dir / kManifestFile).string();
  const std::string text = read_file(path);
  const std::filesystem::path checksum_path = dir / kManifestChecksumFile;
  if (!std::filesystem::exists(checksum_path)) return text;  // written before the checksum existed
  std::string stored = read_file(checksum_path.string());
  if (!stored.empty() && stored.back() == '\n') stored.pop_back();
  bool hex = stored.size() == 8;
  for (const char c : stored) hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!hex)
    throw std::runtime_error(checksum_path.string() + ": damaged (expected the manifest's CRC-32 as 8 hex digits)");
  if (stored != crc32_hex(crc32_of(text)))
    throw std::runtime_error(path + ": edited or damaged (its CRC-32 differs from the one in " +
                             std::string(kManifestChecksumFile) + ")");
  return text;
}

}  // namespace pixelwise
