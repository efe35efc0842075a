package main

import (
	"testing"
	"time"
)

func TestVisibleLagsTakesEachRowsEventsInEventTimeOrder(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	a := minuteKey{"s1", "co2", "ppm", t0}
	b := minuteKey{"s2", "co2", "ppm", t0}
	sec := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Second))) }
	produced := map[minuteKey][]time.Time{
		a: {sec(3), sec(1), sec(2)}, // out of order on purpose
		b: {sec(1), sec(2)},
	}
	seen := map[minuteKey][]sighting{
		a: {{sec(6), 2}, {sec(11), 3}},
		b: {{sec(7), 1}}, // the second event of b is never counted
	}
	got, missing := visibleLags(produced, seen, t0)
	if missing != 1 {
		t.Errorf("missing = %d, want 1", missing)
	}
	want := []visibility{{sec(1), 5 * time.Second}, {sec(1), 6 * time.Second}, {sec(2), 4 * time.Second}, {sec(3), 8 * time.Second}}
	if len(got) != len(want) {
		t.Fatalf("got %d lags %v, want %d", len(got), got, len(want))
	}
	// Events of the same time may come in either order.
	if got[0].lag+got[1].lag != want[0].lag+want[1].lag || got[2] != want[2] || got[3] != want[3] {
		t.Errorf("got %v, want %v", got, want)
	}

	// Events before from count for missing but are not measured.
	got, missing = visibleLags(produced, seen, sec(2.5))
	if missing != 1 || len(got) != 1 || got[0].lag != 8*time.Second {
		t.Errorf("from 2.5 s: got %v, missing %d; want one lag of 8 s, missing 1", got, missing)
	}

	// A row never seen is missing entirely.
	if _, missing := visibleLags(produced, map[minuteKey][]sighting{}, t0); missing != 5 {
		t.Errorf("nothing seen: missing = %d, want 5", missing)
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0, time.Millisecond}} {
		if got := percentile(d, c.q); got != c.want {
			t.Errorf("p%v = %s, want %s", c.q*100, got, c.want)
		}
	}
	if got := percentile(nil, 0.99); got != 0 {
		t.Errorf("empty: %s", got)
	}
	if got := percentile([]time.Duration{7}, 0.99); got != 7 {
		t.Errorf("one sample: %s", got)
	}
}

func TestLagDriftSeesAGrowingBacklog(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	steady, growing := make([]visibility, 100), make([]visibility, 100)
	for i := range steady {
		at := t0.Add(time.Duration(i) * 100 * time.Millisecond)
		steady[i] = visibility{at, time.Duration(3000+(i%5)*500) * time.Millisecond} // 3–5 s, no trend
		growing[i] = visibility{at, time.Duration(3000+i*200) * time.Millisecond}    // 200 ms more per event
	}
	if d := lagDrift(steady); d < -time.Second || d > time.Second {
		t.Errorf("steady drift = %s, want about 0", d)
	}
	if d := lagDrift(growing); d < 10*time.Second {
		t.Errorf("growing drift = %s, want ≥ 10 s", d)
	}
	if d := lagDrift(steady[:3]); d != 0 {
		t.Errorf("too few samples: drift %s, want 0", d)
	}
}

func TestSparkTargets(t *testing.T) {
	trigger := 5 * time.Second
	good := sparkFigures{eventsPerS: 4000, backlogCounted: 10, backlog: 10, steadyCounted: 7, steadyAcked: 7,
		p99: 10 * time.Second, drift: 5 * time.Second, samples: 7}
	for _, tg := range sparkTargets(good, 2000, trigger) {
		if !tg.met {
			t.Errorf("on the boundary: %q missed", tg.name)
		}
	}
	bad := []struct {
		name   string
		change func(*sparkFigures)
		missed int // index of the target that must miss
	}{
		{"slow", func(f *sparkFigures) { f.eventsPerS = 3999 }, 0},
		{"backlog short", func(f *sparkFigures) { f.backlogCounted = 9 }, 1},
		{"backlog counted twice", func(f *sparkFigures) { f.backlogCounted = 11 }, 1},
		{"no backlog", func(f *sparkFigures) { f.backlog, f.backlogCounted = 0, 0 }, 1},
		{"steady short", func(f *sparkFigures) { f.steadyCounted = 6 }, 2},
		{"p99 over", func(f *sparkFigures) { f.p99 = 10*time.Second + time.Millisecond }, 3},
		{"no samples", func(f *sparkFigures) { f.samples, f.p99, f.drift = 0, 0, 0 }, 3},
		{"drifting", func(f *sparkFigures) { f.drift = 5*time.Second + time.Millisecond }, 4},
	}
	for _, c := range bad {
		f := good
		c.change(&f)
		got := sparkTargets(f, 2000, trigger)
		if got[c.missed].met {
			t.Errorf("%s: %q met", c.name, got[c.missed].name)
		}
		for i, tg := range got {
			if i != c.missed && !tg.met && !(c.name == "no samples" && i == 4) {
				t.Errorf("%s: %q missed too", c.name, tg.name)
			}
		}
	}
}

func TestParseBatchesSumsEachQuerysBatches(t *testing.T) {
	log := `2026-12-02T07:13:20,001 INFO StreamJob: stream job started: 2 from t to k.site_minutes and k.silent_devices
2026-12-02T07:13:25,838 WARN ProcessingTimeExecutor: Current batch is falling behind. The trigger interval is 5000 milliseconds, but spent 5838 milliseconds
2026-12-02T07:13:25,839 INFO StreamJob: query site-minutes batch 22 done: 4143 rows in 5832 ms, watermark 2026-12-02T07:11:14.998Z
2026-12-02T07:13:26,180 INFO StreamJob: query silent-devices batch 21 done: 0 rows in 1176 ms, watermark 2026-12-02T07:11:17.069Z
2026-12-02T07:13:31,000 INFO StreamJob: query site-minutes batch 23 done: 857 rows in 2168 ms, watermark none
2026-12-02T07:13:32,000 INFO StreamJob: query site-minutes idle: no new data
2026-12-02T07:13:33,000 INFO StreamJob: query site-minutes batch 24 done: broken line`
	got := parseBatches(log)
	want := map[string]batchStats{
		"site-minutes":   {batches: 2, rows: 5000, totalMS: 8000, maxMS: 5832},
		"silent-devices": {batches: 1, rows: 0, totalMS: 1176, maxMS: 1176},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: got %+v, want %+v", k, got[k], w)
		}
	}
}

func TestReadAllAtIsTheStampOfTheBatchThatReadTheLastRecord(t *testing.T) {
	log := `2026-12-02T07:13:25,839 INFO StreamJob: query site-minutes batch 22 done: 4143 rows in 5832 ms, watermark none
2026-12-02T07:13:26,180 INFO StreamJob: query silent-devices batch 21 done: 3000 rows in 1176 ms, watermark none
2026-12-02T07:13:31,250 INFO StreamJob: query silent-devices batch 22 done: 2000 rows in 1176 ms, watermark none
2026-12-02T07:13:36,000 INFO StreamJob: query silent-devices batch 23 done: 10 rows in 1176 ms, watermark none`
	at, ok := readAllAt(log, "silent-devices", 5000)
	want := time.Date(2026, 12, 2, 7, 13, 31, 250_000_000, time.Local)
	if !ok || !at.Equal(want) {
		t.Errorf("got %s %v, want %s", at, ok, want)
	}
	if _, ok := readAllAt(log, "silent-devices", 5011); ok {
		t.Error("found a batch past everything read")
	}
	if _, ok := readAllAt(log, "site-minutes", 5000); ok {
		t.Error("site-minutes read only 4143")
	}
}
