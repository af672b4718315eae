// RMSNorm without weight over the last dim: y = x / sqrt(mean(x^2) + eps). x: (rows, dim); rstd: (rows,) in Acc.
#include "../common/dispatch.h"
#include "check.h"
#include "device.h"
#include "kernels.h"

namespace ar::cuda {

namespace {

// One warp per row.
template <typename T>
__global__ void rmsNormForwardKernel(const T* x, T* out, Acc<T>* rstd, int64_t rows, int64_t dim, Acc<T> eps) {
  using A = Acc<T>;
  for (int64_t r = firstWarp(); r < rows; r += warpStep()) {
    const int64_t base = r * dim;
    A ss = 0;
    for (int64_t j = laneId(); j < dim; j += 32) {
      const A v = load(x, base + j);
      ss += v * v;
    }
    const A s = A(1) / sqrt(warpReduce(ss, Add()) / A(dim) + eps);
    if (laneId() == 0) rstd[r] = s;
    for (int64_t j = laneId(); j < dim; j += 32) store(out, base + j, load(x, base + j) * s);
  }
}

// dx = rstd * (g - x * c) with c = mean(g * x) * rstd^2, which is rstd * (g - y * mean(g * y)).
template <typename T>
__global__ void rmsNormBackwardKernel(const T* y, const Acc<T>* rstd, const T* g, T* dx, int64_t rows, int64_t dim) {
  using A = Acc<T>;
  for (int64_t r = firstWarp(); r < rows; r += warpStep()) {
    const int64_t base = r * dim;
    A dot = 0;
    for (int64_t j = laneId(); j < dim; j += 32) dot += A(load(g, base + j)) * A(load(y, base + j));
    const A s = rstd[r];
    const A c = warpReduce(dot, Add()) / A(dim);
    for (int64_t j = laneId(); j < dim; j += 32) store(dx, base + j, s * (load(g, base + j) - load(y, base + j) * c));
  }
}

}  // namespace

void rmsNormForward(const RmsNormArgs& a) {
  if (a.rows == 0) return;
  dispatchFloat(a.x.dtype, "rms_norm", [&](auto tag) {
    using T = decltype(tag);
    using A = Acc<T>;
    rmsNormForwardKernel<T><<<gridFor(a.rows * 32), kThreads, 0, context().stream>>>(as<T>(a.x), as<T>(a.out), as<A>(a.rstd),
                                                                                     a.rows, a.dim, A(a.eps));
    CUDA_CHECK_LAUNCH();
  });
}

void rmsNormBackward(const RmsNormBackwardArgs& a) {
  if (a.rows == 0) return;
  dispatchFloat(a.y.dtype, "rms_norm backward", [&](auto tag) {
    using T = decltype(tag);
    using A = Acc<T>;
    rmsNormBackwardKernel<T><<<gridFor(a.rows * 32), kThreads, 0, context().stream>>>(as<T>(a.y), as<A>(a.rstd), as<T>(a.g),
                                                                                      as<T>(a.dx), a.rows, a.dim);
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace ar::cuda
