// The backend interface: one argument struct per kernel, implemented by cpu/ and cuda/.
// Every pointer is already offset and bounds-checked by addon.cc; shapes are in elements.
//
// Each struct declares its kernel's JavaScript signature in bind(): the arguments in call order
// (a tensor is a storage id then an element offset), then the extent every tensor is read or
// written over, its dtype, and any other condition. addon.cc reads and checks a call with it,
// the addon lists it (describeKernels), and `npm run build:native` writes the NativeKernels
// type from that list (src/engine/native-kernels.ts). AR_KERNELS at the bottom is the export list.
#pragma once
#include <cstdint>
#include <vector>
#include "dtype.h"

namespace ar {

struct Buf {
  void* ptr = nullptr;
  DType dtype = DType::F32;
};

constexpr int kMaxDims = 8;

// An enum whose members JavaScript names: X(Member, js_name) in id order. The ids and names reach
// TypeScript from this list only (describeKernels -> src/engine/native-kernels.ts).
template <typename E> struct EnumNames;
#define AR_ENUM_MEMBER(Member, name) Member,
#define AR_ENUM_NAME(Member, name) #name,
#define AR_ENUM(Type, LIST)                                                        \
  enum class Type : int32_t { LIST(AR_ENUM_MEMBER) };                              \
  template <> struct EnumNames<Type> {                                             \
    static constexpr const char* type = #Type;                                     \
    static constexpr const char* names[] = {LIST(AR_ENUM_NAME)};                   \
    static constexpr int count = sizeof(names) / sizeof(names[0]);                 \
  };

// out[contiguous shape] = fill value
struct FillArgs {
  Buf out; int64_t n; double value;
  template <typename R> void bind(R& arg) {
    arg.tensor("out", out).size("n", n).number("value", value);
    arg.extent(out, n);
  }
};

// out[strided] = cast(src[strided]); shape/strides have `ndim` entries. Writes never overlap.
struct CopyArgs {
  Buf src, out; int ndim; int64_t shape[kMaxDims]; int64_t srcStrides[kMaxDims], outStrides[kMaxDims];
  template <typename R> void bind(R& arg) {
    int srcDims = 0, outDims = 0;
    arg.tensor("src", src).dims("srcStrides", srcStrides, srcDims).tensor("out", out).dims("outStrides", outStrides, outDims)
        .dims("shape", shape, ndim);
    arg.require(srcDims == ndim && outDims == ndim, "shape has ", ndim, " dims but the strides have ", srcDims, " and ", outDims);
    arg.strided(src, ndim, shape, srcStrides).strided(out, ndim, shape, outStrides);
  }
};

// Counter-based random numbers: element i depends only on (seed, i), so every backend agrees.
#define AR_RANDOM_KINDS(X) X(Normal, normal) X(Uniform, uniform)
AR_ENUM(RandomKind, AR_RANDOM_KINDS)
struct RandomArgs {
  Buf out; int64_t n; RandomKind kind; uint64_t seed; double a, b;
  template <typename R> void bind(R& arg) {
    arg.tensor("out", out).size("n", n).choice("kind", kind).integer("seed", seed).number("a", a).number("b", b);
    arg.extent(out, n).floating(out);
  }
};

// out[contiguous shape] = op(a[strided], b[strided]); broadcast dims have stride 0.
#define AR_BINARY_OPS(X) X(Add, add) X(Sub, sub) X(Mul, mul) X(Div, div) X(Max, maximum)
AR_ENUM(BinaryOp, AR_BINARY_OPS)
struct BinaryArgs {
  BinaryOp op; Buf a, b, out; int ndim; int64_t shape[kMaxDims]; int64_t aStrides[kMaxDims], bStrides[kMaxDims];
  template <typename R> void bind(R& arg) {
    int aDims = 0, bDims = 0;
    arg.choice("op", op).tensor("a", a).dims("aStrides", aStrides, aDims).tensor("b", b).dims("bStrides", bStrides, bDims)
        .tensor("out", out).dims("shape", shape, ndim);
    arg.require(aDims == ndim && bDims == ndim, "strides and shape must have the same number of dims");
    int64_t n = 1;
    for (int d = 0; d < ndim; ++d) n *= shape[d];
    arg.strided(a, ndim, shape, aStrides).strided(b, ndim, shape, bStrides).extent(out, n);
    // Mixed inputs are read as they are and computed in the wider dtype, which out must be.
    arg.floating(a).floating(b).dtype(out, widerFloat(a.dtype, b.dtype));
  }
};

// out = op(x, s); x, out contiguous with n elements.
#define AR_UNARY_OPS(X)                                                                              \
  X(Neg, neg) X(Relu, relu) X(Square, square) X(Tanh, tanh) X(Sigmoid, sigmoid) X(Rsqrt, rsqrt)      \
  X(Exp, exp) X(Log, log) X(Sqrt, sqrt) X(Abs, abs) X(AddScalar, add_scalar) X(MulScalar, mul_scalar) \
  X(PowScalar, pow_scalar) X(ReluSquare, relu_square) X(Softcap, softcap) X(Sign, sign)              \
  X(Step, step) /* x >= 0 ? 1 : 0 */
AR_ENUM(UnaryOp, AR_UNARY_OPS)
struct UnaryArgs {
  UnaryOp op; Buf x, out; int64_t n; double s;
  template <typename R> void bind(R& arg) {
    arg.choice("op", op).tensor("x", x).tensor("out", out).size("n", n).number("s", s);
    arg.extent(x, n).extent(out, n).floating(x).same(x, out);
  }
};
// out = g * d op(x)/dx, with y = op(x) available where cheaper.
struct UnaryBackwardArgs {
  UnaryOp op; Buf x, y, g, out; int64_t n; double s;
  template <typename R> void bind(R& arg) {
    arg.choice("op", op).tensor("x", x).tensor("y", y).tensor("g", g).tensor("out", out).size("n", n).number("s", s);
    arg.extent(x, n).extent(y, n).extent(g, n).extent(out, n);
    arg.floating(x).same(x, y).same(x, g).same(x, out);
  }
};

// out[outer, inner] = reduce over r of x[outer, r, inner] (x contiguous).
#define AR_REDUCE_OPS(X) X(Sum, sum) X(Max, max)
AR_ENUM(ReduceOp, AR_REDUCE_OPS)
struct ReduceArgs {
  ReduceOp op; Buf x, out; int64_t outer, r, inner;
  template <typename R> void bind(R& arg) {
    arg.choice("op", op).tensor("x", x).tensor("out", out).size("outer", outer).size("r", r).size("inner", inner);
    arg.extent(x, outer * r * inner).extent(out, outer * inner).floating(x).same(x, out);
  }
};
// out = a x + b y over n contiguous elements, a and b one-element tensors read on the device (the
// residual mix of a layer in one pass); x and y may be of two float dtypes, out is the wider.
// Backward: gx = a g and gy = b g, each in its input's dtype, from one read of g.
struct ScaledAddArgs {
  Buf x, y, a, b, out; int64_t n;
  template <typename R> void bind(R& arg) {
    arg.tensor("x", x).tensor("y", y).tensor("a", a).tensor("b", b).tensor("out", out).size("n", n);
    arg.extent(x, n).extent(y, n).extent(a, 1).extent(b, 1).extent(out, n);
    arg.floating(x).floating(y).floating(a).floating(b).dtype(out, widerFloat(x.dtype, y.dtype));
  }
};
struct ScaledAddBackwardArgs {
  Buf g, a, b, gx, gy; int64_t n;
  template <typename R> void bind(R& arg) {
    arg.tensor("g", g).tensor("a", a).tensor("b", b).tensor("gx", gx).tensor("gy", gy).size("n", n);
    arg.extent(g, n).extent(a, 1).extent(b, 1).extent(gx, n).extent(gy, n);
    arg.floating(g).floating(a).floating(b).floating(gx).floating(gy);
  }
};
// out[outer, inner] = sum over r of x * y, x and y contiguous (outer, r, inner) of two float
// dtypes, out in the wider: the gradient of a broadcast multiplier without materialising x * y.
struct ProductSumArgs {
  Buf x, y, out; int64_t outer, r, inner;
  template <typename R> void bind(R& arg) {
    arg.tensor("x", x).tensor("y", y).tensor("out", out).size("outer", outer).size("r", r).size("inner", inner);
    arg.extent(x, outer * r * inner).extent(y, outer * r * inner).extent(out, outer * inner);
    arg.floating(x).floating(y).dtype(out, widerFloat(x.dtype, y.dtype));
  }
};

// c[b] = alpha * op(a[b]) @ op(b[b]) + beta * c[b]; a: (M,K) or (K,M) if transA; b: (K,N) or (N,K).
// Batch strides in elements (0 broadcasts a matrix over the batch).
struct MatmulArgs {
  Buf a, b, c; int64_t batch, M, N, K; bool transA, transB; double alpha, beta; int64_t strideA, strideB, strideC;
  template <typename R> void bind(R& arg) {
    arg.tensor("a", a).tensor("b", b).tensor("c", c).size("batch", batch).size("M", M).size("N", N).size("K", K)
        .flag("transA", transA).flag("transB", transB).number("alpha", alpha).number("beta", beta)
        .size("strideA", strideA).size("strideB", strideB).size("strideC", strideC);
    auto span = [&](int64_t stride, int64_t matrix) { return batch == 0 ? 0 : (batch - 1) * stride + matrix; };
    arg.extent(a, span(strideA, M * K)).extent(b, span(strideB, K * N)).extent(c, span(strideC, M * N));
    arg.floating(a).same(a, b).same(a, c);
  }
};

// out[i, :] = weight[idx[i], :]; backward: gradWeight[idx[i], :] += g[i, :].
struct EmbeddingArgs {
  Buf weight, idx, out; int64_t n, vocab, dim;
  template <typename R> void bind(R& arg) { bindAs(arg, "weight", "out"); }

 protected:
  template <typename R> void bindAs(R& arg, const char* table, const char* rows) {
    arg.tensor(table, weight).tensor("indices", idx).tensor(rows, out).size("n", n).size("vocab", vocab).size("dim", dim);
    arg.extent(weight, vocab * dim).extent(idx, n).extent(out, n * dim);
    arg.dtype(idx, DType::I32).floating(weight).floating(out);
  }
};
// The same fields read as the gradients: weight is the table's gradient, out the rows' gradient.
struct EmbeddingBackwardArgs : EmbeddingArgs {
  template <typename R> void bind(R& arg) { bindAs(arg, "gradWeight", "grad"); }
};

// y = x * rstd, rstd = 1/sqrt(mean(x^2) + eps) per row of `dim`. Backward reads the output y,
// not x: dx = rstd * (g - y * mean(g * y)), so the input need not be kept.
struct RmsNormArgs {
  Buf x, out, rstd; int64_t rows, dim; double eps;
  template <typename R> void bind(R& arg) {
    arg.tensor("x", x).tensor("out", out).tensor("rstd", rstd).size("rows", rows).size("dim", dim).number("eps", eps);
    arg.extent(x, rows * dim).extent(out, rows * dim).extent(rstd, rows);
    arg.floating(x).same(x, out).dtype(rstd, statDtype(x.dtype));
  }
};
struct RmsNormBackwardArgs {
  Buf y, rstd, g, dx; int64_t rows, dim;
  template <typename R> void bind(R& arg) {
    arg.tensor("y", y).tensor("rstd", rstd).tensor("g", g).tensor("dx", dx).size("rows", rows).size("dim", dim);
    arg.extent(y, rows * dim).extent(rstd, rows).extent(g, rows * dim).extent(dx, rows * dim);
    arg.floating(y).same(y, g).same(y, dx).dtype(rstd, statDtype(y.dtype));
  }
};

// x: (B, T, H, D); cos/sin: (T, D/2). y1 = x1 cos + sign x2 sin; y2 = -sign x1 sin + x2 cos.
struct RotaryArgs {
  Buf x, cos, sin, out; int64_t B, T, H, D; double sign;
  template <typename R> void bind(R& arg) {
    arg.tensor("x", x).tensor("cos", cos).tensor("sin", sin).tensor("out", out)
        .size("B", B).size("T", T).size("H", H).size("D", D).number("sign", sign);
    arg.require(D % 2 == 0, "head dim must be even, got ", D);
    arg.extent(x, B * T * H * D).extent(cos, T * D / 2).extent(sin, T * D / 2).extent(out, B * T * H * D);
    arg.floating(x).same(x, cos).same(x, sin).same(x, out);
  }
};

// q, k, v, out: (B, T, H, D); lse: (B, H, T) in f32. Query i sees keys j with i - window <= j <= i.
struct AttentionArgs {
  Buf q, k, v, out, lse; int64_t B, T, H, D, window; double scale;
  template <typename R> void bind(R& arg) {
    arg.tensor("q", q).tensor("k", k).tensor("v", v).tensor("out", out).tensor("lse", lse)
        .size("B", B).size("T", T).size("H", H).size("D", D).size("window", window).number("scale", scale);
    const int64_t n = B * T * H * D;
    arg.extent(q, n).extent(k, n).extent(v, n).extent(out, n).extent(lse, B * H * T);
    arg.floating(q).same(q, k).same(q, v).same(q, out).dtype(lse, statDtype(q.dtype));
  }
};
struct AttentionBackwardArgs {
  Buf q, k, v, out, lse, dout, dq, dk, dv; int64_t B, T, H, D, window; double scale;
  template <typename R> void bind(R& arg) {
    arg.tensor("q", q).tensor("k", k).tensor("v", v).tensor("out", out).tensor("lse", lse).tensor("dout", dout)
        .tensor("dq", dq).tensor("dk", dk).tensor("dv", dv)
        .size("B", B).size("T", T).size("H", H).size("D", D).size("window", window).number("scale", scale);
    const int64_t n = B * T * H * D;
    for (Buf* t : {&q, &k, &v, &out, &dout, &dq, &dk, &dv}) arg.extent(*t, n).same(q, *t);
    arg.extent(lse, B * H * T).floating(q).dtype(lse, statDtype(q.dtype));
  }
};

// Row-wise (log-)softmax over the last `dim`.
struct SoftmaxArgs {
  Buf x, out; int64_t rows, dim; bool log;
  template <typename R> void bind(R& arg) {
    arg.tensor("x", x).tensor("out", out).size("rows", rows).size("dim", dim).flag("log", log);
    arg.extent(x, rows * dim).extent(out, rows * dim).floating(x).same(x, out);
  }
};
struct SoftmaxBackwardArgs {
  Buf y, g, dx; int64_t rows, dim; bool log;
  template <typename R> void bind(R& arg) {
    arg.tensor("y", y).tensor("g", g).tensor("dx", dx).size("rows", rows).size("dim", dim).flag("log", log);
    arg.extent(y, rows * dim).extent(g, rows * dim).extent(dx, rows * dim).floating(y).same(y, g).same(y, dx);
  }
};

// loss[r] = lse(z[r]) - z[r, t[r]], z = softcap ? softcap*tanh(logits/softcap) : logits;
// rows with t[r] == ignoreIndex give loss 0; count[0] = number of counted rows (f32).
struct CrossEntropyArgs {
  Buf logits, targets, loss, lse, count; int64_t rows, vocab, ignoreIndex; double softcap;
  template <typename R> void bind(R& arg) {
    arg.tensor("logits", logits).tensor("targets", targets).tensor("loss", loss).tensor("lse", lse).tensor("count", count)
        .size("rows", rows).size("vocab", vocab).integer("ignoreIndex", ignoreIndex).number("softcap", softcap);
    arg.extent(logits, rows * vocab).extent(targets, rows).extent(loss, rows).extent(lse, rows).extent(count, 1);
    const DType stat = statDtype(logits.dtype);
    arg.floating(logits).dtype(targets, DType::I32).dtype(loss, stat).dtype(lse, stat).dtype(count, stat);
  }
};
// dlogits may be logits itself: each element is read before it is written, by the same thread.
struct CrossEntropyBackwardArgs {
  Buf logits, targets, lse, gloss, dlogits; int64_t rows, vocab, ignoreIndex; double softcap;
  template <typename R> void bind(R& arg) {
    arg.tensor("logits", logits).tensor("targets", targets).tensor("lse", lse).tensor("gloss", gloss).tensor("dlogits", dlogits)
        .size("rows", rows).size("vocab", vocab).integer("ignoreIndex", ignoreIndex).number("softcap", softcap);
    arg.extent(logits, rows * vocab).extent(targets, rows).extent(lse, rows).extent(gloss, rows).extent(dlogits, rows * vocab);
    const DType stat = statDtype(logits.dtype);
    arg.floating(logits).dtype(targets, DType::I32).dtype(lse, stat).dtype(gloss, stat).same(logits, dlogits);
  }
};

// Fused AdamW on fp32 master params (p may be bf16 storage; m, v are f32).
struct AdamwArgs {
  Buf p, g, m, v; int64_t n; double lr, beta1, beta2, eps, weightDecay, bias1, bias2;
  template <typename R> void bind(R& arg) {
    arg.tensor("p", p).tensor("g", g).tensor("m", m).tensor("v", v).size("n", n).number("lr", lr).number("beta1", beta1)
        .number("beta2", beta2).number("eps", eps).number("weightDecay", weightDecay).number("bias1", bias1).number("bias2", bias2);
    arg.extent(p, n).extent(g, n).extent(m, n).extent(v, n);
    arg.floating(p).same(p, g).dtype(m, statDtype(p.dtype)).dtype(v, statDtype(p.dtype));
  }
};

// Muon on a group of k matrices (rows, cols), updated together (Polar Express runs as GEMMs).
// NorMuon keeps one statistic per row when rows >= cols, else one per column.
inline bool muonRowWise(int64_t rows, int64_t cols) { return rows >= cols; }
inline int64_t muonStats(int64_t rows, int64_t cols) { return muonRowWise(rows, cols) ? rows : cols; }
// Nesterov momentum: buf = lerp(buf, g, 1 - mu); out = lerp(g, buf, mu). grads: k tensors of n
// elements; buf, out: (k, n), all of one dtype.
struct MuonMomentumArgs {
  std::vector<Buf> grads; Buf buf, out; int64_t n; double momentum;
  template <typename R> void bind(R& arg) {
    arg.tensors("grads", grads).tensor("buf", buf).tensor("out", out).size("n", n).number("momentum", momentum);
    const int64_t k = int64_t(grads.size());
    arg.extent(buf, k * n).extent(out, k * n).floating(buf).same(buf, out);
    for (Buf& g : grads) arg.extent(g, n).dtype(g, buf.dtype);
  }
};
// NorMuon: v = mean of x^2 per row (or column); sm = lerp(sm, v, 1 - beta2); scale = rsqrt(max(sm, 1e-10))
// times the one factor per matrix that keeps ||x * scale||_F = ||x||_F. x: (k, rows, cols) in
// Polar Express's dtype; sm: (k, stats) in the parameters' dtype; scale: (k, stats) in its statDtype.
struct NorMuonArgs {
  Buf x, secondMoment, scale; int64_t k, rows, cols; double beta2;
  template <typename R> void bind(R& arg) {
    arg.tensor("x", x).tensor("secondMoment", secondMoment).tensor("scale", scale)
        .size("k", k).size("rows", rows).size("cols", cols).number("beta2", beta2);
    const int64_t stats = k * muonStats(rows, cols);
    arg.extent(x, k * rows * cols).extent(secondMoment, stats).extent(scale, stats);
    arg.floating(x).floating(secondMoment).dtype(scale, statDtype(secondMoment.dtype));
  }
};
// Cautious weight decay, each of the k params (rows, cols) in place: u = x * scale (NorMuon's, per
// row or column); p -= lr u + lr wd p [u p >= 0]. x may be in another float dtype than the params.
struct MuonUpdateArgs {
  std::vector<Buf> params; Buf x, scale; int64_t rows, cols; double lr, weightDecay;
  template <typename R> void bind(R& arg) {
    arg.tensors("params", params).tensor("x", x).tensor("scale", scale)
        .size("rows", rows).size("cols", cols).number("lr", lr).number("weightDecay", weightDecay);
    const int64_t k = int64_t(params.size());
    arg.extent(x, k * rows * cols).extent(scale, k * muonStats(rows, cols)).floating(x);
    const DType paramDtype = params.empty() ? x.dtype : params[0].dtype;
    for (Buf& p : params) arg.extent(p, rows * cols).floating(p).dtype(p, paramDtype);
    arg.dtype(scale, statDtype(paramDtype));
  }
};

// Every kernel of the backend interface as X(name, Args): the addon exports each under its name,
// and backend.h, cpu/ and cuda/ expand this one list, so a new kernel is declared once.
#define AR_KERNELS(X)                                                                          \
  X(fill, FillArgs) X(copy, CopyArgs) X(random, RandomArgs) X(binary, BinaryArgs)              \
  X(unary, UnaryArgs) X(unaryBackward, UnaryBackwardArgs) X(reduce, ReduceArgs)                \
  X(productSum, ProductSumArgs) X(scaledAdd, ScaledAddArgs) X(scaledAddBackward, ScaledAddBackwardArgs) \
  X(matmul, MatmulArgs) X(embeddingForward, EmbeddingArgs) X(embeddingBackward, EmbeddingBackwardArgs) \
  X(rmsNormForward, RmsNormArgs) X(rmsNormBackward, RmsNormBackwardArgs) X(rotary, RotaryArgs) \
  X(attentionForward, AttentionArgs) X(attentionBackward, AttentionBackwardArgs)               \
  X(softmaxForward, SoftmaxArgs) X(softmaxBackward, SoftmaxBackwardArgs)                       \
  X(crossEntropyForward, CrossEntropyArgs) X(crossEntropyBackward, CrossEntropyBackwardArgs)   \
  X(adamw, AdamwArgs) X(muonMomentum, MuonMomentumArgs) X(norMuon, NorMuonArgs)                \
  X(muonUpdate, MuonUpdateArgs)

// Every enum a kernel takes, as X(Type): the addon lists their names and ids for TypeScript.
#define AR_KERNEL_ENUMS(X) X(RandomKind) X(BinaryOp) X(UnaryOp) X(ReduceOp)

#define AR_DECLARE_KERNEL(name, Args) void name(const Args&);

}  // namespace ar
