// Batched GEMM through cuBLASLt: c[b] = alpha * op(a[b]) @ op(b[b]) + beta * c[b], all row-major.
// bf16 runs on tensor cores with fp32 accumulation; f32 uses fp32 compute (no TF32), f64 fp64.
// The only file that calls cuBLASLt. Row-major C = op(A) op(B) is computed as the column-major
// C^T = op(B)^T op(A)^T, so our b is cuBLASLt's A and our a its B; nothing is transposed in memory.
#include <cublasLt.h>
#include <cstdlib>
#include <string>
#include <tuple>
#include <unordered_map>
#include "../common/dispatch.h"
#include "check.h"
#include "device.h"
#include "kernels.h"

#define CUBLAS_CHECK(call) checkCublas((call), #call, __FILE__, __LINE__)

namespace ar::cuda {

namespace {

void checkCublas(cublasStatus_t s, const char* what, const char* file, int line) {
  if (s != CUBLAS_STATUS_SUCCESS)
    fail("cuBLASLt error at ", baseName(file), ":", line, ": ", what, " failed with ", cublasLtGetStatusName(s), " (",
         cublasLtGetStatusString(s), ")");
}

// Everything a cached plan depends on: types, shapes, batch strides and pointer alignment.
struct PlanKey {
  DType dtype;
  bool transA, transB;
  int64_t M, N, K, batch, strideA, strideB, strideC;
  uint32_t alignA, alignB, alignC;
  auto fields() const { return std::tie(dtype, transA, transB, M, N, K, batch, strideA, strideB, strideC, alignA, alignB, alignC); }
  bool operator==(const PlanKey& o) const { return fields() == o.fields(); }
};

struct PlanKeyHash {
  size_t operator()(const PlanKey& k) const {
    size_t h = size_t(k.dtype) * 31 + size_t(k.transA) * 7 + size_t(k.transB);
    for (int64_t v : {k.M, k.N, k.K, k.batch, k.strideA, k.strideB, k.strideC, int64_t(k.alignA), int64_t(k.alignB), int64_t(k.alignC)})
      h = h * 1000003u ^ std::hash<int64_t>()(v);
    return h;
  }
};

// Descriptors plus the heuristic's algorithm, built once per key.
struct Plan {
  cublasLtMatmulDesc_t op;
  cublasLtMatrixLayout_t a, b, c;  // cuBLASLt's A (our b), B (our a), C = D
  cublasLtMatmulAlgo_t algo;
  bool fallback;  // no cuBLASLt algorithm for this key: gemmFallbackKernel runs it
};

constexpr size_t kWorkspaceBytes = size_t(32) << 20;  // what cuBLAS recommends on Hopper

struct TypeInfo {
  cudaDataType_t data, scale;
  cublasComputeType_t compute;
};

TypeInfo typeInfo(DType d) {
  switch (d) {
    case DType::BF16: return {CUDA_R_16BF, CUDA_R_32F, CUBLAS_COMPUTE_32F};
    case DType::F32: return {CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F};
    case DType::F64: return {CUDA_R_64F, CUDA_R_64F, CUBLAS_COMPUTE_64F};
    default: fail("matmul: expected a floating-point dtype (f32, bf16, f64), got ", dtypeName(d));
  }
}

cublasLtMatrixLayout_t layout(cudaDataType_t type, int64_t rows, int64_t cols, int64_t batch, int64_t stride) {
  cublasLtMatrixLayout_t l;
  CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&l, type, uint64_t(rows), uint64_t(cols), rows));
  const int32_t count = int32_t(batch);
  CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof(count)));
  CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof(stride)));
  return l;
}

// The cuBLASLt handle, its workspace and the plan cache. Created on the first matmul and never
// destroyed: at process exit the CUDA context may already be gone.
class Lt {
 public:
  Lt() {
    CUBLAS_CHECK(cublasLtCreate(&handle_));
    if (cudaMalloc(&workspace_, kWorkspaceBytes) != cudaSuccess) {
      cudaGetLastError();
      outOfMemory(kWorkspaceBytes, "the cuBLASLt workspace");
    }
  }

  // False when this key has no cuBLASLt algorithm: the caller runs the fallback kernel.
  bool run(const PlanKey& key, const void* a, const void* b, void* c, double alpha, double beta) {
    const Plan& p = plan(key);
    if (p.fallback) return false;
    const float alpha32 = float(alpha), beta32 = float(beta);
    const bool wide = key.dtype == DType::F64;
    CUBLAS_CHECK(cublasLtMatmul(handle_, p.op, wide ? static_cast<const void*>(&alpha) : &alpha32, b, p.a, a, p.b,
                                wide ? static_cast<const void*>(&beta) : &beta32, c, p.c, c, p.c, &p.algo, workspace_,
                                kWorkspaceBytes, context().stream));
    return true;
  }

 private:
  const Plan& plan(const PlanKey& k) {
    auto it = plans_.find(k);
    if (it != plans_.end()) return it->second;
    const TypeInfo t = typeInfo(k.dtype);
    Plan p;
    CUBLAS_CHECK(cublasLtMatmulDescCreate(&p.op, t.compute, t.scale));
    const cublasOperation_t opA = k.transB ? CUBLAS_OP_T : CUBLAS_OP_N, opB = k.transA ? CUBLAS_OP_T : CUBLAS_OP_N;
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &opA, sizeof(opA)));
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &opB, sizeof(opB)));
    // Stored (column-major) shapes: our b is (N x K) or, transposed, (K x N); our a is (K x M) or (M x K).
    p.a = layout(t.data, k.transB ? k.K : k.N, k.transB ? k.N : k.K, k.batch, k.strideB);
    p.b = layout(t.data, k.transA ? k.M : k.K, k.transA ? k.K : k.M, k.batch, k.strideA);
    p.c = layout(t.data, k.N, k.M, k.batch, k.strideC);

    cublasLtMatmulPreference_t pref;
    CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
    const uint64_t ws = kWorkspaceBytes;
    CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)));
    // The default assumes 256-byte aligned pointers; views at arbitrary offsets need the true figure.
    CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &k.alignB, sizeof(uint32_t)));
    CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &k.alignA, sizeof(uint32_t)));
    CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &k.alignC, sizeof(uint32_t)));
    CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &k.alignC, sizeof(uint32_t)));
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    const cublasStatus_t s = cublasLtMatmulAlgoGetHeuristic(handle_, p.op, p.a, p.b, p.c, p.c, pref, 1, &result, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    // Odd shapes and alignments can leave the heuristic with nothing (NOT_SUPPORTED, or success
    // with found == 0). AUTORESEARCH_MATMUL_FALLBACK=1, read whenever a plan is built, forces the
    // same path for new keys, so tests can reach it.
    const char* force = std::getenv("AUTORESEARCH_MATMUL_FALLBACK");
    p.fallback = (force != nullptr && std::string(force) == "1") || s != CUBLAS_STATUS_SUCCESS || found == 0;
    p.algo = result.algo;
    return plans_.emplace(k, p).first->second;
  }

  cublasLtHandle_t handle_ = nullptr;
  void* workspace_ = nullptr;
  std::unordered_map<PlanKey, Plan, PlanKeyHash> plans_;
};

Lt& lt() {
  static Lt* instance = new Lt();
  return *instance;
}

// Largest power of two <= 256 dividing the address of every matrix in the batch.
uint32_t alignment(const void* p, int64_t stride, int64_t batch, int64_t elementBytes) {
  uintptr_t bits = uintptr_t(p) | (batch > 1 ? uintptr_t(stride * elementBytes) : 0);
  uint32_t a = 256;
  while (a > 1 && bits % a != 0) a /= 2;
  return a;
}

// c = beta * c for K == 0, where cuBLASLt has nothing to multiply; beta == 0 writes zeros (NaN-free).
template <typename T>
__global__ void scaleKernel(T* c, int64_t n, double beta) {
  for (int64_t i = firstIndex(); i < n; i += indexStep()) store(c, i, beta == 0 ? Acc<T>(0) : Acc<T>(beta) * load(c, i));
}

// The GEMM for keys cuBLASLt has no algorithm for: one thread per element of c[b], any
// transposition, batch stride or alignment, accumulating in Acc<T> like the CPU loop. Slow, and
// only for the odd shapes that reach it; beta == 0 never reads c (NaN-free, like cuBLASLt).
template <typename T>
__global__ void gemmFallbackKernel(const T* a, const T* b, T* c, int64_t batch, int64_t M, int64_t N, int64_t K, bool transA,
                                   bool transB, int64_t strideA, int64_t strideB, int64_t strideC, double alpha, double beta) {
  using A = Acc<T>;
  for (int64_t idx = firstIndex(); idx < batch * M * N; idx += indexStep()) {
    const int64_t bi = idx / (M * N), i = idx / N % M, j = idx % N;
    const T* ab = a + bi * strideA;
    const T* bb = b + bi * strideB;
    A sum = 0;
    for (int64_t k = 0; k < K; ++k) sum += load(ab, transA ? k * M + i : i * K + k) * load(bb, transB ? j * K + k : k * N + j);
    T* cb = c + bi * strideC;
    const int64_t at = i * N + j;
    store(cb, at, beta == 0 ? A(alpha) * sum : A(alpha) * sum + A(beta) * load(cb, at));
  }
}

template <typename T>
void gemmFallback(const void* a, const void* b, void* c, int64_t batch, const MatmulArgs& g) {
  gemmFallbackKernel<T><<<gridFor(batch * g.M * g.N), kThreads, 0, context().stream>>>(
      static_cast<const T*>(a), static_cast<const T*>(b), static_cast<T*>(c), batch, g.M, g.N, g.K, g.transA, g.transB, g.strideA,
      g.strideB, g.strideC, g.alpha, g.beta);
  CUDA_CHECK_LAUNCH();
}

}  // namespace

void matmul(const MatmulArgs& g) {
  if (g.batch == 0 || g.M == 0 || g.N == 0) return;
  const int64_t size = dtypeSize(g.c.dtype);
  auto at = [&](const Buf& buf, int64_t offset) { return static_cast<char*>(buf.ptr) + offset * size; };
  if (g.K == 0) {
    dispatchFloat(g.c.dtype, "matmul", [&](auto tag) {
      using T = decltype(tag);
      for (int64_t i = 0; i < g.batch; ++i)
        scaleKernel<T><<<gridFor(g.M * g.N), kThreads, 0, context().stream>>>(reinterpret_cast<T*>(at(g.c, i * g.strideC)),
                                                                              g.M * g.N, g.beta);
      CUDA_CHECK_LAUNCH();
    });
    return;
  }
  // Matrices of one batch call must not overlap in c. A shared c (strideC 0) accumulates batch
  // by batch like the CPU loop does, so it runs as one call per batch, in order on the stream.
  const bool sharedC = g.strideC == 0 && g.batch > 1;
  const int64_t calls = sharedC ? g.batch : 1, batch = sharedC ? 1 : g.batch;
  for (int64_t i = 0; i < calls; ++i) {
    const void *a = at(g.a, i * g.strideA), *b = at(g.b, i * g.strideB);
    void* c = at(g.c, i * g.strideC);
    const int64_t keep = batch > 1;  // a single matrix's batch strides are irrelevant: one plan for all
    PlanKey key{g.c.dtype, g.transA, g.transB, g.M, g.N, g.K, batch, g.strideA * keep, g.strideB * keep, g.strideC * keep,
                alignment(a, g.strideA, batch, size), alignment(b, g.strideB, batch, size), alignment(c, g.strideC, batch, size)};
    if (!lt().run(key, a, b, c, g.alpha, g.beta))
      dispatchFloat(g.c.dtype, "matmul", [&](auto tag) { gemmFallback<decltype(tag)>(a, b, c, batch, g); });
  }
}

}  // namespace ar::cuda
