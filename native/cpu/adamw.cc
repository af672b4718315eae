// Fused AdamW step: p *= 1 - lr wd; m = lerp(m, g, 1-b1); v = lerp(v, g^2, 1-b2);
// p -= (lr / bias1) m / (sqrt(v / bias2) + eps), with bias_i = 1 - beta_i^t.
#include <cmath>
#include "../common/dispatch.h"
#include "kernels.h"
#include "parallel.h"

namespace ar::cpu {

void adamw(const AdamwArgs& a) {
  dispatchFloat(a.p.dtype, "adamw", [&](auto tag) {
    using T = decltype(tag);
    using A = typename Scalar<T>::Acc;
    T* p = as<T>(a.p);
    const T* g = as<T>(a.g);
    A *m = as<A>(a.m), *v = as<A>(a.v);
    const A b1 = A(a.beta1), b2 = A(a.beta2), eps = A(a.eps);
    const A decay = A(1 - a.lr * a.weightDecay), stepSize = A(a.lr / a.bias1), b2c = A(a.bias2);
    parallelFor(a.n, 16, [&](int64_t i) {
      const A gi = Scalar<T>::load(g, i);
      m[i] += (gi - m[i]) * (A(1) - b1);
      v[i] += (gi * gi - v[i]) * (A(1) - b2);
      const A pi = Scalar<T>::load(p, i) * decay - stepSize * m[i] / (std::sqrt(v[i] / b2c) + eps);
      Scalar<T>::store(p, i, pi);
    });
  });
}

}  // namespace ar::cpu
