// Elementwise ops: broadcasting binary ops over strided inputs, unary ops and their backward.
#include "../common/dispatch.h"
#include "../common/unary-math.h"
#include "kernels.h"
#include "parallel.h"

namespace ar::cpu {

void binary(const BinaryArgs& a) {
  int64_t inner = a.ndim > 0 ? a.shape[a.ndim - 1] : 1;
  int64_t n = 1;
  for (int d = 0; d < a.ndim; ++d) n *= a.shape[d];
  int64_t rows = inner > 0 ? n / inner : 0;
  // Inputs of different float dtypes are read as they are (no promoted copy); out is the wider.
  dispatchFloat(a.out.dtype, "binary", [&](auto tag) {
    using T = decltype(tag);
    using A = typename Scalar<T>::Acc;
    dispatchFloat(a.a.dtype, "binary", [&](auto xTag) {
      dispatchFloat(a.b.dtype, "binary", [&](auto yTag) {
        using X = decltype(xTag);
        using Y = decltype(yTag);
        const X* x = as<X>(a.a);
        const Y* y = as<Y>(a.b);
        T* out = as<T>(a.out);
        int64_t sx = a.ndim > 0 ? a.aStrides[a.ndim - 1] : 0, sy = a.ndim > 0 ? a.bStrides[a.ndim - 1] : 0;
        parallelFor(rows, inner, [&](int64_t row) {
          int64_t ox = 0, oy = 0, rem = row;
          for (int d = a.ndim - 2; d >= 0; --d) {
            int64_t k = rem % a.shape[d];
            rem /= a.shape[d];
            ox += k * a.aStrides[d];
            oy += k * a.bStrides[d];
          }
          for (int64_t j = 0; j < inner; ++j)
            Scalar<T>::store(out, row * inner + j,
                             binaryValue<A>(a.op, A(Scalar<X>::load(x, ox + j * sx)), A(Scalar<Y>::load(y, oy + j * sy))));
        });
      });
    });
  });
}

void unary(const UnaryArgs& a) {
  dispatchFloat(a.out.dtype, "unary", [&](auto tag) {
    using T = decltype(tag);
    using A = typename Scalar<T>::Acc;
    const T* x = as<T>(a.x);
    T* out = as<T>(a.out);
    parallelFor(a.n, 4, [&](int64_t i) { Scalar<T>::store(out, i, unaryValue<A>(a.op, Scalar<T>::load(x, i), A(a.s))); });
  });
}

void unaryBackward(const UnaryBackwardArgs& a) {
  dispatchFloat(a.out.dtype, "unaryBackward", [&](auto tag) {
    using T = decltype(tag);
    using A = typename Scalar<T>::Acc;
    const T *x = as<T>(a.x), *y = as<T>(a.y), *g = as<T>(a.g);
    T* out = as<T>(a.out);
    parallelFor(a.n, 4, [&](int64_t i) {
      A d = unaryDerivative<A>(a.op, Scalar<T>::load(x, i), Scalar<T>::load(y, i), A(a.s));
      Scalar<T>::store(out, i, Scalar<T>::load(g, i) * d);
    });
  });
}

}  // namespace ar::cpu
