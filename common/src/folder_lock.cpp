#include "pixelwise/common/folder_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace fs = std::filesystem;

namespace pixelwise {

std::string FolderLock::lock_path(const std::string& folder) {
  const fs::path target = fs::absolute(folder).lexically_normal();
  const fs::path clean = target.has_filename() ? target : target.parent_path();  // "out/" names "out"
  return (clean.parent_path() / ("." + clean.filename().string() + ".pixelwise-lock")).string();
}

FolderLock::FolderLock(std::string folder) : folder_(std::move(folder)), path_(lock_path(folder_)) {
  if (fs::is_directory(fs::path(path_).parent_path())) acquire();
}

void FolderLock::acquire() {
  while (fd_ < 0) {
    const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error(folder_ + ": cannot create the lock file " + path_ + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      ::close(fd);
      if (error == EWOULDBLOCK)
        throw std::runtime_error(folder_ + ": another pixelwise process is writing this folder (it holds " + path_ +
                                 "); wait for it to finish or choose another folder");
      throw std::runtime_error(folder_ + ": cannot lock " + path_ + ": " + std::strerror(error));
    }
    // The holder before us may have removed the file between our open and
    // flock; then the lock is on a file nobody else will open: try again.
    struct stat opened {}, named {};
    if (::fstat(fd, &opened) == 0 && ::stat(path_.c_str(), &named) == 0 && opened.st_ino == named.st_ino &&
        opened.st_dev == named.st_dev) {
      fd_ = fd;
    } else {
      ::close(fd);
    }
  }
}

FolderLock::~FolderLock() {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());  // while still locked, so that no one locks the removed file unknowingly
  ::close(fd_);
}

}  // namespace pixelwise
