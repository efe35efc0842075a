//go:build integration

package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gocql/gocql"
	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/itest"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
	"github.com/sluicehq/sluice/workloads/internal/rediscache"
)

func engines(t *testing.T) (*gocql.Session, devservices.Endpoints) {
	t.Helper()
	ep := itest.Up(t, devservices.Cassandra, devservices.Redis)
	s, _ := itest.Cassandra(t, ep)
	return s, ep
}

func upsert(t *testing.T, s *gocql.Session, evs ...contract.Stored) {
	t.Helper()
	store := eventstore.New(s, contract.Keyspace)
	for _, e := range evs {
		if err := store.Upsert(context.Background(), e.Event, e.IngestedAt); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCassandraStoreDeviceEventsPaging(t *testing.T) {
	s, _ := engines(t)
	device := strings.ToLower(itest.Name("dev"))
	now := time.Now().UTC()
	var evs []contract.Stored
	for i := 0; i < 25; i++ {
		// Spread over today and the two days before.
		evs = append(evs, event("site", device, contract.SeverityInfo, now.Add(-time.Duration(i)*2*time.Hour-time.Minute)))
	}
	upsert(t, s, evs...)
	store := NewCassandraStore(s, contract.Keyspace, 7)
	q := DeviceQuery{Device: device, From: now.Add(-72 * time.Hour), To: now, Limit: 10}
	var got []contract.Stored
	pages := 0
	for {
		p, err := store.DeviceEvents(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Events) > 10 {
			t.Fatalf("page of %d events, limit 10", len(p.Events))
		}
		got = append(got, p.Events...)
		pages++
		if p.Next == "" {
			break
		}
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		q.Page = p.Next
	}
	if len(got) != 25 {
		t.Fatalf("paged %d events, want 25", len(got))
	}
	seen := map[string]bool{}
	for i, e := range got {
		if seen[e.ID] {
			t.Fatalf("event %s on two pages", e.ID)
		}
		seen[e.ID] = true
		if i > 0 && e.At.After(got[i-1].At) {
			t.Fatalf("not newest first at %d: %s after %s", i, e.At, got[i-1].At)
		}
	}
	// A narrower window holds only its events.
	p, err := store.DeviceEvents(context.Background(), DeviceQuery{Device: device, From: now.Add(-5 * time.Hour), To: now, Limit: 100})
	if err != nil || len(p.Events) != 3 {
		t.Fatalf("5 h window: %d events, %v", len(p.Events), err)
	}
	// Tokens are bound to their query.
	first, err := store.DeviceEvents(context.Background(), DeviceQuery{Device: device, From: q.From, To: q.To, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []DeviceQuery{
		{Device: "other", From: q.From, To: q.To, Limit: 10, Page: first.Next},
		{Device: device, From: q.From, To: q.To, Limit: 10, Page: "!!!"},
		{Device: device, From: q.From, To: q.To, Limit: 10, Page: "eyJkIjoiMjAyNi0wMS0wMSJ9"},
	} {
		if _, err := store.DeviceEvents(context.Background(), bad); !errors.Is(err, ErrBadPage) {
			t.Fatalf("bad token %q: %v", bad.Page, err)
		}
	}
}

func TestCassandraStoreNewestAcrossDays(t *testing.T) {
	s, _ := engines(t)
	site, device := strings.ToLower(itest.Name("site")), strings.ToLower(itest.Name("dev"))
	now := time.Now().UTC()
	old := event(site, device, contract.SeverityCritical, now.Add(-49*time.Hour))
	mid := event(site, device, contract.SeverityCritical, now.Add(-25*time.Hour))
	newest := event(site, device, contract.SeverityInfo, now.Add(-time.Minute))
	upsert(t, s, old, mid, newest)
	store := NewCassandraStore(s, contract.Keyspace, 7)
	crit, err := store.SiteCritical(context.Background(), site, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(crit) != 2 || crit[0].ID != mid.ID || crit[1].ID != old.ID {
		t.Fatalf("site critical %v", crit)
	}
	latest, err := store.DeviceLatest(context.Background(), device)
	if err != nil || latest.ID != newest.ID {
		t.Fatalf("latest %s (%v), want %s", latest.ID, err, newest.ID)
	}
	if _, err := store.DeviceLatest(context.Background(), device+"-none"); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("unknown device: %v", err)
	}
}

func TestCacheAsideOnRealEngines(t *testing.T) {
	s, ep := engines(t)
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{ep.RedisAddr}, DB: ep.RedisDB, DisableIdentity: true})
	t.Cleanup(func() { _ = rdb.Close() })
	e := event(strings.ToLower(itest.Name("site")), strings.ToLower(itest.Name("dev")), contract.SeverityCritical, time.Now())
	upsert(t, s, e)
	t.Cleanup(func() { rdb.Del(context.Background(), rediscache.EventKey(e.ID)) })
	ts := newServer(t, NewCassandraStore(s, contract.Keyspace, 7), rediscache.New(rdb, rediscache.Options{}), Options{Local: true, EventTTL: time.Hour})
	r := ts.get(t, "/v1/events/"+e.ID)
	if r.code != http.StatusOK || r.cache != CacheMiss {
		t.Fatalf("first read %d %q %s", r.code, r.cache, r.body)
	}
	if ttl := rdb.PTTL(context.Background(), rediscache.EventKey(e.ID)).Val(); ttl < 59*time.Minute || ttl > 66*time.Minute {
		t.Fatalf("filled ttl %s", ttl)
	}
	if r2 := ts.get(t, "/v1/events/"+e.ID); r2.cache != CacheHit || r2.body != r.body {
		t.Fatalf("second read %q", r2.cache)
	}

	// A Redis that does not answer: every read still succeeds.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	down := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{dead}, DisableIdentity: true, MaxRetries: -1, DialTimeout: 50 * time.Millisecond})
	t.Cleanup(func() { _ = down.Close() })
	ts2 := newServer(t, NewCassandraStore(s, contract.Keyspace, 7), rediscache.New(down, rediscache.Options{}), Options{Local: true})
	for _, p := range []string{"/v1/events/" + e.ID, "/v1/sites/" + e.Site + "/critical", "/v1/devices/" + e.Device + "/latest", "/v1/live"} {
		if r := ts2.get(t, p); r.code != http.StatusOK || r.cache != CacheBypass {
			t.Fatalf("%s with redis down: %d %q %s", p, r.code, r.cache, r.body)
		}
	}
}

// On the real engines an event read from memory answers exactly as a
// Redis hit does, while a device's latest reading, which changes, is read
// from Redis each time.
func TestLocalCacheOnRealEngines(t *testing.T) {
	s, ep := engines(t)
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{ep.RedisAddr}, DB: ep.RedisDB, DisableIdentity: true})
	t.Cleanup(func() { _ = rdb.Close() })
	site, device := strings.ToLower(itest.Name("site")), strings.ToLower(itest.Name("dev"))
	older := event(site, device, contract.SeverityCritical, time.Now().Add(-time.Minute))
	newer := event(site, device, contract.SeverityCritical, time.Now())
	upsert(t, s, older, newer)
	t.Cleanup(func() {
		rdb.Del(context.Background(), rediscache.EventKey(older.ID), rediscache.EventKey(newer.ID), rediscache.DeviceLatestKey(device))
	})
	store := NewCassandraStore(s, contract.Keyspace, 7)
	cache := rediscache.New(rdb, rediscache.Options{})
	withLocal := newServer(t, store, cache, localOn(Options{Local: true, EventTTL: time.Hour}))
	redisOnly := newServer(t, store, cache, Options{Local: true, EventTTL: time.Hour})

	if r := withLocal.get(t, "/v1/events/"+older.ID); r.code != http.StatusOK || r.cache != CacheMiss {
		t.Fatalf("first read %d %q %s", r.code, r.cache, r.body)
	}
	hit := redisOnly.get(t, "/v1/events/"+older.ID)
	if hit.cache != CacheHit {
		t.Fatalf("redis read: %q", hit.cache)
	}
	local := withLocal.get(t, "/v1/events/"+older.ID)
	if local.cache != CacheLocal {
		t.Fatalf("second read: %q", local.cache)
	}
	sameAnswer(t, "local hit on the real engines", local, hit)

	if err := cache.SetDeviceLatest(context.Background(), older, time.Hour); err != nil {
		t.Fatal(err)
	}
	if r := withLocal.get(t, "/v1/devices/"+device+"/latest"); r.cache != CacheHit || !strings.Contains(r.body, older.ID) {
		t.Fatalf("latest: %q %s", r.cache, r.body)
	}
	if err := cache.SetDeviceLatest(context.Background(), newer, time.Hour); err != nil {
		t.Fatal(err)
	}
	if r := withLocal.get(t, "/v1/devices/"+device+"/latest"); r.cache != CacheHit || !strings.Contains(r.body, newer.ID) {
		t.Fatalf("latest after a newer reading: %q %s", r.cache, r.body)
	}
	if st := withLocal.srv.events.Stats(); st.Entries != 1 {
		t.Fatalf("local cache holds %d documents, want the one event", st.Entries)
	}
}
