#pragma once
// Output files are written atomically: to a temporary name in the same folder,
// then renamed, so a failure never leaves a half-written file behind.
#include <cstdint>
#include <string>
#include <vector>

namespace pixelwise {

void write_file_atomically(const std::string& path, const std::string& bytes);
std::string read_file(const std::string& path);
/// CRC-32 (zlib) of a byte string, for the model manifest's integrity check.
std::uint32_t crc32_of(const std::string& bytes);

}  // namespace pixelwise
