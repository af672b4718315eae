// Embedding gather (forward) and a deterministic sorted scatter-add (backward). idx: (n,) i32; weight: (vocab, dim).
// An out-of-range index is never dereferenced: it is reported through the index-error flag.
#include <cub/device/device_radix_sort.cuh>
#include <cstdint>
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

// Backward, step 1: the sort keys (a bad index gets the key `vocab`, sorted last and never summed)
// and the positions 0..n-1 that the sort carries along.
__global__ void sortKeysKernel(const int32_t* idx, uint32_t* keys, int32_t* positions, int64_t n, int64_t vocab, IndexError* err) {
  for (int64_t i = firstIndex(); i < n; i += indexStep()) {
    const int64_t row = idx[i];
    const bool bad = row < 0 || row >= vocab;
    if (bad) reportBadIndex(err, IndexCheck::EmbeddingBackward, row, i, vocab);
    keys[i] = uint32_t(bad ? vocab : row);
    positions[i] = int32_t(i);
  }
}

// Step 3: token t's positions are sorted[start[t], end[t]) (both zeroed beforehand, so absent tokens are empty).
__global__ void tokenRangesKernel(const uint32_t* sorted, int32_t* start, int32_t* end, int64_t n, int64_t vocab) {
  for (int64_t s = firstIndex(); s < n; s += indexStep()) {
    const uint32_t t = sorted[s];
    if (t == uint32_t(vocab)) continue;
    if (s == 0 || sorted[s - 1] != t) start[t] = int32_t(s);
    if (s == n - 1 || sorted[s + 1] != t) end[t] = int32_t(s + 1);
  }
}

// Step 4: a (32, 8) block takes one token and 64 columns. Warp w sums every 8th of the token's
// rows in Acc (position order), warp 0 adds the 8 partials in order and writes the table once.
constexpr int kSumWarps = 8, kSumColumns = 64;
template <typename W, typename G>
__global__ void sumRowsKernel(W* gw, const G* g, const int32_t* positions, const int32_t* start, const int32_t* end, int64_t vocab,
                              int64_t dim) {
  using A = Acc<W>;
  __shared__ A partial[kSumWarps][kSumColumns];
  const int64_t j0 = int64_t(blockIdx.y) * kSumColumns + threadIdx.x, j1 = j0 + 32;
  for (int64_t t = blockIdx.x; t < vocab; t += gridDim.x) {
    if (start[t] == end[t]) continue;  // the same t for the whole block
    A acc0 = 0, acc1 = 0;
    for (int64_t s = start[t] + threadIdx.y; s < end[t]; s += kSumWarps) {
      const int64_t row = int64_t(positions[s]) * dim;
      if (j0 < dim) acc0 += A(load(g, row + j0));
      if (j1 < dim) acc1 += A(load(g, row + j1));
    }
    partial[threadIdx.y][threadIdx.x] = acc0;
    partial[threadIdx.y][threadIdx.x + 32] = acc1;
    __syncthreads();
    if (threadIdx.y == 0) {
      A sum0 = 0, sum1 = 0;
      for (int w = 0; w < kSumWarps; ++w) {
        sum0 += partial[w][threadIdx.x];
        sum1 += partial[w][threadIdx.x + 32];
      }
      if (j0 < dim) store(gw, t * dim + j0, A(load(gw, t * dim + j0)) + sum0);
      if (j1 < dim) store(gw, t * dim + j1, A(load(gw, t * dim + j1)) + sum1);
    }
    __syncthreads();  // partial is free for the next token
  }
}

// Carves one scratch allocation into 256-byte-aligned pieces.
struct Carve {
  size_t used = 0;
  size_t take(size_t bytes) {
    const size_t at = used;
    used += (bytes + 255) / 256 * 256;
    return at;
  }
};

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
// Deterministic: positions are sorted by token (a stable radix sort, so each token's rows keep
// their order) and each token's rows are summed in Acc, then added to the table once.
void embeddingBackward(const EmbeddingBackwardArgs& a) {
  if (a.n * a.dim == 0) return;
  if (a.n > INT32_MAX || a.vocab >= INT32_MAX) fail("embedding backward: at most 2^31 - 1 indices and vocab entries, got ", a.n, " and ", a.vocab);
  const int n = int(a.n);
  int bits = 1;  // enough to sort keys 0..vocab, the last one marking bad indices
  while ((int64_t(1) << bits) <= a.vocab) ++bits;
  cudaStream_t stream = context().stream;
  size_t sortBytes = 0;
  CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, sortBytes, static_cast<const uint32_t*>(nullptr), static_cast<uint32_t*>(nullptr),
                                             static_cast<const int32_t*>(nullptr), static_cast<int32_t*>(nullptr), n, 0, bits, stream));
  Carve carve;
  const size_t keysAt = carve.take(a.n * 4), positionsAt = carve.take(a.n * 4), sortedKeysAt = carve.take(a.n * 4),
               sortedPositionsAt = carve.take(a.n * 4), rangesAt = carve.take(2 * a.vocab * 4), sortAt = carve.take(sortBytes);
  Scratch scratch(carve.used);
  char* base = scratch.as<char>();
  auto* keys = reinterpret_cast<uint32_t*>(base + keysAt);
  auto* sortedKeys = reinterpret_cast<uint32_t*>(base + sortedKeysAt);
  auto* positions = reinterpret_cast<int32_t*>(base + positionsAt);
  auto* sortedPositions = reinterpret_cast<int32_t*>(base + sortedPositionsAt);
  auto* start = reinterpret_cast<int32_t*>(base + rangesAt);
  int32_t* end = start + a.vocab;

  sortKeysKernel<<<gridFor(a.n), kThreads, 0, stream>>>(as<int32_t>(a.idx), keys, positions, a.n, a.vocab, context().indexError);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cub::DeviceRadixSort::SortPairs(base + sortAt, sortBytes, keys, sortedKeys, positions, sortedPositions, n, 0, bits, stream));
  CUDA_CHECK(cudaMemsetAsync(start, 0, size_t(2 * a.vocab) * 4, stream));
  tokenRangesKernel<<<gridFor(a.n), kThreads, 0, stream>>>(sortedKeys, start, end, a.n, a.vocab);
  CUDA_CHECK_LAUNCH();
  dispatchFloat(a.weight.dtype, "embedding backward", [&](auto wTag) {
    using W = decltype(wTag);
    dispatchFloat(a.out.dtype, "embedding backward", [&](auto gTag) {
      using G = decltype(gTag);
      const dim3 grid(gridFor(a.vocab, 1), unsigned((a.dim + kSumColumns - 1) / kSumColumns));
      sumRowsKernel<W, G><<<grid, dim3(32, kSumWarps), 0, stream>>>(as<W>(a.weight), as<G>(a.out), sortedPositions, start, end, a.vocab, a.dim);
      CUDA_CHECK_LAUNCH();
    });
  });
}

}  // namespace ar::cuda
