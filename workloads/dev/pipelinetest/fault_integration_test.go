//go:build integration

package pipelinetest_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/itest"
	"github.com/sluicehq/sluice/workloads/dev/pipelinetest"
	"github.com/sluicehq/sluice/workloads/internal/rediscache"
)

// TestFaultRedisRestart stops Redis while the API serves traffic: every
// request keeps succeeding from Cassandra with X-Cache: bypass, critical
// events produced meanwhile reach Redis once it is back, and the cache
// fills again.
func TestFaultRedisRestart(t *testing.T) {
	p := pipelinetest.Start(t, pipelinetest.Options{Extra: []string{"API_CACHE_COOLDOWN=200ms"}})
	pr := p.Producer()
	rdb := redisClient(t, p)
	ctx := context.Background()
	device := p.Site + "-d1"
	seed := p.Event(device, contract.SeverityCritical, 1700)
	info := p.Event(device, contract.SeverityInfo, 500)
	info.At = seed.At.Add(-time.Second)
	if err := pr.Send(info, seed); err != nil {
		t.Fatal(err)
	}
	itest.Eventually(t, 90*time.Second, func() error {
		if rdb.Exists(ctx, rediscache.EventKey(seed.ID)).Val() != 1 {
			return fmt.Errorf("seed event not cached yet")
		}
		return nil
	})

	type result struct {
		at    time.Time
		code  int
		cache string
		err   error
	}
	var mu sync.Mutex
	var results []result
	var stop atomic.Bool
	var wg sync.WaitGroup
	paths := []string{"/v1/events/" + seed.ID, "/v1/sites/" + p.Site + "/critical?limit=5", "/v1/devices/" + device + "/latest", "/v1/live"}
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for i := 0; !stop.Load(); i++ {
				code, xc, _, err := pipelinetest.Get(client, p.URL()+paths[(i+w)%len(paths)])
				mu.Lock()
				results = append(results, result{at: time.Now(), code: code, cache: xc, err: err})
				mu.Unlock()
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	time.Sleep(time.Second)

	mgr := itest.Manager(t)
	down := time.Now()
	if err := mgr.Stop(ctx, devservices.Redis); err != nil {
		t.Fatal(err)
	}
	// Redis must come back whatever happens below: other tests need it.
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			uctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			_ = mgr.Up(uctx, devservices.Redis)
		}
	})
	// Produced while Redis is down: the change feed must retry them.
	during := p.Event(device, contract.SeverityCritical, 1800)
	if err := pr.Send(during); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	// The info event was never cached: while Redis is down it is
	// answered from Cassandra.
	client := &http.Client{Timeout: 10 * time.Second}
	if code, xc, _, err := pipelinetest.Get(client, p.URL()+"/v1/events/"+info.ID); err != nil || code != http.StatusOK || xc != "bypass" {
		t.Fatalf("uncached event with redis down: %d %q %v", code, xc, err)
	}
	uctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := mgr.Up(uctx, devservices.Redis); err != nil {
		t.Fatal(err)
	}
	restarted = true
	up := time.Now()

	// The change feed delivers what it could not write, and the cache fills.
	itest.Eventually(t, 60*time.Second, func() error {
		if rdb.Exists(ctx, rediscache.EventKey(during.ID)).Val() != 1 {
			return fmt.Errorf("event produced during the outage not in redis yet")
		}
		if id := rdb.HGet(ctx, rediscache.DeviceLatestKey(device), "id").Val(); id != during.ID {
			return fmt.Errorf("device latest is %q, want %s", id, during.ID)
		}
		return nil
	})
	// Redis answers again: a device's latest reading (mutable, so never
	// kept in the api's own cache) is a hit; the info event read from
	// Cassandra during the outage is answered from the api's cache of
	// immutable documents.
	itest.Eventually(t, 30*time.Second, func() error {
		_, xc, _, err := pipelinetest.Get(client, p.URL()+"/v1/devices/"+device+"/latest")
		if err != nil {
			return err
		}
		if xc != "hit" {
			return fmt.Errorf("device latest after recovery: %q", xc)
		}
		return nil
	})
	if code, xc, _, err := pipelinetest.Get(client, p.URL()+"/v1/events/"+info.ID); err != nil || code != http.StatusOK || xc != "local" {
		t.Fatalf("event read during the outage, after recovery: %d %q %v", code, xc, err)
	}
	// Traffic goes on for a while against the refilled cache.
	recovered := time.Now()
	time.Sleep(2 * time.Second)
	stop.Store(true)
	wg.Wait()

	var bypassDuring, hitsAfter, total int
	for _, r := range results {
		total++
		if r.err != nil || r.code != http.StatusOK {
			t.Fatalf("request at %s failed: %d %v (redis down %s–%s)", r.at.Format(time.StampMilli), r.code, r.err, down.Format(time.StampMilli), up.Format(time.StampMilli))
		}
		if r.at.After(down.Add(500*time.Millisecond)) && r.at.Before(up) && r.cache == "bypass" {
			bypassDuring++
		}
		if r.at.After(recovered) && r.cache == "hit" {
			hitsAfter++
		}
	}
	t.Logf("%d requests, %d bypassed while redis was down, %d hits after it came back", total, bypassDuring, hitsAfter)
	if bypassDuring == 0 {
		t.Fatal("no request was answered with X-Cache: bypass while redis was down")
	}
	if hitsAfter == 0 {
		t.Fatal("no cache hits after redis came back")
	}
}

// TestFaultChangefeedKill kills the changefeed worker mid-stream and
// starts it again: every event ends up in Redis in its right final state,
// and the restarted worker resumes from its checkpoint instead of
// replaying the feed.
func TestFaultChangefeedKill(t *testing.T) {
	const grace = 2 * time.Second
	// A short grace keeps the test short; it must still exceed the
	// changefeed's write timeout plus the allowed skew.
	cfEnv := []string{fmt.Sprintf("CHANGEFEED_OUTBOX_GRACE=%s", grace), "CASSANDRA_TIMEOUT=1500ms",
		"CHANGEFEED_OUTBOX_MAX_SKEW=250ms", "CHANGEFEED_COMMIT_INTERVAL=500ms"}
	p := pipelinetest.Start(t, pipelinetest.Options{NoAPI: true, ChangefeedEnv: cfEnv})
	pr := p.Producer()
	rdb := redisClient(t, p)
	ctx := context.Background()

	const rate, seconds = 150, 12
	devices := make([]string, 20)
	for i := range devices {
		devices[i] = fmt.Sprintf("%s-d%02d", p.Site, i)
	}
	var mu sync.Mutex
	all := map[string]contract.Event{}
	var afterKill atomic.Int64
	var killed atomic.Bool
	prodDone := make(chan error, 1)
	go func() {
		base := time.Now().UTC()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		var prev []contract.Event
		n := 0
		for b := 0; b < seconds*10; b++ {
			<-tick.C
			batch := make([]contract.Event, 0, rate/10)
			for i := 0; i < rate/10; i++ {
				sev := contract.SeverityInfo
				if n%3 == 0 {
					sev = contract.SeverityCritical
				}
				e := p.Event(devices[n%len(devices)], sev, float64(n))
				e.At = base.Add(time.Duration(n) * time.Millisecond)
				batch = append(batch, e)
				n++
			}
			// Every tenth batch the previous one is sent again, as a
			// retrying producer would.
			if b%10 == 9 {
				batch = append(batch, prev...)
			}
			if err := pr.Send(batch...); err != nil {
				prodDone <- err
				return
			}
			mu.Lock()
			for _, e := range batch {
				all[e.ID] = e
			}
			mu.Unlock()
			if killed.Load() {
				afterKill.Add(int64(len(batch)))
			}
			prev = batch
		}
		prodDone <- nil
	}()

	time.Sleep(6 * time.Second)
	p.Changefeed.Kill()
	killed.Store(true)
	time.Sleep(1500 * time.Millisecond)
	p.RestartChangefeed(cfEnv...)
	if err := <-prodDone; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	total := len(all)
	mu.Unlock()

	s := cassandra(t, p)
	itest.Eventually(t, 2*time.Minute, func() error {
		return pipelinetest.RedisState(ctx, rdb, s, p.Site, all)
	})

	m, err := p.Changefeed.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	processed := int64(m["sluice_changefeed_changes_total"])
	// The restart replays at most the grace window and the last commit
	// interval, plus what the kill interrupted.
	allowance := int64(float64(rate) * (grace + 2*time.Second).Seconds())
	t.Logf("%d records produced, %d after the kill; the restarted worker processed %d", total, afterKill.Load(), processed)
	if processed == 0 {
		t.Fatal("the restarted worker processed nothing")
	}
	if processed > afterKill.Load()+allowance {
		t.Fatalf("restarted worker processed %d changes: more than the %d produced after the kill plus a %d replay window; it replayed the feed", processed, afterKill.Load(), allowance)
	}
}
