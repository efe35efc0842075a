package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDelayGrowsAndIsCapped(t *testing.T) {
	p := Policy{Base: 10 * time.Millisecond, Max: 80 * time.Millisecond}
	for n := 1; n <= 10; n++ {
		ceiling := 10 * time.Millisecond << (n - 1)
		if ceiling > p.Max {
			ceiling = p.Max
		}
		for i := 0; i < 200; i++ {
			d := p.Delay(n)
			if d <= 0 || d > ceiling {
				t.Fatalf("Delay(%d) = %s, want in (0, %s]", n, d, ceiling)
			}
		}
	}
}

func TestDoRetriesTransientThenSucceeds(t *testing.T) {
	p := Policy{Base: time.Millisecond, Max: 2 * time.Millisecond}
	calls, retries := 0, 0
	err := p.Do(context.Background(), func(context.Context) error {
		calls++
		if calls < 4 {
			return errors.New("busy")
		}
		return nil
	}, func(error) Verdict { return Verdict{Retry: true} }, func(int, error, time.Duration) { retries++ })
	if err != nil || calls != 4 || retries != 3 {
		t.Fatalf("err=%v calls=%d retries=%d, want nil 4 3", err, calls, retries)
	}
}

func TestDoStopsOnPermanentError(t *testing.T) {
	perm := errors.New("syntax error")
	calls := 0
	err := Default.Do(context.Background(), func(context.Context) error { calls++; return perm },
		func(error) Verdict { return Verdict{} }, nil)
	if !errors.Is(err, perm) || calls != 1 {
		t.Fatalf("err=%v calls=%d", err, calls)
	}
}

func TestDoHonoursServerDelayCappedAtMax(t *testing.T) {
	p := Policy{Base: time.Millisecond, Max: 30 * time.Millisecond, MaxAttempts: 2}
	var waits []time.Duration
	err := p.Do(context.Background(), func(context.Context) error { return errors.New("429") },
		func(error) Verdict { return Verdict{Retry: true, After: time.Hour} },
		func(_ int, _ error, w time.Duration) { waits = append(waits, w) })
	if !errors.Is(err, ErrGaveUp) {
		t.Fatalf("err = %v, want ErrGaveUp", err)
	}
	if len(waits) != 1 || waits[0] != 30*time.Millisecond {
		t.Fatalf("waits = %v, want [30ms]", waits)
	}
}

func TestDoEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := Policy{Base: time.Hour, Max: time.Hour}
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	err := p.Do(ctx, func(context.Context) error { return errors.New("down") },
		func(error) Verdict { return Verdict{Retry: true} }, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
