//go:build integration

package pipelinetest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gocql/gocql"
	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/itest"
	"github.com/sluicehq/sluice/workloads/dev/pipelinetest"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
	"github.com/sluicehq/sluice/workloads/internal/rediscache"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pipelinetest.RemoveBinaries()
	os.Exit(code)
}

func redisClient(t *testing.T, p *pipelinetest.Pipeline) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: p.EP.RedisAddr, DB: p.EP.RedisDB, DisableIdentity: true, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func cassandra(t *testing.T, p *pipelinetest.Pipeline) *gocql.Session {
	t.Helper()
	s, _ := itest.Cassandra(t, p.EP)
	return s
}

// stored reads an event back from Cassandra and encodes it as the cache
// and the API do.
func stored(t *testing.T, s *gocql.Session, id string) []byte {
	t.Helper()
	st, err := eventstore.New(s, contract.Keyspace).Get(context.Background(), id)
	if err != nil {
		t.Fatalf("read %s from cassandra: %v", id, err)
	}
	b, err := rediscache.Encode(st)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPipelineCriticalEventsReachRedisAndAPI(t *testing.T) {
	p := pipelinetest.Start(t, pipelinetest.Options{})
	pr := p.Producer()
	rdb := redisClient(t, p)
	devices := []string{p.Site + "-d1", p.Site + "-d2", p.Site + "-d3"}
	var evs, critical []contract.Event
	newest := map[string]contract.Event{}
	base := time.Now().Add(-time.Minute).UTC()
	for i := 0; i < 40; i++ {
		sev := contract.SeverityInfo
		if i%4 == 0 {
			sev = contract.SeverityCritical
		}
		e := p.Event(devices[i%3], sev, float64(400+i))
		e.At = base.Add(time.Duration(i) * 10 * time.Millisecond)
		evs = append(evs, e)
		if sev == contract.SeverityCritical {
			critical = append(critical, e)
		}
		newest[e.Device] = e
	}
	if err := pr.Send(evs...); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The change feed, not a cache miss, puts them in Redis: the API has
	// not been asked yet.
	itest.Eventually(t, 90*time.Second, func() error {
		for _, e := range critical {
			if n := rdb.Exists(ctx, rediscache.EventKey(e.ID)).Val(); n != 1 {
				return fmt.Errorf("event %s not in redis", e.ID)
			}
			if _, err := rdb.ZScore(ctx, rediscache.SiteCriticalKey(p.Site), e.ID).Result(); err != nil {
				return fmt.Errorf("event %s not in the site's set: %v", e.ID, err)
			}
		}
		for d, e := range newest {
			if id := rdb.HGet(ctx, rediscache.DeviceLatestKey(d), "id").Val(); id != e.ID {
				return fmt.Errorf("device %s latest is %q, want %s", d, id, e.ID)
			}
		}
		return nil
	})
	s := cassandra(t, p)
	client := &http.Client{Timeout: 10 * time.Second}
	for _, e := range critical {
		code, xc, body, err := pipelinetest.Get(client, p.URL()+"/v1/events/"+e.ID)
		if err != nil || code != http.StatusOK || xc != "hit" {
			t.Fatalf("GET event %s: %d %q %v", e.ID, code, xc, err)
		}
		if want := stored(t, s, e.ID); !bytes.Equal(body, want) {
			t.Fatalf("cached document differs from cassandra's:\n got %s\nwant %s", body, want)
		}
	}
	code, xc, body, err := pipelinetest.Get(client, p.URL()+"/v1/sites/"+p.Site+"/critical?limit=10")
	if err != nil || code != http.StatusOK || xc != "hit" {
		t.Fatalf("site critical: %d %q %v", code, xc, err)
	}
	var site struct {
		Events []struct {
			ID string `json:"id"`
		} `json:"events"`
	}
	if err := json.Unmarshal(body, &site); err != nil {
		t.Fatal(err)
	}
	if len(site.Events) != len(critical) || site.Events[0].ID != critical[len(critical)-1].ID {
		t.Fatalf("site critical %s", body)
	}
	for d, e := range newest {
		code, xc, body, _ := pipelinetest.Get(client, p.URL()+"/v1/devices/"+d+"/latest")
		if code != http.StatusOK || xc != "hit" || !strings.Contains(string(body), e.ID) {
			t.Fatalf("device %s latest: %d %q %s", d, code, xc, body)
		}
	}
	// An info event is not cached by the feed: a miss fills Redis and the
	// api's own cache of immutable documents, which answers the next read.
	info := evs[1]
	if _, xc, _, _ := pipelinetest.Get(client, p.URL()+"/v1/events/"+info.ID); xc != "miss" {
		t.Fatalf("info event first read %q, want miss", xc)
	}
	if n := redisClient(t, p).Exists(context.Background(), rediscache.EventKey(info.ID)).Val(); n != 1 {
		t.Fatal("the miss did not fill redis")
	}
	if _, xc, _, _ := pipelinetest.Get(client, p.URL()+"/v1/events/"+info.ID); xc != "local" {
		t.Fatalf("info event second read %q, want local", xc)
	}
}

func TestLivePageInChromium(t *testing.T) {
	p := pipelinetest.Start(t, pipelinetest.Options{Extra: []string{"API_LIVE_POLL=500ms"}})
	pr := p.Producer()
	rdb := redisClient(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// Some history on three sites, so the page has something to show.
	var warm []contract.Event
	for s := 0; s < 3; s++ {
		for i := 0; i < 3; i++ {
			e := p.Event(fmt.Sprintf("%s-d%d", p.Site, i), contract.SeverityCritical, float64(1500+100*s+i))
			e.Site = fmt.Sprintf("%s-%c", p.Site, 'a'+s)
			e.At = time.Now().Add(time.Duration(-10+i) * time.Second).UTC()
			warm = append(warm, e)
		}
	}
	if err := pr.Send(warm...); err != nil {
		t.Fatal(err)
	}
	itest.Eventually(t, 90*time.Second, func() error {
		for _, e := range warm {
			if rdb.Exists(ctx, rediscache.EventKey(e.ID)).Val() != 1 {
				return fmt.Errorf("warm-up event %s not cached yet", e.ID)
			}
		}
		return nil
	})
	// The workloads of a test write to the tests' Redis database: nothing
	// of it reaches the demo's, which its live page reads.
	demo := redis.NewClient(&redis.Options{Addr: p.EP.RedisAddr, DB: devservices.DemoRedisDB, DisableIdentity: true, MaxRetries: -1})
	t.Cleanup(func() { _ = demo.Close() })
	if p.EP.RedisDB == devservices.DemoRedisDB {
		t.Fatalf("the tests use the demo's Redis database %d", p.EP.RedisDB)
	}
	for _, e := range warm {
		if demo.Exists(ctx, rediscache.EventKey(e.ID)).Val() != 0 || demo.ZScore(ctx, rediscache.LiveSitesKey, e.Site).Err() != redis.Nil {
			t.Fatalf("event %s of site %s reached the demo's Redis database", e.ID, e.Site)
		}
	}

	b := pipelinetest.StartBrowser(t)
	if err := b.Navigate(ctx, p.URL()+"/"); err != nil {
		t.Fatal(err)
	}
	// Navigation returns before the document exists: every check copes
	// with a page still loading.
	waitJS(t, ctx, b, `(() => { const s = document.getElementById("status");
		return !!s && s.textContent.startsWith("updated") && document.querySelectorAll("[data-event-id]").length > 0; })()`)
	if err := b.Eval(ctx, `window.sluiceNoReload = 42; true`, nil); err != nil {
		t.Fatal(err)
	}

	// A critical event produced now appears without a reload.
	e := p.Event(p.Site+"-d9", contract.SeverityCritical, 1999)
	e.Site = p.Site + "-a"
	produced := time.Now()
	if err := pr.Send(e); err != nil {
		t.Fatal(err)
	}
	var seen struct {
		Found  bool   `json:"found"`
		Marker int    `json:"marker"`
		Site   string `json:"site"`
		Text   string `json:"text"`
		New    bool   `json:"new"`
	}
	expr := fmt.Sprintf(`(() => { const el = document.querySelector('[data-event-id="%s"]');
		return el ? {found: true, marker: window.sluiceNoReload || 0, site: el.closest(".site").dataset.site, text: el.textContent, new: el.classList.contains("new")}
		          : {found: false, marker: window.sluiceNoReload || 0}; })()`, e.ID)
	deadline := time.Now().Add(90 * time.Second)
	for {
		if err := b.Eval(ctx, expr, &seen); err != nil {
			t.Fatal(err)
		}
		if seen.Marker != 42 {
			t.Fatal("the page reloaded; it must update in place")
		}
		if seen.Found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s did not appear on the page within 90 s", e.ID)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("critical event visible on the page %s after it was produced", time.Since(produced).Round(time.Millisecond))
	if seen.Site != e.Site || !strings.Contains(seen.Text, "co2") || !strings.Contains(seen.Text, "1999") || !seen.New {
		t.Fatalf("event rendered as %+v", seen)
	}
	// The stream job's minutes of site -a and its silent device (written
	// here as the job writes them) are drawn on the card within a refresh.
	cs := cassandra(t, p)
	site := p.Site + "-a"
	minute := time.Now().UTC().Truncate(time.Minute).Add(-5 * time.Minute)
	for i, n := range []int64{7, 19, 4} {
		m := minute.Add(time.Duration(i) * time.Minute)
		for kind, events := range map[string]int64{"co2": n, "humidity": n + 1} {
			if err := cs.Query(`INSERT INTO site_minutes (site, day, kind, minute, unit, events, min_value, max_value, sum_value, mean_value, updated_at)
				VALUES (?, ?, ?, ?, 'u', ?, 1, 2, 3, 1.5, ?)`, site, contract.Day(m), kind, m, events, time.Now()).Exec(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := cs.Query(`INSERT INTO silent_devices (site, device, kind, silent, last_seen, changed_at, updated_at) VALUES (?, 'quiet-1', 'co2', true, ?, ?, ?)`,
		site, minute, minute.Add(5*time.Minute), time.Now()).Exec(); err != nil {
		t.Fatal(err)
	}
	// The page fetches the minutes once per 30 s per site: reload to
	// skip the wait.
	if err := b.Navigate(ctx, p.URL()+"/"); err != nil {
		t.Fatal(err)
	}
	var chart struct {
		Values map[string]float64 `json:"values"`
		Silent string             `json:"silent"`
	}
	chartExpr := fmt.Sprintf(`(() => { const c = document.querySelector('.site[data-site=%q]'); if (!c) return {values: {}, silent: ""};
		const v = {}; c.querySelectorAll("svg.minutes rect").forEach(r => v[r.dataset.minute] = Number(r.dataset.value));
		const s = c.querySelector(".silent"); return {values: v, silent: s ? s.dataset.silent : ""}; })()`, site)
	deadline = time.Now().Add(60 * time.Second)
	for {
		if err := b.Eval(ctx, chartExpr, &chart); err != nil {
			t.Fatal(err)
		}
		if len(chart.Values) == 3 && chart.Silent != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the minutes chart of %s shows %+v within 60 s, want 3 minutes and a silent device", site, chart)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for i, n := range []float64{7, 19, 4} {
		m := minute.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)
		if chart.Values[m] != 2*n+1 { // co2 plus humidity
			t.Errorf("minute %s drawn as %v events, Cassandra holds %v", m, chart.Values[m], 2*n+1)
		}
	}
	if chart.Silent != "quiet-1" {
		t.Errorf("silent devices on the page %q, want quiet-1", chart.Silent)
	}

	b.SaveScreenshot(t, ctx, "live-page.png")
}

func waitJS(t *testing.T, ctx context.Context, b *pipelinetest.Browser, cond string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var ok bool
		if err := b.Eval(ctx, cond, &ok); err != nil {
			t.Fatal(err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var status string
			_ = b.Eval(ctx, `(document.getElementById("status") || {}).textContent || "no status yet"`, &status)
			t.Fatalf("page condition %q not met within 60 s (status %q)", cond, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
