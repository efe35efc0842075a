package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/gocql/gocql"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/localrun"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
	"github.com/sluicehq/sluice/workloads/internal/kafkaclient"
	"github.com/sluicehq/sluice/workloads/internal/progress"
	"github.com/sluicehq/sluice/workloads/internal/simulate"
)

func init() { benchmarks["ingest"] = benchIngest }

// benchIngest compares the full path Kafka → ingest → Cassandra with the
// raw ceiling of the same upserts issued by bare gocql, in one run, on the
// same engines, then scales the consumer group out to 1, 2 … -replicas
// ingest processes on one machine (see measureReplicas). The ingest binary
// runs as its own process so its CPU time and peak RSS are its own.
func benchIngest(args []string) error {
	b, err := parseIngest(args)
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
	if err := b.produceBacklog(); err != nil {
		return err
	}
	if err := b.measureIngest(ctx); err != nil {
		return err
	}
	if err := b.measureReplicas(ctx); err != nil {
		return err
	}
	return b.report()
}

// ingestBench is one run of the ingest benchmark, filled in phase by phase.
type ingestBench struct {
	// flags
	n, conc    int
	bin        string
	replicas   int    // the replica phases run 1 … replicas processes
	cpuProfile string // where the full path's ingest writes its CPU profile

	// setup
	lc     *local
	cc     cqlsession.Config
	kc     kafkaclient.Config
	gen    *simulate.Generator
	now    time.Time
	events []contract.Event
	values [][]byte

	ceilingSecs float64 // the bare upserts
	topic       string
	admin       sarama.ClusterAdmin
	launch      *localrun.Launcher

	// the full path
	fullSecs, cpuSecs, rss float64

	// the replica phases
	replicaTopics []string
	replicaRows   []replicaRow
}

// cpuTarget is the most CPU time ingest may spend per 100,000 events.
const cpuTarget = 6.0

// scrapeEvery is how often the benchmark reads ingest's /metrics to see
// whether it is done. Each scrape costs ingest CPU (the process and Go
// collectors read /proc and the runtime), which the benchmark would charge
// to ingest: every 50 ms it was 5% of ingest's CPU, every 200 ms it is
// about 1%, and the finish is still known to within 2% of a phase.
const scrapeEvery = 200 * time.Millisecond

func parseIngest(args []string) (*ingestBench, error) {
	b := &ingestBench{}
	fs := flag.NewFlagSet("bench ingest", flag.ContinueOnError)
	fs.IntVar(&b.n, "events", 100000, "events per phase")
	fs.IntVar(&b.conc, "concurrency", 256, "writes in flight, for both the ceiling and ingest")
	fs.StringVar(&b.bin, "bin", ".sluice/bin", "folder holding the ingest binary")
	fs.IntVar(&b.replicas, "replicas", 3, "the replica phases run 1 up to this many ingest processes (0: none)")
	fs.StringVar(&b.cpuProfile, "cpuprofile", "", "write the full path's ingest CPU profile to this file (go tool pprof reads it); the profiler adds a few percent to its CPU figure")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return b, nil
}

// setup brings the engines up, migrates the schema and generates the
// events both phases write.
func (b *ingestBench) setup(ctx context.Context) error {
	var err error
	if b.lc, err = startLocal(ctx, devservices.Kafka, devservices.Cassandra); err != nil {
		return err
	}
	r := b.lc.reader()
	b.cc = cqlsession.FromEnv(r)
	b.kc = kafkaclient.FromEnv(r, "sluice-bench")
	if err := r.Err(); err != nil {
		return err
	}
	if err := eventstore.MigrateConfig(ctx, b.cc, 1); err != nil {
		return err
	}
	if b.gen, err = simulate.NewGenerator(12, 2000, simulate.DefaultMix, 42); err != nil {
		return err
	}
	b.now = time.Now()
	b.events = make([]contract.Event, b.n)
	b.values = make([][]byte, b.n)
	for i := range b.events {
		rec := b.gen.Next(b.now)
		b.events[i], b.values[i] = *rec.Event, rec.Value
	}
	return nil
}

// measureCeiling is phase (a): bare gocql, the same batched statements,
// the same concurrency. A warm-up pass first, so neither phase pays for
// Cassandra's JIT.
func (b *ingestBench) measureCeiling() error {
	session, err := b.cc.Open()
	if err != nil {
		return err
	}
	defer session.Close()
	store := eventstore.New(session, b.cc.Keyspace)
	warm := make([]contract.Event, min(b.n/5, 20000))
	for i := range warm {
		warm[i] = *b.gen.Next(b.now).Event
	}
	fmt.Printf("warm-up: %d events\n", len(warm))
	if _, err := b.upsertAll(session, store, "warm-up", warm); err != nil {
		return err
	}
	fmt.Printf("ceiling: %d events as bare gocql upserts, %d in flight\n", b.n, b.conc)
	b.ceilingSecs, err = b.upsertAll(session, store, "ceiling", b.events)
	return err
}

// ceilingAttempts bounds the tries of one bare write.
const ceilingAttempts = 5

// upsertAll writes evs with -concurrency writers and returns the seconds
// it took.
func (b *ingestBench) upsertAll(session *gocql.Session, store *eventstore.Store, what string, evs []contract.Event) (float64, error) {
	return bareUpserts(session, store, what, evs, b.conc)
}

// bareUpserts writes evs as bare batched upserts with conc writers, each
// write retried like ingest would on a timeout, and returns the seconds it
// took: the ceiling the benchmarks measure ingest against.
func bareUpserts(session *gocql.Session, store *eventstore.Store, what string, evs []contract.Event, conc int) (float64, error) {
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	bar := progress.New(what, int64(len(evs)))
	stopBar := progress.Tick(func() { bar.Set(next.Load(), "") })
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(evs)) {
					return
				}
				stmts, err := store.Statements(evs[i], time.Now())
				if err != nil {
					failed.Add(1)
					continue
				}
				// A write timing out on a busy machine is retried, as
				// ingest would: the ceiling is the bare writes, not a
				// run that stops at the first timeout.
				for attempt := 1; ; attempt++ {
					err = eventstore.ExecBatch(context.Background(), session, stmts)
					if err == nil || attempt == ceilingAttempts {
						break
					}
					time.Sleep(time.Duration(attempt) * 50 * time.Millisecond)
				}
				if err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	stopBar()
	bar.Finish()
	if failed.Load() > 0 {
		return 0, fmt.Errorf("%s: %d writes failed", what, failed.Load())
	}
	return secs, nil
}

// produceBacklog starts phase (b), the full path: the same events as a
// backlog in a fresh topic.
func (b *ingestBench) produceBacklog() error {
	b.topic = fmt.Sprintf("bench-events-%d", time.Now().UnixNano())
	fmt.Printf("full path: producing a backlog of %d events to %s\n", b.n, b.topic)
	sc, err := b.kc.Sarama(nil)
	if err != nil {
		return err
	}
	if b.admin, err = sarama.NewClusterAdmin(b.kc.Brokers, sc); err != nil {
		return err
	}
	if err := kafkaclient.EnsureTopics(b.admin, []kafkaclient.Topic{{Name: b.topic, Partitions: 6}, {Name: b.topic + ".dlq", Partitions: 1}}); err != nil {
		return err
	}
	return produceBacklog(b.kc.Brokers, sc, b.topic, b.events, b.values)
}

// measureIngest starts ingest on the backlog and times it until it has
// written every event, with its CPU time and peak RSS.
func (b *ingestBench) measureIngest(ctx context.Context) error {
	fmt.Println("full path: ingest draining the backlog")
	env := []string{"KAFKA_TOPIC=" + b.topic, "KAFKA_DLQ_TOPIC=" + b.topic + ".dlq", "INGEST_GROUP=" + b.topic,
		fmt.Sprintf("INGEST_CONCURRENCY=%d", b.conc), "LOG_LEVEL=warn"}
	if b.cpuProfile != "" {
		// The process's working folder is the bench's, so a relative
		// path means the same file to both.
		env = append(env, deploy.EnvCPUProfile+"="+b.cpuProfile)
	}
	b.launch = b.lc.launcher(b.bin, "bench-", env...)
	proc, err := b.launch.Start(ctx, localrun.Spec{Name: "ingest"})
	if err != nil {
		return err
	}
	cpu0, err := proc.CPUSeconds()
	if err != nil {
		return err
	}
	start := time.Now()
	bar := progress.New("ingest", int64(b.n))
	var written float64
	deadline := start.Add(time.Duration(b.ceilingSecs*10+120) * time.Second)
	for written < float64(b.n) {
		time.Sleep(scrapeEvery)
		mt, err := proc.Metrics()
		if err != nil {
			return err
		}
		written = mt["sluice_ingest_written_total"]
		bar.Set(int64(written), "")
		if mt["sluice_ingest_dlq_total"] > 0 {
			return errors.New("ingest dead-lettered valid benchmark events; see the ingest log")
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ingest wrote %.0f of %d events before the deadline", written, b.n)
		}
	}
	b.fullSecs = time.Since(start).Seconds()
	bar.Finish()
	cpu1, err := proc.CPUSeconds()
	if err != nil {
		return err
	}
	b.cpuSecs = cpu1 - cpu0
	if b.rss, err = proc.PeakRSSMiB(); err != nil {
		return err
	}
	// Stopped now, so it idles through none of the replica phases and its
	// CPU profile is complete.
	if err := b.launch.StopAll(); err != nil {
		return err
	}
	if b.cpuProfile != "" {
		fmt.Printf("full path: ingest CPU profile in %s (go tool pprof -top %s/ingest %s)\n", b.cpuProfile, b.bin, b.cpuProfile)
	}
	return nil
}

// report prints the verdict and the result.
func (b *ingestBench) report() error {
	ceiling := float64(b.n) / b.ceilingSecs
	full := float64(b.n) / b.fullSecs
	ratio := full / ceiling
	cpuPer100k := b.cpuSecs / float64(b.n) * 100000
	verdict := "meets"
	if ratio < 0.70 || b.rss > 200 || cpuPer100k > cpuTarget {
		verdict = "MISSES"
	}
	fmt.Fprintf(os.Stderr, "target ratio ≥ 0.70, RSS ≤ 200 MiB and CPU ≤ %.0f s per 100k events: %s\n", cpuTarget, verdict)
	b.printReplicas()
	type replicaJSON struct {
		Replicas        int     `json:"replicas"`
		EventsPerS      float64 `json:"events_per_s"`
		Speedup         float64 `json:"speedup"`
		Stored          int     `json:"stored"`
		DuplicateWrites float64 `json:"duplicate_writes"`
		CPUPer100k      float64 `json:"cpu_s_per_100k"`
	}
	replicas := []replicaJSON{}
	for _, r := range b.replicaRows {
		replicas = append(replicas, replicaJSON{r.replicas, round(r.rate(b.n)), round2(r.rate(b.n) / b.replicaRows[0].rate(b.n)),
			r.stored, r.writes - float64(b.n), round2(r.cpuPer100k(b.n))})
	}
	return report("ingest", []row{
		{"events per phase", fmt.Sprint(b.n)},
		{"ceiling: bare gocql upserts (events/s)", fmt.Sprintf("%.0f", ceiling)},
		{"full path Kafka→ingest→Cassandra (events/s)", fmt.Sprintf("%.0f", full)},
		{"ratio (target ≥ 0.70)", fmt.Sprintf("%.2f", ratio)},
		{fmt.Sprintf("ingest CPU s per 100k events (target ≤ %.0f)", cpuTarget), fmt.Sprintf("%.2f", cpuPer100k)},
		{"ingest peak RSS MiB (target ≤ 200)", fmt.Sprintf("%.1f", b.rss)},
	}, [][2]any{
		{"events_per_s", round(full)}, {"ceiling_events_per_s", round(ceiling)}, {"ratio", round2(ratio)},
		{"cpu_s_per_100k", round2(cpuPer100k)}, {"cpu_target_met", cpuPer100k <= cpuTarget}, {"peak_rss_mib", round2(b.rss)},
		{"events", b.n}, {"replicas", replicas},
	})
}

// printReplicas prints the replica phases' table.
func (b *ingestBench) printReplicas() {
	if len(b.replicaRows) == 0 {
		return
	}
	fmt.Printf("\n  consumer group on one machine, %d partitions, %d events per phase:\n", replicaPartitions, b.n)
	fmt.Printf("  %8s %12s %8s %8s %11s %11s %10s\n", "replicas", "events/s", "speedup", "stored", "duplicates", "redelivered", "CPU s/100k")
	for _, r := range b.replicaRows {
		fmt.Printf("  %8d %12.0f %8.2f %8d %11.0f %11.0f %10.2f\n", r.replicas, r.rate(b.n), r.rate(b.n)/b.replicaRows[0].rate(b.n),
			r.stored, r.writes-float64(b.n), r.consumed-float64(b.n), r.cpuPer100k(b.n))
	}
}

// teardown stops ingest, then deletes the backlog's topics.
func (b *ingestBench) teardown() {
	if b.launch != nil {
		_ = b.launch.StopAll()
	}
	for _, t := range b.replicaTopics {
		dropTopic(b.admin, t)
	}
	dropTopics(b.admin, b.topic)
}

func produceBacklog(brokers []string, sc *sarama.Config, topic string, events []contract.Event, values [][]byte) error {
	ap, err := sarama.NewAsyncProducer(brokers, sc)
	if err != nil {
		return err
	}
	var errs atomic.Int64
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for range ap.Successes() {
		}
	}()
	go func() {
		defer wg.Done()
		for range ap.Errors() {
			errs.Add(1)
		}
	}()
	for i := range events {
		ap.Input() <- &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(events[i].Device), Value: sarama.ByteEncoder(values[i])}
	}
	ap.AsyncClose()
	wg.Wait()
	if errs.Load() > 0 {
		return fmt.Errorf("produce backlog: %d records failed", errs.Load())
	}
	return nil
}

func round(f float64) float64  { return float64(int64(f + 0.5)) }
func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// dropTopics deletes a run's topic and its dead-letter topic (best effort:
// the next run makes new ones) and closes the admin client; nil does nothing.
func dropTopics(admin sarama.ClusterAdmin, topic string) {
	if admin == nil {
		return
	}
	dropTopic(admin, topic)
	_ = admin.Close()
}

// dropTopic deletes topic and its dead-letter topic, best effort.
func dropTopic(admin sarama.ClusterAdmin, topic string) {
	if admin == nil {
		return
	}
	_ = admin.DeleteTopic(topic)
	_ = admin.DeleteTopic(topic + ".dlq")
}
