package progress

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestTickCallsUntilStopped(t *testing.T) {
	var n atomic.Int64
	stop := Tick(func() { n.Add(1) })
	deadline := time.Now().Add(10 * time.Second)
	for n.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n.Load() < 2 {
		t.Fatalf("Tick called f %d times in 10s, want at least 2", n.Load())
	}
	stop()
	time.Sleep(50 * time.Millisecond) // a call in flight may still land
	after := n.Load()
	time.Sleep(500 * time.Millisecond)
	if got := n.Load(); got != after {
		t.Fatalf("f was called %d more times after stop", got-after)
	}
}
