// A compute backend: device memory plus one entry per kernel family (see kernels.h).
#pragma once
#include <cstddef>
#include <string>
#include "kernels.h"

namespace ar {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;        // "cpu" or "cuda"
  virtual std::string deviceName() const = 0;  // e.g. "NVIDIA H100 80GB HBM3"
  virtual int threads() const = 0;

  // Memory. alloc throws ar::Error with the requested size when the device is out of memory.
  virtual void* alloc(size_t bytes) = 0;
  virtual void release(void* p) = 0;
  virtual void upload(void* dst, const void* src, size_t bytes) = 0;
  virtual void download(void* dst, const void* src, size_t bytes) = 0;
  virtual void synchronize() = 0;

  // Kernels: one op family per file in cpu/ and cuda/.
#define AR_VIRTUAL_KERNEL(name, Args) virtual void name(const Args&) = 0;
  AR_KERNELS(AR_VIRTUAL_KERNEL)
#undef AR_VIRTUAL_KERNEL
};

Backend& cpuBackend();
// nullptr when the addon was built without CUDA or no GPU is present (cudaGetDeviceCount fails).
Backend* cudaBackend();

}  // namespace ar
