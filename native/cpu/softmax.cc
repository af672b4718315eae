// Row-wise softmax and log-softmax over the last dim, forward and backward. x: (rows, dim).
#include <cmath>
#include "../common/dispatch.h"
#include "kernels.h"
#include "parallel.h"

namespace ar::cpu {

void softmaxForward(const SoftmaxArgs& a) {
  dispatchFloat(a.x.dtype, "softmax", [&](auto tag) {
    using T = decltype(tag);
    using A = typename Scalar<T>::Acc;
    const T* x = as<T>(a.x);
    T* out = as<T>(a.out);
    parallelFor(a.rows, a.dim, [&](int64_t r) {
      const int64_t base = r * a.dim;
      A m = -INFINITY;
      for (int64_t j = 0; j < a.dim; ++j) m = std::max(m, A(Scalar<T>::load(x, base + j)));
      double sum = 0;
      for (int64_t j = 0; j < a.dim; ++j) sum += std::exp(double(Scalar<T>::load(x, base + j) - m));
      const A lse = m + A(std::log(sum));
      for (int64_t j = 0; j < a.dim; ++j) {
        A v = Scalar<T>::load(x, base + j) - lse;
        Scalar<T>::store(out, base + j, a.log ? v : std::exp(v));
      }
    });
  });
}

// softmax: dx = y * (g - sum(g * y)); log-softmax: dx = g - exp(y) * sum(g).
void softmaxBackward(const SoftmaxBackwardArgs& a) {
  dispatchFloat(a.y.dtype, "softmax backward", [&](auto tag) {
    using T = decltype(tag);
    using A = typename Scalar<T>::Acc;
    const T *y = as<T>(a.y), *g = as<T>(a.g);
    T* dx = as<T>(a.dx);
    parallelFor(a.rows, a.dim, [&](int64_t r) {
      const int64_t base = r * a.dim;
      double s = 0;
      for (int64_t j = 0; j < a.dim; ++j)
        s += a.log ? double(Scalar<T>::load(g, base + j)) : double(Scalar<T>::load(g, base + j)) * double(Scalar<T>::load(y, base + j));
      for (int64_t j = 0; j < a.dim; ++j) {
        A yj = Scalar<T>::load(y, base + j), gj = Scalar<T>::load(g, base + j);
        Scalar<T>::store(dx, base + j, a.log ? gj - std::exp(yj) * A(s) : yj * (gj - A(s)));
      }
    });
  });
}

}  // namespace ar::cpu
