package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
	"github.com/sluicehq/sluice/workloads/internal/rediscache"
)

// Values of the X-Cache response header.
const (
	CacheHit    = "hit"
	CacheMiss   = "miss"
	CacheBypass = "bypass"
	// CacheLocal marks an event answered from the in-process cache, in
	// front of Redis.
	CacheLocal = "local"
)

var (
	localHeader  = []string{CacheLocal}
	hitHeader    = []string{CacheHit}
	missHeader   = []string{CacheMiss}
	bypassHeader = []string{CacheBypass}
)

// cacheOn reports whether Redis is to be tried.
func (s *Server) cacheOn() bool { return s.cache != nil && s.breaker.allow() }

func (s *Server) cacheFailed(err error) {
	s.metrics.CacheErrors.Inc()
	s.breaker.failure()
	s.opts.Logger.Debug("redis call failed; answering from cassandra", "err", err)
}

// outcome records and announces how a cached route was answered.
func (s *Server) outcome(w http.ResponseWriter, route, how string) {
	switch how {
	case CacheHit:
		if route == "event" {
			s.eventHits.Inc()
		} else {
			s.metrics.CacheHits.WithLabelValues(route).Inc()
		}
		w.Header()["X-Cache"] = hitHeader
	case CacheMiss:
		s.metrics.CacheMisses.WithLabelValues(route).Inc()
		w.Header()["X-Cache"] = missHeader
	default:
		s.metrics.CacheBypass.WithLabelValues(route).Inc()
		w.Header()["X-Cache"] = bypassHeader
	}
}

// flight runs fn once for all concurrent callers of key. fn gets a context
// that outlives any single caller (bounded by RequestTimeout), so one
// client going away does not fail the others.
func (s *Server) flight(ctx context.Context, key string, fn func(context.Context) (any, error)) (any, error) {
	ch := s.flights.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.RequestTimeout)
		defer cancel()
		return fn(fctx)
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-ch:
		if res.Shared {
			s.metrics.Shared.Inc()
		}
		return res.Val, res.Err
	}
}

// fill runs a cache write bounded by CacheTimeout; failures only count.
func (s *Server) fill(ctx context.Context, write func(context.Context) error) {
	if !s.cacheOn() {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, s.opts.CacheTimeout)
	defer cancel()
	if err := write(cctx); err != nil {
		s.cacheFailed(err)
		return
	}
	s.breaker.success()
}

func (s *Server) ttl(base time.Duration) time.Duration { return rediscache.Jitter(base, s.opts.Jitter) }

// storeFailed answers a failed Cassandra read.
func (s *Server) storeFailed(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		// The client is gone; nobody reads the answer.
		writeError(w, http.StatusServiceUnavailable, "canceled", "request canceled")
		return
	}
	s.opts.Logger.Warn("cassandra read failed", "path", r.URL.Path, "err", err)
	writeError(w, http.StatusServiceUnavailable, "store_unavailable", "the event store did not answer; retry later")
}

// GET /v1/events/{id}; raw is the path's id segment.
func (s *Server) getEvent(w http.ResponseWriter, r *http.Request, raw string) {
	id, ok := parseID(raw)
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid_id", "id must be a UUID in 8-4-4-4-12 form")
		return
	}
	if s.events != nil {
		if doc, ok := s.events.Get(id); ok {
			s.metrics.LocalHits.Inc()
			w.Header()["X-Cache"] = localHeader
			writeDoc(w, doc)
			return
		}
		s.metrics.LocalMisses.Inc()
	}
	how := CacheBypass
	if s.cacheOn() {
		doc, err := s.cache.Event(r.Context(), id)
		switch {
		case err == nil:
			s.breaker.success()
			s.keepEvent(id, doc)
			s.outcome(w, "event", CacheHit)
			writeDoc(w, doc)
			return
		case errors.Is(err, rediscache.ErrMiss):
			s.breaker.success()
			how = CacheMiss
		default:
			s.cacheFailed(err)
		}
	}
	b, err := s.eventDoc(r.Context(), id)
	switch {
	case errors.Is(err, eventstore.ErrNotFound):
		s.outcome(w, "event", how)
		writeError(w, http.StatusNotFound, "not_found", "no event "+id)
	case err != nil:
		s.storeFailed(w, r, err)
	default:
		if s.events != nil {
			s.keepEvent(id, string(b))
		}
		s.outcome(w, "event", how)
		writeRaw(w, http.StatusOK, b)
	}
}

// keepEvent holds an event's document in the in-process cache, when it is
// on. Only documents read whole from Redis or Cassandra get there, and an
// event's document never changes once written, so nothing held is stale.
func (s *Server) keepEvent(id, doc string) {
	if s.events != nil {
		s.events.Put(id, doc)
	}
}

// eventDoc reads an event from Cassandra (one read per id at a time) and
// fills the cache.
func (s *Server) eventDoc(ctx context.Context, id string) ([]byte, error) {
	v, err := s.flight(ctx, "event:"+id, func(ctx context.Context) (any, error) {
		s.metrics.StoreReads.WithLabelValues("event").Inc()
		st, err := s.store.Event(ctx, id)
		if err != nil {
			return nil, err
		}
		b, err := rediscache.Encode(st)
		if err != nil {
			return nil, err
		}
		s.fill(ctx, func(ctx context.Context) error { return s.cache.SetEvent(ctx, id, b, s.ttl(s.opts.EventTTL)) })
		return b, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

// docs returns the documents of ids from Redis, reading the ones Redis
// lost from Cassandra. Ids Cassandra does not know are dropped.
func (s *Server) docs(ctx context.Context, ids []string) ([]json.RawMessage, error) {
	cctx, cancel := context.WithTimeout(ctx, s.opts.CacheTimeout)
	got, err := s.cache.Events(cctx, ids)
	cancel()
	if err != nil {
		return nil, err
	}
	// The ones Redis lost are read liveReads at a time.
	var missing []int
	for i, b := range got {
		if b == nil {
			missing = append(missing, i)
		}
	}
	err = forEach(ctx, len(missing), func(ctx context.Context, j int) error {
		i := missing[j]
		b, err := s.eventDoc(ctx, ids[i])
		if errors.Is(err, eventstore.ErrNotFound) {
			return nil
		}
		got[i] = b
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, 0, len(ids))
	for _, b := range got {
		if b != nil {
			out = append(out, b)
		}
	}
	return out, nil
}

// forEach runs fn for 0..n-1, liveReads at a time; the first error cancels
// the others and is returned.
func forEach(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	if n == 0 {
		return nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, liveReads)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				cancel(err)
			}
		}(i)
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && ctx.Err() != nil {
		return err
	}
	return nil
}

type siteBody struct {
	Site   string            `json:"site"`
	Events []json.RawMessage `json:"events"`
}

// GET /v1/sites/{site}/critical?limit=
func (s *Server) getSiteCritical(w http.ResponseWriter, r *http.Request) {
	site, ok := parseName(r.PathValue("site"))
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid_site", badSite)
		return
	}
	limit, err := parseInt(r, "limit", 20, 1, s.opts.SiteMax)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_limit", err.Error())
		return
	}
	how := CacheBypass
	if s.cacheOn() {
		ctx, cancel := context.WithTimeout(r.Context(), s.opts.CacheTimeout)
		ids, filled, err := s.cache.SiteCritical(ctx, site, limit)
		cancel()
		if err == nil {
			s.breaker.success()
			how = CacheMiss
			if filled || len(ids) >= limit {
				docs, err := s.docs(r.Context(), ids)
				if err == nil {
					s.outcome(w, "site_critical", CacheHit)
					writeJSON(w, http.StatusOK, siteBody{Site: site, Events: docs})
					return
				}
				s.cacheFailed(err)
				how = CacheBypass
			}
		} else {
			s.cacheFailed(err)
		}
	}
	v, err := s.flight(r.Context(), "site:"+site, func(ctx context.Context) (any, error) {
		s.metrics.StoreReads.WithLabelValues("site_critical").Inc()
		evs, err := s.store.SiteCritical(ctx, site, s.opts.SiteMax)
		if err != nil {
			return nil, err
		}
		s.fill(ctx, func(ctx context.Context) error { return s.cache.FillSite(ctx, site, evs, s.ttl(s.opts.SiteFilledTTL)) })
		return evs, nil
	})
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	evs := v.([]contract.Stored)
	docs, err := encodeAll(evs[:min(limit, len(evs))])
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	s.outcome(w, "site_critical", how)
	writeJSON(w, http.StatusOK, siteBody{Site: site, Events: docs})
}

func encodeAll(evs []contract.Stored) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(evs))
	for i, st := range evs {
		b, err := rediscache.Encode(st)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// GET /v1/devices/{device}/latest
func (s *Server) getDeviceLatest(w http.ResponseWriter, r *http.Request) {
	device, ok := parseName(r.PathValue("device"))
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid_device", "device must be 1-64 characters of A-Z a-z 0-9 . _ -")
		return
	}
	how := CacheBypass
	if s.cacheOn() {
		ctx, cancel := context.WithTimeout(r.Context(), s.opts.CacheTimeout)
		b, err := s.cache.DeviceLatest(ctx, device)
		cancel()
		switch {
		case err == nil:
			s.breaker.success()
			s.outcome(w, "device_latest", CacheHit)
			writeRaw(w, http.StatusOK, b)
			return
		case errors.Is(err, rediscache.ErrMiss):
			s.breaker.success()
			how = CacheMiss
		default:
			s.cacheFailed(err)
		}
	}
	v, err := s.flight(r.Context(), "device:"+device, func(ctx context.Context) (any, error) {
		s.metrics.StoreReads.WithLabelValues("device_latest").Inc()
		st, err := s.store.DeviceLatest(ctx, device)
		if err != nil {
			return nil, err
		}
		s.fill(ctx, func(ctx context.Context) error { return s.cache.SetDeviceLatest(ctx, st, s.ttl(s.opts.DeviceTTL)) })
		return rediscache.Encode(st)
	})
	switch {
	case errors.Is(err, eventstore.ErrNotFound):
		s.outcome(w, "device_latest", how)
		writeError(w, http.StatusNotFound, "not_found", "no readings of device "+device)
	case err != nil:
		s.storeFailed(w, r, err)
	default:
		s.outcome(w, "device_latest", how)
		writeRaw(w, http.StatusOK, v.([]byte))
	}
}

type deviceEventsBody struct {
	Device   string            `json:"device"`
	From     string            `json:"from"`
	To       string            `json:"to"`
	Events   []json.RawMessage `json:"events"`
	NextPage *string           `json:"next_page"`
}

// GET /v1/devices/{device}/events?from=&to=&limit=&page=
func (s *Server) getDeviceEvents(w http.ResponseWriter, r *http.Request) {
	device, ok := parseName(r.PathValue("device"))
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid_device", "device must be 1-64 characters of A-Z a-z 0-9 . _ -")
		return
	}
	q := r.URL.Query()
	now := time.Now().UTC()
	to := now.Add(contract.MaxFutureSkew).Truncate(time.Millisecond)
	if v := q.Get("to"); v != "" {
		t, err := parseTime(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_to", "to must be an RFC 3339 time with a zone")
			return
		}
		to = t
	}
	from := to.Add(-24 * time.Hour)
	if v := q.Get("from"); v != "" {
		t, err := parseTime(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_from", "from must be an RFC 3339 time with a zone")
			return
		}
		from = t
	}
	if !from.Before(to) {
		writeError(w, http.StatusBadRequest, "invalid_range", "from must be before to")
		return
	}
	if to.Sub(from) > s.opts.MaxRange {
		writeError(w, http.StatusBadRequest, "invalid_range", "from–to spans more than "+s.opts.MaxRange.String())
		return
	}
	limit, err := parseInt(r, "limit", 100, 1, MaxPageLimit)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_limit", err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
	defer cancel()
	s.metrics.StoreReads.WithLabelValues("device_events").Inc()
	page, err := s.store.DeviceEvents(ctx, DeviceQuery{Device: device, From: from, To: to, Limit: limit, Page: q.Get("page")})
	if errors.Is(err, ErrBadPage) {
		writeError(w, http.StatusBadRequest, "invalid_page", err.Error())
		return
	}
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	docs, err := encodeAll(page.Events)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	body := deviceEventsBody{Device: device, From: from.Format(time.RFC3339Nano), To: to.Format(time.RFC3339Nano), Events: docs}
	if page.Next != "" {
		body.NextPage = &page.Next
	}
	writeJSON(w, http.StatusOK, body)
}

type liveBody struct {
	Sites       []siteBody `json:"sites"`
	Cache       string     `json:"cache"`
	GeneratedAt string     `json:"generated_at"`
}

// GET /v1/live?sites=&per_site=
func (s *Server) getLive(w http.ResponseWriter, r *http.Request) {
	perSite, err := parseInt(r, "per_site", 5, 1, 50)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_per_site", err.Error())
		return
	}
	nSites, err := parseInt(r, "sites", 24, 1, 200)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_sites", err.Error())
		return
	}
	if nSites*perSite > MaxLiveEvents {
		writeError(w, http.StatusBadRequest, "too_many_events", fmt.Sprintf("sites × per_site is %d, over the limit of %d events a request", nSites*perSite, MaxLiveEvents))
		return
	}
	if s.cacheOn() {
		body, err := s.liveFromCache(r.Context(), nSites, perSite)
		if err == nil {
			s.breaker.success()
			s.outcome(w, "live", CacheHit)
			writeJSON(w, http.StatusOK, body)
			return
		}
		s.cacheFailed(err)
	}
	// Without Redis there is no index of sites: the ones seen last are
	// read from Cassandra.
	s.sitesMu.Lock()
	sites := append([]string(nil), s.knownSites...)
	s.sitesMu.Unlock()
	if len(sites) > nSites {
		sites = sites[:nSites]
	}
	body := liveBody{Cache: CacheBypass, GeneratedAt: time.Now().UTC().Format(docTime), Sites: make([]siteBody, len(sites))}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
	defer cancel()
	// The sites are read liveReads at a time, all within the request's
	// deadline: a cold page costs sites/liveReads round trips, not sites.
	err = forEach(ctx, len(sites), func(ctx context.Context, i int) error {
		s.metrics.StoreReads.WithLabelValues("site_critical").Inc()
		evs, err := s.store.SiteCritical(ctx, sites[i], perSite)
		if err != nil {
			return err
		}
		docs, err := encodeAll(evs)
		if err != nil {
			return err
		}
		body.Sites[i] = siteBody{Site: sites[i], Events: docs}
		return nil
	})
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	s.outcome(w, "live", CacheBypass)
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) liveFromCache(ctx context.Context, nSites, perSite int) (liveBody, error) {
	cctx, cancel := context.WithTimeout(ctx, s.opts.CacheTimeout)
	defer cancel()
	// Most recently active sites first: where something just happened.
	sites, err := s.cache.LiveSites(cctx, nSites)
	if err != nil {
		return liveBody{}, err
	}
	lists, err := s.cache.SitesCritical(cctx, sites, perSite)
	if err != nil {
		return liveBody{}, err
	}
	var ids []string
	for _, l := range lists {
		ids = append(ids, l...)
	}
	docs, err := s.docs(ctx, ids)
	if err != nil {
		return liveBody{}, err
	}
	byID := make(map[string]json.RawMessage, len(docs))
	for _, d := range docs {
		var head struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(d, &head) == nil {
			byID[head.ID] = d
		}
	}
	body := liveBody{Cache: CacheHit, GeneratedAt: time.Now().UTC().Format(docTime), Sites: make([]siteBody, 0, len(sites))}
	for i, site := range sites {
		sb := siteBody{Site: site, Events: make([]json.RawMessage, 0, len(lists[i]))}
		for _, id := range lists[i] {
			if d, ok := byID[id]; ok {
				sb.Events = append(sb.Events, d)
			}
		}
		body.Sites = append(body.Sites, sb)
	}
	s.sitesMu.Lock()
	s.knownSites = sites
	s.sitesMu.Unlock()
	return body, nil
}

const docTime = "2006-01-02T15:04:05.000Z07:00"

// GET /
func (s *Server) getPage(w http.ResponseWriter, _ *http.Request) { writePage(w, s.page) }

// writePage writes one of the static pages with a strict policy: their
// script, style and data come from this origin only.
func writePage(w http.ResponseWriter, page []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'")
	_, _ = w.Write(page)
}

// badSite is the answer to a site name the contract would not accept.
const badSite = "site must be 1-64 characters of A-Z a-z 0-9 . _ -"

// MaxPageLimit is the largest page of a device's events.
const MaxPageLimit = 500

// parseID accepts a UUID in canonical 8-4-4-4-12 form and returns it
// lower-cased (without allocating when it already is).
func parseID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	upper := false
	for i := 0; i < 36; i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return "", false
			}
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			upper = true
		default:
			return "", false
		}
	}
	if upper {
		return strings.ToLower(s), true
	}
	return s, true
}

// parseName accepts site and device names as the event contract does.
func parseName(s string) (string, bool) {
	if len(s) < 1 || len(s) > 64 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return "", false
		}
	}
	return s, true
}

type paramError struct{ msg string }

func (e paramError) Error() string { return e.msg }

// parseInt reads an integer query parameter in [lo, hi], def when absent.
func parseInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, paramError{name + " must be an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi)}
	}
	return n, nil
}

func parseTime(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}
