// Elementwise ops: broadcasting binary ops over strided inputs, unary ops and their backward.
#include "../common/dispatch.h"
#include "../common/unary-math.h"
#include "check.h"
#include "device.h"
#include "kernels.h"
#include "lanes.h"
#include "strided.h"

namespace ar::cuda {

namespace {

// out[i] = op(a[offA(i)], b[offB(i)]); out is contiguous, a and b broadcast through stride 0.
// a and b may be of different float dtypes; out is the wider, and the op computes in its Acc.
template <typename X, typename Y, typename T>
__global__ void binaryKernel(BinaryOp op, const X* a, const Y* b, T* out, int64_t n, StridedLayout layout) {
  using A = Acc<T>;
  for (int64_t i = firstIndex(); i < n; i += indexStep()) {
    int64_t off[2];
    offsetsAt(layout, i, off);
    store(out, i, binaryValue<A>(op, A(load(a, off[0])), A(load(b, off[1]))));
  }
}

// The same over one contiguous dim: b contiguous too, or (kScalarB) one value broadcast.
template <typename X, typename Y, typename T, bool kScalarB, bool kGrouped>
__global__ void binaryFlatKernel(BinaryOp op, const X* a, const Y* b, T* out, int64_t n) {
  using A = Acc<T>;
  if constexpr (kScalarB) {
    const A bv = A(load(b, 0));
    mapElements<kGrouped>(n, [=](auto x) { return binaryValue<A>(op, A(x), bv); }, out, a);
  } else {
    mapElements<kGrouped>(n, [=](auto x, auto y) { return binaryValue<A>(op, A(x), A(y)); }, out, a, b);
  }
}

// The one value of a one-element tensor of any float dtype, read on the device (no host sync).
__device__ __forceinline__ double scalarAt(const void* p, DType d) {
  switch (d) {
    case DType::F32: return load(static_cast<const float*>(p), 0);
    case DType::BF16: return load(static_cast<const bf16*>(p), 0);
    case DType::F64: return load(static_cast<const double*>(p), 0);
    default: return 0;
  }
}

// out = a x + b y (x, y and out contiguous).
template <typename X, typename Y, typename T, bool kGrouped>
__global__ void scaledAddKernel(const X* x, const Y* y, Buf a, Buf b, T* out, int64_t n) {
  using A = Acc<T>;
  const A sa = A(scalarAt(a.ptr, a.dtype)), sb = A(scalarAt(b.ptr, b.dtype));
  mapElements<kGrouped>(n, [=](auto xv, auto yv) { return sa * A(xv) + sb * A(yv); }, out, x, y);
}

// gx = a g and gy = b g, each in its own dtype, from one read of g.
template <typename G, typename X, typename Y, bool kGrouped>
__global__ void scaledAddBackwardKernel(const G* g, Buf a, Buf b, X* gx, Y* gy, int64_t n) {
  using A = Acc<G>;
  const A sa = A(scalarAt(a.ptr, a.dtype)), sb = A(scalarAt(b.ptr, b.dtype));
  int64_t done = 0;
  if constexpr (kGrouped) {
    for (int64_t q = firstIndex(); q < n / kLanes; q += indexStep()) {
      const Lanes<G> gs = loadLanes(g, q);
      Lanes<X> rx;
      Lanes<Y> ry;
      for (int e = 0; e < kLanes; ++e) {
        store(rx.v, e, sa * A(load(gs.v, e)));
        store(ry.v, e, sb * A(load(gs.v, e)));
      }
      storeLanes(gx, q, rx);
      storeLanes(gy, q, ry);
    }
    done = n / kLanes * kLanes;
  }
  for (int64_t i = done + firstIndex(); i < n; i += indexStep()) {
    const A gi = A(load(g, i));
    store(gx, i, sa * gi);
    store(gy, i, sb * gi);
  }
}

template <typename T, bool kGrouped>
__global__ void unaryKernel(UnaryOp op, const T* x, T* out, int64_t n, Acc<T> s) {
  mapElements<kGrouped>(n, [=](Acc<T> v) { return unaryValue<Acc<T>>(op, v, s); }, out, x);
}

template <typename T, bool kGrouped>
__global__ void unaryBackwardKernel(UnaryOp op, const T* x, const T* y, const T* g, T* out, int64_t n, Acc<T> s) {
  using A = Acc<T>;
  mapElements<kGrouped>(n, [=](A xv, A yv, A gv) { return gv * unaryDerivative<A>(op, xv, yv, s); }, out, x, y, g);
}

}  // namespace

void binary(const BinaryArgs& a) {
  const StridedLayout layout = coalesce(a.ndim, a.shape, a.aStrides, a.bStrides);
  const int64_t n = layout.count;
  if (n == 0) return;
  // One dim walked contiguously by a (and by b, or b one broadcast value): the four-lane path.
  const bool flat = layout.ndim == 1 && layout.strides[0][0] == 1 && (layout.strides[1][0] == 1 || layout.strides[1][0] == 0);
  const bool scalarB = flat && layout.strides[1][0] == 0;
  dispatchFloat(a.out.dtype, "binary", [&](auto tag) {
    using T = decltype(tag);
    dispatchFloatPair(a.a.dtype, a.b.dtype, "binary", [&](auto xTag, auto yTag) {
      using X = decltype(xTag);
      using Y = decltype(yTag);
      const X* x = as<X>(a.a);
      const Y* y = as<Y>(a.b);
      T* out = as<T>(a.out);
      if (flat) {
        launchLanes(n, lanesAligned(x) && lanesAligned(out) && (scalarB || lanesAligned(y)), [&](auto grouped, unsigned blocks) {
          constexpr bool kGrouped = decltype(grouped)::value;
          if (scalarB) binaryFlatKernel<X, Y, T, true, kGrouped><<<blocks, kThreads, 0, context().stream>>>(a.op, x, y, out, n);
          else binaryFlatKernel<X, Y, T, false, kGrouped><<<blocks, kThreads, 0, context().stream>>>(a.op, x, y, out, n);
        });
      } else {
        binaryKernel<X, Y, T><<<gridFor(n), kThreads, 0, context().stream>>>(a.op, x, y, out, n, layout);
        CUDA_CHECK_LAUNCH();
      }
    });
  });
}

void scaledAdd(const ScaledAddArgs& a) {
  if (a.n == 0) return;
  dispatchFloat(a.out.dtype, "scaled_add", [&](auto tag) {
    using T = decltype(tag);
    dispatchFloatPair(a.x.dtype, a.y.dtype, "scaled_add", [&](auto xTag, auto yTag) {
      using X = decltype(xTag);
      using Y = decltype(yTag);
      const X* x = as<X>(a.x);
      const Y* y = as<Y>(a.y);
      T* out = as<T>(a.out);
      launchLanes(a.n, lanesAligned(x) && lanesAligned(y) && lanesAligned(out), [&](auto grouped, unsigned blocks) {
        scaledAddKernel<X, Y, T, decltype(grouped)::value><<<blocks, kThreads, 0, context().stream>>>(x, y, a.a, a.b, out, a.n);
      });
    });
  });
}

void scaledAddBackward(const ScaledAddBackwardArgs& a) {
  if (a.n == 0) return;
  dispatchFloat(a.g.dtype, "scaled_add backward", [&](auto tag) {
    using G = decltype(tag);
    dispatchFloatPair(a.gx.dtype, a.gy.dtype, "scaled_add backward", [&](auto xTag, auto yTag) {
      using X = decltype(xTag);
      using Y = decltype(yTag);
      const G* g = as<G>(a.g);
      X* gx = as<X>(a.gx);
      Y* gy = as<Y>(a.gy);
      launchLanes(a.n, lanesAligned(g) && lanesAligned(gx) && lanesAligned(gy), [&](auto grouped, unsigned blocks) {
        scaledAddBackwardKernel<G, X, Y, decltype(grouped)::value><<<blocks, kThreads, 0, context().stream>>>(g, a.a, a.b, gx, gy, a.n);
      });
    });
  });
}

void unary(const UnaryArgs& a) {
  if (a.n == 0) return;
  dispatchFloat(a.out.dtype, "unary", [&](auto tag) {
    using T = decltype(tag);
    const T* x = as<T>(a.x);
    T* out = as<T>(a.out);
    launchLanes(a.n, lanesAligned(x) && lanesAligned(out), [&](auto grouped, unsigned blocks) {
      unaryKernel<T, decltype(grouped)::value><<<blocks, kThreads, 0, context().stream>>>(a.op, x, out, a.n, Acc<T>(a.s));
    });
  });
}

void unaryBackward(const UnaryBackwardArgs& a) {
  if (a.n == 0) return;
  dispatchFloat(a.out.dtype, "unaryBackward", [&](auto tag) {
    using T = decltype(tag);
    const T *x = as<T>(a.x), *y = as<T>(a.y), *g = as<T>(a.g);
    T* out = as<T>(a.out);
    launchLanes(a.n, lanesAligned(x) && lanesAligned(y) && lanesAligned(g) && lanesAligned(out), [&](auto grouped, unsigned blocks) {
      unaryBackwardKernel<T, decltype(grouped)::value><<<blocks, kThreads, 0, context().stream>>>(a.op, x, y, g, out, a.n, Acc<T>(a.s));
    });
  });
}

}  // namespace ar::cuda
