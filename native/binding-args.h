// Argument reading for the Node-API bindings: a kernel's Args::bind() (common/kernels.h) runs
// against an ArgReader, which either reads and checks one call or lists the signature bind()
// declares. Every error names the function and the argument.
#pragma once
#include <napi.h>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>
#include "common/backend.h"
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

// A parameter of a listed signature, named and typed as TypeScript will declare it.
struct Param {
  std::string name, type;
};

class ArgReader {
 public:
  // Reads and checks the arguments of one call of `fn`.
  ArgReader(const Napi::CallbackInfo& info, const char* fn) : info_(&info), fn_(fn) {}
  // Reads nothing; records the parameters bind() declares (see params() and enums()).
  explicit ArgReader(const char* fn) : fn_(fn) {}

  // Arguments, in call order. A tensor is two: its storage id and an element offset.
  ArgReader& tensor(const char* name, Buf& out) {
    if (listing(name, "Id", "Offset", "number")) return *this;
    const Storage& s = storage(integerAt(name), name);
    bound_.push_back(Bound{&out, &s, integerAt(std::string(name) + "Offset"), name});
    out = Buf{static_cast<char*>(s.ptr) + bound_.back().offset * dtypeSize(s.dtype), s.dtype};
    return *this;
  }
  // A group of tensors (an optimizer's parameters or gradients): an array of storage ids, then
  // an array of their offsets.
  ArgReader& tensors(const char* name, std::vector<Buf>& out) {
    if (listing(name, "Id[]", "Offsets", "number[]")) return *this;
    const std::vector<int64_t> ids = arrayAt(name, SIZE_MAX), offsets = arrayAt(std::string(name) + "Offsets", SIZE_MAX);
    if (ids.size() != offsets.size()) fail(fn_, ": ", name, " has ", ids.size(), " storage ids but ", offsets.size(), " offsets");
    out.resize(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      const Storage& s = storage(ids[i], name);
      out[i] = Buf{static_cast<char*>(s.ptr) + offsets[i] * dtypeSize(s.dtype), s.dtype};
      bound_.push_back(Bound{&out[i], &s, offsets[i], name});
    }
    return *this;
  }
  // An array of at most kMaxDims integers (a shape or strides); `count` gets its length.
  ArgReader& dims(const char* name, int64_t (&out)[kMaxDims], int& count) {
    if (listing(name, "number[]")) return *this;
    const std::vector<int64_t> v = arrayAt(name, kMaxDims);
    count = int(v.size());
    for (int d = 0; d < count; ++d) out[d] = v[d];
    return *this;
  }
  ArgReader& size(const char* name, int64_t& out) {
    if (listing(name, "number")) return *this;
    out = integerAt(name);
    if (out < 0) fail(fn_, ": argument ", i_ - 1, " (", name, ") must be >= 0, got ", out);
    return *this;
  }
  template <typename I>
  ArgReader& integer(const char* name, I& out) {
    if (listing(name, "number")) return *this;
    out = I(integerAt(name));
    return *this;
  }
  ArgReader& number(const char* name, double& out) {
    if (listing(name, "number")) return *this;
    out = numberAt(name);
    return *this;
  }
  ArgReader& flag(const char* name, bool& out) {
    if (listing(name, "boolean")) return *this;
    if (i_ >= info_->Length() || !(*info_)[i_].IsBoolean()) fail(fn_, ": argument ", i_, " (", name, ") must be a boolean");
    out = (*info_)[i_++].As<Napi::Boolean>().Value();
    return *this;
  }
  // One member of an enum declared with AR_ENUM, passed as its id.
  template <typename E>
  ArgReader& choice(const char* name, E& out) {
    using Names = EnumNames<E>;
    if (listing(name, Names::type)) {
      enums_[Names::type] = std::vector<std::string>(Names::names, Names::names + Names::count);
      return *this;
    }
    const int64_t id = integerAt(name);
    if (id < 0 || id >= Names::count) fail(fn_, ": unknown ", name, " id ", id, "; expected 0 to ", Names::count - 1);
    out = E(id);
    return *this;
  }

  // Checks, after every argument is read. The first one checks that no argument is left over.
  ArgReader& extent(const Buf& b, int64_t count) {
    if (!checking()) return *this;
    Bound& t = find(b);
    registry().checkRange(*t.storage, t.offset, count, label(t.name).c_str());
    t.checked = true;
    return *this;
  }
  // A strided view: checks the lowest and highest element it reaches.
  ArgReader& strided(const Buf& b, int ndim, const int64_t* shape, const int64_t* strides) {
    if (!checking()) return *this;
    Bound& t = find(b);
    int64_t lo = t.offset, hi = t.offset;
    bool empty = false;
    for (int d = 0; d < ndim; ++d) {
      if (shape[d] < 0) fail(fn_, ": ", t.name, " has a negative dim ", shape[d]);
      if (shape[d] == 0) empty = true;
      const int64_t span = (shape[d] - 1) * strides[d];
      (span < 0 ? lo : hi) += span;
    }
    if (!empty) registry().checkRange(*t.storage, lo, hi - lo + 1, label(t.name).c_str());
    t.checked = true;
    return *this;
  }
  ArgReader& floating(const Buf& b) {
    if (checking() && b.dtype == DType::I32) fail(fn_, ": expected ", find(b).name, " to be a floating-point dtype (f32, bf16, f64), got i32");
    return *this;
  }
  ArgReader& dtype(const Buf& b, DType want) {
    if (checking() && b.dtype != want) fail(fn_, ": expected ", find(b).name, " to be ", dtypeName(want), ", got ", dtypeName(b.dtype));
    return *this;
  }
  // `b` has `a`'s dtype.
  ArgReader& same(const Buf& a, const Buf& b) {
    if (checking() && a.dtype != b.dtype)
      fail(fn_, ": ", find(b).name, " is ", dtypeName(b.dtype), " but ", find(a).name, " is ", dtypeName(a.dtype));
    return *this;
  }
  template <typename... M>
  ArgReader& require(bool ok, const M&... message) {
    if (checking() && !ok) fail(fn_, ": ", message...);
    return *this;
  }

  // After bind(): no argument left over, and every tensor's extent checked.
  void finish() {
    if (!checking()) return;
    for (const Bound& t : bound_)
      if (!t.checked) fail(fn_, ": its bind() checks no extent for ", t.name, " (a bug in common/kernels.h)");
  }
  // The backend of the tensors read (all on one).
  Backend& backend() {
    if (!backend_) fail(fn_, ": no tensor argument names a backend");
    return *backend_;
  }
  // Raw reads for the memory functions, which have no Args struct.
  void skip() { ++i_; }

  const std::vector<Param>& params() const { return params_; }
  const std::map<std::string, std::vector<std::string>>& enums() const { return enums_; }

 private:
  struct Bound {
    const Buf* buf;
    const Storage* storage;
    int64_t offset;
    const char* name;
    bool checked = false;
  };

  // In listing mode, records the parameter and returns true. A tensor's offsets follow as a
  // second parameter, named `name` + `suffix`.
  bool listing(const char* name, const char* type, const char* suffix = nullptr, const char* suffixType = nullptr) {
    if (info_) return false;
    params_.push_back(Param{name, type});
    if (suffix) params_.push_back(Param{std::string(name) + suffix, suffixType});
    return true;
  }
  // False while listing; else true, once it has checked that every argument was read.
  bool checking() {
    if (!info_) return false;
    if (!countChecked_ && i_ != info_->Length()) fail(fn_, ": expected ", i_, " arguments, got ", info_->Length());
    countChecked_ = true;
    return true;
  }
  double numberAt(const std::string& name) {
    if (i_ >= info_->Length() || !(*info_)[i_].IsNumber()) fail(fn_, ": argument ", i_, " (", name, ") must be a number");
    return (*info_)[i_++].As<Napi::Number>().DoubleValue();
  }
  int64_t integerAt(const std::string& name) {
    const double v = numberAt(name);
    if (!std::isfinite(v) || v != std::floor(v)) fail(fn_, ": argument ", i_ - 1, " (", name, ") must be an integer, got ", v);
    return int64_t(v);
  }
  std::vector<int64_t> arrayAt(const std::string& name, size_t most) {
    if (i_ >= info_->Length() || !(*info_)[i_].IsArray()) fail(fn_, ": argument ", i_, " (", name, ") must be an array of integers");
    Napi::Array arr = (*info_)[i_++].As<Napi::Array>();
    if (arr.Length() > most) fail(fn_, ": ", name, " has at most ", most, " entries, got ", arr.Length());
    std::vector<int64_t> out(arr.Length());
    for (uint32_t k = 0; k < arr.Length(); ++k) {
      Napi::Value v = arr.Get(k);
      const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
      if (!std::isfinite(d) || d != std::floor(d)) fail(fn_, ": argument ", i_ - 1, " (", name, ") must be an array of integers; entry ", k, " is not");
      out[k] = int64_t(d);
    }
    return out;
  }
  const Storage& storage(int64_t id, const char* name) {
    const Storage& s = registry().get(id, label(name).c_str());
    if (backend_ && backend_ != s.backend) fail(fn_, ": ", name, " is on ", s.backend->name(), " but other inputs are on ", backend_->name());
    backend_ = s.backend;
    return s;
  }
  Bound& find(const Buf& b) {
    for (Bound& t : bound_)
      if (t.buf == &b) return t;
    fail(fn_, ": a check names a tensor that bind() did not read (a bug in common/kernels.h)");
  }
  std::string label(const char* name) const { return std::string(fn_) + " (" + name + ")"; }

  const Napi::CallbackInfo* info_ = nullptr;
  const char* fn_;
  size_t i_ = 0;
  bool countChecked_ = false;
  Backend* backend_ = nullptr;
  std::vector<Bound> bound_;
  std::vector<Param> params_;
  std::map<std::string, std::vector<std::string>> enums_;
};

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

}  // namespace ar::bind
