package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

type fakeAggregates struct {
	site, kind string
	from, to   time.Time
	err        error
	silent     []SilentDevice
}

func (f *fakeAggregates) SiteMinutes(_ context.Context, site, kind string, from, to time.Time) ([]MinuteSeries, error) {
	f.site, f.kind, f.from, f.to = site, kind, from, to
	if f.err != nil {
		return nil, f.err
	}
	return []MinuteSeries{{Kind: "co2", Unit: "ppm", Minutes: []MinuteValue{{Minute: from, Events: 3, Min: 1, Max: 3, Mean: 2}}}}, nil
}

func (f *fakeAggregates) SilentDevices(_ context.Context, site string) ([]SilentDevice, error) {
	f.site = site
	return f.silent, f.err
}

func TestSiteMinutesRangeAndValidation(t *testing.T) {
	f := &fakeAggregates{}
	ts := newServer(t, newFakeStore(), nil, Options{Local: true, Aggregates: f})
	r := ts.get(t, "/v1/sites/s1/minutes?kind=co2")
	if r.code != http.StatusOK || f.site != "s1" || f.kind != "co2" || f.to.Sub(f.from) != time.Hour || f.to.Truncate(time.Minute) != f.to {
		t.Fatalf("default range: %d %s, asked %s %s %s–%s", r.code, r.body, f.site, f.kind, f.from, f.to)
	}
	var body struct {
		Kinds []MinuteSeries `json:"kinds"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil || len(body.Kinds) != 1 || body.Kinds[0].Minutes[0].Events != 3 {
		t.Fatalf("body %s (%v)", r.body, err)
	}
	if r := ts.get(t, "/v1/sites/s1/minutes?from=2026-12-01T10:00:00Z&to=2026-12-01T12:00:00Z"); r.code != http.StatusOK ||
		f.kind != "" || !f.from.Equal(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)) || !f.to.Equal(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("explicit range: %d %s, asked %q %s–%s", r.code, r.body, f.kind, f.from, f.to)
	}
	for _, bad := range []string{
		"/v1/sites/bad%20site/minutes", "/v1/sites/s1/minutes?kind=CO2", "/v1/sites/s1/minutes?from=yesterday",
		"/v1/sites/s1/minutes?from=2026-12-01T12:00:00Z&to=2026-12-01T10:00:00Z",
		"/v1/sites/s1/minutes?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z",
	} {
		if r := ts.get(t, bad); r.code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", bad, r.code, r.body)
		}
	}
	f.err = errors.New("cassandra down")
	if r := ts.get(t, "/v1/sites/s1/minutes"); r.code != http.StatusServiceUnavailable {
		t.Fatalf("store down: %d", r.code)
	}
}

func TestSilentDevicesAndAggregatesOff(t *testing.T) {
	since := time.Date(2026, 12, 1, 10, 5, 0, 0, time.UTC)
	f := &fakeAggregates{silent: []SilentDevice{{Device: "d1", Kind: "co2", LastSeen: since.Add(-5 * time.Minute), Since: since}}}
	ts := newServer(t, newFakeStore(), nil, Options{KeyHashes: [][32]byte{hash("k")}, Aggregates: f})
	if r := ts.get(t, "/v1/sites/s1/silent"); r.code != http.StatusUnauthorized {
		t.Fatalf("without key: %d", r.code)
	}
	r := ts.get(t, "/v1/sites/s1/silent", "X-API-Key", "k")
	if r.code != http.StatusOK || !strings.Contains(r.body, `"device":"d1"`) || !strings.Contains(r.body, `"silent_since":"2026-12-01T10:05:00Z"`) {
		t.Fatalf("silent: %d %s", r.code, r.body)
	}
	off := newServer(t, newFakeStore(), nil, Options{Local: true})
	for _, p := range []string{"/v1/sites/s1/silent", "/v1/sites/s1/minutes"} {
		if r := off.get(t, p); r.code != http.StatusNotFound || errCode(t, r) != "aggregates_off" {
			t.Fatalf("%s without aggregates: %d %s", p, r.code, r.body)
		}
	}
}
