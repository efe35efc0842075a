// Command demo runs Sluice end to end on one machine against the real local
// engines: it starts the engines, prepares topics and schema, runs ingest
// as a child process, produces a stream of simulated events with a progress
// bar, and prints what happened: counts, throughput and the produce→stored
// latency measured from the stored rows. Alongside ingest it runs the
// real-time path: the changefeed worker following the outbox into Redis and
// the api with its live page, whose URL it prints; it measures how long
// critical events take from produced to visible through the api and the
// api's cache hit ratio. Beside them the Spark stream job runs in local
// mode; the demo checks that its one-minute aggregates count every event
// of the stream and prints how far behind event time they were. Then the
// batch path: enrich runs over the stream's window into PostgreSQL (schema
// and reference data prepared earlier) and the demo prints rows of the
// report views, read as the BI login, and what the api's report page
// charts from them (-serve keeps both pages up afterwards). Re-running it
// needs no clean-up: topics and schema are ensured, the consumer group and
// the stream job's checkpoint resume where they were.
//
// It expects the workload binaries in -bin (make demo builds them there).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/IBM/sarama"

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

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

// demo carries what the steps share.
type demo struct {
	bin     string
	launch  *localrun.Launcher // set once the engines are up
	ep      devservices.Endpoints
	events  int64
	rate    float64
	invalid float64

	local  *localrun.Local
	ingest *localrun.Proc
	rt     *realtime
	spark  *sparkStream

	mu       sync.Mutex
	acked    []simulate.Acked // valid records the broker acknowledged
	produced simulate.Stats
	started  time.Time
	storedAt time.Time
}

func run(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	bin := fs.String("bin", ".sluice/bin", "folder holding the workload binaries")
	events := fs.Int64("events", 20000, "events to produce")
	rate := fs.Float64("rate", localrun.DemoRate, "events per second")
	invalid := fs.Float64("invalid-share", 0.01, "share of deliberately invalid records")
	serve := fs.Bool("serve", false, "keep the api with its live and report pages running after the summary, until interrupted")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	d := &demo{bin: *bin, events: *events, rate: *rate, invalid: *invalid, rt: &realtime{serve: *serve}}
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"start the local engines", d.engines},
		{"create topics and schema", d.migrate},
		{"prepare PostgreSQL: schema and reference data", d.preparePostgres},
		{"start ingest", d.startIngest},
		{"start the change feed and the api", d.startRealtime},
		{"start the Spark stream job", d.startSpark},
		{"stream events", d.stream},
		{"stop ingest", d.stopIngest},
		{"summary", d.summary},
		{"real-time path: change feed → Redis → api", d.realtimeSummary},
		{"stream analytics: the Spark job's one-minute aggregates", d.sparkSummary},
		{"batch path: enrich the window into PostgreSQL, read the report views", d.batch},
		{"reports: the report page's charts, through the api", d.reports},
	}
	defer func() {
		d.stopSpark()
		d.rt.stopProbe()
		if d.launch != nil {
			_ = d.launch.StopAll()
		}
	}()
	for i, s := range steps {
		fmt.Printf("\n[%d/%d] %s\n", i+1, len(steps), s.name)
		if err := s.run(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	fmt.Println("\nThe engines keep running: `make services-status`, `make services-down` to stop them.")
	return nil
}

func (d *demo) engines(ctx context.Context) error {
	lc, err := localrun.Up(ctx)
	if err != nil {
		return err
	}
	logs, err := lc.LogDir()
	if err != nil {
		return err
	}
	d.ep = lc.Endpoints
	d.local = lc
	d.launch = &localrun.Launcher{Bin: d.bin, Logs: logs, Env: localrun.Env(d.ep, "LOG_LEVEL=info")}
	return nil
}

func (d *demo) migrate(ctx context.Context) error {
	return d.launch.Run(ctx, "migrate")
}

func (d *demo) startIngest(ctx context.Context) error {
	// INGEST_OUTBOX: ingest also appends each event to the outbox the
	// changefeed worker follows on plain Apache Cassandra.
	p, err := d.launch.Start(ctx, localrun.Spec{Name: "ingest", Env: []string{"INGEST_OUTBOX=true"}})
	if err != nil {
		return err
	}
	d.ingest = p
	fmt.Printf("  ingest ready, metrics on http://%s/metrics\n", p.Addr)
	return nil
}

func (d *demo) stream(ctx context.Context) error {
	r := envconfig.NewFrom(envconfig.FromMap(map[string]string{"KAFKA_BROKERS": d.ep.KafkaBrokers[0]}))
	kc := kafkaclient.FromEnv(r, "sluice-demo")
	if err := r.Err(); err != nil {
		return err
	}
	sc, err := kc.Sarama(nil)
	if err != nil {
		return err
	}
	ap, err := sarama.NewAsyncProducer(kc.Brokers, sc)
	if err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	gen, err := simulate.NewGenerator(demoSites, demoDevices, simulate.Mix{Warning: 0.05, Critical: 0.02, Invalid: d.invalid}, uint64(time.Now().UnixNano()))
	if err != nil {
		return err
	}
	p := &simulate.Producer{AP: ap, Topic: kc.Topic, Gen: gen, OnAck: func(a simulate.Acked) {
		if a.Record.Event != nil {
			d.mu.Lock()
			d.acked = append(d.acked, a)
			d.mu.Unlock()
		}
		d.rt.track(a)
	}}
	before, err := d.ingest.Metrics()
	if err != nil {
		return err
	}
	bar := progress.New("events", d.events)
	d.started = time.Now()
	prodDone := make(chan error, 1)
	go func() {
		st, err := p.Run(ctx, simulate.Plan{Rate: d.rate, Count: d.events})
		d.mu.Lock()
		d.produced = st
		d.mu.Unlock()
		prodDone <- err
	}()
	var prodErr error
	producing := true
	var stored, dead float64
	for {
		select {
		case <-ctx.Done():
			bar.Finish()
			return ctx.Err()
		case prodErr = <-prodDone:
			producing = false
		case <-time.After(200 * time.Millisecond):
		}
		m, err := d.ingest.Metrics()
		if err != nil {
			bar.Finish()
			return err
		}
		stored = m["sluice_ingest_written_total"] - before["sluice_ingest_written_total"]
		dead = m["sluice_ingest_dlq_total"] - before["sluice_ingest_dlq_total"]
		st := p.Stats()
		bar.Set(int64(stored+dead), fmt.Sprintf("produced %d · stored %d · dead-lettered %d", st.Acked, int64(stored), int64(dead)))
		if !producing && stored+dead >= float64(st.Acked) {
			d.storedAt = time.Now()
			break
		}
		if !producing && time.Since(d.started) > time.Duration(float64(d.events)/d.rate*float64(time.Second))+3*time.Minute {
			bar.Finish()
			return fmt.Errorf("ingest stored %d and dead-lettered %d of %d produced records within the time allowed", int64(stored), int64(dead), st.Acked)
		}
	}
	bar.Finish()
	if prodErr != nil {
		return prodErr
	}
	fmt.Printf("  produced %d (%d invalid) · stored %d · dead-lettered %d\n", d.produced.Acked, d.produced.Invalid, int64(stored), int64(dead))
	return nil
}

func (d *demo) stopIngest(context.Context) error {
	err := d.launch.Stop(d.ingest)
	d.ingest = nil
	return err
}

func (d *demo) summary(ctx context.Context) error {
	r := envconfig.NewFrom(envconfig.FromMap(map[string]string{
		"CASSANDRA_HOSTS": d.ep.CassandraHosts[0], "CASSANDRA_PORT": fmt.Sprint(d.ep.CassandraPort),
		"CASSANDRA_USERNAME": d.ep.CassandraUser, "CASSANDRA_PASSWORD": d.ep.CassandraPassword, "CASSANDRA_CONSISTENCY": "ONE"}))
	cc := cqlsession.FromEnv(r)
	if err := r.Err(); err != nil {
		return err
	}
	session, err := cc.Open()
	if err != nil {
		return err
	}
	defer session.Close()
	store := eventstore.New(session, cc.Keyspace)

	// Every acknowledged valid event is read back: the latency comes from
	// the rows, and a missing row fails the demo.
	lat := make([]time.Duration, len(d.acked))
	var missing, failed int
	var mu sync.Mutex
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				ev := d.acked[i].Record.Event
				st, err := store.Get(ctx, ev.ID)
				mu.Lock()
				switch {
				case errors.Is(err, eventstore.ErrNotFound):
					missing++
				case err != nil:
					failed++
				default:
					lat[i] = st.IngestedAt.Sub(ev.At.Truncate(time.Millisecond))
				}
				mu.Unlock()
			}
		}()
	}
	for i := range d.acked {
		work <- i
	}
	close(work)
	wg.Wait()
	if missing > 0 || failed > 0 {
		return fmt.Errorf("%d acknowledged events are missing from Cassandra and %d could not be read", missing, failed)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	el := d.storedAt.Sub(d.started).Seconds()
	fmt.Printf("\n  %-32s %12d\n", "records produced", d.produced.Acked)
	fmt.Printf("  %-32s %12d\n", "valid events stored (verified)", len(d.acked))
	fmt.Printf("  %-32s %12d\n", "invalid records dead-lettered", d.produced.Invalid)
	fmt.Printf("  %-32s %12.0f\n", "throughput (events/s)", float64(d.produced.Acked)/el)
	fmt.Printf("  %-32s %12s\n", "produce→stored p50", pct(lat, 0.50))
	fmt.Printf("  %-32s %12s\n", "produce→stored p99", pct(lat, 0.99))
	return nil
}

func pct(sorted []time.Duration, p float64) string {
	if len(sorted) == 0 {
		return "n/a"
	}
	return rtprobe.Percentile(sorted, p).Round(100 * time.Microsecond).String()
}
