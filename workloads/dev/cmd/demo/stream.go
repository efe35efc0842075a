package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gocql/gocql"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/localrun"
	"github.com/sluicehq/sluice/workloads/dev/sparkrun"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/simulate"
)

// sparkStream is the Spark stream job running beside ingest, and what the
// demo measures of it: how many of the stream's events its one-minute
// aggregates count, sampled every second.
type sparkStream struct {
	proc    *sparkrun.Proc
	log     string
	session *gocql.Session
	sites   []string
	from    time.Time // the first minute of the demo's stream
	base    int64     // events the aggregates held for those minutes before
	stop    chan struct{}
	done    chan struct{}

	mu      sync.Mutex
	samples []streamSample
}

type streamSample struct {
	at     time.Time
	events int64
}

// startSpark starts the stream job (sparkrun.DemoTrigger, local[2]) on the demo's
// topic and waits until both queries finished a first batch: the first
// one loads and compiles most of what the job runs, tens of seconds on a
// busy machine, and the stream should not queue up behind it. Its checkpoint lives with the
// engines' data, so a re-run resumes it and a purge forgets it.
func (d *demo) startSpark(ctx context.Context) error {
	m := d.local.Manager
	job, err := sparkrun.Prepare(ctx, m)
	if err != nil {
		return err
	}
	ckpt := filepath.Join(m.Layout().DataRoot(), "spark", "demo")
	if err := os.MkdirAll(ckpt, 0o755); err != nil {
		return fmt.Errorf("spark checkpoint folder: %w", err)
	}
	log := filepath.Join(d.launch.Logs, "spark-stream.log")
	_ = os.Remove(log)
	env := localrun.Env(d.ep, "SPARK_CHECKPOINT="+ckpt, "SPARK_TRIGGER="+sparkrun.DemoTrigger.String(), "SPARK_GROUP_PREFIX=sluice-demo-spark",
		"SPARK_STARTING_OFFSETS=latest")
	p, err := sparkrun.Start(sparkrun.Options{Job: job, Env: env, Log: log})
	if err != nil {
		return err
	}
	s := &sparkStream{proc: p, log: log}
	d.spark = s
	begin := time.Now()
	for {
		if ready(log, "site-minutes") && ready(log, "silent-devices") {
			break
		}
		if p.Exited() {
			return fmt.Errorf("the spark stream job exited before it started (log %s):\n%s", log, localrun.Tail(log, 20))
		}
		if time.Since(begin) > 3*time.Minute {
			return fmt.Errorf("the spark stream job did not start within 3 minutes (log %s)", log)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	r := envconfig.NewFrom(localrun.Lookup(d.launch.Env))
	cc := cqlsession.FromEnv(r)
	if err := r.Err(); err != nil {
		return err
	}
	if s.session, err = cc.Open(); err != nil {
		return err
	}
	sites, _ := simulate.Fleet(demoSites, demoDevices)
	for _, site := range sites {
		s.sites = append(s.sites, site.ID)
	}
	s.from = time.Now().UTC().Truncate(time.Minute)
	if s.base, err = s.total(ctx); err != nil {
		return err
	}
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	go s.sample()
	fmt.Printf("  spark stream job running (local[2], %s trigger) after %s; log %s\n", sparkrun.DemoTrigger, time.Since(begin).Round(time.Second), log)
	return nil
}

// ready tells whether the job's log shows a query past its first trigger:
// a batch done, or idle (a checkpoint with nothing new to read).
func ready(log, query string) bool {
	b, _ := os.ReadFile(log)
	text := string(b)
	return strings.Contains(text, "query "+query+" batch ") || strings.Contains(text, "query "+query+" idle")
}

// total sums the events of the demo sites' minutes since from.
func (s *sparkStream) total(ctx context.Context) (int64, error) {
	var n int64
	for day := contract.Day(s.from); !day.After(time.Now().UTC()); day = day.AddDate(0, 0, 1) {
		for _, site := range s.sites {
			iter := s.session.Query(`SELECT minute, events FROM `+contract.Keyspace+`.`+contract.TableSiteMinutes+` WHERE site = ? AND day = ?`,
				site, day).WithContext(ctx).Iter()
			var (
				minute time.Time
				events int64
			)
			for iter.Scan(&minute, &events) {
				if !minute.Before(s.from) {
					n += events
				}
			}
			if err := iter.Close(); err != nil {
				return 0, fmt.Errorf("read site minutes: %w", err)
			}
		}
	}
	return n, nil
}

func (s *sparkStream) sample() {
	defer close(s.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		n, err := s.total(ctx)
		cancel()
		if err != nil {
			continue
		}
		s.mu.Lock()
		s.samples = append(s.samples, streamSample{at: time.Now(), events: n - s.base})
		s.mu.Unlock()
	}
}

// sparkSummary waits until the aggregates count every event the stream
// produced (or stop growing for a minute), prints how far behind event time
// they were while it ran, and stops the job.
func (d *demo) sparkSummary(ctx context.Context) error {
	s := d.spark
	d.mu.Lock()
	ats := make([]time.Time, len(d.acked))
	for i, a := range d.acked {
		ats[i] = a.Record.Event.At
	}
	d.mu.Unlock()
	sort.Slice(ats, func(i, j int) bool { return ats[i].Before(ats[j]) })
	want := int64(len(ats))
	var got int64
	grew := time.Now()
	for {
		s.mu.Lock()
		if n := len(s.samples); n > 0 {
			if s.samples[n-1].events > got {
				grew = time.Now()
			}
			got = s.samples[n-1].events
		}
		s.mu.Unlock()
		if got >= want || time.Since(grew) > time.Minute || s.proc.Exited() {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	close(s.stop)
	<-s.done
	// Each sample that counted n events: the n-th event's time (by event
	// time) had been aggregated by the sample's time.
	var lags []time.Duration
	var complete time.Time
	s.mu.Lock()
	for _, smp := range s.samples {
		if smp.events <= 0 {
			continue
		}
		i := min(int(smp.events), len(ats)) - 1
		lags = append(lags, smp.at.Sub(ats[i]))
		if smp.events >= want && complete.IsZero() {
			complete = smp.at
		}
	}
	s.mu.Unlock()
	sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
	pct := func(p float64) time.Duration {
		if len(lags) == 0 {
			return 0
		}
		return lags[min(len(lags)-1, int(p*float64(len(lags))))].Round(100 * time.Millisecond)
	}
	var minutes int
	for day := contract.Day(s.from); !day.After(time.Now().UTC()); day = day.AddDate(0, 0, 1) {
		for _, site := range s.sites {
			var n int
			if err := s.session.Query(`SELECT COUNT(*) FROM `+contract.Keyspace+`.`+contract.TableSiteMinutes+` WHERE site = ? AND day = ?`,
				site, day).WithContext(ctx).Scan(&n); err == nil {
				minutes += n
			}
		}
	}
	fmt.Printf("  %-32s %12d of %d\n", "events in the minute aggregates", got, want)
	fmt.Printf("  %-32s %12d  (site × kind × minute, today, %d sites)\n", "aggregate rows", minutes, len(s.sites))
	fmt.Printf("  %-32s %12s\n", "event time→aggregate visible p50", pct(0.50))
	fmt.Printf("  %-32s %12s\n", "event time→aggregate visible p99", pct(0.99))
	if !complete.IsZero() && len(ats) > 0 {
		fmt.Printf("  %-32s %12s\n", "last event→all aggregated", complete.Sub(ats[len(ats)-1]).Round(100*time.Millisecond))
	}
	fmt.Printf("  api: %s/v1/sites/%s/minutes\n", "http://"+d.rt.api.Addr, s.sites[0])
	d.stopSpark()
	if got < want {
		return fmt.Errorf("the spark aggregates count %d of the %d events and stopped growing (log %s)", got, want, s.log)
	}
	return nil
}

// stopSpark stops the job (SIGTERM: its queries stop at a batch boundary).
func (d *demo) stopSpark() {
	s := d.spark
	if s == nil {
		return
	}
	if s.stop != nil {
		select {
		case <-s.stop:
		default:
			close(s.stop)
			<-s.done
		}
	}
	s.proc.Stop(30 * time.Second)
	if s.session != nil {
		s.session.Close()
	}
	d.spark = nil
}
