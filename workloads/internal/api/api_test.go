package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
	"github.com/sluicehq/sluice/workloads/internal/rediscache"
)

// fakeStore is an in-memory Cassandra.
type fakeStore struct {
	mu     sync.Mutex
	events map[string]contract.Stored
	reads  atomic.Int32
	gate   chan struct{} // when set, reads wait for it to close
	fail   error
	pages  func(DeviceQuery) (DevicePage, error)
}

func newFakeStore(evs ...contract.Stored) *fakeStore {
	s := &fakeStore{events: map[string]contract.Stored{}}
	for _, e := range evs {
		s.events[e.ID] = e
	}
	return s
}

func (s *fakeStore) wait(ctx context.Context) error {
	s.reads.Add(1)
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.fail
}

func (s *fakeStore) Event(ctx context.Context, id string) (contract.Stored, error) {
	if err := s.wait(ctx); err != nil {
		return contract.Stored{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.events[id]
	if !ok {
		return contract.Stored{}, eventstore.ErrNotFound
	}
	return e, nil
}

func (s *fakeStore) SiteCritical(ctx context.Context, site string, limit int) ([]contract.Stored, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []contract.Stored
	for _, e := range s.events {
		if e.Site == site && e.Severity == contract.SeverityCritical {
			out = append(out, e)
		}
	}
	sortNewest(out)
	return out[:min(limit, len(out))], nil
}

func (s *fakeStore) DeviceLatest(ctx context.Context, device string) (contract.Stored, error) {
	if err := s.wait(ctx); err != nil {
		return contract.Stored{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []contract.Stored
	for _, e := range s.events {
		if e.Device == device {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return contract.Stored{}, eventstore.ErrNotFound
	}
	sortNewest(out)
	return out[0], nil
}

func (s *fakeStore) DeviceEvents(_ context.Context, q DeviceQuery) (DevicePage, error) {
	if s.pages != nil {
		return s.pages(q)
	}
	return DevicePage{}, nil
}

func (s *fakeStore) Ready(context.Context) error { return nil }

func sortNewest(evs []contract.Stored) {
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].At.After(evs[j-1].At); j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
}

// fakeCache is an in-memory Redis; err makes every call fail, slow makes
// every call hang that long and then time out, as rediscache's own
// deadlines do.
type fakeCache struct {
	mu      sync.Mutex
	events  map[string][]byte
	ttls    map[string]time.Duration
	sites   map[string][]string // newest first
	filled  map[string]bool
	devices map[string][]byte
	live    []string
	calls   atomic.Int32
	err     error
	slow    atomic.Int64 // nanoseconds
}

func newFakeCache() *fakeCache {
	return &fakeCache{events: map[string][]byte{}, ttls: map[string]time.Duration{}, sites: map[string][]string{},
		filled: map[string]bool{}, devices: map[string][]byte{}}
}

func (c *fakeCache) enter(ctx context.Context) error {
	c.calls.Add(1)
	if d := time.Duration(c.slow.Load()); d > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
			return errors.New("redis: i/o timeout")
		}
	}
	return c.err
}

func (c *fakeCache) Event(ctx context.Context, id string) (string, error) {
	if err := c.enter(ctx); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.events[id]
	if !ok {
		return "", rediscache.ErrMiss
	}
	return string(b), nil
}

func (c *fakeCache) Events(ctx context.Context, ids []string) ([][]byte, error) {
	if err := c.enter(ctx); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([][]byte, len(ids))
	for i, id := range ids {
		out[i] = c.events[id]
	}
	return out, nil
}

func (c *fakeCache) SetEvent(ctx context.Context, id string, doc []byte, ttl time.Duration) error {
	if err := c.enter(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events[id], c.ttls[id] = doc, ttl
	return nil
}

func (c *fakeCache) SiteCritical(ctx context.Context, site string, limit int) ([]string, bool, error) {
	if err := c.enter(ctx); err != nil {
		return nil, false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := c.sites[site]
	return ids[:min(limit, len(ids))], c.filled[site], nil
}

func (c *fakeCache) SitesCritical(ctx context.Context, sites []string, limit int) ([][]string, error) {
	if err := c.enter(ctx); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([][]string, len(sites))
	for i, s := range sites {
		out[i] = c.sites[s][:min(limit, len(c.sites[s]))]
	}
	return out, nil
}

func (c *fakeCache) FillSite(ctx context.Context, site string, evs []contract.Stored, ttl time.Duration) error {
	if err := c.enter(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sites[site] = nil
	for _, e := range evs {
		b, _ := rediscache.Encode(e)
		c.events[e.ID] = b
		c.sites[site] = append(c.sites[site], e.ID)
	}
	c.filled[site] = true
	c.ttls["filled:"+site] = ttl
	return nil
}

func (c *fakeCache) DeviceLatest(ctx context.Context, device string) ([]byte, error) {
	if err := c.enter(ctx); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.devices[device]
	if !ok {
		return nil, rediscache.ErrMiss
	}
	return b, nil
}

func (c *fakeCache) SetDeviceLatest(ctx context.Context, st contract.Stored, ttl time.Duration) error {
	if err := c.enter(ctx); err != nil {
		return err
	}
	b, _ := rediscache.Encode(st)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.devices[st.Device] = b
	c.ttls["device:"+st.Device] = ttl
	return nil
}

func (c *fakeCache) LiveSites(ctx context.Context, n int) ([]string, error) {
	if err := c.enter(ctx); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live[:min(n, len(c.live))], nil
}

func event(site, device, sev string, at time.Time) contract.Stored {
	return contract.Stored{Event: contract.Event{V: 1, ID: uuid.Must(uuid.NewV7()).String(), Site: site, Device: device, Kind: "co2",
		Value: 1200, Unit: "ppm", Severity: sev, At: at.UTC().Truncate(time.Millisecond)}, IngestedAt: at.UTC().Truncate(time.Millisecond)}
}

type testServer struct {
	*httptest.Server
	srv *Server
	reg *prometheus.Registry
}

func newServer(t *testing.T, store Store, cache Cache, opts Options) *testServer {
	t.Helper()
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if opts.CacheTimeout == 0 {
		opts.CacheTimeout = 50 * time.Millisecond
	}
	opts.Jitter = 0.1
	reg := prometheus.NewRegistry()
	s, err := New(store, cache, opts, reg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Routes(reg))
	t.Cleanup(hs.Close)
	return &testServer{Server: hs, srv: s, reg: reg}
}

type reply struct {
	code  int
	cache string
	body  string
	hdr   http.Header
}

func (ts *testServer) get(t *testing.T, path string, hdr ...string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{code: resp.StatusCode, cache: resp.Header.Get("X-Cache"), body: string(b), hdr: resp.Header}
}

func errCode(t *testing.T, r reply) string {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.Error.Code == "" {
		t.Fatalf("not a JSON error body (%d): %s", r.code, r.body)
	}
	return e.Error.Code
}

func TestValidationAnswers400WithJSON(t *testing.T) {
	ts := newServer(t, newFakeStore(), newFakeCache(), Options{Local: true, SiteMax: 50})
	cases := []struct{ path, code string }{
		{"/v1/events/not-a-uuid", "invalid_id"},
		{"/v1/events/0193a1b27c3d7e4f8a5b000000000001", "invalid_id"},
		{"/v1/events/%7B0193a1b2-7c3d-7e4f-8a5b-00000000000%7D", "invalid_id"},
		{"/v1/sites/bad%20site/critical", "invalid_site"},
		{"/v1/sites/" + strings.Repeat("s", 65) + "/critical", "invalid_site"},
		{"/v1/sites/site-001/critical?limit=0", "invalid_limit"},
		{"/v1/sites/site-001/critical?limit=51", "invalid_limit"},
		{"/v1/sites/site-001/critical?limit=ten", "invalid_limit"},
		{"/v1/devices/d%2Fx/latest", "invalid_device"},
		{"/v1/devices/d1/events?from=yesterday", "invalid_from"},
		{"/v1/devices/d1/events?to=2026-01-01", "invalid_to"},
		{"/v1/devices/d1/events?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "invalid_range"},
		{"/v1/devices/d1/events?from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "invalid_range"},
		{"/v1/devices/d1/events?limit=501", "invalid_limit"},
		{"/v1/live?per_site=0", "invalid_per_site"},
	}
	for _, c := range cases {
		r := ts.get(t, c.path)
		if r.code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400 (%s)", c.path, r.code, r.body)
			continue
		}
		if got := errCode(t, r); got != c.code {
			t.Errorf("%s: error code %q, want %q", c.path, got, c.code)
		}
	}
	if r := ts.get(t, "/v1/events/"+uuid.NewString()); r.code != http.StatusNotFound || errCode(t, r) != "not_found" {
		t.Errorf("unknown event: %d %s", r.code, r.body)
	}
	if r := ts.get(t, "/v1/nothing"); r.code != http.StatusNotFound || errCode(t, r) != "not_found" {
		t.Errorf("unknown route: %d %s", r.code, r.body)
	}
	if r := ts.get(t, "/v1/devices/nobody/latest"); r.code != http.StatusNotFound {
		t.Errorf("unknown device: %d %s", r.code, r.body)
	}
	resp, err := http.Post(ts.URL+"/v1/events/"+uuid.NewString(), "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") == "" {
		t.Errorf("POST: %d", resp.StatusCode)
	}
}

func TestBodyLimit(t *testing.T) {
	ts := newServer(t, newFakeStore(), newFakeCache(), Options{Local: true, MaxBodyBytes: 16})
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/v1/live", strings.NewReader(strings.Repeat("x", 17)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d", resp.StatusCode)
	}
}

func hash(key string) [32]byte { return sha256.Sum256([]byte(key)) }

func TestAPIKeys(t *testing.T) {
	e := event("s1", "d1", contract.SeverityCritical, time.Now())
	ts := newServer(t, newFakeStore(e), newFakeCache(), Options{KeyHashes: [][32]byte{hash("other"), hash("s3cret")}})
	path := "/v1/events/" + e.ID
	for _, h := range [][]string{nil, {"X-API-Key", "wrong"}, {"Authorization", "Bearer wrong"}, {"Authorization", "Basic czNjcmV0"}} {
		if r := ts.get(t, path, h...); r.code != http.StatusUnauthorized || errCode(t, r) != "unauthorized" {
			t.Errorf("headers %v: %d", h, r.code)
		}
	}
	for _, h := range [][]string{{"X-API-Key", "s3cret"}, {"Authorization", "Bearer s3cret"}, {"Authorization", "bearer other"}} {
		if r := ts.get(t, path, h...); r.code != http.StatusOK {
			t.Errorf("headers %v: %d %s", h, r.code, r.body)
		}
	}
	// The page, its assets and the operations endpoints stay open.
	for _, p := range []string{"/", "/static/live.js", "/healthz", "/readyz", "/metrics"} {
		if r := ts.get(t, p); r.code != http.StatusOK {
			t.Errorf("%s without a key: %d", p, r.code)
		}
	}
	if r := ts.get(t, "/v1/live"); r.code != http.StatusUnauthorized {
		t.Errorf("live data without a key: %d", r.code)
	}
}

func TestConfigRequiresKeysOutsideLocalMode(t *testing.T) {
	base := map[string]string{"CASSANDRA_HOSTS": "127.0.0.1", "REDIS_ADDR": "127.0.0.1:16379"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	if _, err := ConfigFromEnv(envconfig.NewFrom(envconfig.FromMap(with()))); err == nil || !strings.Contains(err.Error(), "API_KEYS_SHA256") {
		t.Fatalf("no keys outside local mode: %v", err)
	}
	if _, err := ConfigFromEnv(envconfig.NewFrom(envconfig.FromMap(with("API_KEYS_SHA256", "abc")))); err == nil {
		t.Fatal("a malformed hash was accepted")
	}
	h := hash("k")
	c, err := ConfigFromEnv(envconfig.NewFrom(envconfig.FromMap(with("API_KEYS_SHA256", strings.ToUpper(hex.EncodeToString(h[:]))))))
	if err != nil {
		t.Fatal(err)
	}
	if c.Options.Local || len(c.Options.KeyHashes) != 1 || c.Options.KeyHashes[0] != h {
		t.Fatalf("options %+v", c.Options)
	}
	if c.Redis.Timeout != c.Options.CacheTimeout || c.Redis.MaxRetries != -1 {
		t.Fatalf("redis timeout %s retries %d: a slow redis must fail fast", c.Redis.Timeout, c.Redis.MaxRetries)
	}
	c, err = ConfigFromEnv(envconfig.NewFrom(envconfig.FromMap(with("API_MODE", "local"))))
	if err != nil || !c.Options.Local {
		t.Fatalf("local mode: %v", err)
	}
}

func TestCacheAsideFillsWithJitteredTTL(t *testing.T) {
	e := event("s1", "d1", contract.SeverityInfo, time.Now())
	store, cache := newFakeStore(e), newFakeCache()
	ts := newServer(t, store, cache, Options{Local: true, EventTTL: time.Hour})
	r := ts.get(t, "/v1/events/"+e.ID)
	if r.code != http.StatusOK || r.cache != CacheMiss {
		t.Fatalf("first read: %d %q", r.code, r.cache)
	}
	want, _ := rediscache.Encode(e)
	if r.body != string(want) || r.hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("body %s, want %s", r.body, want)
	}
	if ttl := cache.ttls[e.ID]; ttl < time.Hour || ttl > time.Hour+6*time.Minute {
		t.Fatalf("filled with ttl %s, want 1h plus up to 10%%", ttl)
	}
	for i := 0; i < 3; i++ {
		r = ts.get(t, "/v1/events/"+strings.ToUpper(e.ID))
		if r.code != http.StatusOK || r.cache != CacheHit || r.body != string(want) {
			t.Fatalf("read %d: %d %q", i, r.code, r.cache)
		}
	}
	if n := store.reads.Load(); n != 1 {
		t.Fatalf("%d store reads, want 1", n)
	}
	if h := testutil.ToFloat64(ts.srv.metrics.CacheHits.WithLabelValues("event")); h != 3 {
		t.Fatalf("hits metric %v", h)
	}
}

func TestConcurrentMissesShareOneStoreRead(t *testing.T) {
	e := event("s1", "d1", contract.SeverityInfo, time.Now())
	store := newFakeStore(e)
	store.gate = make(chan struct{})
	cache := newFakeCache()
	ts := newServer(t, store, cache, Options{Local: true})
	const n = 50
	var wg sync.WaitGroup
	codes := make(chan int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(ts.URL + "/v1/events/" + e.ID)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	// Every request misses in Redis before the blocked read may finish;
	// the pause lets the last ones join the flight.
	deadline := time.Now().Add(10 * time.Second)
	for cache.calls.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d requests reached the cache", cache.calls.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	close(store.gate)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Fatalf("a request got %d", c)
		}
	}
	if r := store.reads.Load(); r != 1 {
		t.Fatalf("%d concurrent misses made %d store reads, want 1", n, r)
	}
	if shared := testutil.ToFloat64(ts.srv.metrics.Shared); shared != n {
		t.Fatalf("%v requests shared the read, want %d", shared, n)
	}
}

func TestRedisDownIsBypassedNot500(t *testing.T) {
	e := event("s1", "d1", contract.SeverityCritical, time.Now())
	cache := newFakeCache()
	cache.err = errors.New("dial tcp 127.0.0.1:16379: connect: connection refused")
	store := newFakeStore(e)
	ts := newServer(t, store, cache, Options{Local: true, CacheCooldown: time.Hour})
	for _, p := range []string{"/v1/events/" + e.ID, "/v1/sites/s1/critical", "/v1/devices/d1/latest", "/v1/live"} {
		for i := 0; i < 3; i++ {
			r := ts.get(t, p)
			if r.code != http.StatusOK || r.cache != CacheBypass {
				t.Fatalf("%s with redis down: %d %q %s", p, r.code, r.cache, r.body)
			}
		}
	}
	// After three failures Redis is no longer tried for the cooldown.
	if c := cache.calls.Load(); c > breakerThreshold {
		t.Fatalf("redis was called %d times while down; the breaker opens after %d", c, breakerThreshold)
	}
	if b := testutil.ToFloat64(ts.srv.metrics.CacheBypass.WithLabelValues("event")); b != 3 {
		t.Fatalf("bypass metric %v", b)
	}
}

func TestSlowRedisIsBypassedWithinTheCacheTimeout(t *testing.T) {
	e := event("s1", "d1", contract.SeverityInfo, time.Now())
	cache := newFakeCache()
	cache.slow.Store(int64(30 * time.Millisecond))
	ts := newServer(t, newFakeStore(e), cache, Options{Local: true, CacheTimeout: 30 * time.Millisecond, CacheCooldown: 10 * time.Millisecond})
	start := time.Now()
	r := ts.get(t, "/v1/events/"+e.ID)
	if r.code != http.StatusOK || r.cache != CacheBypass {
		t.Fatalf("slow redis: %d %q", r.code, r.cache)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("answer took %s with a 30ms cache timeout", d)
	}
	// Redis recovers: after the cooldown the cache is used and filled again.
	cache.slow.Store(0)
	time.Sleep(20 * time.Millisecond)
	if r := ts.get(t, "/v1/events/"+e.ID); r.cache != CacheMiss {
		t.Fatalf("after recovery: %q, want a miss that refills", r.cache)
	}
	if r := ts.get(t, "/v1/events/"+e.ID); r.cache != CacheHit {
		t.Fatalf("after refill: %q", r.cache)
	}
}

func TestStoreDownIs503(t *testing.T) {
	store := newFakeStore()
	store.fail = errors.New("gocql: no hosts available in the pool")
	ts := newServer(t, store, newFakeCache(), Options{Local: true})
	r := ts.get(t, "/v1/events/"+uuid.NewString())
	if r.code != http.StatusServiceUnavailable || errCode(t, r) != "store_unavailable" {
		t.Fatalf("store down: %d %s", r.code, r.body)
	}
}

func TestSiteCriticalCacheAside(t *testing.T) {
	now := time.Now()
	var evs []contract.Stored
	for i := 0; i < 6; i++ {
		evs = append(evs, event("s1", "d1", contract.SeverityCritical, now.Add(time.Duration(-i)*time.Minute)))
	}
	evs = append(evs, event("s1", "d1", contract.SeverityInfo, now))
	store, cache := newFakeStore(evs...), newFakeCache()
	// The change feed put one event in; the set is not known complete.
	b, _ := rediscache.Encode(evs[0])
	cache.events[evs[0].ID] = b
	cache.sites["s1"] = []string{evs[0].ID}
	ts := newServer(t, store, cache, Options{Local: true, SiteMax: 10})
	r := ts.get(t, "/v1/sites/s1/critical?limit=4")
	if r.code != http.StatusOK || r.cache != CacheMiss {
		t.Fatalf("first read %d %q", r.code, r.cache)
	}
	var body siteBody
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Events) != 4 || !strings.Contains(string(body.Events[0]), evs[0].ID) || !strings.Contains(string(body.Events[3]), evs[3].ID) {
		t.Fatalf("events %s", r.body)
	}
	if !cache.filled["s1"] {
		t.Fatal("site not marked complete after the fill")
	}
	// Filled: served from Redis, even when asking for more than exist.
	r = ts.get(t, "/v1/sites/s1/critical?limit=10")
	if r.cache != CacheHit {
		t.Fatalf("second read %q", r.cache)
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil || len(body.Events) != 6 {
		t.Fatalf("filled read: %v %d events", err, len(body.Events))
	}
	if n := store.reads.Load(); n != 1 {
		t.Fatalf("%d store reads", n)
	}
	// A document Redis lost is read back from the store.
	delete(cache.events, evs[2].ID)
	r = ts.get(t, "/v1/sites/s1/critical?limit=10")
	if err := json.Unmarshal([]byte(r.body), &body); err != nil || len(body.Events) != 6 || r.cache != CacheHit {
		t.Fatalf("with a lost document: %q %d events", r.cache, len(body.Events))
	}
}

func TestDeviceLatestCacheAside(t *testing.T) {
	now := time.Now()
	old, newest := event("s1", "d7", contract.SeverityInfo, now.Add(-time.Hour)), event("s1", "d7", contract.SeverityInfo, now)
	store, cache := newFakeStore(old, newest), newFakeCache()
	ts := newServer(t, store, cache, Options{Local: true, DeviceTTL: time.Minute})
	r := ts.get(t, "/v1/devices/d7/latest")
	if r.code != http.StatusOK || r.cache != CacheMiss || !strings.Contains(r.body, newest.ID) {
		t.Fatalf("first read %d %q %s", r.code, r.cache, r.body)
	}
	if ttl := cache.ttls["device:d7"]; ttl < time.Minute || ttl > 66*time.Second {
		t.Fatalf("device ttl %s", ttl)
	}
	if r := ts.get(t, "/v1/devices/d7/latest"); r.cache != CacheHit || !strings.Contains(r.body, newest.ID) {
		t.Fatalf("second read %q", r.cache)
	}
}

func TestDeviceEventsPassesQueryAndPages(t *testing.T) {
	store := newFakeStore()
	var got DeviceQuery
	e := event("s1", "d1", contract.SeverityInfo, time.Now())
	store.pages = func(q DeviceQuery) (DevicePage, error) {
		got = q
		if q.Page == "bad" {
			return DevicePage{}, fmt.Errorf("%w: nope", ErrBadPage)
		}
		return DevicePage{Events: []contract.Stored{e}, Next: "tok"}, nil
	}
	ts := newServer(t, store, newFakeCache(), Options{Local: true})
	r := ts.get(t, "/v1/devices/d1/events?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00%2B01:00&limit=7&page=p1")
	if r.code != http.StatusOK {
		t.Fatalf("%d %s", r.code, r.body)
	}
	if got.Device != "d1" || got.Limit != 7 || got.Page != "p1" || !got.To.Equal(time.Date(2026, 1, 1, 23, 0, 0, 0, time.UTC)) {
		t.Fatalf("query %+v", got)
	}
	var body deviceEventsBody
	if err := json.Unmarshal([]byte(r.body), &body); err != nil || body.NextPage == nil || *body.NextPage != "tok" || len(body.Events) != 1 {
		t.Fatalf("body %s", r.body)
	}
	if r := ts.get(t, "/v1/devices/d1/events?page=bad"); r.code != http.StatusBadRequest || errCode(t, r) != "invalid_page" {
		t.Fatalf("bad page: %d %s", r.code, r.body)
	}
}

func TestLiveFromCacheAndWithoutIt(t *testing.T) {
	now := time.Now()
	a, b := event("site-b", "d1", contract.SeverityCritical, now), event("site-a", "d2", contract.SeverityCritical, now.Add(-time.Second))
	store, cache := newFakeStore(a, b), newFakeCache()
	for _, e := range []contract.Stored{a, b} {
		doc, _ := rediscache.Encode(e)
		cache.events[e.ID] = doc
		cache.sites[e.Site] = []string{e.ID}
	}
	cache.live = []string{"site-b", "site-a"}
	ts := newServer(t, store, cache, Options{Local: true})
	r := ts.get(t, "/v1/live")
	var body liveBody
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatal(err)
	}
	if r.cache != CacheHit || body.Cache != CacheHit || len(body.Sites) != 2 || body.Sites[0].Site != "site-b" || !strings.Contains(string(body.Sites[0].Events[0]), a.ID) {
		t.Fatalf("live: %s", r.body)
	}
	cache.err = errors.New("down")
	r = ts.get(t, "/v1/live")
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatal(err)
	}
	if r.code != http.StatusOK || body.Cache != CacheBypass || len(body.Sites) != 2 || len(body.Sites[0].Events) != 1 {
		t.Fatalf("live without redis: %d %s", r.code, r.body)
	}
}

func TestPageServesScriptAndPollPeriod(t *testing.T) {
	ts := newServer(t, newFakeStore(), newFakeCache(), Options{Local: true, LivePoll: 750 * time.Millisecond})
	r := ts.get(t, "/")
	if r.code != http.StatusOK || !strings.Contains(r.body, `data-poll-ms="750"`) || !strings.Contains(r.body, "/static/live.js") {
		t.Fatalf("page: %d %s", r.code, r.body)
	}
	if csp := r.hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("csp %q", csp)
	}
	if r := ts.get(t, "/static/live.js"); r.code != http.StatusOK || !strings.Contains(r.body, "/v1/live") {
		t.Fatalf("script: %d", r.code)
	}
}

func TestReadinessFailsOnClose(t *testing.T) {
	ts := newServer(t, newFakeStore(), nil, Options{Local: true})
	if r := ts.get(t, "/readyz"); r.code != http.StatusOK {
		t.Fatalf("ready: %d", r.code)
	}
	ts.srv.Close()
	if r := ts.get(t, "/readyz"); r.code != http.StatusServiceUnavailable {
		t.Fatalf("closing server ready: %d", r.code)
	}
	// Without a cache every read bypasses.
	e := event("s", "d", contract.SeverityInfo, time.Now())
	ts2 := newServer(t, newFakeStore(e), nil, Options{Local: true})
	if r := ts2.get(t, "/v1/events/"+e.ID); r.code != http.StatusOK || r.cache != CacheBypass {
		t.Fatalf("no cache: %d %q", r.code, r.cache)
	}
}

// With the ops endpoints on a listener of their own, the public handler
// does not serve them, and serves every route as before.
func TestPublicRoutesHoldNoOpsEndpoints(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := New(newFakeStore(), nil, Options{Local: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, reg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.PublicRoutes())
	t.Cleanup(hs.Close)
	ts := &testServer{Server: hs, srv: s, reg: reg}
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if r := ts.get(t, p); r.code != http.StatusNotFound {
			t.Errorf("public %s: %d, want 404", p, r.code)
		}
	}
	if r := ts.get(t, "/"); r.code != http.StatusOK {
		t.Errorf("the live page on the public handler: %d", r.code)
	}
}
