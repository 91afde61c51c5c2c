#pragma once
// The one place the features part calls a BLAS (OpenBLAS through CBLAS):
// float32 and float64 products of a block of rows with a fixed matrix, on the calling
// thread. Batches run one image per thread (--jobs), so a BLAS that started
// threads of its own would oversubscribe the cores: it is limited to one.
namespace pixelwise::blas {

/// out (rows x n, row-major) = a (rows x d, row-major) * b^T, with b (n x d,
/// row-major): the inner products of every row of a with every row of b.
void products_with_transposed(const float* a, long rows, const float* b, long n, long d, float* out);
/// The same in double.
void products_with_transposed(const double* a, long rows, const double* b, long n, long d, double* out);

}  // namespace pixelwise::blas
