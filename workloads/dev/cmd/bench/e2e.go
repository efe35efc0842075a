package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/localrun"
	"github.com/sluicehq/sluice/workloads/dev/rtprobe"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
	"github.com/sluicehq/sluice/workloads/internal/kafkaclient"
	"github.com/sluicehq/sluice/workloads/internal/progress"
	"github.com/sluicehq/sluice/workloads/internal/simulate"
)

func init() { benchmarks["e2e"] = benchE2E }

// The e2e benchmark's fleet.
const e2eSites, e2eDevices = 12, 500

// benchE2E measures the real-time path end to end at a steady rate:
// produce to Kafka → ingest → Cassandra and outbox → changefeed → Redis →
// visible in GET /v1/sites/{site}/critical. Every critical event's latency
// runs from its event time (stamped as it is produced) to the first poll
// that sees it; pollers ask each site every -poll. The rate comes from two
// ceilings measured first: bare upserts, and the whole path (measurePath).
//
// With -cold it first restarts the engines it uses (stop, then start with
// devservices' warm-up, as `make services-up` after a reboot), measures the
// first -duration window of the stream from its first event, and then, in
// the same stream, warms up and measures the warm window as without
// -cold. It stops engines others may be using: run it holding the engines
// lock exclusively.
func benchE2E(args []string) error {
	b, err := parseE2E(args)
	if err != nil {
		return err
	}
	ctx := context.Background()
	defer b.teardown()
	if err := b.setup(ctx); err != nil {
		return err
	}
	if err := b.measureCeiling(); err != nil {
		return err
	}
	if err := b.measurePath(ctx); err != nil {
		return err
	}
	b.pickRate()
	// The ceilings are measured on the engines as they were; a cold run
	// restarts them after, so their load warms nothing.
	if b.cold {
		if err := b.restartEngines(ctx); err != nil {
			return err
		}
	}
	if err := b.startWorkloads(ctx); err != nil {
		return err
	}
	b.startProbe(ctx)
	if err := b.produce(ctx); err != nil {
		return err
	}
	res := b.collect()
	if err := b.report(res); err != nil {
		return err
	}
	// The figures are out; a critical event that never became visible
	// still fails the run.
	if res.Missing > 0 {
		return fmt.Errorf("%d of %d critical events never became visible through the api within 30 s of the end (logs in %s)",
			res.Missing, res.Missing+len(res.Latencies), b.launch.Logs)
	}
	return nil
}

// e2eDemoRate is the demo's rate: the benchmark runs at it when it fits
// under -share of the machine's ceiling.
const e2eDemoRate = 2000

// e2eTarget is the produce → visible p99 target on warm engines.
const e2eTarget = 500 * time.Millisecond

// The targets of -cold: the first window after the engines start (and
// warm up) has a produce → visible p99 of at most e2eColdTarget and at
// most e2eColdRatio times the warm window's.
const (
	e2eColdTarget = time.Second
	e2eColdRatio  = 2.0
)

// e2eColdEngines are the engines the benchmark uses, which -cold restarts.
var e2eColdEngines = []devservices.Engine{devservices.Kafka, devservices.Cassandra, devservices.Redis}

// e2eSeenWithin is how long after its window an event may still become
// visible before it counts as missing.
const e2eSeenWithin = 30 * time.Second

// e2eCeilingEvents is how many bare upserts measure the ceiling, after a
// warm-up of a quarter as many.
const e2eCeilingEvents = 20000

// measureCeiling measures what this machine's Cassandra stores with bare
// batched upserts (the writes ingest makes, outbox included): the rate the
// whole-path ceiling's burst is produced at, and the baseline beside it.
func (b *e2eBench) measureCeiling() error {
	session, err := b.cc.Open()
	if err != nil {
		return err
	}
	defer session.Close()
	store := eventstore.New(session, b.cc.Keyspace, eventstore.WithOutbox(""))
	gen, err := simulate.NewGenerator(e2eSites, e2eDevices, simulate.DefaultMix, uint64(b.run)+1)
	if err != nil {
		return err
	}
	now := time.Now()
	events := func(n int) []contract.Event {
		out := make([]contract.Event, n)
		for i := range out {
			out[i] = *gen.Next(now).Event
		}
		return out
	}
	if _, err := bareUpserts(session, store, "ceiling warm-up", events(e2eCeilingEvents/4), 256); err != nil {
		return err
	}
	secs, err := bareUpserts(session, store, "ceiling", events(e2eCeilingEvents), 256)
	if err != nil {
		return err
	}
	b.ceiling = e2eCeilingEvents / secs
	fmt.Printf("ceiling: %.0f events/s as bare upserts\n", b.ceiling)
	return nil
}

// pickRate sets the run's rate and says why (see e2eRate).
func (b *e2eBench) pickRate() {
	b.rate, b.rateWhy = e2eRate(b.rate, b.share, b.path.delivered)
	fmt.Printf("running at %.0f events/s (%s)\n", b.rate, b.rateWhy)
}

// e2eRate picks the rate: asked when given, else the demo's 2,000
// events/s when it is at most share of the whole-path ceiling, else that
// share. A rate near what the path carries measures its queues: the
// p99 target needs headroom on the path's shared cores.
func e2eRate(asked, share, pathCeiling float64) (float64, string) {
	switch {
	case asked > 0:
		return asked, "-rate"
	case e2eDemoRate <= share*pathCeiling:
		return e2eDemoRate, fmt.Sprintf("the demo's rate, under %.0f%% of the whole-path ceiling", share*100)
	default:
		return math.Floor(share * pathCeiling), fmt.Sprintf("%.0f%% of the whole-path ceiling: the demo's %d events/s does not fit", share*100, e2eDemoRate)
	}
}

// mix is the stream's severities: the whole-path burst and the measured
// run produce alike.
func (b *e2eBench) mix() simulate.Mix { return simulate.Mix{Warning: 0.05, Critical: b.critical} }

// e2eBench is one run of the e2e benchmark, filled in phase by phase.
type e2eBench struct {
	// flags
	bin                               string
	rate, share, critical             float64
	duration, poll, warmup, maxWarmup time.Duration
	cold                              bool

	// the ceilings, and why the rate is what it is
	ceiling float64 // bare upserts
	path    e2ePath
	rateWhy string

	// setup
	run   int64 // names this run's topic, consumer group and feed
	topic string
	cc    cqlsession.Config
	kc    kafkaclient.Config
	sc    *sarama.Config
	admin sarama.ClusterAdmin

	lc                      *local
	launch                  *localrun.Launcher
	changefeed, ingest, api *localrun.Proc
	probe                   *rtprobe.Probe

	// produce
	prod        *simulate.Producer
	measureFrom atomic.Int64 // event time (Unix ns) from which criticals are measured
	warm        e2eWarmup
	coldRun     e2eCold
	// procPIDs are the processes whose CPU the windows account for;
	// cpuMarks bound the cold window (0, 1) and the warm one (2, 3).
	procPIDs map[string]int
	cpuMarks [4]cpuMark
	stats    simulate.Stats
	elapsed  time.Duration
}

// e2eCold is what -cold measured: the restart, the engines' warm-ups and
// the first window.
type e2eCold struct {
	restart time.Duration
	warmups []devservices.Warmup
	// marks are the stage histograms as the cold window ended (the
	// workloads started with it, so they hold only the cold window).
	marks map[string]histogram
	res   rtprobe.Result
}

// e2eWarmup is what the warm-up leaves to the report.
type e2eWarmup struct {
	lasted time.Duration
	keptUp bool // ingest had no backlog for 5 s in a row
	// marks are the stage histograms when the warm-up ended, and
	// lateMark and changesMark the changefeed's counters then.
	marks                 map[string]histogram
	lateMark, changesMark float64
}

func parseE2E(args []string) (*e2eBench, error) {
	b := &e2eBench{}
	fs := flag.NewFlagSet("bench e2e", flag.ContinueOnError)
	fs.StringVar(&b.bin, "bin", ".sluice/bin", "folder holding the ingest, changefeed and api binaries")
	fs.Float64Var(&b.rate, "rate", 0, "events per second (0: the demo's 2,000 when it fits under -share of the measured whole-path ceiling, else that share)")
	fs.Float64Var(&b.share, "share", 0.25, "share of the measured whole-path ceiling the rate may use when -rate is 0")
	fs.DurationVar(&b.duration, "duration", 30*time.Second, "how long to produce")
	fs.Float64Var(&b.critical, "critical-share", 0.02, "share of critical events")
	fs.DurationVar(&b.poll, "poll", 25*time.Millisecond, "how often each site's critical events are read")
	fs.DurationVar(&b.warmup, "warmup", 15*time.Second, "produce at the same rate for at least this long before measuring, so Cassandra's JIT and caches are warm")
	fs.DurationVar(&b.maxWarmup, "max-warmup", 3*time.Minute, "longest warm-up: past -warmup it goes on until ingest keeps up (no backlog for 5 s in a row)")
	fs.BoolVar(&b.cold, "cold", false, "restart kafka, cassandra and redis first (stop, start with the devservices warm-up; SLUICE_WARMUP applies) and measure the first -duration window too; "+
		"it stops engines others may use: hold the engines lock exclusively")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return b, nil
}

// setup brings the engines up, migrates the schema and creates the run's
// topic and its dead-letter topic.
func (b *e2eBench) setup(ctx context.Context) error {
	lc, err := startLocal(ctx, devservices.Kafka, devservices.Cassandra, devservices.Redis)
	if err != nil {
		return err
	}
	b.lc = lc
	r := lc.reader("LOG_LEVEL=warn")
	b.cc = cqlsession.FromEnv(r)
	b.kc = kafkaclient.FromEnv(r, "sluice-bench-e2e")
	if err := r.Err(); err != nil {
		return err
	}
	if err := eventstore.MigrateConfig(ctx, b.cc, 1); err != nil {
		return err
	}
	b.run = time.Now().UnixNano()
	b.topic = fmt.Sprintf("bench-rt-%d", b.run)
	if b.sc, err = b.kc.Sarama(nil); err != nil {
		return err
	}
	if b.admin, err = sarama.NewClusterAdmin(b.kc.Brokers, b.sc); err != nil {
		return err
	}
	if err := kafkaclient.EnsureTopics(b.admin, []kafkaclient.Topic{{Name: b.topic, Partitions: 6}, {Name: b.topic + ".dlq", Partitions: 1}}); err != nil {
		return err
	}
	b.launch = lc.launcher(b.bin, "bench-e2e-", "LOG_LEVEL=warn", "KAFKA_TOPIC="+b.topic, "KAFKA_DLQ_TOPIC="+b.topic+".dlq")
	b.launch.ReadyTimeout = 2 * time.Minute
	return nil
}

// restartEngines stops the engines the benchmark uses and starts them
// again, with the warm-up devservices runs after a start. It always tries
// the start, so a failed stop leaves no engine down.
func (b *e2eBench) restartEngines(ctx context.Context) error {
	warmup := "with the warm-up"
	if d, err := devservices.ParseWarmup(os.Getenv(devservices.WarmupEnv)); err == nil && d == 0 {
		warmup = "without a warm-up: " + devservices.WarmupEnv + "=0"
	}
	fmt.Printf("-cold: restarting %v (stop, then start %s)\n", e2eColdEngines, warmup)
	begin := time.Now()
	stopErr := b.lc.Manager.Stop(ctx, e2eColdEngines...)
	if err := b.lc.Manager.Up(ctx, e2eColdEngines...); err != nil {
		return errors.Join(stopErr, fmt.Errorf("start engines: %w", err))
	}
	if stopErr != nil {
		return fmt.Errorf("stop engines: %w", stopErr)
	}
	b.coldRun.restart = time.Since(begin)
	b.coldRun.warmups = b.lc.Manager.Warmups()
	// The admin's connections went with the broker.
	_ = b.admin.Close() // a new one replaces it either way
	admin, err := sarama.NewClusterAdmin(b.kc.Brokers, b.sc)
	if err != nil {
		return fmt.Errorf("cluster admin after the restart: %w", err)
	}
	b.admin = admin
	return nil
}

// startWorkloads starts changefeed, ingest (writing the outbox) and api,
// each waited for until ready.
func (b *e2eBench) startWorkloads(ctx context.Context) error {
	w, err := startE2EWorkloads(ctx, b.launch, fmt.Sprintf("bench-e2e-%d", b.run))
	b.changefeed, b.ingest, b.api = w.changefeed, w.ingest, w.api
	return err
}

// startProbe begins polling every site's critical events through the api.
func (b *e2eBench) startProbe(ctx context.Context) {
	b.procPIDs = b.pids(ctx)
	b.probe = rtprobe.New("http://"+b.api.Addr, 60, b.poll)
	b.probe.Start(ctx, e2eSiteIDs())
}

// produce runs the stream: a warm-up at the full rate, then the measured
// phase. Only events produced after the warm-up are measured; the warm-up
// runs at the same rate in the same stream, so nothing drains between. It
// lasts at least -warmup and then until ingest keeps up: a cold Cassandra
// (just started, its JIT still compiling) builds a backlog that would
// otherwise be measured as latency of the warm system.
func (b *e2eBench) produce(ctx context.Context) error {
	gen, err := simulate.NewGenerator(e2eSites, e2eDevices, b.mix(), uint64(b.run))
	if err != nil {
		return err
	}
	ap, err := sarama.NewAsyncProducer(b.kc.Brokers, b.sc)
	if err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	b.measureFrom.Store(math.MaxInt64)
	if b.cold {
		b.measureFrom.Store(0) // the cold window: every event from the first
	}
	b.prod = &simulate.Producer{AP: ap, Topic: b.topic, Gen: gen, OnAck: func(a simulate.Acked) {
		if ev := a.Record.Event; ev != nil && ev.Severity == contract.SeverityCritical && ev.At.UnixNano() >= b.measureFrom.Load() {
			b.probe.Expect(ev.Site, ev.ID, ev.At)
		}
	}}
	coldWindow := ""
	if b.cold {
		coldWindow = fmt.Sprintf("a cold window of %s measured from the first event, then ", b.duration)
	}
	fmt.Printf("producing %.0f events/s (%.0f%% critical) through ingest → changefeed → api: %sa warm-up of %s to %s until ingest keeps up, then %s measured\n",
		b.rate, b.critical*100, coldWindow, b.warmup, b.maxWarmup, b.duration)
	bar := progress.New("events", -1)
	var phase atomic.Value
	phase.Store("warming up")
	if b.cold {
		phase.Store("cold window")
	}
	stopBar := progress.Tick(func() {
		bar.Set(b.prod.Stats().Acked, fmt.Sprintf("%s · %d critical visible", phase.Load(), b.probe.Seen()))
	})
	prodCtx, stopProducing := context.WithCancel(ctx)
	defer stopProducing()
	phasesDone := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(phasesDone)
		warmFrom := start
		if b.cold {
			b.cpuMarks[0] = b.cpuMark()
			select {
			case <-prodCtx.Done():
				return
			case <-time.After(b.duration):
			}
			b.cpuMarks[1] = b.cpuMark()
			b.markCold()
			phase.Store("warming up")
			warmFrom = time.Now()
		}
		if !b.warmUp(prodCtx, warmFrom) {
			return
		}
		if b.cold {
			b.takeCold(warmFrom)
		}
		b.markWarm()
		b.cpuMarks[2] = b.cpuMark()
		phase.Store("measuring")
		select {
		case <-prodCtx.Done():
		case <-time.After(b.duration):
			b.cpuMarks[3] = b.cpuMark()
			stopProducing()
		}
	}()
	// The plan's duration is only a backstop: the goroutine above ends
	// production once the measured phase is over.
	backstop := b.maxWarmup + b.duration + time.Minute
	if b.cold {
		backstop += b.duration + e2eSeenWithin
	}
	b.stats, err = b.prod.Run(prodCtx, simulate.Plan{Rate: b.rate, Duration: backstop})
	stopProducing()
	<-phasesDone
	b.elapsed = time.Since(start)
	stopBar()
	bar.Finish()
	if err != nil {
		return err
	}
	if b.measureFrom.Load() == math.MaxInt64 {
		fmt.Fprintln(os.Stderr, "production ended before the warm-up did: nothing was measured")
	}
	if !b.warm.keptUp {
		fmt.Fprintf(os.Stderr, "ingest never kept up with %.0f events/s during a warm-up of %s: the measurement includes its backlog\n", b.rate, b.warm.lasted.Round(time.Second))
	}
	return nil
}

// warmUp waits until the warm-up is over: -warmup has passed and ingest
// has had no backlog for 5 s in a row, or -max-warmup has passed. It
// returns false when production ended first.
func (b *e2eBench) warmUp(ctx context.Context, start time.Time) bool {
	steady := 0
	for steady < 5 {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Second):
		}
		b.warm.lasted = time.Since(start)
		if b.warm.lasted < b.warmup {
			continue
		}
		if n, err := b.backlog(); err == nil && n <= b.rate/2 {
			steady++
		} else {
			steady = 0
		}
		if b.warm.lasted >= b.maxWarmup {
			break
		}
	}
	b.warm.keptUp = steady >= 5
	return true
}

// backlog is how many acknowledged records ingest has not finished
// (stored or dead-lettered) yet.
func (b *e2eBench) backlog() (float64, error) {
	mt, err := b.ingest.Metrics()
	if err != nil {
		return 0, err
	}
	return float64(b.prod.Stats().Acked) - mt["sluice_ingest_written_total"] - mt["sluice_ingest_dlq_total"], nil
}

// e2eStages are the workloads' histograms the report breaks the latency
// down by, with the process exposing each.
func (b *e2eBench) e2eStages() []struct {
	proc *localrun.Proc
	name string
} {
	return []struct {
		proc *localrun.Proc
		name string
	}{
		{b.ingest, "sluice_ingest_event_age_seconds"}, {b.ingest, "sluice_ingest_write_seconds"},
		{b.changefeed, "sluice_changefeed_handle_seconds"}, {b.changefeed, "sluice_changefeed_read_seconds"},
		{b.changefeed, "sluice_changefeed_lag_seconds"},
	}
}

// markWarm snapshots the stage histograms and counters as the warm-up
// ends, and starts measuring the events produced from now on.
func (b *e2eBench) markWarm() {
	b.warm.marks = map[string]histogram{}
	for _, m := range b.e2eStages() {
		if h, err := scrapeHistogram("http://"+m.proc.Addr+"/metrics", m.name); err == nil {
			b.warm.marks[m.name] = h
		}
	}
	if mt, err := b.changefeed.Metrics(); err == nil {
		b.warm.lateMark, b.warm.changesMark = mt["sluice_changefeed_late_changes_total"], mt["sluice_changefeed_changes_total"]
	}
	b.measureFrom.Store(time.Now().UnixNano())
}

// markCold ends the cold window: no event from now on is measured until
// the warm-up is over, and the stage histograms are kept as they are.
func (b *e2eBench) markCold() {
	b.measureFrom.Store(math.MaxInt64)
	b.coldRun.marks = map[string]histogram{}
	for _, m := range b.e2eStages() {
		if h, err := scrapeHistogram("http://"+m.proc.Addr+"/metrics", m.name); err == nil {
			b.coldRun.marks[m.name] = h
		}
	}
}

// takeCold gives the cold window's stragglers until e2eSeenWithin after
// the window (the warm-up measures nothing meanwhile), then takes its
// result, leaving the probe empty for the warm window.
func (b *e2eBench) takeCold(coldEnd time.Time) {
	b.probe.WaitAll(e2eSeenWithin - time.Since(coldEnd))
	b.coldRun.res = b.probe.Take()
}

// collect gives stragglers a bounded time to show up and returns the
// probe's result; the report shows what is missing.
func (b *e2eBench) collect() rtprobe.Result {
	b.probe.WaitAll(e2eSeenWithin)
	b.probe.Stop()
	res := b.probe.Result()
	if res.PollErrs > 0 {
		fmt.Fprintf(os.Stderr, "%d polls failed (see %s)\n", res.PollErrs, b.launch.LogPath("api"))
	}
	return res
}

// stage is a stage's mean / p99 in ms from the workloads' own histogram,
// counting only what happened after the warm-up.
func (b *e2eBench) stage(proc *localrun.Proc, name string) string {
	h, err := scrapeHistogram("http://"+proc.Addr+"/metrics", name)
	if err != nil {
		return "n/a"
	}
	return meanP99(h.since(b.warm.marks[name]))
}

// meanP99 is a histogram's mean / p99 in ms.
func meanP99(h histogram) string {
	if h.count == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f / %.0f", h.sum/h.count*1000, h.quantile(0.99)*1000)
}

// report prints where the time went, the verdict and the result.
func (b *e2eBench) report(res rtprobe.Result) error {
	lat := res.Latencies
	ingestMean := b.stage(b.ingest, "sluice_ingest_event_age_seconds")
	writeMean := b.stage(b.ingest, "sluice_ingest_write_seconds")
	handleMean := b.stage(b.changefeed, "sluice_changefeed_handle_seconds")
	readMean := b.stage(b.changefeed, "sluice_changefeed_read_seconds")
	feedMean := b.stage(b.changefeed, "sluice_changefeed_lag_seconds")
	late := "n/a"
	if mt, err := b.changefeed.Metrics(); err == nil {
		late = fmt.Sprintf("%.0f of %.0f", mt["sluice_changefeed_late_changes_total"]-b.warm.lateMark, mt["sluice_changefeed_changes_total"]-b.warm.changesMark)
	}
	rateGot := float64(b.stats.Acked) / b.elapsed.Seconds()
	p50, p99, maxLat := "n/a", "n/a", "n/a"
	var p50ms, p99ms any // JSON null when nothing was measured
	verdict := "MISSES (nothing measured)"
	if len(lat) > 0 {
		p50d, p99d := res.Percentile(0.50), res.Percentile(0.99)
		p50, p99, maxLat = fmt.Sprintf("%.1f", ms(p50d)), fmt.Sprintf("%.1f", ms(p99d)), fmt.Sprintf("%.1f", ms(lat[len(lat)-1]))
		p50ms, p99ms = ms(p50d), ms(p99d)
		verdict = "meets"
		if p99d > e2eTarget || res.Missing > 0 {
			verdict = "MISSES"
		}
	}
	fmt.Fprintf(os.Stderr, "target p99 ≤ %s with none missing: %s\n", e2eTarget, verdict)
	fits := "yes"
	if e2eDemoRate > b.share*b.path.delivered {
		fits = "no"
	}
	pathNote := ""
	if !b.path.complete {
		pathNote = fmt.Sprintf(" (a floor: not all %d delivered in %s)", b.path.events, e2ePathTimeout)
	}
	rows := []row{
		{"ceiling: bare upserts, outbox included (events/s)", fmt.Sprintf("%.0f", b.ceiling)},
		{fmt.Sprintf("whole-path ceiling: a burst of %d, stored (events/s)", b.path.events), fmt.Sprintf("%.0f", b.path.stored)},
		{"whole-path ceiling: delivered to redis (events/s)", fmt.Sprintf("%.0f%s", b.path.delivered, pathNote)},
		{"whole-path / bare ceiling", fmt.Sprintf("%.2f", b.path.delivered/b.ceiling)},
		{"rate asked (events/s)", fmt.Sprintf("%.0f — %s", b.rate, b.rateWhy)},
		{fmt.Sprintf("the demo's %d events/s fits under %.0f%% of the whole-path ceiling", e2eDemoRate, b.share*100), fits},
		{"warm-up (until ingest kept up)", b.warm.lasted.Round(time.Second).String()},
		{"ingest kept up after the warm-up", fmt.Sprint(b.warm.keptUp)},
		{"events produced, warm-up included", fmt.Sprint(b.stats.Acked)},
		{"produce rate (events/s)", fmt.Sprintf("%.0f", rateGot)},
		{"critical events measured", fmt.Sprint(len(lat))},
		{"critical events never visible within 30 s", fmt.Sprint(res.Missing)},
		{"poll interval per site", b.poll.String()},
		{"produce → visible in the api p50 ms", p50},
		{fmt.Sprintf("produce → visible in the api p99 ms (≤ %d)", e2eTarget.Milliseconds()), p99},
		{"produce → visible in the api max ms", maxLat},
		{"event → stored by ingest, mean / p99 ms", ingestMean},
		{"  of which the write to cassandra, mean / p99 ms", writeMean},
		{"ingested → in redis by changefeed, mean / p99 ms", feedMean},
		{"  feed read, mean / p99 ms", readMean},
		{"  redis write per change batch, mean / p99 ms", handleMean},
		{"changes found behind the feed tail", late},
	}
	rows = append(rows, cpuRows("measured window", b.cpuMarks[2], b.cpuMarks[3])...)
	fields := [][2]any{
		{"events_per_s", round(rateGot)}, {"rate", b.rate}, {"ceiling_events_per_s", round(b.ceiling)},
		{"path_ceiling_events_per_s", round(b.path.delivered)}, {"path_stored_events_per_s", round(b.path.stored)},
		{"path_ceiling_complete", b.path.complete},
		{"share", b.share}, {"demo_rate_fits", fits == "yes"}, {"kept_up", b.warm.keptUp},
		{"p50_ms", p50ms}, {"p99_ms", p99ms}, {"missing", res.Missing}, {"measured", len(lat)},
		{"target_p99_ms", e2eTarget.Milliseconds()}, {"target_met", verdict == "meets"},
		{"cpu_per_s", cpuWindow(b.cpuMarks[2], b.cpuMarks[3])},
		{"cold", b.cold},
	}
	if b.cold {
		coldRows, coldFields := b.coldReport(res)
		rows, fields = append(rows, coldRows...), append(fields, coldFields...)
	}
	return report("e2e", rows, fields)
}

// coldReport is -cold's part of the report: the restart and warm-ups, the
// cold window beside the warm one, and the cold targets' verdicts.
func (b *e2eBench) coldReport(warm rtprobe.Result) ([]row, [][2]any) {
	c := b.coldRun
	rows := []row{{fmt.Sprintf("-cold: %v restarted, warm-ups included", e2eColdEngines), c.restart.Round(100 * time.Millisecond).String()}}
	warmupS, settled := map[string]float64{}, map[string]bool{}
	for _, w := range c.warmups {
		state := "settled"
		if !w.Settled {
			state = "stopped at its cap"
		}
		rows = append(rows, row{fmt.Sprintf("  warm-up of %s", w.Engine), fmt.Sprintf("%.1fs, %s", w.Took.Seconds(), state)})
		for _, p := range w.Paths {
			rows = append(rows, row{fmt.Sprintf("    %s p99 ms at its end", p.Name), fmt.Sprintf("%.1f", ms(p.P99))})
		}
		warmupS[string(w.Engine)], settled[string(w.Engine)] = round2(w.Took.Seconds()), w.Settled
	}
	if len(c.warmups) == 0 {
		rows = append(rows, row{"  warm-ups", "none (" + devservices.WarmupEnv + "=0)"})
	}
	var p50ms, p99ms, ratio any // JSON null when nothing was measured
	p50, p99, ratioS := "n/a", "n/a", "n/a"
	coldMet, ratioMet := false, false
	if len(c.res.Latencies) > 0 {
		p50d, p99d := c.res.Percentile(0.50), c.res.Percentile(0.99)
		p50, p99 = fmt.Sprintf("%.1f", ms(p50d)), fmt.Sprintf("%.1f", ms(p99d))
		p50ms, p99ms = ms(p50d), ms(p99d)
		coldMet = p99d <= e2eColdTarget && c.res.Missing == 0
		if len(warm.Latencies) > 0 && warm.Percentile(0.99) > 0 {
			r := float64(p99d) / float64(warm.Percentile(0.99))
			ratio, ratioS, ratioMet = round2(r), fmt.Sprintf("%.2f", r), r <= e2eColdRatio
		}
	}
	rows = append(rows,
		row{"cold window: critical events measured", fmt.Sprint(len(c.res.Latencies))},
		row{"cold window: never visible within 30 s", fmt.Sprint(c.res.Missing)},
		row{"cold window: produce → visible p50 ms", p50},
		row{fmt.Sprintf("cold window: produce → visible p99 ms (≤ %d)", e2eColdTarget.Milliseconds()), p99},
		row{"cold window: event → stored by ingest, mean / p99 ms", meanP99(c.marks["sluice_ingest_event_age_seconds"])},
		row{"  of which the write to cassandra, mean / p99 ms", meanP99(c.marks["sluice_ingest_write_seconds"])},
		row{"cold window: ingested → in redis, mean / p99 ms", meanP99(c.marks["sluice_changefeed_lag_seconds"])},
		row{fmt.Sprintf("cold p99 / warm p99 (≤ %.0f)", e2eColdRatio), ratioS},
	)
	rows = append(rows, cpuRows("cold window", b.cpuMarks[0], b.cpuMarks[1])...)
	fmt.Fprintf(os.Stderr, "target cold p99 ≤ %s with none missing: %s\n", e2eColdTarget, metOrMissed(coldMet))
	fmt.Fprintf(os.Stderr, "target cold p99 ≤ %.0f× warm p99: %s\n", e2eColdRatio, metOrMissed(ratioMet))
	return rows, [][2]any{
		{"restart_s", round2(c.restart.Seconds())}, {"warmup_s", warmupS}, {"warmup_settled", settled},
		{"cold_p50_ms", p50ms}, {"cold_p99_ms", p99ms}, {"cold_missing", c.res.Missing}, {"cold_measured", len(c.res.Latencies)},
		{"cold_warm_ratio", ratio}, {"cold_cpu_per_s", cpuWindow(b.cpuMarks[0], b.cpuMarks[1])},
		{"cold_target_p99_ms", e2eColdTarget.Milliseconds()}, {"cold_target_met", coldMet},
		{"cold_ratio_target", e2eColdRatio}, {"cold_ratio_met", ratioMet},
	}
}

func metOrMissed(ok bool) string {
	if ok {
		return "meets"
	}
	return "MISSES"
}

// teardown stops the probe and the workloads (the api first), then deletes
// the run's topics.
func (b *e2eBench) teardown() {
	if b.probe != nil {
		b.probe.Stop()
	}
	if b.launch != nil {
		_ = b.launch.StopAll()
	}
	dropTopics(b.admin, b.topic)
}
