package devservices

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseWarmup(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"", DefaultWarmupCap}, {" ", DefaultWarmupCap}, {"0", 0}, {"off", 0}, {"OFF", 0}, {"no", 0},
		{"2m", 2 * time.Minute}, {"45s", 45 * time.Second}, {"30", 30 * time.Second},
	} {
		got, err := ParseWarmup(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseWarmup(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"soon", "-5s", "1x"} {
		if _, err := ParseWarmup(bad); err == nil || !strings.Contains(err.Error(), WarmupEnv) {
			t.Errorf("ParseWarmup(%q) err = %v, want one naming %s", bad, err, WarmupEnv)
		}
	}
}

func TestNewReadsWarmupEnv(t *testing.T) {
	t.Setenv(WarmupEnv, "12s")
	m, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got := m.warmupCap(); got != 12*time.Second {
		t.Errorf("cap = %v, want 12s", got)
	}
	t.Setenv(WarmupEnv, "bogus")
	if _, err := New(t.TempDir()); err == nil {
		t.Error("New accepted an invalid " + WarmupEnv)
	}
}

func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

func feed(s *settler, d time.Duration, n int) bool {
	var settled bool
	for i := 0; i < n; i++ {
		settled = s.add(d)
	}
	return settled
}

func TestSettlerWaitsForMinimumEvenWhenFast(t *testing.T) {
	s := newSettler(100, 1000, ms(5), 1.25)
	if feed(s, ms(1), 999) {
		t.Fatal("settled before the minimum number of samples")
	}
	if !feed(s, ms(1), 1) {
		t.Fatal("not settled at the minimum with every window under the threshold")
	}
	if got := s.last("write"); got.Name != "write" || got.P99 != ms(1) || got.P50 != ms(1) {
		t.Errorf("last = %+v", got)
	}
}

func TestSettlerThresholdOnTheLastWindow(t *testing.T) {
	s := newSettler(100, 200, ms(5), 1.25)
	// Falling latencies, as a JIT compiles: 80, 40, 20, 10 ms, then 4 ms.
	for i, d := range []float64{80, 40, 20, 10} {
		if feed(s, ms(d), 100) {
			t.Fatalf("settled in window %d at %v ms, above the threshold and still falling", i, d)
		}
	}
	if !feed(s, ms(4), 100) {
		t.Fatal("not settled after a window under the threshold")
	}
	// Once settled it stays so.
	if !feed(s, ms(100), 100) {
		t.Error("a settled path became unsettled")
	}
}

func TestSettlerP99IgnoresOneOutlierPerWindowButNotTwo(t *testing.T) {
	s := newSettler(100, 100, ms(5), 1.25)
	// 99 fast samples and one slow one: the nearest-rank p99 of 100 is
	// the 99th smallest (index 98), still fast.
	feed(s, ms(1), 99)
	if !s.add(ms(500)) {
		t.Fatal("one outlier in a window of 100 kept it from settling")
	}
	s = newSettler(100, 100, ms(5), 1.25)
	feed(s, ms(1), 98)
	s.add(ms(500))
	if s.add(ms(500)) {
		t.Fatal("two outliers in a window of 100 (its p99) counted as settled")
	}
	if got := s.last("x").P99; got != ms(500) {
		t.Errorf("p99 = %v, want 500ms", got)
	}
}

func TestSettlerPlateauAboveThreshold(t *testing.T) {
	s := newSettler(10, 10, ms(5), 1.25)
	// A busy machine: never under 5 ms, but flat at about 20 ms.
	for i, d := range []float64{100, 60, 21} {
		if feed(s, ms(d), 10) {
			t.Fatalf("settled in window %d", i)
		}
	}
	if feed(s, ms(19), 10) {
		t.Fatal("settled on two flat windows; three are needed")
	}
	if !feed(s, ms(22), 10) {
		t.Fatal("not settled on three windows of 21, 19 and 22 ms (within 1.25×)")
	}
	s = newSettler(10, 10, ms(5), 1.25)
	for _, d := range []float64{30, 24, 20, 16, 13} {
		if feed(s, ms(d), 10) {
			t.Fatalf("settled while still falling by 20%% a window (at %v ms)", d)
		}
	}
}

func TestSettlerLastBeforeAFullWindow(t *testing.T) {
	s := newSettler(100, 100, ms(5), 1.25)
	if got := s.last("read"); got.P99 != 0 || got.Name != "read" {
		t.Errorf("empty last = %+v", got)
	}
	feed(s, ms(3), 10)
	if got := s.last("read"); got.P99 != ms(3) {
		t.Errorf("partial last = %+v, want p99 3ms", got)
	}
}

func TestWarmupString(t *testing.T) {
	w := Warmup{Engine: Cassandra, Took: 21340 * time.Millisecond, Settled: true, Ops: 12000,
		Paths: []PathLatency{{Name: "write", P99: ms(3.12)}, {Name: "read", P99: ms(12.4)}}}
	if got, want := w.String(), "warm (21.3s, write p99 3.1 ms, read p99 12 ms)"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	w.Settled, w.Errors = false, 3
	if got := w.String(); !strings.HasPrefix(got, "warm-up stopped at its cap") || !strings.Contains(got, "3 of 12000 failed") {
		t.Errorf("String = %q", got)
	}
}

func TestRunTimedStopsAndCounts(t *testing.T) {
	var recorded opCounter
	n := 0
	ops, failed := runTimed(context.Background(), 4, func(_ context.Context, _, i int) error {
		if i%2 == 1 {
			return errors.New("timeout")
		}
		return nil
	}, func(time.Duration) { recorded.add(nil) }, func() bool {
		got, _ := recorded.get()
		n = got
		return got >= 100
	})
	// Each worker alternates success and failure: about as many of each.
	if ops < 150 || failed < ops/2-4 || failed > ops/2+4 {
		t.Errorf("ops=%d failed=%d", ops, failed)
	}
	if got, _ := recorded.get(); got != ops-failed || n < 100 {
		t.Errorf("recorded %d of %d ops (%d failed)", got, ops, failed)
	}
	// The cap: a context that ends stops the workers.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	begin := time.Now()
	runTimed(ctx, 2, func(ctx context.Context, _, _ int) error {
		<-ctx.Done()
		return ctx.Err()
	}, func(time.Duration) {}, func() bool { return false })
	if time.Since(begin) > 2*time.Second {
		t.Error("workers outlived their context")
	}
}

// warmService is a fakeService with a warm-up that lasts until ctx ends
// or settles at once.
type warmService struct {
	fakeService
	block  bool
	warmed int
}

func (w *warmService) warmUp(ctx context.Context, status func(string, ...any)) (Warmup, error) {
	w.warmed++
	status("%d batches", 10)
	if w.block {
		<-ctx.Done()
		return Warmup{Ops: 1}, nil
	}
	return Warmup{Settled: true, Ops: 5, Paths: []PathLatency{{Name: "write", P99: ms(2)}}}, nil
}

var _ warmer = (*warmService)(nil)

func waitReadyWith(t *testing.T, m *Manager, svc service, startedHere bool) error {
	t.Helper()
	rec, exited, err := startDetached(exec.Command("sleep", "60"), m.layout.LogFile(svc.engine()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopProcess(context.Background(), rec, syscall.SIGKILL, time.Second) })
	st := starting{svc: svc, rec: rec, begin: time.Now()}
	if startedHere {
		st.exited = exited
	}
	return m.waitReady(context.Background(), st)
}

func TestWaitReadyWarmsOnlyWhatItStarted(t *testing.T) {
	m := newTestManager(t)
	var out bytes.Buffer
	m.SetOutput(&out)
	m.SetWarmup(time.Minute)
	svc := &warmService{fakeService: fakeService{e: Cassandra}}
	if err := waitReadyWith(t, m, svc, false); err != nil {
		t.Fatal(err)
	}
	if svc.warmed != 0 || len(m.Warmups()) != 0 {
		t.Fatalf("warmed an engine another process started (warmed=%d)", svc.warmed)
	}
	if err := waitReadyWith(t, m, svc, true); err != nil {
		t.Fatal(err)
	}
	if svc.warmed != 1 {
		t.Fatalf("warmed = %d after a start, want 1", svc.warmed)
	}
	ws := m.Warmups()
	if len(ws) != 1 || ws[0].Engine != Cassandra || !ws[0].Settled || ws[0].Took <= 0 {
		t.Fatalf("Warmups = %+v", ws)
	}
	if s := out.String(); !strings.Contains(s, "cassandra: warm (") || !strings.Contains(s, "write p99 2.0 ms") ||
		strings.Index(s, "cassandra: warm (") > strings.LastIndex(s, "cassandra: ready (") {
		t.Errorf("output lacks the warm-up line before ready:\n%s", s)
	}
}

func TestWaitReadySkipsWarmupWhenOff(t *testing.T) {
	m := newTestManager(t)
	m.SetWarmup(0)
	svc := &warmService{fakeService: fakeService{e: Cassandra}}
	if err := waitReadyWith(t, m, svc, true); err != nil {
		t.Fatal(err)
	}
	if svc.warmed != 0 {
		t.Errorf("warmed with the warm-up off")
	}
}

func TestWarmupStopsAtItsCap(t *testing.T) {
	m := newTestManager(t)
	m.SetWarmup(200 * time.Millisecond)
	svc := &warmService{fakeService: fakeService{e: Kafka}, block: true}
	begin := time.Now()
	if err := waitReadyWith(t, m, svc, true); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("a 200ms cap took %v", d)
	}
	ws := m.Warmups()
	if len(ws) != 1 || ws[0].Settled || ws[0].Took < 200*time.Millisecond {
		t.Errorf("Warmups = %+v, want one unsettled of at least the cap", ws)
	}
}
