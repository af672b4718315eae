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

  void fill(const FillArgs& a) override { cpu::fill(a); }
  void copy(const CopyArgs& a) override { cpu::copy(a); }
  void random(const RandomArgs& a) override { cpu::random(a); }
  void binary(const BinaryArgs& a) override { cpu::binary(a); }
  void unary(const UnaryArgs& a) override { cpu::unary(a); }
  void unaryBackward(const UnaryBackwardArgs& a) override { cpu::unaryBackward(a); }
  void reduce(const ReduceArgs& a) override { cpu::reduce(a); }
  void matmul(const MatmulArgs& a) override { cpu::matmul(a); }
  void embeddingForward(const EmbeddingArgs& a) override { cpu::embeddingForward(a); }
  void embeddingBackward(const EmbeddingArgs& a) override { cpu::embeddingBackward(a); }
  void rmsNormForward(const RmsNormArgs& a) override { cpu::rmsNormForward(a); }
  void rmsNormBackward(const RmsNormBackwardArgs& a) override { cpu::rmsNormBackward(a); }
  void rotary(const RotaryArgs& a) override { cpu::rotary(a); }
  void attentionForward(const AttentionArgs& a) override { cpu::attentionForward(a); }
  void attentionBackward(const AttentionBackwardArgs& a) override { cpu::attentionBackward(a); }
  void softmaxForward(const SoftmaxArgs& a) override { cpu::softmaxForward(a); }
  void softmaxBackward(const SoftmaxBackwardArgs& a) override { cpu::softmaxBackward(a); }
  void crossEntropyForward(const CrossEntropyArgs& a) override { cpu::crossEntropyForward(a); }
  void crossEntropyBackward(const CrossEntropyBackwardArgs& a) override { cpu::crossEntropyBackward(a); }
  void adamw(const AdamwArgs& a) override { cpu::adamw(a); }
};

}  // namespace

Backend& cpuBackend() {
  static CpuBackend b;
  return b;
}

}  // namespace ar
