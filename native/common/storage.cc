// Storage registry and the per-backend arenas (best-fit free lists over a few large chunks).
#include "storage.h"
#include <algorithm>
#include <cstdlib>
#include "error.h"

namespace ar {

namespace {
constexpr size_t kAlign = 256;
constexpr size_t kMinChunk = size_t(64) << 20;
// Chunks double up to this, so what a step reserves stays within 1 GiB of what it needs.
constexpr size_t kMaxChunk = size_t(1) << 30;
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
  size_t chunk = 0;
  if (arena) {
    ptr = arenaAlloc(backend, bytes, chunk);
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
    arenaBlocks_[id] = Block{bytes, chunk};
  }
  return id;
}

void* Registry::arenaAlloc(Backend& backend, size_t bytes, size_t& chunk) {
  Arena& a = arenas_[&backend];
  auto fit = a.freeBySize.lower_bound(bytes);
  if (fit == a.freeBySize.end()) {
    growArena(backend, a, bytes);
    fit = a.freeBySize.lower_bound(bytes);
  }
  char* p = fit->second;
  auto range = a.freeByAddress.find(p);
  const FreeRange r = range->second;
  takeFree(a, range);
  if (r.size > bytes) addFree(a, p + bytes, r.size - bytes, r.chunk);
  chunk = r.chunk;
  a.used += bytes;
  return p;
}

void Registry::growArena(Backend& backend, Arena& a, size_t bytes) {
  size_t last = a.chunks.empty() ? 0 : a.chunks.back().size;
  size_t size = std::max(bytes, std::clamp(last * 2, kMinChunk, kMaxChunk));
  checkLimit(backend, size);
  a.chunks.push_back(Chunk{static_cast<char*>(backend.alloc(size)), size});
  addFree(a, a.chunks.back().ptr, size, a.chunks.size() - 1);
}

void Registry::takeFree(Arena& a, std::map<char*, FreeRange>::iterator range) {
  auto [first, last] = a.freeBySize.equal_range(range->second.size);
  for (auto it = first; it != last; ++it) {
    if (it->second == range->first) {
      a.freeBySize.erase(it);
      break;
    }
  }
  a.freeByAddress.erase(range);
}

void Registry::addFree(Arena& a, char* ptr, size_t size, size_t chunk) {
  auto next = a.freeByAddress.lower_bound(ptr);
  if (next != a.freeByAddress.end() && next->first == ptr + size && next->second.chunk == chunk) {
    size += next->second.size;
    auto after = std::next(next);
    takeFree(a, next);
    next = after;
  }
  if (next != a.freeByAddress.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second.size == ptr && prev->second.chunk == chunk) {
      ptr = prev->first;
      size += prev->second.size;
      takeFree(a, prev);
    }
  }
  a.freeByAddress.emplace(ptr, FreeRange{size, chunk});
  a.freeBySize.emplace(size, ptr);
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
  auto block = arenaBlocks_.find(id);
  Arena& a = arenas_[it->second.backend];
  addFree(a, static_cast<char*>(it->second.ptr), block->second.bytes, block->second.chunk);
  a.used -= block->second.bytes;
  arenaBlocks_.erase(block);
  live_.erase(it);
}

int64_t Registry::resetArena() {
  for (int64_t id : arenaIds_) live_.erase(id);
  arenaIds_.clear();
  arenaBlocks_.clear();
  for (auto& [backend, a] : arenas_) {
    // Coalesce a step's chunks into one so steady state is a single allocation.
    if (a.chunks.size() > 1) {
      size_t total = 0;
      for (auto& c : a.chunks) total += c.size;
      backend->synchronize();
      for (auto& c : a.chunks) backend->release(c.ptr);
      a.chunks.assign(1, Chunk{static_cast<char*>(backend->alloc(total)), total});
    }
    a.freeByAddress.clear();
    a.freeBySize.clear();
    for (size_t i = 0; i < a.chunks.size(); i++) addFree(a, a.chunks[i].ptr, a.chunks[i].size, i);
    a.used = 0;
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
