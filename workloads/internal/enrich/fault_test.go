//go:build integration

package enrich_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/workloads/internal/enrich"
)

// buildEnrich compiles the enrich binary for the test.
func buildEnrich(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "enrich")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/sluicehq/sluice/workloads/cmd/enrich")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build enrich: %v\n%s", err, out)
	}
	return bin
}

type child struct {
	cmd    *exec.Cmd
	out    bytes.Buffer
	exited chan struct{}
	err    error
}

func startEnrich(t *testing.T, bin string, env, args []string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(bin, args...), exited: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), env...)
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start enrich: %v", err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
			<-c.exited
		}
	})
	return c
}

// killWhen polls cond every 10 ms and SIGKILLs the child as soon as it
// holds, failing if the child ends first.
func (c *child) killWhen(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		select {
		case <-c.exited:
			t.Fatalf("enrich ended (%v) before %s:\n%s", c.err, what, c.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("enrich never reached %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.exited
	var exit *exec.ExitError
	if !errors.As(c.err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("enrich was not killed %s: %v", what, c.err)
	}
}

// TestFaultKillMidRunThenRerun kills the enrich binary twice, once while it
// streams events into the staging table and once during the upsert, then
// lets a third run finish: the window ends up complete, with no duplicate
// and nothing from the killed runs, which are marked abandoned.
func TestFaultKillMidRunThenRerun(t *testing.T) {
	f := newFixture(t, 250000, 0.01, 0.005)
	bin := buildEnrich(t)
	env := append(f.db.Env(), "ENRICH_MODELS_URL="+f.models, "ENRICH_HEARTBEAT=200ms", "ENRICH_STALE_AFTER=2s",
		"ENRICH_PAGE_SIZE=2000", "LOG_LEVEL=warn")
	args := []string{"--from", f.window.From.Format(time.RFC3339), "--to", f.window.To.Format(time.RFC3339)}
	ctx := context.Background()
	inWindow := func() int64 {
		return f.db.Count(t, `SELECT count(*) FROM enriched_events WHERE at >= $1 AND at < $2`, f.window.From, f.window.To)
	}

	c := startEnrich(t, bin, env, args)
	c.killWhen(t, "mid-COPY", func() bool {
		var copied int64
		err := f.db.Pool.QueryRow(ctx, `SELECT coalesce(max(tuples_processed), 0) FROM pg_stat_progress_copy
			WHERE datname = current_database() AND command = 'COPY FROM'`).Scan(&copied)
		return err == nil && copied >= 20000
	})
	if n := inWindow(); n != 0 {
		t.Fatalf("a run killed mid-COPY left %d events", n)
	}

	c = startEnrich(t, bin, env, args)
	c.killWhen(t, "mid-upsert", func() bool {
		var active int64
		err := f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND state = 'active' AND pid <> pg_backend_pid() AND query LIKE '%INSERT INTO enriched_events%'`).Scan(&active)
		return err == nil && active > 0
	})
	if n := inWindow(); n != 0 {
		t.Fatalf("a run killed mid-upsert left %d events", n)
	}
	if n := f.db.Count(t, `SELECT count(*) FROM batch_runs WHERE status = 'running'`); n != 2 {
		t.Errorf("%d runs recorded as running after two kills, want 2:\n%s", n, f.runs(t))
	}

	time.Sleep(2500 * time.Millisecond) // past ENRICH_STALE_AFTER
	c = startEnrich(t, bin, env, args)
	select {
	case <-c.exited:
	case <-time.After(5 * time.Minute):
		t.Fatal("the re-run did not finish within 5 minutes")
	}
	if c.err != nil || !strings.Contains(c.out.String(), "succeeded") {
		t.Fatalf("re-run: %v\n%s", c.err, c.out.String())
	}
	f.checkComplete(t)
	if n := f.db.Count(t, `SELECT count(*) - count(DISTINCT event_id) FROM enriched_events`); n != 0 {
		t.Errorf("%d duplicate events", n)
	}
	for status, want := range map[string]int64{"abandoned": 2, "succeeded": 1, "running": 0} {
		if n := f.db.Count(t, `SELECT count(*) FROM batch_runs WHERE status = $1`, status); n != want {
			t.Errorf("%d runs %s, want %d:\n%s", n, status, want, f.runs(t))
		}
	}
	var read, unknown int64
	if err := f.db.Pool.QueryRow(ctx, `SELECT events_read, unknown_devices FROM batch_runs WHERE status = 'succeeded'`).Scan(&read, &unknown); err != nil {
		t.Fatal(err)
	}
	if read != f.expect.events || unknown != f.expect.unknownDevices {
		t.Errorf("the succeeded run read %d events with %d unknown devices, want %d and %d", read, unknown, f.expect.events, f.expect.unknownDevices)
	}
}

// TestFaultPgBouncerRestartMidRun runs the job through PgBouncer in
// transaction mode and crashes PgBouncer (SIGKILL, then a restart on the
// same port) while the run streams events into its staging table: the run
// fails and commits nothing, and the next run, through the restarted
// PgBouncer, changes every event of the window — none was committed
// before.
func TestFaultPgBouncerRestartMidRun(t *testing.T) {
	f := newFixture(t, 100000, 0.01, 0.005)
	bouncer := f.db.StartBouncer(t, 4)
	ctx := context.Background()
	cfg := f.config()
	cfg.ChunkRows = 50000 // the default: one COPY long enough to crash under
	job := f.jobThrough(t, cfg, bouncer.URL)

	type result struct {
		st  enrich.Stats
		err error
	}
	first := make(chan result, 1)
	go func() {
		st, err := job.Run(ctx, f.window)
		first <- result{st, err}
	}()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var copied int64
		err := f.db.Pool.QueryRow(ctx, `SELECT coalesce(max(tuples_processed), 0) FROM pg_stat_progress_copy
			WHERE datname = current_database() AND command = 'COPY FROM'`).Scan(&copied)
		if err == nil && copied >= 20000 {
			break
		}
		select {
		case r := <-first:
			t.Fatalf("the run ended (%s, %v) before PgBouncer could be restarted mid-COPY", r.st.Status, r.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the run never reached 20,000 staged events")
		}
		time.Sleep(10 * time.Millisecond)
	}
	bouncer.Restart()
	r := <-first
	if r.err == nil {
		t.Fatalf("the run survived PgBouncer crashing under its transaction: %+v", r.st)
	}
	t.Logf("run during the crash: %v", r.err)
	if n := f.db.Count(t, `SELECT count(*) FROM enriched_events WHERE at >= $1 AND at < $2`, f.window.From, f.window.To); n != 0 {
		t.Fatalf("the crashed run left %d events", n)
	}
	if n := f.db.Count(t, `SELECT count(*) FROM batch_runs WHERE run_id = $1 AND status = 'failed'`, r.st.RunID); n != 1 {
		t.Errorf("the crashed run is not recorded as failed:\n%s", f.runs(t))
	}

	second, err := job.Run(ctx, f.window)
	if err != nil {
		t.Fatal(err)
	}
	checkStats(t, second, f.expect)
	if second.EventsChanged != f.expect.events {
		t.Errorf("the run after the crash changed %d rows, want all %d of the window: the crashed run committed some", second.EventsChanged, f.expect.events)
	}
	f.checkComplete(t)
}
