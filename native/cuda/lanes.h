// Four consecutive elements moved as one aligned access (8 bytes of bf16, 16 of f32), so the
// memory-bound elementwise kernels issue a quarter of the load and store instructions. Kernels
// take this path when every pointer allows it and finish the last n % 4 elements one at a time.
#pragma once
#include <cstdint>
#include "device.h"

namespace ar::cuda {

constexpr int kLanes = 4;

template <typename T>
struct alignas(sizeof(T) * kLanes) Lanes {
  T v[kLanes];
};

template <typename T> __device__ __forceinline__ Lanes<T> loadLanes(const T* p, int64_t q) {
  return reinterpret_cast<const Lanes<T>*>(p)[q];
}
template <typename T> __device__ __forceinline__ void storeLanes(T* p, int64_t q, const Lanes<T>& v) {
  reinterpret_cast<Lanes<T>*>(p)[q] = v;
}

// True when `p` may be read as Lanes<T> from its first element on.
template <typename T> inline bool lanesAligned(const T* p) { return reinterpret_cast<uintptr_t>(p) % sizeof(Lanes<T>) == 0; }

// The elements past the last whole group of four, for a grid-stride loop to finish one by one.
__device__ __forceinline__ int64_t firstTailIndex(int64_t n) { return n / kLanes * kLanes + firstIndex(); }

}  // namespace ar::cuda
