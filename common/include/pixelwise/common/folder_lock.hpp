#pragma once
// One writer per output folder (docs/errors.md, "Concurrent writers"): an
// exclusive advisory lock (flock) on a hidden lock file beside the folder,
// PARENT/.NAME.pixelwise-lock, held while a process writes the folder and
// removed when it is done. Beside rather than inside, so that the lock can be
// taken before the folder exists (folders are made right before their first
// write) and a model directory can be swapped in as a whole. A second writer
// is refused at once with a message naming the folder; a lock left by a
// process that died is released by the system and taken over.
#include <string>

namespace pixelwise {

class FolderLock {
 public:
  /// Locks `folder` now if its parent folder exists, otherwise at acquire().
  explicit FolderLock(std::string folder);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;
  /// Takes the lock if not yet held (the parent folder must exist by now);
  /// throws std::runtime_error naming the folder when another process holds it.
  void acquire();
  bool held() const { return fd_ >= 0; }
  /// The lock file of `folder`.
  static std::string lock_path(const std::string& folder);

 private:
  std::string folder_, path_;
  int fd_ = -1;
};

}  // namespace pixelwise
