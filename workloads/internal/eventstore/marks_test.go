package eventstore

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestHourMarkerWritesOncePerHourAndRefresh(t *testing.T) {
	var mu sync.Mutex
	writes := map[time.Time][]time.Time{}
	m := newHourMarker(time.Second, func(_ context.Context, hour, at time.Time) error {
		mu.Lock()
		defer mu.Unlock()
		writes[hour] = append(writes[hour], at)
		return nil
	})
	clock := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var now atomic.Pointer[time.Time]
	now.Store(&clock)
	m.now = func() time.Time { return *now.Load() }

	h1, h2 := clock.Add(-time.Hour), clock
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := h1
			if i%2 == 1 {
				h = h2
			}
			if err := m.ensure(context.Background(), h); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(writes[h1]) != 1 || len(writes[h2]) != 1 {
		t.Fatalf("64 concurrent writers of two hours wrote marks %v, want one per hour", writes)
	}
	// Within the refresh nothing is written; after it, one new mark that
	// carries the later time.
	later := clock.Add(999 * time.Millisecond)
	now.Store(&later)
	_ = m.ensure(context.Background(), h1)
	if len(writes[h1]) != 1 {
		t.Fatalf("a mark %s old was rewritten", later.Sub(clock))
	}
	later = clock.Add(time.Second)
	now.Store(&later)
	_ = m.ensure(context.Background(), h1)
	if got := writes[h1]; len(got) != 2 || !got[1].Equal(later) {
		t.Fatalf("after the refresh: marks %v, want a second one at %s", got, later)
	}
}

func TestHourMarkerFailedWriteIsAnErrorAndRetried(t *testing.T) {
	fail := errors.New("write timeout")
	calls := 0
	m := newHourMarker(time.Hour, func(context.Context, time.Time, time.Time) error {
		calls++
		if calls == 1 {
			return fail
		}
		return nil
	})
	h := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	if err := m.ensure(context.Background(), h); !errors.Is(err, fail) {
		t.Fatalf("first ensure: %v, want the write's error", err)
	}
	if err := m.ensure(context.Background(), h); err != nil || calls != 2 {
		t.Fatalf("second ensure: %v after %d writes, want a retried write", err, calls)
	}
	if err := m.ensure(context.Background(), h); err != nil || calls != 2 {
		t.Fatalf("third ensure wrote again (%d writes): the acknowledged mark was forgotten", calls)
	}
}

func TestHourMarkerRemembersABoundedNumberOfHours(t *testing.T) {
	m := newHourMarker(time.Hour, func(context.Context, time.Time, time.Time) error { return nil })
	clock := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	m.now = func() time.Time { clock = clock.Add(time.Millisecond); return clock }
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 * maxMarkedHours {
		if err := m.ensure(context.Background(), base.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(m.hours); n > maxMarkedHours {
		t.Fatalf("%d hours remembered, bound %d", n, maxMarkedHours)
	}
	// The latest hour is still remembered: no second write.
	writes := 0
	m.write = func(context.Context, time.Time, time.Time) error { writes++; return nil }
	_ = m.ensure(context.Background(), base.Add(time.Duration(3*maxMarkedHours-1)*time.Hour))
	if writes != 0 {
		t.Error("the most recently marked hour was forgotten")
	}
}
