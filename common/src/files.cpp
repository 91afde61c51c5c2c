#include "pixelwise/common/files.hpp"
#include "pixelwise/common/folder_lock.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace pixelwise {

namespace {

// fsync of the folder holding `path`, so that a rename into it survives a
// crash of the machine (docs/errors.md, "Atomic outputs").
void sync_folder_of(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::absolute(path).parent_path();
  const int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(path + ": cannot open its folder to sync it: " + std::strerror(errno));
  const int synced = ::fsync(fd), error = errno;
  ::close(fd);
  if (synced != 0 && error != EINVAL) throw std::runtime_error(path + ": folder sync failed: " + std::strerror(error));
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& bytes) {
  static std::atomic<unsigned> counter{0};
  const std::string temporary =
      path + ".partial-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  // The bytes reach the disk (fsync) before the rename makes them the file,
  // and the folder is synced after it: after a crash the file is either the
  // old one or the complete new one (docs/errors.md, "Atomic outputs").
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(path + ": cannot open for writing: " + std::strerror(errno));
  size_t done = 0;
  bool ok = true;
  while (ok && done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  const int write_error = ok ? 0 : errno;
  ok = ok && ::fsync(fd) == 0;
  const int sync_error = ok ? 0 : errno;
  ok = (::close(fd) == 0) && ok;
  if (!ok) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw std::runtime_error(path + ": write failed: " + std::strerror(write_error ? write_error : sync_error ? sync_error : errno));
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::filesystem::remove(temporary, error);
    throw std::runtime_error(path + ": cannot move the finished file into place");
  }
  sync_folder_of(path);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open (missing or unreadable)");
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw std::runtime_error(path + ": read failed");
  return s.str();
}

std::uint32_t crc32_of(const std::string& bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  size_t done = 0;
  while (done < bytes.size()) {
    const uInt chunk = static_cast<uInt>(std::min<size_t>(bytes.size() - done, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + done), chunk);
    done += chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

void write_folder_atomically(const std::string& dir, const std::string& marker, const std::string& kind,
                             const std::function<void(const std::filesystem::path& partial)>& fill) {
  namespace fs = std::filesystem;
  const fs::path target = fs::absolute(dir).lexically_normal();
  // One writer per model directory (docs/errors.md, "Concurrent writers").
  fs::create_directories(target.parent_path());
  FolderLock lock(target.string());
  lock.acquire();
  if (fs::exists(target) && !(fs::is_directory(target) && (fs::is_empty(target) || fs::exists(target / marker))))
    throw std::runtime_error(dir + ": exists and is not a " + kind + "; refusing to replace it");
  const fs::path partial = target.string() + ".partial-" + std::to_string(::getpid());
  fs::remove_all(partial);
  fs::create_directories(partial);
  try {
    fill(partial);
    if (fs::exists(target)) {
      const fs::path old = target.string() + ".old-" + std::to_string(::getpid());
      fs::rename(target, old);
      fs::rename(partial, target);
      fs::remove_all(old);
    } else {
      fs::rename(partial, target);
    }
    sync_folder_of(target.string());
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(partial, ignored);
    throw;
  }
}

}  // namespace pixelwise
