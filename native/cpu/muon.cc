// Muon's fused steps for a group of k matrices (rows, cols): Nesterov momentum, NorMuon's rescale
// and the cautious weight-decay update. Polar Express runs between them as GEMMs (optim/muon.ts).
#include <algorithm>
#include <cmath>
#include "../common/dispatch.h"
#include "kernels.h"
#include "parallel.h"

namespace ar::cpu {

void muonMomentum(const MuonMomentumArgs& a) {
  dispatchFloat(a.buf.dtype, "muon momentum", [&](auto tag) {
    using T = decltype(tag);
    using S = Scalar<T>;
    using A = typename S::Acc;
    const A mu = A(a.momentum);
    T *buf = as<T>(a.buf), *out = as<T>(a.out);
    // Chunks of one matrix are the unit of work, so a group of many small matrices still splits.
    constexpr int64_t kChunk = 4096;
    const int64_t chunks = (a.n + kChunk - 1) / kChunk;
    parallelFor(int64_t(a.grads.size()) * chunks, kChunk, [&](int64_t c) {
      const int64_t m = c / chunks, i0 = c % chunks * kChunk, i1 = std::min(a.n, i0 + kChunk);
      const T* g = as<T>(a.grads[m]);
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t e = m * a.n + i;
        const A gi = S::load(g, i);
        S::store(buf, e, S::load(buf, e) + (gi - S::load(buf, e)) * (A(1) - mu));
        S::store(out, e, gi + (S::load(buf, e) - gi) * mu);
      }
    });
  });
}

// x is in Polar Express's dtype (bf16 by default); the second moment, and the math, in the parameters'.
void norMuon(const NorMuonArgs& a) {
  dispatchFloatPair(a.x.dtype, a.secondMoment.dtype, "norMuon", [&](auto xTag, auto tag) {
    using X = decltype(xTag);
    using T = decltype(tag);
    using S = Scalar<T>;
    using A = typename S::Acc;
    const X* x = as<X>(a.x);
    T* sm = as<T>(a.secondMoment);
    A* scale = as<A>(a.scale);
    const bool rowWise = muonRowWise(a.rows, a.cols);
    const int64_t stats = muonStats(a.rows, a.cols), n = rowWise ? a.cols : a.rows;  // n: elements per statistic
    // scale first holds each row's (or column's) mean of squares; sums run in double like reduce().
    if (rowWise) {
      parallelFor(a.k * a.rows, a.cols, [&](int64_t r) {
        double acc = 0;
        for (int64_t j = 0; j < a.cols; ++j) {
          const double v = Scalar<X>::load(x, r * a.cols + j);
          acc += v * v;
        }
        scale[r] = A(acc / double(n));
      });
    } else {
      // Blocks of columns, walked row by row, so every read is contiguous.
      constexpr int64_t kBlock = 64;
      const int64_t blocks = (a.cols + kBlock - 1) / kBlock;
      parallelFor(a.k * blocks, a.rows * kBlock, [&](int64_t b) {
        const int64_t m = b / blocks, j0 = b % blocks * kBlock, j1 = std::min(a.cols, j0 + kBlock);
        double acc[kBlock] = {};
        for (int64_t r = 0; r < a.rows; ++r)
          for (int64_t j = j0; j < j1; ++j) {
            const double v = Scalar<X>::load(x, (m * a.rows + r) * a.cols + j);
            acc[j - j0] += v * v;
          }
        for (int64_t j = j0; j < j1; ++j) scale[m * stats + j] = A(acc[j - j0] / double(n));
      });
    }
    const A keep = A(1) - A(a.beta2);
    parallelFor(a.k, stats * 4, [&](int64_t m) {
      double total = 0, scaled = 0;
      for (int64_t s = m * stats; s < (m + 1) * stats; ++s) {
        const A v = scale[s];
        S::store(sm, s, S::load(sm, s) + (v - S::load(sm, s)) * keep);
        const A step = A(1) / std::sqrt(std::max(S::load(sm, s), A(1e-10)));
        total += v;
        scaled += double(v) * step * step;
        scale[s] = step;
      }
      const A ratio = A(std::sqrt(total * double(n)) / std::max(std::sqrt(scaled * double(n)), 1e-10));
      for (int64_t s = m * stats; s < (m + 1) * stats; ++s) scale[s] *= ratio;
    });
  });
}

void muonUpdate(const MuonUpdateArgs& a) {
  if (a.params.empty()) return;
  dispatchFloatPair(a.x.dtype, a.params[0].dtype, "muon update", [&](auto xTag, auto tag) {
    using X = decltype(xTag);
    using T = decltype(tag);
    using S = Scalar<T>;
    using A = typename S::Acc;
    const X* x = as<X>(a.x);
    const A* scale = as<A>(a.scale);
    const bool rowWise = muonRowWise(a.rows, a.cols);
    const int64_t stats = muonStats(a.rows, a.cols);
    const A lr = A(a.lr), decay = A(a.lr * a.weightDecay);
    parallelFor(int64_t(a.params.size()) * a.rows, a.cols, [&](int64_t mr) {
      const int64_t m = mr / a.rows, r = mr % a.rows;
      T* p = as<T>(a.params[m]) + r * a.cols;
      const X* xr = x + mr * a.cols;
      const A* sc = scale + m * stats;
      for (int64_t j = 0; j < a.cols; ++j) {
        const A u = A(Scalar<X>::load(xr, j)) * sc[rowWise ? r : j];
        const A pj = S::load(p, j);
        S::store(p, j, pj - lr * u - decay * pj * A(u * pj >= A(0)));
      }
    });
  });
}

}  // namespace ar::cpu
