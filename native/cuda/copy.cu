// fill and strided copy/cast: out[strided] = cast(src[strided]).
#include "../common/dispatch.h"
#include "check.h"
#include "device.h"
#include "kernels.h"
#include "lanes.h"
#include "strided.h"

namespace ar::cuda {

namespace {

template <typename T>
__global__ void fillKernel(T* out, int64_t n, double value) {
  for (int64_t i = firstIndex(); i < n; i += indexStep()) store(out, i, Acc<T>(value));
}

// One thread per element; both offsets come from the coalesced strides (writes never overlap).
template <typename S, typename O>
__global__ void copyKernel(const S* src, O* out, int64_t n, StridedLayout layout) {
  for (int64_t i = firstIndex(); i < n; i += indexStep()) {
    int64_t off[2];
    offsetsAt(layout, i, off);
    store(out, off[1], Acc<O>(load(src, off[0])));
  }
}

// A contiguous copy or cast, four elements per access when kGrouped.
template <typename S, typename O, bool kGrouped>
__global__ void copyFlatKernel(const S* src, O* out, int64_t n) {
  mapElements<kGrouped>(n, [](Acc<O> v) { return v; }, out, src);
}

}  // namespace

void fill(const FillArgs& a) {
  if (a.n == 0) return;
  dispatchAny(a.out.dtype, "fill", [&](auto tag) {
    using T = decltype(tag);
    fillKernel<T><<<gridFor(a.n), kThreads, 0, context().stream>>>(as<T>(a.out), a.n, a.value);
    CUDA_CHECK_LAUNCH();
  });
}

void copy(const CopyArgs& a) {
  const StridedLayout layout = coalesce(a.ndim, a.shape, a.srcStrides, a.outStrides);
  const int64_t n = layout.count;
  if (n == 0) return;
  dispatchAny(a.src.dtype, "copy", [&](auto srcTag) {
    using S = decltype(srcTag);
    dispatchAny(a.out.dtype, "copy", [&](auto outTag) {
      using O = decltype(outTag);
      const S* src = as<S>(a.src);
      O* out = as<O>(a.out);
      if (layout.ndim == 1 && layout.strides[0][0] == 1 && layout.strides[1][0] == 1) {
        launchLanes(n, lanesAligned(src) && lanesAligned(out), [&](auto grouped, unsigned blocks) {
          copyFlatKernel<S, O, decltype(grouped)::value><<<blocks, kThreads, 0, context().stream>>>(src, out, n);
        });
      } else {
        copyKernel<S, O><<<gridFor(n), kThreads, 0, context().stream>>>(src, out, n, layout);
        CUDA_CHECK_LAUNCH();
      }
    });
  });
}

}  // namespace ar::cuda
