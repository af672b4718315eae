// Causal attention with a sliding window: query i attends keys j with i - window <= j <= i.
// q, k, v, out: (B, T, H, D); lse: (B, H, T). Simple and exact: the reference for the GPU kernels.
#include <algorithm>
#include <cmath>
#include <vector>
#include "../common/dispatch.h"
#include "fast-math.h"
#include "kernels.h"
#include "parallel.h"

namespace ar::cpu {

namespace {
inline int64_t firstKey(int64_t i, int64_t window) { return std::max<int64_t>(0, i - window); }
}  // namespace

void attentionForward(const AttentionArgs& a) {
  dispatchFloat(a.q.dtype, "attention", [&](auto tag) {
    using T = decltype(tag);
    using A = typename Scalar<T>::Acc;
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
