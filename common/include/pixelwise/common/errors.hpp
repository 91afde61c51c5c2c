#pragma once
// The kinds of error pixelwise reports, and how an error is made to name its
// input (docs/errors.md, "Exit status" and "Error types").
//
//   UsageError   a command-line option value that cannot be parsed or is out
//                of range whatever the model and data (--shard 3/2, --tiles
//                0,0, --jobs -1): the pixelwise command exits with status 2;
//                Python raises ValueError.
//   InputError   a value the caller gave that this model or run cannot take
//                (a class the model does not have, an image too small for
//                its descriptors or of another size than a network's input):
//                status 1, as every failure that depends on the model;
//                Python raises ValueError.
// Every other std::invalid_argument is a bad value too (Python ValueError);
// every other std::runtime_error a bad file, model or resource (Python
// RuntimeError). The Python module maps these types, never message text.
#include <cstdlib>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

namespace pixelwise {

class UsageError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A std::bad_alloc that says what was being built when memory ran out (a
/// VLFeat object, whose constructors return null instead of throwing), so that
/// the message tells which allocation failed (docs/errors.md, "Limits").
/// Handlers of std::bad_alloc catch it as one.
class AllocationError : public std::bad_alloc {
 public:
  explicit AllocationError(std::string building) : building_(std::move(building)) {}
  const char* what() const noexcept override { return building_.c_str(); }
  const std::string& building() const { return building_; }

 private:
  std::string building_;
};

/// `p`, or AllocationError(building) when it is null: VLFeat's constructors
/// (vl_kmeans_new, vl_gmm_new, vl_kdforest_new, vl_svm_new..., vl_sift_new,
/// vl_dsift_new...) return null when memory runs out.
template <typename T>
T* allocated(T* p, const std::string& building) {
  if (!p) throw AllocationError(building);
  return p;
}

/// Allocates `bytes` and frees them again, or throws AllocationError(building):
/// for VLFeat functions that allocate their buffers without checking them and
/// write into them (vl_dsift_process, vl_sift_new's scale space, vl_gmm_new,
/// k-means and GMM clustering), the same amount is asked for first, so that
/// memory running out is an error, not a crash.
inline void reserve_or_throw(std::size_t bytes, const std::string& building) {
  void* probe = std::malloc(bytes ? bytes : 1);
  if (!probe) throw AllocationError(building);
  std::free(probe);
}

/// The message of `e` for a person: its what(), or, for std::bad_alloc (whose
/// what() says only "std::bad_alloc"), that memory ran out, and what was being
/// built when it is an AllocationError.
inline std::string error_text(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e)) {
    const auto* building = dynamic_cast<const AllocationError*>(&e);
    return std::string("out of memory (std::bad_alloc)") + (building ? " while building " + building->building() : "") +
           ": the system refused an allocation; try a smaller image or model, or fewer --jobs";
  }
  return e.what();
}

/// Whether `text` already names `what` (an image reference, a model path): it
/// starts with "WHAT: " (or is "WHAT:") or with "WHAT/" (a file inside the
/// folder WHAT, as a model directory's files are named), carries it as a step
/// of a chain of prefixes ("...: WHAT: ..."), or quotes it ("\"WHAT\""). A
/// mere substring does not count: an image "a.png" is not named by a message
/// about "data/a.png.json", nor a one-letter name by any word holding that
/// letter.
inline bool names_input(const std::string& text, const std::string& what) {
  if (what.empty()) return true;
  if (text.compare(0, what.size(), what) == 0) {
    const std::string rest = text.substr(what.size());
    if (rest == ":" || rest.rfind(": ", 0) == 0 || (what.back() != '/' && rest.rfind('/', 0) == 0)) return true;
  }
  return text.find(": " + what + ": ") != std::string::npos || text.find('"' + what + '"') != std::string::npos;
}

/// Rethrows the exception being handled (call it inside a catch block) with a
/// message that names `what` (an image reference, a model path): prefixed
/// with "WHAT: " unless the message already names it (names_input). std::bad_alloc becomes
/// a std::runtime_error saying that memory ran out while processing `what`.
/// The kind (UsageError, InputError, std::invalid_argument, other) is kept.
[[noreturn]] inline void rethrow_naming(const std::string& what) {
  auto named = [&](const std::exception& e) {
    const std::string text = error_text(e);
    return names_input(text, what) ? text : what + ": " + text;
  };
  try {
    throw;
  } catch (const UsageError& e) {
    throw UsageError(named(e));
  } catch (const InputError& e) {
    throw InputError(named(e));
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(named(e));
  } catch (const std::exception& e) {
    throw std::runtime_error(named(e));
  }
}

/// f(), with any exception rethrown naming `what` (rethrow_naming).
template <typename F>
decltype(auto) naming_input(const std::string& what, F&& f) {
  try {
    return f();
  } catch (...) {
    rethrow_naming(what);
  }
}

}  // namespace pixelwise
