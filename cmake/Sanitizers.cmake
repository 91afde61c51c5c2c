# Sanitizer and fuzzing builds (docs/errors.md), before any target is defined.
#   PIXELWISE_SANITIZE  AddressSanitizer + UndefinedBehaviorSanitizer for every
#                       target (GCC or clang); any report stops the program.
#   PIXELWISE_FUZZ      the libFuzzer programs of fuzz/ (clang only); the
#                       libraries are instrumented for coverage (implies SANITIZE).
option(PIXELWISE_SANITIZE "build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(PIXELWISE_FUZZ "build the libFuzzer targets in fuzz/ (clang only)" OFF)
if(PIXELWISE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "PIXELWISE_FUZZ needs clang (CXX=clang++), not ${CMAKE_CXX_COMPILER_ID}")
  endif()
  set(PIXELWISE_SANITIZE ON CACHE BOOL "" FORCE)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
if(PIXELWISE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
