// Muon's fused steps for a group of k matrices (rows, cols): Nesterov momentum, NorMuon's rescale
// and the cautious weight-decay update. Polar Express runs between them as GEMMs (optim/muon.ts).
#include <algorithm>
#include "../common/dispatch.h"
#include "check.h"
#include "device.h"
#include "kernels.h"

namespace ar::cuda {

namespace {

// A group's tensors travel as a kernel argument, kBatch pointers per launch.
constexpr int kBatch = 32;
template <typename T> struct Pointers {
  T* p[kBatch];
};

// Calls launch(pointers, first, count) for each batch of the group's tensors.
template <typename T, typename F> void forBatches(const std::vector<Buf>& bufs, F launch) {
  for (size_t first = 0; first < bufs.size(); first += kBatch) {
    const int count = int(std::min(bufs.size() - first, size_t(kBatch)));
    Pointers<T> ptrs{};
    for (int i = 0; i < count; ++i) ptrs.p[i] = as<T>(bufs[first + i]);
    launch(ptrs, int64_t(first), count);
  }
}

// Matrix first + blockIdx.y: buf = lerp(buf, g, 1 - mu); out = lerp(g, buf, mu). buf, out: (k, n).
template <typename T>
__global__ void momentumKernel(Pointers<const T> grads, T* buf, T* out, int64_t first, int64_t n, Acc<T> mu) {
  using A = Acc<T>;
  const T* g = grads.p[blockIdx.y];
  const int64_t base = (first + blockIdx.y) * n;
  for (int64_t i = firstIndex(); i < n; i += indexStep()) {
    const A gi = load(g, i);
    const A bi = load(buf, base + i) + (gi - load(buf, base + i)) * (A(1) - mu);
    store(buf, base + i, bi);
    store(out, base + i, gi + (A(load(buf, base + i)) - gi) * mu);
  }
}

// scale[r] = mean of x[r, :]^2, one warp per row of the (k * rows, cols) stack. x is in Polar
// Express's dtype, A the parameters' Acc.
template <typename X, typename A> __global__ void rowMeanSquareKernel(const X* x, A* scale, int64_t rows, int64_t cols) {
  for (int64_t r = firstWarp(); r < rows; r += warpStep()) {
    A acc = 0;
    for (int64_t j = laneId(); j < cols; j += 32) {
      const A v = load(x, r * cols + j);
      acc += v * v;
    }
    acc = warpReduce(acc, Add());
    if (laneId() == 0) scale[r] = acc / A(cols);
  }
}

// scale[m, j] = mean of x[m, :, j]^2. A (32, 8) block takes 32 columns of one matrix: each of the
// 8 warps sums every 8th row with coalesced reads, then warp 0 adds the 8 partials in order.
constexpr int kColumnWarps = 8;
template <typename X, typename A>
__global__ void columnMeanSquareKernel(const X* x, A* scale, int64_t k, int64_t rows, int64_t cols) {
  __shared__ A partial[kColumnWarps][32];
  const int64_t tiles = (cols + 31) / 32;
  for (int64_t t = blockIdx.x; t < k * tiles; t += gridDim.x) {
    const int64_t m = t / tiles, j = t % tiles * 32 + threadIdx.x;
    A acc = 0;
    if (j < cols)
      for (int64_t r = threadIdx.y; r < rows; r += kColumnWarps) {
        const A v = load(x, (m * rows + r) * cols + j);
        acc += v * v;
      }
    partial[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && j < cols) {
      A sum = 0;
      for (int w = 0; w < kColumnWarps; ++w) sum += partial[w][threadIdx.x];
      scale[m * cols + j] = sum / A(rows);
    }
    __syncthreads();  // partial is free for the next tile
  }
}

// One block per matrix: the second-moment EMA, then scale = step * ||x|| / ||x * step||, where
// scale arrives holding the means of squares v and n is the count each mean was taken over.
template <typename T> __global__ void norMuonScaleKernel(T* sm, Acc<T>* scale, int64_t k, int64_t stats, int64_t n, Acc<T> keep) {
  using A = Acc<T>;
  for (int64_t m = blockIdx.x; m < k; m += gridDim.x) {
    A total = 0, scaled = 0;
    for (int64_t s = m * stats + threadIdx.x; s < (m + 1) * stats; s += blockDim.x) {
      const A v = scale[s];
      store(sm, s, load(sm, s) + (v - load(sm, s)) * keep);
      const A step = rsqrt(max(A(load(sm, s)), A(1e-10)));
      total += v;
      scaled += v * step * step;
      scale[s] = step;
    }
    total = blockReduce(total, Add());
    scaled = blockReduce(scaled, Add());
    const A ratio = sqrt(total * A(n)) / max(sqrt(scaled * A(n)), A(1e-10));
    // Each thread rescales only the entries it wrote above.
    for (int64_t s = m * stats + threadIdx.x; s < (m + 1) * stats; s += blockDim.x) scale[s] *= ratio;
  }
}

// Matrix first + blockIdx.y, rows strided over blockIdx.x: p -= lr u + decay p [u p >= 0], u = x * scale.
template <typename X, typename T>
__global__ void updateKernel(Pointers<T> params, const X* x, const Acc<T>* scale, int64_t first, int64_t rows, int64_t cols,
                             bool rowWise, Acc<T> lr, Acc<T> decay) {
  using A = Acc<T>;
  T* p = params.p[blockIdx.y];
  const int64_t m = first + blockIdx.y;
  const A* sc = scale + m * (rowWise ? rows : cols);
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t xr = (m * rows + r) * cols;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
      const A u = A(load(x, xr + j)) * sc[rowWise ? r : j];
      const A pj = load(p, r * cols + j);
      store(p, r * cols + j, pj - lr * u - decay * pj * A(u * pj >= A(0)));
    }
  }
}

}  // namespace

void muonMomentum(const MuonMomentumArgs& a) {
  if (a.n == 0) return;
  dispatchFloat(a.buf.dtype, "muon momentum", [&](auto tag) {
    using T = decltype(tag);
    forBatches<const T>(a.grads, [&](Pointers<const T> grads, int64_t first, int count) {
      const dim3 grid(gridFor(a.n), unsigned(count));
      momentumKernel<T><<<grid, kThreads, 0, context().stream>>>(grads, as<T>(a.buf), as<T>(a.out), first, a.n, Acc<T>(a.momentum));
      CUDA_CHECK_LAUNCH();
    });
  });
}

void norMuon(const NorMuonArgs& a) {
  if (a.k * a.rows * a.cols == 0) return;
  dispatchFloatPair(a.x.dtype, a.secondMoment.dtype, "norMuon", [&](auto xTag, auto tag) {
    using X = decltype(xTag);
    using T = decltype(tag);
    using A = Acc<T>;
    cudaStream_t stream = context().stream;
    const bool rowWise = muonRowWise(a.rows, a.cols);
    if (rowWise) {
      rowMeanSquareKernel<X, A><<<gridFor(a.k * a.rows * 32), kThreads, 0, stream>>>(as<X>(a.x), as<A>(a.scale), a.k * a.rows, a.cols);
    } else {
      const int64_t tiles = a.k * ((a.cols + 31) / 32);
      columnMeanSquareKernel<X, A><<<gridFor(tiles, 1), dim3(32, kColumnWarps), 0, stream>>>(as<X>(a.x), as<A>(a.scale), a.k, a.rows, a.cols);
    }
    CUDA_CHECK_LAUNCH();
    norMuonScaleKernel<T><<<unsigned(std::min<int64_t>(a.k, 65535)), kThreads, 0, stream>>>(
        as<T>(a.secondMoment), as<A>(a.scale), a.k, muonStats(a.rows, a.cols), rowWise ? a.cols : a.rows, A(1) - A(a.beta2));
    CUDA_CHECK_LAUNCH();
  });
}

void muonUpdate(const MuonUpdateArgs& a) {
  if (a.rows * a.cols == 0 || a.params.empty()) return;
  dispatchFloatPair(a.x.dtype, a.params[0].dtype, "muon update", [&](auto xTag, auto tag) {
    using X = decltype(xTag);
    using T = decltype(tag);
    using A = Acc<T>;
    forBatches<T>(a.params, [&](Pointers<T> params, int64_t first, int count) {
      const dim3 grid(unsigned(std::min<int64_t>(a.rows, 65535)), unsigned(count));
      updateKernel<X, T><<<grid, kThreads, 0, context().stream>>>(params, as<X>(a.x), as<A>(a.scale), first, a.rows, a.cols,
                                                                  muonRowWise(a.rows, a.cols), A(a.lr), A(a.lr * a.weightDecay));
      CUDA_CHECK_LAUNCH();
    });
  });
}

}  // namespace ar::cuda
