// CUDA kernel launchers, one family per file; the names mirror cpu/kernels.h. All launch on context().stream.
#pragma once
#include "../common/kernels.h"

namespace ar::cuda {

AR_KERNELS(AR_DECLARE_KERNEL)

}  // namespace ar::cuda
