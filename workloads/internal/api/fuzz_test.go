package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
	"github.com/sluicehq/sluice/workloads/internal/rediscache"
)

// boundsChecker is every backend of the server at once (store, cache,
// aggregates, reports); it answers with nothing and records each argument
// that is outside what the routes document, so a fuzzed request that
// reaches a backend with an unchecked value fails.
type boundsChecker struct {
	opts Options
	mu   sync.Mutex
	bad  []string
	// live is the n of the last LiveSites call.
	live int
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func (b *boundsChecker) want(ok bool, format string, args ...any) {
	if !ok {
		b.mu.Lock()
		b.bad = append(b.bad, fmt.Sprintf(format, args...))
		b.mu.Unlock()
	}
}

func (b *boundsChecker) takeBad() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.bad
	b.bad = nil
	return out
}

func (b *boundsChecker) id(id string) {
	u, err := uuid.Parse(id)
	b.want(err == nil && u.String() == id, "event id %q is not a lower-case 8-4-4-4-12 UUID", id)
}

func (b *boundsChecker) name(what, s string) {
	b.want(namePattern.MatchString(s), "%s %q is not a contract name", what, s)
}

func (b *boundsChecker) Event(_ context.Context, id string) (contract.Stored, error) {
	b.id(id)
	return contract.Stored{}, eventstore.ErrNotFound
}

func (b *boundsChecker) SiteCritical(_ context.Context, site string, limit int) ([]contract.Stored, error) {
	b.name("site", site)
	b.want(limit >= 1 && limit <= b.opts.SiteMax, "site limit %d outside [1, %d]", limit, b.opts.SiteMax)
	return nil, nil
}

func (b *boundsChecker) DeviceLatest(_ context.Context, device string) (contract.Stored, error) {
	b.name("device", device)
	return contract.Stored{}, eventstore.ErrNotFound
}

func (b *boundsChecker) DeviceEvents(_ context.Context, q DeviceQuery) (DevicePage, error) {
	b.name("device", q.Device)
	b.want(q.Limit >= 1 && q.Limit <= MaxPageLimit, "page limit %d outside [1, %d]", q.Limit, MaxPageLimit)
	b.want(q.From.Before(q.To) && q.To.Sub(q.From) <= b.opts.MaxRange, "range %s–%s not within (0, %s]", q.From, q.To, b.opts.MaxRange)
	b.want(q.From.Location() == time.UTC && q.To.Location() == time.UTC, "range %s–%s not in UTC", q.From, q.To)
	if q.Page != "" {
		// The real store checks the token; what it would accept must be
		// in the query's days.
		if _, day, err := decodePage(q.Page, q, fuzzPageKey); err == nil {
			b.want(!day.Before(contract.Day(q.From)) && !day.After(contract.Day(q.To)), "page day %s outside the range", day)
		} else {
			return DevicePage{}, err
		}
	}
	return DevicePage{}, nil
}

func (b *boundsChecker) Ready(context.Context) error { return nil }

func (b *boundsChecker) Events(_ context.Context, ids []string) ([][]byte, error) {
	for _, id := range ids {
		b.id(id)
	}
	return make([][]byte, len(ids)), nil
}

func (b *boundsChecker) SetEvent(_ context.Context, id string, _ []byte, _ time.Duration) error {
	b.id(id)
	return nil
}

func (b *boundsChecker) FillSite(_ context.Context, site string, _ []contract.Stored, _ time.Duration) error {
	b.name("site", site)
	return nil
}

func (b *boundsChecker) SetDeviceLatest(context.Context, contract.Stored, time.Duration) error {
	return nil
}

func (b *boundsChecker) LiveSites(_ context.Context, n int) ([]string, error) {
	b.want(n >= 1 && n <= 200, "live sites %d outside [1, 200]", n)
	b.mu.Lock()
	b.live = n
	b.mu.Unlock()
	return []string{"site-001", "site-002"}, nil
}

func (b *boundsChecker) SitesCritical(_ context.Context, sites []string, limit int) ([][]string, error) {
	b.mu.Lock()
	n := b.live
	b.mu.Unlock()
	b.want(limit >= 1 && limit <= 50 && n*limit <= MaxLiveEvents, "per-site %d outside [1, 50], or %d sites × %d over %d events", limit, n, limit, MaxLiveEvents)
	return make([][]string, len(sites)), nil
}

// cacheSide is the Cache view of a boundsChecker: its SiteCritical and
// Event differ from the store's.
type cacheSide struct{ *boundsChecker }

func (c cacheSide) Event(_ context.Context, id string) (string, error) {
	c.id(id)
	return "", rediscache.ErrMiss
}

func (c cacheSide) SiteCritical(_ context.Context, site string, limit int) ([]string, bool, error) {
	c.name("site", site)
	c.want(limit >= 1 && limit <= c.opts.SiteMax, "cached site limit %d outside [1, %d]", limit, c.opts.SiteMax)
	return nil, false, nil
}

func (c cacheSide) DeviceLatest(_ context.Context, device string) ([]byte, error) {
	c.name("device", device)
	return nil, rediscache.ErrMiss
}

func (b *boundsChecker) SiteMinutes(_ context.Context, site, kind string, from, to time.Time) ([]MinuteSeries, error) {
	b.name("site", site)
	b.want(kind == "" || kindPattern(kind), "kind %q", kind)
	b.want(from.Before(to) && to.Sub(from) <= MaxMinutesRange, "minutes %s–%s not within (0, %s]", from, to, MaxMinutesRange)
	return nil, nil
}

func (b *boundsChecker) SilentDevices(_ context.Context, site string) ([]SilentDevice, error) {
	b.name("site", site)
	return nil, nil
}

func (b *boundsChecker) Report(_ context.Context, from, to time.Time) (Report, error) {
	hours := to.Sub(from) / time.Hour
	b.want(from.Add(hours*time.Hour).Equal(to) && hours >= 1 && hours <= MaxReportHours, "report %s–%s is not 1 to %d whole hours", from, to, MaxReportHours)
	b.want(to.Truncate(time.Hour).Equal(to) && !to.After(time.Now().Add(time.Hour)), "report end %s is not a whole past hour", to)
	return Report{From: from, To: to}, nil
}

var (
	_ Store      = (*boundsChecker)(nil)
	_ Cache      = cacheSide{}
	_ Aggregates = (*boundsChecker)(nil)
	_ Reports    = (*boundsChecker)(nil)
)

var fuzzPageKey = DerivePageKey([]byte("fuzz"))

// FuzzRoutes sends GET requests of any path and query to every route:
// none answers 500 (a panic is recovered as one), every error is a JSON
// error body with a code, and no parameter reaches a backend outside the
// bounds the routes document (boundsChecker).
func FuzzRoutes(f *testing.F) {
	id := "0193a1b2-7c3d-7e4f-8a5b-000000000001"
	q := DeviceQuery{Device: "dev-1", From: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)}
	tok, err := encodePage(pageToken{Day: "2026-12-01", State: []byte{1, 2}, Query: queryHash(q)}, fuzzPageKey)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range [][2]string{
		{"/v1/events/" + id, ""},
		{"/v1/events/" + strings.ToUpper(id), ""},
		{"/v1/events/not-a-uuid", ""},
		{"/v1/sites/site-001/critical", "limit=20"},
		{"/v1/sites/site-001/critical", "limit=0"},
		{"/v1/sites/site%20001/critical", "limit=99999999999999999999"},
		{"/v1/devices/dev-1/latest", ""},
		{"/v1/devices/dev-1/events", "from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z&limit=500&page=" + tok},
		{"/v1/devices/dev-1/events", "from=2026-12-01T00:00:00%2B01:00&to=2026-12-01T23:59:59.999999999-12:00&limit=1"},
		{"/v1/devices/dev-1/events", "to=0001-01-01T00:00:00Z"},
		{"/v1/devices/dev-1/events", "from=9999-12-31T23:59:59Z&to=9999-12-31T23:59:59.5Z&page=AAAA"},
		{"/v1/live", "sites=200&per_site=5"},
		{"/v1/live", "sites=24&per_site=50"},
		{"/v1/sites/site-001/minutes", "kind=co2&from=2026-12-01T00:00:00Z&to=2026-12-01T01:00:00Z"},
		{"/v1/sites/site-001/minutes", "to=2026-12-01T00:00:00Z"},
		{"/v1/sites/site-001/silent", ""},
		{"/v1/reports", "hours=168&to=2026-12-01T00:00:00Z"},
		{"/v1/reports", "hours=1"},
		{"/", ""},
		{"/nowhere", "x=%zz"},
	} {
		f.Add(s[0], s[1])
	}
	b := &boundsChecker{opts: Options{SiteMax: 50, MaxRange: 31 * 24 * time.Hour}}
	s, err := New(b, cacheSide{b}, Options{Local: true, SiteMax: b.opts.SiteMax, MaxRange: b.opts.MaxRange, Aggregates: b, Reports: b,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, prometheus.NewRegistry())
	if err != nil {
		f.Fatal(err)
	}
	h := s.PublicRoutes()
	f.Fuzz(func(t *testing.T, path, query string) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		// As the server would have parsed it: a path the client escaped
		// arrives decoded with its raw form beside it.
		u := &url.URL{Path: path, RawQuery: query}
		if raw, err := url.PathUnescape(path); err == nil {
			u = &url.URL{Path: raw, RawPath: path, RawQuery: query}
		}
		req := &http.Request{Method: http.MethodGet, URL: u, Host: "127.0.0.1", Header: http.Header{}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		for _, v := range b.takeBad() {
			t.Errorf("%s?%s reached a backend with %s", path, query, v)
		}
		if w.Code >= 500 {
			t.Fatalf("%s?%s answered %d: %s", path, query, w.Code, w.Body)
		}
		if w.Code >= 400 {
			var e errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Code == "" {
				t.Fatalf("%s?%s answered %d without a JSON error: %q", path, query, w.Code, w.Body)
			}
		}
	})
}

// FuzzPathParams checks the route parameters' parsers against the
// contract: parseID accepts exactly the UUIDs of 8-4-4-4-12 form and
// returns them lower-cased; parseName exactly the contract's names.
func FuzzPathParams(f *testing.F) {
	for _, s := range []string{"0193a1b2-7c3d-7e4f-8a5b-000000000001", "0193A1B2-7C3D-7E4F-8A5B-00000000000F", "{0193a1b2-7c3d-7e4f-8a5b-000000000001}",
		"urn:uuid:0193a1b2-7c3d-7e4f-8a5b-000000000001", "0193a1b27c3d7e4f8a5b000000000001", "site-001", "dev_1.a", "", strings.Repeat("s", 65), "bad site", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := parseID(s)
		u, err := uuid.Parse(s)
		canonical := err == nil && len(s) == 36 && u.String() == strings.ToLower(s)
		if ok != canonical || ok && id != u.String() {
			t.Fatalf("parseID(%q) = %q, %t; a canonical UUID: %t", s, id, ok, canonical)
		}
		name, ok := parseName(s)
		if ok != namePattern.MatchString(s) || ok && name != s {
			t.Fatalf("parseName(%q) = %q, %t; the contract's pattern says %t", s, name, ok, namePattern.MatchString(s))
		}
	})
}

// FuzzPageToken checks page tokens both ways. A token the store makes
// decodes, under its key and for its query only, to what was encoded; a
// token decodes only when it is one the store made (the MAC), and every
// refusal is an ErrBadPage. The decoded day is within the query's days.
func FuzzPageToken(f *testing.F) {
	f.Add("dev-1", int64(1_796_083_200), int64(86_400), int64(0), []byte{1, 2, 3}, "")
	f.Add("d", int64(0), int64(1), int64(0), []byte(nil), "AAAA")
	f.Add("dev-1", int64(1_796_083_200), int64(31*86_400), int64(30), make([]byte, 200), "eyJkIjoiMjAyNi0xMi0wMSIsInEiOiJ4In0")
	f.Add("x", int64(-62_135_596_800), int64(3600), int64(-1), []byte("state"), strings.Repeat("A", 5000))
	f.Add("dev-1", int64(1_796_083_200), int64(86_400), int64(0), make([]byte, 3500), "")
	f.Fuzz(func(t *testing.T, device string, fromUnix, span, dayOffset int64, state []byte, forged string) {
		from := time.Unix(fromUnix%(1<<40), 0).UTC()
		q := DeviceQuery{Device: device, From: from, To: from.Add(time.Duration(span%(400*86_400)) * time.Second)}
		day := contract.Day(q.From).AddDate(0, 0, int(dayOffset%400))
		tok, err := encodePage(pageToken{Day: day.Format(time.DateOnly), State: state, Query: queryHash(q)}, fuzzPageKey)
		if err != nil {
			// Only a state too long for a token may fail; Cassandra's
			// are a few hundred bytes.
			if len(state) < 2048 {
				t.Fatalf("encode a state of %d bytes: %v", len(state), err)
			}
			return
		}
		got, gotDay, err := decodePage(tok, q, fuzzPageKey)
		inRange := !day.Before(contract.Day(q.From)) && !day.After(contract.Day(q.To))
		switch {
		case err != nil && !errors.Is(err, ErrBadPage):
			t.Fatalf("refusal is not ErrBadPage: %v", err)
		case err == nil && !inRange:
			t.Fatalf("day %s outside %s–%s accepted", day, q.From, q.To)
		case err != nil && inRange:
			t.Fatalf("a token of this store for this query refused: %v (state %d bytes)", err, len(state))
		case err == nil && (!gotDay.Equal(day) || string(got.State) != string(state)):
			t.Fatalf("round trip: day %s state %x, want %s %x", gotDay, got.State, day, state)
		}
		if err == nil {
			other := q
			other.Device += "x"
			if _, _, err := decodePage(tok, other, fuzzPageKey); !errors.Is(err, ErrBadPage) {
				t.Fatalf("a token of %q accepted for %q: %v", q.Device, other.Device, err)
			}
			if _, _, err := decodePage(tok, q, DerivePageKey([]byte("another"))); !errors.Is(err, ErrBadPage) {
				t.Fatalf("a token accepted under another key: %v", err)
			}
		}
		if forged == tok {
			return
		}
		if _, _, err := decodePage(forged, q, fuzzPageKey); !errors.Is(err, ErrBadPage) {
			t.Fatalf("a token the store did not make (%q) is not refused as ErrBadPage: %v", forged, err)
		}
	})
}
