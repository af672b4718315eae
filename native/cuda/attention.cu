// Causal attention with a sliding window: query i attends keys j with i - window <= j <= i.
// q, k, v, out, dout, dq, dk, dv: (B, T, H, D); lse: (B, H, T) in Acc (natural log).
// bf16 with D of 64 or 128 runs flash attention on tensor cores (mma.sync m16n8k16, fp32
// accumulation, online softmax in base 2), visiting only the blocks the mask leaves visible.
// Anything else (f32, f64, other head dims, unaligned views) takes an exact one-warp-per-row
// kernel: those cases exist for tests and gradient checks, not for training speed.
#include <cuda_bf16.h>
#include "../common/dispatch.h"
#include "check.h"
#include "device.h"
#include "kernels.h"

namespace ar::cuda {

namespace {

using nvbf = __nv_bfloat16;

// ---------------------------------------------------------------------------------------------
// Tensor-core building blocks (sm_80+ PTX).

__device__ __forceinline__ uint32_t smemAddress(const void* p) { return uint32_t(__cvta_generic_to_shared(p)); }

// 16 bytes global -> shared without a register round trip; valid == false zero-fills the
// destination and reads nothing, which is how tile rows past the sequence end stay in bounds.
__device__ __forceinline__ void copyAsync16(void* smem, const void* gmem, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smemAddress(smem)), "l"(gmem), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void copyAsync4(void* smem, const void* gmem, bool valid) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(smemAddress(smem)), "l"(gmem), "r"(valid ? 4 : 0));
}
__device__ __forceinline__ void commitCopies() { asm volatile("cp.async.commit_group;\n" ::); }
__device__ __forceinline__ void waitCopies() { asm volatile("cp.async.wait_group 0;\n" ::: "memory"); }

// Four 8x8 b16 matrices; lanes 8i..8i+7 address the rows of matrix i, register i receives it.
__device__ __forceinline__ void loadMatrices(uint32_t (&r)[4], const nvbf* smem) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smemAddress(smem)));
}
// The same, each matrix transposed on the way (for operands stored k-major).
__device__ __forceinline__ void loadMatricesT(uint32_t (&r)[4], const nvbf* smem) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smemAddress(smem)));
}

// d (16x8 f32) += a (16x16 bf16, row-major fragment) * b (16x8 bf16, column-major fragment).
__device__ __forceinline__ void mma(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
               "{%0, %1, %2, %3};\n"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// The two 8-column tiles (c0, c1) that one ldmatrix.x4 of B operands (b0, b1 | b2, b3) feeds.
__device__ __forceinline__ void mmaPair(float (&c0)[4], float (&c1)[4], const uint32_t (&a)[4], const uint32_t (&b)[4]) {
  mma(c0, a, b[0], b[1]);
  mma(c1, a, b[2], b[3]);
}

__device__ __forceinline__ uint32_t packBf16(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);  // .x (lo) is the low half: the lower column
  return *reinterpret_cast<uint32_t*>(&v);
}

constexpr int kBlock = 64;       // rows of every tile: queries per block and keys per step, or the reverse
constexpr int kWarps = 4;        // each warp owns 16 rows of the block
constexpr int kFlashThreads = kWarps * 32;
constexpr int kTiles = kBlock / 8;  // 8-column accumulator tiles across one 64-wide score block
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// 2^x by the hardware's approximation (2 ulp, -inf -> 0). The bf16 flash kernels round P to bf16
// right after, so this is exact enough there; the build has no --use_fast_math, so every other
// exp stays precise.
__device__ __forceinline__ float fastExp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

template <int D> constexpr int kPitch = D + 8;  // smem row pitch in elements: +16 bytes keeps ldmatrix conflict-free
template <int D> constexpr int kTileElems = kBlock * kPitch<D>;

// Fragment addressing, with lane = threadIdx.x % 32. An accumulator element (n, e) of a warp's
// 16 x 64 score tile sits at row lane/4 + 8 (e >= 2), column 8n + 2 (lane % 4) + (e & 1).
__device__ __forceinline__ int fragRow(int lane, int e) { return lane / 4 + (e >= 2 ? 8 : 0); }
__device__ __forceinline__ int fragCol(int lane, int n, int e) { return n * 8 + (lane % 4) * 2 + (e & 1); }

// Calls f(element, n, e) on every accumulator element of a warp's 16 x 64 score tile (unrolled).
template <typename F> __device__ __forceinline__ void forEachScore(float (&tile)[kTiles][4], F&& f) {
#pragma unroll
  for (int n = 0; n < kTiles; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) f(tile[n][e], n, e);
}

// A operand (16 rows x 16 k) from a row-major smem tile whose first row is `rows`.
template <int D> __device__ __forceinline__ void loadA(uint32_t (&a)[4], const nvbf* rows, int kStep, int lane) {
  loadMatrices(a, rows + (lane % 16) * kPitch<D> + kStep * 16 + (lane / 16) * 8);
}
// B operands for two 8-column tiles (n = 16 rows of an [n][k] smem tile), k = kStep * 16: b0, b1 | b2, b3.
template <int D> __device__ __forceinline__ void loadBNK(uint32_t (&b)[4], const nvbf* rows, int kStep, int lane) {
  loadMatrices(b, rows + ((lane / 16) * 8 + lane % 8) * kPitch<D> + kStep * 16 + ((lane / 8) % 2) * 8);
}
// B operands for two 8-column tiles from a [k][n] smem tile: 16 k rows starting at `rows`, columns nStep * 16.
template <int D> __device__ __forceinline__ void loadBKN(uint32_t (&b)[4], const nvbf* rows, int nStep, int lane) {
  loadMatricesT(b, rows + (((lane / 8) % 2) * 8 + lane % 8) * kPitch<D> + nStep * 16 + (lane / 16) * 8);
}

// acc (16 x 64) += A (16 x D, rows of `a`) * B^T, B's 64 rows of D in `b` ([n][k] layout).
template <int D>
__device__ __forceinline__ void scoresTile(float (&acc)[kTiles][4], const nvbf* a, const nvbf* b, int lane) {
  forEachScore(acc, [](float& x, int, int) { x = 0.f; });
#pragma unroll
  for (int ks = 0; ks < D / 16; ++ks) {
    uint32_t af[4];
    loadA<D>(af, a, ks, lane);
#pragma unroll
    for (int np = 0; np < kTiles / 2; ++np) {
      uint32_t bf[4];
      loadBNK<D>(bf, b + np * 16 * kPitch<D>, ks, lane);
      mmaPair(acc[2 * np], acc[2 * np + 1], af, bf);
    }
  }
}

// out (16 x D) += P (16 x 64, the accumulator tile rounded to bf16) * V, V's 64 rows of D in `v` ([k][n] layout).
// The m16n8 accumulator layout of two adjacent tiles is exactly the m16k16 A-operand layout.
template <int D>
__device__ __forceinline__ void accumulatePV(float (&out)[D / 8][4], const float (&p)[kTiles][4], const nvbf* v, int lane) {
#pragma unroll
  for (int kk = 0; kk < kTiles / 2; ++kk) {
    const uint32_t a[4] = {packBf16(p[2 * kk][0], p[2 * kk][1]), packBf16(p[2 * kk][2], p[2 * kk][3]),
                           packBf16(p[2 * kk + 1][0], p[2 * kk + 1][1]), packBf16(p[2 * kk + 1][2], p[2 * kk + 1][3])};
#pragma unroll
    for (int dp = 0; dp < D / 16; ++dp) {
      uint32_t bf[4];
      loadBKN<D>(bf, v + kk * 16 * kPitch<D>, dp, lane);
      mmaPair(out[2 * dp], out[2 * dp + 1], a, bf);
    }
  }
}

// Queues a 64 x D tile (rows row0.. of a (T, H*D)-strided head) into smem; rows >= T become zeros.
template <int D>
__device__ __forceinline__ void queueTile(nvbf* smem, const nvbf* head, int64_t rowStride, int row0, int T) {
  constexpr int chunks = D / 8;  // 16-byte pieces per row
  for (int c = threadIdx.x; c < kBlock * chunks; c += kFlashThreads) {
    const int r = c / chunks, col = (c % chunks) * 8;
    const bool valid = row0 + r < T;
    copyAsync16(smem + r * kPitch<D> + col, valid ? head + int64_t(row0 + r) * rowStride + col : head, valid);
  }
}

// Queues 64 per-row statistics (lse or dsum of one head, contiguous over T); rows >= T become 0.
__device__ __forceinline__ void queueStats(float* smem, const float* stats, int row0, int T) {
  if (threadIdx.x < kBlock) {
    const bool valid = row0 + int(threadIdx.x) < T;
    copyAsync4(smem + threadIdx.x, valid ? stats + row0 + threadIdx.x : stats, valid);
  }
}

// Writes a warp's 16 x D accumulator (times `scale`, per row) as bf16 through its own 16 smem rows
// `stage`, then to global rows row0.. (< T) with 16-byte stores.
template <int D>
__device__ __forceinline__ void storeRows(const float (&acc)[D / 8][4], const float (&scale)[2], nvbf* stage, nvbf* head,
                                         int64_t rowStride, int row0, int T, int lane) {
#pragma unroll
  for (int dt = 0; dt < D / 8; ++dt) {
    const int col = dt * 8 + (lane % 4) * 2;
    *reinterpret_cast<uint32_t*>(stage + (lane / 4) * kPitch<D> + col) = packBf16(acc[dt][0] * scale[0], acc[dt][1] * scale[0]);
    *reinterpret_cast<uint32_t*>(stage + (lane / 4 + 8) * kPitch<D> + col) = packBf16(acc[dt][2] * scale[1], acc[dt][3] * scale[1]);
  }
  __syncwarp();
  constexpr int chunks = D / 8;
  for (int c = lane; c < 16 * chunks; c += 32) {
    const int r = c / chunks, col = (c % chunks) * 8;
    if (row0 + r < T)
      *reinterpret_cast<uint4*>(head + int64_t(row0 + r) * rowStride + col) = *reinterpret_cast<const uint4*>(stage + r * kPitch<D> + col);
  }
}

// Whether query `i` may see key `j`.
__device__ __forceinline__ bool visible(int i, int j, int window, int T) { return j <= i && j >= i - window && j < T && i < T; }

// Whether every (query, key) pair of a 64 x 64 block is visible, so the per-element mask can be skipped.
__device__ __forceinline__ bool blockVisible(int q0, int k0, int window, int T) {
  return k0 + kBlock - 1 <= q0 && k0 >= q0 + kBlock - 1 - window && q0 + kBlock <= T && k0 + kBlock <= T;
}

// ---------------------------------------------------------------------------------------------
// Forward: grid (B*H, query blocks), latest (most expensive) query blocks first.
// smem: Q [64][pitch], K [2][64][pitch], V [2][64][pitch] (keys double-buffered).

template <int D>
__global__ void __launch_bounds__(kFlashThreads) flashForwardKernel(const nvbf* q, const nvbf* k, const nvbf* v, nvbf* out,
                                                                    float* lse, int T, int H, int window, float scaleLog2) {
  extern __shared__ __align__(16) unsigned char smem[];
  nvbf* sQ = reinterpret_cast<nvbf*>(smem);
  nvbf* sK = sQ + kTileElems<D>;
  nvbf* sV = sK + 2 * kTileElems<D>;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int bh = blockIdx.x, b = bh / H, h = bh % H;
  const int q0 = (gridDim.y - 1 - blockIdx.y) * kBlock;
  const int64_t rowStride = int64_t(H) * D, head = int64_t(b) * T * rowStride + int64_t(h) * D;
  const int kbFirst = max(0, q0 - window) / kBlock, kbLast = min(q0 + kBlock - 1, T - 1) / kBlock;

  queueTile<D>(sQ, q + head, rowStride, q0, T);
  queueTile<D>(sK, k + head, rowStride, kbFirst * kBlock, T);
  queueTile<D>(sV, v + head, rowStride, kbFirst * kBlock, T);
  commitCopies();

  float o[D / 8][4] = {};
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};  // rows lane/4 and lane/4 + 8 of this warp
  const nvbf* myQ = sQ + warp * 16 * kPitch<D>;
  for (int kb = kbFirst; kb <= kbLast; ++kb) {
    const int buf = (kb - kbFirst) & 1;
    waitCopies();
    __syncthreads();  // tile kb is in smem for all, and everyone is done with the other buffer
    if (kb < kbLast) {
      queueTile<D>(sK + (buf ^ 1) * kTileElems<D>, k + head, rowStride, (kb + 1) * kBlock, T);
      queueTile<D>(sV + (buf ^ 1) * kTileElems<D>, v + head, rowStride, (kb + 1) * kBlock, T);
      commitCopies();
    }
    float s[kTiles][4];
    scoresTile<D>(s, myQ, sK + buf * kTileElems<D>, lane);

    const int k0 = kb * kBlock;
    const bool masked = !blockVisible(q0, k0, window, T);
    float rowMax[2] = {m[0], m[1]};
    forEachScore(s, [&](float& x, int n, int e) {
      x *= scaleLog2;
      if (masked && !visible(q0 + warp * 16 + fragRow(lane, e), k0 + fragCol(lane, n, e), window, T)) x = -INFINITY;
      rowMax[e / 2] = fmaxf(rowMax[e / 2], x);
    });
    float base[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      rowMax[r] = fmaxf(rowMax[r], __shfl_xor_sync(0xffffffffu, rowMax[r], 1));
      rowMax[r] = fmaxf(rowMax[r], __shfl_xor_sync(0xffffffffu, rowMax[r], 2));
      base[r] = rowMax[r] == -INFINITY ? 0.f : rowMax[r];  // a row with nothing visible yet stays at zero
      const float alpha = fastExp2(m[r] - base[r]);
      m[r] = rowMax[r];
      l[r] *= alpha;
#pragma unroll
      for (int dt = 0; dt < D / 8; ++dt) {
        o[dt][2 * r] *= alpha;
        o[dt][2 * r + 1] *= alpha;
      }
    }
    forEachScore(s, [&](float& x, int, int e) {
      x = fastExp2(x - base[e / 2]);
      l[e / 2] += x;  // this thread's share; the quad is summed once at the end
    });
    accumulatePV<D>(o, s, sV + buf * kTileElems<D>, lane);
  }

  float inv[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
    inv[r] = l[r] > 0.f ? 1.f / l[r] : 0.f;
    const int row = q0 + warp * 16 + lane / 4 + 8 * r;
    if (lane % 4 == 0 && row < T) lse[int64_t(bh) * T + row] = (m[r] + log2f(l[r])) * kLn2;
  }
  // Each warp stages through its own Q rows, which only it has read.
  storeRows<D>(o, inv, sQ + warp * 16 * kPitch<D>, out + head, rowStride, q0 + warp * 16, T, lane);
}

// ---------------------------------------------------------------------------------------------
// Backward, FlashAttention-2 style but without atomics: one kernel accumulates dK and dV per key
// block over the query blocks that see it, a second accumulates dQ per query block over its key
// blocks (recomputing P there instead of scattering into an fp32 buffer). Deterministic.
// With P = exp(S - lse) and dsum_i = sum_d dout_i out_i: dS = P (dout v^T - dsum);
// dq = scale dS k; dk = scale dS^T q; dv = P^T dout.

// dK, dV: grid (B*H, key blocks). smem: K, V [64][pitch]; Q, dout [2][64][pitch]; lse, dsum [2][64] f32.
template <int D>
__global__ void __launch_bounds__(kFlashThreads) flashBackwardKVKernel(const nvbf* q, const nvbf* k, const nvbf* v, const nvbf* dout,
                                                                       const float* lse, const float* dsum, nvbf* dk, nvbf* dv, int T,
                                                                       int H, int window, float scale) {
  extern __shared__ __align__(16) unsigned char smem[];
  nvbf* sK = reinterpret_cast<nvbf*>(smem);
  nvbf* sV = sK + kTileElems<D>;
  nvbf* sQ = sV + kTileElems<D>;
  nvbf* sO = sQ + 2 * kTileElems<D>;  // dout
  float* sLse = reinterpret_cast<float*>(sO + 2 * kTileElems<D>);
  float* sDsum = sLse + 2 * kBlock;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int bh = blockIdx.x, b = bh / H, h = bh % H;
  const int k0 = blockIdx.y * kBlock;
  const int64_t rowStride = int64_t(H) * D, head = int64_t(b) * T * rowStride + int64_t(h) * D;
  const float* headLse = lse + int64_t(bh) * T;
  const float* headDsum = dsum + int64_t(bh) * T;
  const int qbFirst = k0 / kBlock, qbLast = min(T - 1, k0 + kBlock - 1 + window) / kBlock;
  const float scaleLog2 = scale * kLog2e;

  auto queueQueries = [&](int qb, int buf) {
    queueTile<D>(sQ + buf * kTileElems<D>, q + head, rowStride, qb * kBlock, T);
    queueTile<D>(sO + buf * kTileElems<D>, dout + head, rowStride, qb * kBlock, T);
    queueStats(sLse + buf * kBlock, headLse, qb * kBlock, T);
    queueStats(sDsum + buf * kBlock, headDsum, qb * kBlock, T);
  };
  queueTile<D>(sK, k + head, rowStride, k0, T);
  queueTile<D>(sV, v + head, rowStride, k0, T);
  queueQueries(qbFirst, 0);
  commitCopies();

  float dkAcc[D / 8][4] = {}, dvAcc[D / 8][4] = {};
  const nvbf* myK = sK + warp * 16 * kPitch<D>;
  const nvbf* myV = sV + warp * 16 * kPitch<D>;
  for (int qb = qbFirst; qb <= qbLast; ++qb) {
    const int buf = (qb - qbFirst) & 1;
    waitCopies();
    __syncthreads();
    if (qb < qbLast) {
      queueQueries(qb + 1, buf ^ 1);
      commitCopies();
    }
    const nvbf* bQ = sQ + buf * kTileElems<D>;
    const nvbf* bO = sO + buf * kTileElems<D>;
    const float* bLse = sLse + buf * kBlock;
    const float* bDsum = sDsum + buf * kBlock;
    const int q0 = qb * kBlock;
    const bool masked = !blockVisible(q0, k0, window, T);

    // P^T (16 keys x 64 queries) = exp2(K Q^T * scale log2e - lse log2e), masked to 0.
    float p[kTiles][4];
    scoresTile<D>(p, myK, bQ, lane);
    forEachScore(p, [&](float& x, int n, int e) {
      const int qi = fragCol(lane, n, e);
      const bool keep = !masked || visible(q0 + qi, k0 + warp * 16 + fragRow(lane, e), window, T);
      x = keep ? fastExp2(x * scaleLog2 - bLse[qi] * kLog2e) : 0.f;
    });
    accumulatePV<D>(dvAcc, p, bO, lane);  // dV += P^T dout

    // dS^T = P^T (V dout^T - dsum), then dK += dS^T Q.
    float ds[kTiles][4];
    scoresTile<D>(ds, myV, bO, lane);
    forEachScore(ds, [&](float& x, int n, int e) { x = p[n][e] * (x - bDsum[fragCol(lane, n, e)]); });
    accumulatePV<D>(dkAcc, ds, bQ, lane);
  }
  // Each warp stages through its own K and V rows, which only it has read.
  const float dkScale[2] = {scale, scale}, one[2] = {1.f, 1.f};
  storeRows<D>(dkAcc, dkScale, sK + warp * 16 * kPitch<D>, dk + head, rowStride, k0 + warp * 16, T, lane);
  storeRows<D>(dvAcc, one, sV + warp * 16 * kPitch<D>, dv + head, rowStride, k0 + warp * 16, T, lane);
}

// dQ: grid (B*H, query blocks), latest first. smem: Q, dout [64][pitch]; K, V [2][64][pitch].
template <int D>
__global__ void __launch_bounds__(kFlashThreads) flashBackwardQKernel(const nvbf* q, const nvbf* k, const nvbf* v, const nvbf* dout,
                                                                      const float* lse, const float* dsum, nvbf* dq, int T, int H,
                                                                      int window, float scale) {
  extern __shared__ __align__(16) unsigned char smem[];
  nvbf* sQ = reinterpret_cast<nvbf*>(smem);
  nvbf* sO = sQ + kTileElems<D>;  // dout
  nvbf* sK = sO + kTileElems<D>;
  nvbf* sV = sK + 2 * kTileElems<D>;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int bh = blockIdx.x, b = bh / H, h = bh % H;
  const int q0 = (gridDim.y - 1 - blockIdx.y) * kBlock;
  const int64_t rowStride = int64_t(H) * D, head = int64_t(b) * T * rowStride + int64_t(h) * D;
  const int kbFirst = max(0, q0 - window) / kBlock, kbLast = min(q0 + kBlock - 1, T - 1) / kBlock;
  const float scaleLog2 = scale * kLog2e;

  queueTile<D>(sQ, q + head, rowStride, q0, T);
  queueTile<D>(sO, dout + head, rowStride, q0, T);
  queueTile<D>(sK, k + head, rowStride, kbFirst * kBlock, T);
  queueTile<D>(sV, v + head, rowStride, kbFirst * kBlock, T);
  commitCopies();

  // Statistics of this thread's two rows (rows past T get zeros; they are never stored).
  float rowLse[2], rowDsum[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int row = q0 + warp * 16 + lane / 4 + 8 * r;
    rowLse[r] = row < T ? lse[int64_t(bh) * T + row] * kLog2e : 0.f;
    rowDsum[r] = row < T ? dsum[int64_t(bh) * T + row] : 0.f;
  }

  float dqAcc[D / 8][4] = {};
  const nvbf* myQ = sQ + warp * 16 * kPitch<D>;
  const nvbf* myO = sO + warp * 16 * kPitch<D>;
  for (int kb = kbFirst; kb <= kbLast; ++kb) {
    const int buf = (kb - kbFirst) & 1;
    waitCopies();
    __syncthreads();
    if (kb < kbLast) {
      queueTile<D>(sK + (buf ^ 1) * kTileElems<D>, k + head, rowStride, (kb + 1) * kBlock, T);
      queueTile<D>(sV + (buf ^ 1) * kTileElems<D>, v + head, rowStride, (kb + 1) * kBlock, T);
      commitCopies();
    }
    const nvbf* bK = sK + buf * kTileElems<D>;
    const int k0 = kb * kBlock;
    const bool masked = !blockVisible(q0, k0, window, T);

    float p[kTiles][4];
    scoresTile<D>(p, myQ, bK, lane);
    forEachScore(p, [&](float& x, int n, int e) {
      const bool keep = !masked || visible(q0 + warp * 16 + fragRow(lane, e), k0 + fragCol(lane, n, e), window, T);
      x = keep ? fastExp2(x * scaleLog2 - rowLse[e / 2]) : 0.f;
    });
    // dS = P (dout V^T - dsum), then dQ += dS K.
    float ds[kTiles][4];
    scoresTile<D>(ds, myO, sV + buf * kTileElems<D>, lane);
    forEachScore(ds, [&](float& x, int n, int e) { x = p[n][e] * (x - rowDsum[e / 2]); });
    accumulatePV<D>(dqAcc, ds, bK, lane);
  }
  const float dqScale[2] = {scale, scale};
  storeRows<D>(dqAcc, dqScale, sQ + warp * 16 * kPitch<D>, dq + head, rowStride, q0 + warp * 16, T, lane);
}

// ---------------------------------------------------------------------------------------------
// Exact fallback: one warp per row, lanes split the head dim (D <= 32 * kMaxPerLane).

constexpr int kMaxPerLane = 8;

// Loads row `at` of a head, lane-strided over d, into registers (zeros past D).
template <typename T>
__device__ __forceinline__ void loadRow(Acc<T> (&r)[kMaxPerLane], const T* x, int64_t at, int64_t D) {
#pragma unroll
  for (int c = 0; c < kMaxPerLane; ++c) {
    const int64_t d = laneId() + 32 * c;
    r[c] = d < D ? Acc<T>(load(x, at + d)) : Acc<T>(0);
  }
}

template <typename T>
__device__ __forceinline__ Acc<T> dotRow(const Acc<T> (&r)[kMaxPerLane], const T* x, int64_t at, int64_t D) {
  Acc<T> s = 0;
#pragma unroll
  for (int c = 0; c < kMaxPerLane; ++c) {
    const int64_t d = laneId() + 32 * c;
    if (d < D) s += r[c] * Acc<T>(load(x, at + d));
  }
  return warpReduce(s, Add());
}

template <typename T>
__device__ __forceinline__ void storeRow(const Acc<T> (&r)[kMaxPerLane], Acc<T> scale, T* x, int64_t at, int64_t D) {
#pragma unroll
  for (int c = 0; c < kMaxPerLane; ++c) {
    const int64_t d = laneId() + 32 * c;
    if (d < D) store(x, at + d, r[c] * scale);
  }
}

// Row index -> (bh, t) and the element offset of (b, t, h, 0).
struct RowAt {
  int64_t bh, t, offset;
};
__device__ __forceinline__ RowAt rowAt(int64_t row, int64_t T, int64_t H, int64_t D) {
  const int64_t bh = row / T, t = row % T, b = bh / H, h = bh % H;
  return {bh, t, ((b * T + t) * H + h) * D};
}

template <typename T>
__global__ void attentionForwardSimple(const T* q, const T* k, const T* v, T* out, Acc<T>* lse, int64_t B, int64_t T_, int64_t H,
                                       int64_t D, int64_t window, Acc<T> scale) {
  using A = Acc<T>;
  const int64_t step = H * D;  // between time steps
  for (int64_t row = firstWarp(); row < B * H * T_; row += warpStep()) {
    const RowAt at = rowAt(row, T_, H, D);
    A qr[kMaxPerLane], acc[kMaxPerLane] = {};
    loadRow(qr, q, at.offset, D);
    A m = A(-INFINITY), l = 0;
    for (int64_t j = max(int64_t(0), at.t - window); j <= at.t; ++j) {
      const int64_t kj = at.offset + (j - at.t) * step;
      const A s = dotRow(qr, k, kj, D) * scale;
      const A mNew = s > m ? s : m, alpha = exp(m - mNew), p = exp(s - mNew);
      l = l * alpha + p;
#pragma unroll
      for (int c = 0; c < kMaxPerLane; ++c) {
        const int64_t d = laneId() + 32 * c;
        acc[c] = acc[c] * alpha + (d < D ? p * A(load(v, kj + d)) : A(0));
      }
      m = mNew;
    }
    storeRow(acc, A(1) / l, out, at.offset, D);
    if (laneId() == 0) lse[at.bh * T_ + at.t] = m + log(l);
  }
}

// dsum[bh, t] = sum_d dout * out, for both backward paths.
template <typename T>
__global__ void attentionDsumKernel(const T* out, const T* dout, Acc<T>* dsum, int64_t B, int64_t T_, int64_t H, int64_t D) {
  for (int64_t row = firstWarp(); row < B * H * T_; row += warpStep()) {
    const RowAt at = rowAt(row, T_, H, D);
    Acc<T> s = 0;
    for (int64_t d = laneId(); d < D; d += 32) s += Acc<T>(load(out, at.offset + d)) * Acc<T>(load(dout, at.offset + d));
    s = warpReduce(s, Add());
    if (laneId() == 0) dsum[at.bh * T_ + at.t] = s;
  }
}

// dq for one query row per warp: sum over visible keys of dS k.
template <typename T>
__global__ void attentionBackwardQSimple(const T* q, const T* k, const T* v, const T* dout, const Acc<T>* lse, const Acc<T>* dsum,
                                         T* dq, int64_t B, int64_t T_, int64_t H, int64_t D, int64_t window, Acc<T> scale) {
  using A = Acc<T>;
  const int64_t step = H * D;
  for (int64_t row = firstWarp(); row < B * H * T_; row += warpStep()) {
    const RowAt at = rowAt(row, T_, H, D);
    A qr[kMaxPerLane], gr[kMaxPerLane], acc[kMaxPerLane] = {};
    loadRow(qr, q, at.offset, D);
    loadRow(gr, dout, at.offset, D);
    const A rowLse = lse[at.bh * T_ + at.t], rowDsum = dsum[at.bh * T_ + at.t];
    for (int64_t j = max(int64_t(0), at.t - window); j <= at.t; ++j) {
      const int64_t kj = at.offset + (j - at.t) * step;
      const A p = exp(dotRow(qr, k, kj, D) * scale - rowLse);
      const A ds = p * (dotRow(gr, v, kj, D) - rowDsum) * scale;
#pragma unroll
      for (int c = 0; c < kMaxPerLane; ++c) {
        const int64_t d = laneId() + 32 * c;
        if (d < D) acc[c] += ds * A(load(k, kj + d));
      }
    }
    storeRow(acc, A(1), dq, at.offset, D);
  }
}

// dk, dv for one key row per warp: sums over the queries that see it.
template <typename T>
__global__ void attentionBackwardKVSimple(const T* q, const T* k, const T* v, const T* dout, const Acc<T>* lse, const Acc<T>* dsum,
                                          T* dk, T* dv, int64_t B, int64_t T_, int64_t H, int64_t D, int64_t window, Acc<T> scale) {
  using A = Acc<T>;
  const int64_t step = H * D;
  for (int64_t row = firstWarp(); row < B * H * T_; row += warpStep()) {
    const RowAt at = rowAt(row, T_, H, D);
    A kr[kMaxPerLane], vr[kMaxPerLane], dkAcc[kMaxPerLane] = {}, dvAcc[kMaxPerLane] = {};
    loadRow(kr, k, at.offset, D);
    loadRow(vr, v, at.offset, D);
    for (int64_t i = at.t; i <= min(T_ - 1, at.t + window); ++i) {
      const int64_t qi = at.offset + (i - at.t) * step;
      const A p = exp(dotRow(kr, q, qi, D) * scale - lse[at.bh * T_ + i]);
      const A ds = p * (dotRow(vr, dout, qi, D) - dsum[at.bh * T_ + i]) * scale;
#pragma unroll
      for (int c = 0; c < kMaxPerLane; ++c) {
        const int64_t d = laneId() + 32 * c;
        if (d < D) {
          dvAcc[c] += p * A(load(dout, qi + d));
          dkAcc[c] += ds * A(load(q, qi + d));
        }
      }
    }
    storeRow(dkAcc, A(1), dk, at.offset, D);
    storeRow(dvAcc, A(1), dv, at.offset, D);
  }
}

// ---------------------------------------------------------------------------------------------
// Dispatch.

bool aligned16(const Buf& b) { return reinterpret_cast<uintptr_t>(b.ptr) % 16 == 0; }

template <int D> constexpr size_t kForwardSmem = 5 * kTileElems<D> * sizeof(nvbf);
template <int D> constexpr size_t kBackwardKVSmem = 6 * kTileElems<D> * sizeof(nvbf) + 4 * kBlock * sizeof(float);
template <int D> constexpr size_t kBackwardQSmem = 6 * kTileElems<D> * sizeof(nvbf);

// Raises a kernel's dynamic shared-memory limit once; false when the device offers less.
template <typename K> bool allowSmem(K kernel, size_t bytes) {
  if (bytes > context().sharedPerBlockOptin) return false;
  CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)));
  return true;
}

template <int D> bool flashReady() {
  static const bool ready = allowSmem(flashForwardKernel<D>, kForwardSmem<D>) &&
                            allowSmem(flashBackwardKVKernel<D>, kBackwardKVSmem<D>) &&
                            allowSmem(flashBackwardQKernel<D>, kBackwardQSmem<D>);
  return ready;
}

// The tensor-core path: bf16, D of 64 or 128, 16-byte aligned heads, sizes that fit int.
bool useFlash(DType dtype, int64_t B, int64_t T, int64_t H, int64_t D, std::initializer_list<const Buf*> views) {
  if (dtype != DType::BF16 || (D != 64 && D != 128) || T > (1 << 30) || B * H > (int64_t(1) << 31) - 1 || (T + kBlock - 1) / kBlock > 65535)
    return false;
  for (const Buf* b : views)
    if (!aligned16(*b)) return false;
  return D == 64 ? flashReady<64>() : flashReady<128>();
}

template <int D> void flashForward(const AttentionArgs& a, int window) {
  const dim3 grid(unsigned(a.B * a.H), unsigned((a.T + kBlock - 1) / kBlock));
  flashForwardKernel<D><<<grid, kFlashThreads, kForwardSmem<D>, context().stream>>>(
      as<nvbf>(a.q), as<nvbf>(a.k), as<nvbf>(a.v), as<nvbf>(a.out), as<float>(a.lse), int(a.T), int(a.H), window,
      float(a.scale) * kLog2e);
  CUDA_CHECK_LAUNCH();
}

template <int D> void flashBackward(const AttentionBackwardArgs& a, int window, const float* dsum) {
  const dim3 grid(unsigned(a.B * a.H), unsigned((a.T + kBlock - 1) / kBlock));
  cudaStream_t s = context().stream;
  flashBackwardKVKernel<D><<<grid, kFlashThreads, kBackwardKVSmem<D>, s>>>(as<nvbf>(a.q), as<nvbf>(a.k), as<nvbf>(a.v),
                                                                           as<nvbf>(a.dout), as<float>(a.lse), dsum, as<nvbf>(a.dk),
                                                                           as<nvbf>(a.dv), int(a.T), int(a.H), window, float(a.scale));
  CUDA_CHECK_LAUNCH();
  flashBackwardQKernel<D><<<grid, kFlashThreads, kBackwardQSmem<D>, s>>>(as<nvbf>(a.q), as<nvbf>(a.k), as<nvbf>(a.v), as<nvbf>(a.dout),
                                                                         as<float>(a.lse), dsum, as<nvbf>(a.dq), int(a.T), int(a.H),
                                                                         window, float(a.scale));
  CUDA_CHECK_LAUNCH();
}

void checkHeadDim(const char* op, int64_t D) {
  if (D > 32 * kMaxPerLane) fail(op, ": the CUDA backend supports head dims up to ", 32 * kMaxPerLane, ", got ", D);
}

}  // namespace

void attentionForward(const AttentionArgs& a) {
  if (a.B * a.H * a.T == 0) return;
  const int64_t window = std::min(a.window, a.T);  // any window >= T is plain causal
  if (useFlash(a.q.dtype, a.B, a.T, a.H, a.D, {&a.q, &a.k, &a.v, &a.out})) {
    if (a.D == 64) flashForward<64>(a, int(window));
    else flashForward<128>(a, int(window));
    return;
  }
  checkHeadDim("attention", a.D);
  dispatchFloat(a.q.dtype, "attention", [&](auto tag) {
    using T = decltype(tag);
    attentionForwardSimple<T><<<gridFor(a.B * a.H * a.T * 32), kThreads, 0, context().stream>>>(
        as<T>(a.q), as<T>(a.k), as<T>(a.v), as<T>(a.out), as<Acc<T>>(a.lse), a.B, a.T, a.H, a.D, window, Acc<T>(a.scale));
    CUDA_CHECK_LAUNCH();
  });
}

void attentionBackward(const AttentionBackwardArgs& a) {
  if (a.B * a.H * a.T == 0) return;
  const int64_t window = std::min(a.window, a.T);
  const bool flash = useFlash(a.q.dtype, a.B, a.T, a.H, a.D, {&a.q, &a.k, &a.v, &a.out, &a.dout, &a.dq, &a.dk, &a.dv});
  if (!flash) checkHeadDim("attention backward", a.D);
  dispatchFloat(a.q.dtype, "attention backward", [&](auto tag) {
    using T = decltype(tag);
    using A = Acc<T>;
    const int64_t rows = a.B * a.H * a.T;
    Scratch dsum(size_t(rows) * sizeof(A));
    cudaStream_t s = context().stream;
    attentionDsumKernel<T><<<gridFor(rows * 32), kThreads, 0, s>>>(as<T>(a.out), as<T>(a.dout), dsum.as<A>(), a.B, a.T, a.H, a.D);
    CUDA_CHECK_LAUNCH();
    if constexpr (std::is_same_v<T, bf16>) {
      if (flash) {
        if (a.D == 64) flashBackward<64>(a, int(window), dsum.as<float>());
        else flashBackward<128>(a, int(window), dsum.as<float>());
        return;
      }
    }
    attentionBackwardQSimple<T><<<gridFor(rows * 32), kThreads, 0, s>>>(as<T>(a.q), as<T>(a.k), as<T>(a.v), as<T>(a.dout),
                                                                          as<A>(a.lse), dsum.as<A>(), as<T>(a.dq), a.B, a.T, a.H, a.D,
                                                                          window, A(a.scale));
    CUDA_CHECK_LAUNCH();
    attentionBackwardKVSimple<T><<<gridFor(rows * 32), kThreads, 0, s>>>(as<T>(a.q), as<T>(a.k), as<T>(a.v), as<T>(a.dout),
                                                                           as<A>(a.lse), dsum.as<A>(), as<T>(a.dk), as<T>(a.dv), a.B,
                                                                           a.T, a.H, a.D, window, A(a.scale));
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace ar::cuda
