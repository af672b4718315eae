// Argument checking for the Node-API bindings: ids, ranges, dtypes and shapes, each error naming the op.
#pragma once
#include <napi.h>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>
#include "common/backend.h"
#include "common/dispatch.h"
#include "common/error.h"
#include "common/storage.h"

namespace ar::bind {

inline Backend& backendFor(const std::string& device) {
  if (device == "cpu") return cpuBackend();
  if (device == "cuda") {
    if (Backend* b = cudaBackend()) return *b;
    fail("device `cuda` is not available: ", "the addon was built without CUDA or no GPU was found");
  }
  fail("Expected device to be `cpu` or `cuda`, got `", device, "`");
}

// Reads positional arguments in order, checking each one.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* op) : info_(info), op_(op) {}

  void skip() { ++i_; }
  double num() {
    if (i_ >= info_.Length() || !info_[i_].IsNumber()) fail(op_, ": argument ", i_, " must be a number");
    double v = info_[i_++].As<Napi::Number>().DoubleValue();
    return v;
  }
  int64_t i64() {
    double v = num();
    if (!std::isfinite(v) || v != std::floor(v)) fail(op_, ": argument ", i_ - 1, " must be an integer, got ", v);
    return int64_t(v);
  }
  int64_t size() {
    int64_t v = i64();
    if (v < 0) fail(op_, ": argument ", i_ - 1, " must be >= 0, got ", v);
    return v;
  }
  bool flag() {
    if (i_ >= info_.Length() || !info_[i_].IsBoolean()) fail(op_, ": argument ", i_, " must be a boolean");
    return info_[i_++].As<Napi::Boolean>().Value();
  }
  // An array of at most `most` integers (dims, strides, or the ids of a group's tensors).
  std::vector<int64_t> ints(size_t most = kMaxDims, const char* what = "dims") {
    if (i_ >= info_.Length() || !info_[i_].IsArray()) fail(op_, ": argument ", i_, " must be an array of integers");
    Napi::Array arr = info_[i_++].As<Napi::Array>();
    if (arr.Length() > most) fail(op_, ": at most ", most, " ", what, " are supported, got ", arr.Length());
    std::vector<int64_t> out(arr.Length());
    for (uint32_t k = 0; k < arr.Length(); ++k) {
      Napi::Value v = arr.Get(k);
      const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
      if (!std::isfinite(d) || d != std::floor(d)) fail(op_, ": argument ", i_ - 1, " must be an array of integers; entry ", k, " is not");
      out[k] = int64_t(d);
    }
    return out;
  }
  // A strided view: checks the lowest and highest reachable element.
  Buf strided(const std::vector<int64_t>& shape, const std::vector<int64_t>& strides, int64_t off, const Storage& s, const char* name) {
    int64_t lo = off, hi = off;
    bool empty = false;
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] == 0) empty = true;
      if (shape[d] < 0) fail(op_, ": ", name, " has a negative dim ", shape[d]);
      int64_t span = (shape[d] - 1) * strides[d];
      (span < 0 ? lo : hi) += span;
    }
    if (!empty) registry().checkRange(s, lo, hi - lo + 1, label(name).c_str());
    return at(s, off);
  }
  const Storage& storage(const char* name) { return storage(i64(), name); }
  const Storage& storage(int64_t id, const char* name) {
    const Storage& s = registry().get(id, label(name).c_str());
    if (backend_ && backend_ != s.backend) fail(op_, ": ", name, " is on ", s.backend->name(), " but other inputs are on ", backend_->name());
    backend_ = s.backend;
    return s;
  }
  Backend& backend() { return *backend_; }
  const char* op() const { return op_; }

 private:
  std::string label(const char* name) const { return std::string(op_) + " (" + name + ")"; }
  static Buf at(const Storage& s, int64_t off) {
    return Buf{static_cast<char*>(s.ptr) + off * dtypeSize(s.dtype), s.dtype};
  }
  const Napi::CallbackInfo& info_;
  const char* op_;
  size_t i_ = 0;
  Backend* backend_ = nullptr;
};

inline void expectDtype(const char* op, const char* name, const Buf& b, DType want) {
  if (b.dtype != want) fail(op, ": expected ", name, " to be ", dtypeName(want), ", got ", dtypeName(b.dtype));
}
inline void expectSame(const char* op, const Buf& a, const Buf& b, const char* name) {
  if (a.dtype != b.dtype) fail(op, ": ", name, " is ", dtypeName(b.dtype), " but the first input is ", dtypeName(a.dtype));
}
inline void expectFloat(const char* op, const Buf& a) {
  if (a.dtype == DType::I32) fail(op, ": expected a floating-point dtype (f32, bf16, f64), got i32");
}

template <typename F>
Napi::Function wrap(Napi::Env env, F f) {
  return Napi::Function::New(env, [f](const Napi::CallbackInfo& info) -> Napi::Value {
    try {
      return f(info);
    } catch (const ar::Error& e) {
      throw Napi::Error::New(info.Env(), e.what());
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), std::string("native error: ") + e.what());
    }
  });
}

// Reads (id, offset) pairs first, then sizes, for kernels whose extents depend on later arguments.
struct Pending {
  const Storage* s;
  int64_t off;
  const char* name;
};
inline Pending pending(Args& a, const char* name) {
  const Storage& s = a.storage(name);
  return Pending{&s, a.i64(), name};
}
// A group's k tensors (an optimizer's parameters or gradients): an array of storage ids, then an
// array of their offsets.
inline std::vector<Pending> pendingGroup(Args& a, const char* name) {
  const std::vector<int64_t> ids = a.ints(SIZE_MAX, "tensors"), offsets = a.ints(SIZE_MAX, "tensors");
  if (ids.size() != offsets.size()) fail(a.op(), ": ", name, " has ", ids.size(), " storage ids but ", offsets.size(), " offsets");
  std::vector<Pending> group;
  for (size_t i = 0; i < ids.size(); ++i) group.push_back(Pending{&a.storage(ids[i], name), offsets[i], name});
  return group;
}
inline Buf resolve(const char* op, const Pending& p, int64_t count) {
  registry().checkRange(*p.s, p.off, count, (std::string(op) + " (" + p.name + ")").c_str());
  return Buf{static_cast<char*>(p.s->ptr) + p.off * dtypeSize(p.s->dtype), p.s->dtype};
}
// Each tensor of a group as `count` elements of `dtype`.
inline std::vector<Buf> resolveGroup(const char* op, const std::vector<Pending>& group, int64_t count, DType dtype) {
  std::vector<Buf> bufs;
  for (const Pending& p : group) {
    bufs.push_back(resolve(op, p, count));
    expectDtype(op, p.name, bufs.back(), dtype);
  }
  return bufs;
}

inline int64_t numelOf(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

}  // namespace ar::bind
