#include "pixelwise/common/files.hpp"
#include "pixelwise/common/folder_lock.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <set>
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

// The process id in a temporary name NAME.partial-PID or NAME.partial-PID-N
// (below), or 0 when `name` is not one.
long partial_writer(const std::string& name) {
  const size_t at = name.rfind(".partial-");
  if (at == std::string::npos) return 0;
  const std::string rest = name.substr(at + 9);
  const size_t dash = rest.find('-');
  const std::string pid = rest.substr(0, dash), counter = dash == std::string::npos ? "1" : rest.substr(dash + 1);
  auto digits = [](const std::string& s) {
    return !s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos;
  };
  return digits(pid) && digits(counter) ? std::stol(pid) : 0;
}

// Removes the temporaries that a killed writer left in `folder` (files
// NAME.partial-PID-N, folders NAME.partial-PID) whose process no longer runs,
// once per folder and process, before its first write there (docs/errors.md,
// "Atomic outputs"). This process's own temporaries, and those of a running
// process, are left alone.
void clean_stale_partials(const std::filesystem::path& folder) {
  static std::mutex mutex;
  static std::set<std::string> cleaned;
  const std::string key = std::filesystem::absolute(folder).lexically_normal().string();
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (!cleaned.insert(key).second) return;
  }
  std::error_code error;
  for (std::filesystem::directory_iterator it(key, error), end; !error && it != end; it.increment(error)) {
    const long pid = partial_writer(it->path().filename().string());
    if (pid <= 0 || pid == ::getpid() || pid > std::numeric_limits<pid_t>::max()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // running (or not ours to probe)
    std::error_code ignored;
    std::filesystem::remove_all(it->path(), ignored);
  }
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& bytes, Durability durability) {
  clean_stale_partials(std::filesystem::absolute(path).parent_path());
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
  ok = ok && (durability == Durability::later || ::fsync(fd) == 0);
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
  if (durability == Durability::now) sync_folder_of(path);
}

void sync_filesystem_of(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(path + ": cannot open it to sync its file system: " + std::strerror(errno));
  const int synced = ::syncfs(fd), error = errno;
  ::close(fd);
  if (synced != 0) throw std::runtime_error(path + ": file system sync failed: " + std::strerror(error));
}

std::string crc32_hex(std::uint32_t crc) {
  char buffer[9];
  std::snprintf(buffer, sizeof buffer, "%08x", crc);
  return buffer;
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

void check_folder_replaceable(const std::string& dir, const std::string& marker, const std::string& kind) {
  namespace fs = std::filesystem;
  const fs::path target(dir);
  if (fs::exists(target) && !(fs::is_directory(target) && (fs::is_empty(target) || fs::exists(target / marker))))
    throw std::runtime_error(dir + ": exists and is not a " + kind + "; refusing to replace it");
}

void write_folder_atomically(const std::string& dir, const std::string& marker, const std::string& kind,
                             const std::function<void(const std::filesystem::path& partial)>& fill) {
  namespace fs = std::filesystem;
  const fs::path target = fs::absolute(dir).lexically_normal();
  // One writer per model directory (docs/errors.md, "Concurrent writers").
  fs::create_directories(target.parent_path());
  clean_stale_partials(target.parent_path());
  FolderLock lock(target.string());
  lock.acquire();
  check_folder_replaceable(dir, marker, kind);
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
