// Embedding gather (forward) and scatter-add (backward). idx: (n,) i32; weight: (vocab, dim).
// An out-of-range index is never dereferenced: it is reported through the index-error flag.
#include "../common/dispatch.h"
#include "check.h"
#include "device.h"
#include "kernels.h"

namespace ar::cuda {

namespace {

// out[i, :] = weight[idx[i], :]; a row with a bad index becomes NaN (and the op fails at the next sync).
template <typename W, typename O>
__global__ void gatherKernel(const W* w, const int32_t* idx, O* out, int64_t n, int64_t vocab, int64_t dim, IndexError* err) {
  for (int64_t e = firstIndex(); e < n * dim; e += indexStep()) {
    const int64_t i = e / dim, j = e % dim;
    const int64_t row = idx[i];
    if (row < 0 || row >= vocab) {
      if (j == 0) reportBadIndex(err, IndexCheck::Embedding, row, i, vocab);
      store(out, e, Acc<O>(NAN));
      continue;
    }
    store(out, e, Acc<O>(load(w, row * dim + j)));
  }
}

__device__ __forceinline__ void atomicAddTo(float* p, float v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomicAddTo(double* p, double v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomicAddTo(bf16* p, float v) {
  atomicAdd(reinterpret_cast<__nv_bfloat16*>(p), __float2bfloat16_rn(v));
}

// gradWeight[idx[i], :] += g[i, :], with atomics since tokens repeat.
template <typename W, typename G>
__global__ void scatterAddKernel(W* gw, const int32_t* idx, const G* g, int64_t n, int64_t vocab, int64_t dim, IndexError* err) {
  for (int64_t e = firstIndex(); e < n * dim; e += indexStep()) {
    const int64_t i = e / dim, j = e % dim;
    const int64_t row = idx[i];
    if (row < 0 || row >= vocab) {
      if (j == 0) reportBadIndex(err, IndexCheck::EmbeddingBackward, row, i, vocab);
      continue;
    }
    atomicAddTo(gw + row * dim + j, Acc<W>(load(g, e)));
  }
}

}  // namespace

void embeddingForward(const EmbeddingArgs& a) {
  if (a.n * a.dim == 0) return;
  dispatchFloat(a.weight.dtype, "embedding", [&](auto wTag) {
    using W = decltype(wTag);
    dispatchFloat(a.out.dtype, "embedding", [&](auto oTag) {
      using O = decltype(oTag);
      gatherKernel<W, O><<<gridFor(a.n * a.dim), kThreads, 0, context().stream>>>(as<W>(a.weight), as<int32_t>(a.idx), as<O>(a.out),
                                                                                   a.n, a.vocab, a.dim, context().indexError);
      CUDA_CHECK_LAUNCH();
    });
  });
}

// Here `out` is the incoming gradient (n, dim) and `weight` the gradient table, accumulated into.
void embeddingBackward(const EmbeddingArgs& a) {
  if (a.n * a.dim == 0) return;
  dispatchFloat(a.weight.dtype, "embedding backward", [&](auto wTag) {
    using W = decltype(wTag);
    dispatchFloat(a.out.dtype, "embedding backward", [&](auto gTag) {
      using G = decltype(gTag);
      scatterAddKernel<W, G><<<gridFor(a.n * a.dim), kThreads, 0, context().stream>>>(
          as<W>(a.weight), as<int32_t>(a.idx), as<G>(a.out), a.n, a.vocab, a.dim, context().indexError);
      CUDA_CHECK_LAUNCH();
    });
  });
}

}  // namespace ar::cuda
