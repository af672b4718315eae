// Node-API bindings: the memory functions, and every kernel of AR_KERNELS (common/kernels.h)
// read and checked by its Args::bind() before it is dispatched to the tensors' backend.
#include "binding-args.h"

using namespace ar;
using namespace ar::bind;

namespace {

Napi::Value backendInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Backend* cuda = cudaBackend();
  Backend& best = cuda ? *cuda : cpuBackend();
  Napi::Object o = Napi::Object::New(env);
  o.Set("backend", best.name());
  o.Set("device", best.deviceName());
  o.Set("threads", cpuBackend().threads());
  o.Set("cuda", cuda != nullptr);
#ifdef AR_WITH_CUDA
  o.Set("cudaCompiled", true);
#else
  o.Set("cudaCompiled", false);
#endif
  return o;
}

Napi::Value alloc(const Napi::CallbackInfo& info) {
  if (info.Length() < 4 || !info[0].IsString()) fail("alloc: expected (device, dtype, numel, arena)");
  Backend& b = backendFor(info[0].As<Napi::String>().Utf8Value());
  ArgReader a(info, "alloc");
  a.skip();  // the device, read above
  int64_t dtype = 0, numel = 0;
  bool arena = false;
  a.integer("dtype", dtype).size("numel", numel).flag("arena", arena);
  if (dtype < 0 || dtype > 3) fail("alloc: unknown dtype id ", dtype);
  return Napi::Number::New(info.Env(), double(registry().alloc(b, DType(dtype), numel, arena)));
}

Napi::Value freeStorage(const Napi::CallbackInfo& info) {
  int64_t id = 0;
  ArgReader(info, "free").integer("id", id);
  registry().free(id);
  return info.Env().Undefined();
}

Napi::Value releaseStorage(const Napi::CallbackInfo& info) {
  int64_t id = 0;
  ArgReader(info, "release").integer("id", id);
  registry().release(id);
  return info.Env().Undefined();
}

Napi::Value resetArena(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), double(registry().resetArena()));
}

Napi::Value memoryStats(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) fail("memoryStats: expected a device name");
  MemoryStats m = registry().stats(backendFor(info[0].As<Napi::String>().Utf8Value()));
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("persistentBytes", double(m.persistentBytes));
  o.Set("arenaUsedBytes", double(m.arenaUsedBytes));
  o.Set("arenaReservedBytes", double(m.arenaReservedBytes));
  o.Set("peakBytes", double(m.peakBytes));
  return o;
}

Napi::Value resetPeak(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) fail("resetPeak: expected a device name");
  registry().resetPeak(backendFor(info[0].As<Napi::String>().Utf8Value()));
  return info.Env().Undefined();
}

Napi::Value synchronize(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) fail("synchronize: expected a device name");
  backendFor(info[0].As<Napi::String>().Utf8Value()).synchronize();
  return info.Env().Undefined();
}

Napi::Value upload(const Napi::CallbackInfo& info) {
  ArgReader a(info, "upload");
  Buf dst;
  a.tensor("dst", dst);
  if (info.Length() < 3 || !info[2].IsTypedArray()) fail("upload: expected a typed array as the third argument");
  Napi::TypedArray arr = info[2].As<Napi::TypedArray>();
  a.skip();  // the typed array, read above
  const size_t element = size_t(dtypeSize(dst.dtype));
  if (arr.ElementSize() != element)
    fail("upload: a ", dtypeName(dst.dtype), " storage needs ", element, "-byte elements, got ", arr.ElementSize());
  a.extent(dst, int64_t(arr.ElementLength()));
  const char* src = static_cast<const char*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
  a.backend().upload(dst.ptr, src, arr.ElementLength() * element);
  return info.Env().Undefined();
}

Napi::Value download(const Napi::CallbackInfo& info) {
  ArgReader a(info, "download");
  Buf src;
  int64_t n = 0;
  a.tensor("src", src).size("count", n);
  a.extent(src, n);
  Napi::Env env = info.Env();
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, size_t(n * dtypeSize(src.dtype)));
  a.backend().download(buf.Data(), src.ptr, buf.ByteLength());
  switch (src.dtype) {
    case DType::F32: return Napi::Float32Array::New(env, size_t(n), buf, 0);
    case DType::BF16: return Napi::Uint16Array::New(env, size_t(n), buf, 0);
    case DType::I32: return Napi::Int32Array::New(env, size_t(n), buf, 0);
    case DType::F64: return Napi::Float64Array::New(env, size_t(n), buf, 0);
  }
  return env.Undefined();
}

// One call of a kernel: its Args read and checked by bind(), then run on the tensors' backend.
template <typename A>
Napi::Value runKernel(const Napi::CallbackInfo& info, const char* name, void (Backend::*kernel)(const A&)) {
  A args{};
  ArgReader reader(info, name);
  args.bind(reader);
  reader.finish();
  (reader.backend().*kernel)(args);
  return info.Env().Undefined();
}

// `{ kernels: [{ name, params: [{ name, type }] }], enums: { Type: [member names in id order] } }`:
// what native/write-kernel-types.ts turns into src/engine/native-kernels.ts.
Napi::Value describeKernels(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array kernels = Napi::Array::New(env);
  Napi::Object enums = Napi::Object::New(env);
  auto describe = [&](const char* name, auto args) {
    ArgReader lister(name);
    args.bind(lister);
    Napi::Array params = Napi::Array::New(env);
    for (const Param& p : lister.params()) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", p.name);
      o.Set("type", p.type);
      params.Set(params.Length(), o);
    }
    Napi::Object kernel = Napi::Object::New(env);
    kernel.Set("name", name);
    kernel.Set("params", params);
    kernels.Set(kernels.Length(), kernel);
    for (const auto& [type, names] : lister.enums()) {
      Napi::Array members = Napi::Array::New(env);
      for (const std::string& member : names) members.Set(members.Length(), member);
      enums.Set(type, members);
    }
  };
#define AR_DESCRIBE_KERNEL(name, Args) describe(#name, Args{});
  AR_KERNELS(AR_DESCRIBE_KERNEL)
#undef AR_DESCRIBE_KERNEL
  Napi::Object o = Napi::Object::New(env);
  o.Set("kernels", kernels);
  o.Set("enums", enums);
  return o;
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  auto set = [&](const char* name, Napi::Value (*f)(const Napi::CallbackInfo&)) { exports.Set(name, wrap(env, f)); };
  set("backendInfo", backendInfo);
  set("alloc", alloc);
  set("free", freeStorage);
  set("resetArena", resetArena);
  set("release", releaseStorage);
  set("memoryStats", memoryStats);
  set("resetPeak", resetPeak);
  set("synchronize", synchronize);
  set("upload", upload);
  set("download", download);
  set("describeKernels", describeKernels);
#define AR_EXPORT_KERNEL(name, Args) \
  set(#name, [](const Napi::CallbackInfo& info) { return runKernel<Args>(info, #name, &Backend::name); });
  AR_KERNELS(AR_EXPORT_KERNEL)
#undef AR_EXPORT_KERNEL
  return exports;
}

}  // namespace

NODE_API_MODULE(autoresearch, init)
