//go:build integration

package faulttest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/gocql/gocql"
	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/cqlproxy"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/itest"
	"github.com/sluicehq/sluice/workloads/dev/localrun"
	"github.com/sluicehq/sluice/workloads/dev/pipelinetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pipelinetest.RemoveBinaries()
	os.Exit(code)
}

// concurrency is INGEST_CONCURRENCY in these tests: the writes one
// replica has in flight at most, the unit of the handover bounds.
const concurrency = 64

// sent is where a record landed.
type sent struct {
	partition int32
	offset    int64
}

// ingestRun is one fault test's stream: its own topics and group, ingest
// processes writing through the effect-counting proxy (and Toxiproxy when
// asked), and the records produced.
type ingestRun struct {
	t       *testing.T
	ep      devservices.Endpoints
	topic   string
	dlq     string
	group   string
	site    string
	session *gocql.Session
	sc      *sarama.Config
	cql     *cqlproxy.Proxy
	tox     *toxiproxy.Proxy
	launch  *localrun.Launcher

	mu      sync.Mutex
	valid   map[string]sent // by event id
	invalid map[string]sent // by marker
}

func newIngestRun(t *testing.T, partitions int32, network bool, env ...string) *ingestRun {
	t.Helper()
	ep := itest.Up(t, devservices.Kafka, devservices.Cassandra)
	session, cc := itest.Cassandra(t, ep)
	r := &ingestRun{t: t, ep: ep, topic: itest.Name("fault-events"), group: itest.Name("fault-ingest"),
		site: itest.Name("fault-site"), session: session, valid: map[string]sent{}, invalid: map[string]sent{}}
	r.dlq = r.topic + ".dlq"
	itest.Topics(t, ep, map[string]int32{r.topic: partitions, r.dlq: 1})
	_, r.sc = itest.Kafka(t, ep, r.topic, r.dlq)
	var err error
	if r.cql, err = cqlproxy.Start(fmt.Sprintf("%s:%d", cc.Hosts[0], cc.Port)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.cql.Close() })
	port := r.cql.Port()
	if network {
		srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
		r.tox = toxiproxy.NewProxy(srv, "cassandra", "127.0.0.1:0", r.cql.Addr())
		if err := r.tox.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.tox.Stop)
		addr := r.tox.Listen
		port = mustPort(t, addr)
	}
	base := localrun.Env(ep, "LOG_LEVEL=info", "KAFKA_TOPIC="+r.topic, "KAFKA_DLQ_TOPIC="+r.dlq, "INGEST_GROUP="+r.group,
		"CASSANDRA_HOSTS=127.0.0.1", fmt.Sprintf("CASSANDRA_PORT=%d", port), fmt.Sprintf("INGEST_CONCURRENCY=%d", concurrency))
	r.launch = &localrun.Launcher{Bin: pipelinetest.Binaries(t), Logs: t.TempDir(), Env: append(base, env...), ReadyTimeout: 2 * time.Minute}
	t.Cleanup(func() {
		if err := r.launch.StopAll(); err != nil {
			t.Logf("stop: %v", err)
		}
	})
	return r
}

func mustPort(t *testing.T, addr string) int {
	t.Helper()
	var port int
	if _, err := fmt.Sscanf(addr[strings.LastIndex(addr, ":")+1:], "%d", &port); err != nil {
		t.Fatalf("port of %s: %v", addr, err)
	}
	return port
}

// start starts an ingest replica under name.
func (r *ingestRun) start(name string) *localrun.Proc {
	r.t.Helper()
	p, err := r.launch.Start(context.Background(), localrun.Spec{Name: name, Binary: filepath.Join(r.launch.Bin, "ingest")})
	if err != nil {
		r.t.Fatalf("start %s: %v\n%s", name, err, r.launch.Tail(name, 30))
	}
	return p
}

// produce sends n records at perSecond, every invalidEvery-th one invalid,
// in batches of a tenth of a second, and records where each landed. It
// returns when all are acknowledged by Kafka.
func (r *ingestRun) produce(n, perSecond, invalidEvery int) error {
	p, err := sarama.NewSyncProducer(r.ep.KafkaBrokers, r.sc)
	if err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	defer p.Close()
	per := max(perSecond/10, 1)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < n; {
		<-tick.C
		var msgs []*sarama.ProducerMessage
		var keys []string
		var isValid []bool
		for j := 0; j < per && i < n; j, i = j+1, i+1 {
			device := fmt.Sprintf("%s-d%02d", r.site, i%24)
			if invalidEvery > 0 && i%invalidEvery == invalidEvery-1 {
				marker := uuid.NewString()
				body, _ := json.Marshal(map[string]any{"v": 1, "marker": marker, "site": r.site})
				msgs = append(msgs, &sarama.ProducerMessage{Topic: r.topic, Key: sarama.StringEncoder(device), Value: sarama.ByteEncoder(body)})
				keys, isValid = append(keys, marker), append(isValid, false)
				continue
			}
			sev := contract.SeverityInfo
			if i%5 == 0 {
				sev = contract.SeverityCritical
			}
			ev := contract.Event{V: 1, ID: uuid.Must(uuid.NewV7()).String(), Site: r.site, Device: device, Kind: "temperature",
				Value: float64(i % 50), Unit: "C", Severity: sev, At: time.Now().Add(-time.Second).UTC()}
			body, err := ev.Marshal()
			if err != nil {
				return err
			}
			r.cql.Watch(cqlproxy.MustID(ev.ID))
			msgs = append(msgs, &sarama.ProducerMessage{Topic: r.topic, Key: sarama.StringEncoder(device), Value: sarama.ByteEncoder(body)})
			keys, isValid = append(keys, ev.ID), append(isValid, true)
		}
		if err := p.SendMessages(msgs); err != nil {
			return fmt.Errorf("produce: %w", err)
		}
		r.mu.Lock()
		for k, m := range msgs {
			at := sent{partition: m.Partition, offset: m.Offset}
			if isValid[k] {
				r.valid[keys[k]] = at
			} else {
				r.invalid[keys[k]] = at
			}
		}
		r.mu.Unlock()
	}
	return nil
}

// produceAsync runs produce in the background; the channel gets its error.
func (r *ingestRun) produceAsync(n, perSecond, invalidEvery int) <-chan error {
	done := make(chan error, 1)
	go func() { done <- r.produce(n, perSecond, invalidEvery) }()
	return done
}

// acked is how many watched events Cassandra acknowledged at least once.
func (r *ingestRun) acked() int {
	n := 0
	for _, e := range r.cql.Effects() {
		if e.Acked > 0 {
			n++
		}
	}
	return n
}

// waitAcked waits until at least n events were acknowledged.
func (r *ingestRun) waitAcked(n int, within time.Duration) {
	r.t.Helper()
	itest.Eventually(r.t, within, func() error {
		if got := r.acked(); got < n {
			return fmt.Errorf("%d events acknowledged, waiting for %d", got, n)
		}
		return nil
	})
}

// outcome is what a fault test measured.
type outcome struct {
	valid, invalid   int
	duplicates       int // acknowledged writes beyond the first, all events
	maxPerEvent      int
	refused, retried int
	deadLetters      int // records in the dead-letter topic
}

// settle waits until every valid event is stored and every invalid record
// is in the dead-letter topic, then counts the effects, and fails the test
// when the duplicates exceed bound.
func (r *ingestRun) settle(fault string, bound int, within time.Duration) outcome {
	t := r.t
	t.Helper()
	r.mu.Lock()
	valid := make([]string, 0, len(r.valid))
	for id := range r.valid {
		valid = append(valid, id)
	}
	invalid := make(map[string]bool, len(r.invalid))
	for m := range r.invalid {
		invalid[m] = true
	}
	r.mu.Unlock()

	var dead map[string]int
	itest.Eventually(t, within, func() error {
		missing, err := r.missing(valid)
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			return fmt.Errorf("%d of %d valid events not stored (e.g. %s)", len(missing), len(valid), missing[0])
		}
		if dead, err = r.deadLetters(); err != nil {
			return err
		}
		for m := range invalid {
			if dead[m] == 0 {
				return fmt.Errorf("%d invalid records, %d distinct in the dead-letter topic; %s missing", len(invalid), len(dead), m)
			}
		}
		return nil
	})
	o := outcome{valid: len(valid), invalid: len(invalid)}
	fx := r.cql.Effects()
	for _, id := range valid {
		e := fx[cqlproxy.MustID(id)]
		if e.Acked == 0 {
			t.Errorf("event %s is stored but the proxy saw no acknowledged write of it: the counts are not whole", id)
		}
		o.duplicates += max(e.Acked-1, 0)
		o.maxPerEvent = max(o.maxPerEvent, e.Acked)
		o.refused += e.Refused
		o.retried += e.Failed + e.Refused
	}
	for _, n := range dead {
		o.deadLetters += n
	}
	if r.cql.BadFrames() != 0 {
		t.Errorf("%d proxied connections carried frames the proxy could not read", r.cql.BadFrames())
	}
	t.Logf("fault %s: %d valid events stored, %d invalid dead-lettered (%d dead letters), duplicate effects %d (bound %d), at most %d writes of one event, %d writes refused or failed",
		fault, o.valid, o.invalid, o.deadLetters, o.duplicates, bound, o.maxPerEvent, o.retried)
	if o.duplicates > bound {
		t.Errorf("%d duplicate effects, over the bound of %d", o.duplicates, bound)
	}
	return o
}

// missing returns the ids not in events_by_id, read directly (not
// through the proxy).
func (r *ingestRun) missing(ids []string) ([]string, error) {
	var out []string
	for start := 0; start < len(ids); start += 100 {
		chunk := ids[start:min(start+100, len(ids))]
		args := make([]any, len(chunk))
		marks := make([]string, len(chunk))
		for i, id := range chunk {
			u, err := gocql.ParseUUID(id)
			if err != nil {
				return nil, err
			}
			args[i], marks[i] = u, "?"
		}
		found := map[string]bool{}
		iter := r.session.Query(`SELECT id FROM `+contract.TableEventsByID+` WHERE id IN (`+strings.Join(marks, ",")+`)`, args...).Iter()
		var id gocql.UUID
		for iter.Scan(&id) {
			found[id.String()] = true
		}
		if err := iter.Close(); err != nil {
			return nil, fmt.Errorf("read events_by_id: %w", err)
		}
		for _, id := range chunk {
			if !found[id] {
				out = append(out, id)
			}
		}
	}
	return out, nil
}

// deadLetters reads the whole dead-letter topic: records per marker.
func (r *ingestRun) deadLetters() (map[string]int, error) {
	c, err := sarama.NewConsumer(r.ep.KafkaBrokers, r.sc)
	if err != nil {
		return nil, fmt.Errorf("consumer: %w", err)
	}
	defer c.Close()
	client, err := sarama.NewClient(r.ep.KafkaBrokers, r.sc)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	defer client.Close()
	end, err := client.GetOffset(r.dlq, 0, sarama.OffsetNewest)
	if err != nil {
		return nil, fmt.Errorf("dead-letter end offset: %w", err)
	}
	out := map[string]int{}
	if end == 0 {
		return out, nil
	}
	pc, err := c.ConsumePartition(r.dlq, 0, sarama.OffsetOldest)
	if err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	defer pc.Close()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case m := <-pc.Messages():
			var body struct{ Marker string }
			if json.Unmarshal(m.Value, &body) == nil && body.Marker != "" {
				out[body.Marker]++
			}
			if m.Offset+1 >= end {
				return out, nil
			}
		case <-timeout:
			return nil, fmt.Errorf("dead-letter topic not read to offset %d within 30 s", end)
		}
	}
}

// committedValid counts the valid events below the group's committed
// offsets: those a restarted consumer does not see again.
func (r *ingestRun) committedValid() int {
	r.t.Helper()
	admin, err := sarama.NewClusterAdmin(r.ep.KafkaBrokers, r.sc)
	if err != nil {
		r.t.Fatal(err)
	}
	defer admin.Close()
	resp, err := admin.ListConsumerGroupOffsets(r.group, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	committed := map[int32]int64{}
	for p, b := range resp.Blocks[r.topic] {
		committed[p] = b.Offset
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.valid {
		if s.offset < committed[s.partition] {
			n++
		}
	}
	return n
}

// TestFaultIngestSIGKILL kills ingest mid-stream, with no chance to commit,
// and starts it again. The bound is exact: an event is written again only
// if it was acknowledged before the kill and its offset was not committed
// yet.
func TestFaultIngestSIGKILL(t *testing.T) {
	r := newIngestRun(t, 4, false)
	p := r.start("ingest")
	done := r.produceAsync(4000, 500, 25)
	r.waitAcked(1200, 2*time.Minute)
	p.Kill()
	// Writes in flight at the kill still take effect; the proxy counts
	// them as Cassandra answers, for up to SettleWait.
	time.Sleep(cqlproxy.SettleWait + time.Second)
	ackedAtKill, committed := r.acked(), r.committedValid()
	bound := ackedAtKill - committed
	t.Logf("at the kill: %d events acknowledged, %d of them below the committed offsets", ackedAtKill, committed)
	if bound < 0 {
		t.Fatalf("more events committed (%d) than acknowledged (%d)", committed, ackedAtKill)
	}
	r.start("ingest")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	r.settle("ingest SIGKILL", bound, 3*time.Minute)
}

// TestFaultIngestRebalance scales ingest 1 → 3 → 1 replicas during a
// stream: partitions move twice while writes are in flight.
func TestFaultIngestRebalance(t *testing.T) {
	r := newIngestRun(t, 6, false)
	r.start("ingest")
	done := r.produceAsync(5000, 500, 25)
	r.waitAcked(800, 2*time.Minute)
	two, three := r.start("ingest-2"), r.start("ingest-3")
	r.waitAcked(2500, 2*time.Minute)
	for _, p := range []*localrun.Proc{two, three} {
		if err := r.launch.Stop(p); err != nil {
			t.Errorf("stop %s: %v", p.Name, err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Four handovers: two joins, two leaves.
	r.settle("ingest rebalance 1→3→1", 4*concurrency, 3*time.Minute)
}

// TestFaultIngestDeadLetterTopicUnavailable makes the dead-letter topic
// refuse every write mid-stream and lets it recover twelve seconds later.
// A single broker cannot lose in-sync replicas (Kafka caps
// min.insync.replicas at the replication factor) and deleting the topic
// would delete the dead letters already in it, so the broker is made to
// refuse the writes instead: the topic's max.message.bytes goes below any
// dead letter's size, then back. The partitions with an invalid record
// wait, nothing is dropped, nothing written twice.
func TestFaultIngestDeadLetterTopicUnavailable(t *testing.T) {
	r := newIngestRun(t, 4, false)
	p := r.start("ingest")
	done := r.produceAsync(5000, 250, 20)
	r.waitAcked(600, 2*time.Minute)
	admin, err := sarama.NewClusterAdmin(r.ep.KafkaBrokers, r.sc)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	refuse := func(on bool) {
		t.Helper()
		cfg := map[string]*string{}
		if on {
			tiny := "16"
			cfg["max.message.bytes"] = &tiny
		}
		// A whole-set AlterConfigs: without the key the default is back.
		if err := admin.AlterConfig(sarama.TopicResource, r.dlq, cfg, false); err != nil {
			t.Fatalf("alter %s: %v", r.dlq, err)
		}
	}
	before, err := p.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	refuse(true)
	time.Sleep(12 * time.Second)
	during, err := p.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	refuse(false)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	o := r.settle("dead-letter topic unavailable", 0, 3*time.Minute)
	if during["sluice_ingest_retries_total"] <= before["sluice_ingest_retries_total"] {
		t.Error("no dead-letter write was retried while the topic refused writes: the fault never struck")
	}
	if o.deadLetters != o.invalid {
		t.Errorf("%d dead letters for %d invalid records", o.deadLetters, o.invalid)
	}
}

// TestFaultIngestNetwork puts Toxiproxy between ingest and Cassandra and,
// during one stream: adds latency, resets every connection, then makes
// the connections half-open (bytes swallowed, nothing closed) for longer
// than the write timeout. Each fault may repeat the writes in flight when
// it struck (acknowledged by Cassandra, the answer lost).
func TestFaultIngestNetwork(t *testing.T) {
	r := newIngestRun(t, 4, true, "CASSANDRA_TIMEOUT=2s")
	r.start("ingest")
	done := r.produceAsync(5000, 400, 25)
	toxic := func(name, typ, stream string, attrs map[string]int) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"name": name, "type": typ, "stream": stream, "toxicity": 1.0, "attributes": attrs})
		if _, err := r.tox.Toxics.AddToxicJson(strings.NewReader(string(body))); err != nil {
			t.Fatalf("add toxic %s: %v", name, err)
		}
	}
	remove := func(name string) {
		t.Helper()
		if err := r.tox.Toxics.RemoveToxic(context.Background(), name); err != nil {
			t.Fatalf("remove toxic %s: %v", name, err)
		}
	}
	r.waitAcked(500, 2*time.Minute)
	toxic("latency", "latency", "downstream", map[string]int{"latency": 150, "jitter": 100})
	time.Sleep(3 * time.Second)
	remove("latency")
	toxic("reset", "reset_peer", "upstream", map[string]int{"timeout": 0})
	time.Sleep(time.Second)
	remove("reset")
	toxic("half-open", "timeout", "upstream", map[string]int{"timeout": 0})
	time.Sleep(5 * time.Second)
	remove("half-open")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	r.settle("network latency, resets, half-open", 3*concurrency, 4*time.Minute)
}

// TestFaultIngestThrottled answers a third of the writes with Cosmos DB's
// Overloaded error and RetryAfterMs=100 for a while: ingest waits the
// hinted time and retries; a refused write has no effect, so there is no
// duplicate.
func TestFaultIngestThrottled(t *testing.T) {
	r := newIngestRun(t, 4, false)
	p := r.start("ingest")
	done := r.produceAsync(3000, 500, 25)
	r.waitAcked(500, 2*time.Minute)
	var mu sync.Mutex
	n := 0
	r.cql.SetInject(func() (bool, int) {
		mu.Lock()
		defer mu.Unlock()
		n++
		return n%3 == 0, 100
	})
	time.Sleep(5 * time.Second)
	r.cql.SetInject(nil)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	o := r.settle("throttled (Overloaded, RetryAfterMs)", 0, 3*time.Minute)
	if o.refused == 0 {
		t.Fatal("no write was refused: the fault never struck")
	}
	m, err := p.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	if got := m["sluice_ingest_retries_total"]; got < float64(o.refused) {
		t.Errorf("ingest counted %v retries for %d refused writes", got, o.refused)
	}
	if got := m["sluice_ingest_dlq_total"]; got > float64(o.invalid) {
		t.Errorf("%v records dead-lettered for %d invalid ones: throttled events went to the DLQ", got, o.invalid)
	}
}
