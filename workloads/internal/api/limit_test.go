package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
)

func TestRateLimitPerKey(t *testing.T) {
	ts := newServer(t, newFakeStore(), nil, Options{KeyHashes: [][32]byte{hash("a"), hash("b")}, RateLimit: 1, RateBurst: 3})
	clock := time.Unix(1_000_000, 0)
	ts.srv.limiter.now = func() time.Time { return clock }
	get := func(key string) reply { return ts.get(t, "/v1/live", "X-API-Key", key) }
	for i := 0; i < 3; i++ {
		if r := get("a"); r.code != http.StatusOK {
			t.Fatalf("request %d within the burst: %d %s", i, r.code, r.body)
		}
	}
	r := get("a")
	if r.code != http.StatusTooManyRequests || errCode(t, r) != "rate_limited" || r.hdr.Get("Retry-After") != "1" {
		t.Fatalf("over the burst: %d %q %s", r.code, r.hdr.Get("Retry-After"), r.body)
	}
	if r := get("b"); r.code != http.StatusOK {
		t.Fatalf("another key is limited too: %d", r.code)
	}
	clock = clock.Add(1100 * time.Millisecond) // one token back
	if r := get("a"); r.code != http.StatusOK {
		t.Fatalf("after a second: %d", r.code)
	}
	if r := get("a"); r.code != http.StatusTooManyRequests {
		t.Fatalf("the refill gave more than one token: %d", r.code)
	}
	if n := testutil.ToFloat64(ts.srv.metrics.RateLimited); n != 2 {
		t.Fatalf("rate limited counter %v, want 2", n)
	}
	// Wrong keys are refused before they cost anyone's budget, and the
	// operations endpoints are never limited.
	if r := ts.get(t, "/v1/live", "X-API-Key", "wrong"); r.code != http.StatusUnauthorized {
		t.Fatalf("wrong key: %d", r.code)
	}
	for i := 0; i < 10; i++ {
		if r := ts.get(t, "/readyz"); r.code != http.StatusOK {
			t.Fatalf("readyz limited: %d", r.code)
		}
	}
	// Local mode and RateLimit 0 have no limit.
	for _, o := range []Options{{Local: true, RateLimit: 1, RateBurst: 1}, {KeyHashes: [][32]byte{hash("a")}}} {
		ts := newServer(t, newFakeStore(), nil, o)
		for i := 0; i < 5; i++ {
			if r := ts.get(t, "/v1/live", "X-API-Key", "a"); r.code != http.StatusOK {
				t.Fatalf("%+v: request %d: %d", o, i, r.code)
			}
		}
	}
}

// concurrentStore counts the SiteCritical reads in flight at once.
type concurrentStore struct {
	*fakeStore
	inFlight, peak atomic.Int32
	calls          atomic.Int32
}

func (c *concurrentStore) SiteCritical(ctx context.Context, site string, limit int) ([]contract.Stored, error) {
	n := c.inFlight.Add(1)
	defer c.inFlight.Add(-1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			break
		}
	}
	c.calls.Add(1)
	select {
	case <-time.After(20 * time.Millisecond):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return c.fakeStore.SiteCritical(ctx, site, limit)
}

func TestLiveFanOutIsBounded(t *testing.T) {
	ts := newServer(t, newFakeStore(), nil, Options{Local: true})
	if r := ts.get(t, "/v1/live?sites=200&per_site=50"); r.code != http.StatusBadRequest || errCode(t, r) != "too_many_events" {
		t.Fatalf("200 sites × 50: %d %s", r.code, r.body)
	}
	if r := ts.get(t, fmt.Sprintf("/v1/live?sites=%d&per_site=1", MaxLiveEvents/1)); r.code == http.StatusBadRequest && strings.Contains(r.body, "too_many_events") {
		t.Fatalf("%d × 1 is within the limit: %s", MaxLiveEvents, r.body)
	}

	// Without Redis the known sites are read from Cassandra, at most
	// liveReads at once, and in parallel.
	cs := &concurrentStore{fakeStore: newFakeStore()}
	srv := newServer(t, cs, nil, Options{Local: true})
	var sites []string
	for i := 0; i < 24; i++ {
		sites = append(sites, fmt.Sprintf("s%02d", i))
	}
	srv.srv.knownSites = sites
	begin := time.Now()
	r := srv.get(t, "/v1/live?sites=24&per_site=5")
	took := time.Since(begin)
	if r.code != http.StatusOK || cs.calls.Load() != 24 {
		t.Fatalf("live without redis: %d, %d reads: %s", r.code, cs.calls.Load(), r.body)
	}
	if p := cs.peak.Load(); p > liveReads || p < 2 {
		t.Fatalf("%d reads in flight at the peak, want 2..%d", p, liveReads)
	}
	if took > 24*20*time.Millisecond/2 {
		t.Fatalf("24 reads of 20 ms took %s: not in parallel", took)
	}
	for i, s := range sites {
		if !strings.Contains(r.body, `"site":"`+s+`"`) {
			t.Fatalf("site %d (%s) missing from %s", i, s, r.body)
		}
	}
}

func TestForEachStopsAtTheFirstError(t *testing.T) {
	var mu sync.Mutex
	ran := 0
	boom := errors.New("boom")
	err := forEach(context.Background(), 100, func(ctx context.Context, i int) error {
		mu.Lock()
		ran++
		mu.Unlock()
		if i == 3 {
			return boom
		}
		<-ctx.Done()
		return ctx.Err()
	})
	if !errors.Is(err, boom) || ran > 3+liveReads {
		t.Fatalf("err %v after %d calls, want boom after at most %d", err, ran, 3+liveReads)
	}
}

func TestPageTokensAreSigned(t *testing.T) {
	q := DeviceQuery{Device: "d1", From: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)}
	key := DerivePageKey([]byte("cosmos key"))
	tok, err := encodePage(pageToken{Day: "2026-12-01", State: []byte{1, 2, 3}, Query: queryHash(q)}, key)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := decodePage(tok, q, key)
	if err != nil || string(got.State) != "\x01\x02\x03" {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if _, _, err := decodePage(tok, q, DerivePageKey([]byte("rotated key"))); !errors.Is(err, ErrBadPage) {
		t.Fatalf("a token of another key: %v", err)
	}
	// A client that rewrites the paging state is refused.
	forged, err := encodePage(pageToken{Day: "2026-12-01", State: []byte{9, 9, 9}, Query: queryHash(q)}, []byte("guessed"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := decodePage(forged, q, key); !errors.Is(err, ErrBadPage) || !strings.Contains(err.Error(), "not signed") {
		t.Fatalf("forged token: %v", err)
	}
	if DerivePageKey([]byte("a")) == nil || string(DerivePageKey([]byte("a"))) == "a" || string(DerivePageKey([]byte("a"))) == string(DerivePageKey([]byte("b"))) {
		t.Fatal("derived keys do not depend on the secret")
	}
}

func TestConfigOfLimitsKeysAndDrain(t *testing.T) {
	read := func(kv ...string) (Config, error) {
		m := map[string]string{"CASSANDRA_HOSTS": "127.0.0.1", "REDIS_ADDR": "127.0.0.1:16379", "API_MODE": "local"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return ConfigFromEnv(envconfig.NewFrom(envconfig.FromMap(m)))
	}
	c, err := read()
	if err != nil || c.Options.RateLimit != 200 || c.Options.RateBurst != 400 || c.PageKey != nil || c.DrainDelay != 0 {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	key := strings.Repeat("ab", 32)
	c, err = read("API_RATE_LIMIT", "5", "API_RATE_BURST", "7", "API_PAGE_TOKEN_KEY", key, "API_DRAIN_DELAY", "5s")
	if err != nil || c.Options.RateLimit != 5 || c.Options.RateBurst != 7 || len(c.PageKey) != 32 || c.DrainDelay != 5*time.Second {
		t.Fatalf("set: %+v %v", c, err)
	}
	for _, bad := range [][]string{{"API_PAGE_TOKEN_KEY", "abcd"}, {"API_PAGE_TOKEN_KEY", strings.Repeat("zz", 32)}, {"API_RATE_LIMIT", "-1"}, {"API_DRAIN_DELAY", "2h"}} {
		if _, err := read(bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
