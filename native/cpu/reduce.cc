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

void productSum(const ProductSumArgs& a) {
  dispatchFloat(a.out.dtype, "product sum", [&](auto tag) {
    using T = decltype(tag);
    using A = typename Scalar<T>::Acc;
    dispatchFloatPair(a.x.dtype, a.y.dtype, "product sum", [&](auto xTag, auto yTag) {
      using X = decltype(xTag);
      using Y = decltype(yTag);
      const X* x = as<X>(a.x);
      const Y* y = as<Y>(a.y);
      T* out = as<T>(a.out);
      parallelFor(a.outer * a.inner, a.r, [&](int64_t o) {
        const int64_t base = (o / a.inner) * a.r * a.inner + o % a.inner;
        double acc = 0;  // as Sum: long reductions stay accurate in f32
        for (int64_t k = 0; k < a.r; ++k) {
          const int64_t at = base + k * a.inner;
          acc += double(A(Scalar<X>::load(x, at))) * double(A(Scalar<Y>::load(y, at)));
        }
        Scalar<T>::store(out, o, A(acc));
      });
    });
  });
}

}  // namespace ar::cpu
