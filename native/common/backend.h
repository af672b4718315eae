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
  virtual void fill(const FillArgs&) = 0;
  virtual void copy(const CopyArgs&) = 0;
  virtual void random(const RandomArgs&) = 0;
  virtual void binary(const BinaryArgs&) = 0;
  virtual void unary(const UnaryArgs&) = 0;
  virtual void unaryBackward(const UnaryBackwardArgs&) = 0;
  virtual void reduce(const ReduceArgs&) = 0;
  virtual void matmul(const MatmulArgs&) = 0;
  virtual void embeddingForward(const EmbeddingArgs&) = 0;
  virtual void embeddingBackward(const EmbeddingArgs&) = 0;
  virtual void rmsNormForward(const RmsNormArgs&) = 0;
  virtual void rmsNormBackward(const RmsNormBackwardArgs&) = 0;
  virtual void rotary(const RotaryArgs&) = 0;
  virtual void attentionForward(const AttentionArgs&) = 0;
  virtual void attentionBackward(const AttentionBackwardArgs&) = 0;
  virtual void softmaxForward(const SoftmaxArgs&) = 0;
  virtual void softmaxBackward(const SoftmaxBackwardArgs&) = 0;
  virtual void crossEntropyForward(const CrossEntropyArgs&) = 0;
  virtual void crossEntropyBackward(const CrossEntropyBackwardArgs&) = 0;
  virtual void adamw(const AdamwArgs&) = 0;
};

Backend& cpuBackend();
// nullptr when the addon was built without CUDA or no GPU is present (cudaGetDeviceCount fails).
Backend* cudaBackend();

}  // namespace ar
