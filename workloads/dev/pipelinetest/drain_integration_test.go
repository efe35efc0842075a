//go:build integration

package pipelinetest_test

import (
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/workloads/dev/pipelinetest"
)

// On SIGTERM the api fails readiness at once but goes on answering for
// API_DRAIN_DELAY, the time Kubernetes takes to drop the pod from the
// Service's endpoints, and only then stops accepting: a rollout loses no
// request that was routed to it.
func TestAPIDrainsBeforeItStops(t *testing.T) {
	const drain = 3 * time.Second
	api := pipelinetest.StartAPI(t, "API_DRAIN_DELAY="+drain.String())
	client := &http.Client{Timeout: 2 * time.Second}
	base := "http://" + api.Addr
	if code, _, _, err := pipelinetest.Get(client, base+"/readyz"); err != nil || code != http.StatusOK {
		t.Fatalf("ready before the signal: %d %v", code, err)
	}
	if err := syscall.Kill(api.Pid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	var served, notReady int
	for time.Since(signalled) < drain-time.Second {
		code, _, _, err := pipelinetest.Get(client, base+"/readyz")
		if err != nil {
			t.Fatalf("%s after SIGTERM, inside the drain delay, the api refused a request: %v", time.Since(signalled).Round(time.Millisecond), err)
		}
		if code == http.StatusServiceUnavailable {
			notReady++
		}
		if code, _, _, err := pipelinetest.Get(client, base+"/v1/live"); err != nil || code != http.StatusOK {
			t.Fatalf("a request during the drain: %d %v", code, err)
		}
		served++
		time.Sleep(100 * time.Millisecond)
	}
	if notReady == 0 {
		t.Fatal("readiness never failed during the drain: the endpoints would keep sending")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, _, _, err := pipelinetest.Get(client, base+"/healthz"); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the api still answers 30 s after its drain delay")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if stopped := time.Since(signalled); stopped < drain {
		t.Fatalf("the api stopped %s after SIGTERM, before its %s drain delay", stopped, drain)
	}
	t.Logf("%d requests served during the drain; readiness failed on %d checks", served, notReady)
}
