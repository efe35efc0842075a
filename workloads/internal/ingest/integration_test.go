//go:build integration

package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/gocql/gocql"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/itest"
	"github.com/sluicehq/sluice/workloads/internal/backoff"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
	"github.com/sluicehq/sluice/workloads/internal/ingest"
)

// flow is one test's topics, worker and the records it produced.
type flow struct {
	t       *testing.T
	ep      devservices.Endpoints
	topic   string
	dlq     string
	group   string
	prefix  string
	session *gocql.Session
	sc      *sarama.Config

	mu      sync.Mutex
	valid   map[string]contract.Event // by id
	invalid map[string]bool           // markers of invalid records
}

func newFlow(t *testing.T, partitions int32) *flow {
	ep := itest.Up(t, devservices.Kafka, devservices.Cassandra)
	f := &flow{t: t, ep: ep, topic: itest.Name("events"), group: itest.Name("ingest"), prefix: itest.Name("it"),
		valid: map[string]contract.Event{}, invalid: map[string]bool{}}
	f.dlq = f.topic + ".dlq"
	itest.Topics(t, ep, map[string]int32{f.topic: partitions, f.dlq: 1})
	f.session, _ = itest.Cassandra(t, ep)
	_, f.sc = itest.Kafka(t, ep, f.topic, f.dlq)
	return f
}

// worker runs an ingest worker until the returned stop is called; stop
// returns the worker's metrics after a graceful shutdown.
func (f *flow) worker() (stop func() *ingest.Metrics) {
	t := f.t
	group, err := sarama.NewConsumerGroup(f.ep.KafkaBrokers, f.group, f.sc)
	if err != nil {
		t.Fatal(err)
	}
	producer, err := sarama.NewSyncProducer(f.ep.KafkaBrokers, f.sc)
	if err != nil {
		t.Fatal(err)
	}
	m := ingest.NewMetrics(prometheus.NewRegistry())
	w := ingest.New(group, f.topic, eventstore.New(f.session, contract.Keyspace),
		&ingest.KafkaDeadLetters{Producer: producer, Topic: f.dlq}, m,
		ingest.Options{Concurrency: 64, DrainTimeout: 10 * time.Second, Classify: cqlsession.ClassifyWrite,
			Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() *ingest.Metrics {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("worker: %v", err)
				}
			case <-time.After(60 * time.Second):
				t.Error("worker did not stop within 60 s")
			}
			_ = producer.Close()
		})
		return m
	}
	t.Cleanup(func() { stop() })
	return stop
}

func (f *flow) event(i int) contract.Event {
	return contract.Event{V: 1, ID: uuid.Must(uuid.NewV7()).String(), Site: f.prefix + "-site",
		Device: fmt.Sprintf("%s-d%02d", f.prefix, i%20), Kind: "temperature", Value: float64(i % 40),
		Unit: "C", Severity: []string{"info", "warning", "critical"}[i%3], At: time.Now().Add(-time.Second).UTC()}
}

// produce sends n records, every invalidEvery-th one invalid, retrying each
// batch until the broker acknowledges it, as a device would. A retried
// batch may land twice: ingest must absorb that.
func (f *flow) produce(ctx context.Context, n, invalidEvery int, perSecond int) {
	t := f.t
	p, err := sarama.NewSyncProducer(f.ep.KafkaBrokers, f.sc)
	if err != nil {
		t.Errorf("producer: %v", err)
		return
	}
	// p is replaced after a failure: close whichever one is current.
	defer func() {
		if p != nil {
			_ = p.Close()
		}
	}()
	const batch = 50
	tick := time.NewTicker(time.Second * batch / time.Duration(perSecond))
	defer tick.Stop()
	for start := 0; start < n; start += batch {
		var msgs []*sarama.ProducerMessage
		var evs []contract.Event
		var marks []string
		for i := start; i < start+batch && i < n; i++ {
			if invalidEvery > 0 && i%invalidEvery == invalidEvery-1 {
				mark := fmt.Sprintf("%s-bad-%d", f.prefix, i)
				marks = append(marks, mark)
				msgs = append(msgs, &sarama.ProducerMessage{Topic: f.topic, Key: sarama.StringEncoder("k"),
					Value: sarama.StringEncoder(`{"v":1,"mark":"` + mark + `","severity":"boom"}`)})
				continue
			}
			ev := f.event(i)
			b, _ := ev.Marshal()
			evs = append(evs, ev)
			msgs = append(msgs, &sarama.ProducerMessage{Topic: f.topic, Key: sarama.StringEncoder(ev.Device), Value: sarama.ByteEncoder(b)})
		}
		for {
			err := p.SendMessages(msgs)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return
			}
			time.Sleep(500 * time.Millisecond)
			// Recreate the producer: its connections may be gone.
			_ = p.Close()
			p = nil
			for {
				p, err = sarama.NewSyncProducer(f.ep.KafkaBrokers, f.sc)
				if err == nil || ctx.Err() != nil {
					break
				}
				time.Sleep(time.Second)
			}
			if ctx.Err() != nil {
				return
			}
		}
		f.mu.Lock()
		for _, ev := range evs {
			f.valid[ev.ID] = ev
		}
		for _, m := range marks {
			f.invalid[m] = true
		}
		f.mu.Unlock()
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// verify waits until every acknowledged valid event is stored exactly once
// and every invalid record is in the DLQ.
func (f *flow) verify(timeout time.Duration) {
	t := f.t
	f.mu.Lock()
	valid := f.valid
	invalid := f.invalid
	f.mu.Unlock()
	if len(valid) == 0 {
		t.Fatal("no event was produced")
	}
	// Expected rows per (device, day) and per (site, day) for criticals.
	type part struct {
		key string
		day time.Time
	}
	byDevice := map[part]int{}
	bySite := map[part]int{}
	for _, ev := range valid {
		byDevice[part{ev.Device, contract.Day(ev.At)}]++
		if ev.Severity == contract.SeverityCritical {
			bySite[part{ev.Site, contract.Day(ev.At)}]++
		}
	}
	count := func(cql string, p part) (int, error) {
		var n int
		err := f.session.Query(cql, p.key, p.day).Consistency(gocql.One).Scan(&n)
		return n, err
	}
	itest.Eventually(t, timeout, func() error {
		for p, want := range byDevice {
			n, err := count("SELECT COUNT(*) FROM sluice.events_by_device WHERE device = ? AND day = ?", p)
			if err != nil {
				return err
			}
			if n != want {
				return fmt.Errorf("device %s: %d rows, want %d", p.key, n, want)
			}
		}
		for p, want := range bySite {
			n, err := count("SELECT COUNT(*) FROM sluice.critical_by_site WHERE site = ? AND day = ?", p)
			if err != nil {
				return err
			}
			if n != want {
				return fmt.Errorf("site %s: %d critical rows, want %d", p.key, n, want)
			}
		}
		return nil
	})
	store := eventstore.New(f.session, contract.Keyspace)
	for id, ev := range valid {
		got, err := store.Get(context.Background(), id)
		if err != nil {
			t.Fatalf("event %s: %v", id, err)
		}
		if got.Device != ev.Device || got.Value != ev.Value || !got.At.Equal(ev.At.Truncate(time.Millisecond)) {
			t.Fatalf("event %s stored as %+v, produced %+v", id, got.Event, ev)
		}
	}
	if len(invalid) > 0 {
		itest.Eventually(t, timeout, func() error {
			seen := f.deadLetters()
			for m := range invalid {
				if _, ok := seen[m]; !ok {
					return fmt.Errorf("invalid record %s not in the DLQ (%d of %d there)", m, len(seen), len(invalid))
				}
			}
			return nil
		})
	}
}

// deadLetters reads the whole DLQ topic and returns each invalid record's
// marker with its headers.
func (f *flow) deadLetters() map[string]map[string]string {
	c, err := sarama.NewConsumer(f.ep.KafkaBrokers, f.sc)
	if err != nil {
		f.t.Fatal(err)
	}
	defer c.Close()
	client, err := sarama.NewClient(f.ep.KafkaBrokers, f.sc)
	if err != nil {
		f.t.Fatal(err)
	}
	defer client.Close()
	end, err := client.GetOffset(f.dlq, 0, sarama.OffsetNewest)
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]map[string]string{}
	if end == 0 {
		return out
	}
	pc, err := c.ConsumePartition(f.dlq, 0, sarama.OffsetOldest)
	if err != nil {
		f.t.Fatal(err)
	}
	defer pc.Close()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case msg := <-pc.Messages():
			h := map[string]string{}
			for _, rh := range msg.Headers {
				h[string(rh.Key)] = string(rh.Value)
			}
			var mark string
			if _, err := fmt.Sscanf(string(msg.Value), `{"v":1,"mark":%q`, &mark); err != nil || mark == "" {
				mark = "other@" + h[ingest.HeaderSourceOffset]
			}
			out[mark] = h
			if msg.Offset+1 >= end {
				return out
			}
		case <-timeout:
			f.t.Fatal("timed out reading the DLQ")
		}
	}
}

func TestIntegrationIngestStoresValidAndDeadLettersInvalid(t *testing.T) {
	f := newFlow(t, 6)
	stop := f.worker()
	f.produce(context.Background(), 3000, 25, 3000)

	// A record over 1,000,000 bytes: produced with a client allowing it.
	big := sarama.NewConfig()
	big.Version = sarama.V1_0_0_0
	big.Producer.Return.Successes = true
	big.Producer.MaxMessageBytes = 1_048_000
	bp, err := sarama.NewSyncProducer(f.ep.KafkaBrokers, big)
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, contract.MaxRecordBytes+1)
	copy(payload, `{"v":1,"mark":"`+f.prefix+`-huge","x":"`)
	for i := len(f.prefix) + 25; i < len(payload)-2; i++ {
		payload[i] = 'x'
	}
	copy(payload[len(payload)-2:], `"}`)
	if _, _, err := bp.SendMessage(&sarama.ProducerMessage{Topic: f.topic, Value: sarama.ByteEncoder(payload)}); err != nil {
		t.Fatalf("produce oversize record: %v", err)
	}
	_ = bp.Close()
	f.mu.Lock()
	f.invalid[f.prefix+"-huge"] = true
	f.mu.Unlock()

	f.verify(2 * time.Minute)
	dl := f.deadLetters()
	h := dl[f.prefix+"-huge"]
	if h[ingest.HeaderTruncated] != "true" || h[ingest.HeaderOriginalBytes] != strconv.Itoa(len(payload)) {
		t.Fatalf("oversize dead letter headers = %v", h)
	}
	for m, h := range dl {
		if h[ingest.HeaderError] == "" || h[ingest.HeaderSourceTopic] != f.topic || h[ingest.HeaderSourcePart] == "" || h[ingest.HeaderSourceOffset] == "" {
			t.Fatalf("dead letter %s lacks headers: %v", m, h)
		}
	}
	m := stop()
	if got := testutil.ToFloat64(m.Written); int(got) < len(f.valid) {
		t.Fatalf("written metric %v < %d valid events", got, len(f.valid))
	}
}

func TestIntegrationPoisonRecordDoesNotBlockPartition(t *testing.T) {
	f := newFlow(t, 1)
	p, err := sarama.NewSyncProducer(f.ep.KafkaBrokers, f.sc)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []*sarama.ProducerMessage
	for i := 0; i < 200; i++ {
		if i == 100 {
			msgs = append(msgs, &sarama.ProducerMessage{Topic: f.topic, Value: sarama.StringEncoder(`{"v":1,"mark":"` + f.prefix + `-poison"` + "\x00")})
			continue
		}
		ev := f.event(i)
		b, _ := ev.Marshal()
		f.valid[ev.ID] = ev
		msgs = append(msgs, &sarama.ProducerMessage{Topic: f.topic, Key: sarama.StringEncoder(ev.Device), Value: sarama.ByteEncoder(b)})
	}
	if err := p.SendMessages(msgs); err != nil {
		t.Fatal(err)
	}
	_ = p.Close()
	f.invalid[f.prefix+"-poison"] = true
	f.worker()
	f.verify(time.Minute)
	if h := f.deadLetters()[f.prefix+"-poison"]; h[ingest.HeaderSourceOffset] != "100" || h[ingest.HeaderErrorKind] != ingest.KindInvalid {
		t.Fatalf("poison dead letter headers = %v", h)
	}
}

func TestIntegrationShutdownMidStreamResumesFromCommittedOffsets(t *testing.T) {
	f := newFlow(t, 3)
	f.produce(context.Background(), 6000, 0, 100000)
	stop := f.worker()
	// Stop while the backlog is being worked through.
	itest.Eventually(t, time.Minute, func() error {
		var n int
		if err := f.session.Query("SELECT COUNT(*) FROM sluice.events_by_device WHERE device = ? AND day = ?",
			f.prefix+"-d00", contract.Day(time.Now().Add(-time.Second))).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errors.New("nothing stored yet")
		}
		return nil
	})
	first := testutil.ToFloat64(stop().Consumed)

	committed := f.committed()
	if committed == 0 {
		t.Fatal("the first worker committed nothing before it stopped")
	}
	m2 := f.worker()
	f.verify(2 * time.Minute)
	second := testutil.ToFloat64(m2().Consumed)
	if int64(second) != 6000-committed {
		t.Fatalf("second worker consumed %v records, want exactly the %d after the committed offsets (first consumed %v)", second, 6000-committed, first)
	}
}

// committed is the sum of the group's committed offsets over the topic.
func (f *flow) committed() int64 {
	admin, err := sarama.NewClusterAdmin(f.ep.KafkaBrokers, f.sc)
	if err != nil {
		f.t.Fatal(err)
	}
	defer admin.Close()
	resp, err := admin.ListConsumerGroupOffsets(f.group, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	var sum int64
	for _, b := range resp.Blocks[f.topic] {
		if b.Offset > 0 {
			sum += b.Offset
		}
	}
	return sum
}

// faultFlow runs traffic for a while, applies fault in the middle, and
// checks that nothing was lost or duplicated.
func faultFlow(t *testing.T, fault func(t *testing.T)) {
	f := newFlow(t, 6)
	f.worker()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		f.produce(ctx, 8000, 40, 200)
	}()
	time.Sleep(8 * time.Second)
	fault(t)
	wg.Wait()
	f.verify(4 * time.Minute)
}

func TestIntegrationFaultKafkaRestart(t *testing.T) {
	faultFlow(t, func(t *testing.T) {
		m := itest.Manager(t)
		ctx := context.Background()
		if err := m.Stop(ctx, devservices.Kafka); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		itest.Up(t, devservices.Kafka)
	})
}

func TestIntegrationFaultCassandraRestart(t *testing.T) {
	faultFlow(t, func(t *testing.T) {
		m := itest.Manager(t)
		if err := m.Stop(context.Background(), devservices.Cassandra); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		itest.Up(t, devservices.Cassandra)
	})
}

// An invalid record whose key and headers make up most of a message close
// to the broker's limit (from a producer with a higher limit than ingest's)
// goes to the DLQ bounded, and the partition goes on: the events after it
// are stored and the DLQ holds exactly one dead letter, for it.
func TestIntegrationOversizeKeyAndHeadersDeadLetterBounded(t *testing.T) {
	f := newFlow(t, 1)
	big := *f.sc
	big.Producer.MaxMessageBytes = 1_040_000
	p, err := sarama.NewSyncProducer(f.ep.KafkaBrokers, &big)
	if err != nil {
		t.Fatal(err)
	}
	mark := f.prefix + "-huge"
	huge := &sarama.ProducerMessage{Topic: f.topic, Key: sarama.ByteEncoder(make([]byte, 800_000)),
		Value: sarama.StringEncoder(`{"v":1,"mark":"` + mark + `"` + "\x00")}
	for i := 0; i < 5; i++ {
		huge.Headers = append(huge.Headers, sarama.RecordHeader{Key: []byte(fmt.Sprintf("big%d", i)), Value: make([]byte, 45_000)})
	}
	if n := huge.ByteSize(2); n <= 1_000_000 {
		t.Fatalf("the huge record is only %d bytes", n)
	}
	msgs := []*sarama.ProducerMessage{huge}
	for i := 0; i < 50; i++ {
		ev := f.event(i)
		b, _ := ev.Marshal()
		f.valid[ev.ID] = ev
		msgs = append(msgs, &sarama.ProducerMessage{Topic: f.topic, Key: sarama.StringEncoder(ev.Device), Value: sarama.ByteEncoder(b)})
	}
	for _, m := range msgs {
		if _, _, err := p.SendMessage(m); err != nil {
			t.Fatal(err)
		}
	}
	_ = p.Close()
	f.invalid[mark] = true
	stop := f.worker()
	f.verify(time.Minute)
	dl := f.deadLetters()
	h, ok := dl[mark]
	if !ok || len(dl) != 1 {
		t.Fatalf("DLQ holds %d dead letters (%v), want exactly the huge record's", len(dl), ok)
	}
	if h[ingest.HeaderKeyTruncated] != "true" || h[ingest.HeaderOriginalKeyBytes] != "800000" || h[ingest.HeaderHeadersDropped] == "" || h[ingest.HeaderSourceOffset] != "0" {
		t.Fatalf("dead letter markers: key-truncated=%q original-key-bytes=%q headers-dropped=%q source-offset=%q",
			h[ingest.HeaderKeyTruncated], h[ingest.HeaderOriginalKeyBytes], h[ingest.HeaderHeadersDropped], h[ingest.HeaderSourceOffset])
	}
	// The partition moved past the huge record: every offset is committed.
	stop()
	if c := f.committed(); c != int64(len(msgs)) {
		t.Fatalf("committed offset %d, want %d (the partition stalled)", c, len(msgs))
	}
}

// countingStore counts the acknowledged writes per event id.
type countingStore struct {
	next ingest.EventWriter
	mu   sync.Mutex
	acks map[string]int
}

func (c *countingStore) Upsert(ctx context.Context, ev contract.Event, at time.Time) error {
	if err := c.next.Upsert(ctx, ev, at); err != nil {
		return err
	}
	c.mu.Lock()
	c.acks[ev.ID]++
	c.mu.Unlock()
	return nil
}

// A table dropped under a running ingest is the store's fault, not the
// events': ingest stalls (not ready, the stalled gauge up, no dead letter
// for a valid event) and, once the table is back, stores every event. The
// DLQ holds exactly the invalid records sent.
func TestIntegrationFaultTableDroppedStallsInsteadOfDeadLettering(t *testing.T) {
	f := newFlow(t, 2)
	_, cc := itest.Cassandra(t, f.ep)
	cc.Keyspace = strings.ToLower(itest.Name("stall"))
	ctx := context.Background()
	if err := eventstore.MigrateConfig(ctx, cc, 1); err != nil {
		t.Fatal(err)
	}
	ks, err := cc.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = f.session.Query("DROP KEYSPACE IF EXISTS " + cc.Keyspace).Exec()
		ks.Close()
	})
	store := &countingStore{next: eventstore.New(ks, cc.Keyspace), acks: map[string]int{}}
	group, err := sarama.NewConsumerGroup(f.ep.KafkaBrokers, f.group, f.sc)
	if err != nil {
		t.Fatal(err)
	}
	producer, err := sarama.NewSyncProducer(f.ep.KafkaBrokers, f.sc)
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	m := ingest.NewMetrics(prometheus.NewRegistry())
	w := ingest.New(group, f.topic, store, &ingest.KafkaDeadLetters{Producer: producer, Topic: f.dlq}, m,
		ingest.Options{Concurrency: 64, DrainTimeout: 10 * time.Second, Classify: cqlsession.ClassifyWrite,
			Retry:  backoff.Policy{Base: 50 * time.Millisecond, Max: time.Second},
			Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })

	p, err := sarama.NewSyncProducer(f.ep.KafkaBrokers, f.sc)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	invalid := 0
	send := func(from, n, invalidEvery int) {
		var msgs []*sarama.ProducerMessage
		for i := from; i < from+n; i++ {
			if i%invalidEvery == 0 {
				mark := fmt.Sprintf("%s-bad%d", f.prefix, i)
				f.invalid[mark] = true
				invalid++
				msgs = append(msgs, &sarama.ProducerMessage{Topic: f.topic, Value: sarama.StringEncoder(`{"v":1,"mark":"` + mark + `"` + "\x00")})
				continue
			}
			ev := f.event(i)
			b, _ := ev.Marshal()
			f.valid[ev.ID] = ev
			msgs = append(msgs, &sarama.ProducerMessage{Topic: f.topic, Key: sarama.StringEncoder(ev.Device), Value: sarama.ByteEncoder(b)})
		}
		if err := p.SendMessages(msgs); err != nil {
			t.Fatal(err)
		}
	}
	stored := func() error {
		store.mu.Lock()
		defer store.mu.Unlock()
		for id := range f.valid {
			if store.acks[id] == 0 {
				return fmt.Errorf("event %s not stored (%d of %d)", id, len(store.acks), len(f.valid))
			}
		}
		return nil
	}
	send(0, 100, 20)
	itest.Eventually(t, time.Minute, stored)
	itest.Eventually(t, time.Minute, func() error { return w.Ready() })

	// The fault: the table every event writes to is dropped.
	table, _ := contract.TableByName(contract.TableEventsByDevice)
	if err := f.session.Query("DROP TABLE " + cc.Keyspace + "." + table.Name).Exec(); err != nil {
		t.Fatal(err)
	}
	send(100, 100, 20)
	// Long enough for a drain into the DLQ to show: before the fix every
	// write of the second batch was dead-lettered within a second.
	time.Sleep(5 * time.Second)
	if n := testutil.ToFloat64(m.DeadLettered.WithLabelValues(ingest.KindStore)); n != 0 {
		t.Fatalf("%v valid events dead-lettered while the table was missing", n)
	}
	itest.Eventually(t, time.Minute, func() error {
		if w.Ready() == nil {
			return errors.New("still ready")
		}
		if g := testutil.ToFloat64(m.StoreStalled); g == 0 {
			return errors.New("stalled gauge is 0")
		}
		return nil
	})
	t.Logf("stalled: %v", w.Ready())

	if err := f.session.Query(table.CreateCQL(cc.Keyspace)).Exec(); err != nil {
		t.Fatal(err)
	}
	itest.Eventually(t, 2*time.Minute, stored)
	itest.Eventually(t, time.Minute, func() error { return w.Ready() })
	if g := testutil.ToFloat64(m.StoreStalled); g != 0 {
		t.Fatalf("stalled gauge %v after recovery", g)
	}
	// Every valid event stored as produced, each acknowledged once.
	es := eventstore.New(ks, cc.Keyspace)
	for id, ev := range f.valid {
		got, err := es.Get(ctx, id)
		if err != nil {
			t.Fatalf("event %s: %v", id, err)
		}
		if got.Device != ev.Device || got.Value != ev.Value || !got.At.Equal(ev.At.Truncate(time.Millisecond)) {
			t.Fatalf("event %s stored as %+v, produced %+v", id, got.Event, ev)
		}
		if n := store.acks[id]; n != 1 {
			t.Fatalf("event %s acknowledged %d times, want 1", id, n)
		}
	}
	// The DLQ: exactly the invalid records.
	dl := f.deadLetters()
	if len(dl) != invalid {
		t.Fatalf("DLQ holds %d dead letters, want the %d invalid records", len(dl), invalid)
	}
	for mark := range f.invalid {
		if h, ok := dl[mark]; !ok || h[ingest.HeaderErrorKind] != ingest.KindInvalid {
			t.Fatalf("invalid record %s: dead letter %v", mark, h)
		}
	}
}
