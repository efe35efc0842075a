package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/localrun"
	"github.com/sluicehq/sluice/workloads/dev/rtprobe"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
	"github.com/sluicehq/sluice/workloads/internal/kafkaclient"
	"github.com/sluicehq/sluice/workloads/internal/progress"
	"github.com/sluicehq/sluice/workloads/internal/simulate"
)

func init() { benchmarks["e2e"] = benchE2E }

// benchE2E measures the real-time path end to end at a steady rate:
// produce to Kafka → ingest → Cassandra and outbox → changefeed → Redis →
// visible in GET /v1/sites/{site}/critical. Every critical event's latency
// runs from its event time (stamped as it is produced) to the first poll
// that sees it; pollers ask each site every -poll.
func benchE2E(args []string) error {
	fs := flag.NewFlagSet("bench e2e", flag.ContinueOnError)
	bin := fs.String("bin", ".sluice/bin", "folder holding the ingest, changefeed and api binaries")
	rate := fs.Float64("rate", 2000, "events per second")
	d := fs.Duration("duration", 30*time.Second, "how long to produce")
	critical := fs.Float64("critical-share", 0.02, "share of critical events")
	poll := fs.Duration("poll", 25*time.Millisecond, "how often each site's critical events are read")
	warmup := fs.Duration("warmup", 15*time.Second, "produce at the same rate for at least this long before measuring, so Cassandra's JIT and caches are warm")
	maxWarmup := fs.Duration("max-warmup", 3*time.Minute, "longest warm-up: past -warmup it goes on until ingest keeps up (no backlog for 5 s in a row)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	lc, err := startLocal(ctx, devservices.Kafka, devservices.Cassandra, devservices.Redis)
	if err != nil {
		return err
	}
	home, envMap := lc.home, lc.env
	envMap["LOG_LEVEL"] = "warn"
	r := envconfig.NewFrom(envconfig.FromMap(envMap))
	cc := cqlsession.FromEnv(r)
	kc := kafkaclient.FromEnv(r, "sluice-bench-e2e")
	if err := r.Err(); err != nil {
		return err
	}
	if err := eventstore.MigrateConfig(ctx, cc, 1); err != nil {
		return err
	}

	run := time.Now().UnixNano()
	topic := fmt.Sprintf("bench-rt-%d", run)
	sc, err := kc.Sarama(nil)
	if err != nil {
		return err
	}
	admin, err := sarama.NewClusterAdmin(kc.Brokers, sc)
	if err != nil {
		return err
	}
	defer func() {
		_ = admin.DeleteTopic(topic)
		_ = admin.DeleteTopic(topic + ".dlq")
		admin.Close()
	}()
	if err := kafkaclient.EnsureTopics(admin, []kafkaclient.Topic{{Name: topic, Partitions: 6}, {Name: topic + ".dlq", Partitions: 1}}); err != nil {
		return err
	}
	env := []string{"KAFKA_TOPIC=" + topic, "KAFKA_DLQ_TOPIC=" + topic + ".dlq"}
	for k, v := range envMap {
		env = append(env, k+"="+v)
	}
	logs := filepath.Join(home, "logs")
	var procs []*localrun.Proc
	defer func() {
		for i := len(procs) - 1; i >= 0; i-- {
			_ = procs[i].Stop(30 * time.Second)
		}
	}()
	for _, p := range []struct {
		name string
		env  []string
	}{
		{"changefeed", []string{fmt.Sprintf("CHANGEFEED_NAME=bench-e2e-%d", run)}},
		{"ingest", []string{fmt.Sprintf("INGEST_GROUP=bench-e2e-%d", run), "INGEST_OUTBOX=true"}},
		{"api", []string{"API_MODE=local"}},
	} {
		proc, err := localrun.Start(ctx, p.name, filepath.Join(*bin, p.name), append(append([]string(nil), env...), p.env...), nil,
			filepath.Join(logs, "bench-e2e-"+p.name+".log"), 2*time.Minute)
		if err != nil {
			return err
		}
		procs = append(procs, proc)
	}
	api := procs[2]

	const sites, devices = 12, 500
	gen, err := simulate.NewGenerator(sites, devices, simulate.Mix{Warning: 0.05, Critical: *critical}, uint64(run))
	if err != nil {
		return err
	}
	fleet, _ := simulate.Fleet(sites, devices)
	siteIDs := make([]string, len(fleet))
	for i, s := range fleet {
		siteIDs[i] = s.ID
	}
	probe := rtprobe.New("http://"+api.Addr, 60, *poll)
	probe.Start(ctx, siteIDs)
	defer probe.Stop()

	ap, err := sarama.NewAsyncProducer(kc.Brokers, sc)
	if err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	// Only events produced after the warm-up are measured; the warm-up
	// runs at the same rate in the same stream, so nothing drains between.
	// It lasts at least -warmup and then until ingest keeps up: a cold
	// Cassandra (just started, its JIT still compiling) builds a backlog
	// that would otherwise be measured as latency of the warm system.
	var measureFrom atomic.Int64
	measureFrom.Store(math.MaxInt64)
	prod := &simulate.Producer{AP: ap, Topic: topic, Gen: gen, OnAck: func(a simulate.Acked) {
		if ev := a.Record.Event; ev != nil && ev.Severity == contract.SeverityCritical && ev.At.UnixNano() >= measureFrom.Load() {
			probe.Expect(ev.Site, ev.ID, ev.At)
		}
	}}
	fmt.Printf("producing %.0f events/s (%.0f%% critical) through ingest → changefeed → api: a warm-up of %s to %s until ingest keeps up, then %s measured\n",
		*rate, *critical*100, *warmup, *maxWarmup, *d)
	bar := progress.New("events", -1)
	var phase atomic.Value
	phase.Store("warming up")
	stopBar := progress.Tick(func() {
		bar.Set(prod.Stats().Acked, fmt.Sprintf("%s · %d critical visible", phase.Load(), probe.Seen()))
	})
	// backlog is how many acknowledged records ingest has not finished
	// (stored or dead-lettered) yet.
	backlog := func() (float64, error) {
		mt, err := procs[1].Metrics()
		if err != nil {
			return 0, err
		}
		return float64(prod.Stats().Acked) - mt["sluice_ingest_written_total"] - mt["sluice_ingest_dlq_total"], nil
	}
	// Snapshots of the stage histograms when the warm-up ends.
	marks := map[string]histogram{}
	var lateMark, changesMark float64
	var warmedFor time.Duration
	keptUp := false
	prodCtx, stopProducing := context.WithCancel(ctx)
	defer stopProducing()
	marked := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(marked)
		steady := 0
		for steady < 5 {
			select {
			case <-prodCtx.Done():
				return
			case <-time.After(time.Second):
			}
			warmedFor = time.Since(start)
			if warmedFor < *warmup {
				continue
			}
			if n, err := backlog(); err == nil && n <= *rate/2 {
				steady++
			} else {
				steady = 0
			}
			if warmedFor >= *maxWarmup {
				break
			}
		}
		keptUp = steady >= 5
		for _, m := range []struct {
			proc *localrun.Proc
			name string
		}{
			{procs[1], "sluice_ingest_event_age_seconds"}, {procs[1], "sluice_ingest_write_seconds"},
			{procs[0], "sluice_changefeed_handle_seconds"}, {procs[0], "sluice_changefeed_read_seconds"},
			{procs[0], "sluice_changefeed_lag_seconds"},
		} {
			if h, err := scrapeHistogram("http://"+m.proc.Addr+"/metrics", m.name); err == nil {
				marks[m.name] = h
			}
		}
		if mt, err := procs[0].Metrics(); err == nil {
			lateMark, changesMark = mt["sluice_changefeed_late_changes_total"], mt["sluice_changefeed_changes_total"]
		}
		measureFrom.Store(time.Now().UnixNano())
		phase.Store("measuring")
		select {
		case <-prodCtx.Done():
		case <-time.After(*d):
			stopProducing()
		}
	}()
	// The plan's duration is only a backstop: the goroutine above ends
	// production once the measured phase is over.
	stats, err := prod.Run(prodCtx, simulate.Plan{Rate: *rate, Duration: *maxWarmup + *d + time.Minute})
	stopProducing()
	<-marked
	elapsed := time.Since(start)
	stopBar()
	bar.Finish()
	if err != nil {
		return err
	}
	if measureFrom.Load() == math.MaxInt64 {
		return errors.New("production ended before the warm-up did")
	}
	if !keptUp {
		fmt.Fprintf(os.Stderr, "ingest never kept up with %.0f events/s during a warm-up of %s: the measurement includes its backlog\n", *rate, warmedFor.Round(time.Second))
	}
	// Stragglers get a bounded time to show up.
	probe.WaitAll(30 * time.Second)
	probe.Stop()
	res := probe.Result()
	lat := res.Latencies
	if res.PollErrs > 0 {
		fmt.Fprintf(os.Stderr, "%d polls failed (see %s)\n", res.PollErrs, filepath.Join(logs, "bench-e2e-api.log"))
	}
	if res.Missing > 0 {
		return fmt.Errorf("%d of %d critical events never became visible through the api within 30 s of the end (logs in %s)", res.Missing, res.Missing+len(lat), logs)
	}
	if len(lat) == 0 {
		return fmt.Errorf("no critical events were produced")
	}
	// Where the time goes, from the workloads' own histograms, counting
	// only what happened after the warm-up.
	stage := func(proc *localrun.Proc, name string) string {
		h, err := scrapeHistogram("http://"+proc.Addr+"/metrics", name)
		if err != nil {
			return "n/a"
		}
		h = h.since(marks[name])
		if h.count == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.0f / %.0f", h.sum/h.count*1000, h.quantile(0.99)*1000)
	}
	ingestMean := stage(procs[1], "sluice_ingest_event_age_seconds")
	writeMean := stage(procs[1], "sluice_ingest_write_seconds")
	handleMean := stage(procs[0], "sluice_changefeed_handle_seconds")
	readMean := stage(procs[0], "sluice_changefeed_read_seconds")
	feedMean := stage(procs[0], "sluice_changefeed_lag_seconds")
	late := "n/a"
	if mt, err := procs[0].Metrics(); err == nil {
		late = fmt.Sprintf("%.0f of %.0f", mt["sluice_changefeed_late_changes_total"]-lateMark, mt["sluice_changefeed_changes_total"]-changesMark)
	}
	rateGot := float64(stats.Acked) / elapsed.Seconds()
	p50, p99 := res.Percentile(0.50), res.Percentile(0.99)
	verdict := "meets"
	if p99 > time.Second {
		verdict = "MISSES"
	}
	fmt.Fprintf(os.Stderr, "target p99 ≤ 1 s: %s\n", verdict)
	return report("e2e", []row{
		{"warm-up (until ingest kept up)", warmedFor.Round(time.Second).String()},
		{"events produced, warm-up included", fmt.Sprint(stats.Acked)},
		{"produce rate (events/s)", fmt.Sprintf("%.0f", rateGot)},
		{"critical events measured", fmt.Sprint(len(lat))},
		{"poll interval per site", poll.String()},
		{"produce → visible in the api p50 ms", fmt.Sprintf("%.1f", ms(p50))},
		{"produce → visible in the api p99 ms (≤ 1000)", fmt.Sprintf("%.1f", ms(p99))},
		{"produce → visible in the api max ms", fmt.Sprintf("%.1f", ms(lat[len(lat)-1]))},
		{"event → stored by ingest, mean / p99 ms", ingestMean},
		{"  of which the write to cassandra, mean / p99 ms", writeMean},
		{"ingested → in redis by changefeed, mean / p99 ms", feedMean},
		{"  feed read, mean / p99 ms", readMean},
		{"  redis write per change batch, mean / p99 ms", handleMean},
		{"changes found behind the feed tail", late},
	}, [][2]any{
		{"events_per_s", round(rateGot)}, {"p50_ms", ms(p50)}, {"p99_ms", ms(p99)},
	})
}
