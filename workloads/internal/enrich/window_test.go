package enrich

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestWindowHours(t *testing.T) {
	w := Window{From: ts("2024-05-01T10:20:00Z"), To: ts("2024-05-01T12:00:00Z")}
	if got := w.Hours(); len(got) != 2 || !got[0].Equal(ts("2024-05-01T10:00:00Z")) || !got[1].Equal(ts("2024-05-01T11:00:00Z")) {
		t.Errorf("Hours() = %v", got)
	}
	w.To = ts("2024-05-01T12:00:01Z")
	if got := w.EndHour(); !got.Equal(ts("2024-05-01T13:00:00Z")) {
		t.Errorf("EndHour() = %v", got)
	}
	if got := len(partitions(w)); got != 3*contract.HourShards {
		t.Errorf("%d partitions, want %d", got, 3*contract.HourShards)
	}
}

func TestWindowValidate(t *testing.T) {
	now := ts("2024-05-01T10:37:00Z")
	good := Window{From: ts("2024-05-01T10:00:00Z"), To: ts("2024-05-01T10:38:00Z")}
	if err := good.Validate(now); err != nil {
		t.Errorf("demo-style window ending in the next minute: %v", err)
	}
	for _, w := range []Window{
		{From: good.To, To: good.From},
		{From: good.From, To: good.From},
		{From: good.From.Add(-40 * 24 * time.Hour), To: good.From},
		{From: good.From, To: now.Add(time.Hour)},
		{To: good.To},
	} {
		if err := w.Validate(now); err == nil {
			t.Errorf("window %s accepted", w)
		}
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]string{
		"2024-05-01T10:00:00Z":      "2024-05-01T10:00:00Z",
		"2024-05-01T12:00:00+02:00": "2024-05-01T10:00:00Z",
		"2024-05-01":                "2024-05-01T00:00:00Z",
	} {
		got, err := ParseTime(in)
		if err != nil || !got.Equal(ts(want)) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseTime("yesterday"); err == nil {
		t.Error("ParseTime accepted yesterday")
	}
}

func TestPlanDefault(t *testing.T) {
	now := ts("2024-05-01T10:03:00Z")
	settle := 2 * time.Minute
	hour := func(s string) Window { return Window{From: ts(s), To: ts(s).Add(time.Hour)} }

	// A new deployment: only the last completed hour.
	got := PlanDefault(nil, nil, now, settle, 24*time.Hour)
	if len(got) != 1 || got[0] != hour("2024-05-01T09:00:00Z") {
		t.Errorf("first run: %v", got)
	}
	// Within the settle time the hour that just ended is not complete.
	got = PlanDefault(nil, nil, ts("2024-05-01T10:01:00Z"), settle, 24*time.Hour)
	if len(got) != 1 || got[0] != hour("2024-05-01T08:00:00Z") {
		t.Errorf("inside settle: %v", got)
	}
	// Up to date.
	first := ts("2024-05-01T06:00:00Z")
	done := []Window{{From: first, To: ts("2024-05-01T10:00:00Z")}}
	if got := PlanDefault(done, &first, now, settle, 24*time.Hour); len(got) != 0 {
		t.Errorf("up to date: %v", got)
	}
	// A gap, a partial run (the demo's) that does not count, and the hours
	// before the first run are left alone.
	done = []Window{hour("2024-05-01T06:00:00Z"), hour("2024-05-01T08:00:00Z"),
		{From: ts("2024-05-01T09:00:00Z"), To: ts("2024-05-01T09:40:00Z")}}
	got = PlanDefault(done, &first, now, settle, 24*time.Hour)
	if len(got) != 2 || got[0] != hour("2024-05-01T07:00:00Z") || got[1] != hour("2024-05-01T09:00:00Z") {
		t.Errorf("gap and partial: %v", got)
	}
	// A job down for two days catches up only the horizon.
	old := ts("2024-04-20T00:00:00Z")
	got = PlanDefault([]Window{hour("2024-04-20T00:00:00Z")}, &old, now, settle, 3*time.Hour)
	if len(got) != 3 || got[0] != hour("2024-05-01T07:00:00Z") {
		t.Errorf("catch-up horizon: %v", got)
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		"POSTGRES_URL": "postgres://u:p@127.0.0.1:15432/sluice?sslmode=disable", "CASSANDRA_HOSTS": "127.0.0.1",
		"ENRICH_MODELS_URL": "/tmp/models.parquet",
	}
	c, err := ConfigFromEnv(envconfig.NewFrom(envconfig.FromMap(env)))
	if err != nil {
		t.Fatal(err)
	}
	if c.PageSize != 5000 || c.ReadConcurrency != 8 || c.Postgres.MaxConns < 2 || c.WorkMem != "256MB" {
		t.Errorf("defaults: %+v", c)
	}
	env["ENRICH_WORK_MEM"] = "lots"
	env["ENRICH_HEARTBEAT"] = "5m"
	delete(env, "ENRICH_MODELS_URL")
	_, err = ConfigFromEnv(envconfig.NewFrom(envconfig.FromMap(env)))
	if !errors.Is(err, envconfig.ErrInvalidConfig) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"ENRICH_MODELS_URL is required", "ENRICH_WORK_MEM", "ENRICH_STALE_AFTER"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v does not mention %s", err, want)
		}
	}
}

func TestStageSourceReportsTheReadError(t *testing.T) {
	batches := make(chan [][]any, 2)
	batches <- [][]any{{1}, {2}}
	close(batches)
	readErr := errors.New("cassandra gone")
	s := &stageSource{ctx: context.Background(), batches: batches, readErr: func() error { return readErr }}
	var n int
	for s.Next() {
		v, err := s.Values()
		if err != nil || v[0] != n+1 {
			t.Fatalf("row %d: %v, %v", n, v, err)
		}
		n++
	}
	if n != 2 || !errors.Is(s.Err(), readErr) {
		t.Errorf("read %d rows, err %v", n, s.Err())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s = &stageSource{ctx: ctx, batches: make(chan [][]any), readErr: func() error { return nil }}
	if s.Next() || !errors.Is(s.Err(), context.Canceled) {
		t.Errorf("cancelled source: next row or err %v", s.Err())
	}
}

func TestPlanMissed(t *testing.T) {
	now := ts("2024-05-01T10:03:00Z")
	settle := 2 * time.Minute
	hour := func(s string) Window { return Window{From: ts(s), To: ts(s).Add(time.Hour)} }
	if got := PlanMissed(nil, nil, now, settle, 3*time.Hour); got != nil {
		t.Errorf("a new deployment misses nothing: %v", got)
	}
	// Down since 2024-04-30T20:00 with a 3-hour catch-up: 21:00 to 07:00
	// are left out (one run at 23:00 in between), 07:00–10:00 are due.
	first := ts("2024-04-30T20:00:00Z")
	done := []Window{hour("2024-04-30T20:00:00Z"), hour("2024-04-30T23:00:00Z")}
	got := PlanMissed(done, &first, now, settle, 3*time.Hour)
	want := []Window{{From: ts("2024-04-30T21:00:00Z"), To: ts("2024-04-30T23:00:00Z")}, {From: ts("2024-05-01T00:00:00Z"), To: ts("2024-05-01T07:00:00Z")}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("missed %v, want %v", got, want)
	}
	due := PlanDefault(done, &first, now, settle, 3*time.Hour)
	if len(due) != 3 || due[0] != hour("2024-05-01T07:00:00Z") {
		t.Errorf("due %v", due)
	}
	// Missed and due never overlap, and together with the done hours they
	// are every completed hour since the first run.
	seen := map[time.Time]int{}
	for _, group := range [][]Window{got, due, done} {
		for _, w := range group {
			for _, h := range w.Hours() {
				seen[h]++
			}
		}
	}
	for h := first; h.Before(ts("2024-05-01T10:00:00Z")); h = h.Add(time.Hour) {
		if seen[h] != 1 {
			t.Errorf("hour %s planned %d times", h, seen[h])
		}
	}
	// The look-back is bounded.
	ancient := now.Add(-90 * 24 * time.Hour)
	got = PlanMissed(nil, &ancient, now, settle, 3*time.Hour)
	if len(got) != 1 || got[0].From.Before(now.Add(-MaxMissedLookback-time.Hour)) {
		t.Errorf("unbounded look-back: %v", got)
	}
}
