// Branch-free float exp and tanh that vectorize (libm's scalar calls do not); within a few ulp.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace ar::cpu {

// exp(x) = 2^n * exp(r), r = x - n ln2 in [-ln2/2, ln2/2], exp(r) by a degree-6 polynomial.
inline float fastExp(float x) {
  // Keeps 2^n a normal float. Comparisons, not fmin/fmax, whose NaN rule stops vectorization
  // (a NaN passes through either way).
  x = x < -87.3f ? -87.3f : x;
  x = x > 88.3f ? 88.3f : x;
  const float n = std::nearbyint(x * 1.44269504088896341f);
  const float r = std::fma(n, -1.428606765330187e-06f, std::fma(n, -0.693145751953125f, x));
  float p = 1.3888889e-3f;
  p = std::fma(p, r, 8.3333333e-3f);
  p = std::fma(p, r, 4.1666667e-2f);
  p = std::fma(p, r, 1.6666667e-1f);
  p = std::fma(p, r, 0.5f);
  p = std::fma(p, r, 1.0f);
  p = std::fma(p, r, 1.0f);
  const int32_t bits = (int32_t(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  return p * scale;
}

// tanh(x) = 1 - 2 / (exp(2x) + 1) on |x|; its Taylor series near 0, where that form cancels.
inline float fastTanh(float x) {
  const float ax = std::fabs(x), a2 = ax * ax;
  const float small = ax * (1.0f - a2 * (1.0f / 3.0f - a2 * (2.0f / 15.0f)));
  const float t = ax < 0.0625f ? small : 1.0f - 2.0f / (fastExp(2.0f * ax) + 1.0f);
  return std::copysign(t, x);
}

template <typename A> inline A expOf(A x) { return std::exp(x); }
template <> inline float expOf<float>(float x) { return fastExp(x); }
template <typename A> inline A tanhOf(A x) { return std::tanh(x); }
template <> inline float tanhOf<float>(float x) { return fastTanh(x); }

}  // namespace ar::cpu
