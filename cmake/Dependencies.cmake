# Finds the Debian packages pixelwise depends on (docs/design.md section 4) and wraps
# the two C libraries without CMake config files as imported targets.
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS unit_test_framework)

find_path(LIBSVM_INCLUDE_DIR libsvm/svm.h REQUIRED)
find_library(LIBSVM_LIBRARY NAMES svm REQUIRED)
add_library(pixelwise::libsvm UNKNOWN IMPORTED)
set_target_properties(pixelwise::libsvm PROPERTIES
  IMPORTED_LOCATION ${LIBSVM_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${LIBSVM_INCLUDE_DIR})

find_path(VLFEAT_INCLUDE_DIR vl/generic.h REQUIRED)
find_library(VLFEAT_LIBRARY NAMES vl REQUIRED)
add_library(pixelwise::vlfeat UNKNOWN IMPORTED)
set_target_properties(pixelwise::vlfeat PROPERTIES
  IMPORTED_LOCATION ${VLFEAT_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${VLFEAT_INCLUDE_DIR})

# OpenBLAS (Debian's libopenblas-dev, its pthread flavour) for the float32
# matrix products of nearest-word search (features/src/coding). Found through
# the flavour's own CMake file, not the generic libblas/cblas.h alternatives,
# which may point at the reference BLAS without openblas_set_num_threads.
find_package(OpenBLAS CONFIG REQUIRED)
add_library(pixelwise::openblas INTERFACE IMPORTED)
set_target_properties(pixelwise::openblas PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${OpenBLAS_INCLUDE_DIRS}"
  INTERFACE_LINK_LIBRARIES "${OpenBLAS_LIBRARIES}")
