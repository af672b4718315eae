// Fused AdamW step: p *= 1 - lr wd; m = lerp(m, g, 1-b1); v = lerp(v, g^2, 1-b2);
// p -= (lr / bias1) m / (sqrt(v / bias2) + eps), with bias_i = 1 - beta_i^t. p, g: (n,); m, v: (n,) in Acc.
#include "../common/dispatch.h"
#include "check.h"
#include "device.h"
#include "kernels.h"

namespace ar::cuda {

namespace {

template <typename T>
__global__ void adamwKernel(T* p, const T* g, Acc<T>* m, Acc<T>* v, int64_t n, Acc<T> b1, Acc<T> b2, Acc<T> eps,
                            Acc<T> decay, Acc<T> stepSize, Acc<T> bias2) {
  using A = Acc<T>;
  for (int64_t i = firstIndex(); i < n; i += indexStep()) {
    const A gi = load(g, i);
    const A mi = m[i] + (gi - m[i]) * (A(1) - b1);
    const A vi = v[i] + (gi * gi - v[i]) * (A(1) - b2);
    m[i] = mi;
    v[i] = vi;
    store(p, i, load(p, i) * decay - stepSize * mi / (sqrt(vi / bias2) + eps));
  }
}

}  // namespace

void adamw(const AdamwArgs& a) {
  if (a.n == 0) return;
  dispatchFloat(a.p.dtype, "adamw", [&](auto tag) {
    using T = decltype(tag);
    using A = Acc<T>;
    adamwKernel<T><<<gridFor(a.n), kThreads, 0, context().stream>>>(
        as<T>(a.p), as<T>(a.g), as<A>(a.m), as<A>(a.v), a.n, A(a.beta1), A(a.beta2), A(a.eps), A(1 - a.lr * a.weightDecay),
        A(a.lr / a.bias1), A(a.bias2));
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace ar::cuda
