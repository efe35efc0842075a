package doccache

import (
	"errors"
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// EntryOverhead is the heap an entry costs beyond its key's and value's
// bytes, in bytes: its index entry and ring slot (with their growth slack)
// and the allocator's rounding of the value. It is counted against the byte
// bound; TestBytesTrackTheHeap checks it against the heap.
const EntryOverhead = 112

const (
	maxShards = 16
	// A shard is split only while each half keeps this many entries and
	// bytes, so small caches are not cut into slivers that evict early.
	minShardEntries = 64
	minShardBytes   = 64 << 10
)

// Cache is a bounded map of immutable documents, safe for concurrent use.
type Cache struct {
	seed   maphash.Seed
	mask   uint64
	shards []shard
}

type shard struct {
	mu         sync.RWMutex
	index      map[string]int32 // key → slot in ring
	ring       []slot
	free       []int32 // unused slots of ring
	hand       int     // the CLOCK hand: the next slot eviction looks at
	bytes      int64
	evictions  uint64
	maxEntries int
	maxBytes   int64
	_          [64]byte // keeps neighbouring shards' locks off one cache line
}

type slot struct {
	key, val string
	used     bool
	ref      uint32 // atomic: read since the hand last passed
}

func (e *slot) cost() int64 { return int64(len(e.key)+len(e.val)) + EntryOverhead }

// Stats are the cache's current size and its evictions so far.
type Stats struct {
	Entries   int
	Bytes     int64
	Evictions uint64
}

// New makes a cache that holds at most maxEntries documents and maxBytes
// bytes (keys, values and EntryOverhead each); both must be positive.
func New(maxEntries int, maxBytes int64) (*Cache, error) {
	if maxEntries <= 0 || maxBytes <= 0 {
		return nil, errors.New("doccache: the entry and byte bounds must be positive")
	}
	n := 1
	for n < maxShards && maxEntries/(2*n) >= minShardEntries && maxBytes/int64(2*n) >= minShardBytes {
		n *= 2
	}
	c := &Cache{seed: maphash.MakeSeed(), mask: uint64(n - 1), shards: make([]shard, n)}
	for i := range c.shards {
		// Floors: the shards' bounds never add up to more than the
		// cache's.
		c.shards[i] = shard{index: map[string]int32{}, maxEntries: maxEntries / n, maxBytes: maxBytes / int64(n)}
	}
	return c, nil
}

func (c *Cache) shard(key string) *shard {
	return &c.shards[maphash.String(c.seed, key)&c.mask]
}

// Get returns the document held under key; false is a miss.
func (c *Cache) Get(key string) (string, bool) {
	s := c.shard(key)
	s.mu.RLock()
	i, ok := s.index[key]
	var val string
	if ok {
		e := &s.ring[i]
		val = e.val
		// Only the first read since the hand passed writes.
		if atomic.LoadUint32(&e.ref) == 0 {
			atomic.StoreUint32(&e.ref, 1)
		}
	}
	s.mu.RUnlock()
	return val, ok
}

// Put holds val under key, evicting as needed to stay within both bounds,
// and reports whether it is held: a document larger than a shard's share
// of the byte bound is not. Documents are immutable, so a key already held
// keeps its document (val is assumed equal) and is only marked as read.
func (c *Cache) Put(key, val string) bool {
	s := c.shard(key)
	cost := int64(len(key)+len(val)) + EntryOverhead
	if cost > s.maxBytes {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.index[key]; ok {
		atomic.StoreUint32(&s.ring[i].ref, 1)
		return true
	}
	for len(s.index) >= s.maxEntries || s.bytes+cost > s.maxBytes {
		s.evict()
	}
	var i int32
	if n := len(s.free); n > 0 {
		i, s.free = s.free[n-1], s.free[:n-1]
	} else {
		// The ring grows only while the shard is under its entry bound,
		// so it never has more slots than maxEntries.
		s.ring = append(s.ring, slot{})
		i = int32(len(s.ring) - 1)
	}
	s.ring[i] = slot{key: key, val: val, used: true}
	s.index[key] = i
	s.bytes += cost
	return true
}

// evict removes one entry: the first unmarked one from the hand on,
// unmarking the marked ones it passes. The caller holds the write lock and
// the shard holds at least one entry, so at most two turns of the ring
// find one.
func (s *shard) evict() {
	for {
		if s.hand >= len(s.ring) {
			s.hand = 0
		}
		i := s.hand
		s.hand++
		e := &s.ring[i]
		if !e.used {
			continue
		}
		if atomic.LoadUint32(&e.ref) != 0 {
			atomic.StoreUint32(&e.ref, 0)
			continue
		}
		delete(s.index, e.key)
		s.bytes -= e.cost()
		*e = slot{}
		s.free = append(s.free, int32(i))
		s.evictions++
		return
	}
}

// Stats sums the shards.
func (c *Cache) Stats() Stats {
	var st Stats
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		st.Entries += len(s.index)
		st.Bytes += s.bytes
		st.Evictions += s.evictions
		s.mu.RUnlock()
	}
	return st
}
