// Storage registry and the per-backend bump arenas.
#include "storage.h"
#include <algorithm>
#include <cstdlib>
#include "error.h"

namespace ar {

namespace {
constexpr size_t kAlign = 256;
constexpr size_t kMinChunk = size_t(64) << 20;
size_t alignUp(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// An optional cap on what the engine may hold per device (the runner sets it for untrusted code).
int64_t memoryLimitBytes() {
  static const int64_t limit = [] {
    const char* v = std::getenv("AUTORESEARCH_MEMORY_LIMIT_MB");
    return v ? int64_t(std::strtoll(v, nullptr, 10)) << 20 : int64_t(0);
  }();
  return limit;
}
}  // namespace

void Registry::checkLimit(Backend& backend, size_t bytes) const {
  int64_t limit = memoryLimitBytes();
  if (limit <= 0) return;
  MemoryStats m = stats(backend);
  int64_t held = m.persistentBytes + m.arenaReservedBytes;
  if (held + int64_t(bytes) > limit)
    fail("out of memory on ", backend.name(), ": requested ", bytes, " bytes with ", held, " bytes held; the limit is ", limit,
         " bytes (AUTORESEARCH_MEMORY_LIMIT_MB)");
}

Registry& registry() {
  static Registry r;
  return r;
}

int64_t Registry::alloc(Backend& backend, DType dtype, int64_t numel, bool arena) {
  if (numel < 0) fail("alloc: expected numel >= 0, got ", numel);
  size_t bytes = alignUp(size_t(numel > 0 ? numel : 1) * size_t(dtypeSize(dtype)));
  void* ptr;
  if (arena) {
    ptr = arenaAlloc(backend, bytes);
  } else {
    checkLimit(backend, bytes);
    ptr = backend.alloc(bytes);
    usage_[&backend].persistent += int64_t(bytes);
  }
  notePeak(backend);
  int64_t id = nextId_++;
  live_[id] = Storage{&backend, ptr, numel, dtype, arena};
  if (arena) {
    arenaIds_.push_back(id);
    arenaBytes_[id] = bytes;
  }
  return id;
}

void* Registry::arenaAlloc(Backend& backend, size_t bytes) {
  Arena& a = arenas_[&backend];
  // Reuse a released block of the same size class (at most twice as large) before bumping.
  auto fit = a.spare.lower_bound(bytes);
  if (fit != a.spare.end() && fit->first <= 2 * bytes) {
    char* p = fit->second;
    a.spare.erase(fit);
    return p;
  }
  if (a.chunks.empty() || a.chunks.back().used + bytes > a.chunks.back().size) {
    size_t last = a.chunks.empty() ? 0 : a.chunks.back().size;
    size_t size = std::max({bytes, kMinChunk, last * 2});
    checkLimit(backend, size);
    a.chunks.push_back(Chunk{static_cast<char*>(backend.alloc(size)), size, 0});
  }
  Chunk& c = a.chunks.back();
  void* p = c.ptr + c.used;
  c.used += bytes;
  a.used += bytes;
  return p;
}

void Registry::free(int64_t id) {
  auto it = live_.find(id);
  if (it == live_.end()) return;  // freeing twice is harmless
  if (it->second.arena) fail("free: storage #", id, " belongs to the arena; it is released by resetArena()");
  Storage& s = it->second;
  usage_[s.backend].persistent -= int64_t(alignUp(size_t(s.numel > 0 ? s.numel : 1) * size_t(dtypeSize(s.dtype))));
  s.backend->release(s.ptr);
  live_.erase(it);
}

void Registry::release(int64_t id) {
  auto it = live_.find(id);
  if (it == live_.end()) return;  // already released or reset
  if (!it->second.arena) fail("release: storage #", id, " is persistent; free it instead");
  auto bytes = arenaBytes_.find(id);
  // Blocks keep their aligned size, so a reuse never writes past the block it was given.
  arenas_[it->second.backend].spare.emplace(bytes->second, static_cast<char*>(it->second.ptr));
  arenaBytes_.erase(bytes);
  live_.erase(it);
}

int64_t Registry::resetArena() {
  for (int64_t id : arenaIds_) live_.erase(id);
  arenaIds_.clear();
  arenaBytes_.clear();
  for (auto& [backend, a] : arenas_) {
    // Coalesce a step's chunks into one so steady state is a single allocation.
    if (a.chunks.size() > 1) {
      size_t total = 0;
      for (auto& c : a.chunks) total += c.size;
      backend->synchronize();
      for (auto& c : a.chunks) backend->release(c.ptr);
      a.chunks.clear();
      a.chunks.push_back(Chunk{static_cast<char*>(backend->alloc(total)), total, 0});
    }
    for (auto& c : a.chunks) c.used = 0;
    a.used = 0;
    a.spare.clear();
  }
  return ++generation_;
}

const Storage& Registry::get(int64_t id, const char* what) const {
  auto it = live_.find(id);
  if (it == live_.end())
    fail(what, ": storage #", id, " is not live (it was freed, or it came from an arena that was reset)");
  return it->second;
}

void Registry::checkRange(const Storage& s, int64_t offset, int64_t count, const char* what) const {
  if (offset < 0 || count < 0 || offset + count > s.numel)
    fail(what, ": access [", offset, ", ", offset + count, ") is outside the storage of ", s.numel, " elements");
}

void Registry::notePeak(Backend& backend) {
  Usage& u = usage_[&backend];
  int64_t now = u.persistent + int64_t(arenas_[&backend].used);
  if (now > u.peak) u.peak = now;
}

MemoryStats Registry::stats(Backend& backend) const {
  MemoryStats m;
  auto u = usage_.find(&backend);
  if (u != usage_.end()) {
    m.persistentBytes = u->second.persistent;
    m.peakBytes = u->second.peak;
  }
  auto a = arenas_.find(&backend);
  if (a != arenas_.end()) {
    m.arenaUsedBytes = int64_t(a->second.used);
    for (auto& c : a->second.chunks) m.arenaReservedBytes += int64_t(c.size);
  }
  return m;
}

void Registry::resetPeak(Backend& backend) {
  usage_[&backend].peak = 0;
  notePeak(backend);
}

}  // namespace ar
