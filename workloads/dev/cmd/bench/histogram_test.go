package main

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
)

const exposition = `# HELP lag_seconds Lag.
# TYPE lag_seconds histogram
lag_seconds_bucket{le="0.1"} %d
lag_seconds_bucket{le="0.5"} %d
lag_seconds_bucket{le="1"} %d
lag_seconds_bucket{le="+Inf"} %d
lag_seconds_sum %g
lag_seconds_count %d
other_metric 7
`

func serve(t *testing.T, body *string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, *body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestScrapeHistogramSinceAndQuantile(t *testing.T) {
	body := fmt.Sprintf(exposition, 90, 100, 100, 100, 5.0, 100)
	url := serve(t, &body)
	before, err := scrapeHistogram(url, "lag_seconds")
	if err != nil {
		t.Fatal(err)
	}
	if before.count != 100 || before.sum != 5 || len(before.counts) != 4 || !math.IsInf(before.les[3], 1) {
		t.Fatalf("parsed %+v", before)
	}
	// 100 more observations, all between 0.5 s and 1 s.
	body = fmt.Sprintf(exposition, 90, 100, 200, 200, 80.0, 200)
	after, err := scrapeHistogram(url, "lag_seconds")
	if err != nil {
		t.Fatal(err)
	}
	d := after.since(before)
	if d.count != 100 || d.sum != 75 {
		t.Fatalf("since: count %g sum %g, want 100 and 75", d.count, d.sum)
	}
	// Only the new observations count: the median sits in (0.5, 1].
	if q := d.quantile(0.5); q <= 0.5 || q > 1 {
		t.Fatalf("median since the snapshot = %g, want in (0.5, 1]", q)
	}
	// Over the whole history, 90 of 200 are ≤ 0.1 and 100 ≤ 0.5.
	if q := after.quantile(0.5); q != 0.5 {
		t.Fatalf("median of all = %g, want 0.5 (the 100th of 200 is the last ≤ 0.5)", q)
	}
	if q := after.quantile(0.75); q <= 0.5 || q > 1 {
		t.Fatalf("p75 of all = %g, want in (0.5, 1]", q)
	}
	if q := after.quantile(0.4); q <= 0 || q > 0.1 {
		t.Fatalf("p40 of all = %g, want in (0, 0.1]", q)
	}
	// The snapshot must not change when the later one is diffed.
	if before.counts[2] != 100 {
		t.Fatalf("since modified its argument: %v", before.counts)
	}
}

func TestScrapeHistogramMissing(t *testing.T) {
	body := "other_metric 1\n"
	if _, err := scrapeHistogram(serve(t, &body), "lag_seconds"); err == nil {
		t.Fatal("no error for a missing histogram")
	}
	var empty histogram
	if q := empty.quantile(0.99); q != 0 {
		t.Fatalf("quantile of nothing = %g", q)
	}
}
