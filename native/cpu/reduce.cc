// Reductions over the middle axis of a contiguous (outer, r, inner) view.
#include <cmath>
#include <limits>
#include "../common/dispatch.h"
#include "kernels.h"
#include "parallel.h"

namespace ar::cpu {

void reduce(const ReduceArgs& a) {
  dispatchFloat(a.out.dtype, "reduce", [&](auto tag) {
    using T = decltype(tag);
    using A = typename Scalar<T>::Acc;
    const T* x = as<T>(a.x);
    T* out = as<T>(a.out);
    parallelFor(a.outer * a.inner, a.r, [&](int64_t o) {
      int64_t i = o / a.inner, j = o % a.inner;
      const int64_t base = i * a.r * a.inner + j;
      // Sums accumulate in double so long reductions stay accurate in f32.
      if (a.op == ReduceOp::Sum) {
        double acc = 0;
        for (int64_t k = 0; k < a.r; ++k) acc += double(Scalar<T>::load(x, base + k * a.inner));
        Scalar<T>::store(out, o, A(acc));
      } else {
        A acc = -std::numeric_limits<A>::infinity();
        for (int64_t k = 0; k < a.r; ++k) {
          A v = Scalar<T>::load(x, base + k * a.inner);
          if (v > acc || std::isnan(v)) acc = v;
        }
        Scalar<T>::store(out, o, acc);
      }
    });
  });
}

}  // namespace ar::cpu
