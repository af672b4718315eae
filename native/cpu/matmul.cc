// Batched GEMM: c[b] = alpha * op(a[b]) @ op(b[b]) + beta * c[b].
// f32/bf16 use a packed, register-blocked kernel (MR x NR tile, fp32 accumulation);
// f64 (gradient checks only) uses a plain triple loop.
#include <algorithm>
#include <cstdlib>
#include <vector>
#include "../common/dispatch.h"
#include "kernels.h"
#include "parallel.h"

namespace ar::cpu {

namespace {

#if defined(__AVX512F__)
constexpr int VL = 16;
#else
constexpr int VL = 8;
#endif
typedef float vf __attribute__((vector_size(VL * 4)));
constexpr int64_t MR = 6, NR = 2 * VL;
constexpr int64_t KC = 256, MC = 96, NC = 1024;

struct AlignedBuffer {
  float* p = nullptr;
  size_t n = 0;
  float* get(size_t need) {
    if (need > n) {
      std::free(p);
      n = need;
      p = static_cast<float*>(std::aligned_alloc(64, (need * 4 + 63) / 64 * 64));
    }
    return p;
  }
  ~AlignedBuffer() { std::free(p); }
};

// acc[MR][NR] = sum_k A[k][MR] * B[k][NR] over packed panels.
inline void microKernel(int64_t kc, const float* __restrict A, const float* __restrict B, float* __restrict acc) {
  vf c[MR][2] = {};
  for (int64_t k = 0; k < kc; ++k) {
    const vf b0 = *reinterpret_cast<const vf*>(B + k * NR);
    const vf b1 = *reinterpret_cast<const vf*>(B + k * NR + VL);
    for (int64_t r = 0; r < MR; ++r) {
      const float av = A[k * MR + r];
      c[r][0] += b0 * av;
      c[r][1] += b1 * av;
    }
  }
  for (int64_t r = 0; r < MR; ++r) {
    *reinterpret_cast<vf*>(acc + r * NR) = c[r][0];
    *reinterpret_cast<vf*>(acc + r * NR + VL) = c[r][1];
  }
}

template <typename T>
void gemmPacked(const MatmulArgs& g, const T* a, const T* b, T* c) {
  using S = Scalar<T>;
  const int64_t M = g.M, N = g.N, K = g.K;
  auto A = [&](int64_t i, int64_t k) { return float(g.transA ? S::load(a, k * M + i) : S::load(a, i * K + k)); };
  auto B = [&](int64_t k, int64_t j) { return float(g.transB ? S::load(b, j * K + k) : S::load(b, k * N + j)); };
  static AlignedBuffer bPack;
  for (int64_t jc = 0; jc < N; jc += NC) {
    const int64_t nc = std::min(NC, N - jc), nPanels = (nc + NR - 1) / NR;
    for (int64_t pc = 0; pc < std::max<int64_t>(K, 1); pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      float* bp = bPack.get(size_t(nPanels * NR * std::max<int64_t>(kc, 1)));
      parallelFor(nPanels, kc * NR, [&](int64_t p) {
        float* dst = bp + p * kc * NR;
        for (int64_t k = 0; k < kc; ++k)
          for (int64_t j = 0; j < NR; ++j) {
            const int64_t col = jc + p * NR + j;
            dst[k * NR + j] = col < jc + nc ? B(pc + k, col) : 0.f;
          }
      });
      const float betaHere = pc == 0 ? float(g.beta) : 1.f;
      const int64_t mBlocks = (M + MC - 1) / MC;
      parallelFor(mBlocks, MC * nc * kc, [&](int64_t blk) {
        thread_local AlignedBuffer aPack;
        const int64_t ic = blk * MC, mc = std::min(MC, M - ic), mPanels = (mc + MR - 1) / MR;
        float* ap = aPack.get(size_t(mPanels * MR * std::max<int64_t>(kc, 1)));
        for (int64_t p = 0; p < mPanels; ++p)
          for (int64_t k = 0; k < kc; ++k)
            for (int64_t r = 0; r < MR; ++r) {
              const int64_t row = ic + p * MR + r;
              ap[(p * kc + k) * MR + r] = row < ic + mc ? A(row, pc + k) : 0.f;
            }
        alignas(64) float acc[MR * NR];
        for (int64_t pn = 0; pn < nPanels; ++pn)
          for (int64_t pm = 0; pm < mPanels; ++pm) {
            if (kc > 0) microKernel(kc, ap + pm * kc * MR, bp + pn * kc * NR, acc);
            else std::fill(acc, acc + MR * NR, 0.f);
            const int64_t i0 = ic + pm * MR, j0 = jc + pn * NR;
            const int64_t mr = std::min(MR, M - i0), nr = std::min(NR, jc + nc - j0);
            for (int64_t r = 0; r < mr; ++r)
              for (int64_t j = 0; j < nr; ++j) {
                const int64_t at = (i0 + r) * N + j0 + j;
                const float prev = betaHere == 0.f ? 0.f : betaHere * float(S::load(c, at));
                S::store(c, at, float(g.alpha) * acc[r * NR + j] + prev);
              }
          }
      });
      if (K == 0) break;
    }
  }
}

void gemmF64(const MatmulArgs& g, const double* a, const double* b, double* c) {
  const int64_t M = g.M, N = g.N, K = g.K;
  parallelFor(M, N * K, [&](int64_t i) {
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += (g.transA ? a[k * M + i] : a[i * K + k]) * (g.transB ? b[j * K + k] : b[k * N + j]);
      c[i * N + j] = g.alpha * acc + (g.beta == 0 ? 0.0 : g.beta * c[i * N + j]);
    }
  });
}

}  // namespace

void matmul(const MatmulArgs& g) {
  dispatchFloat(g.c.dtype, "matmul", [&](auto tag) {
    using T = decltype(tag);
    const T* a = as<T>(g.a);
    const T* b = as<T>(g.b);
    T* c = as<T>(g.c);
    for (int64_t i = 0; i < g.batch; ++i) {
      if constexpr (std::is_same_v<T, double>) gemmF64(g, a + i * g.strideA, b + i * g.strideB, c + i * g.strideC);
      else gemmPacked<T>(g, a + i * g.strideA, b + i * g.strideB, c + i * g.strideC);
    }
  });
}

}  // namespace ar::cpu
