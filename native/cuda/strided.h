// Strided views for copy and binary: dims are coalesced on the host, offsets computed per element on the device.
#pragma once
#include <cstdint>
#include "../common/kernels.h"

namespace ar::cuda {

// N operands walked at their own strides over one index space of `shape` (outermost dim first).
template <int N> struct StridedLayout {
  int ndim = 0;
  int64_t shape[kMaxDims];
  int64_t strides[N][kMaxDims];
};

// Drops size-1 dims and merges neighbours that every operand walks as one, so most views
// become one or two dims and the per-element index arithmetic stays short.
template <int N> StridedLayout<N> coalesce(int ndim, const int64_t* shape, const int64_t* const (&strides)[N]) {
  StridedLayout<N> out;
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] == 1) continue;
    bool merge = out.ndim > 0;
    for (int k = 0; k < N && merge; ++k) merge = strides[k][d] * shape[d] == out.strides[k][out.ndim - 1];
    if (merge) {
      // The previous (outer) dim steps exactly over this one: fold it in.
      out.shape[out.ndim - 1] *= shape[d];
      for (int k = 0; k < N; ++k) out.strides[k][out.ndim - 1] = strides[k][d];
      continue;
    }
    out.shape[out.ndim] = shape[d];
    for (int k = 0; k < N; ++k) out.strides[k][out.ndim] = strides[k][d];
    ++out.ndim;
  }
  return out;
}

#ifdef __CUDACC__
// Element offsets of every operand for output position i.
template <int N> __device__ __forceinline__ void offsetsAt(const StridedLayout<N>& L, int64_t i, int64_t (&off)[N]) {
  for (int k = 0; k < N; ++k) off[k] = 0;
  for (int d = L.ndim - 1; d >= 0; --d) {
    const int64_t size = L.shape[d];
    const int64_t c = d == 0 ? i : i % size;
    if (d > 0) i /= size;
    for (int k = 0; k < N; ++k) off[k] += c * L.strides[k][d];
  }
}
#endif

}  // namespace ar::cuda
