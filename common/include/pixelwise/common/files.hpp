#pragma once
// Output files are written atomically: to a temporary name in the same folder,
// then renamed, so a failure never leaves a half-written file behind.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace pixelwise {

/// When an atomic write reaches the disk (docs/errors.md, "Atomic outputs").
/// `now`: the bytes are fsynced before the rename and the folder after it, so
/// that even a crash of the machine leaves the old file or the complete new
/// one. `later`: the rename alone, which is atomic for readers and for a
/// killed process but not across a crash of the machine; for batches of
/// outputs that can be verified (an explanation's JSON records the size and
/// CRC-32 of its other files), whose writer calls sync_filesystem_of once at
/// the end instead of paying two fsyncs per file.
enum class Durability { now, later };

void write_file_atomically(const std::string& path, const std::string& bytes, Durability durability = Durability::now);
/// syncfs(2) of the file system holding `path`: what was written `later`
/// reaches the disk. Throws naming `path` when it fails.
void sync_filesystem_of(const std::string& path);
std::string read_file(const std::string& path);
/// CRC-32 (zlib) of a byte string, for the integrity checks of model
/// manifests and explanation records.
std::uint32_t crc32_of(const std::string& bytes);
/// Eight lower-case hex digits: how a CRC-32 is written in JSON and text files.
std::string crc32_hex(std::uint32_t crc);

/// Throws std::runtime_error naming `dir` unless write_folder_atomically may
/// replace it: it does not exist, or is an empty folder or one holding
/// `marker`. Commands call it before their work as well, so that a folder they
/// may not replace is refused before hours of training, not after.
void check_folder_replaceable(const std::string& dir, const std::string& marker, const std::string& kind);

/// Writes a folder atomically: `fill` writes into a fresh sibling folder
/// (DIR.partial-PID), which then takes the place of DIR; an older DIR is
/// removed only after the swap. DIR may already exist only as an empty folder
/// or one holding `marker` (a folder this program wrote, described as `kind`
/// in the refusal); anything else is refused. On any error the partial folder
/// is removed and DIR is left as it was.
void write_folder_atomically(const std::string& dir, const std::string& marker, const std::string& kind,
                             const std::function<void(const std::filesystem::path& partial)>& fill);

}  // namespace pixelwise
