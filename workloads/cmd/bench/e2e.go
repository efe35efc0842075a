package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/devservices"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
	"github.com/sluicehq/sluice/workloads/internal/kafkaclient"
	"github.com/sluicehq/sluice/workloads/internal/localrun"
	"github.com/sluicehq/sluice/workloads/internal/progress"
	"github.com/sluicehq/sluice/workloads/internal/rtprobe"
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
	boot := cc
	boot.Keyspace = ""
	bs, err := boot.Open()
	if err != nil {
		return err
	}
	err = eventstore.Migrate(ctx, bs, 1)
	bs.Close()
	if err != nil {
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
	prod := &simulate.Producer{AP: ap, Topic: topic, Gen: gen, OnAck: func(a simulate.Acked) {
		if ev := a.Record.Event; ev != nil && ev.Severity == contract.SeverityCritical {
			probe.Expect(ev.Site, ev.ID, ev.At)
		}
	}}
	fmt.Printf("producing %.0f events/s for %s (%.0f%% critical) through ingest → changefeed → api\n", *rate, *d, *critical*100)
	bar := progress.New("events", int64(*rate*d.Seconds()))
	stopBar := tick(func() { bar.Set(prod.Stats().Acked, fmt.Sprintf("%d critical visible", probe.Seen())) })
	start := time.Now()
	stats, err := prod.Run(ctx, simulate.Plan{Rate: *rate, Duration: *d})
	elapsed := time.Since(start)
	stopBar()
	bar.Finish()
	if err != nil {
		return err
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
	// Where the time goes, from the workloads' own histograms.
	stage := func(proc *localrun.Proc, name string) string {
		mt, err := proc.Metrics()
		if err != nil || mt[name+"_count"] == 0 {
			return "n/a"
		}
		mean := mt[name+"_sum"] / mt[name+"_count"] * 1000
		p99, err := histogramQuantile("http://"+proc.Addr+"/metrics", name, 0.99)
		if err != nil {
			return fmt.Sprintf("%.0f / n/a", mean)
		}
		return fmt.Sprintf("%.0f / %.0f", mean, p99*1000)
	}
	ingestMean := stage(procs[1], "sluice_ingest_event_age_seconds")
	feedMean := stage(procs[0], "sluice_changefeed_lag_seconds")
	rateGot := float64(stats.Acked) / elapsed.Seconds()
	p50, p99 := res.Percentile(0.50), res.Percentile(0.99)
	verdict := "meets"
	if p99 > time.Second {
		verdict = "MISSES"
	}
	fmt.Fprintf(os.Stderr, "target p99 ≤ 1 s: %s\n", verdict)
	return report("e2e", []row{
		{"events produced", fmt.Sprint(stats.Acked)},
		{"produce rate (events/s)", fmt.Sprintf("%.0f", rateGot)},
		{"critical events measured", fmt.Sprint(len(lat))},
		{"poll interval per site", poll.String()},
		{"produce → visible in the api p50 ms", fmt.Sprintf("%.1f", ms(p50))},
		{"produce → visible in the api p99 ms (≤ 1000)", fmt.Sprintf("%.1f", ms(p99))},
		{"produce → visible in the api max ms", fmt.Sprintf("%.1f", ms(lat[len(lat)-1]))},
		{"event → stored by ingest, mean / p99 ms", ingestMean},
		{"ingested → in redis by changefeed, mean / p99 ms", feedMean},
	}, [][2]any{
		{"events_per_s", round(rateGot)}, {"p50_ms", ms(p50)}, {"p99_ms", ms(p99)},
	})
}

// histogramQuantile estimates a quantile of a Prometheus histogram scraped
// from url, interpolating linearly inside the bucket, as PromQL does.
func histogramQuantile(url, name string, q float64) (float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	type bucket struct{ le, n float64 }
	var bs []bucket
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	prefix := name + `_bucket{le="`
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		rest := line[len(prefix):]
		end := strings.Index(rest, `"}`)
		if end < 0 {
			continue
		}
		le, err := strconv.ParseFloat(rest[:end], 64)
		if err != nil {
			le = math.Inf(1)
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(rest[end+2:]), 64)
		if err != nil {
			continue
		}
		bs = append(bs, bucket{le, n})
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if len(bs) == 0 || bs[len(bs)-1].n == 0 {
		return 0, fmt.Errorf("no samples of %s", name)
	}
	rank := q * bs[len(bs)-1].n
	lower, below := 0.0, 0.0
	for _, b := range bs {
		if b.n >= rank {
			if math.IsInf(b.le, 1) {
				return lower, nil
			}
			if b.n == below {
				return b.le, nil
			}
			return lower + (b.le-lower)*(rank-below)/(b.n-below), nil
		}
		lower, below = b.le, b.n
	}
	return lower, nil
}
