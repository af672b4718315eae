// Row-wise softmax and log-softmax over the last dim, forward and backward. x: (rows, dim).
#include "../common/dispatch.h"
#include "check.h"
#include "device.h"
#include "kernels.h"

namespace ar::cuda {

namespace {

// One warp per row: an online (max, sum) pass, then the write pass.
template <typename T>
__global__ void softmaxForwardKernel(const T* x, T* out, int64_t rows, int64_t dim, bool logOut) {
  using A = Acc<T>;
  for (int64_t r = firstWarp(); r < rows; r += warpStep()) {
    const int64_t base = r * dim;
    MaxSum<A> st = emptyMaxSum<A>();
    for (int64_t j = laneId(); j < dim; j += 32) addTo(st, A(load(x, base + j)));
    st = warpReduce(st, Merge());
    const A lse = st.m + log(st.s);
    for (int64_t j = laneId(); j < dim; j += 32) {
      const A v = A(load(x, base + j)) - lse;
      store(out, base + j, logOut ? v : exp(v));
    }
  }
}

// softmax: dx = y * (g - sum(g * y)); log-softmax: dx = g - exp(y) * sum(g).
template <typename T>
__global__ void softmaxBackwardKernel(const T* y, const T* g, T* dx, int64_t rows, int64_t dim, bool logOut) {
  using A = Acc<T>;
  for (int64_t r = firstWarp(); r < rows; r += warpStep()) {
    const int64_t base = r * dim;
    A s = 0;
    for (int64_t j = laneId(); j < dim; j += 32) s += logOut ? A(load(g, base + j)) : A(load(g, base + j)) * A(load(y, base + j));
    s = warpReduce(s, Add());
    for (int64_t j = laneId(); j < dim; j += 32) {
      const A yj = load(y, base + j), gj = load(g, base + j);
      store(dx, base + j, logOut ? gj - exp(yj) * s : yj * (gj - s));
    }
  }
}

}  // namespace

void softmaxForward(const SoftmaxArgs& a) {
  if (a.rows == 0) return;
  dispatchFloat(a.x.dtype, "softmax", [&](auto tag) {
    using T = decltype(tag);
    softmaxForwardKernel<T><<<gridFor(a.rows * 32), kThreads, 0, context().stream>>>(as<T>(a.x), as<T>(a.out), a.rows, a.dim, a.log);
    CUDA_CHECK_LAUNCH();
  });
}

void softmaxBackward(const SoftmaxBackwardArgs& a) {
  if (a.rows == 0) return;
  dispatchFloat(a.y.dtype, "softmax backward", [&](auto tag) {
    using T = decltype(tag);
    softmaxBackwardKernel<T><<<gridFor(a.rows * 32), kThreads, 0, context().stream>>>(as<T>(a.y), as<T>(a.g), as<T>(a.dx), a.rows,
                                                                                       a.dim, a.log);
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace ar::cuda
