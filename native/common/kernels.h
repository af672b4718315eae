// The backend interface: one argument struct per kernel, implemented by cpu/ and cuda/.
// Every pointer is already offset and bounds-checked by addon.cc; shapes are in elements.
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

// out[contiguous shape] = fill value
struct FillArgs { Buf out; int64_t n; double value; };

// out[strided] = cast(src[strided]); shape/strides have `ndim` entries. Writes never overlap.
struct CopyArgs { Buf src, out; int ndim; int64_t shape[kMaxDims]; int64_t srcStrides[kMaxDims], outStrides[kMaxDims]; };

// Counter-based random numbers: element i depends only on (seed, i), so every backend agrees.
enum class RandomKind : int32_t { Normal = 0, Uniform = 1 };
struct RandomArgs { Buf out; int64_t n; RandomKind kind; uint64_t seed; double a, b; };

// out[contiguous shape] = op(a[strided], b[strided]); broadcast dims have stride 0.
enum class BinaryOp : int32_t { Add = 0, Sub = 1, Mul = 2, Div = 3, Max = 4 };
struct BinaryArgs { BinaryOp op; Buf a, b, out; int ndim; int64_t shape[kMaxDims]; int64_t aStrides[kMaxDims], bStrides[kMaxDims]; };

// out = op(x, s); x, out contiguous with n elements.
enum class UnaryOp : int32_t {
  Neg = 0, Relu = 1, Square = 2, Tanh = 3, Sigmoid = 4, Rsqrt = 5, Exp = 6, Log = 7, Sqrt = 8,
  Abs = 9, AddScalar = 10, MulScalar = 11, PowScalar = 12, ReluSquare = 13, Softcap = 14, Sign = 15,
  Step = 16  // x >= 0 ? 1 : 0
};
struct UnaryArgs { UnaryOp op; Buf x, out; int64_t n; double s; };
// out = g * d op(x)/dx, with y = op(x) available where cheaper.
struct UnaryBackwardArgs { UnaryOp op; Buf x, y, g, out; int64_t n; double s; };

// out[outer, inner] = reduce over r of x[outer, r, inner] (x contiguous).
enum class ReduceOp : int32_t { Sum = 0, Max = 1 };
struct ReduceArgs { ReduceOp op; Buf x, out; int64_t outer, r, inner; };
// out = a x + b y over n contiguous elements, a and b one-element tensors read on the device (the
// residual mix of a layer in one pass); x and y may be of two float dtypes, out is the wider.
// Backward: gx = a g and gy = b g, each in its input's dtype, from one read of g.
struct ScaledAddArgs { Buf x, y, a, b, out; int64_t n; };
struct ScaledAddBackwardArgs { Buf g, a, b, gx, gy; int64_t n; };
// out[outer, inner] = sum over r of x * y, x and y contiguous (outer, r, inner) of two float
// dtypes, out in the wider: the gradient of a broadcast multiplier without materialising x * y.
struct ProductSumArgs { Buf x, y, out; int64_t outer, r, inner; };

// c[b] = alpha * op(a[b]) @ op(b[b]) + beta * c[b]; a: (M,K) or (K,M) if transA; b: (K,N) or (N,K).
// Batch strides in elements (0 broadcasts a matrix over the batch).
struct MatmulArgs { Buf a, b, c; int64_t batch, M, N, K; bool transA, transB; double alpha, beta; int64_t strideA, strideB, strideC; };

// out[i, :] = weight[idx[i], :]; backward: gradWeight[idx[i], :] += g[i, :].
struct EmbeddingArgs { Buf weight, idx, out; int64_t n, vocab, dim; };

// y = x * rstd, rstd = 1/sqrt(mean(x^2) + eps) per row of `dim`. Backward reads the output y,
// not x: dx = rstd * (g - y * mean(g * y)), so the input need not be kept.
struct RmsNormArgs { Buf x, out, rstd; int64_t rows, dim; double eps; };
struct RmsNormBackwardArgs { Buf y, rstd, g, dx; int64_t rows, dim; };

// x: (B, T, H, D); cos/sin: (T, D/2). y1 = x1 cos + sign x2 sin; y2 = -sign x1 sin + x2 cos.
struct RotaryArgs { Buf x, cos, sin, out; int64_t B, T, H, D; double sign; };

// q, k, v, out: (B, T, H, D); lse: (B, H, T) in f32. Query i sees keys j with i - window <= j <= i.
struct AttentionArgs { Buf q, k, v, out, lse; int64_t B, T, H, D, window; double scale; };
struct AttentionBackwardArgs { Buf q, k, v, out, lse, dout, dq, dk, dv; int64_t B, T, H, D, window; double scale; };

// Row-wise (log-)softmax over the last `dim`.
struct SoftmaxArgs { Buf x, out; int64_t rows, dim; bool log; };
struct SoftmaxBackwardArgs { Buf y, g, dx; int64_t rows, dim; bool log; };

// loss[r] = lse(z[r]) - z[r, t[r]], z = softcap ? softcap*tanh(logits/softcap) : logits;
// rows with t[r] == ignoreIndex give loss 0; count[0] = number of counted rows (f32).
struct CrossEntropyArgs { Buf logits, targets, loss, lse, count; int64_t rows, vocab, ignoreIndex; double softcap; };
// dlogits may be logits itself: each element is read before it is written, by the same thread.
struct CrossEntropyBackwardArgs { Buf logits, targets, lse, gloss, dlogits; int64_t rows, vocab, ignoreIndex; double softcap; };

// Fused AdamW on fp32 master params (p may be bf16 storage; m, v are f32).
struct AdamwArgs { Buf p, g, m, v; int64_t n; double lr, beta1, beta2, eps, weightDecay, bias1, bias2; };

// Muon on a group of k matrices (rows, cols), updated together (Polar Express runs as GEMMs).
// NorMuon keeps one statistic per row when rows >= cols, else one per column.
inline bool muonRowWise(int64_t rows, int64_t cols) { return rows >= cols; }
inline int64_t muonStats(int64_t rows, int64_t cols) { return muonRowWise(rows, cols) ? rows : cols; }
// Nesterov momentum: buf = lerp(buf, g, 1 - mu); out = lerp(g, buf, mu). grads: k tensors of n
// elements; buf, out: (k, n), all of one dtype.
struct MuonMomentumArgs { std::vector<Buf> grads; Buf buf, out; int64_t n; double momentum; };
// NorMuon: v = mean of x^2 per row (or column); sm = lerp(sm, v, 1 - beta2); scale = rsqrt(max(sm, 1e-10))
// times the one factor per matrix that keeps ||x * scale||_F = ||x||_F. x: (k, rows, cols) in
// Polar Express's dtype; sm: (k, stats) in the parameters' dtype; scale: (k, stats) in its statDtype.
struct NorMuonArgs { Buf x, secondMoment, scale; int64_t k, rows, cols; double beta2; };
// Cautious weight decay, each of the k params (rows, cols) in place: u = x * scale (NorMuon's, per
// row or column); p -= lr u + lr wd p [u p >= 0]. x may be in another float dtype than the params.
struct MuonUpdateArgs { std::vector<Buf> params; Buf x, scale; int64_t rows, cols; double lr, weightDecay; };

// Every kernel of the backend interface as X(name, Args): backend.h, cpu/ and cuda/ expand this
// one list, so a new kernel is declared once.
#define AR_KERNELS(X)                                                                          \
  X(fill, FillArgs) X(copy, CopyArgs) X(random, RandomArgs) X(binary, BinaryArgs)              \
  X(unary, UnaryArgs) X(unaryBackward, UnaryBackwardArgs) X(reduce, ReduceArgs)                \
  X(productSum, ProductSumArgs) X(scaledAdd, ScaledAddArgs) X(scaledAddBackward, ScaledAddBackwardArgs) \
  X(matmul, MatmulArgs) X(embeddingForward, EmbeddingArgs) X(embeddingBackward, EmbeddingArgs) \
  X(rmsNormForward, RmsNormArgs) X(rmsNormBackward, RmsNormBackwardArgs) X(rotary, RotaryArgs) \
  X(attentionForward, AttentionArgs) X(attentionBackward, AttentionBackwardArgs)               \
  X(softmaxForward, SoftmaxArgs) X(softmaxBackward, SoftmaxBackwardArgs)                       \
  X(crossEntropyForward, CrossEntropyArgs) X(crossEntropyBackward, CrossEntropyBackwardArgs)   \
  X(adamw, AdamwArgs) X(muonMomentum, MuonMomentumArgs) X(norMuon, NorMuonArgs)                \
  X(muonUpdate, MuonUpdateArgs)

#define AR_DECLARE_KERNEL(name, Args) void name(const Args&);

}  // namespace ar
