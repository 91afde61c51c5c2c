#pragma once
// A command-line usage error: an option value that cannot be parsed or is out
// of range whatever the model and data (--shard 3/2, --tiles 0,0, --jobs -1).
// The pixelwise command exits with status 2 for these and for CLI11's parse
// errors, and 1 for every other failure (docs/errors.md, "Exit status").
#include <stdexcept>

namespace pixelwise {

class UsageError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace pixelwise
