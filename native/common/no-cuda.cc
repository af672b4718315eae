// Linked when the addon is built without the CUDA toolkit: there is no GPU backend.
#include "backend.h"

namespace ar {
Backend* cudaBackend() { return nullptr; }
}  // namespace ar
