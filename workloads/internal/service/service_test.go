package service

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunReturnsWorkError(t *testing.T) {
	boom := errors.New("boom")
	err := Run(context.Background(), time.Second, "x", func(context.Context) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want boom", err)
	}
}

func TestRunWaitsForDrainAfterCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	drained := errors.New("drained")
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	err := Run(ctx, 5*time.Second, "x", func(ctx context.Context) error {
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond) // a drain shorter than the deadline
		return drained
	})
	if !errors.Is(err, drained) {
		t.Fatalf("Run = %v, want the work's own result after its drain", err)
	}
}

func TestRunGivesUpAtTheDeadline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	block := make(chan struct{})
	defer close(block)
	start := time.Now()
	err := Run(ctx, 100*time.Millisecond, "the work stopped", func(context.Context) error { <-block; return nil })
	if err == nil || !strings.Contains(err.Error(), "shutdown deadline passed before the work stopped") {
		t.Fatalf("Run = %v, want the deadline error", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 5*time.Second {
		t.Fatalf("Run gave up after %s, want about the 100ms deadline", d)
	}
}

func TestStartCPUProfileWritesAProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	stop, err := StartCPUProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(50 * time.Millisecond)
	for n := 0; time.Now().Before(deadline); n++ {
		_ = strings.Repeat("x", n%64)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// pprof profiles are gzip-compressed protocol buffers.
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("profile is %d bytes, not gzip: %q", len(b), b[:min(len(b), 8)])
	}
}

func TestStartCPUProfileOffWithoutAPath(t *testing.T) {
	stop, err := StartCPUProfile("")
	if err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
