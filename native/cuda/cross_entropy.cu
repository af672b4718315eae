// Cross-entropy with optional logit softcap, fused so normalised logits are never stored.
// logits: (rows, vocab); targets: (rows,) i32; loss, lse: (rows,) in Acc; count: (1,) in Acc.
#include "../common/dispatch.h"
#include "check.h"
#include "device.h"
#include "kernels.h"

namespace ar::cuda {

namespace {

template <typename A> __device__ __forceinline__ A capped(A z, A softcap) { return softcap > A(0) ? softcap * tanh(z / softcap) : z; }

// One block per row: one read of the row gives its (max, sum) online, so z is never stored.
template <typename T>
__global__ void crossEntropyForwardKernel(const T* x, const int32_t* t, Acc<T>* loss, Acc<T>* lse, Acc<T>* count, int64_t rows,
                                          int64_t vocab, int64_t ignore, Acc<T> softcap, IndexError* err) {
  using A = Acc<T>;
  A counted = 0;  // rows this block counted, added to count once at the end
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t base = r * vocab;
    MaxSum<A> st = emptyMaxSum<A>();
    for (int64_t j = threadIdx.x; j < vocab; j += blockDim.x) addTo(st, capped(A(load(x, base + j)), softcap));
    st = blockReduce(st, Merge());
    if (threadIdx.x == 0) {
      const A l = st.m + log(st.s);
      const int64_t target = t[r];
      A value = 0;
      if (target != ignore) {
        if (target < 0 || target >= vocab) {
          reportBadIndex(err, IndexCheck::CrossEntropy, target, r, vocab, ignore);
          value = A(NAN);
        } else {
          value = l - capped(A(load(x, base + target)), softcap);
          counted += A(1);
        }
      }
      lse[r] = l;
      loss[r] = value;
    }
  }
  if (threadIdx.x == 0 && counted > A(0)) atomicAdd(count, counted);
}

// dlogits = gloss[r] * (softmax(z) - onehot(t)) * dz/dlogits; targets are only compared, never dereferenced.
template <typename T>
__global__ void crossEntropyBackwardKernel(const T* x, const int32_t* t, const Acc<T>* lse, const Acc<T>* gloss, T* dx, int64_t rows,
                                           int64_t vocab, int64_t ignore, Acc<T> softcap) {
  using A = Acc<T>;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t base = r * vocab, target = t[r];
    const A g = target == ignore ? A(0) : gloss[r], l = lse[r];
    for (int64_t j = threadIdx.x; j < vocab; j += blockDim.x) {
      const A z = capped(A(load(x, base + j)), softcap);
      A d = exp(z - l) - (j == target ? A(1) : A(0));
      if (softcap > A(0)) {
        const A th = z / softcap;
        d *= A(1) - th * th;
      }
      store(dx, base + j, g * d);
    }
  }
}

unsigned rowBlocks(int64_t rows) { return unsigned(std::min<int64_t>(rows, int64_t(context().smCount) * 8)); }

}  // namespace

void crossEntropyForward(const CrossEntropyArgs& a) {
  dispatchFloat(a.logits.dtype, "cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    using A = Acc<T>;
    CUDA_CHECK(cudaMemsetAsync(a.count.ptr, 0, sizeof(A), context().stream));
    if (a.rows == 0) return;
    crossEntropyForwardKernel<T><<<rowBlocks(a.rows), kThreads, 0, context().stream>>>(
        as<T>(a.logits), as<int32_t>(a.targets), as<A>(a.loss), as<A>(a.lse), as<A>(a.count), a.rows, a.vocab, a.ignoreIndex,
        A(a.softcap), context().indexError);
    CUDA_CHECK_LAUNCH();
  });
}

void crossEntropyBackward(const CrossEntropyBackwardArgs& a) {
  if (a.rows == 0) return;
  dispatchFloat(a.logits.dtype, "cross_entropy backward", [&](auto tag) {
    using T = decltype(tag);
    using A = Acc<T>;
    crossEntropyBackwardKernel<T><<<rowBlocks(a.rows), kThreads, 0, context().stream>>>(
        as<T>(a.logits), as<int32_t>(a.targets), as<A>(a.lse), as<A>(a.gloss), as<T>(a.dlogits), a.rows, a.vocab, a.ignoreIndex,
        A(a.softcap));
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace ar::cuda
