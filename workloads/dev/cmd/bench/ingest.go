package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/localrun"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
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
	fs := flag.NewFlagSet("bench ingest", flag.ContinueOnError)
	n := fs.Int("events", 100000, "events per phase")
	conc := fs.Int("concurrency", 256, "writes in flight, for both the ceiling and ingest")
	bin := fs.String("bin", ".sluice/bin", "folder holding the ingest binary")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	lc, err := startLocal(ctx, devservices.Kafka, devservices.Cassandra)
	if err != nil {
		return err
	}
	home, envMap := lc.home, lc.env
	r := envconfig.NewFrom(envconfig.FromMap(envMap))
	cc := cqlsession.FromEnv(r)
	kc := kafkaclient.FromEnv(r, "sluice-bench")
	if err := r.Err(); err != nil {
		return err
	}
	if err := eventstore.MigrateConfig(ctx, cc, 1); err != nil {
		return err
	}

	gen, err := simulate.NewGenerator(12, 2000, simulate.DefaultMix, 42)
	if err != nil {
		return err
	}
	now := time.Now()
	events := make([]contract.Event, *n)
	values := make([][]byte, *n)
	for i := range events {
		rec := gen.Next(now)
		events[i], values[i] = *rec.Event, rec.Value
	}

	// (a) the ceiling: bare gocql, the same batched statements, the same
	// concurrency.
	// A warm-up pass first, so neither phase pays for Cassandra's JIT.
	session, err := cc.Open()
	if err != nil {
		return err
	}
	store := eventstore.New(session, cc.Keyspace)
	upsertAll := func(what string, evs []contract.Event) (float64, error) {
		var next, failed atomic.Int64
		var wg sync.WaitGroup
		bar := progress.New(what, int64(len(evs)))
		stopBar := progress.Tick(func() { bar.Set(next.Load(), "") })
		start := time.Now()
		for w := 0; w < *conc; w++ {
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
	warm := make([]contract.Event, min(*n/5, 20000))
	for i := range warm {
		warm[i] = *gen.Next(now).Event
	}
	fmt.Printf("warm-up: %d events\n", len(warm))
	if _, err := upsertAll("warm-up", warm); err != nil {
		session.Close()
		return err
	}
	fmt.Printf("ceiling: %d events as bare gocql upserts, %d in flight\n", *n, *conc)
	ceilingSecs, err := upsertAll("ceiling", events)
	session.Close()
	if err != nil {
		return err
	}
	ceiling := float64(*n) / ceilingSecs

	// (b) the full path: a backlog in a fresh topic, drained by ingest.
	topic := fmt.Sprintf("bench-events-%d", time.Now().UnixNano())
	fmt.Printf("full path: producing a backlog of %d events to %s\n", *n, topic)
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
	if err := produceBacklog(kc.Brokers, sc, topic, events, values); err != nil {
		return err
	}
	fmt.Println("full path: ingest draining the backlog")
	env := []string{"KAFKA_TOPIC=" + topic, "KAFKA_DLQ_TOPIC=" + topic + ".dlq", "INGEST_GROUP=" + topic,
		fmt.Sprintf("INGEST_CONCURRENCY=%d", *conc), "LOG_LEVEL=warn"}
	for k, v := range envMap {
		env = append(env, k+"="+v)
	}
	proc, err := localrun.Start(ctx, "ingest", filepath.Join(*bin, "ingest"), env, nil, filepath.Join(home, "logs", "bench-ingest.log"), 90*time.Second)
	if err != nil {
		return err
	}
	defer proc.Stop(30 * time.Second)
	cpu0, err := proc.CPUSeconds()
	if err != nil {
		return err
	}
	start := time.Now()
	bar := progress.New("ingest", int64(*n))
	var written float64
	deadline := start.Add(time.Duration(ceilingSecs*10+120) * time.Second)
	for written < float64(*n) {
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
			return fmt.Errorf("ingest wrote %.0f of %d events before the deadline", written, *n)
		}
	}
	fullSecs := time.Since(start).Seconds()
	bar.Finish()
	cpu1, err := proc.CPUSeconds()
	if err != nil {
		return err
	}
	rss, err := proc.PeakRSSMiB()
	if err != nil {
		return err
	}
	full := float64(*n) / fullSecs
	ratio := full / ceiling
	cpuPer100k := (cpu1 - cpu0) / float64(*n) * 100000
	verdict := "meets"
	if ratio < 0.70 || rss > 200 {
		verdict = "MISSES"
	}
	fmt.Fprintf(os.Stderr, "target ratio ≥ 0.70 and RSS ≤ 200 MiB: %s\n", verdict)
	return report("ingest", []row{
		{"events per phase", fmt.Sprint(*n)},
		{"ceiling: bare gocql upserts (events/s)", fmt.Sprintf("%.0f", ceiling)},
		{"full path Kafka→ingest→Cassandra (events/s)", fmt.Sprintf("%.0f", full)},
		{"ratio (target ≥ 0.70)", fmt.Sprintf("%.2f", ratio)},
		{"ingest CPU s per 100k events", fmt.Sprintf("%.2f", cpuPer100k)},
		{"ingest peak RSS MiB (target ≤ 200)", fmt.Sprintf("%.1f", rss)},
	}, [][2]any{
		{"events_per_s", round(full)}, {"ceiling_events_per_s", round(ceiling)}, {"ratio", round2(ratio)},
		{"cpu_s_per_100k", round2(cpuPer100k)}, {"peak_rss_mib", round2(rss)}, {"events", *n},
	})
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
