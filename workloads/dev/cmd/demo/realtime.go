package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/localrun"
	"github.com/sluicehq/sluice/workloads/dev/rtprobe"
	"github.com/sluicehq/sluice/workloads/internal/api"
	"github.com/sluicehq/sluice/workloads/internal/simulate"
)

// The demo's fleet, as the stream step generates it.
const demoSites, demoDevices = 12, 500

// realtime is the demo's real-time path: the changefeed worker filling
// Redis from the outbox ingest writes, and the api serving the live page.
type realtime struct {
	serve      bool
	changefeed *localrun.Proc
	api        *localrun.Proc
	probe      *rtprobe.Probe
	critical   int
}

// startRealtime starts changefeed and api and begins watching every site's
// critical events through the api, so the stream's latency is measured as
// it happens.
func (d *demo) startRealtime(ctx context.Context) error {
	// A stable consumer name: a re-run resumes from the last checkpoint.
	cf, err := d.launch.Start(ctx, localrun.Spec{Name: "changefeed", Env: []string{"CHANGEFEED_NAME=demo"}})
	if err != nil {
		return err
	}
	d.rt.changefeed = cf
	// The report page reads PostgreSQL as the BI login, a member of
	// report_reader, as Power BI would.
	api, err := d.launch.Start(ctx, localrun.Spec{Name: "api", Env: []string{"API_MODE=local", "POSTGRES_URL=" + d.reportURL()}})
	if err != nil {
		return err
	}
	d.rt.api = api
	sites, _ := simulate.Fleet(demoSites, demoDevices)
	ids := make([]string, len(sites))
	for i, s := range sites {
		ids[i] = s.ID
	}
	d.rt.probe = rtprobe.New("http://"+api.Addr, 60, 50*time.Millisecond)
	d.rt.probe.Start(ctx, ids)
	fmt.Printf("  changefeed ready (metrics http://%s/metrics)\n", cf.Addr)
	fmt.Printf("  live page: http://%s/  (open it now to watch critical events arrive)\n", api.Addr)
	fmt.Printf("  report page: http://%s/reports  (its charts fill once enrich has run, at the end)\n", api.Addr)
	return nil
}

// track is called for every acknowledged record of the stream.
func (r *realtime) track(a simulate.Acked) {
	if ev := a.Record.Event; ev != nil && ev.Severity == contract.SeverityCritical && r.probe != nil {
		r.probe.Expect(ev.Site, ev.ID, ev.At)
		r.critical++
	}
}

// stopProbe ends the probe's polling.
func (r *realtime) stopProbe() {
	if r.probe != nil {
		r.probe.Stop()
	}
}

// stopRealtime ends the real-time processes, the api first.
func (d *demo) stopRealtime() {
	d.rt.stopProbe()
	for _, p := range []*localrun.Proc{d.rt.api, d.rt.changefeed} {
		if p != nil {
			_ = d.launch.Stop(p)
		}
	}
	d.rt.api, d.rt.changefeed = nil, nil
}

// realtimeSummary waits for the last critical events to show up, reads a
// sample of events and devices through the api (info events are cache
// misses that fill Redis, critical ones hits), and prints the latency and
// the cache hit ratio.
func (d *demo) realtimeSummary(ctx context.Context) error {
	r := d.rt
	r.probe.WaitAll(30 * time.Second)
	r.probe.Stop()
	res := r.probe.Result()
	if res.Missing > 0 {
		return fmt.Errorf("%d of %d critical events never became visible through the api (logs: %s)", res.Missing, r.critical, d.launch.Logs)
	}

	client := &http.Client{Timeout: 10 * time.Second}
	base := "http://" + r.api.Addr
	d.mu.Lock()
	acked := d.acked
	d.mu.Unlock()
	step := max(1, len(acked)/300)
	devices := map[string]bool{}
	var reads, failed int
	for i := 0; i < len(acked); i += step {
		ev := acked[i].Record.Event
		// Twice per event: the second read of an info event is a hit.
		paths := []string{"/v1/events/" + ev.ID, "/v1/events/" + ev.ID}
		if !devices[ev.Device] {
			devices[ev.Device] = true
			paths = append(paths, "/v1/devices/"+ev.Device+"/latest")
		}
		for _, path := range paths {
			reads++
			if err := drain(ctx, client, base+path); err != nil {
				failed++
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d sample reads through the api failed (log: %s)", failed, reads, d.launch.LogPath("api"))
	}
	m, err := r.api.Metrics()
	if err != nil {
		return err
	}
	hits, misses, bypass := m["sluice_api_cache_hits_total"], m["sluice_api_cache_misses_total"], m["sluice_api_cache_bypass_total"]
	ratio := 0.0
	if total := hits + misses + bypass; total > 0 {
		ratio = hits / total
	}
	fmt.Printf("\n  %-32s %12s\n", "live page", base+"/")
	fmt.Printf("  %-32s %12s\n", "report page", base+"/reports")
	fmt.Printf("  %-32s %12d\n", "critical events visible in api", len(res.Latencies))
	fmt.Printf("  %-32s %12s\n", "produce→visible in api p50", res.Percentile(0.50).Round(time.Millisecond))
	fmt.Printf("  %-32s %12s\n", "produce→visible in api p99", res.Percentile(0.99).Round(time.Millisecond))
	fmt.Printf("  %-32s %11.1f%%  (%.0f hits, %.0f misses, %.0f bypassed)\n", "api cache hit ratio", ratio*100, hits, misses, bypass)
	return nil
}

// reports reads the report page's data through the api, now that enrich
// has run, and prints what its charts show; with -serve it then keeps the
// api up until interrupted.
func (d *demo) reports(ctx context.Context) error {
	base := "http://" + d.rt.api.Addr
	hours := int(time.Since(contract.Hour(d.started)).Hours()) + 1
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/v1/reports?hours=%d", base, hours), nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("read the reports through the api: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("GET /v1/reports: %s: %s (log: %s)", resp.Status, body, d.launch.LogPath("api"))
	}
	var rep api.Report
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return fmt.Errorf("decode the report: %w", err)
	}
	var devices int64
	for _, h := range rep.Health {
		devices += h.Devices
	}
	fresh := "never"
	if rep.EnrichedTo != nil {
		fresh = rep.EnrichedTo.Format(time.RFC3339)
	}
	fmt.Printf("  %-32s %s/reports\n", "report page", base)
	fmt.Printf("  %-32s %12d  (+%d not drawn)\n", "sites charted", len(rep.Sites), rep.SitesOmitted)
	fmt.Printf("  %-32s %12d\n", "kinds charted", len(rep.Kinds))
	fmt.Printf("  %-32s %12d\n", "devices by health", devices)
	fmt.Printf("  %-32s %12s\n", "enriched up to", fresh)
	if len(rep.Sites) == 0 {
		return fmt.Errorf("the report page has no site to chart for the %d hours the demo enriched", hours)
	}
	if d.rt.serve {
		fmt.Printf("\n  serving the live page on %s/ and the reports on %s/reports until Ctrl-C\n", base, base)
		<-ctx.Done()
	}
	d.stopRealtime()
	return nil
}

// drain GETs url and discards the answer; any status but 200 is an error.
func drain(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}
