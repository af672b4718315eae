// RMSNorm without weight over the last dim: y = x / sqrt(mean(x^2) + eps). x: (rows, dim).
#include <cmath>
#include "../common/dispatch.h"
#include "kernels.h"
#include "parallel.h"

namespace ar::cpu {

void rmsNormForward(const RmsNormArgs& a) {
  dispatchFloat(a.x.dtype, "rms_norm", [&](auto tag) {
    using T = decltype(tag);
    using A = typename Scalar<T>::Acc;
    const T* x = as<T>(a.x);
    T* out = as<T>(a.out);
    A* rstd = as<A>(a.rstd);
    parallelFor(a.rows, a.dim, [&](int64_t r) {
      const int64_t base = r * a.dim;
      double ss = 0;
      for (int64_t j = 0; j < a.dim; ++j) { double v = Scalar<T>::load(x, base + j); ss += v * v; }
      A s = A(1.0 / std::sqrt(ss / double(a.dim) + a.eps));
      rstd[r] = s;
      for (int64_t j = 0; j < a.dim; ++j) Scalar<T>::store(out, base + j, Scalar<T>::load(x, base + j) * s);
    });
  });
}

void rmsNormBackward(const RmsNormBackwardArgs& a) {
  dispatchFloat(a.y.dtype, "rms_norm backward", [&](auto tag) {
    using T = decltype(tag);
    using A = typename Scalar<T>::Acc;
    const T *y = as<T>(a.y), *g = as<T>(a.g);
    const A* rstd = as<A>(a.rstd);
    T* dx = as<T>(a.dx);
    parallelFor(a.rows, a.dim, [&](int64_t r) {
      const int64_t base = r * a.dim;
      const A s = rstd[r];
      double dot = 0;
      for (int64_t j = 0; j < a.dim; ++j) dot += double(Scalar<T>::load(g, base + j)) * double(Scalar<T>::load(y, base + j));
      const A c = A(dot / double(a.dim));
      for (int64_t j = 0; j < a.dim; ++j)
        Scalar<T>::store(dx, base + j, s * (Scalar<T>::load(g, base + j) - Scalar<T>::load(y, base + j) * c));
    });
  });
}

}  // namespace ar::cpu
