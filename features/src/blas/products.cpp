#include "products.hpp"

#include <mutex>

extern "C" {
#include <cblas.h>
}

namespace pixelwise::blas {

namespace {
void one_blas_thread() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}
}  // namespace

void products_with_transposed(const float* a, long rows, const float* b, long n, long d, float* out) {
  one_blas_thread();
  if (rows == 0 || n == 0) return;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(rows), static_cast<blasint>(n),
              static_cast<blasint>(d), 1.0f, a, static_cast<blasint>(d), b, static_cast<blasint>(d), 0.0f, out,
              static_cast<blasint>(n));
}

void products_with_transposed(const double* a, long rows, const double* b, long n, long d, double* out) {
  one_blas_thread();
  if (rows == 0 || n == 0) return;
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(rows), static_cast<blasint>(n),
              static_cast<blasint>(d), 1.0, a, static_cast<blasint>(d), b, static_cast<blasint>(d), 0.0, out,
              static_cast<blasint>(n));
}

}  // namespace pixelwise::blas
