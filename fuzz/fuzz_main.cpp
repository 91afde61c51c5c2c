// One libFuzzer program per harness of fuzz_targets.hpp; the harness is chosen
// at compile time (fuzz/CMakeLists.txt defines PIXELWISE_FUZZ_TARGET).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pixelwise::fuzz::PIXELWISE_FUZZ_TARGET(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
