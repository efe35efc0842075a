package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/gocql/gocql"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/localrun"
	"github.com/sluicehq/sluice/workloads/dev/sparkrun"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
	"github.com/sluicehq/sluice/workloads/internal/kafkaclient"
	"github.com/sluicehq/sluice/workloads/internal/progress"
	"github.com/sluicehq/sluice/workloads/internal/simulate"
)

func init() { benchmarks["spark"] = benchSpark }

// The spark benchmark's fleet: the demo's size, under site ids of the run's
// own (see sparkBench.sites), so runs never share a site_minutes row.
const sparkSites, sparkDevices = 12, 500

// sparkPartitions is the run topic's partition count, as the other
// benchmarks' topics.
const sparkPartitions = 6

// benchSpark measures the Spark stream job on local[2], as one JVM kept
// running through every phase:
//
//  1. warm-up: a small burst, until the aggregates count it (the first
//     batch with data compiles the job's plan);
//  2. throughput: a backlog produced as fast as Kafka takes it, timed from
//     the first record sent until the minute aggregates in Cassandra count
//     every event of it and the job's other query has read it;
//  3. latency: a steady rate for -duration, each event's event time →
//     the first poll of site_minutes whose count covers it;
//
// then, with the job stopped, the baseline: a plain consumer reading the
// same backlog from the same topic. The JVM's peak RSS (VmHWM) is sampled
// throughout.
func benchSpark(args []string) error {
	b, err := parseSpark(args)
	if err != nil {
		return err
	}
	ctx := context.Background()
	defer b.teardown()
	if err := b.setup(ctx); err != nil {
		return err
	}
	if err := b.startJob(ctx); err != nil {
		return err
	}
	if err := b.warmUp(ctx); err != nil {
		return err
	}
	if err := b.drainBacklog(ctx); err != nil {
		return err
	}
	if err := b.steady(ctx); err != nil {
		return err
	}
	b.stopJob()
	if err := b.readBaseline(ctx); err != nil {
		return err
	}
	return b.report()
}

// sparkBench is one run of the spark benchmark, filled in phase by phase.
type sparkBench struct {
	// flags
	backlog, warm          int
	rate                   float64
	duration, settle, poll time.Duration
	trigger, stall         time.Duration
	heap                   string

	// setup
	lc      *local
	run     int64 // names the run's topic, sites, consumer group and checkpoint
	topic   string
	kc      kafkaclient.Config
	sc      *sarama.Config
	admin   sarama.ClusterAdmin
	client  sarama.Client
	session *gocql.Session
	ckpt    string
	log     string
	proc    *sparkrun.Proc
	started time.Duration // JVM start → both queries past their first trigger
	rssMu   sync.Mutex
	rss     float64 // peak RSS (VmHWM) of the JVM so far, MiB
	rssStop chan struct{}
	rssDone chan struct{}

	// phases
	warmTook     time.Duration
	from, to     map[int32]int64 // the backlog's offsets per partition: first, one past the last
	produceSecs  float64         // producing the backlog
	drainSecs    float64         // first record sent → all counted and the other query done too
	minutesSecs  float64         // first record sent → site_minutes counts every event
	silenceSecs  float64         // first record sent → the silent-devices query has read every record
	drained      int64           // backlog events the aggregates counted
	steadyStart  time.Time
	steadyAcked  int64
	steadyGot    int64
	steadySecs   float64
	maxBehind    int64         // most events acknowledged but not yet counted in the steady phase
	finalCatchUp time.Duration // last steady event produced → all counted
	vis          []visibility
	steadyLog    string // the job's log lines of the steady phase
	missing      int
	kafkaSecs    float64
	kafkaRead    int64
}

func parseSpark(args []string) (*sparkBench, error) {
	b := &sparkBench{}
	fs := flag.NewFlagSet("bench spark", flag.ContinueOnError)
	fs.IntVar(&b.backlog, "events", 200000, "events in the backlog (throughput and the Kafka baseline)")
	fs.IntVar(&b.warm, "warmup-events", 20000, "events of the warm-up burst, before the backlog")
	fs.Float64Var(&b.rate, "rate", localrun.DemoRate, "events per second of the steady phase (default: the demo's rate)")
	fs.DurationVar(&b.duration, "duration", 90*time.Second, "how long to produce at -rate")
	fs.DurationVar(&b.settle, "settle", 10*time.Second, "first part of the steady phase not measured for latency (still counted)")
	fs.DurationVar(&b.poll, "poll", 250*time.Millisecond, "how often site_minutes is read")
	fs.DurationVar(&b.trigger, "trigger", sparkrun.DemoTrigger, "the job's processing-time trigger (default: the demo's)")
	fs.DurationVar(&b.stall, "stall", 2*time.Minute, "give up waiting for the aggregates once their counts have not grown for this long")
	fs.StringVar(&b.heap, "heap", "1g", "the JVM's -Xmx")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if b.backlog < 1 || b.warm < 1 || b.rate <= 0 || b.duration <= b.settle || b.poll <= 0 || b.trigger < 100*time.Millisecond {
		return nil, errors.New("need -events and -warmup-events ≥ 1, -rate > 0, -duration > -settle, -poll > 0 and -trigger ≥ 100ms")
	}
	return b, nil
}

// setup brings Kafka and Cassandra up (idempotently), migrates the
// benchmark keyspace, creates the run's topic and builds the job jar.
func (b *sparkBench) setup(ctx context.Context) error {
	var err error
	if b.lc, err = startLocal(ctx, devservices.Kafka, devservices.Cassandra); err != nil {
		return err
	}
	r := b.lc.reader()
	cc := cqlsession.FromEnv(r)
	b.kc = kafkaclient.FromEnv(r, "sluice-bench-spark")
	if err := r.Err(); err != nil {
		return err
	}
	if err := eventstore.MigrateConfig(ctx, cc, 1); err != nil {
		return err
	}
	if b.session, err = cc.Open(); err != nil {
		return err
	}
	b.run = time.Now().Unix()
	b.topic = fmt.Sprintf("bench-spark-%d", b.run)
	if b.sc, err = b.kc.Sarama(nil); err != nil {
		return err
	}
	if b.admin, err = sarama.NewClusterAdmin(b.kc.Brokers, b.sc); err != nil {
		return fmt.Errorf("kafka admin: %w", err)
	}
	if err := kafkaclient.EnsureTopics(b.admin, []kafkaclient.Topic{{Name: b.topic, Partitions: sparkPartitions}}); err != nil {
		return err
	}
	if b.client, err = sarama.NewClient(b.kc.Brokers, b.sc); err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	return nil
}

// sites are the run's site ids of a phase ("w", "b" or "s"): the fleet's
// ids under a prefix of the run's.
func (b *sparkBench) sites(phase string) []string {
	fleet, _ := simulate.Fleet(sparkSites, sparkDevices)
	out := make([]string, len(fleet))
	for i, s := range fleet {
		out[i] = b.sitePrefix(phase) + s.ID
	}
	return out
}

func (b *sparkBench) sitePrefix(phase string) string { return fmt.Sprintf("bs%d-%s-", b.run, phase) }

// phaseGen makes a phase's valid events, stamped at the time given.
type phaseGen struct {
	gen    *simulate.Generator
	prefix string
}

func (b *sparkBench) newGen(phase string, seed uint64) (*phaseGen, error) {
	gen, err := simulate.NewGenerator(sparkSites, sparkDevices, simulate.DefaultMix, uint64(b.run)^seed)
	if err != nil {
		return nil, err
	}
	return &phaseGen{gen: gen, prefix: b.sitePrefix(phase)}, nil
}

func (g *phaseGen) next(now time.Time) (contract.Event, []byte, error) {
	rec := g.gen.Next(now)
	if rec.Event == nil {
		return contract.Event{}, nil, errors.New("generator made an invalid record")
	}
	ev := *rec.Event
	ev.Site = g.prefix + ev.Site
	v, err := ev.Marshal()
	if err != nil {
		return contract.Event{}, nil, fmt.Errorf("marshal event: %w", err)
	}
	return ev, v, nil
}

// batch makes n events of a phase, stamped now.
func (b *sparkBench) batch(phase string, seed uint64, n int) ([]contract.Event, [][]byte, error) {
	g, err := b.newGen(phase, seed)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	evs, vals := make([]contract.Event, n), make([][]byte, n)
	for i := range evs {
		if evs[i], vals[i], err = g.next(now); err != nil {
			return nil, nil, err
		}
	}
	return evs, vals, nil
}

// startJob builds and starts the stream job on the run's topic with a
// checkpoint of its own, and waits until both queries are past their first
// trigger (on an empty topic: idle).
func (b *sparkBench) startJob(ctx context.Context) error {
	fmt.Println("building the stream job (mvn package, its JUnit tests included)")
	m := b.lc.Manager
	job, err := sparkrun.Prepare(ctx, m)
	if err != nil {
		return err
	}
	b.ckpt = filepath.Join(m.Layout().DataRoot(), "spark", b.topic)
	if err := os.MkdirAll(b.ckpt, 0o755); err != nil {
		return fmt.Errorf("spark checkpoint folder: %w", err)
	}
	b.log = filepath.Join(b.lc.logs, "bench-spark-stream.log")
	_ = os.Remove(b.log)
	env := append(append([]string(nil), b.lc.env...), "KAFKA_TOPIC="+b.topic, "SPARK_CHECKPOINT="+b.ckpt,
		"SPARK_TRIGGER="+b.trigger.String(), "SPARK_GROUP_PREFIX="+b.topic, "SPARK_STARTING_OFFSETS=earliest")
	fmt.Printf("starting the stream job (local[2], -Xmx%s, %s trigger) on %s; log %s\n", b.heap, b.trigger, b.topic, b.log)
	begin := time.Now()
	if b.proc, err = sparkrun.Start(sparkrun.Options{Job: job, Env: env, Heap: b.heap, Log: b.log}); err != nil {
		return err
	}
	b.rssStop, b.rssDone = make(chan struct{}), make(chan struct{})
	go b.sampleRSS()
	for !queryStarted(b.log, "site-minutes") || !queryStarted(b.log, "silent-devices") {
		if b.proc.Exited() {
			return fmt.Errorf("the stream job exited before it started (log %s):\n%s", b.log, localrun.Tail(b.log, 20))
		}
		if time.Since(begin) > 3*time.Minute {
			return fmt.Errorf("the stream job did not start within 3 minutes (log %s)", b.log)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	b.started = time.Since(begin)
	return nil
}

// queryStarted tells whether the job's log shows query past its first
// trigger: a batch done, or idle.
func queryStarted(log, query string) bool {
	data, _ := os.ReadFile(log)
	text := string(data)
	return strings.Contains(text, "query "+query+" batch ") || strings.Contains(text, "query "+query+" idle")
}

// sampleRSS keeps the JVM's VmHWM every second until stopped or the JVM
// ends (VmHWM is itself a high-water mark; sampling keeps the last value
// read before the process goes).
func (b *sparkBench) sampleRSS() {
	defer close(b.rssDone)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if v, err := localrun.PeakRSSMiB(b.proc.Pid()); err == nil {
			b.rssMu.Lock()
			b.rss = max(b.rss, v)
			b.rssMu.Unlock()
		}
		select {
		case <-b.rssStop:
			return
		case <-t.C:
		}
	}
}

func (b *sparkBench) peakRSS() float64 {
	b.rssMu.Lock()
	defer b.rssMu.Unlock()
	return b.rss
}

// rows reads the site_minutes rows of sites for every day from since to
// now.
func (b *sparkBench) rows(ctx context.Context, sites []string, since time.Time) (map[minuteKey]int64, error) {
	out := map[minuteKey]int64{}
	for day := contract.Day(since); !day.After(time.Now().UTC()); day = day.AddDate(0, 0, 1) {
		for _, site := range sites {
			iter := b.session.Query(`SELECT kind, unit, minute, events FROM `+BenchKeyspace+`.`+contract.TableSiteMinutes+
				` WHERE site = ? AND day = ?`, site, day).WithContext(ctx).Iter()
			var (
				kind, unit string
				minute     time.Time
				events     int64
			)
			for iter.Scan(&kind, &unit, &minute, &events) {
				out[minuteKey{site, kind, unit, minute.UTC()}] = events
			}
			if err := iter.Close(); err != nil {
				return nil, fmt.Errorf("read site minutes: %w", err)
			}
		}
	}
	return out, nil
}

func sumRows(rows map[minuteKey]int64) int64 {
	var n int64
	for _, v := range rows {
		n += v
	}
	return n
}

// waitCounted polls the aggregates of sites until they count want events,
// their counts stop growing for -stall, or the job ends. It returns the
// last count and when it was read; tick sees every count.
func (b *sparkBench) waitCounted(ctx context.Context, sites []string, since time.Time, want int64, tick func(int64)) (int64, time.Time) {
	var got int64
	at, grew := time.Now(), time.Now()
	for got < want && time.Since(grew) < b.stall && !b.proc.Exited() {
		select {
		case <-ctx.Done():
			return got, at
		case <-time.After(b.poll):
		}
		rows, err := b.rows(ctx, sites, since)
		if err != nil {
			slog.Warn("poll site_minutes", "err", err)
			continue
		}
		n, now := sumRows(rows), time.Now()
		if n > got {
			grew = now
		}
		got, at = n, now
		if tick != nil {
			tick(n)
		}
	}
	if got < want {
		slog.Warn("the aggregates stopped short", "counted", got, "want", want, "log", b.log)
	}
	return got, at
}

// warmUp sends a burst of -warmup-events and waits until it is counted:
// the job's first batch with data compiles its plan, which a throughput
// figure should not include.
func (b *sparkBench) warmUp(ctx context.Context) error {
	fmt.Printf("stream job up after %s; warm-up: %d events\n", b.started.Round(time.Second), b.warm)
	evs, vals, err := b.batch("w", 1, b.warm)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := produceBacklog(b.kc.Brokers, b.sc, b.topic, evs, vals); err != nil {
		return err
	}
	bar := progress.New("warm-up", int64(b.warm))
	got, _ := b.waitCounted(ctx, b.sites("w"), start, int64(b.warm), func(n int64) { bar.Set(n, "") })
	bar.Finish()
	b.warmTook = time.Since(start)
	if got != int64(b.warm) {
		return fmt.Errorf("the warm-up's aggregates count %d of %d events (log %s)", got, b.warm, b.log)
	}
	return nil
}

// offsets returns each partition's next offset.
func (b *sparkBench) offsets() (map[int32]int64, error) {
	parts, err := b.client.Partitions(b.topic)
	if err != nil {
		return nil, fmt.Errorf("partitions of %s: %w", b.topic, err)
	}
	out := map[int32]int64{}
	for _, p := range parts {
		if out[p], err = b.client.GetOffset(b.topic, p, sarama.OffsetNewest); err != nil {
			return nil, fmt.Errorf("offset of %s/%d: %w", b.topic, p, err)
		}
	}
	return out, nil
}

// drainBacklog produces -events as fast as Kafka takes them while the job
// runs, and times them from the first record sent until the minute
// aggregates count them all and the job's silent-devices query (from its
// logged batches) has read them all too.
func (b *sparkBench) drainBacklog(ctx context.Context) error {
	evs, vals, err := b.batch("b", 2, b.backlog)
	if err != nil {
		return err
	}
	if b.from, err = b.offsets(); err != nil {
		return err
	}
	fmt.Printf("throughput: a backlog of %d events, produced at once\n", b.backlog)
	start := time.Now()
	if err := produceBacklog(b.kc.Brokers, b.sc, b.topic, evs, vals); err != nil {
		return err
	}
	b.produceSecs = time.Since(start).Seconds()
	if b.to, err = b.offsets(); err != nil {
		return err
	}
	bar := progress.New("backlog", int64(b.backlog))
	var at time.Time
	b.drained, at = b.waitCounted(ctx, b.sites("b"), start, int64(b.backlog), func(n int64) { bar.Set(n, "") })
	bar.Finish()
	b.minutesSecs = at.Sub(start).Seconds()
	// The job's other query reads the same records on the same two cores;
	// the backlog is through the job once both have.
	done := b.waitQueryRead(ctx, "silent-devices", int64(b.warm+b.backlog))
	b.silenceSecs = done.Sub(start).Seconds()
	b.drainSecs = max(b.minutesSecs, b.silenceSecs)
	return nil
}

// waitQueryRead polls the job's log until query's batches have read want
// records in all (or -stall passes with no new batch, or the job ends)
// and returns the time the log stamped on the batch that did (when it saw
// that if the stamp cannot be read).
func (b *sparkBench) waitQueryRead(ctx context.Context, query string, want int64) time.Time {
	var got int64
	grew := time.Now()
	for time.Since(grew) < b.stall && !b.proc.Exited() && ctx.Err() == nil {
		text := readFrom(b.log, 0)
		n := parseBatches(text)[query].rows
		if n >= want {
			if at, ok := readAllAt(text, query, want); ok {
				return at
			}
			return time.Now()
		}
		if n > got {
			got, grew = n, time.Now()
		}
		time.Sleep(b.poll)
	}
	slog.Warn("query stopped short", "query", query, "read", got, "want", want, "log", b.log)
	return time.Now()
}

// steadyMeta travels with each steady record to its acknowledgement.
type steadyMeta struct {
	key minuteKey
	at  time.Time
}

// steady produces at -rate for -duration, polling site_minutes every
// -poll for when each minute's count grows, then waits for the stragglers.
func (b *sparkBench) steady(ctx context.Context) error {
	g, err := b.newGen("s", 3)
	if err != nil {
		return err
	}
	ap, err := sarama.NewAsyncProducer(b.kc.Brokers, b.sc)
	if err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	var (
		mu       sync.Mutex
		produced = map[minuteKey][]time.Time{}
		acked    atomic.Int64
		failed   atomic.Int64
		wg       sync.WaitGroup
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		for msg := range ap.Successes() {
			m := msg.Metadata.(steadyMeta)
			mu.Lock()
			produced[m.key] = append(produced[m.key], m.at)
			mu.Unlock()
			acked.Add(1)
		}
	}()
	go func() {
		defer wg.Done()
		for perr := range ap.Errors() {
			failed.Add(1)
			slog.Warn("produce", "err", perr.Err)
		}
	}()

	sites := b.sites("s")
	seen := map[minuteKey][]sighting{}
	var counted atomic.Int64
	producing := atomic.Bool{}
	producing.Store(true)
	pollDone := make(chan struct{})
	pollStop := make(chan struct{})
	logMark := int64(0)
	if st, err := os.Stat(b.log); err == nil {
		logMark = st.Size()
	}
	b.steadyStart = time.Now()
	fmt.Printf("latency: %.0f events/s for %s (the first %s not measured), site_minutes read every %s\n", b.rate, b.duration, b.settle, b.poll)
	bar := progress.New("steady", -1)
	stopBar := progress.Tick(func() {
		a := acked.Load()
		bar.Set(a, fmt.Sprintf("%d counted · %d behind", counted.Load(), a-counted.Load()))
	})
	go func() {
		defer close(pollDone)
		for {
			select {
			case <-pollStop:
				return
			case <-time.After(b.poll):
			}
			a := acked.Load()
			rows, err := b.rows(ctx, sites, b.steadyStart)
			if err != nil {
				slog.Warn("poll site_minutes", "err", err)
				continue
			}
			now := time.Now()
			for k, n := range rows {
				s := seen[k]
				if len(s) == 0 || s[len(s)-1].events < n {
					seen[k] = append(s, sighting{now, n})
				}
			}
			n := sumRows(rows)
			counted.Store(n)
			if producing.Load() && a-n > b.maxBehind {
				b.maxBehind = a - n
			}
		}
	}()

	// Pace as the simulator does: the n-th record is due at n / rate.
	var sent int64
	for time.Since(b.steadyStart) < b.duration && ctx.Err() == nil {
		due := int64(time.Since(b.steadyStart).Seconds()*b.rate) + 1
		if sent >= due {
			time.Sleep(min(time.Duration(float64(sent+1-due)/b.rate*float64(time.Second))+time.Millisecond, 20*time.Millisecond))
			continue
		}
		now := time.Now()
		ev, v, err := g.next(now)
		if err != nil {
			ap.AsyncClose()
			wg.Wait()
			close(pollStop)
			<-pollDone
			stopBar()
			return err
		}
		ap.Input() <- &sarama.ProducerMessage{Topic: b.topic, Key: sarama.StringEncoder(ev.Device), Value: sarama.ByteEncoder(v),
			Metadata: steadyMeta{key: minuteKey{ev.Site, ev.Kind, ev.Unit, ev.At.UTC().Truncate(time.Minute)}, at: ev.At}}
		sent++
	}
	ap.AsyncClose()
	wg.Wait()
	producing.Store(false)
	lastSent := time.Now()
	b.steadySecs = lastSent.Sub(b.steadyStart).Seconds()
	b.steadyAcked = acked.Load()
	if failed.Load() > 0 {
		slog.Warn("steady phase: records failed", "failed", failed.Load())
	}
	// Stragglers: until every acknowledged event is counted or the counts
	// stop growing.
	last, grew := counted.Load(), time.Now()
	for counted.Load() < b.steadyAcked && time.Since(grew) < b.stall && !b.proc.Exited() {
		time.Sleep(b.poll)
		if n := counted.Load(); n > last {
			last, grew = n, time.Now()
		}
	}
	close(pollStop)
	<-pollDone
	stopBar()
	bar.Finish()
	b.steadyGot = counted.Load()
	b.steadyLog = readFrom(b.log, logMark)
	if b.steadyGot >= b.steadyAcked {
		b.finalCatchUp = time.Since(lastSent)
	}
	b.vis, b.missing = visibleLags(produced, seen, b.steadyStart.Add(b.settle))
	return nil
}

// readFrom returns a file's text from offset on ("" if it cannot be read).
func readFrom(path string, offset int64) string {
	data, err := os.ReadFile(path)
	if err != nil || offset > int64(len(data)) {
		return ""
	}
	return string(data[offset:])
}

// stopJob stops the job and the RSS sampler (the last VmHWM is read
// before the JVM goes).
func (b *sparkBench) stopJob() {
	if b.rssStop != nil {
		close(b.rssStop)
		<-b.rssDone
		b.rssStop = nil
	}
	if b.proc != nil {
		b.proc.Stop(30 * time.Second)
		b.proc = nil
	}
}

// readBaseline reads the backlog's offsets of the topic with a plain
// consumer, every partition side by side, records not decoded.
func (b *sparkBench) readBaseline(ctx context.Context) error {
	fmt.Printf("baseline: a plain Kafka consumer reading the same %d-event backlog from %s\n", b.backlog, b.topic)
	consumer, err := sarama.NewConsumerFromClient(b.client)
	if err != nil {
		return fmt.Errorf("kafka consumer: %w", err)
	}
	defer consumer.Close()
	var read atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, len(b.from))
	start := time.Now()
	for p, first := range b.from {
		end := b.to[p]
		if end <= first {
			continue
		}
		pc, err := consumer.ConsumePartition(b.topic, p, first)
		if err != nil {
			return fmt.Errorf("consume %s/%d: %w", b.topic, p, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer pc.Close()
			timeout := time.NewTimer(time.Minute)
			defer timeout.Stop()
			for {
				select {
				case msg := <-pc.Messages():
					read.Add(1)
					if msg.Offset >= end-1 {
						return
					}
				case perr := <-pc.Errors():
					errs <- fmt.Errorf("read %s/%d: %w", b.topic, p, perr.Err)
					return
				case <-timeout.C:
					errs <- fmt.Errorf("read %s/%d: no end within a minute", b.topic, p)
					return
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	wg.Wait()
	b.kafkaSecs = time.Since(start).Seconds()
	b.kafkaRead = read.Load()
	close(errs)
	return <-errs
}

// report prints the figures, the targets and the JSON line. A missed
// target is a figure like the others.
func (b *sparkBench) report() error {
	jobRate := perSecond(float64(b.drained), b.drainSecs)
	kafkaRate := perSecond(float64(b.kafkaRead), b.kafkaSecs)
	lags := lagsOf(b.vis)
	p50, p99, worst := percentile(lags, 0.50), percentile(lags, 0.99), percentile(lags, 1)
	drift := lagDrift(b.vis)
	rss := b.peakRSS()
	f := sparkFigures{eventsPerS: jobRate, backlogCounted: b.drained, backlog: int64(b.backlog),
		steadyCounted: b.steadyGot, steadyAcked: b.steadyAcked, p99: p99, drift: drift, samples: len(lags)}
	targets := sparkTargets(f, localrun.DemoRate, b.trigger)
	met := true
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		met = false
		return "MISSED"
	}
	catchUp := "never"
	if b.finalCatchUp > 0 {
		catchUp = b.finalCatchUp.Round(100 * time.Millisecond).String()
	}
	rows := []row{
		{"demo's event rate (localrun.DemoRate, events/s)", fmt.Sprint(localrun.DemoRate)},
		{"job: local[2], heap / trigger", fmt.Sprintf("%s / %s", b.heap, b.trigger)},
		{"job start → both queries up", b.started.Round(time.Second).String()},
		{"warm-up events / until counted", fmt.Sprintf("%d / %s", b.warm, b.warmTook.Round(time.Second))},
		{"backlog events (fresh topic, 6 partitions)", fmt.Sprint(b.backlog)},
		{"backlog produce rate (events/s)", fmt.Sprintf("%.0f", perSecond(float64(b.backlog), b.produceSecs))},
		{"baseline: plain Kafka read (events/s)", fmt.Sprintf("%.0f", kafkaRate)},
		{"backlog: minutes counted / silence query read", fmt.Sprintf("%.1fs / %.1fs", b.minutesSecs, b.silenceSecs)},
		{"job: backlog → aggregates (events/s)", fmt.Sprintf("%.0f", jobRate)},
		{"job / Kafka read", fmt.Sprintf("%.3f", perSecond(jobRate, kafkaRate))},
		{"job / demo's rate", fmt.Sprintf("%.2f", jobRate/localrun.DemoRate)},
		{"backlog counted / produced", fmt.Sprintf("%d / %d", b.drained, b.backlog)},
		{"steady rate asked / got (events/s)", fmt.Sprintf("%.0f / %.0f", b.rate, perSecond(float64(b.steadyAcked), b.steadySecs))},
		{"steady phase / measured from", fmt.Sprintf("%s / +%s", b.duration, b.settle)},
		{"steady counted / produced", fmt.Sprintf("%d / %d", b.steadyGot, b.steadyAcked)},
		{"events measured / never counted", fmt.Sprintf("%d / %d", len(lags), b.missing)},
		{"event time → aggregate visible p50 ms", fmt.Sprintf("%.0f", ms(p50))},
		{"event time → aggregate visible p99 ms", fmt.Sprintf("%.0f", ms(p99))},
		{"event time → aggregate visible max ms", fmt.Sprintf("%.0f", ms(worst))},
		{"lag drift, last − first quarter p50 ms", fmt.Sprintf("%.0f", ms(drift))},
		{"most events behind while producing", fmt.Sprint(b.maxBehind)},
		{"last event produced → all counted", catchUp},
		{"job peak RSS MiB (VmHWM)", fmt.Sprintf("%.0f", rss)},
	}
	batches := parseBatches(b.steadyLog)
	for _, q := range []string{"site-minutes", "silent-devices"} {
		st := batches[q]
		if st.batches == 0 {
			rows = append(rows, row{"steady: " + q + " batches", "none logged"})
			continue
		}
		rows = append(rows, row{fmt.Sprintf("steady: %s, %d batches: rows in / ms (max)", q, st.batches),
			fmt.Sprintf("%d / %d (%d)", st.rows/st.batches, st.totalMS/st.batches, st.maxMS)})
	}
	rows = append(rows, row{"steady: batches over the trigger interval", fmt.Sprint(strings.Count(b.steadyLog, "Current batch is falling behind"))})
	for _, t := range targets {
		rows = append(rows, row{"target " + t.name, verdict(t.met)})
	}
	if !met {
		fmt.Fprintf(os.Stderr, "some targets missed (job log %s)\n", b.log)
	}
	return report("spark", rows, [][2]any{
		{"events_per_s", round(jobRate)}, {"p99_ms", round(ms(p99))}, {"peak_rss_mib", round(rss)},
		{"kafka_read_events_per_s", round(kafkaRate)}, {"ratio", round(perSecond(jobRate, kafkaRate)*1000) / 1000},
		{"p50_ms", round(ms(p50))}, {"rate", b.rate}, {"demo_rate", localrun.DemoRate},
		{"trigger_ms", b.trigger.Milliseconds()}, {"backlog", b.backlog}, {"exact", f.backlogCounted == f.backlog && f.steadyCounted == f.steadyAcked},
		{"targets_met", met},
	})
}

// teardown stops the job, deletes the run's topic and checkpoint and
// closes the clients.
func (b *sparkBench) teardown() {
	b.stopJob()
	if b.client != nil {
		_ = b.client.Close()
	}
	dropTopics(b.admin, b.topic)
	if b.ckpt != "" {
		_ = os.RemoveAll(b.ckpt)
	}
	if b.session != nil {
		b.session.Close()
	}
}

// perSecond is n / secs, 0 when secs is not positive (so no figure is
// infinite or NaN, which JSON cannot carry).
func perSecond(n, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return n / secs
}
