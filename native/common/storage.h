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
  // Returns an arena storage's block to its arena for reuse within the step (module calls and
  // backward do this for activations, gradients and temporaries that nothing needs any more).
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
  struct Chunk { char* ptr; size_t size; };
  struct FreeRange { size_t size; size_t chunk; };
  // Free ranges of the arena's chunks, never spanning two: by address to merge neighbours on
  // release, by size for best fit. `used` counts the bytes handed out and not yet released.
  struct Arena {
    std::vector<Chunk> chunks;
    std::map<char*, FreeRange> freeByAddress;
    std::multimap<size_t, char*> freeBySize;
    size_t used = 0;
  };
  struct Block { size_t bytes; size_t chunk; };
  struct Usage { int64_t persistent = 0, peak = 0; };
  void* arenaAlloc(Backend& backend, size_t bytes, size_t& chunk);
  void growArena(Backend& backend, Arena& a, size_t bytes);
  static void addFree(Arena& a, char* ptr, size_t size, size_t chunk);
  static void takeFree(Arena& a, std::map<char*, FreeRange>::iterator range);
  void checkLimit(Backend& backend, size_t bytes) const;
  void notePeak(Backend& backend);

  std::unordered_map<int64_t, Storage> live_;
  std::unordered_map<int64_t, Block> arenaBlocks_;
  std::vector<int64_t> arenaIds_;
  std::unordered_map<Backend*, Arena> arenas_;
  std::unordered_map<Backend*, Usage> usage_;
  int64_t nextId_ = 1;
  int64_t generation_ = 0;
};

Registry& registry();

}  // namespace ar
