package main

import (
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestParseLevels(t *testing.T) {
	got, err := parseLevels("128, 32,64,32")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int{32, 64, 128}) {
		t.Fatalf("levels %v, want [32 64 128]", got)
	}
	for _, bad := range []string{"", "0", "32,", "x", "5000", "-1"} {
		if _, err := parseLevels(bad); err == nil {
			t.Errorf("parseLevels(%q) accepted", bad)
		}
	}
}

func TestRunDelayReadsEveryThread(t *testing.T) {
	d0, err := runDelay(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Keep more goroutines busy than there are CPUs, so some wait.
	var wg sync.WaitGroup
	deadline := time.Now().Add(200 * time.Millisecond)
	for range 4 * runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
			}
		}()
	}
	wg.Wait()
	d1, err := runDelay(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if d1 < d0 {
		t.Fatalf("run delay went back from %s to %s", d0, d1)
	}
	if _, err := runDelay(1 << 30); err == nil {
		t.Fatal("a process that does not exist has a run delay")
	}
}
