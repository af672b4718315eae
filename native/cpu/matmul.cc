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
constexpr int64_t KC = 256, NC = 1024;

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

// c (M x N, type O) = alpha op(a) op(b) + beta c over `K` columns of a, whose leading
// dimensions are lda/ldb (so a K-slice of a larger problem can be passed).
template <typename T, typename O>
void gemmPacked(const MatmulArgs& g, int64_t K, int64_t lda, int64_t ldb, const T* a, const T* b, O* c) {
  using S = Scalar<T>;
  const int64_t M = g.M, N = g.N;
  auto A = [&](int64_t i, int64_t k) { return float(g.transA ? S::load(a, k * lda + i) : S::load(a, i * lda + k)); };
  auto B = [&](int64_t k, int64_t j) { return float(g.transB ? S::load(b, j * ldb + k) : S::load(b, k * ldb + j)); };
  thread_local AlignedBuffer aPack, bPack;
  const int64_t mPanels = (M + MR - 1) / MR;
  // Tiles of panels are the unit of parallel work, so thin or short matrices still use every thread.
  constexpr int64_t kTileM = 8, kTileN = 4;
  for (int64_t jc = 0; jc < N; jc += NC) {
    const int64_t nc = std::min(NC, N - jc), nPanels = (nc + NR - 1) / NR;
    for (int64_t pc = 0; pc < std::max<int64_t>(K, 1); pc += KC) {
      const int64_t kc = std::min(KC, K - pc), kcs = std::max<int64_t>(kc, 1);
      float* bp = bPack.get(size_t(nPanels * NR * kcs));
      float* ap = aPack.get(size_t(mPanels * MR * kcs));
      parallelFor(nPanels, kc * NR, [&](int64_t p) {
        float* dst = bp + p * kc * NR;
        for (int64_t k = 0; k < kc; ++k)
          for (int64_t j = 0; j < NR; ++j) {
            const int64_t col = jc + p * NR + j;
            dst[k * NR + j] = col < jc + nc ? B(pc + k, col) : 0.f;
          }
      });
      parallelFor(mPanels, kc * MR, [&](int64_t p) {
        float* dst = ap + p * kc * MR;
        for (int64_t k = 0; k < kc; ++k)
          for (int64_t r = 0; r < MR; ++r) {
            const int64_t row = p * MR + r;
            dst[k * MR + r] = row < M ? A(row, pc + k) : 0.f;
          }
      });
      const float betaHere = pc == 0 ? float(g.beta) : 1.f;
      const int64_t tilesM = (mPanels + kTileM - 1) / kTileM, tilesN = (nPanels + kTileN - 1) / kTileN;
      parallelFor(tilesM * tilesN, kTileM * MR * kTileN * NR * kc, [&](int64_t tile) {
        const int64_t tm = tile / tilesN, tn = tile % tilesN;
        alignas(64) float acc[MR * NR];
        for (int64_t pn = tn * kTileN; pn < std::min(nPanels, (tn + 1) * kTileN); ++pn)
          for (int64_t pm = tm * kTileM; pm < std::min(mPanels, (tm + 1) * kTileM); ++pm) {
            if (kc > 0) microKernel(kc, ap + pm * kc * MR, bp + pn * kc * NR, acc);
            else std::fill(acc, acc + MR * NR, 0.f);
            const int64_t i0 = pm * MR, j0 = jc + pn * NR;
            const int64_t mr = std::min(MR, M - i0), nr = std::min(NR, jc + nc - j0);
            for (int64_t r = 0; r < mr; ++r)
              for (int64_t j = 0; j < nr; ++j) {
                const int64_t at = (i0 + r) * N + j0 + j;
                const float prev = betaHere == 0.f ? 0.f : betaHere * float(Scalar<O>::load(c, at));
                Scalar<O>::store(c, at, float(g.alpha) * acc[r * NR + j] + prev);
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

// c = alpha * (the sum of `count` fp32 partial products, each M x N) + beta * c, rounded to T once.
template <typename T>
void storeSum(const MatmulArgs& g, const float* partial, int count, T* c) {
  const int64_t mn = g.M * g.N;
  parallelFor(g.M, g.N * count, [&](int64_t i) {
    for (int64_t j = 0; j < g.N; ++j) {
      float sum = 0;
      for (int t = 0; t < count; ++t) sum += partial[size_t(t) * size_t(mn) + size_t(i * g.N + j)];
      const float prev = g.beta == 0 ? 0.f : float(g.beta) * float(Scalar<T>::load(c, i * g.N + j));
      Scalar<T>::store(c, i * g.N + j, float(g.alpha) * sum + prev);
    }
  });
}

MatmulArgs plainProduct(const MatmulArgs& g) {
  MatmulArgs unit = g;
  unit.alpha = 1;
  unit.beta = 0;
  return unit;
}

// A long K (weight gradients: x^T g over every token) against few output tiles, or against an
// output small next to K: each thread takes a slice of K into its own fp32 buffer, and the
// slices are summed. Splitting the output instead would pass over K in 256-long blocks with a
// barrier between all threads for each.
template <typename T>
bool gemmSplitK(const MatmulArgs& g, const T* a, const T* b, T* c) {
  const int threads = maxThreads();
  const int64_t tiles = ((g.M + 47) / 48) * ((g.N + 127) / 128);
  const bool longK = g.K >= 2 * std::max(g.M, g.N);
  if (threads < 2 || g.K < 1024 || (tiles >= 2 * threads && !longK)) return false;
  const int64_t lda = g.transA ? g.M : g.K, ldb = g.transB ? g.K : g.N;
  const int64_t slice = (g.K + threads - 1) / threads, mn = g.M * g.N;
  std::vector<float> partial(size_t(threads) * size_t(mn));
  const MatmulArgs unit = plainProduct(g);
#pragma omp parallel for schedule(static)
  for (int t = 0; t < threads; ++t) {
    const int64_t k0 = std::min(g.K, t * slice), k1 = std::min(g.K, k0 + slice);
    const T* as = a + (g.transA ? k0 * lda : k0);
    const T* bs = b + (g.transB ? k0 : k0 * ldb);
    gemmPacked<T, float>(unit, k1 - k0, lda, ldb, as, bs, partial.data() + size_t(t) * size_t(mn));
  }
  storeSum(g, partial.data(), threads, c);
  return true;
}

// A short, wide output over a long K (a weight gradient x^T g with fewer inputs than outputs)
// packs all of B for only a few row panels of A. Its transpose, B^T A^T, has the long side in
// the row panels and packs only the small A, so it runs about twice as fast; it goes through an
// fp32 buffer and is transposed into c once.
template <typename T>
bool gemmTransposed(const MatmulArgs& g, int64_t lda, int64_t ldb, const T* a, const T* b, T* c) {
  if (g.M * 4 > g.N || g.N < 1024 || g.K < 1024) return false;  // below that, split-K wins
  MatmulArgs t = plainProduct(g);
  t.M = g.N, t.N = g.M, t.transA = !g.transB, t.transB = !g.transA;
  std::vector<float> ct(size_t(g.M) * size_t(g.N));
  gemmPacked<T, float>(t, g.K, ldb, lda, b, a, ct.data());
  parallelFor(g.M, g.N, [&](int64_t i) {
    for (int64_t j = 0; j < g.N; ++j) {
      const float prev = g.beta == 0 ? 0.f : float(g.beta) * float(Scalar<T>::load(c, i * g.N + j));
      Scalar<T>::store(c, i * g.N + j, float(g.alpha) * ct[size_t(j * g.M + i)] + prev);
    }
  });
  return true;
}

// gemmPacked adds each KC-long slice of K into c; a bf16 c would be rounded once per slice, so
// a longer K accumulates in fp32 and is rounded once, as cuBLAS does.
template <typename T>
void gemm(const MatmulArgs& g, int64_t lda, int64_t ldb, const T* a, const T* b, T* c) {
  if (gemmTransposed<T>(g, lda, ldb, a, b, c) || gemmSplitK<T>(g, a, b, c)) return;
  if (!std::is_same_v<T, bf16> || g.K <= KC) return gemmPacked<T, T>(g, g.K, lda, ldb, a, b, c);
  std::vector<float> acc(size_t(g.M) * size_t(g.N));
  gemmPacked<T, float>(plainProduct(g), g.K, lda, ldb, a, b, acc.data());
  storeSum(g, acc.data(), 1, c);
}

}  // namespace

void matmul(const MatmulArgs& g) {
  dispatchFloat(g.c.dtype, "matmul", [&](auto tag) {
    using T = decltype(tag);
    const T* a = as<T>(g.a);
    const T* b = as<T>(g.b);
    T* c = as<T>(g.c);
    const int64_t lda = g.transA ? g.M : g.K, ldb = g.transB ? g.K : g.N;
    for (int64_t i = 0; i < g.batch; ++i) {
      const T *ai = a + i * g.strideA, *bi = b + i * g.strideB;
      T* ci = c + i * g.strideC;
      if constexpr (std::is_same_v<T, double>) gemmF64(g, ai, bi, ci);
      else gemm<T>(g, lda, ldb, ai, bi, ci);
    }
  });
}

}  // namespace ar::cpu
