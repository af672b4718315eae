// CPU reference kernels, one family per file; the CUDA backend mirrors these names in cuda/.
#pragma once
#include "../common/kernels.h"

namespace ar::cpu {

AR_KERNELS(AR_DECLARE_KERNEL)

}  // namespace ar::cpu
