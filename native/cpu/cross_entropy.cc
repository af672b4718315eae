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
template <typename A>
inline A capped(A z, double softcap) { return softcap > 0 ? A(softcap) * tanhOf<A>(z / A(softcap)) : z; }

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
      thread_local std::vector<A> z;
      z.resize(size_t(a.vocab));
      const int64_t base = r * a.vocab;
      A m = -INFINITY;
      for (int64_t j = 0; j < a.vocab; ++j) {
        z[j] = capped(A(Scalar<T>::load(x, base + j)), a.softcap);
        m = std::max(m, z[j]);
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

// dlogits = gloss[r] * (softmax(z) - onehot(t)) * dz/dlogits.
void crossEntropyBackward(const CrossEntropyBackwardArgs& a) {
  const int32_t* t = as<int32_t>(a.targets);
  dispatchFloat(a.logits.dtype, "cross_entropy backward", [&](auto tag) {
    using T = decltype(tag);
    using A = typename Scalar<T>::Acc;
    const T* x = as<T>(a.logits);
    const A *lse = as<A>(a.lse), *gl = as<A>(a.gloss);
    T* dx = as<T>(a.dlogits);
    parallelFor(a.rows, a.vocab, [&](int64_t r) {
      const int64_t base = r * a.vocab;
      const bool ignored = t[r] == a.ignoreIndex;
      const A g = ignored ? A(0) : gl[r];
      for (int64_t j = 0; j < a.vocab; ++j) {
        A raw = Scalar<T>::load(x, base + j);
        A z = capped(raw, a.softcap);
        A d = expOf<A>(z - lse[r]) - (j == t[r] ? A(1) : A(0));
        if (a.softcap > 0) { A th = z / A(a.softcap); d *= A(1) - th * th; }
        Scalar<T>::store(dx, base + j, g * d);
      }
    });
  });
}

}  // namespace ar::cpu
