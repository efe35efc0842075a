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
// same engines. The ingest binary runs as its own process so its CPU time
// and peak RSS are its own.
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
	return b.report()
}

// ingestBench is one run of the ingest benchmark, filled in phase by phase.
type ingestBench struct {
	// flags
	n, conc int
	bin     string

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
}

func parseIngest(args []string) (*ingestBench, error) {
	b := &ingestBench{}
	fs := flag.NewFlagSet("bench ingest", flag.ContinueOnError)
	fs.IntVar(&b.n, "events", 100000, "events per phase")
	fs.IntVar(&b.conc, "concurrency", 256, "writes in flight, for both the ceiling and ingest")
	fs.StringVar(&b.bin, "bin", ".sluice/bin", "folder holding the ingest binary")
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

// upsertAll writes evs with -concurrency writers and returns the seconds
// it took.
func (b *ingestBench) upsertAll(session *gocql.Session, store *eventstore.Store, what string, evs []contract.Event) (float64, error) {
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	bar := progress.New(what, int64(len(evs)))
	stopBar := progress.Tick(func() { bar.Set(next.Load(), "") })
	start := time.Now()
	for w := 0; w < b.conc; w++ {
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
				if err := eventstore.ExecBatch(context.Background(), session, stmts); err != nil {
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
	b.launch = b.lc.launcher(b.bin, "bench-", "KAFKA_TOPIC="+b.topic, "KAFKA_DLQ_TOPIC="+b.topic+".dlq", "INGEST_GROUP="+b.topic,
		fmt.Sprintf("INGEST_CONCURRENCY=%d", b.conc), "LOG_LEVEL=warn")
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
		time.Sleep(50 * time.Millisecond)
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
	b.rss, err = proc.PeakRSSMiB()
	return err
}

// report prints the verdict and the result.
func (b *ingestBench) report() error {
	ceiling := float64(b.n) / b.ceilingSecs
	full := float64(b.n) / b.fullSecs
	ratio := full / ceiling
	cpuPer100k := b.cpuSecs / float64(b.n) * 100000
	verdict := "meets"
	if ratio < 0.70 || b.rss > 200 {
		verdict = "MISSES"
	}
	fmt.Fprintf(os.Stderr, "target ratio ≥ 0.70 and RSS ≤ 200 MiB: %s\n", verdict)
	return report("ingest", []row{
		{"events per phase", fmt.Sprint(b.n)},
		{"ceiling: bare gocql upserts (events/s)", fmt.Sprintf("%.0f", ceiling)},
		{"full path Kafka→ingest→Cassandra (events/s)", fmt.Sprintf("%.0f", full)},
		{"ratio (target ≥ 0.70)", fmt.Sprintf("%.2f", ratio)},
		{"ingest CPU s per 100k events", fmt.Sprintf("%.2f", cpuPer100k)},
		{"ingest peak RSS MiB (target ≤ 200)", fmt.Sprintf("%.1f", b.rss)},
	}, [][2]any{
		{"events_per_s", round(full)}, {"ceiling_events_per_s", round(ceiling)}, {"ratio", round2(ratio)},
		{"cpu_s_per_100k", round2(cpuPer100k)}, {"peak_rss_mib", round2(b.rss)}, {"events", b.n},
	})
}

// teardown stops ingest, then deletes the backlog's topics.
func (b *ingestBench) teardown() {
	if b.launch != nil {
		_ = b.launch.StopAll()
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
	_ = admin.DeleteTopic(topic)
	_ = admin.DeleteTopic(topic + ".dlq")
	_ = admin.Close()
}
