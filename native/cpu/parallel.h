// Thread parallelism for the CPU backend (OpenMP when available, serial otherwise).
#pragma once
#include <algorithm>
#include <cstdint>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace ar::cpu {

inline int maxThreads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// Runs f(i) for i in [0, n), split across threads when the work is worth it.
template <typename F>
void parallelFor(int64_t n, int64_t workPerItem, F&& f) {
#ifdef _OPENMP
  if (n > 1 && n * workPerItem >= 32768) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) f(i);
    return;
  }
#endif
  for (int64_t i = 0; i < n; ++i) f(i);
  (void)workPerItem;
}

// Runs f(begin, end) over [0, n) in chunks of `chunk` elements split across threads, so each
// thread runs loops long enough to vectorize.
template <typename F>
void parallelChunks(int64_t n, int64_t chunk, F&& f) {
  parallelFor((n + chunk - 1) / chunk, chunk, [&](int64_t c) { f(c * chunk, std::min(n, (c + 1) * chunk)); });
}

}  // namespace ar::cpu
