package rtprobe

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestProbeMeasuresFirstSighting(t *testing.T) {
	var mu sync.Mutex
	visible := map[string][]string{}
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		paths = append(paths, r.URL.String())
		site := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1/sites/"), "/critical")
		if site == "broken" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"site":"` + site + `","events":[{"id":"` + strings.Join(visible[site], `"},{"id":"`) + `"}]}`))
	}))
	defer srv.Close()
	p := New(srv.URL, 7, 5*time.Millisecond)
	p.Start(context.Background(), []string{"s1", "s2", "broken"})
	produced := time.Now()
	p.Expect("s1", "id-a", produced)
	p.Expect("s2", "id-b", produced)
	time.Sleep(60 * time.Millisecond)
	mu.Lock()
	visible["s1"] = []string{"id-a"}
	mu.Unlock()
	p.WaitAll(200 * time.Millisecond)
	p.Stop()
	r := p.Result()
	if len(r.Latencies) != 1 || r.Missing != 1 {
		t.Fatalf("seen %d, missing %d; want 1 and 1", len(r.Latencies), r.Missing)
	}
	if l := r.Latencies[0]; l < 60*time.Millisecond || l > time.Second {
		t.Fatalf("latency %s, want about 60 ms", l)
	}
	if r.PollErrs == 0 {
		t.Fatal("failed polls not counted")
	}
	if r.Percentile(0.99) != r.Latencies[0] {
		t.Fatal("percentile of one sample")
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(paths[0], "/critical?limit=7") {
		t.Fatalf("polled %s", paths[0])
	}
}

func TestTakeStartsAFreshWindow(t *testing.T) {
	var mu sync.Mutex
	visible := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = w.Write([]byte(`{"events":[` + visible + `]}`))
	}))
	defer srv.Close()
	p := New(srv.URL, 10, 5*time.Millisecond)
	p.Start(context.Background(), []string{"s1"})
	defer p.Stop()
	p.Expect("s1", "cold-seen", time.Now())
	p.Expect("s1", "cold-lost", time.Now())
	mu.Lock()
	visible = `{"id":"cold-seen"}`
	mu.Unlock()
	deadline := time.Now().Add(2 * time.Second)
	for p.Seen() < 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cold := p.Take()
	if len(cold.Latencies) != 1 || cold.Missing != 1 {
		t.Fatalf("first window: seen %d, missing %d; want 1 and 1", len(cold.Latencies), cold.Missing)
	}
	if p.Seen() != 0 || p.Waiting() != 0 {
		t.Fatalf("after Take: seen %d, waiting %d; want a fresh start", p.Seen(), p.Waiting())
	}
	// The forgotten event showing up later is not counted in the next window.
	p.Expect("s1", "warm", time.Now())
	mu.Lock()
	visible = `{"id":"cold-lost"},{"id":"warm"}`
	mu.Unlock()
	p.WaitAll(2 * time.Second)
	warm := p.Result()
	if len(warm.Latencies) != 1 || warm.Missing != 0 {
		t.Fatalf("second window: seen %d, missing %d; want 1 and 0", len(warm.Latencies), warm.Missing)
	}
}
