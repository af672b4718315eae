// Rotary embedding on (B, T, H, D) with halves x1 = x[:D/2], x2 = x[D/2:]; cos/sin: (T, D/2).
// sign = +1 is the forward rotation; sign = -1 rotates back, which is the backward pass.
#include "../common/dispatch.h"
#include "kernels.h"
#include "parallel.h"

namespace ar::cpu {

void rotary(const RotaryArgs& a) {
  dispatchFloat(a.x.dtype, "rotary", [&](auto tag) {
    using T = decltype(tag);
    using A = typename Scalar<T>::Acc;
    const T *x = as<T>(a.x), *cs = as<T>(a.cos), *sn = as<T>(a.sin);
    T* out = as<T>(a.out);
    const int64_t half = a.D / 2;
    const A sign = A(a.sign);
    parallelFor(a.B * a.T * a.H, a.D, [&](int64_t row) {
      const int64_t t = (row / a.H) % a.T;
      const int64_t base = row * a.D;
      for (int64_t j = 0; j < half; ++j) {
        A c = Scalar<T>::load(cs, t * half + j), s = sign * Scalar<T>::load(sn, t * half + j);
        A x1 = Scalar<T>::load(x, base + j), x2 = Scalar<T>::load(x, base + half + j);
        Scalar<T>::store(out, base + j, x1 * c + x2 * s);
        Scalar<T>::store(out, base + half + j, -x1 * s + x2 * c);
      }
    });
  });
}

}  // namespace ar::cpu
