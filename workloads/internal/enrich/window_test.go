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

// covered turns windows into succeeded runs that started five minutes
// after each window ended, numbered from 1.
func covered(ws ...Window) []Covered {
	out := make([]Covered, len(ws))
	for i, w := range ws {
		out[i] = Covered{Window: w, RunID: int64(i + 1), StartedAt: w.To.Add(5 * time.Minute)}
	}
	return out
}

// windowsOf is the windows of a plan, dropping the reasons.
func windowsOf(ds []Due) []Window {
	out := make([]Window, len(ds))
	for i, d := range ds {
		out[i] = d.Window
	}
	return out
}

func TestPlanDefault(t *testing.T) {
	now := ts("2024-05-01T10:03:00Z")
	settle := 2 * time.Minute
	hour := func(s string) Window { return Window{From: ts(s), To: ts(s).Add(time.Hour)} }

	// A new deployment: only the last completed hour.
	got := windowsOf(PlanDefault(nil, nil, nil, now, settle, 24*time.Hour))
	if len(got) != 1 || got[0] != hour("2024-05-01T09:00:00Z") {
		t.Errorf("first run: %v", got)
	}
	// Within the settle time the hour that just ended is not complete.
	got = windowsOf(PlanDefault(nil, nil, nil, ts("2024-05-01T10:01:00Z"), settle, 24*time.Hour))
	if len(got) != 1 || got[0] != hour("2024-05-01T08:00:00Z") {
		t.Errorf("inside settle: %v", got)
	}
	// Up to date.
	first := ts("2024-05-01T06:00:00Z")
	done := covered(Window{From: first, To: ts("2024-05-01T10:00:00Z")})
	if got := PlanDefault(done, &first, nil, now, settle, 24*time.Hour); len(got) != 0 {
		t.Errorf("up to date: %v", got)
	}
	// A gap, a partial run (the demo's) that does not count, and the hours
	// before the first run are left alone.
	done = covered(hour("2024-05-01T06:00:00Z"), hour("2024-05-01T08:00:00Z"),
		Window{From: ts("2024-05-01T09:00:00Z"), To: ts("2024-05-01T09:40:00Z")})
	due := PlanDefault(done, &first, nil, now, settle, 24*time.Hour)
	for _, d := range due {
		if d.Reason != ReasonDue {
			t.Errorf("%s planned as %s, want due", d.Window, d.Reason)
		}
	}
	got = windowsOf(due)
	if len(got) != 2 || got[0] != hour("2024-05-01T07:00:00Z") || got[1] != hour("2024-05-01T09:00:00Z") {
		t.Errorf("gap and partial: %v", got)
	}
	// A job down for two days catches up only the horizon.
	old := ts("2024-04-20T00:00:00Z")
	got = windowsOf(PlanDefault(covered(hour("2024-04-20T00:00:00Z")), &old, nil, now, settle, 3*time.Hour))
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
	if got := PlanMissed(nil, nil, nil, now, settle, 3*time.Hour); got != nil {
		t.Errorf("a new deployment misses nothing: %v", got)
	}
	// Down since 2024-04-30T20:00 with a 3-hour catch-up: 21:00 to 07:00
	// are left out (one run at 23:00 in between), 07:00–10:00 are due.
	first := ts("2024-04-30T20:00:00Z")
	doneHours := []Window{hour("2024-04-30T20:00:00Z"), hour("2024-04-30T23:00:00Z")}
	done := covered(doneHours...)
	got := PlanMissed(done, &first, nil, now, settle, 3*time.Hour)
	want := []Window{{From: ts("2024-04-30T21:00:00Z"), To: ts("2024-04-30T23:00:00Z")}, {From: ts("2024-05-01T00:00:00Z"), To: ts("2024-05-01T07:00:00Z")}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("missed %v, want %v", got, want)
	}
	due := windowsOf(PlanDefault(done, &first, nil, now, settle, 3*time.Hour))
	if len(due) != 3 || due[0] != hour("2024-05-01T07:00:00Z") {
		t.Errorf("due %v", due)
	}
	// Missed and due never overlap, and together with the done hours they
	// are every completed hour since the first run.
	seen := map[time.Time]int{}
	for _, group := range [][]Window{got, due, doneHours} {
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
	got = PlanMissed(nil, &ancient, nil, now, settle, 3*time.Hour)
	if len(got) != 1 || got[0].From.Before(now.Add(-MaxMissedLookback-time.Hour)) {
		t.Errorf("unbounded look-back: %v", got)
	}
}

func TestPlanRedoesHoursThatReceivedRowsAfterTheirRun(t *testing.T) {
	now := ts("2024-05-01T12:03:00Z")
	settle := 2 * time.Minute
	hour := func(s string) Window { return Window{From: ts(s), To: ts(s).Add(time.Hour)} }
	first := ts("2024-05-01T05:00:00Z")
	// Runs 1-6 enriched 05:00-10:00 five minutes after each hour ended;
	// 11:00 is due for the first time.
	done := covered(hour("2024-05-01T05:00:00Z"), hour("2024-05-01T06:00:00Z"), hour("2024-05-01T07:00:00Z"),
		hour("2024-05-01T08:00:00Z"), hour("2024-05-01T09:00:00Z"), hour("2024-05-01T10:00:00Z"))
	// 09:00 was redone at 11:40 after rows came late: run 7.
	done = append(done, Covered{Window: hour("2024-05-01T09:00:00Z"), RunID: 7, StartedAt: ts("2024-05-01T11:40:00Z")})
	marks := Marks{
		// Rows well before the run started: nothing late.
		ts("2024-05-01T06:00:00Z"): ts("2024-05-01T07:00:02Z"),
		// Rows stored within the contract's lag before the run started
		// may have landed after it read: redo.
		ts("2024-05-01T07:00:00Z"): ts("2024-05-01T08:05:00Z").Add(-contract.HourMarkLag / 2),
		// Rows an hour after the run: redo.
		ts("2024-05-01T08:00:00Z"): ts("2024-05-01T10:30:00Z"),
		// Late rows the later run (7) already read.
		ts("2024-05-01T09:00:00Z"): ts("2024-05-01T11:10:00Z"),
		// A mark of an hour never enriched changes nothing: it is due.
		ts("2024-05-01T11:00:00Z"): ts("2024-05-01T12:00:01Z"),
	}
	due := PlanDefault(done, &first, marks, now, settle, 24*time.Hour)
	want := []Due{
		{Window: hour("2024-05-01T07:00:00Z"), Reason: ReasonLate, Redoes: 3, StoredAt: marks[ts("2024-05-01T07:00:00Z")]},
		{Window: hour("2024-05-01T08:00:00Z"), Reason: ReasonLate, Redoes: 4, StoredAt: marks[ts("2024-05-01T08:00:00Z")]},
		{Window: hour("2024-05-01T11:00:00Z"), Reason: ReasonDue},
	}
	if len(due) != len(want) {
		t.Fatalf("planned %+v, want %+v", due, want)
	}
	for i := range want {
		if due[i] != want[i] {
			t.Errorf("planned[%d] = %+v, want %+v", i, due[i], want[i])
		}
	}
	// A late hour older than the catch-up horizon is reported as missed,
	// merged with its neighbours; on time hours are not.
	missed := PlanMissed(done, &first, marks, now, settle, 4*time.Hour)
	if len(missed) != 1 || missed[0] != (Window{From: ts("2024-05-01T07:00:00Z"), To: ts("2024-05-01T08:00:00Z")}) {
		t.Errorf("missed %v, want the late 07:00 hour only", missed)
	}
}
