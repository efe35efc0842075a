package devservices

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPidRecordRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.pid")
	want := pidRecord{PID: 4242, StartTime: 987654321}
	if err := writePidFile(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := readPidFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("read %+v, want %+v", got, want)
	}
	if err := removePidFile(path); err != nil {
		t.Fatal(err)
	}
	if err := removePidFile(path); err != nil {
		t.Fatalf("removing a missing pid file: %v", err)
	}
}

func TestParsePidRecord(t *testing.T) {
	cases := []struct {
		in   string
		want pidRecord
		ok   bool
	}{
		{"123 456\n", pidRecord{123, 456}, true},
		{"123\n", pidRecord{123, 0}, true},
		{"  77   8 ", pidRecord{77, 8}, true},
		{"", pidRecord{}, false},
		{"abc", pidRecord{}, false},
		{"0 1", pidRecord{}, false},
		{"-5 1", pidRecord{}, false},
		{"1 x", pidRecord{}, false},
		{"1 2 3", pidRecord{}, false},
	}
	for _, c := range cases {
		got, err := parsePidRecord([]byte(c.in))
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parsePidRecord(%q) = %+v, %v; want %+v ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestParseProcStat(t *testing.T) {
	// The command name may hold spaces and parentheses.
	fields := make([]string, 0, 50)
	fields = append(fields, "S")
	for i := 4; i <= 21; i++ {
		fields = append(fields, fmt.Sprint(i))
	}
	fields = append(fields, "123456") // field 22
	fields = append(fields, "23", "24")
	line := "4242 (java (weird) name) " + strings.Join(fields, " ") + "\n"
	st, err := parseProcStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if st.State != 'S' || st.PGrp != 5 || st.StartTime != 123456 {
		t.Fatalf("parsed %+v", st)
	}
	if members := groupMembers(syscall.Getpgrp()); !slices.Contains(members, os.Getpid()) {
		t.Errorf("process group %d members %v lack this process %d", syscall.Getpgrp(), members, os.Getpid())
	}
	for _, bad := range []string{"", "1 (x", "1 (x) S 2 3", "1 (x) S " + strings.Repeat("1 ", 18) + "notanumber"} {
		if _, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("parseProcStat(%q) accepted", bad)
		}
	}
}

func TestAliveChecksStartTime(t *testing.T) {
	st, ok := processInfo(os.Getpid())
	if !ok {
		t.Fatal("own process not visible in /proc")
	}
	if !alive(pidRecord{PID: os.Getpid(), StartTime: st.StartTime}) {
		t.Error("own process with its start time is not alive")
	}
	if alive(pidRecord{PID: os.Getpid(), StartTime: st.StartTime + 1}) {
		t.Error("a reused pid (other start time) counts as alive")
	}
	// A process that has exited.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if alive(pidRecord{PID: cmd.Process.Pid}) {
		t.Errorf("exited pid %d counts as alive", cmd.Process.Pid)
	}
}

// A process whose main thread has exited while another thread still runs is
// alive: the JVM shows this while it shuts down, still holding its ports.
func TestAliveWhileOtherThreadsRun(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 not on PATH: cannot make a process whose main thread exits first")
	}
	script := "import threading, time, ctypes\n" +
		"threading.Thread(target=time.sleep, args=(60,)).start()\n" +
		"ctypes.CDLL(None).pthread_exit(None)\n"
	cmd := exec.Command(py, "-c", script)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		st, err := parseProcStat(b)
		if err != nil {
			t.Fatal(err)
		}
		if st.State == 'Z' {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("main thread did not exit (state %c)", st.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !alive(pidRecord{PID: cmd.Process.Pid}) {
		t.Fatal("a process with a live thread counts as dead because its main thread exited")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("killed process reported success")
	}
	if alive(pidRecord{PID: cmd.Process.Pid}) {
		t.Fatal("reaped process counts as alive")
	}
}

func TestStartDetachedAndStop(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "x.log")
	rec, exited, err := startDetached(exec.Command("sh", "-c", "echo hello-from-child; exec sleep 60"), logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !alive(rec) || rec.StartTime == 0 {
		t.Fatalf("started process %+v not alive or without start time", rec)
	}
	pgid, err := syscall.Getpgid(rec.PID)
	if err != nil || pgid != rec.PID {
		t.Fatalf("child process group %d (%v), want its own group %d", pgid, err, rec.PID)
	}
	killed, err := stopProcess(context.Background(), rec, syscall.SIGTERM, 5*time.Second)
	if err != nil || killed {
		t.Fatalf("stop: killed=%v err=%v", killed, err)
	}
	if alive(rec) {
		t.Fatal("still alive after stop")
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("exit not reported")
	}
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "hello-from-child") || !strings.Contains(string(b), "devservices: starting") {
		t.Errorf("log lacks the child's output or the start banner:\n%s", b)
	}
}

func TestStopKillsAfterGrace(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "x.log")
	// The shell ignores SIGTERM; its child sleep shares the process group.
	rec, _, err := startDetached(exec.Command("sh", "-c", "trap '' TERM; sleep 60 & echo CHILD $!; wait"), logPath)
	if err != nil {
		t.Fatal(err)
	}
	child := 0
	for i := 0; i < 50 && child == 0; i++ {
		time.Sleep(50 * time.Millisecond)
		b, err := os.ReadFile(logPath)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if after, ok := strings.CutPrefix(line, "CHILD "); ok {
				if _, err := fmt.Sscanf(after, "%d", &child); err != nil {
					t.Fatalf("parse child pid: %v", err)
				}
			}
		}
	}
	if child == 0 {
		t.Fatal("child pid not reported")
	}
	begin := time.Now()
	killed, err := stopProcess(context.Background(), rec, syscall.SIGTERM, 700*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if !killed {
		t.Error("a process ignoring SIGTERM was not reported as killed")
	}
	if time.Since(begin) < 700*time.Millisecond {
		t.Error("killed before the grace period ended")
	}
	if alive(rec) {
		t.Error("still alive after kill")
	}
	// The group's other members die too (a zombie awaiting its reaper counts
	// as dead).
	if _, ok := processInfo(child); ok {
		t.Errorf("child %d in the process group survived", child)
	}
}

func TestStopProcessNotRunning(t *testing.T) {
	killed, err := stopProcess(context.Background(), pidRecord{PID: 1 << 22}, syscall.SIGTERM, time.Second)
	if err != nil || killed {
		t.Fatalf("stopping a missing process: killed=%v err=%v", killed, err)
	}
}

func TestTailLines(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := 1; i <= 5000; i++ {
		fmt.Fprintf(&b, "line %d %s\n", i, strings.Repeat("x", 40))
	}
	big := filepath.Join(dir, "big.log")
	writeFile(t, big, b.String())
	lines, err := tailLines(big, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "line 4998 ") || !strings.HasPrefix(lines[2], "line 5000 ") {
		t.Fatalf("tail 3 = %q", lines)
	}
	lines, err = tailLines(big, 3000)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3000 || !strings.HasPrefix(lines[0], "line 2001 ") {
		t.Fatalf("tail 3000: %d lines, first %q", len(lines), lines[0])
	}

	small := filepath.Join(dir, "small.log")
	writeFile(t, small, "a\nb")
	lines, err = tailLines(small, 10)
	if err != nil || strings.Join(lines, ",") != "a,b" {
		t.Fatalf("tail of short file without final newline = %q, %v", lines, err)
	}
	empty := filepath.Join(dir, "empty.log")
	writeFile(t, empty, "")
	if lines, err := tailLines(empty, 5); err != nil || len(lines) != 0 {
		t.Fatalf("tail of empty file = %q, %v", lines, err)
	}
	if _, err := tailLines(filepath.Join(dir, "missing.log"), 5); err == nil {
		t.Fatal("tail of a missing file succeeded")
	}
}

func TestRotateLog(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "e.log")
	if err := rotateLog(p, 10); err != nil {
		t.Fatalf("rotating a missing log: %v", err)
	}
	writeFile(t, p, "short")
	if err := rotateLog(p, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal("a small log was moved")
	}
	writeFile(t, p, "this is longer than ten bytes")
	if err := rotateLog(p, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p + ".1"); err != nil {
		t.Fatal("a big log was not moved aside")
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatal("the big log is still in place")
	}
}

func TestLockExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	first, err := acquireLock(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := acquireLock(ctx, path); err == nil {
		t.Fatal("second lock acquired while the first is held")
	}
	if err := first.release(); err != nil {
		t.Fatal(err)
	}
	second, err := acquireLock(context.Background(), path)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	if err := second.release(); err != nil {
		t.Fatal(err)
	}
}
