package sparklaunch_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/workloads/internal/sparklaunch"
)

var run = sparklaunch.Run{ID: 42, From: time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC)}

// The driver gets the run's arguments after the command's own and the
// launcher's environment after the process's.
func TestCommandPassesTheRun(t *testing.T) {
	var out bytes.Buffer
	c := &sparklaunch.Command{Argv: []string{"/bin/sh", "-c", `echo "$RUN_ENV $*"`, "sh", "first"}, Env: []string{"RUN_ENV=set"}, Output: &out}
	if err := c.Launch(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	want := "set first --run-id 42 --from 2026-01-02T03:00:00Z --to 2026-01-02T04:00:00Z"
	if got := strings.TrimSpace(out.String()); got != want {
		t.Fatalf("driver saw %q, want %q", got, want)
	}
}

// A driver that fails is an error carrying the tail of its output.
func TestCommandFailureCarriesTheOutputTail(t *testing.T) {
	c := &sparklaunch.Command{Argv: []string{"/bin/sh", "-c", `echo first line; echo "the real reason" >&2; exit 3`}}
	err := c.Launch(context.Background(), run)
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "the real reason") {
		t.Fatalf("err = %v, want exit status 3 with the driver's last words", err)
	}
}

// Cancelling stops the driver's whole process group: a child that ignores
// SIGTERM is killed after the grace period.
func TestCommandCancelStopsTheDriverGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child")
	script := `trap '' TERM; sleep 60 & echo $! > ` + pidFile + `; wait`
	c := &sparklaunch.Command{Argv: []string{"/bin/sh", "-c", script}, Grace: 300 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Launch(ctx, run) }()
	var child []byte
	for i := 0; i < 100 && len(child) == 0; i++ {
		time.Sleep(20 * time.Millisecond)
		child, _ = os.ReadFile(pidFile)
	}
	if len(child) == 0 {
		t.Fatal("the driver never started its child")
	}
	cancel()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("a cancelled launch returned nil")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the launch did not end after cancel and grace")
	}
	pid := strings.TrimSpace(string(child))
	time.Sleep(100 * time.Millisecond)
	if b, err := os.ReadFile("/proc/" + pid + "/stat"); err == nil && !strings.Contains(string(b), ") Z ") {
		t.Fatalf("the driver's child %s outlived the cancelled launch: %s", pid, b)
	}
}

func TestParseCommand(t *testing.T) {
	if argv, err := sparklaunch.ParseCommand(`["java","-cp","a b.jar"]`); err != nil || len(argv) != 3 || argv[2] != "a b.jar" {
		t.Fatalf("argv %q, err %v", argv, err)
	}
	for _, bad := range []string{``, `java -jar x`, `[]`, `[""]`, `[1]`} {
		if _, err := sparklaunch.ParseCommand(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
