// Embedding gather (forward) and scatter-add (backward). idx: (n,) i32; weight: (vocab, dim).
#include <algorithm>
#include "../common/dispatch.h"
#include "kernels.h"
#include "parallel.h"

namespace ar::cpu {

namespace {
void checkIndices(const EmbeddingArgs& a, const char* op) {
  const int32_t* idx = as<int32_t>(a.idx);
  for (int64_t i = 0; i < a.n; ++i)
    if (idx[i] < 0 || idx[i] >= a.vocab) fail(op, ": index ", idx[i], " at position ", i, " is out of range [0, ", a.vocab, ")");
}
}  // namespace

void embeddingForward(const EmbeddingArgs& a) {
  checkIndices(a, "embedding");
  dispatchFloat(a.weight.dtype, "embedding", [&](auto wTag) {
    using W = decltype(wTag);
    dispatchFloat(a.out.dtype, "embedding", [&](auto oTag) {
      using O = decltype(oTag);
      const W* w = as<W>(a.weight);
      const int32_t* idx = as<int32_t>(a.idx);
      O* out = as<O>(a.out);
      parallelFor(a.n, a.dim, [&](int64_t i) {
        const int64_t row = int64_t(idx[i]) * a.dim;
        for (int64_t j = 0; j < a.dim; ++j)
          Scalar<O>::store(out, i * a.dim + j, typename Scalar<O>::Acc(Scalar<W>::load(w, row + j)));
      });
    });
  });
}

void embeddingBackward(const EmbeddingArgs& a) {
  checkIndices(a, "embedding backward");
  // Here `out` is the incoming gradient (n, dim) and `weight` the gradient table, accumulated into.
  dispatchFloat(a.weight.dtype, "embedding backward", [&](auto wTag) {
    using W = decltype(wTag);
    dispatchFloat(a.out.dtype, "embedding backward", [&](auto gTag) {
      using G = decltype(gTag);
      W* gw = as<W>(a.weight);
      const int32_t* idx = as<int32_t>(a.idx);
      const G* g = as<G>(a.out);
      // Parallel over column blocks so two rows with the same index never race.
      constexpr int64_t kBlock = 64;
      parallelFor((a.dim + kBlock - 1) / kBlock, a.n * kBlock, [&](int64_t blk) {
        const int64_t j0 = blk * kBlock, j1 = std::min(a.dim, j0 + kBlock);
        for (int64_t i = 0; i < a.n; ++i) {
          const int64_t t = int64_t(idx[i]) * a.dim;
          for (int64_t j = j0; j < j1; ++j)
            Scalar<W>::store(gw, t + j, Scalar<W>::load(gw, t + j) + typename Scalar<W>::Acc(Scalar<G>::load(g, i * a.dim + j)));
        }
      });
    });
  });
}

}  // namespace ar::cpu
