// Device-side helpers shared by the kernel files: typed loads/stores with conversion, launch
// sizes, grid-stride loops and warp/block reductions.
#pragma once
#include <cuda_bf16.h>
#include <algorithm>
#include <cstdint>
#include "../common/dtype.h"
#include "context.h"

namespace ar::cuda {

// Kernels compute in Acc<T>: float for f32 and bf16, double for f64 and i32, as cpu/ does.
template <typename T> struct AccOf { using type = float; };
template <> struct AccOf<double> { using type = double; };
template <> struct AccOf<int32_t> { using type = double; };
template <typename T> using Acc = typename AccOf<T>::type;

__device__ __forceinline__ float load(const float* p, int64_t i) { return p[i]; }
__device__ __forceinline__ double load(const double* p, int64_t i) { return p[i]; }
__device__ __forceinline__ double load(const int32_t* p, int64_t i) { return p[i]; }
__device__ __forceinline__ float load(const bf16* p, int64_t i) {
  return __bfloat162float(reinterpret_cast<const __nv_bfloat16*>(p)[i]);
}

// Stores round to nearest even (bf16 keeps NaN a NaN), matching floatToBf16 on the host.
template <typename V> __device__ __forceinline__ void store(float* p, int64_t i, V v) { p[i] = float(v); }
template <typename V> __device__ __forceinline__ void store(double* p, int64_t i, V v) { p[i] = double(v); }
template <typename V> __device__ __forceinline__ void store(int32_t* p, int64_t i, V v) { p[i] = int32_t(v); }
template <typename V> __device__ __forceinline__ void store(bf16* p, int64_t i, V v) {
  reinterpret_cast<__nv_bfloat16*>(p)[i] = __float2bfloat16_rn(float(v));
}

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n items: enough to fill the GPU, never zero.
inline unsigned gridFor(int64_t n, int threads = kThreads) {
  int64_t blocks = (n + threads - 1) / threads;
  int64_t cap = int64_t(context().smCount) * 32;
  return unsigned(std::max<int64_t>(1, std::min(blocks, cap)));
}

__device__ __forceinline__ int64_t firstIndex() { return int64_t(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t indexStep() { return int64_t(gridDim.x) * blockDim.x; }

// Warp-per-row kernels: a grid-stride loop over rows, one warp each (launch with gridFor(rows * 32)).
__device__ __forceinline__ int64_t firstWarp() { return int64_t(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32; }
__device__ __forceinline__ int64_t warpStep() { return int64_t(gridDim.x) * (blockDim.x / 32); }
__device__ __forceinline__ int laneId() { return int(threadIdx.x % 32); }

struct Add {
  template <typename A> __device__ __forceinline__ A operator()(A a, A b) const { return a + b; }
};

// Max that keeps NaN, like the CPU reduction.
template <typename A> __device__ __forceinline__ A nanMax(A a, A b) { return (a > b || a != a) ? a : b; }
struct NanMax {
  template <typename A> __device__ __forceinline__ A operator()(A a, A b) const { return nanMax(a, b); }
};

// Running softmax statistics: max m and s = sum exp(x - m). Adding or merging keeps NaN.
template <typename A> struct MaxSum {
  A m, s;
};
template <typename A> __device__ __forceinline__ MaxSum<A> emptyMaxSum() { return {A(-INFINITY), A(0)}; }
template <typename A> __device__ __forceinline__ void addTo(MaxSum<A>& r, A x) {
  if (x > r.m) {
    r.s = r.s * exp(r.m - x) + A(1);
    r.m = x;
  } else if (x != A(-INFINITY)) {
    r.s += exp(x - r.m);
  }
}
struct Merge {
  template <typename A> __device__ __forceinline__ MaxSum<A> operator()(MaxSum<A> a, MaxSum<A> b) const {
    A m = a.m > b.m ? a.m : b.m;
    if (m == A(-INFINITY)) return {m, a.s + b.s};
    return {m, a.s * exp(a.m - m) + b.s * exp(b.m - m)};
  }
};

__device__ __forceinline__ float shflXor(float v, int o) { return __shfl_xor_sync(0xffffffffu, v, o); }
__device__ __forceinline__ double shflXor(double v, int o) { return __shfl_xor_sync(0xffffffffu, v, o); }
template <typename A> __device__ __forceinline__ MaxSum<A> shflXor(MaxSum<A> v, int o) {
  return {shflXor(v.m, o), shflXor(v.s, o)};
}

// Butterfly reduction: every lane of the warp gets the result.
template <typename V, typename F> __device__ __forceinline__ V warpReduce(V v, F combine) {
  for (int o = 16; o > 0; o >>= 1) v = combine(v, shflXor(v, o));
  return v;
}

// Every thread of the block gets the result. blockDim.x must be a multiple of 32 (<= 1024).
template <typename V, typename F> __device__ V blockReduce(V v, F combine) {
  __shared__ V partial[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warpReduce(v, combine);
  __syncthreads();  // the previous call's readers are done with `partial`
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  v = partial[0];
  for (int w = 1; w < warps; ++w) v = combine(v, partial[w]);
  return v;
}

}  // namespace ar::cuda
