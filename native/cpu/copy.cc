// fill and strided copy/cast: out[strided] = cast(src[strided]).
#include "../common/dispatch.h"
#include "kernels.h"
#include "parallel.h"

namespace ar::cpu {

void fill(const FillArgs& a) {
  dispatchAny(a.out.dtype, "fill", [&](auto tag) {
    using T = decltype(tag);
    T* out = as<T>(a.out);
    parallelFor(a.n, 1, [&](int64_t i) { Scalar<T>::store(out, i, a.value); });
  });
}

void copy(const CopyArgs& a) {
  int64_t n = 1;
  for (int d = 0; d < a.ndim; ++d) n *= a.shape[d];
  dispatchAny(a.src.dtype, "copy", [&](auto srcTag) {
    using S = decltype(srcTag);
    dispatchAny(a.out.dtype, "copy", [&](auto outTag) {
      using O = decltype(outTag);
      const S* src = as<S>(a.src);
      O* out = as<O>(a.out);
      int64_t inner = a.ndim > 0 ? a.shape[a.ndim - 1] : 1;
      int64_t innerStride = a.ndim > 0 ? a.srcStrides[a.ndim - 1] : 1;
      int64_t outInner = a.ndim > 0 ? a.outStrides[a.ndim - 1] : 1;
      int64_t rows = inner > 0 ? n / inner : 0;
      parallelFor(rows, inner, [&](int64_t row) {
        // Decompose the row index over the outer dims to find both offsets.
        int64_t off = 0, outOff = 0, rem = row;
        for (int d = a.ndim - 2; d >= 0; --d) {
          const int64_t k = rem % a.shape[d];
          off += k * a.srcStrides[d];
          outOff += k * a.outStrides[d];
          rem /= a.shape[d];
        }
        for (int64_t j = 0; j < inner; ++j)
          Scalar<O>::store(out, outOff + j * outInner, static_cast<typename Scalar<O>::Acc>(Scalar<S>::load(src, off + j * innerStride)));
      });
    });
  });
}

}  // namespace ar::cpu
