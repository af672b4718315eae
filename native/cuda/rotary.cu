// Rotary embedding on (B, T, H, D) with halves x1 = x[:D/2], x2 = x[D/2:]; cos/sin: (T, D/2).
// sign = +1 is the forward rotation; sign = -1 rotates back, which is the backward pass.
#include "../common/dispatch.h"
#include "check.h"
#include "device.h"
#include "kernels.h"

namespace ar::cuda {

namespace {

// One thread per (row, j < D/2) pair; out may alias x since each pair is read before it is written.
template <typename T>
__global__ void rotaryKernel(const T* x, const T* cs, const T* sn, T* out, int64_t pairs, int64_t seqLen, int64_t H,
                             int64_t half, Acc<T> sign) {
  using A = Acc<T>;
  for (int64_t i = firstIndex(); i < pairs; i += indexStep()) {
    const int64_t row = i / half, j = i % half;
    const int64_t t = (row / H) % seqLen;
    const int64_t base = row * 2 * half;
    const A c = load(cs, t * half + j), s = sign * A(load(sn, t * half + j));
    const A x1 = load(x, base + j), x2 = load(x, base + half + j);
    store(out, base + j, x1 * c + x2 * s);
    store(out, base + half + j, -x1 * s + x2 * c);
  }
}

}  // namespace

void rotary(const RotaryArgs& a) {
  const int64_t half = a.D / 2, pairs = a.B * a.T * a.H * half;
  if (pairs == 0) return;
  dispatchFloat(a.x.dtype, "rotary", [&](auto tag) {
    using T = decltype(tag);
    rotaryKernel<T><<<gridFor(pairs), kThreads, 0, context().stream>>>(as<T>(a.x), as<T>(a.cos), as<T>(a.sin), as<T>(a.out),
                                                                        pairs, a.T, a.H, half, Acc<T>(a.sign));
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace ar::cuda
