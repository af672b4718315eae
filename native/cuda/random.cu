// Counter-based random numbers: value i is a pure function of (seed, i), identical on every backend.
#include "../common/dispatch.h"
#include "../common/random.h"
#include "check.h"
#include "device.h"
#include "kernels.h"

namespace ar::cuda {

namespace {

// Computed in double like cpu/random.cc, so both backends round the same value.
template <typename T>
__global__ void randomKernel(T* out, int64_t n, RandomKind kind, uint64_t seed, double a, double b) {
  for (int64_t i = firstIndex(); i < n; i += indexStep()) {
    double v = kind == RandomKind::Normal ? a + b * normalAt(seed, uint64_t(i)) : a + (b - a) * uniformAt(seed, uint64_t(i));
    store(out, i, Acc<T>(v));
  }
}

}  // namespace

void random(const RandomArgs& a) {
  if (a.n == 0) return;
  dispatchFloat(a.out.dtype, "random", [&](auto tag) {
    using T = decltype(tag);
    randomKernel<T><<<gridFor(a.n), kThreads, 0, context().stream>>>(as<T>(a.out), a.n, a.kind, a.seed, a.a, a.b);
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace ar::cuda
