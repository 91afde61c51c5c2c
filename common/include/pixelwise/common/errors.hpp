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
#include <exception>
#include <new>
#include <stdexcept>
#include <string>

namespace pixelwise {

class UsageError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The message of `e` for a person: its what(), or, for std::bad_alloc (whose
/// what() says only "std::bad_alloc"), that memory ran out.
inline std::string error_text(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e))
    return "out of memory (std::bad_alloc): the system refused an allocation; try a smaller image or model, or "
           "fewer --jobs";
  return e.what();
}

/// Rethrows the exception being handled (call it inside a catch block) with a
/// message that names `what` (an image reference, a model path): prefixed
/// with "WHAT: " unless the message already names it. std::bad_alloc becomes
/// a std::runtime_error saying that memory ran out while processing `what`.
/// The kind (UsageError, InputError, std::invalid_argument, other) is kept.
[[noreturn]] inline void rethrow_naming(const std::string& what) {
  auto named = [&](const std::exception& e) {
    const std::string text = error_text(e);
    return text.find(what) != std::string::npos ? text : what + ": " + text;
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
