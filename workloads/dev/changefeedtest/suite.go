package changefeedtest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/internal/changefeed"
)

// Harness is one fresh feed range under test.
type Harness interface {
	// Devices returns at least three device names whose changes belong
	// to the range under test.
	Devices() []string
	// Write stores events (a repeated id is an update); each becomes a
	// change of the range.
	Write(t testing.TB, events ...contract.Stored)
	// Open returns a Source on the range that resumes from cp.
	Open(t testing.TB, cp changefeed.Checkpoints) changefeed.Source
	// Settle waits until every change written so far is past any window
	// in which the source may still deliver it again after a restart.
	Settle(t testing.TB)
}

// Factory returns a fresh harness for one subtest.
type Factory func(t *testing.T) Harness

// RunSuite runs the change-feed contract against a source.
func RunSuite(t *testing.T, newHarness Factory) {
	t.Run("DeliversEveryChangeInDeviceOrder", func(t *testing.T) { deliversEveryChange(t, newHarness(t)) })
	t.Run("EmptyBatchWhenCaughtUp", func(t *testing.T) { emptyWhenCaughtUp(t, newHarness(t)) })
	t.Run("ResumesAfterCommitWithoutReplay", func(t *testing.T) { resumesAfterCommit(t, newHarness(t)) })
	t.Run("RedeliversUncommitted", func(t *testing.T) { redeliversUncommitted(t, newHarness(t)) })
	t.Run("LatestVersionWins", func(t *testing.T) { latestVersionWins(t, newHarness(t)) })
	t.Run("WritesWhileReading", func(t *testing.T) { writesWhileReading(t, newHarness(t)) })
}

// timeout bounds every wait of the suite.
const timeout = 60 * time.Second

// events makes n events on the harness' devices with increasing times.
func events(h Harness, n int, severity string) []contract.Stored {
	devs := h.Devices()
	base := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	out := make([]contract.Stored, n)
	for i := range out {
		out[i] = contract.Stored{Event: contract.Event{
			V: contract.SchemaVersion, ID: uuid.Must(uuid.NewV7()).String(), Site: "cf-site", Device: devs[i%len(devs)],
			Kind: "temperature", Value: float64(i), Unit: "C", Severity: severity, At: base.Add(time.Duration(i) * time.Millisecond),
		}, IngestedAt: time.Now().UTC().Truncate(time.Millisecond)}
	}
	return out
}

func ids(evs []contract.Stored) map[string]bool {
	m := make(map[string]bool, len(evs))
	for _, e := range evs {
		m[e.ID] = true
	}
	return m
}

// reader keeps what a source delivered.
type reader struct {
	t    testing.TB
	src  changefeed.Source
	got  []changefeed.Change
	last changefeed.Batch
}

// next reads one batch and fails the test on an error.
func (r *reader) next() changefeed.Batch {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := r.src.Next(ctx)
	if err != nil {
		r.t.Fatalf("Next: %v", err)
	}
	r.got = append(r.got, b.Changes...)
	r.last = b
	return b
}

// until reads until every id in want was delivered.
func (r *reader) until(want map[string]bool) {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		have := map[string]bool{}
		for _, c := range r.got {
			have[c.Event.ID] = true
		}
		missing := 0
		for id := range want {
			if !have[id] {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%d of %d changes not delivered within %s", missing, len(want), timeout)
		}
		if len(r.next().Changes) == 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// drain reads until an empty batch comes back.
func (r *reader) drain() {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for len(r.next().Changes) > 0 {
		if time.Now().After(deadline) {
			r.t.Fatalf("source kept returning changes for %s", timeout)
		}
	}
}

func (r *reader) commit() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.src.Commit(ctx, r.last); err != nil {
		r.t.Fatalf("Commit: %v", err)
	}
}

func deliversEveryChange(t *testing.T, h Harness) {
	cp := &MemoryCheckpoints{}
	r := &reader{t: t, src: h.Open(t, cp)}
	r.next()
	evs := events(h, 60, contract.SeverityCritical)
	h.Write(t, evs...)
	r.until(ids(evs))
	count := map[string]int{}
	lastAt := map[string]time.Time{}
	for _, c := range r.got {
		count[c.Event.ID]++
		if prev, ok := lastAt[c.Event.Device]; ok && !c.Event.At.After(prev) {
			t.Errorf("device %s: change at %s delivered after one at %s", c.Event.Device, c.Event.At, prev)
		}
		lastAt[c.Event.Device] = c.Event.At
		if c.IngestedAt.IsZero() {
			t.Errorf("change %s has no ingestion time", c.Event.ID)
		}
	}
	want := map[string]contract.Stored{}
	for _, e := range evs {
		want[e.ID] = e
	}
	for _, c := range r.got {
		w, ok := want[c.Event.ID]
		if !ok {
			t.Errorf("delivered a change that was never written: %s", c.Event.ID)
			continue
		}
		if count[c.Event.ID] > 1 {
			t.Errorf("change %s delivered %d times by one source", c.Event.ID, count[c.Event.ID])
		}
		if !c.Event.At.Equal(w.At) || c.Event.Value != w.Value || c.Event.Site != w.Site || c.Event.Severity != w.Severity {
			t.Errorf("change %s = %+v, want %+v", c.Event.ID, c.Event, w.Event)
		}
	}
}

func emptyWhenCaughtUp(t *testing.T, h Harness) {
	r := &reader{t: t, src: h.Open(t, &MemoryCheckpoints{})}
	r.next()
	evs := events(h, 10, contract.SeverityInfo)
	h.Write(t, evs...)
	r.until(ids(evs))
	r.drain()
	for i := 0; i < 3; i++ {
		start := time.Now()
		if b := r.next(); len(b.Changes) != 0 {
			t.Fatalf("caught-up source returned %d changes", len(b.Changes))
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("an empty Next took %s; it must return, not wait for changes", d)
		}
	}
}

func resumesAfterCommit(t *testing.T, h Harness) {
	cp := &MemoryCheckpoints{}
	r := &reader{t: t, src: h.Open(t, cp)}
	r.next()
	a := events(h, 20, contract.SeverityWarning)
	h.Write(t, a...)
	r.until(ids(a))
	r.commit()
	h.Settle(t)
	r.drain()
	r.commit()
	if cp.Saves() == 0 {
		t.Fatal("Commit did not save a position")
	}

	r2 := &reader{t: t, src: h.Open(t, cp)}
	b := events(h, 20, contract.SeverityWarning)
	h.Write(t, b...)
	r2.until(ids(b))
	old := ids(a)
	for _, c := range r2.got {
		if old[c.Event.ID] {
			t.Fatalf("change %s was committed before the restart and delivered again", c.Event.ID)
		}
	}
}

func redeliversUncommitted(t *testing.T, h Harness) {
	cp := &MemoryCheckpoints{}
	r := &reader{t: t, src: h.Open(t, cp)}
	r.next()
	r.commit() // the starting point
	a := events(h, 15, contract.SeverityCritical)
	h.Write(t, a...)
	r.until(ids(a))
	// No commit: a crash here must deliver a again.
	r2 := &reader{t: t, src: h.Open(t, cp)}
	r2.until(ids(a))
}

func latestVersionWins(t *testing.T, h Harness) {
	r := &reader{t: t, src: h.Open(t, &MemoryCheckpoints{})}
	r.next()
	evs := events(h, 3, contract.SeverityCritical)
	h.Write(t, evs...)
	upd := evs[1]
	upd.Value = 999
	upd.IngestedAt = upd.IngestedAt.Add(time.Millisecond)
	h.Write(t, upd)
	marker := events(h, 1, contract.SeverityInfo)
	h.Write(t, marker...)
	r.until(ids(append(evs, marker...)))
	var versions []float64
	for _, c := range r.got {
		if c.Event.ID == upd.ID {
			versions = append(versions, c.Event.Value)
		}
	}
	if len(versions) == 0 || versions[len(versions)-1] != 999 {
		t.Fatalf("versions of the updated event delivered: %v; the last must be the update (999)", versions)
	}
}

func writesWhileReading(t *testing.T, h Harness) {
	r := &reader{t: t, src: h.Open(t, &MemoryCheckpoints{})}
	r.next()
	var wg sync.WaitGroup
	wg.Add(1)
	evs := events(h, 200, contract.SeverityCritical)
	go func() {
		defer wg.Done()
		for i := 0; i < len(evs); i += 20 {
			h.Write(t, evs[i:i+20]...)
			time.Sleep(25 * time.Millisecond)
		}
	}()
	r.until(ids(evs))
	wg.Wait()
	lastAt := map[string]time.Time{}
	for _, c := range r.got {
		if prev, ok := lastAt[c.Event.Device]; ok && !c.Event.At.After(prev) {
			t.Errorf("device %s out of order: %s after %s", c.Event.Device, c.Event.At, prev)
		}
		lastAt[c.Event.Device] = c.Event.At
	}
}

// MemoryCheckpoints keeps one position in memory.
type MemoryCheckpoints struct {
	mu    sync.Mutex
	pos   []byte
	saves int
}

// Load implements changefeed.Checkpoints.
func (m *MemoryCheckpoints) Load(context.Context) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pos == nil {
		return nil, nil
	}
	return append([]byte(nil), m.pos...), nil
}

// Save implements changefeed.Checkpoints.
func (m *MemoryCheckpoints) Save(_ context.Context, p []byte) error {
	if len(p) == 0 {
		return fmt.Errorf("save an empty position: %w", changefeed.ErrBadPosition)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pos = append([]byte(nil), p...)
	m.saves++
	return nil
}

// Saves counts the positions saved.
func (m *MemoryCheckpoints) Saves() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.saves
}
