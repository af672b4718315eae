// Elementwise ops: broadcasting binary ops over strided inputs, unary ops and their backward.
#include <type_traits>
#include "../common/dispatch.h"
#include "../common/unary-math.h"
#include "kernels.h"
#include "parallel.h"

namespace ar::cpu {

namespace {
// Calls f with the op as a compile-time constant, so each op gets a loop of its own that
// vectorizes; a switch on the op for every element does not.
template <typename F>
void withUnaryOp(UnaryOp op, F&& f) {
  switch (op) {
#define AR_UNARY_CASE(Member, name) \
    case UnaryOp::Member: return f(std::integral_constant<UnaryOp, UnaryOp::Member>{});
    AR_UNARY_OPS(AR_UNARY_CASE)
#undef AR_UNARY_CASE
  }
  fail("unary: unknown op ", int(op));
}

template <typename F>
void withBinaryOp(BinaryOp op, F&& f) {
  switch (op) {
#define AR_BINARY_CASE(Member, name) \
    case BinaryOp::Member: return f(std::integral_constant<BinaryOp, BinaryOp::Member>{});
    AR_BINARY_OPS(AR_BINARY_CASE)
#undef AR_BINARY_CASE
  }
  fail("binary: unknown op ", int(op));
}
// Unary ops run over chunks of this many elements: a loop long enough to vectorize per thread.
constexpr int64_t kChunk = 4096;
}  // namespace

void binary(const BinaryArgs& a) {
  int64_t inner = a.ndim > 0 ? a.shape[a.ndim - 1] : 1;
  int64_t n = 1;
  for (int d = 0; d < a.ndim; ++d) n *= a.shape[d];
  int64_t rows = inner > 0 ? n / inner : 0;
  // Inputs of different float dtypes are read as they are (no promoted copy); out is the wider.
  dispatchFloat(a.out.dtype, "binary", [&](auto tag) {
    using T = decltype(tag);
    using A = typename Scalar<T>::Acc;
    dispatchFloatPair(a.a.dtype, a.b.dtype, "binary", [&](auto xTag, auto yTag) {
      withBinaryOp(a.op, [&](auto op) {
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
          T* o = out + row * inner;
          auto value = [&](int64_t i, int64_t j) {
            return binaryValue<A>(op, A(Scalar<X>::load(x, i)), A(Scalar<Y>::load(y, j)));
          };
          // The common layouts (contiguous, or a broadcast scalar) get loops without strides.
          if (sx == 1 && sy == 1) {
            for (int64_t j = 0; j < inner; ++j) Scalar<T>::store(o, j, value(ox + j, oy + j));
          } else if (sx == 1 && sy == 0) {
            for (int64_t j = 0; j < inner; ++j) Scalar<T>::store(o, j, value(ox + j, oy));
          } else {
            for (int64_t j = 0; j < inner; ++j) Scalar<T>::store(o, j, value(ox + j * sx, oy + j * sy));
          }
        });
      });
    });
  });
}

// Reads the one value of a one-element tensor.
double scalarAt(const Buf& b) {
  double v = 0;
  dispatchFloat(b.dtype, "scalar", [&](auto tag) { v = double(Scalar<decltype(tag)>::load(as<decltype(tag)>(b), 0)); });
  return v;
}

void scaledAdd(const ScaledAddArgs& a) {
  dispatchFloat(a.out.dtype, "scaled_add", [&](auto tag) {
    using T = decltype(tag);
    using A = typename Scalar<T>::Acc;
    const A sa = A(scalarAt(a.a)), sb = A(scalarAt(a.b));
    dispatchFloatPair(a.x.dtype, a.y.dtype, "scaled_add", [&](auto xTag, auto yTag) {
      using X = decltype(xTag);
      using Y = decltype(yTag);
      const X* x = as<X>(a.x);
      const Y* y = as<Y>(a.y);
      T* out = as<T>(a.out);
      parallelChunks(a.n, kChunk, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) Scalar<T>::store(out, i, sa * A(Scalar<X>::load(x, i)) + sb * A(Scalar<Y>::load(y, i)));
      });
    });
  });
}

void scaledAddBackward(const ScaledAddBackwardArgs& a) {
  dispatchFloat(a.g.dtype, "scaled_add backward", [&](auto tag) {
    using G = decltype(tag);
    using A = typename Scalar<G>::Acc;
    const A sa = A(scalarAt(a.a)), sb = A(scalarAt(a.b));
    dispatchFloatPair(a.gx.dtype, a.gy.dtype, "scaled_add backward", [&](auto xTag, auto yTag) {
      using X = decltype(xTag);
      using Y = decltype(yTag);
      const G* g = as<G>(a.g);
      X* gx = as<X>(a.gx);
      Y* gy = as<Y>(a.gy);
      parallelChunks(a.n, kChunk, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          const A gi = A(Scalar<G>::load(g, i));
          Scalar<X>::store(gx, i, sa * gi);
          Scalar<Y>::store(gy, i, sb * gi);
        }
      });
    });
  });
}

void unary(const UnaryArgs& a) {
  dispatchFloat(a.out.dtype, "unary", [&](auto tag) {
    withUnaryOp(a.op, [&](auto op) {
      using T = decltype(tag);
      using A = typename Scalar<T>::Acc;
      const T* x = as<T>(a.x);
      T* out = as<T>(a.out);
      const A s = A(a.s);
      parallelChunks(a.n, kChunk, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) Scalar<T>::store(out, i, unaryValue<A>(op, Scalar<T>::load(x, i), s));
      });
    });
  });
}

void unaryBackward(const UnaryBackwardArgs& a) {
  dispatchFloat(a.out.dtype, "unaryBackward", [&](auto tag) {
    withUnaryOp(a.op, [&](auto op) {
      using T = decltype(tag);
      using A = typename Scalar<T>::Acc;
      const T *x = as<T>(a.x), *y = as<T>(a.y), *g = as<T>(a.g);
      T* out = as<T>(a.out);
      const A s = A(a.s);
      parallelChunks(a.n, kChunk, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          const A d = unaryDerivative<A>(op, Scalar<T>::load(x, i), Scalar<T>::load(y, i), s);
          Scalar<T>::store(out, i, Scalar<T>::load(g, i) * d);
        }
      });
    });
  });
}

}  // namespace ar::cpu
