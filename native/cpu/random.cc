// Counter-based random numbers: value i is a pure function of (seed, i), identical on every backend.
#include <cmath>
#include "../common/dispatch.h"
#include "../common/random.h"
#include "kernels.h"
#include "parallel.h"

namespace ar::cpu {

void random(const RandomArgs& a) {
  dispatchFloat(a.out.dtype, "random", [&](auto tag) {
    using T = decltype(tag);
    T* out = as<T>(a.out);
    parallelFor(a.n, 8, [&](int64_t i) {
      double v = a.kind == RandomKind::Normal ? a.a + a.b * normalAt(a.seed, uint64_t(i))
                                              : a.a + (a.b - a.a) * uniformAt(a.seed, uint64_t(i));
      Scalar<T>::store(out, i, static_cast<typename Scalar<T>::Acc>(v));
    });
  });
}

}  // namespace ar::cpu
