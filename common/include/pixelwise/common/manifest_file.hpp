#pragma once
// The manifest of a model directory and its checksum (docs/errors.md, "Model
// directories"). manifest.json lists the size and CRC-32 of every other file
// of the directory; manifest.crc32 holds the CRC-32 of manifest.json itself
// (eight hex digits and a newline), so that an edited or damaged manifest is
// refused instead of describing files it no longer matches. The checksum is
// always written and checked when present: directories written before it
// existed (format 1 as first released) have none and still load.
#include <filesystem>
#include <string>

namespace pixelwise {

inline constexpr const char* kManifestFile = "manifest.json";
inline constexpr const char* kManifestChecksumFile = "manifest.crc32";

/// Throws std::runtime_error naming `dir` when it is not a folder: "is a
/// file, not a model directory" for a file (the user gave a wrong path, not a
/// missing one), "model directory does not exist" otherwise.
void require_model_directory(const std::string& dir);

/// Writes DIR/manifest.json and DIR/manifest.crc32, each atomically.
void write_manifest(const std::filesystem::path& dir, const std::string& text);

/// The text of DIR/manifest.json, verified against DIR/manifest.crc32 when that
/// exists; throws std::runtime_error naming the file that is missing, damaged
/// or does not match.
std::string read_verified_manifest(const std::filesystem::path& dir);

}  // namespace pixelwise
