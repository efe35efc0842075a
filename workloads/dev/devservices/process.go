package devservices

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pidRecord is the content of a pid file: the pid and the process start time
// (field 22 of /proc/<pid>/stat, in clock ticks since boot). The start time
// tells our process apart from an unrelated one that got the same pid later.
type pidRecord struct {
	PID       int
	StartTime uint64
}

func (r pidRecord) encode() []byte {
	return []byte(fmt.Sprintf("%d %d\n", r.PID, r.StartTime))
}

func parsePidRecord(b []byte) (pidRecord, error) {
	fields := strings.Fields(string(b))
	if len(fields) == 0 || len(fields) > 2 {
		return pidRecord{}, fmt.Errorf("malformed pid file content %q", strings.TrimSpace(string(b)))
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil || pid <= 0 {
		return pidRecord{}, fmt.Errorf("malformed pid %q", fields[0])
	}
	rec := pidRecord{PID: pid}
	if len(fields) == 2 {
		st, err := strconv.ParseUint(fields[1], 10, 64)
		if err != nil {
			return pidRecord{}, fmt.Errorf("malformed start time %q: %w", fields[1], err)
		}
		rec.StartTime = st
	}
	return rec, nil
}

func readPidFile(path string) (pidRecord, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return pidRecord{}, fmt.Errorf("read pid file: %w", err)
	}
	rec, err := parsePidRecord(b)
	if err != nil {
		return pidRecord{}, fmt.Errorf("pid file %s: %w", path, err)
	}
	return rec, nil
}

func writePidFile(path string, rec pidRecord) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, rec.encode(), 0o644); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	return nil
}

func removePidFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove pid file: %w", err)
	}
	return nil
}

// procStat is the part of /proc/<pid>/stat the tool needs.
type procStat struct {
	State     byte
	PGrp      int
	StartTime uint64
}

// parseProcStat parses /proc/<pid>/stat. The command name (field 2) is in
// parentheses and may itself hold spaces and parentheses, so parsing starts
// after the last ')'.
func parseProcStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 > len(b) {
		return procStat{}, errors.New("malformed /proc stat")
	}
	fields := strings.Fields(string(b[i+1:]))
	// fields[0] is field 3 (state); the start time is field 22.
	const startIdx = 22 - 3
	if len(fields) <= startIdx || len(fields[0]) != 1 {
		return procStat{}, errors.New("malformed /proc stat: too few fields")
	}
	st, err := strconv.ParseUint(fields[startIdx], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("malformed /proc stat start time: %w", err)
	}
	// The process group is field 5.
	pgrp, err := strconv.Atoi(fields[5-3])
	if err != nil {
		return procStat{}, fmt.Errorf("malformed /proc stat process group: %w", err)
	}
	return procStat{State: fields[0][0], PGrp: pgrp, StartTime: st}, nil
}

// processInfo reads /proc/<pid>/stat; ok is false when there is no such
// process or it has exited and awaits its reaper (a zombie).
func processInfo(pid int) (procStat, bool) {
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	b, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return procStat{}, false
	}
	st, err := parseProcStat(b)
	if err != nil {
		return procStat{}, false
	}
	if exited(st.State) && !anyThreadLive(dir) {
		return procStat{}, false
	}
	return st, true
}

func exited(state byte) bool { return state == 'Z' || state == 'X' }

// anyThreadLive reports whether a thread of the process has not exited yet.
// A JVM's main thread can show as a zombie while its other threads still shut
// down and hold the process's sockets.
func anyThreadLive(procDir string) bool {
	tasks, err := os.ReadDir(filepath.Join(procDir, "task"))
	if err != nil {
		return false
	}
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join(procDir, "task", t.Name(), "stat"))
		if err != nil {
			continue
		}
		if st, err := parseProcStat(b); err == nil && !exited(st.State) {
			return true
		}
	}
	return false
}

// alive reports whether the process recorded in rec still runs and is the
// same process (same start time).
func alive(rec pidRecord) bool {
	st, ok := processInfo(rec.PID)
	if !ok {
		return false
	}
	return rec.StartTime == 0 || rec.StartTime == st.StartTime
}

// startDetached starts cmd in its own session (and so its own process group),
// with stdin from /dev/null and stdout and stderr appended to logPath, so it
// survives the caller exiting and ignores the caller's terminal signals.
func startDetached(cmd *exec.Cmd, logPath string) (pidRecord, <-chan error, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return pidRecord{}, nil, fmt.Errorf("open log: %w", err)
	}
	defer logf.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return pidRecord{}, nil, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	defer devnull.Close()
	fmt.Fprintf(logf, "\n==== devservices: starting at %s: %s\n", time.Now().Format(time.RFC3339), strings.Join(cmd.Args, " "))
	cmd.Stdin = devnull
	cmd.Stdout = logf
	cmd.Stderr = logf
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	if err := cmd.Start(); err != nil {
		return pidRecord{}, nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	// Reap the child when it exits while this process still lives (a
	// long-running test); otherwise it would linger as a zombie.
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	rec := pidRecord{PID: cmd.Process.Pid}
	if st, ok := processInfo(rec.PID); ok {
		rec.StartTime = st.StartTime
	}
	return rec, exited, nil
}

// stopProcess sends sig to the process, waits up to grace for it to exit,
// then kills its whole process group.
func stopProcess(ctx context.Context, rec pidRecord, sig syscall.Signal, grace time.Duration) (killed bool, err error) {
	if !alive(rec) {
		return false, nil
	}
	if err := syscall.Kill(rec.PID, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return false, fmt.Errorf("signal pid %d: %w", rec.PID, err)
	}
	if waitExit(ctx, rec, grace) {
		// Children (if any) share the process group; make sure none is left.
		killGroup(rec.PID)
		return false, waitGroupExit(ctx, rec.PID, 10*time.Second)
	}
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("stop pid %d: %w", rec.PID, err)
	}
	killGroup(rec.PID)
	if err := syscall.Kill(rec.PID, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return true, fmt.Errorf("kill pid %d: %w", rec.PID, err)
	}
	if !waitExit(ctx, rec, 10*time.Second) {
		return true, fmt.Errorf("pid %d still alive after SIGKILL", rec.PID)
	}
	return true, waitGroupExit(ctx, rec.PID, 10*time.Second)
}

// waitGroupExit waits until no live process is left in the process group
// pgid: SIGKILL is delivered asynchronously, and a member still running
// may hold the engine's ports or files a moment longer.
func waitGroupExit(ctx context.Context, pgid int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		left := groupMembers(pgid)
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("process group %d: pids %v still alive after SIGKILL", pgid, left)
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// groupMembers lists the live processes (zombies excluded) of a process
// group.
func groupMembers(pgid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := processInfo(pid); ok && st.PGrp == pgid {
			out = append(out, pid)
		}
	}
	return out
}

// killGroup sends SIGKILL to the process group led by pgid, ignoring a group
// that no longer exists. Our engines are session leaders, so pgid == pid.
func killGroup(pgid int) {
	if pgid > 1 {
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // ESRCH means nothing is left, the goal
	}
}

func waitExit(ctx context.Context, rec pidRecord, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if !alive(rec) {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// tailLines returns the last n lines of the file at path.
func tailLines(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat log: %w", err)
	}
	if n <= 0 {
		return nil, nil
	}
	const chunk = 64 << 10
	size := info.Size()
	var buf []byte
	for off := size; off > 0; {
		step := int64(chunk)
		if off < step {
			step = off
		}
		off -= step
		part := make([]byte, step)
		if _, err := f.ReadAt(part, off); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read log: %w", err)
		}
		buf = append(part, buf...)
		if bytes.Count(buf, []byte{'\n'}) > n {
			break
		}
	}
	text := strings.TrimRight(string(buf), "\n")
	if text == "" {
		return nil, nil
	}
	lines := strings.Split(text, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines, nil
}

// rotateLog moves a log past maxBytes aside (to <log>.1) so logs stay bounded.
func rotateLog(path string, maxBytes int64) error {
	info, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stat log: %w", err)
	}
	if info.Size() <= maxBytes {
		return nil
	}
	if err := os.Rename(path, path+".1"); err != nil {
		return fmt.Errorf("rotate log: %w", err)
	}
	return nil
}

// fileLock is an advisory lock (flock) on a file, held across processes.
type fileLock struct{ f *os.File }

func acquireLock(ctx context.Context, path string) (*fileLock, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return &fileLock{f: f}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for lock %s (another devservices run holds it): %w", path, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (l *fileLock) release() error {
	if err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN); err != nil {
		l.f.Close()
		return fmt.Errorf("unlock: %w", err)
	}
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("close lock: %w", err)
	}
	return nil
}
