package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/internal/backoff"
)

// EventWriter makes one event durable. Upsert must be idempotent.
type EventWriter interface {
	Upsert(ctx context.Context, ev contract.Event, ingestedAt time.Time) error
}

// DeadLetters accepts records that cannot be stored, with the reason.
// Send returns only once the dead letter is durable.
type DeadLetters interface {
	Send(ctx context.Context, rec *sarama.ConsumerMessage, kind string, cause error) error
}

// Dead-letter kinds, also the "reason" label of the dlq metric.
const (
	KindInvalid = "invalid" // failed decoding or validation
	KindStore   = "store"   // storage rejected the event permanently
)

// Options tune a Worker.
type Options struct {
	// Concurrency bounds the writes in flight across all partitions.
	Concurrency int
	// DrainTimeout bounds how long in-flight writes may finish after the
	// session ends (shutdown or rebalance).
	DrainTimeout time.Duration
	// Retry is the backoff for storage and dead-letter writes.
	Retry backoff.Policy
	// Classify tells transient storage errors from permanent ones; a
	// verdict with Stall marks the worker stalled while it retries.
	Classify func(error) backoff.Verdict
	// Now is the clock; tests set it.
	Now func() time.Time
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.Concurrency <= 0 {
		o.Concurrency = 256
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 20 * time.Second
	}
	if o.Retry == (backoff.Policy{}) {
		o.Retry = backoff.Default
	}
	if o.Classify == nil {
		o.Classify = func(error) backoff.Verdict { return backoff.Verdict{Retry: true} }
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Worker is the ingest consumer. Create it with New and call Run once.
type Worker struct {
	group   sarama.ConsumerGroup
	topic   string
	store   EventWriter
	dlq     DeadLetters
	metrics *Metrics
	opts    Options
	// jobs feeds the writers: opts.Concurrency goroutines shared by every
	// partition, started by the first claim and ended by Run. Long-lived
	// writers keep the stack a decode and a write grow to, which a
	// goroutine per record would grow again every time.
	jobs      chan job
	startPool sync.Once
	joined    atomic.Bool
	running   atomic.Bool
	// stalled counts the writes retrying a Stall error; lastStall is the
	// latest such error, for Ready.
	stalled   atomic.Int64
	lastStall atomic.Pointer[error]
}

// New assembles a worker; it takes ownership of group and closes it when
// Run returns.
func New(group sarama.ConsumerGroup, topic string, store EventWriter, dlq DeadLetters, m *Metrics, opts Options) *Worker {
	opts.defaults()
	return &Worker{group: group, topic: topic, store: store, dlq: dlq, metrics: m, opts: opts, jobs: make(chan job)}
}

// Ready reports whether the worker is in a consumer group session.
func (w *Worker) Ready() error {
	if !w.running.Load() {
		return errors.New("not running")
	}
	if !w.joined.Load() {
		return errors.New("not in a consumer group session")
	}
	if n := w.stalled.Load(); n > 0 {
		err := errors.New("unknown")
		if p := w.lastStall.Load(); p != nil {
			err = *p
		}
		return fmt.Errorf("store stalled (%d writes waiting): %w", n, err)
	}
	return nil
}

// Run consumes until ctx ends, then drains, commits and closes the group.
// It returns nil after a clean shutdown.
func (w *Worker) Run(ctx context.Context) error {
	w.running.Store(true)
	defer w.running.Store(false)
	log := w.opts.Logger
	errDone := make(chan struct{})
	go func() {
		defer close(errDone)
		for err := range w.group.Errors() {
			log.Warn("consumer group error", "err", err)
		}
	}()
	attempt := 0
	for ctx.Err() == nil {
		err := w.group.Consume(ctx, []string{w.topic}, w)
		if ctx.Err() != nil {
			break
		}
		if err == nil {
			attempt = 0
			continue // a rebalance: join again
		}
		if errors.Is(err, sarama.ErrClosedConsumerGroup) {
			return fmt.Errorf("consume: %w", err)
		}
		attempt++
		wait := w.opts.Retry.Delay(attempt)
		log.Warn("consume failed, retrying", "err", err, "wait", wait.String())
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	err := w.group.Close()
	// Every claim has returned, and with it every job it handed out.
	close(w.jobs)
	if err != nil {
		return fmt.Errorf("close consumer group: %w", err)
	}
	<-errDone
	log.Info("ingest stopped")
	return nil
}

// Setup implements sarama.ConsumerGroupHandler.
func (w *Worker) Setup(sess sarama.ConsumerGroupSession) error {
	w.joined.Store(true)
	w.opts.Logger.Info("joined consumer group", "member", sess.MemberID(), "generation", sess.GenerationID(), "claims", sess.Claims())
	return nil
}

// Cleanup implements sarama.ConsumerGroupHandler: it commits what the
// claims marked before the session ends.
func (w *Worker) Cleanup(sess sarama.ConsumerGroupSession) error {
	w.joined.Store(false)
	sess.Commit()
	return nil
}

// inflight is one record on its way through the pipeline. result receives
// nil once the record may be marked.
type inflight struct {
	msg    *sarama.ConsumerMessage
	result chan error
}

// job is one record handed to a writer: it processes f.msg under ctx,
// sends the outcome on f.result and calls done.Done.
type job struct {
	ctx  context.Context
	f    *inflight
	done *sync.WaitGroup
}

// writers starts the pool once.
func (w *Worker) writers() {
	w.startPool.Do(func() {
		for range w.opts.Concurrency {
			go w.writer()
		}
	})
}

// writer processes jobs until Run closes the channel.
func (w *Worker) writer() {
	for j := range w.jobs {
		j.f.result <- w.process(j.ctx, j.f.msg)
		w.metrics.InFlight.Dec()
		j.done.Done()
	}
}

// ConsumeClaim implements sarama.ConsumerGroupHandler. Records are processed
// concurrently and marked strictly in offset order by a marker goroutine.
func (w *Worker) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	log := w.opts.Logger.With("topic", claim.Topic(), "partition", claim.Partition())
	partition := strconv.Itoa(int(claim.Partition()))

	// Writes outlive the session by up to DrainTimeout, so a shutdown
	// finishes what it started instead of abandoning it mid-retry.
	writeCtx, cancelWrites := context.WithCancel(context.Background())
	defer cancelWrites()
	stopDrain := context.AfterFunc(sess.Context(), func() {
		t := time.NewTimer(w.opts.DrainTimeout)
		defer t.Stop()
		select {
		case <-t.C:
			cancelWrites()
		case <-writeCtx.Done():
		}
	})
	defer stopDrain()

	w.writers()
	pending := make(chan *inflight, w.opts.Concurrency)
	var marker sync.WaitGroup
	marker.Add(1)
	go func() {
		defer marker.Done()
		stopped := false
		// The lag series appears at the first mark: before it there is no
		// "last mark" to measure from, and a 0 would claim a partition
		// caught up that nobody has read yet.
		var lag prometheus.Gauge
		for f := range pending {
			err := <-f.result
			if stopped {
				continue
			}
			if err != nil {
				// Everything from here on is redelivered to the next
				// owner of the partition; idempotent writes absorb it.
				stopped = true
				log.Warn("stopped marking offsets; unfinished records will be redelivered", "offset", f.msg.Offset, "err", err)
				continue
			}
			sess.MarkMessage(f.msg, "")
			if lag == nil {
				lag = w.metrics.Lag.WithLabelValues(claim.Topic(), partition)
			}
			lag.Set(float64(claim.HighWaterMarkOffset() - f.msg.Offset - 1))
		}
	}()

	var workers sync.WaitGroup
	defer func() {
		close(pending)
		marker.Wait()
		workers.Wait()
	}()
	for {
		select {
		case <-sess.Context().Done():
			return nil
		case msg, ok := <-claim.Messages():
			if !ok {
				return nil
			}
			w.metrics.Consumed.Inc()
			f := &inflight{msg: msg, result: make(chan error, 1)}
			// The record is queued for marking only once a writer has it,
			// so the marker never waits on a record nobody will write.
			workers.Add(1)
			w.metrics.InFlight.Inc()
			select {
			case w.jobs <- job{ctx: writeCtx, f: f, done: &workers}:
			case <-sess.Context().Done():
				w.metrics.InFlight.Dec()
				workers.Done()
				return nil
			}
			pending <- f
		}
	}
}

// process makes one record durable: stored, or dead-lettered. It returns an
// error only when ctx ended first, in which case the record stays unmarked.
func (w *Worker) process(ctx context.Context, msg *sarama.ConsumerMessage) error {
	ev, err := contract.Decode(msg.Value, w.opts.Now())
	if err != nil {
		return w.deadLetter(ctx, msg, KindInvalid, err)
	}
	start := time.Now()
	stalled := false
	err = w.opts.Retry.Do(ctx, func(ctx context.Context) error {
		return w.store.Upsert(ctx, ev, w.opts.Now())
	}, w.opts.Classify, func(attempt int, err error, wait time.Duration) {
		w.metrics.Retries.Inc()
		if w.opts.Classify(err).Stall {
			w.lastStall.Store(&err)
			if !stalled {
				// Not about this event: every event would hit it, so the
				// partition waits (nothing after it is marked) for an
				// operator instead of dead-lettering the stream.
				stalled = true
				w.stalled.Add(1)
				w.metrics.StoreStalled.Inc()
				w.opts.Logger.Error("store refuses every write; stalling until it is fixed", "id", ev.ID, "err", err)
			}
		}
		if attempt == 1 || attempt%20 == 0 {
			w.opts.Logger.Warn("store write failed, retrying", "id", ev.ID, "attempt", attempt, "wait", wait.String(), "err", err)
		}
	})
	if stalled {
		w.stalled.Add(-1)
		w.metrics.StoreStalled.Dec()
	}
	if err == nil {
		w.metrics.Written.Inc()
		w.metrics.WriteSeconds.Observe(time.Since(start).Seconds())
		w.metrics.EventAge.Observe(w.opts.Now().Sub(ev.At).Seconds())
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("store event %s: %w", ev.ID, ctx.Err())
	}
	w.opts.Logger.Error("store rejected event; dead-lettering it", "id", ev.ID, "err", err)
	return w.deadLetter(ctx, msg, KindStore, err)
}

func (w *Worker) deadLetter(ctx context.Context, msg *sarama.ConsumerMessage, kind string, cause error) error {
	err := w.opts.Retry.Do(ctx, func(ctx context.Context) error {
		return w.dlq.Send(ctx, msg, kind, cause)
	}, func(error) backoff.Verdict { return backoff.Verdict{Retry: true} }, func(attempt int, err error, wait time.Duration) {
		w.metrics.Retries.Inc()
		if attempt == 1 || attempt%20 == 0 {
			w.opts.Logger.Warn("dead-letter write failed, retrying", "partition", msg.Partition, "offset", msg.Offset, "err", err)
		}
	})
	if err != nil {
		return fmt.Errorf("dead-letter offset %d: %w", msg.Offset, err)
	}
	w.metrics.DeadLettered.WithLabelValues(kind).Inc()
	return nil
}
