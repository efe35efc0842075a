package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// fakeReports answers with rep or err and records the range asked for.
type fakeReports struct {
	rep      Report
	err      error
	from, to time.Time
}

func (f *fakeReports) Report(_ context.Context, from, to time.Time) (Report, error) {
	f.from, f.to = from, to
	if f.err != nil {
		return Report{}, f.err
	}
	r := f.rep
	r.From, r.To = from, to
	return r, nil
}

func TestReportsOffWithoutPostgres(t *testing.T) {
	ts := newServer(t, newFakeStore(), nil, Options{Local: true})
	r := ts.get(t, "/v1/reports")
	if r.code != http.StatusNotFound || errCode(t, r) != "reports_off" {
		t.Fatalf("reports without postgres: %d %s", r.code, r.body)
	}
	// The page itself is there and says why it is empty.
	if p := ts.get(t, "/reports"); p.code != http.StatusOK || !strings.Contains(p.body, "/static/reports.js") {
		t.Fatalf("report page: %d", p.code)
	}
}

func TestReportsRangeIsWholeHoursEndingWithTheCurrentOne(t *testing.T) {
	f := &fakeReports{}
	ts := newServer(t, newFakeStore(), nil, Options{Local: true, Reports: f})
	before := time.Now().UTC()
	r := ts.get(t, "/v1/reports?hours=3")
	if r.code != http.StatusOK {
		t.Fatalf("reports: %d %s", r.code, r.body)
	}
	wantTo := before.Truncate(time.Hour).Add(time.Hour)
	if !f.to.Equal(wantTo) && !f.to.Equal(wantTo.Add(time.Hour)) { // the hour may turn during the call
		t.Fatalf("to = %s, want %s", f.to, wantTo)
	}
	if f.to.Sub(f.from) != 3*time.Hour || f.from.Truncate(time.Hour) != f.from {
		t.Fatalf("range %s – %s is not 3 whole hours", f.from, f.to)
	}
	if ts.get(t, "/v1/reports"); f.to.Sub(f.from) != DefaultReportHours*time.Hour {
		t.Fatalf("default range %s", f.to.Sub(f.from))
	}
	for _, bad := range []string{"0", "-1", fmt.Sprint(MaxReportHours + 1), "x"} {
		if r := ts.get(t, "/v1/reports?hours="+bad); r.code != http.StatusBadRequest || errCode(t, r) != "bad_request" {
			t.Fatalf("hours=%s: %d %s", bad, r.code, r.body)
		}
	}
}

func TestReportsRangeCanEndAtAPastHour(t *testing.T) {
	f := &fakeReports{}
	ts := newServer(t, newFakeStore(), nil, Options{Local: true, Reports: f})
	to := time.Now().UTC().Truncate(time.Hour).Add(-30 * time.Hour)
	if r := ts.get(t, "/v1/reports?hours=4&to="+to.Format(time.RFC3339)); r.code != http.StatusOK {
		t.Fatalf("reports: %d %s", r.code, r.body)
	}
	if !f.to.Equal(to) || !f.from.Equal(to.Add(-4*time.Hour)) {
		t.Fatalf("range %s – %s, want 4 hours ending %s", f.from, f.to, to)
	}
	future := time.Now().UTC().Truncate(time.Hour).Add(3 * time.Hour)
	for _, bad := range []string{"yesterday", to.Add(time.Minute).Format(time.RFC3339), future.Format(time.RFC3339)} {
		if r := ts.get(t, "/v1/reports?to="+url.QueryEscape(bad)); r.code != http.StatusBadRequest || errCode(t, r) != "bad_request" {
			t.Fatalf("to=%s: %d %s", bad, r.code, r.body)
		}
	}
}

func TestReportsFailuresAre503(t *testing.T) {
	for _, c := range []struct {
		err  error
		text string
	}{
		{fmt.Errorf("read report sites: %w: relation missing", ErrNoReportSchema), "migration"},
		{errors.New("dial tcp: connection refused"), "PostgreSQL did not answer"},
	} {
		ts := newServer(t, newFakeStore(), nil, Options{Local: true, Reports: &fakeReports{err: c.err}})
		r := ts.get(t, "/v1/reports")
		if r.code != http.StatusServiceUnavailable || errCode(t, r) != "reports_unavailable" || !strings.Contains(r.body, c.text) {
			t.Fatalf("%v: %d %s", c.err, r.code, r.body)
		}
		// The event routes do not depend on PostgreSQL.
		if r := ts.get(t, "/readyz"); r.code != http.StatusOK {
			t.Fatalf("readiness with postgres failing: %d", r.code)
		}
	}
}

func TestReportsNeedAKeyOutsideLocalMode(t *testing.T) {
	f := &fakeReports{rep: Report{Sites: []SiteSeries{{Site: "s1", Name: "One", Events: 5}}}}
	ts := newServer(t, newFakeStore(), nil, Options{KeyHashes: [][32]byte{hash("k")}, Reports: f})
	if r := ts.get(t, "/v1/reports"); r.code != http.StatusUnauthorized {
		t.Fatalf("without key: %d", r.code)
	}
	r := ts.get(t, "/v1/reports", "X-API-Key", "k")
	var got Report
	if err := json.Unmarshal([]byte(r.body), &got); err != nil || r.code != http.StatusOK {
		t.Fatalf("with key: %d %s (%v)", r.code, r.body, err)
	}
	if len(got.Sites) != 1 || got.Sites[0].Events != 5 || got.From.IsZero() {
		t.Fatalf("report %+v", got)
	}
	// The page is public (it asks for the key), with the strict policy.
	p := ts.get(t, "/reports")
	if p.code != http.StatusOK || !strings.Contains(p.hdr.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("page: %d %q", p.code, p.hdr.Get("Content-Security-Policy"))
	}
	for _, static := range []string{"/static/reports.js", "/static/reports.css", "/static/common.js"} {
		if r := ts.get(t, static); r.code != http.StatusOK {
			t.Fatalf("%s: %d", static, r.code)
		}
	}
}

func TestReportPageNeedsNothingFromAnotherOrigin(t *testing.T) {
	ts := newServer(t, newFakeStore(), nil, Options{Local: true})
	for _, path := range []string{"/reports", "/static/reports.js", "/static/reports.css", "/", "/static/live.js", "/static/common.js"} {
		r := ts.get(t, path)
		body := strings.ReplaceAll(r.body, "http://www.w3.org/2000/svg", "") // a namespace name, not a fetch
		if r.code != http.StatusOK || strings.Contains(body, "http://") || strings.Contains(body, "https://") || strings.Contains(body, "//cdn") {
			t.Fatalf("%s: %d, or it names another origin", path, r.code)
		}
	}
}
