// Causal attention with a sliding window: query i attends keys j with i - window <= j <= i.
// q, k, v, out: (B, T, H, D); lse: (B, H, T). Exact, with whole softmax rows: the reference for
// the GPU kernels. f32 and bf16 run register-blocked loops (4 queries against 16 keys, or 16
// head-dim columns, per register); f64, which exists for gradient checks, runs the plain loops
// that state the math, and a test holds the two to each other.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>
#include "../common/dispatch.h"
#include "fast-math.h"
#include "kernels.h"
#include "parallel.h"

namespace ar::cpu {

namespace {
inline int64_t firstKey(int64_t i, int64_t window) { return std::max<int64_t>(0, i - window); }

// ---- fp32 fast path -------------------------------------------------------------------------
// Blocks of kRows queries against kKeys keys, accumulated in registers: each load of K (or V)
// feeds kRows multiply-adds. K and V of one (batch, head) are first copied into contiguous
// buffers, K also transposed (head dim major, keys padded to kKeys with zeros).
constexpr int64_t kRows = 4, kKeys = 16;
typedef float KeyVec __attribute__((vector_size(kKeys * sizeof(float))));

inline int64_t paddedKeys(int64_t n) { return (n + kKeys - 1) / kKeys * kKeys; }

struct HeadBuffers {
  std::vector<float> kt, kRows, vt, vRows, q, g, s, dp, o, dq, dk, dv;
};

HeadBuffers& headBuffers() {
  thread_local HeadBuffers b;
  return b;
}

// x (T, D) of one head at stride rs into rows (T, D) and/or columns (D, padded T, zeros past T).
template <typename T>
void copyHead(const T* x, int64_t base, int64_t rs, int64_t Tn, int64_t D, std::vector<float>* rows, std::vector<float>* cols) {
  const int64_t ld = paddedKeys(Tn);
  if (rows) rows->resize(size_t(Tn * D));
  if (cols) cols->assign(size_t(D * ld), 0.f);
  for (int64_t j = 0; j < Tn; ++j)
    for (int64_t d = 0; d < D; ++d) {
      const float v = float(Scalar<T>::load(x, base + j * rs + d));
      if (rows) (*rows)[j * D + d] = v;
      if (cols) (*cols)[d * ld + j] = v;
    }
}

// s[r][j] = sum_d x[r][d] cols[d][j] for rows r < m (m <= kRows) and keys j in [j0, j1), j0 a
// multiple of kKeys; s has row stride `ls` and is written for whole key blocks.
void scoreBlock(const float* x, int64_t m, int64_t D, const float* cols, int64_t ld, int64_t j0, int64_t j1, float* s, int64_t ls) {
  for (int64_t j = j0; j < j1; j += kKeys) {
    KeyVec acc[kRows] = {};
    for (int64_t d = 0; d < D; ++d) {
      KeyVec c;
      std::memcpy(&c, cols + d * ld + j, sizeof c);
      for (int64_t r = 0; r < kRows; ++r) acc[r] += x[r * D + d] * c;
    }
    for (int64_t r = 0; r < m; ++r) std::memcpy(s + r * ls + j, &acc[r], sizeof(KeyVec));
  }
}

inline KeyVec loadVec(const float* p) {
  KeyVec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void storeVec(float* p, const KeyVec& v) { std::memcpy(p, &v, sizeof v); }

// out[r][:] += sum_j w[r][j] rows[j][:] for r < m, keys j in [j0, j1): dq and P V. The head dim
// goes kKeys columns at a time, each row's partial sum staying in a register across the keys.
void weightedRows(const float* w, int64_t lw, int64_t m, const float* rows, int64_t D, int64_t j0, int64_t j1, float* out) {
  int64_t d0 = 0;
  for (; d0 + kKeys <= D; d0 += kKeys) {
    KeyVec acc[kRows] = {};
    for (int64_t j = j0; j < j1; ++j) {
      const KeyVec v = loadVec(rows + j * D + d0);
      for (int64_t r = 0; r < kRows; ++r) acc[r] += w[r * lw + j] * v;
    }
    for (int64_t r = 0; r < m; ++r) storeVec(out + r * D + d0, loadVec(out + r * D + d0) + acc[r]);
  }
  for (int64_t j = j0; j < j1; ++j)
    for (int64_t r = 0; r < m; ++r)
      for (int64_t d = d0; d < D; ++d) out[r * D + d] += w[r * lw + j] * rows[j * D + d];
}

// out[j][:] += sum_r w[r][j] x[r][:] for keys j in [j0, j1), rows r < m: dK and dV.
void accumulateRows(const float* w, int64_t lw, int64_t m, const float* x, int64_t D, int64_t j0, int64_t j1, float* out) {
  for (int64_t j = j0; j < j1; ++j) {
    float* o = out + j * D;
    int64_t d0 = 0;
    for (; d0 + kKeys <= D; d0 += kKeys) {
      KeyVec acc = loadVec(o + d0);
      for (int64_t r = 0; r < m; ++r) acc += w[r * lw + j] * loadVec(x + r * D + d0);
      storeVec(o + d0, acc);
    }
    for (int64_t r = 0; r < m; ++r)
      for (int64_t d = d0; d < D; ++d) o[d] += w[r * lw + j] * x[r * D + d];
  }
}

// The keys that queries [i0, i0 + m) see, [lo, hi), and lo rounded down to a key block.
struct KeySpan {
  int64_t lo, hi, block;
};
KeySpan keySpan(int64_t i0, int64_t m, int64_t window) {
  const int64_t lo = firstKey(i0, window);
  return {lo, i0 + m, lo / kKeys * kKeys};
}

template <typename T>
void attentionForwardF32(const AttentionArgs& a) {
  const int64_t rs = a.H * a.D, D = a.D, ld = paddedKeys(a.T);
  parallelFor(a.B * a.H, a.T * a.T * a.D, [&](int64_t bh) {
    const int64_t base = (bh / a.H) * a.T * rs + (bh % a.H) * D;
    HeadBuffers& w = headBuffers();
    copyHead(as<T>(a.k), base, rs, a.T, D, nullptr, &w.kt);
    copyHead(as<T>(a.v), base, rs, a.T, D, &w.vRows, nullptr);
    w.q.assign(size_t(kRows * D), 0.f);
    w.s.resize(size_t(kRows * ld));
    w.o.resize(size_t(kRows * D));
    float* lse = as<float>(a.lse) + bh * a.T;
    for (int64_t i0 = 0; i0 < a.T; i0 += kRows) {
      const int64_t m = std::min(kRows, a.T - i0);
      const KeySpan span = keySpan(i0, m, a.window);
      for (int64_t r = 0; r < m; ++r)
        for (int64_t d = 0; d < D; ++d) w.q[r * D + d] = float(Scalar<T>::load(as<T>(a.q), base + (i0 + r) * rs + d)) * float(a.scale);
      scoreBlock(w.q.data(), m, D, w.kt.data(), ld, span.block, span.hi, w.s.data(), ld);
      float sums[kRows];
      for (int64_t r = 0; r < m; ++r) {
        const int64_t i = i0 + r, jlo = firstKey(i, a.window);
        float* row = w.s.data() + r * ld;
        float mx = -INFINITY;
        for (int64_t j = jlo; j <= i; ++j) mx = row[j] > mx ? row[j] : mx;
        float sum = 0;
        for (int64_t j = span.lo; j < span.hi; ++j) {
          row[j] = j >= jlo && j <= i ? fastExp(row[j] - mx) : 0.f;
          sum += row[j];
        }
        sums[r] = sum;
        lse[i] = mx + std::log(sum);
      }
      std::fill(w.o.begin(), w.o.end(), 0.f);
      weightedRows(w.s.data(), ld, m, w.vRows.data(), D, span.lo, span.hi, w.o.data());
      for (int64_t r = 0; r < m; ++r)
        for (int64_t d = 0; d < D; ++d) Scalar<T>::store(as<T>(a.out), base + (i0 + r) * rs + d, w.o[r * D + d] / sums[r]);
    }
  });
}

template <typename T>
void attentionBackwardF32(const AttentionBackwardArgs& a) {
  const int64_t rs = a.H * a.D, D = a.D, ld = paddedKeys(a.T);
  const float scale = float(a.scale);
  parallelFor(a.B * a.H, a.T * a.T * a.D, [&](int64_t bh) {
    const int64_t base = (bh / a.H) * a.T * rs + (bh % a.H) * D;
    HeadBuffers& w = headBuffers();
    copyHead(as<T>(a.k), base, rs, a.T, D, &w.kRows, &w.kt);
    copyHead(as<T>(a.v), base, rs, a.T, D, nullptr, &w.vt);
    w.dk.assign(size_t(a.T * D), 0.f);
    w.dv.assign(size_t(a.T * D), 0.f);
    w.q.assign(size_t(2 * kRows * D), 0.f);  // scaled rows for the scores, then the rows as they are
    w.g.assign(size_t(kRows * D), 0.f);
    w.s.resize(size_t(kRows * ld));
    w.dp.resize(size_t(kRows * ld));
    w.dq.resize(size_t(kRows * D));
    float* qs = w.q.data();
    float* qr = w.q.data() + kRows * D;
    const float* lse = as<float>(a.lse) + bh * a.T;
    for (int64_t i0 = 0; i0 < a.T; i0 += kRows) {
      const int64_t m = std::min(kRows, a.T - i0);
      const KeySpan span = keySpan(i0, m, a.window);
      float di[kRows];
      for (int64_t r = 0; r < m; ++r) {
        const int64_t at = base + (i0 + r) * rs;
        di[r] = 0;
        for (int64_t d = 0; d < D; ++d) {
          qr[r * D + d] = float(Scalar<T>::load(as<T>(a.q), at + d));
          qs[r * D + d] = qr[r * D + d] * scale;  // the scores exactly as the forward pass made them
          w.g[r * D + d] = float(Scalar<T>::load(as<T>(a.dout), at + d));
          di[r] += w.g[r * D + d] * float(Scalar<T>::load(as<T>(a.out), at + d));
        }
      }
      scoreBlock(qs, m, D, w.kt.data(), ld, span.block, span.hi, w.s.data(), ld);
      scoreBlock(w.g.data(), m, D, w.vt.data(), ld, span.block, span.hi, w.dp.data(), ld);
      for (int64_t r = 0; r < m; ++r) {
        const int64_t i = i0 + r, jlo = firstKey(i, a.window);
        float *p = w.s.data() + r * ld, *ds = w.dp.data() + r * ld;
        for (int64_t j = span.lo; j < span.hi; ++j) {
          const bool seen = j >= jlo && j <= i;
          p[j] = seen ? fastExp(p[j] - lse[i]) : 0.f;
          ds[j] = seen ? p[j] * (ds[j] - di[r]) * scale : 0.f;
        }
      }
      std::fill(w.dq.begin(), w.dq.end(), 0.f);
      weightedRows(w.dp.data(), ld, m, w.kRows.data(), D, span.lo, span.hi, w.dq.data());
      accumulateRows(w.dp.data(), ld, m, qr, D, span.lo, span.hi, w.dk.data());
      accumulateRows(w.s.data(), ld, m, w.g.data(), D, span.lo, span.hi, w.dv.data());
      for (int64_t r = 0; r < m; ++r)
        for (int64_t d = 0; d < D; ++d) Scalar<T>::store(as<T>(a.dq), base + (i0 + r) * rs + d, w.dq[r * D + d]);
    }
    for (int64_t j = 0; j < a.T; ++j)
      for (int64_t d = 0; d < D; ++d) {
        Scalar<T>::store(as<T>(a.dk), base + j * rs + d, w.dk[j * D + d]);
        Scalar<T>::store(as<T>(a.dv), base + j * rs + d, w.dv[j * D + d]);
      }
  });
}
}  // namespace

void attentionForward(const AttentionArgs& a) {
  dispatchFloat(a.q.dtype, "attention", [&](auto tag) {
    using T = decltype(tag);
    using A = typename Scalar<T>::Acc;
    if constexpr (std::is_same_v<A, float>) return attentionForwardF32<T>(a);
    const T *q = as<T>(a.q), *k = as<T>(a.k), *v = as<T>(a.v);
    T* out = as<T>(a.out);
    A* lse = as<A>(a.lse);
    const int64_t rs = a.H * a.D;  // stride between time steps
    parallelFor(a.B * a.H, a.T * a.T * a.D, [&](int64_t bh) {
      const int64_t b = bh / a.H, h = bh % a.H;
      const int64_t base = b * a.T * rs + h * a.D;
      std::vector<A> s(a.T), acc(a.D);
      for (int64_t i = 0; i < a.T; ++i) {
        const int64_t j0 = firstKey(i, a.window);
        A m = -INFINITY;
        for (int64_t j = j0; j <= i; ++j) {
          A dot = 0;
          for (int64_t d = 0; d < a.D; ++d) dot += Scalar<T>::load(q, base + i * rs + d) * Scalar<T>::load(k, base + j * rs + d);
          s[j] = dot * A(a.scale);
          m = std::max(m, s[j]);
        }
        A sum = 0;
        std::fill(acc.begin(), acc.end(), A(0));
        for (int64_t j = j0; j <= i; ++j) {
          A p = expOf<A>(s[j] - m);
          sum += p;
          for (int64_t d = 0; d < a.D; ++d) acc[d] += p * Scalar<T>::load(v, base + j * rs + d);
        }
        for (int64_t d = 0; d < a.D; ++d) Scalar<T>::store(out, base + i * rs + d, acc[d] / sum);
        lse[bh * a.T + i] = m + std::log(sum);
      }
    });
  });
}

// With P = softmax(S), Di = sum_d dout_i out_i: dS = P (dout v^T - Di); dq = scale dS k; dk = scale dS^T q; dv = P^T dout.
void attentionBackward(const AttentionBackwardArgs& a) {
  dispatchFloat(a.q.dtype, "attention backward", [&](auto tag) {
    using T = decltype(tag);
    using A = typename Scalar<T>::Acc;
    if constexpr (std::is_same_v<A, float>) return attentionBackwardF32<T>(a);
    const T *q = as<T>(a.q), *k = as<T>(a.k), *v = as<T>(a.v), *o = as<T>(a.out), *dout = as<T>(a.dout);
    const A* lse = as<A>(a.lse);
    T *dq = as<T>(a.dq), *dk = as<T>(a.dk), *dv = as<T>(a.dv);
    const int64_t rs = a.H * a.D;
    parallelFor(a.B * a.H, a.T * a.T * a.D, [&](int64_t bh) {
      const int64_t b = bh / a.H, h = bh % a.H;
      const int64_t base = b * a.T * rs + h * a.D;
      std::vector<A> dkAcc(a.T * a.D, A(0)), dvAcc(a.T * a.D, A(0)), dqRow(a.D);
      for (int64_t i = 0; i < a.T; ++i) {
        const int64_t qi = base + i * rs;
        A Di = 0;
        for (int64_t d = 0; d < a.D; ++d) Di += Scalar<T>::load(dout, qi + d) * Scalar<T>::load(o, qi + d);
        std::fill(dqRow.begin(), dqRow.end(), A(0));
        for (int64_t j = firstKey(i, a.window); j <= i; ++j) {
          const int64_t kj = base + j * rs;
          A dot = 0, dp = 0;
          for (int64_t d = 0; d < a.D; ++d) {
            dot += Scalar<T>::load(q, qi + d) * Scalar<T>::load(k, kj + d);
            dp += Scalar<T>::load(dout, qi + d) * Scalar<T>::load(v, kj + d);
          }
          const A p = expOf<A>(dot * A(a.scale) - lse[bh * a.T + i]);
          const A ds = p * (dp - Di) * A(a.scale);
          for (int64_t d = 0; d < a.D; ++d) {
            dvAcc[j * a.D + d] += p * Scalar<T>::load(dout, qi + d);
            dkAcc[j * a.D + d] += ds * Scalar<T>::load(q, qi + d);
            dqRow[d] += ds * Scalar<T>::load(k, kj + d);
          }
        }
        for (int64_t d = 0; d < a.D; ++d) Scalar<T>::store(dq, qi + d, dqRow[d]);
      }
      for (int64_t j = 0; j < a.T; ++j)
        for (int64_t d = 0; d < a.D; ++d) {
          Scalar<T>::store(dk, base + j * rs + d, dkAcc[j * a.D + d]);
          Scalar<T>::store(dv, base + j * rs + d, dvAcc[j * a.D + d]);
        }
    });
  });
}

}  // namespace ar::cpu
