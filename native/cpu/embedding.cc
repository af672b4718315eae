// Embedding gather (forward) and a deterministic sorted scatter-add (backward). idx: (n,) i32; weight: (vocab, dim).
#include <algorithm>
#include <vector>
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

// Here `out` is the incoming gradient (n, dim) and `weight` the gradient table, accumulated into.
// As on the GPU: positions sorted by token (a stable counting sort), each token's rows summed in Acc
// in position order and added to the table once, so a bf16 table is rounded once per token.
void embeddingBackward(const EmbeddingBackwardArgs& a) {
  checkIndices(a, "embedding backward");
  const int32_t* idx = as<int32_t>(a.idx);
  // Token t's positions are positions[start[t], start[t + 1]).
  std::vector<int64_t> start(size_t(a.vocab) + 1, 0), positions(size_t(a.n));
  for (int64_t i = 0; i < a.n; ++i) ++start[size_t(idx[i]) + 1];
  for (int64_t t = 0; t < a.vocab; ++t) start[size_t(t) + 1] += start[size_t(t)];
  std::vector<int64_t> next(start.begin(), start.end() - 1);
  for (int64_t i = 0; i < a.n; ++i) positions[size_t(next[size_t(idx[i])]++)] = i;
  std::vector<int64_t> tokens;
  for (int64_t t = 0; t < a.vocab; ++t)
    if (start[size_t(t) + 1] > start[size_t(t)]) tokens.push_back(t);
  const int64_t m = int64_t(tokens.size());
  if (m == 0) return;
  dispatchFloat(a.weight.dtype, "embedding backward", [&](auto wTag) {
    using W = decltype(wTag);
    using A = typename Scalar<W>::Acc;
    dispatchFloat(a.out.dtype, "embedding backward", [&](auto gTag) {
      using G = decltype(gTag);
      W* gw = as<W>(a.weight);
      const G* g = as<G>(a.out);
      // A column block of one token is the unit of work: every table entry has one writer, and a
      // frequent token's blocks (block-major order) land on different threads.
      constexpr int64_t kBlock = 64;
      const int64_t blocks = (a.dim + kBlock - 1) / kBlock;
      parallelFor(blocks * m, kBlock * (a.n / m + 1), [&](int64_t w) {
        const int64_t t = tokens[size_t(w % m)], j0 = w / m * kBlock, j1 = std::min(a.dim, j0 + kBlock);
        A acc[kBlock] = {};
        for (int64_t s = start[size_t(t)]; s < start[size_t(t) + 1]; ++s) {
          const int64_t row = positions[size_t(s)] * a.dim;
          for (int64_t j = j0; j < j1; ++j) acc[j - j0] += A(Scalar<G>::load(g, row + j));
        }
        for (int64_t j = j0; j < j1; ++j) Scalar<W>::store(gw, t * a.dim + j, Scalar<W>::load(gw, t * a.dim + j) + acc[j - j0]);
      });
    });
  });
}

}  // namespace ar::cpu
