// Strided views for copy and binary: dims are coalesced on the host, offsets computed per element on the device.
#pragma once
#include <cstdint>
#include "../common/kernels.h"

namespace ar::cuda {

// Two operands walked at their own strides over one index space of `shape` (outermost dim first).
struct StridedLayout {
  int ndim = 0;
  int64_t count = 1;  // elements in the index space
  int64_t shape[kMaxDims];
  int64_t strides[2][kMaxDims];
};

// Drops size-1 dims and merges neighbours that both operands walk as one, so most views become
// one or two dims and the per-element index arithmetic stays short.
inline StridedLayout coalesce(int ndim, const int64_t* shape, const int64_t* strides0, const int64_t* strides1) {
  StridedLayout out;
  const int64_t* strides[2] = {strides0, strides1};
  for (int d = 0; d < ndim; ++d) {
    out.count *= shape[d];
    if (shape[d] == 1) continue;
    const int last = out.ndim - 1;
    if (last >= 0 && strides0[d] * shape[d] == out.strides[0][last] && strides1[d] * shape[d] == out.strides[1][last]) {
      // The previous (outer) dim steps exactly over this one: fold it in.
      out.shape[last] *= shape[d];
      for (int k = 0; k < 2; ++k) out.strides[k][last] = strides[k][d];
      continue;
    }
    out.shape[out.ndim] = shape[d];
    for (int k = 0; k < 2; ++k) out.strides[k][out.ndim] = strides[k][d];
    ++out.ndim;
  }
  return out;
}

#ifdef __CUDACC__
// Element offsets of both operands for position i of the index space.
__device__ __forceinline__ void offsetsAt(const StridedLayout& L, int64_t i, int64_t (&off)[2]) {
  off[0] = off[1] = 0;
  for (int d = L.ndim - 1; d >= 0; --d) {
    const int64_t size = L.shape[d];
    const int64_t c = d == 0 ? i : i % size;
    if (d > 0) i /= size;
    off[0] += c * L.strides[0][d];
    off[1] += c * L.strides[1][d];
  }
}
#endif

}  // namespace ar::cuda
