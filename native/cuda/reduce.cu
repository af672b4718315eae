// Reductions over the middle axis of a contiguous (outer, r, inner) view: out[outer, inner].
// Long reductions are split into chunks whose partials (in Acc) a second pass of the same kernel
// reduces, so the result is deterministic and the GPU stays busy even when outer * inner is small.
#include <cmath>
#include "../common/dispatch.h"
#include "check.h"
#include "device.h"
#include "kernels.h"

namespace ar::cuda {

namespace {

// Element i of what is reduced, in the accumulation type A: one tensor, or the product of two.
template <typename In, typename A>
struct ReadOne {
  const In* x;
  __device__ __forceinline__ A operator()(int64_t i) const { return A(load(x, i)); }
};
template <typename X, typename Y, typename A>
struct ReadProduct {
  const X* x;
  const Y* y;
  __device__ __forceinline__ A operator()(int64_t i) const { return A(load(x, i)) * A(load(y, i)); }
};

// inner == 1: one warp per (row, chunk) walks r contiguously. out: (rows, chunks).
template <typename A, typename Read, typename Out, typename Op>
__global__ void reduceRowsKernel(Read read, Out* out, int64_t rows, int64_t r, int64_t chunk, int64_t chunks, A init, Op op) {
  for (int64_t w = firstWarp(); w < rows * chunks; w += warpStep()) {
    const int64_t row = w / chunks, k0 = (w % chunks) * chunk, k1 = min(r, k0 + chunk);
    A acc = init;
    for (int64_t k = k0 + laneId(); k < k1; k += 32) acc = op(acc, read(row * r + k));
    acc = warpReduce(acc, op);
    if (laneId() == 0) store(out, w, acc);
  }
}

constexpr int kTileRows = 8;  // blockDim.y of the strided kernel; blockDim.x is 32 inner columns

// inner > 1: a (32 x 8) block takes 32 adjacent inner columns of one (outer, chunk) and splits
// the chunk's rows over threadIdx.y. out: (outer, chunks, inner).
template <typename A, typename Read, typename Out, typename Op>
__global__ void reduceStridedKernel(Read read, Out* out, int64_t outer, int64_t r, int64_t inner, int64_t chunk, int64_t chunks,
                                    A init, Op op) {
  __shared__ A part[kTileRows][33];
  const int64_t tiles = (inner + 31) / 32;
  for (int64_t item = blockIdx.x; item < outer * tiles * chunks; item += gridDim.x) {
    const int64_t c = item % chunks, tile = (item / chunks) % tiles, o = item / chunks / tiles;
    const int64_t j = tile * 32 + threadIdx.x, k0 = c * chunk, k1 = min(r, k0 + chunk);
    A acc = init;
    if (j < inner)
      for (int64_t k = k0 + threadIdx.y; k < k1; k += kTileRows) acc = op(acc, read((o * r + k) * inner + j));
    part[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0) {
      for (int y = 1; y < kTileRows; ++y) acc = op(acc, part[y][threadIdx.x]);
      if (j < inner) store(out, (o * chunks + c) * inner + j, acc);
    }
    __syncthreads();
  }
}

// Launches one pass: what `read` reads, (outer, r, inner) -> out (outer, chunks, inner).
template <typename A, typename Read, typename Out, typename Op>
void reducePass(Read read, Out* out, int64_t outer, int64_t r, int64_t inner, int64_t chunks, A init, Op op) {
  const int64_t chunk = chunks > 1 ? (r + chunks - 1) / chunks : r;
  cudaStream_t s = context().stream;
  if (inner == 1) {
    reduceRowsKernel<A><<<gridFor(outer * chunks * 32), kThreads, 0, s>>>(read, out, outer, r, chunk, chunks, init, op);
  } else {
    const int64_t items = outer * ((inner + 31) / 32) * chunks;
    const unsigned blocks = unsigned(std::min<int64_t>(items, int64_t(context().smCount) * 32));
    reduceStridedKernel<A><<<blocks, dim3(32, kTileRows), 0, s>>>(read, out, outer, r, inner, chunk, chunks, init, op);
  }
  CUDA_CHECK_LAUNCH();
}

// Chunks per output so that about smCount * 8 blocks of work exist, each chunk >= 1024 rows of r.
int64_t chooseChunks(int64_t outer, int64_t r, int64_t inner) {
  const int64_t units = inner == 1 ? (outer + kThreads / 32 - 1) / (kThreads / 32) : outer * ((inner + 31) / 32);
  const int64_t want = (int64_t(context().smCount) * 8 + units - 1) / units;
  return std::max<int64_t>(1, std::min(want, r / 1024));
}

// out (outer, inner) = the reduction over r of what `read` reads; long ones in two passes.
template <typename A, typename Read, typename Out, typename Op>
void reduceWith(Read read, Out* out, int64_t outer, int64_t r, int64_t inner, Op op, A init) {
  const int64_t chunks = chooseChunks(outer, r, inner);
  if (chunks == 1) return reducePass(read, out, outer, r, inner, 1, init, op);
  Scratch partial(size_t(outer * chunks * inner) * sizeof(A));
  reducePass(read, partial.as<A>(), outer, r, inner, chunks, init, op);
  reducePass(ReadOne<A, A>{partial.as<const A>()}, out, outer, chunks, inner, 1, init, op);
}

}  // namespace

void reduce(const ReduceArgs& a) {
  if (a.outer * a.inner == 0) return;
  dispatchFloat(a.out.dtype, "reduce", [&](auto tag) {
    using T = decltype(tag);
    using A = Acc<T>;
    const ReadOne<T, A> read{as<T>(a.x)};
    if (a.op == ReduceOp::Sum) reduceWith(read, as<T>(a.out), a.outer, a.r, a.inner, Add(), A(0));
    else reduceWith(read, as<T>(a.out), a.outer, a.r, a.inner, NanMax(), A(-INFINITY));
  });
}

void productSum(const ProductSumArgs& a) {
  if (a.outer * a.inner == 0) return;
  dispatchFloat(a.out.dtype, "product sum", [&](auto tag) {
    using T = decltype(tag);
    using A = Acc<T>;
    dispatchFloatPair(a.x.dtype, a.y.dtype, "product sum", [&](auto xTag, auto yTag) {
      using X = decltype(xTag);
      using Y = decltype(yTag);
      reduceWith(ReadProduct<X, Y, A>{as<X>(a.x), as<Y>(a.y)}, as<T>(a.out), a.outer, a.r, a.inner, Add(), A(0));
    });
  });
}

}  // namespace ar::cuda
