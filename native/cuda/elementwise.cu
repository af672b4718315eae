// Elementwise ops: broadcasting binary ops over strided inputs, unary ops and their backward.
#include "../common/dispatch.h"
#include "../common/unary-math.h"
#include "check.h"
#include "device.h"
#include "kernels.h"
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

template <typename T>
__global__ void unaryKernel(UnaryOp op, const T* x, T* out, int64_t n, Acc<T> s) {
  for (int64_t i = firstIndex(); i < n; i += indexStep()) store(out, i, unaryValue<Acc<T>>(op, load(x, i), s));
}

template <typename T>
__global__ void unaryBackwardKernel(UnaryOp op, const T* x, const T* y, const T* g, T* out, int64_t n, Acc<T> s) {
  for (int64_t i = firstIndex(); i < n; i += indexStep())
    store(out, i, load(g, i) * unaryDerivative<Acc<T>>(op, load(x, i), load(y, i), s));
}

}  // namespace

void binary(const BinaryArgs& a) {
  const StridedLayout layout = coalesce(a.ndim, a.shape, a.aStrides, a.bStrides);
  const int64_t n = layout.count;
  if (n == 0) return;
  dispatchFloat(a.out.dtype, "binary", [&](auto tag) {
    using T = decltype(tag);
    dispatchFloatPair(a.a.dtype, a.b.dtype, "binary", [&](auto xTag, auto yTag) {
      using X = decltype(xTag);
      using Y = decltype(yTag);
      binaryKernel<X, Y, T><<<gridFor(n), kThreads, 0, context().stream>>>(a.op, as<X>(a.a), as<Y>(a.b), as<T>(a.out), n, layout);
      CUDA_CHECK_LAUNCH();
    });
  });
}

void unary(const UnaryArgs& a) {
  if (a.n == 0) return;
  dispatchFloat(a.out.dtype, "unary", [&](auto tag) {
    using T = decltype(tag);
    unaryKernel<T><<<gridFor(a.n), kThreads, 0, context().stream>>>(a.op, as<T>(a.x), as<T>(a.out), a.n, Acc<T>(a.s));
    CUDA_CHECK_LAUNCH();
  });
}

void unaryBackward(const UnaryBackwardArgs& a) {
  if (a.n == 0) return;
  dispatchFloat(a.out.dtype, "unaryBackward", [&](auto tag) {
    using T = decltype(tag);
    unaryBackwardKernel<T><<<gridFor(a.n), kThreads, 0, context().stream>>>(a.op, as<T>(a.x), as<T>(a.y), as<T>(a.g),
                                                                             as<T>(a.out), a.n, Acc<T>(a.s));
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace ar::cuda
