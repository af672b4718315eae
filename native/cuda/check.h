// Checks every CUDA runtime call; a failure names the call, the error and the file:line it came from.
#pragma once
#include <cuda_runtime.h>
#include <cstring>
#include "../common/error.h"

#define CUDA_CHECK(call) ::ar::cuda::check((call), #call, __FILE__, __LINE__)
// After a kernel launch: a bad launch configuration fails here at once; a fault while the
// kernel runs surfaces at the next synchronising call (download or synchronize).
#define CUDA_CHECK_LAUNCH() ::ar::cuda::check(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)

namespace ar::cuda {

inline const char* baseName(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash ? slash + 1 : path;
}

inline void check(cudaError_t e, const char* what, const char* file, int line) {
  if (e != cudaSuccess)
    fail("CUDA error at ", baseName(file), ":", line, ": ", what, " failed with ", cudaGetErrorName(e), " (",
         cudaGetErrorString(e), ")");
}

}  // namespace ar::cuda
