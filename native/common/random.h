// Counter-based RNG shared by the CPU and CUDA backends (splitmix64 finaliser + Box-Muller).
#pragma once
#include <cmath>
#include <cstdint>

#ifdef __CUDACC__
#define AR_HD __host__ __device__
#else
#define AR_HD
#endif

namespace ar {

AR_HD inline uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Uniform in (0, 1), never exactly 0, from 53 random bits.
AR_HD inline double uniformAt(uint64_t seed, uint64_t i) {
  uint64_t bits = mix64(mix64(seed) ^ (i * 0xd1b54a32d192ed03ull));
  return (double(bits >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

AR_HD inline double normalAt(uint64_t seed, uint64_t i) {
  double u1 = uniformAt(seed, 2 * i), u2 = uniformAt(seed, 2 * i + 1);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

}  // namespace ar
