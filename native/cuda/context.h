// Process-wide CUDA state shared by every kernel file: the stream, the device's limits,
// the index-error flag and stream-ordered scratch memory.
#pragma once
#include <cuda_runtime.h>
#include <cstddef>
#include <cstdint>

namespace ar::cuda {

// The first out-of-range index a kernel met. Kernels never read through such an index; they
// record it here and the backend throws an ar::Error at the next download or synchronize.
enum class IndexCheck : int32_t { None = 0, Embedding = 1, EmbeddingBackward = 2, CrossEntropy = 3 };
struct IndexError {
  int32_t kind;
  int32_t unused;
  int64_t value, position, bound, ignore;
};

struct Context {
  int device = 0;
  cudaStream_t stream = nullptr;  // every kernel, copy and cuBLASLt call goes on this one stream
  int smCount = 1;
  size_t sharedPerBlockOptin = 48 << 10;
  IndexError* indexError = nullptr;      // device memory, zero when no error is pending
  IndexError* indexErrorHost = nullptr;  // pinned host mirror read at synchronising calls
  cudaMemPool_t pool = nullptr;          // the device's default pool, which Scratch draws from
};

// The state of the one CUDA device in use; valid once cudaBackend() has returned a backend.
Context& context();

// Throws ar::Error naming the request, what this process holds and what the device has free.
[[noreturn]] void outOfMemory(size_t bytes, const char* what);

// Scratch memory ordered on the stream: freed (back to the pool, no sync) when it goes out of scope.
class Scratch {
 public:
  explicit Scratch(size_t bytes);
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <typename T> T* as() const { return static_cast<T*>(ptr_); }

 private:
  void* ptr_ = nullptr;
};

#ifdef __CUDACC__
// Records the first bad index (later ones are dropped); the caller must then skip the access.
__device__ inline void reportBadIndex(IndexError* e, IndexCheck kind, int64_t value, int64_t position, int64_t bound,
                                      int64_t ignore = 0) {
  if (atomicCAS(&e->kind, 0, int32_t(kind)) == 0) {
    e->value = value;
    e->position = position;
    e->bound = bound;
    e->ignore = ignore;
  }
}
#endif

}  // namespace ar::cuda
