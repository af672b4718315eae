// Four consecutive elements moved as one aligned access (8 bytes of bf16, 16 of f32), so the
// memory-bound elementwise kernels issue a quarter of the load and store instructions. A kernel
// takes this path when every pointer allows it and finishes the last n % 4 elements one at a time.
#pragma once
#include <cstdint>
#include <type_traits>
#include "check.h"
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

// out[i] = f(in[i]...) over n contiguous elements in a grid-stride loop, f taking and returning
// accumulation-type values: four at a time when kGrouped (every pointer lanesAligned), the rest
// one at a time.
template <bool kGrouped, typename F, typename Out, typename... In>
__device__ __forceinline__ void mapElements(int64_t n, F f, Out* out, const In*... in) {
  int64_t done = 0;
  if constexpr (kGrouped) {
    for (int64_t q = firstIndex(); q < n / kLanes; q += indexStep()) {
      Lanes<Out> r;
      auto each = [&](const Lanes<In>&... group) {
        for (int e = 0; e < kLanes; ++e) store(r.v, e, f(load(group.v, e)...));
      };
      each(loadLanes(in, q)...);
      storeLanes(out, q, r);
    }
    done = n / kLanes * kLanes;
  }
  for (int64_t i = done + firstIndex(); i < n; i += indexStep()) store(out, i, f(load(in, i)...));
}

// Calls launch(grouped, blocks), grouped a compile-time bool: true when `aligned` (every pointer
// allows four-lane access), with a grid sized for groups of four, else for single elements.
template <typename Launch>
void launchLanes(int64_t n, bool aligned, Launch&& launch) {
  if (aligned) launch(std::true_type{}, gridFor(n / kLanes + 1));
  else launch(std::false_type{}, gridFor(n));
  CUDA_CHECK_LAUNCH();
}

}  // namespace ar::cuda
