// The CPU backend: host memory and the reference kernels of cpu/*.cc.
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include "../common/backend.h"
#include "../common/error.h"
#include "kernels.h"
#include "parallel.h"

namespace ar {

namespace {

std::string cpuModelName() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  return "CPU";
}

class CpuBackend final : public Backend {
 public:
  const char* name() const override { return "cpu"; }
  std::string deviceName() const override { return cpuModelName(); }
  int threads() const override { return cpu::maxThreads(); }

  void* alloc(size_t bytes) override {
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) fail("out of host memory: could not allocate ", bytes, " bytes");
    return p;
  }
  void release(void* p) override { std::free(p); }
  void upload(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  void download(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  void synchronize() override {}

#define AR_FORWARD_KERNEL(name, Args) void name(const Args& a) override { cpu::name(a); }
  AR_KERNELS(AR_FORWARD_KERNEL)
#undef AR_FORWARD_KERNEL
};

}  // namespace

Backend& cpuBackend() {
  static CpuBackend b;
  return b;
}

}  // namespace ar
