// Package doccache is a bounded in-process cache for immutable documents:
// values that never change once written under their key (an event's JSON
// under its id), so a copy held in memory is never stale and needs no
// expiry or invalidation. Anything that can change belongs elsewhere.
//
// The cache is bounded by entries and by bytes at once, and never holds
// more than either bound, whatever the concurrency. Bytes count each
// entry's key and value plus EntryOverhead, an estimate of what the entry
// costs the heap beyond them (the index slot, the ring slot and the string
// headers), so the byte bound is close to the memory the cache holds.
//
// Keys are spread over shards, each with its own lock, its own share of
// both bounds and a CLOCK (second-chance) ring: a hit marks the entry, and
// eviction sweeps the ring, sparing and unmarking marked entries until it
// finds an unmarked one. A hit takes only a read lock and writes the mark
// only when it is not set yet, so entries read over and over cost no
// writes to shared memory.
//
// A miss is not an error: Get reports it, and the caller reads the source
// and may Put the document.
package doccache
