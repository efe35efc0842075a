package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/internal/backoff"
	"github.com/sluicehq/sluice/workloads/internal/kafkaclient"
)

// fakeSession records marks; only what the worker uses is implemented.
type fakeSession struct {
	ctx    context.Context
	mu     sync.Mutex
	marked []int64
}

func (s *fakeSession) Claims() map[string][]int32               { return nil }
func (s *fakeSession) MemberID() string                         { return "m" }
func (s *fakeSession) GenerationID() int32                      { return 1 }
func (s *fakeSession) MarkOffset(string, int32, int64, string)  {}
func (s *fakeSession) Commit()                                  {}
func (s *fakeSession) ResetOffset(string, int32, int64, string) {}
func (s *fakeSession) Context() context.Context                 { return s.ctx }
func (s *fakeSession) MarkMessage(m *sarama.ConsumerMessage, _ string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.marked = append(s.marked, m.Offset)
}
func (s *fakeSession) marks() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int64(nil), s.marked...)
}

type fakeClaim struct {
	msgs chan *sarama.ConsumerMessage
	hwm  int64
}

func (c *fakeClaim) Topic() string                            { return "events" }
func (c *fakeClaim) Partition() int32                         { return 0 }
func (c *fakeClaim) InitialOffset() int64                     { return 0 }
func (c *fakeClaim) HighWaterMarkOffset() int64               { return c.hwm }
func (c *fakeClaim) Messages() <-chan *sarama.ConsumerMessage { return c.msgs }

// slowStore finishes writes in random order and can fail the first tries.
type slowStore struct {
	mu       sync.Mutex
	written  map[string]int
	failures map[string]int // id -> transient failures left
	block    chan struct{}  // when set, writes of blockID wait on it
	blockID  string
}

func (s *slowStore) Upsert(ctx context.Context, ev contract.Event, _ time.Time) error {
	time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
	if ev.ID == s.blockID && s.block != nil {
		select {
		case <-s.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failures[ev.ID] > 0 {
		s.failures[ev.ID]--
		return errors.New("overloaded")
	}
	s.written[ev.ID]++
	return nil
}

type memDLQ struct {
	mu   sync.Mutex
	sent []*sarama.ProducerMessage
	fail int
}

func (d *memDLQ) Send(_ context.Context, rec *sarama.ConsumerMessage, kind string, cause error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail > 0 {
		d.fail--
		return errors.New("broker unavailable")
	}
	d.sent = append(d.sent, DeadLetter(rec, kind, cause, time.Now()))
	return nil
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var testNow = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func event(i int) contract.Event {
	return contract.Event{V: 1, ID: uuid.NewString(), Site: "site-001", Device: fmt.Sprintf("dev-%d", i%7),
		Kind: "co2", Value: float64(i), Unit: "ppm", Severity: contract.SeverityInfo, At: testNow.Add(-time.Minute)}
}

func record(t *testing.T, off int64, ev contract.Event) *sarama.ConsumerMessage {
	t.Helper()
	b, err := ev.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return &sarama.ConsumerMessage{Topic: "events", Partition: 0, Offset: off, Key: []byte(ev.Device), Value: b}
}

func newWorker(store EventWriter, dlq DeadLetters) (*Worker, *Metrics) {
	m := NewMetrics(prometheus.NewRegistry())
	w := New(nil, "events", store, dlq, m, Options{
		Concurrency: 16, DrainTimeout: 200 * time.Millisecond,
		Retry:    backoff.Policy{Base: time.Millisecond, Max: 2 * time.Millisecond},
		Classify: func(error) backoff.Verdict { return backoff.Verdict{Retry: true} },
		Now:      func() time.Time { return testNow },
		Logger:   quiet,
	})
	return w, m
}

func TestConsumeClaimMarksInOrderAndDeadLettersPoison(t *testing.T) {
	store := &slowStore{written: map[string]int{}, failures: map[string]int{}}
	dlq := &memDLQ{fail: 2}
	w, m := newWorker(store, dlq)

	const n = 300
	claim := &fakeClaim{msgs: make(chan *sarama.ConsumerMessage, n), hwm: n}
	var ids []string
	for i := 0; i < n; i++ {
		if i == 150 { // a poison record in the middle of the partition
			claim.msgs <- &sarama.ConsumerMessage{Topic: "events", Offset: int64(i), Value: []byte(`{"v":1,`)}
			continue
		}
		ev := event(i)
		if i%10 == 0 {
			store.failures[ev.ID] = 3
		}
		ids = append(ids, ev.ID)
		claim.msgs <- record(t, int64(i), ev)
	}
	close(claim.msgs)
	sess := &fakeSession{ctx: context.Background()}
	if err := w.ConsumeClaim(sess, claim); err != nil {
		t.Fatal(err)
	}
	marks := sess.marks()
	if len(marks) != n {
		t.Fatalf("marked %d records, want %d", len(marks), n)
	}
	for i, off := range marks {
		if off != int64(i) {
			t.Fatalf("mark %d is offset %d: offsets must be marked in order", i, off)
		}
	}
	for _, id := range ids {
		if store.written[id] != 1 {
			t.Fatalf("event %s written %d times", id, store.written[id])
		}
	}
	if len(dlq.sent) != 1 {
		t.Fatalf("dead letters = %d, want 1", len(dlq.sent))
	}
	h := headers(dlq.sent[0])
	if h[HeaderSourceOffset] != "150" || h[HeaderSourceTopic] != "events" || h[HeaderErrorKind] != KindInvalid || h[HeaderError] == "" {
		t.Fatalf("dead letter headers = %v", h)
	}
	if got := testutil.ToFloat64(m.Written); got != n-1 {
		t.Errorf("written metric = %v", got)
	}
	if got := testutil.ToFloat64(m.DeadLettered.WithLabelValues(KindInvalid)); got != 1 {
		t.Errorf("dlq metric = %v", got)
	}
	if got := testutil.ToFloat64(m.Retries); got != float64(3*len(store.failures)+2) {
		t.Errorf("retries metric = %v, want %d", got, 3*len(store.failures)+2)
	}
}

func TestShutdownMarksOnlyFinishedPrefix(t *testing.T) {
	store := &slowStore{written: map[string]int{}, failures: map[string]int{}, block: make(chan struct{})}
	w, _ := newWorker(store, &memDLQ{})
	claim := &fakeClaim{msgs: make(chan *sarama.ConsumerMessage, 10), hwm: 10}
	for i := 0; i < 10; i++ {
		ev := event(i)
		if i == 4 {
			store.blockID = ev.ID // storage never answers this one
		}
		claim.msgs <- record(t, int64(i), ev)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sess := &fakeSession{ctx: ctx}
	done := make(chan error)
	go func() { done <- w.ConsumeClaim(sess, claim) }()
	time.Sleep(100 * time.Millisecond)
	cancel() // SIGTERM: the blocked write gets DrainTimeout, then is abandoned
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ConsumeClaim did not return after the drain timeout")
	}
	marks := sess.marks()
	if len(marks) != 4 || marks[3] != 3 {
		t.Fatalf("marks = %v, want offsets 0..3 only (4 never became durable)", marks)
	}
}

func TestPermanentStoreErrorGoesToDLQ(t *testing.T) {
	dlq := &memDLQ{}
	m := NewMetrics(prometheus.NewRegistry())
	perm := errors.New("unconfigured table")
	w := New(nil, "events", storeFunc(func(context.Context, contract.Event, time.Time) error { return perm }), dlq, m, Options{
		Classify: func(error) backoff.Verdict { return backoff.Verdict{} }, Now: func() time.Time { return testNow }, Logger: quiet})
	claim := &fakeClaim{msgs: make(chan *sarama.ConsumerMessage, 1), hwm: 1}
	claim.msgs <- record(t, 0, event(1))
	close(claim.msgs)
	sess := &fakeSession{ctx: context.Background()}
	if err := w.ConsumeClaim(sess, claim); err != nil {
		t.Fatal(err)
	}
	if len(sess.marks()) != 1 || len(dlq.sent) != 1 || headers(dlq.sent[0])[HeaderErrorKind] != KindStore {
		t.Fatalf("marks=%v dlq=%d", sess.marks(), len(dlq.sent))
	}
}

type storeFunc func(context.Context, contract.Event, time.Time) error

func (f storeFunc) Upsert(ctx context.Context, ev contract.Event, at time.Time) error {
	return f(ctx, ev, at)
}

func TestDeadLetterTruncatesOversizeValue(t *testing.T) {
	rec := &sarama.ConsumerMessage{Topic: "events", Partition: 3, Offset: 42, Key: []byte("k"), Value: make([]byte, contract.MaxRecordBytes+10),
		Headers: []*sarama.RecordHeader{{Key: []byte("trace"), Value: []byte("t1")}}}
	msg := DeadLetter(rec, KindInvalid, errors.New("too big"), testNow)
	h := headers(msg)
	if h[HeaderTruncated] != "true" || h[HeaderOriginalBytes] != fmt.Sprint(contract.MaxRecordBytes+10) || h["trace"] != "t1" || h[HeaderSourcePart] != "3" {
		t.Fatalf("headers = %v", h)
	}
	if msg.Value.Length() != maxDeadLetterValue {
		t.Fatalf("value not truncated: %d bytes", msg.Value.Length())
	}
	if string(mustEncode(t, msg.Key)) != "k" {
		t.Fatal("key not kept")
	}
}

func headers(m *sarama.ProducerMessage) map[string]string {
	h := map[string]string{}
	for _, rh := range m.Headers {
		h[string(rh.Key)] = string(rh.Value)
	}
	return h
}

func mustEncode(t *testing.T, e sarama.Encoder) []byte {
	t.Helper()
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A record near the broker's limit whose bulk is key and headers must
// still make a dead letter the producer accepts, with markers naming what
// was cut.
func TestDeadLetterBoundsKeyAndHeaders(t *testing.T) {
	rec := &sarama.ConsumerMessage{Topic: "events", Partition: 1, Offset: 7, Key: make([]byte, 800_000), Value: []byte("not json")}
	for i := 0; i < 5; i++ {
		rec.Headers = append(rec.Headers, &sarama.RecordHeader{Key: []byte(fmt.Sprintf("big%d", i)), Value: make([]byte, 45_000)})
	}
	rec.Headers = append(rec.Headers, &sarama.RecordHeader{Key: []byte("trace"), Value: []byte("t1")})
	msg := DeadLetter(rec, KindInvalid, errors.New(strings.Repeat("e", 10_000)), testNow)
	if n := msg.ByteSize(2); n > kafkaclient.MaxMessageBytes {
		t.Fatalf("dead letter is %d bytes, over the producer's %d", n, kafkaclient.MaxMessageBytes)
	}
	h := headers(msg)
	if h[HeaderKeyTruncated] != "true" || h[HeaderOriginalKeyBytes] != "800000" || msg.Key.Length() != maxDeadLetterKey {
		t.Fatalf("key not cut with a marker: %d bytes, headers %v", msg.Key.Length(), h[HeaderKeyTruncated])
	}
	// The first big header fits, the other four do not; the small one
	// after them is kept.
	if h[HeaderHeadersDropped] != "4" || h["trace"] != "t1" || h[HeaderSourceOffset] != "7" || len(h[HeaderError]) != maxErrorHeader {
		t.Fatalf("headers-dropped=%q trace=%q offset=%q error=%d bytes", h[HeaderHeadersDropped], h["trace"], h[HeaderSourceOffset], len(h[HeaderError]))
	}
	if _, ok := h["big0"]; !ok {
		t.Fatal("the header that fits was dropped")
	}
}

func TestWritesInFlightNeverExceedConcurrencyAcrossClaims(t *testing.T) {
	var inflight, peak atomic.Int64
	var mu sync.Mutex
	written := map[string]int{}
	store := storeFunc(func(_ context.Context, ev contract.Event, _ time.Time) error {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		mu.Lock()
		written[ev.ID]++
		mu.Unlock()
		return nil
	})
	w, _ := newWorker(store, &memDLQ{})
	const claims, n = 3, 200
	var wg sync.WaitGroup
	errs := make(chan error, claims)
	for c := 0; c < claims; c++ {
		claim := &fakeClaim{msgs: make(chan *sarama.ConsumerMessage, n), hwm: n}
		for i := 0; i < n; i++ {
			claim.msgs <- record(t, int64(i), event(i))
		}
		close(claim.msgs)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- w.ConsumeClaim(&fakeSession{ctx: context.Background()}, claim)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(written) != claims*n {
		t.Fatalf("wrote %d events, want %d", len(written), claims*n)
	}
	if p := peak.Load(); p > int64(w.opts.Concurrency) || p < 2 {
		t.Fatalf("peak writes in flight = %d, want 2..%d", p, w.opts.Concurrency)
	}
}

func TestLagSeriesAppearsAtTheFirstMark(t *testing.T) {
	release := make(chan struct{})
	store := storeFunc(func(ctx context.Context, _ contract.Event, _ time.Time) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	w, m := newWorker(store, &memDLQ{})
	const n = 10
	claim := &fakeClaim{msgs: make(chan *sarama.ConsumerMessage, n), hwm: n + 5}
	for i := 0; i < n; i++ {
		claim.msgs <- record(t, int64(i), event(i))
	}
	close(claim.msgs)
	done := make(chan error, 1)
	go func() { done <- w.ConsumeClaim(&fakeSession{ctx: context.Background()}, claim) }()
	time.Sleep(50 * time.Millisecond)
	if c := testutil.CollectAndCount(m.Lag); c != 0 {
		t.Fatalf("%d lag series before any mark, want none (a 0 would say caught up)", c)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(m.Lag.WithLabelValues("events", "0")); got != 5 {
		t.Fatalf("lag after marking offset %d of high-water mark %d = %v, want 5", n-1, n+5, got)
	}
}
