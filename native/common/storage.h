// Storage registry: JS holds integer ids, never raw pointers. Persistent storages live until
// freed; arena storages live until the next resetArena(), so memory never waits on the JS GC.
#pragma once
#include <cstdint>
#include <map>
#include <unordered_map>
#include <vector>
#include "backend.h"

namespace ar {

struct Storage {
  Backend* backend;
  void* ptr;
  int64_t numel;
  DType dtype;
  bool arena;
};

struct MemoryStats {
  int64_t persistentBytes = 0, arenaUsedBytes = 0, arenaReservedBytes = 0, peakBytes = 0;
};

class Registry {
 public:
  int64_t alloc(Backend& backend, DType dtype, int64_t numel, bool arena);
  void free(int64_t id);
  // Returns an arena storage's block to its arena for reuse within the step (backward does this
  // for gradients and temporaries it has consumed).
  void release(int64_t id);
  // Drops every arena storage and rewinds the arenas; returns the new generation.
  int64_t resetArena();
  int64_t generation() const { return generation_; }
  // Throws naming `what` when the id is not live or [offset, offset + count) is out of range.
  const Storage& get(int64_t id, const char* what) const;
  void checkRange(const Storage& s, int64_t offset, int64_t count, const char* what) const;
  MemoryStats stats(Backend& backend) const;
  void resetPeak(Backend& backend);

 private:
  struct Chunk { char* ptr; size_t size; size_t used; };
  // `used` is the bump high-water mark of the step; released blocks wait in `spare` by size.
  struct Arena { std::vector<Chunk> chunks; size_t used = 0; std::multimap<size_t, char*> spare; };
  struct Usage { int64_t persistent = 0, peak = 0; };
  void* arenaAlloc(Backend& backend, size_t bytes);
  void checkLimit(Backend& backend, size_t bytes) const;
  void notePeak(Backend& backend);

  std::unordered_map<int64_t, Storage> live_;
  std::unordered_map<int64_t, size_t> arenaBytes_;
  std::vector<int64_t> arenaIds_;
  std::unordered_map<Backend*, Arena> arenas_;
  std::unordered_map<Backend*, Usage> usage_;
  int64_t nextId_ = 1;
  int64_t generation_ = 0;
};

Registry& registry();

}  // namespace ar
