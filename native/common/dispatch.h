// Calls f(T{}) with the storage type of a floating-point dtype; other dtypes are an error.
#pragma once
#include "dtype.h"
#include "error.h"
#include "kernels.h"

namespace ar {

template <typename F>
void dispatchFloat(DType d, const char* op, F&& f) {
  switch (d) {
    case DType::F32: f(float{}); return;
    case DType::BF16: f(bf16{}); return;
    case DType::F64: f(double{}); return;
    default: fail(op, ": expected a floating-point dtype (f32, bf16, f64), got ", dtypeName(d));
  }
}

// Calls f(X{}, T{}) for two floating-point dtypes (e.g. Muon's update in bf16, its parameters in f32).
template <typename F>
void dispatchFloatPair(DType x, DType t, const char* op, F&& f) {
  dispatchFloat(x, op, [&](auto xTag) { dispatchFloat(t, op, [&](auto tTag) { f(xTag, tTag); }); });
}

template <typename F>
void dispatchAny(DType d, const char* op, F&& f) {
  if (d == DType::I32) return f(int32_t{});
  dispatchFloat(d, op, f);
}

template <typename T> T* as(const Buf& b) { return static_cast<T*>(b.ptr); }

}  // namespace ar
