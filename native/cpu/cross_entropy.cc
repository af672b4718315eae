// Cross-entropy with optional logit softcap, fused so normalised logits are never stored.
// logits: (rows, vocab); targets: (rows,) i32; loss, lse: (rows,); count: (1,).
#include <algorithm>
#include <cmath>
#include <vector>
#include "../common/dispatch.h"
#include "fast-math.h"
#include "kernels.h"
#include "parallel.h"

namespace ar::cpu {

namespace {
// z = softcap * tanh(x / softcap) (or x) for one row, in the accumulation type. Separate loops
// per case keep each one free of branches, so they vectorize.
template <typename T, typename A>
void cappedRow(const T* x, int64_t n, double softcap, A* z) {
  if (softcap > 0) {
    const A cap = A(softcap), inv = A(1) / cap;
    for (int64_t j = 0; j < n; ++j) z[j] = cap * tanhOf<A>(A(Scalar<T>::load(x, j)) * inv);
  } else {
    for (int64_t j = 0; j < n; ++j) z[j] = A(Scalar<T>::load(x, j));
  }
}

template <typename A>
A* rowBuffer(int64_t n) {
  thread_local std::vector<A> z;
  z.resize(size_t(n));
  return z.data();
}

void checkTargets(const int32_t* t, int64_t rows, int64_t vocab, int64_t ignore) {
  for (int64_t r = 0; r < rows; ++r)
    if (t[r] != ignore && (t[r] < 0 || t[r] >= vocab))
      fail("cross_entropy: target ", t[r], " at row ", r, " is out of range [0, ", vocab, ") and is not ignore_index ", ignore);
}
}  // namespace

void crossEntropyForward(const CrossEntropyArgs& a) {
  const int32_t* t = as<int32_t>(a.targets);
  checkTargets(t, a.rows, a.vocab, a.ignoreIndex);
  dispatchFloat(a.logits.dtype, "cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    using A = typename Scalar<T>::Acc;
    const T* x = as<T>(a.logits);
    A *loss = as<A>(a.loss), *lse = as<A>(a.lse), *count = as<A>(a.count);
    parallelFor(a.rows, a.vocab * 8, [&](int64_t r) {
      // The capped row is computed once into a buffer so tanh runs once per logit.
      A* z = rowBuffer<A>(a.vocab);
      cappedRow(x + r * a.vocab, a.vocab, a.softcap, z);
      // Capped logits never exceed the cap, which then serves as the shift; only plain logits need
      // their maximum (a reduction that does not vectorize).
      A m = A(a.softcap);
      if (a.softcap <= 0) {
        m = -INFINITY;
        for (int64_t j = 0; j < a.vocab; ++j) m = z[j] > m ? z[j] : m;
      }
      A sum = 0;
      for (int64_t j = 0; j < a.vocab; ++j) sum += expOf<A>(z[j] - m);
      lse[r] = m + std::log(sum);
      loss[r] = t[r] == a.ignoreIndex ? A(0) : lse[r] - z[t[r]];
    });
    int64_t n = 0;
    for (int64_t r = 0; r < a.rows; ++r) n += t[r] != a.ignoreIndex;
    count[0] = A(n);
  });
}

// dlogits = gloss[r] * (softmax(z) - onehot(t)) * dz/dlogits. The row is read into a buffer
// first, so dlogits may be the logits themselves.
void crossEntropyBackward(const CrossEntropyBackwardArgs& a) {
  const int32_t* t = as<int32_t>(a.targets);
  dispatchFloat(a.logits.dtype, "cross_entropy backward", [&](auto tag) {
    using T = decltype(tag);
    using A = typename Scalar<T>::Acc;
    const T* x = as<T>(a.logits);
    const A *lse = as<A>(a.lse), *gl = as<A>(a.gloss);
    T* dx = as<T>(a.dlogits);
    parallelFor(a.rows, a.vocab * 8, [&](int64_t r) {
      const int64_t base = r * a.vocab;
      const bool ignored = t[r] == a.ignoreIndex;
      const A g = ignored ? A(0) : gl[r], l = lse[r];
      A* z = rowBuffer<A>(a.vocab);
      cappedRow(x + base, a.vocab, a.softcap, z);
      // d softcap(x)/dx = 1 - (z / softcap)^2.
      const A inv = a.softcap > 0 ? A(1) / A(a.softcap) : A(0);
      auto slope = [&](A zj) { return A(1) - zj * inv * zj * inv; };
      for (int64_t j = 0; j < a.vocab; ++j) Scalar<T>::store(dx, base + j, g * expOf<A>(z[j] - l) * slope(z[j]));
      if (!ignored) Scalar<T>::store(dx, base + t[r], g * (expOf<A>(z[t[r]] - l) - A(1)) * slope(z[t[r]]));
    });
  });
}

}  // namespace ar::cpu
