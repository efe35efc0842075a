package api

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/rediscache"
)

// localOn is a server's in-process event cache, large enough for a test.
func localOn(o Options) Options {
	o.EventCacheEntries, o.EventCacheBytes = 1000, 1<<20
	return o
}

// sameAnswer fails unless two answers carry the same status, body and
// headers, X-Cache and Date aside.
func sameAnswer(t *testing.T, what string, got, want reply) {
	t.Helper()
	if got.code != want.code || got.body != want.body {
		t.Fatalf("%s: %d %s, want %d %s", what, got.code, got.body, want.code, want.body)
	}
	g, w := got.hdr.Clone(), want.hdr.Clone()
	for _, h := range []http.Header{g, w} {
		h.Del("X-Cache")
		h.Del("Date")
	}
	if !maps.EqualFunc(g, w, func(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }) {
		t.Fatalf("%s: headers %v, want %v", what, g, w)
	}
}

func TestLocalHitAnswersAsRedisDoes(t *testing.T) {
	inRedis, inStore := event("s1", "d1", contract.SeverityInfo, time.Now()), event("s1", "d2", contract.SeverityInfo, time.Now())
	store, cache := newFakeStore(inRedis, inStore), newFakeCache()
	doc, _ := rediscache.Encode(inRedis)
	cache.events[inRedis.ID] = doc
	ts := newServer(t, store, cache, localOn(Options{Local: true}))

	// Redis holds it: a Redis hit first, then the same answer from memory.
	hit := ts.get(t, "/v1/events/"+inRedis.ID)
	if hit.code != http.StatusOK || hit.cache != CacheHit || hit.body != string(doc) {
		t.Fatalf("first read %d %q %s", hit.code, hit.cache, hit.body)
	}
	calls := cache.calls.Load()
	for range 3 {
		local := ts.get(t, "/v1/events/"+strings.ToUpper(inRedis.ID))
		if local.cache != CacheLocal {
			t.Fatalf("second read: X-Cache %q, want %q", local.cache, CacheLocal)
		}
		sameAnswer(t, "local hit", local, hit)
	}
	if n := cache.calls.Load(); n != calls {
		t.Fatalf("local hits made %d Redis calls", n-calls)
	}

	// Only Cassandra holds it: a miss, then the same answer from memory.
	miss := ts.get(t, "/v1/events/"+inStore.ID)
	if miss.cache != CacheMiss {
		t.Fatalf("cassandra read: X-Cache %q", miss.cache)
	}
	delete(cache.events, inStore.ID) // not even Redis has it now
	local := ts.get(t, "/v1/events/"+inStore.ID)
	if local.cache != CacheLocal {
		t.Fatalf("after the miss: X-Cache %q", local.cache)
	}
	sameAnswer(t, "local hit after a miss", local, miss)

	// Redis down: what memory holds is still served from memory.
	cache.err = errors.New("down")
	if r := ts.get(t, "/v1/events/"+inRedis.ID); r.cache != CacheLocal || r.body != string(doc) {
		t.Fatalf("with redis down: %q %s", r.cache, r.body)
	}

	m := ts.srv.metrics
	if h, mi, rh := testutil.ToFloat64(m.LocalHits), testutil.ToFloat64(m.LocalMisses), testutil.ToFloat64(m.CacheHits.WithLabelValues("event")); h != 5 || mi != 2 || rh != 1 {
		t.Fatalf("local hits %v, local misses %v, redis hits %v; want 5, 2, 1", h, mi, rh)
	}
	if st := ts.srv.events.Stats(); st.Entries != 2 {
		t.Fatalf("local cache holds %d events, want 2", st.Entries)
	}
}

func TestUnknownEventIsNotKeptLocally(t *testing.T) {
	e := event("s1", "d1", contract.SeverityInfo, time.Now())
	store := newFakeStore()
	ts := newServer(t, store, newFakeCache(), localOn(Options{Local: true}))
	if r := ts.get(t, "/v1/events/"+e.ID); r.code != http.StatusNotFound {
		t.Fatalf("unknown event: %d", r.code)
	}
	store.mu.Lock()
	store.events[e.ID] = e
	store.mu.Unlock()
	if r := ts.get(t, "/v1/events/"+e.ID); r.code != http.StatusOK || r.cache != CacheMiss {
		t.Fatalf("once written: %d %q", r.code, r.cache)
	}
}

func TestLocalCacheOffByDefault(t *testing.T) {
	e := event("s1", "d1", contract.SeverityInfo, time.Now())
	ts := newServer(t, newFakeStore(e), newFakeCache(), Options{Local: true, EventCacheEntries: 1000})
	ts.get(t, "/v1/events/"+e.ID)
	if r := ts.get(t, "/v1/events/"+e.ID); r.cache != CacheHit || ts.srv.events != nil {
		t.Fatalf("with a byte bound of 0: X-Cache %q", r.cache)
	}
}

// A site's critical list, a device's latest reading and the live page
// change; they are read from Redis every time, never from memory.
func TestMutableRoutesAreNotServedLocally(t *testing.T) {
	now := time.Now()
	first, second := event("s1", "d7", contract.SeverityCritical, now.Add(-time.Minute)), event("s1", "d7", contract.SeverityCritical, now)
	store, cache := newFakeStore(first, second), newFakeCache()
	enc := func(e contract.Stored) []byte { b, _ := rediscache.Encode(e); return b }
	cache.events[first.ID] = enc(first)
	cache.sites["s1"], cache.filled["s1"] = []string{first.ID}, true
	cache.devices["d7"] = enc(first)
	cache.live = []string{"s1"}
	ts := newServer(t, store, cache, localOn(Options{Local: true}))
	paths := []string{"/v1/sites/s1/critical", "/v1/devices/d7/latest", "/v1/live"}
	for _, p := range paths {
		if r := ts.get(t, p); r.code != http.StatusOK || r.cache != CacheHit || !strings.Contains(r.body, first.ID) || strings.Contains(r.body, second.ID) {
			t.Fatalf("%s: %d %q %s", p, r.code, r.cache, r.body)
		}
	}
	// The change feed moves on.
	cache.mu.Lock()
	cache.events[second.ID] = enc(second)
	cache.sites["s1"] = []string{second.ID, first.ID}
	cache.devices["d7"] = enc(second)
	cache.mu.Unlock()
	for _, p := range paths {
		if r := ts.get(t, p); r.cache != CacheHit || !strings.Contains(r.body, second.ID) {
			t.Fatalf("%s after a change: %q %s", p, r.cache, r.body)
		}
	}
	if st := ts.srv.events.Stats(); st.Entries != 0 {
		t.Fatalf("mutable routes put %d documents in the local cache", st.Entries)
	}
	if n := testutil.ToFloat64(ts.srv.metrics.LocalHits) + testutil.ToFloat64(ts.srv.metrics.LocalMisses); n != 0 {
		t.Fatalf("mutable routes counted %v local lookups", n)
	}
}

func TestConfigEventCache(t *testing.T) {
	read := func(kv ...string) (Config, error) {
		m := map[string]string{"CASSANDRA_HOSTS": "127.0.0.1", "REDIS_ADDR": "127.0.0.1:16379", "API_MODE": "local"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return ConfigFromEnv(envconfig.NewFrom(envconfig.FromMap(m)))
	}
	c, err := read()
	if err != nil {
		t.Fatal(err)
	}
	if c.Options.EventCacheEntries != DefaultEventCacheEntries || c.Options.EventCacheBytes != DefaultEventCacheBytes {
		t.Fatalf("defaults %d entries, %d bytes", c.Options.EventCacheEntries, c.Options.EventCacheBytes)
	}
	c, err = read("API_EVENT_CACHE_ENTRIES", "0")
	if err != nil || c.Options.EventCacheEntries != 0 {
		t.Fatalf("0 entries: %d, %v", c.Options.EventCacheEntries, err)
	}
	c, err = read("API_EVENT_CACHE_BYTES", "1048576")
	if err != nil || c.Options.EventCacheBytes != 1<<20 {
		t.Fatalf("1 MiB: %d, %v", c.Options.EventCacheBytes, err)
	}
	for _, bad := range [][2]string{{"API_EVENT_CACHE_ENTRIES", "-1"}, {"API_EVENT_CACHE_BYTES", "lots"}, {"API_EVENT_CACHE_BYTES", "-5"}} {
		if _, err := read(bad[0], bad[1]); err == nil || !strings.Contains(err.Error(), bad[0]) {
			t.Errorf("%s=%s: %v", bad[0], bad[1], err)
		}
	}
}

// The event fast path answers every request exactly as the mux alone does.
func TestEventFastPathAnswersAsTheMux(t *testing.T) {
	e := event("s1", "d1", contract.SeverityInfo, time.Now())
	cache := newFakeCache()
	doc, _ := rediscache.Encode(e)
	cache.events[e.ID] = doc
	key := "k"
	h := hash(key)
	ts := newServer(t, newFakeStore(e), cache, Options{KeyHashes: [][32]byte{h}, RateLimit: 1e6, RateBurst: 1e6})
	fast, viaMux := ts.srv.PublicRoutes(), ts.srv.limits(ts.srv.mux(nil))
	paths := []string{
		"/v1/events/" + e.ID, "/v1/events/" + strings.ToUpper(e.ID), "/v1/events/not-a-uuid", "/v1/events/",
		"/v1/events/" + e.ID + "/", "/v1/events/./" + e.ID, "/v1/events/../events/" + e.ID, "/v1/events//" + e.ID,
		"/v1/events/.", "/v1/events/..", "/v1/events/%2e%2e", "/v1/events/a%2Fb", "/v1/events/%61" + e.ID[1:],
		"/v1/events", "/v1/eventsx/" + e.ID,
	}
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodDelete} {
		for _, p := range paths {
			for _, withKey := range []bool{true, false} {
				do := func(h http.Handler) *httptest.ResponseRecorder {
					req := httptest.NewRequest(method, p, nil)
					if withKey {
						req.Header.Set("X-API-Key", key)
					}
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					return rec
				}
				got, want := do(fast), do(viaMux)
				what := fmt.Sprintf("%s %s (key %v)", method, p, withKey)
				if got.Code != want.Code || got.Body.String() != want.Body.String() || !reflect.DeepEqual(got.Header(), want.Header()) {
					t.Errorf("%s: fast path %d %v %q, mux %d %v %q", what, got.Code, got.Header(), got.Body, want.Code, want.Header(), want.Body)
				}
			}
		}
	}
}
