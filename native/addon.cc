// Node-API bindings: validates every argument (ids, ranges, dtypes) and dispatches to a backend.
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
  Args a(info, "alloc");
  a.skip();  // the device, read above
  int64_t dtype = a.i64();
  if (dtype < 0 || dtype > 3) fail("alloc: unknown dtype id ", dtype);
  int64_t numel = a.size();
  bool arena = a.flag();
  return Napi::Number::New(info.Env(), double(registry().alloc(b, DType(dtype), numel, arena)));
}

Napi::Value freeStorage(const Napi::CallbackInfo& info) {
  Args a(info, "free");
  registry().free(a.i64());
  return info.Env().Undefined();
}

Napi::Value releaseStorage(const Napi::CallbackInfo& info) {
  Args a(info, "release");
  registry().release(a.i64());
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

// Element size a typed array must have for a storage dtype.
size_t hostElementSize(DType d) { return size_t(dtypeSize(d)); }

Napi::Value upload(const Napi::CallbackInfo& info) {
  Args a(info, "upload");
  const Storage& s = a.storage("dst");
  int64_t off = a.i64();
  if (info.Length() < 3 || !info[2].IsTypedArray()) fail("upload: expected a typed array as the third argument");
  Napi::TypedArray arr = info[2].As<Napi::TypedArray>();
  if (arr.ElementSize() != hostElementSize(s.dtype))
    fail("upload: a ", dtypeName(s.dtype), " storage needs ", hostElementSize(s.dtype), "-byte elements, got ", arr.ElementSize());
  int64_t n = int64_t(arr.ElementLength());
  registry().checkRange(s, off, n, "upload");
  const char* src = static_cast<const char*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
  s.backend->upload(static_cast<char*>(s.ptr) + off * dtypeSize(s.dtype), src, size_t(n) * hostElementSize(s.dtype));
  return info.Env().Undefined();
}

Napi::Value download(const Napi::CallbackInfo& info) {
  Args a(info, "download");
  const Storage& s = a.storage("src");
  int64_t off = a.i64(), n = a.size();
  registry().checkRange(s, off, n, "download");
  Napi::Env env = info.Env();
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, size_t(n) * hostElementSize(s.dtype));
  s.backend->download(buf.Data(), static_cast<char*>(s.ptr) + off * dtypeSize(s.dtype), buf.ByteLength());
  switch (s.dtype) {
    case DType::F32: return Napi::Float32Array::New(env, size_t(n), buf, 0);
    case DType::BF16: return Napi::Uint16Array::New(env, size_t(n), buf, 0);
    case DType::I32: return Napi::Int32Array::New(env, size_t(n), buf, 0);
    case DType::F64: return Napi::Float64Array::New(env, size_t(n), buf, 0);
  }
  return env.Undefined();
}

Napi::Value fill(const Napi::CallbackInfo& info) {
  Args a(info, "fill");
  const Storage& s = a.storage("out");
  int64_t off = a.i64(), n = a.size();
  registry().checkRange(s, off, n, "fill");
  double value = a.num();
  Buf out{static_cast<char*>(s.ptr) + off * dtypeSize(s.dtype), s.dtype};
  s.backend->fill(FillArgs{out, n, value});
  return info.Env().Undefined();
}

Napi::Value copy(const Napi::CallbackInfo& info) {
  Args a(info, "copy");
  const Storage& src = a.storage("src");
  int64_t srcOff = a.i64();
  std::vector<int64_t> srcStrides = a.ints();
  const Storage& out = a.storage("out");
  int64_t outOff = a.i64();
  std::vector<int64_t> outStrides = a.ints();
  std::vector<int64_t> shape = a.ints();
  if (shape.size() != srcStrides.size() || shape.size() != outStrides.size())
    fail("copy: shape has ", shape.size(), " dims but the strides have ", srcStrides.size(), " and ", outStrides.size());
  CopyArgs c{};
  c.src = a.strided(shape, srcStrides, srcOff, src, "src");
  c.out = a.strided(shape, outStrides, outOff, out, "out");
  c.ndim = int(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) { c.shape[d] = shape[d]; c.srcStrides[d] = srcStrides[d]; c.outStrides[d] = outStrides[d]; }
  a.backend().copy(c);
  return info.Env().Undefined();
}

Napi::Value randomFill(const Napi::CallbackInfo& info) {
  Args a(info, "random");
  const Storage& s = a.storage("out");
  int64_t off = a.i64(), n = a.size();
  registry().checkRange(s, off, n, "random");
  int64_t kind = a.i64();
  if (kind != 0 && kind != 1) fail("random: kind must be 0 (normal) or 1 (uniform), got ", kind);
  uint64_t seed = uint64_t(a.i64());
  double p = a.num(), q = a.num();
  Buf out{static_cast<char*>(s.ptr) + off * dtypeSize(s.dtype), s.dtype};
  expectFloat("random", out);
  s.backend->random(RandomArgs{out, n, RandomKind(kind), seed, p, q});
  return info.Env().Undefined();
}

Napi::Value binary(const Napi::CallbackInfo& info) {
  Args a(info, "binary");
  int64_t op = a.i64();
  if (op < 0 || op > 4) fail("binary: unknown op id ", op);
  const Storage& sa = a.storage("a");
  int64_t aOff = a.i64();
  std::vector<int64_t> aStr = a.ints();
  const Storage& sb = a.storage("b");
  int64_t bOff = a.i64();
  std::vector<int64_t> bStr = a.ints();
  const Storage& so = a.storage("out");
  int64_t oOff = a.i64();
  std::vector<int64_t> shape = a.ints();
  if (aStr.size() != shape.size() || bStr.size() != shape.size()) fail("binary: strides and shape must have the same number of dims");
  BinaryArgs b{};
  b.op = BinaryOp(op);
  b.a = a.strided(shape, aStr, aOff, sa, "a");
  b.b = a.strided(shape, bStr, bOff, sb, "b");
  registry().checkRange(so, oOff, numelOf(shape), "binary (out)");
  b.out = Buf{static_cast<char*>(so.ptr) + oOff * dtypeSize(so.dtype), so.dtype};
  expectFloat("binary", b.a);
  expectFloat("binary", b.b);
  // Mixed inputs are read as they are and computed in the wider dtype, which out must be.
  if (b.out.dtype != widerFloat(b.a.dtype, b.b.dtype))
    fail("binary: out is ", dtypeName(b.out.dtype), " but the inputs are ", dtypeName(b.a.dtype), " and ", dtypeName(b.b.dtype),
         "; expected ", dtypeName(widerFloat(b.a.dtype, b.b.dtype)));
  b.ndim = int(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) { b.shape[d] = shape[d]; b.aStrides[d] = aStr[d]; b.bStrides[d] = bStr[d]; }
  a.backend().binary(b);
  return info.Env().Undefined();
}

UnaryOp unaryOp(Args& a) {
  int64_t op = a.i64();
  if (op < 0 || op > 16) fail(a.op(), ": unknown unary op id ", op);
  return UnaryOp(op);
}

Napi::Value unary(const Napi::CallbackInfo& info) {
  Args a(info, "unary");
  UnaryOp op = unaryOp(a);
  const Storage& sx = a.storage("x");
  int64_t xOff = a.i64();
  const Storage& so = a.storage("out");
  int64_t oOff = a.i64(), n = a.size();
  double s = a.num();
  registry().checkRange(sx, xOff, n, "unary (x)");
  registry().checkRange(so, oOff, n, "unary (out)");
  Buf x{static_cast<char*>(sx.ptr) + xOff * dtypeSize(sx.dtype), sx.dtype};
  Buf out{static_cast<char*>(so.ptr) + oOff * dtypeSize(so.dtype), so.dtype};
  expectFloat("unary", x);
  expectSame("unary", x, out, "out");
  a.backend().unary(UnaryArgs{op, x, out, n, s});
  return info.Env().Undefined();
}

Napi::Value unaryBackward(const Napi::CallbackInfo& info) {
  Args a(info, "unaryBackward");
  UnaryOp op = unaryOp(a);
  // Sizes come last, so read ids and offsets first and range-check afterwards.
  const Storage* st[4];
  int64_t off[4];
  const char* names[4] = {"x", "y", "g", "out"};
  for (int k = 0; k < 4; ++k) { st[k] = &a.storage(names[k]); off[k] = a.i64(); }
  int64_t n = a.size();
  double s = a.num();
  Buf b[4];
  for (int k = 0; k < 4; ++k) {
    registry().checkRange(*st[k], off[k], n, (std::string("unaryBackward (") + names[k] + ")").c_str());
    b[k] = Buf{static_cast<char*>(st[k]->ptr) + off[k] * dtypeSize(st[k]->dtype), st[k]->dtype};
    expectSame("unaryBackward", b[0], b[k], names[k]);
  }
  expectFloat("unaryBackward", b[0]);
  a.backend().unaryBackward(UnaryBackwardArgs{op, b[0], b[1], b[2], b[3], n, s});
  return info.Env().Undefined();
}

Napi::Value reduce(const Napi::CallbackInfo& info) {
  Args a(info, "reduce");
  int64_t op = a.i64();
  if (op != 0 && op != 1) fail("reduce: unknown op id ", op);
  Pending x = pending(a, "x"), out = pending(a, "out");
  int64_t outer = a.size(), r = a.size(), inner = a.size();
  ReduceArgs args{ReduceOp(op), resolve("reduce", x, outer * r * inner), resolve("reduce", out, outer * inner), outer, r, inner};
  expectFloat("reduce", args.x);
  expectSame("reduce", args.x, args.out, "out");
  a.backend().reduce(args);
  return info.Env().Undefined();
}

Napi::Value productSum(const Napi::CallbackInfo& info) {
  Args a(info, "product sum");
  Pending x = pending(a, "x"), y = pending(a, "y"), out = pending(a, "out");
  int64_t outer = a.size(), r = a.size(), inner = a.size();
  ProductSumArgs args{resolve("product sum", x, outer * r * inner), resolve("product sum", y, outer * r * inner),
                      resolve("product sum", out, outer * inner), outer, r, inner};
  expectFloat("product sum", args.x);
  expectFloat("product sum", args.y);
  expectDtype("product sum", "out", args.out, widerFloat(args.x.dtype, args.y.dtype));
  a.backend().productSum(args);
  return info.Env().Undefined();
}

Napi::Value scaledAdd(const Napi::CallbackInfo& info) {
  const char* op = "scaled_add";
  Args a(info, op);
  Pending x = pending(a, "x"), y = pending(a, "y"), sa = pending(a, "a"), sb = pending(a, "b"), out = pending(a, "out");
  ScaledAddArgs s{};
  s.n = a.size();
  s.x = resolve(op, x, s.n); s.y = resolve(op, y, s.n); s.out = resolve(op, out, s.n);
  s.a = resolve(op, sa, 1); s.b = resolve(op, sb, 1);
  for (const Buf* f : {&s.x, &s.y, &s.a, &s.b}) expectFloat(op, *f);
  expectDtype(op, "out", s.out, widerFloat(s.x.dtype, s.y.dtype));
  a.backend().scaledAdd(s);
  return info.Env().Undefined();
}

Napi::Value scaledAddBackward(const Napi::CallbackInfo& info) {
  const char* op = "scaled_add backward";
  Args a(info, op);
  Pending g = pending(a, "grad"), sa = pending(a, "a"), sb = pending(a, "b"), gx = pending(a, "gx"), gy = pending(a, "gy");
  ScaledAddBackwardArgs s{};
  s.n = a.size();
  s.g = resolve(op, g, s.n); s.gx = resolve(op, gx, s.n); s.gy = resolve(op, gy, s.n);
  s.a = resolve(op, sa, 1); s.b = resolve(op, sb, 1);
  for (const Buf* f : {&s.g, &s.a, &s.b, &s.gx, &s.gy}) expectFloat(op, *f);
  a.backend().scaledAddBackward(s);
  return info.Env().Undefined();
}

Napi::Value matmul(const Napi::CallbackInfo& info) {
  Args a(info, "matmul");
  Pending pa = pending(a, "a"), pb = pending(a, "b"), pc = pending(a, "c");
  MatmulArgs m{};
  m.batch = a.size(); m.M = a.size(); m.N = a.size(); m.K = a.size();
  m.transA = a.flag(); m.transB = a.flag();
  m.alpha = a.num(); m.beta = a.num();
  m.strideA = a.size(); m.strideB = a.size(); m.strideC = a.size();
  auto extent = [&](int64_t stride, int64_t mat) { return m.batch == 0 ? 0 : (m.batch - 1) * stride + mat; };
  m.a = resolve("matmul", pa, extent(m.strideA, m.M * m.K));
  m.b = resolve("matmul", pb, extent(m.strideB, m.K * m.N));
  m.c = resolve("matmul", pc, extent(m.strideC, m.M * m.N));
  expectFloat("matmul", m.a);
  expectSame("matmul", m.a, m.b, "b");
  expectSame("matmul", m.a, m.c, "c");
  a.backend().matmul(m);
  return info.Env().Undefined();
}

Napi::Value embedding(const Napi::CallbackInfo& info, bool backward) {
  const char* op = backward ? "embedding backward" : "embedding";
  Args a(info, op);
  Pending w = pending(a, backward ? "grad weight" : "weight"), idx = pending(a, "indices"), out = pending(a, backward ? "grad" : "out");
  EmbeddingArgs e{};
  e.n = a.size(); e.vocab = a.size(); e.dim = a.size();
  e.weight = resolve(op, w, e.vocab * e.dim);
  e.idx = resolve(op, idx, e.n);
  e.out = resolve(op, out, e.n * e.dim);
  expectDtype(op, "indices", e.idx, DType::I32);
  expectFloat(op, e.weight);
  expectFloat(op, e.out);
  if (backward) a.backend().embeddingBackward(e);
  else a.backend().embeddingForward(e);
  return info.Env().Undefined();
}

Napi::Value rmsNormForward(const Napi::CallbackInfo& info) {
  Args a(info, "rms_norm");
  Pending x = pending(a, "x"), out = pending(a, "out"), rstd = pending(a, "rstd");
  RmsNormArgs r{};
  r.rows = a.size(); r.dim = a.size(); r.eps = a.num();
  r.x = resolve("rms_norm", x, r.rows * r.dim);
  r.out = resolve("rms_norm", out, r.rows * r.dim);
  r.rstd = resolve("rms_norm", rstd, r.rows);
  expectFloat("rms_norm", r.x);
  expectSame("rms_norm", r.x, r.out, "out");
  expectDtype("rms_norm", "rstd", r.rstd, statDtype(r.x.dtype));
  a.backend().rmsNormForward(r);
  return info.Env().Undefined();
}

Napi::Value rmsNormBackward(const Napi::CallbackInfo& info) {
  Args a(info, "rms_norm backward");
  Pending y = pending(a, "y"), rstd = pending(a, "rstd"), g = pending(a, "grad"), dx = pending(a, "dx");
  RmsNormBackwardArgs r{};
  r.rows = a.size(); r.dim = a.size();
  r.y = resolve("rms_norm backward", y, r.rows * r.dim);
  r.rstd = resolve("rms_norm backward", rstd, r.rows);
  r.g = resolve("rms_norm backward", g, r.rows * r.dim);
  r.dx = resolve("rms_norm backward", dx, r.rows * r.dim);
  expectFloat("rms_norm backward", r.y);
  expectSame("rms_norm backward", r.y, r.g, "grad");
  expectSame("rms_norm backward", r.y, r.dx, "dx");
  expectDtype("rms_norm backward", "rstd", r.rstd, statDtype(r.y.dtype));
  a.backend().rmsNormBackward(r);
  return info.Env().Undefined();
}

Napi::Value rotary(const Napi::CallbackInfo& info) {
  Args a(info, "rotary");
  Pending x = pending(a, "x"), c = pending(a, "cos"), s = pending(a, "sin"), out = pending(a, "out");
  RotaryArgs r{};
  r.B = a.size(); r.T = a.size(); r.H = a.size(); r.D = a.size(); r.sign = a.num();
  if (r.D % 2) fail("rotary: head dim must be even, got ", r.D);
  int64_t n = r.B * r.T * r.H * r.D;
  r.x = resolve("rotary", x, n);
  r.cos = resolve("rotary", c, r.T * r.D / 2);
  r.sin = resolve("rotary", s, r.T * r.D / 2);
  r.out = resolve("rotary", out, n);
  expectFloat("rotary", r.x);
  expectSame("rotary", r.x, r.cos, "cos");
  expectSame("rotary", r.x, r.sin, "sin");
  expectSame("rotary", r.x, r.out, "out");
  a.backend().rotary(r);
  return info.Env().Undefined();
}

Napi::Value attentionForward(const Napi::CallbackInfo& info) {
  Args a(info, "attention");
  Pending q = pending(a, "q"), k = pending(a, "k"), v = pending(a, "v"), out = pending(a, "out"), lse = pending(a, "lse");
  AttentionArgs t{};
  t.B = a.size(); t.T = a.size(); t.H = a.size(); t.D = a.size(); t.window = a.size(); t.scale = a.num();
  int64_t n = t.B * t.T * t.H * t.D;
  t.q = resolve("attention", q, n); t.k = resolve("attention", k, n); t.v = resolve("attention", v, n);
  t.out = resolve("attention", out, n); t.lse = resolve("attention", lse, t.B * t.H * t.T);
  expectFloat("attention", t.q);
  expectSame("attention", t.q, t.k, "k"); expectSame("attention", t.q, t.v, "v"); expectSame("attention", t.q, t.out, "out");
  expectDtype("attention", "lse", t.lse, statDtype(t.q.dtype));
  a.backend().attentionForward(t);
  return info.Env().Undefined();
}

Napi::Value attentionBackward(const Napi::CallbackInfo& info) {
  const char* op = "attention backward";
  Args a(info, op);
  Pending p[9];
  const char* names[9] = {"q", "k", "v", "out", "lse", "dout", "dq", "dk", "dv"};
  for (int i = 0; i < 9; ++i) p[i] = pending(a, names[i]);
  AttentionBackwardArgs t{};
  t.B = a.size(); t.T = a.size(); t.H = a.size(); t.D = a.size(); t.window = a.size(); t.scale = a.num();
  int64_t n = t.B * t.T * t.H * t.D;
  Buf b[9];
  for (int i = 0; i < 9; ++i) b[i] = resolve(op, p[i], i == 4 ? t.B * t.H * t.T : n);
  expectFloat(op, b[0]);
  for (int i = 1; i < 9; ++i)
    if (i != 4) expectSame(op, b[0], b[i], names[i]);
  expectDtype(op, "lse", b[4], statDtype(b[0].dtype));
  t.q = b[0]; t.k = b[1]; t.v = b[2]; t.out = b[3]; t.lse = b[4]; t.dout = b[5]; t.dq = b[6]; t.dk = b[7]; t.dv = b[8];
  a.backend().attentionBackward(t);
  return info.Env().Undefined();
}

Napi::Value softmaxForward(const Napi::CallbackInfo& info) {
  Args a(info, "softmax");
  Pending x = pending(a, "x"), out = pending(a, "out");
  SoftmaxArgs s{};
  s.rows = a.size(); s.dim = a.size(); s.log = a.flag();
  s.x = resolve("softmax", x, s.rows * s.dim);
  s.out = resolve("softmax", out, s.rows * s.dim);
  expectFloat("softmax", s.x);
  expectSame("softmax", s.x, s.out, "out");
  a.backend().softmaxForward(s);
  return info.Env().Undefined();
}

Napi::Value softmaxBackward(const Napi::CallbackInfo& info) {
  Args a(info, "softmax backward");
  Pending y = pending(a, "y"), g = pending(a, "grad"), dx = pending(a, "dx");
  SoftmaxBackwardArgs s{};
  s.rows = a.size(); s.dim = a.size(); s.log = a.flag();
  s.y = resolve("softmax backward", y, s.rows * s.dim);
  s.g = resolve("softmax backward", g, s.rows * s.dim);
  s.dx = resolve("softmax backward", dx, s.rows * s.dim);
  expectFloat("softmax backward", s.y);
  expectSame("softmax backward", s.y, s.g, "grad");
  expectSame("softmax backward", s.y, s.dx, "dx");
  a.backend().softmaxBackward(s);
  return info.Env().Undefined();
}

Napi::Value crossEntropyForward(const Napi::CallbackInfo& info) {
  const char* op = "cross_entropy";
  Args a(info, op);
  Pending logits = pending(a, "logits"), targets = pending(a, "targets"), loss = pending(a, "loss"), lse = pending(a, "lse"), count = pending(a, "count");
  CrossEntropyArgs c{};
  c.rows = a.size(); c.vocab = a.size(); c.ignoreIndex = a.i64(); c.softcap = a.num();
  c.logits = resolve(op, logits, c.rows * c.vocab);
  c.targets = resolve(op, targets, c.rows);
  c.loss = resolve(op, loss, c.rows);
  c.lse = resolve(op, lse, c.rows);
  c.count = resolve(op, count, 1);
  expectFloat(op, c.logits);
  expectDtype(op, "targets", c.targets, DType::I32);
  DType st = statDtype(c.logits.dtype);
  expectDtype(op, "loss", c.loss, st); expectDtype(op, "lse", c.lse, st); expectDtype(op, "count", c.count, st);
  a.backend().crossEntropyForward(c);
  return info.Env().Undefined();
}

Napi::Value crossEntropyBackward(const Napi::CallbackInfo& info) {
  const char* op = "cross_entropy backward";
  Args a(info, op);
  Pending logits = pending(a, "logits"), targets = pending(a, "targets"), lse = pending(a, "lse"), gloss = pending(a, "grad loss"), dlogits = pending(a, "dlogits");
  CrossEntropyBackwardArgs c{};
  c.rows = a.size(); c.vocab = a.size(); c.ignoreIndex = a.i64(); c.softcap = a.num();
  c.logits = resolve(op, logits, c.rows * c.vocab);
  c.targets = resolve(op, targets, c.rows);
  c.lse = resolve(op, lse, c.rows);
  c.gloss = resolve(op, gloss, c.rows);
  c.dlogits = resolve(op, dlogits, c.rows * c.vocab);
  expectFloat(op, c.logits);
  expectDtype(op, "targets", c.targets, DType::I32);
  DType st = statDtype(c.logits.dtype);
  expectDtype(op, "lse", c.lse, st); expectDtype(op, "grad loss", c.gloss, st);
  expectSame(op, c.logits, c.dlogits, "dlogits");
  a.backend().crossEntropyBackward(c);
  return info.Env().Undefined();
}

Napi::Value adamw(const Napi::CallbackInfo& info) {
  Args a(info, "adamw");
  Pending p = pending(a, "param"), g = pending(a, "grad"), m = pending(a, "exp_avg"), v = pending(a, "exp_avg_sq");
  AdamwArgs w{};
  w.n = a.size(); w.lr = a.num(); w.beta1 = a.num(); w.beta2 = a.num(); w.eps = a.num(); w.weightDecay = a.num(); w.bias1 = a.num(); w.bias2 = a.num();
  w.p = resolve("adamw", p, w.n); w.g = resolve("adamw", g, w.n); w.m = resolve("adamw", m, w.n); w.v = resolve("adamw", v, w.n);
  expectFloat("adamw", w.p);
  expectSame("adamw", w.p, w.g, "grad");
  DType st = statDtype(w.p.dtype);
  expectDtype("adamw", "exp_avg", w.m, st); expectDtype("adamw", "exp_avg_sq", w.v, st);
  a.backend().adamw(w);
  return info.Env().Undefined();
}

Napi::Value muonMomentum(const Napi::CallbackInfo& info) {
  const char* op = "muon momentum";
  Args a(info, op);
  std::vector<Pending> grads = pendingGroup(a, "grads");
  Pending buf = pending(a, "momentum buffer"), out = pending(a, "out");
  MuonMomentumArgs m{};
  m.n = a.size(); m.momentum = a.num();
  const int64_t k = int64_t(grads.size());
  m.buf = resolve(op, buf, k * m.n);
  m.out = resolve(op, out, k * m.n);
  expectFloat(op, m.buf);
  expectSame(op, m.buf, m.out, "out");
  m.grads = resolveGroup(op, grads, m.n, m.buf.dtype);
  a.backend().muonMomentum(m);
  return info.Env().Undefined();
}

Napi::Value norMuon(const Napi::CallbackInfo& info) {
  const char* op = "norMuon";
  Args a(info, op);
  Pending x = pending(a, "x"), sm = pending(a, "second moment"), scale = pending(a, "scale");
  NorMuonArgs n{};
  n.k = a.size(); n.rows = a.size(); n.cols = a.size(); n.beta2 = a.num();
  const int64_t stats = n.k * muonStats(n.rows, n.cols);
  n.x = resolve(op, x, n.k * n.rows * n.cols);
  n.secondMoment = resolve(op, sm, stats);
  n.scale = resolve(op, scale, stats);
  expectFloat(op, n.x);
  expectFloat(op, n.secondMoment);
  expectDtype(op, "scale", n.scale, statDtype(n.secondMoment.dtype));
  a.backend().norMuon(n);
  return info.Env().Undefined();
}

Napi::Value muonUpdate(const Napi::CallbackInfo& info) {
  const char* op = "muon update";
  Args a(info, op);
  std::vector<Pending> params = pendingGroup(a, "params");
  Pending x = pending(a, "x"), scale = pending(a, "scale");
  MuonUpdateArgs u{};
  u.rows = a.size(); u.cols = a.size(); u.lr = a.num(); u.weightDecay = a.num();
  const int64_t k = int64_t(params.size());
  u.x = resolve(op, x, k * u.rows * u.cols);
  u.scale = resolve(op, scale, k * muonStats(u.rows, u.cols));
  expectFloat(op, u.x);
  const DType paramDtype = params.empty() ? u.x.dtype : params[0].s->dtype;
  u.params = resolveGroup(op, params, u.rows * u.cols, paramDtype);
  if (!u.params.empty()) expectFloat(op, u.params[0]);
  expectDtype(op, "scale", u.scale, statDtype(paramDtype));
  a.backend().muonUpdate(u);
  return info.Env().Undefined();
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
  set("fill", fill);
  set("copy", copy);
  set("random", randomFill);
  set("binary", binary);
  set("unary", unary);
  set("unaryBackward", unaryBackward);
  set("reduce", reduce);
  set("productSum", productSum);
  set("scaledAdd", scaledAdd);
  set("scaledAddBackward", scaledAddBackward);
  set("matmul", matmul);
  set("embeddingForward", [](const Napi::CallbackInfo& i) { return embedding(i, false); });
  set("embeddingBackward", [](const Napi::CallbackInfo& i) { return embedding(i, true); });
  set("rmsNormForward", rmsNormForward);
  set("rmsNormBackward", rmsNormBackward);
  set("rotary", rotary);
  set("attentionForward", attentionForward);
  set("attentionBackward", attentionBackward);
  set("softmaxForward", softmaxForward);
  set("softmaxBackward", softmaxBackward);
  set("crossEntropyForward", crossEntropyForward);
  set("crossEntropyBackward", crossEntropyBackward);
  set("adamw", adamw);
  set("muonMomentum", muonMomentum);
  set("norMuon", norMuon);
  set("muonUpdate", muonUpdate);
  return exports;
}

}  // namespace

NODE_API_MODULE(autoresearch, init)
