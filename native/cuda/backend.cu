// The CUDA backend: device memory and the kernels of cuda/*.cu, all on one stream. Nothing here
// waits for the GPU except download() and synchronize(), which also surface deferred errors.
#include <cstdio>
#include <limits>
#include <string>
#include <unordered_map>
#include "../common/backend.h"
#include "../common/error.h"
#include "check.h"
#include "context.h"
#include "kernels.h"

namespace ar {

namespace cuda {

namespace {
Context* current = nullptr;
size_t heldBytes = 0;  // what alloc() has handed out and not yet released
size_t heldCount = 0;

std::string mib(size_t bytes) {
  char s[32];
  std::snprintf(s, sizeof s, "%.1f MiB", double(bytes) / (1 << 20));
  return s;
}
}  // namespace

Context& context() { return *current; }

void outOfMemory(size_t bytes, const char* what) {
  size_t freeBytes = 0, total = 0;
  cudaMemGetInfo(&freeBytes, &total);
  fail("out of GPU memory: could not allocate ", bytes, " bytes (", mib(bytes), ") for ", what, "; autoresearch holds ",
       mib(heldBytes), " in ", heldCount, " allocations and the device has ", mib(freeBytes), " free of ", mib(total));
}

Scratch::Scratch(size_t bytes) {
  if (bytes == 0) return;
  if (cudaMallocAsync(&ptr_, bytes, context().stream) != cudaSuccess) {
    cudaGetLastError();  // clear the (non-sticky) allocation error before reporting it
    outOfMemory(bytes, "kernel scratch memory");
  }
}

Scratch::~Scratch() {
  if (ptr_) cudaFreeAsync(ptr_, context().stream);  // a destructor must not throw; the next checked call reports
}

}  // namespace cuda

namespace {

using cuda::Context;

// Turns the first bad index a kernel recorded into the error the CPU backend would have thrown.
[[noreturn]] void throwIndexError(const cuda::IndexError& e) {
  const char* where = " (found on the GPU; reported at the next synchronisation)";
  switch (cuda::IndexCheck(e.kind)) {
    case cuda::IndexCheck::Embedding:
    case cuda::IndexCheck::EmbeddingBackward:
      fail(cuda::IndexCheck(e.kind) == cuda::IndexCheck::Embedding ? "embedding" : "embedding backward", ": index ", e.value,
           " at position ", e.position, " is out of range [0, ", e.bound, ")", where);
    case cuda::IndexCheck::CrossEntropy:
      fail("cross_entropy: target ", e.value, " at row ", e.position, " is out of range [0, ", e.bound, ") and is not ignore_index ",
           e.ignore, where);
    default: fail("a CUDA kernel reported an unknown index error (kind ", e.kind, ")", where);
  }
}

class CudaBackend final : public Backend {
 public:
  CudaBackend() {
    Context& c = ctx_;
    CUDA_CHECK(cudaSetDevice(c.device));
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, c.device));
    name_ = prop.name;
    c.smCount = prop.multiProcessorCount;
    c.sharedPerBlockOptin = prop.sharedMemPerBlockOptin;
    CUDA_CHECK(cudaStreamCreateWithFlags(&c.stream, cudaStreamNonBlocking));
    // Scratch memory stays in the pool between steps instead of going back to the driver.
    CUDA_CHECK(cudaDeviceGetDefaultMemPool(&c.pool, c.device));
    uint64_t keep = std::numeric_limits<uint64_t>::max();
    CUDA_CHECK(cudaMemPoolSetAttribute(c.pool, cudaMemPoolAttrReleaseThreshold, &keep));
    CUDA_CHECK(cudaMalloc(&c.indexError, sizeof(cuda::IndexError)));
    // Cleared on the engine's own stream: the legacy default stream does not order with a
    // non-blocking one, so a plain cudaMemset could land after the first kernel's report.
    CUDA_CHECK(cudaMemsetAsync(c.indexError, 0, sizeof(cuda::IndexError), c.stream));
    CUDA_CHECK(cudaStreamSynchronize(c.stream));
    CUDA_CHECK(cudaMallocHost(&c.indexErrorHost, sizeof(cuda::IndexError)));
    cuda::current = &ctx_;
  }

  const char* name() const override { return "cuda"; }
  std::string deviceName() const override { return name_; }
  int threads() const override { return ctx_.smCount; }

  void* alloc(size_t bytes) override {
    void* p = nullptr;
    if (cudaMalloc(&p, bytes) != cudaSuccess) {
      cudaGetLastError();
      // Scratch memory parked in the pool may be what is missing: hand it back and retry once.
      CUDA_CHECK(cudaStreamSynchronize(ctx_.stream));
      CUDA_CHECK(cudaMemPoolTrimTo(ctx_.pool, 0));
      if (cudaMalloc(&p, bytes) != cudaSuccess) {
        cudaGetLastError();
        cuda::outOfMemory(bytes, "a tensor");
      }
    }
    sizes_[p] = bytes;
    cuda::heldBytes += bytes;
    ++cuda::heldCount;
    return p;
  }

  void release(void* p) override {
    auto it = sizes_.find(p);
    if (it == sizes_.end()) return;
    cuda::heldBytes -= it->second;
    --cuda::heldCount;
    sizes_.erase(it);
    CUDA_CHECK(cudaFree(p));
  }

  void upload(void* dst, const void* src, size_t bytes) override {
    // From pageable memory the copy is staged before this returns, so the caller may reuse src at once.
    if (bytes > 0) CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ctx_.stream));
  }

  void download(void* dst, const void* src, size_t bytes) override {
    if (bytes > 0) CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, ctx_.stream));
    synchronize();
  }

  void synchronize() override {
    CUDA_CHECK(cudaMemcpyAsync(ctx_.indexErrorHost, ctx_.indexError, sizeof(cuda::IndexError), cudaMemcpyDeviceToHost, ctx_.stream));
    CUDA_CHECK(cudaStreamSynchronize(ctx_.stream));
    if (ctx_.indexErrorHost->kind != 0) {
      const cuda::IndexError e = *ctx_.indexErrorHost;
      ctx_.indexErrorHost->kind = 0;
      CUDA_CHECK(cudaMemsetAsync(ctx_.indexError, 0, sizeof(cuda::IndexError), ctx_.stream));
      throwIndexError(e);
    }
  }

#define AR_FORWARD_KERNEL(name, Args) void name(const Args& a) override { cuda::name(a); }
  AR_KERNELS(AR_FORWARD_KERNEL)
#undef AR_FORWARD_KERNEL

 private:
  Context ctx_;
  std::string name_;
  std::unordered_map<void*, size_t> sizes_;
};

// nullptr when there is no usable GPU: no driver (cudaGetDeviceCount fails, e.g. error 35),
// no device, or a device the backend cannot start on (the reason goes to stderr once).
Backend* createCudaBackend() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    cudaGetLastError();
    return nullptr;
  }
  try {
    return new CudaBackend();  // lives for the whole process, like the CPU backend
  } catch (const Error& e) {
    std::fprintf(stderr, "autoresearch: a GPU is present but the CUDA backend could not start: %s\n", e.what());
    return nullptr;
  }
}

}  // namespace

Backend* cudaBackend() {
  static Backend* instance = createCudaBackend();
  return instance;
}

}  // namespace ar
