// Element types shared by the JS engine and every backend; ids match src/engine/dtype.ts.
#pragma once
#include <cstdint>
#include <cstring>

namespace ar {

enum class DType : int32_t { F32 = 0, BF16 = 1, I32 = 2, F64 = 3 };

inline int64_t dtypeSize(DType d) {
  switch (d) {
    case DType::F32: return 4;
    case DType::BF16: return 2;
    case DType::I32: return 4;
    case DType::F64: return 8;
  }
  return 0;
}

inline const char* dtypeName(DType d) {
  switch (d) {
    case DType::F32: return "f32";
    case DType::BF16: return "bf16";
    case DType::I32: return "i32";
    case DType::F64: return "f64";
  }
  return "?";
}

// The wider of two floating-point dtypes (PyTorch's promotion for mixed float inputs).
inline DType widerFloat(DType a, DType b) {
  auto rank = [](DType d) { return d == DType::F64 ? 2 : d == DType::F32 ? 1 : 0; };
  return rank(a) >= rank(b) ? a : b;
}

// Statistics (rstd, lse, losses) are f64 for f64 inputs and f32 otherwise.
inline DType statDtype(DType d) { return d == DType::F64 ? DType::F64 : DType::F32; }

// bf16 is stored as the high half of an IEEE float; conversion rounds to nearest even.
struct bf16 {
  uint16_t bits;
};

inline float bf16ToFloat(bf16 v) {
  uint32_t u = uint32_t(v.bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline bf16 floatToBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return bf16{uint16_t((u >> 16) | 0x40)};  // keep NaN a NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return bf16{uint16_t(u >> 16)};
}

// Load/store with conversion: kernels compute in Acc (float for f32/bf16, double for f64).
template <typename T> struct Scalar;
template <> struct Scalar<float> {
  using Acc = float;
  static float load(const float* p, int64_t i) { return p[i]; }
  static void store(float* p, int64_t i, float v) { p[i] = v; }
};
template <> struct Scalar<double> {
  using Acc = double;
  static double load(const double* p, int64_t i) { return p[i]; }
  static void store(double* p, int64_t i, double v) { p[i] = v; }
};
template <> struct Scalar<bf16> {
  using Acc = float;
  static float load(const bf16* p, int64_t i) { return bf16ToFloat(p[i]); }
  static void store(bf16* p, int64_t i, float v) { p[i] = floatToBf16(v); }
};
template <> struct Scalar<int32_t> {
  using Acc = double;
  static double load(const int32_t* p, int64_t i) { return p[i]; }
  static void store(int32_t* p, int64_t i, double v) { p[i] = int32_t(v); }
};

}  // namespace ar
