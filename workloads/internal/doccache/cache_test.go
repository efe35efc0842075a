package doccache

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestNewRefusesNonPositiveBounds(t *testing.T) {
	for _, b := range []struct {
		entries int
		bytes   int64
	}{{0, 1 << 20}, {100, 0}, {-1, 1 << 20}, {100, -1}} {
		if _, err := New(b.entries, b.bytes); err == nil {
			t.Errorf("New(%d, %d) accepted", b.entries, b.bytes)
		}
	}
}

func TestGetPutAndMiss(t *testing.T) {
	c, err := New(100, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get("a"); ok {
		t.Fatal("empty cache hit")
	}
	if !c.Put("a", `{"id":"a"}`) {
		t.Fatal("small document not held")
	}
	if v, ok := c.Get("a"); !ok || v != `{"id":"a"}` {
		t.Fatalf("get a: %q %v", v, ok)
	}
	// A key held keeps its document and its cost is counted once.
	c.Put("a", `{"id":"a"}`)
	if st := c.Stats(); st.Entries != 1 || st.Bytes != int64(len("a")+len(`{"id":"a"}`))+EntryOverhead {
		t.Fatalf("stats %+v", st)
	}
	if _, ok := c.Get("b"); ok {
		t.Fatal("b was never put")
	}
}

func TestEntryBound(t *testing.T) {
	c, err := New(10, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		c.Put(fmt.Sprint("k", i), "v")
		if st := c.Stats(); st.Entries > 10 {
			t.Fatalf("after %d puts: %d entries, bound 10", i+1, st.Entries)
		}
	}
	st := c.Stats()
	if st.Entries != 10 || st.Evictions != 90 {
		t.Fatalf("stats %+v, want 10 entries and 90 evictions", st)
	}
	// The newest put is held.
	if _, ok := c.Get("k99"); !ok {
		t.Fatal("the last put was evicted")
	}
}

func TestByteBound(t *testing.T) {
	const maxBytes = 10 * (EntryOverhead + 100)
	c, err := New(1000, maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Repeat("x", 98) // with a two-byte key, 100 bytes
	for i := range 50 {
		c.Put(fmt.Sprintf("%02d", i), doc)
		if st := c.Stats(); st.Bytes > maxBytes {
			t.Fatalf("after %d puts: %d bytes, bound %d", i+1, st.Bytes, maxBytes)
		}
	}
	if st := c.Stats(); st.Entries != 10 {
		t.Fatalf("%d entries, want the 10 that fit", st.Entries)
	}
	if c.Put("big", strings.Repeat("x", maxBytes)) {
		t.Fatal("a document over the byte bound was held")
	}
	if _, ok := c.Get("big"); ok {
		t.Fatal("a document over the byte bound is served")
	}
}

// CLOCK spares what was read since the hand last passed: a hot key
// survives a stream of keys read once.
func TestSecondChanceKeepsHotEntries(t *testing.T) {
	c, err := New(8, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	c.Put("hot", "h")
	for i := range 1000 {
		if _, ok := c.Get("hot"); !ok {
			t.Fatalf("hot key evicted after %d cold puts", i)
		}
		c.Put(fmt.Sprint("cold", i), "c")
	}
}

func TestShardsShareTheBounds(t *testing.T) {
	c, err := New(100_000, 32<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.shards) != maxShards {
		t.Fatalf("%d shards, want %d", len(c.shards), maxShards)
	}
	var entries int
	var bytes int64
	for i := range c.shards {
		entries += c.shards[i].maxEntries
		bytes += c.shards[i].maxBytes
	}
	if entries > 100_000 || bytes > 32<<20 {
		t.Fatalf("shard bounds add up to %d entries, %d bytes", entries, bytes)
	}
	small, err := New(10, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(small.shards) != 1 {
		t.Fatalf("a 10-entry cache in %d shards", len(small.shards))
	}
}

// Many writers and readers at once never take the cache over either bound,
// and every hit returns the document put under its key.
func TestBoundsHoldUnderConcurrency(t *testing.T) {
	const maxEntries, maxBytes = 2000, 400 << 10
	c, err := New(maxEntries, maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	doc := func(k string) string { return k + strings.Repeat("x", len(k)*7) }
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var over sync.Once
	var overErr string
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if st := c.Stats(); st.Entries > maxEntries || st.Bytes > maxBytes {
				over.Do(func() { overErr = fmt.Sprintf("%+v over %d entries / %d bytes", st, maxEntries, maxBytes) })
			}
		}
	}()
	var workers sync.WaitGroup
	bad := make(chan string, 8)
	for w := range 8 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for i := range 20_000 {
				k := fmt.Sprint("key-", (i*7+w*13)%9000)
				if v, ok := c.Get(k); ok {
					if v != doc(k) {
						select {
						case bad <- k:
						default:
						}
						return
					}
					continue
				}
				c.Put(k, doc(k))
			}
		}()
	}
	workers.Wait()
	close(stop)
	wg.Wait()
	close(bad)
	if k, ok := <-bad; ok {
		t.Fatalf("key %s returned another document", k)
	}
	if overErr != "" {
		t.Fatal(overErr)
	}
	st := c.Stats()
	if st.Entries > maxEntries || st.Bytes > maxBytes || st.Evictions == 0 {
		t.Fatalf("final stats %+v", st)
	}
	// What Stats counts is what the shards hold.
	var held int
	var bytes int64
	for i := range c.shards {
		s := &c.shards[i]
		for _, e := range s.ring {
			if e.used {
				held++
				bytes += e.cost()
			}
		}
		if len(s.ring) > s.maxEntries {
			t.Fatalf("shard %d has %d slots, bound %d", i, len(s.ring), s.maxEntries)
		}
	}
	if held != st.Entries || bytes != st.Bytes {
		t.Fatalf("held %d entries, %d bytes; stats say %+v", held, bytes, st)
	}
}

// The byte bound is the memory a full cache holds: filled to its byte bound
// with event-sized documents, the heap grows by about that much.
func TestBytesTrackTheHeap(t *testing.T) {
	const maxBytes = 32 << 20
	before := heap()
	c, err := New(1_000_000, maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("y", 175) // documents of 228 bytes, as events are
	for i := 0; c.Stats().Evictions == 0; i++ {
		// The key and document are built fresh, as a Redis read makes them.
		id := fmt.Sprintf("0193a1b2-7c3d-7e4f-8a5b-%012d", i)
		c.Put(id, `{"id":"`+id+`","doc":"`+body+`"}`)
	}
	grown := float64(heap() - before)
	st := c.Stats()
	ratio := grown / float64(st.Bytes)
	t.Logf("%d entries, %d bytes counted, heap grew %.0f bytes (%.2f×)", st.Entries, st.Bytes, grown, ratio)
	if ratio < 0.8 || ratio > 1.2 {
		t.Fatalf("the heap grew %.2f× the bytes counted; EntryOverhead (%d) is off", ratio, EntryOverhead)
	}
	runtime.KeepAlive(c)
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
