package simulate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
)

// Plan says how much to produce: Count records, or for Duration, at Rate
// records per second (0 = as fast as the producer takes them). At least one
// of Count and Duration must be set.
type Plan struct {
	Rate     float64
	Count    int64
	Duration time.Duration
}

// Validate reports a plan that would never end or cannot run.
func (p Plan) Validate() error {
	if p.Count <= 0 && p.Duration <= 0 {
		return errors.New("set a count or a duration")
	}
	if p.Rate < 0 || p.Count < 0 || p.Duration < 0 {
		return errors.New("rate, count and duration must not be negative")
	}
	return nil
}

// Stats are the counts of a production run so far.
type Stats struct {
	Sent    int64 // handed to the producer
	Acked   int64 // acknowledged by the broker
	Valid   int64 // acknowledged valid records
	Invalid int64 // acknowledged deliberately invalid records
	Failed  int64 // the producer gave up on them
}

// Acked is one record the broker acknowledged.
type Acked struct {
	Record    Record
	Partition int32
	Offset    int64
}

// Producer runs a Plan through a sarama AsyncProducer built with
// Return.Successes and Return.Errors on.
type Producer struct {
	AP    sarama.AsyncProducer
	Topic string
	Gen   *Generator
	// OnAck, if set, is called for every acknowledged record, from one
	// goroutine.
	OnAck func(Acked)

	sent, acked, valid, invalid, failed atomic.Int64
	firstErr                            atomic.Pointer[error]
}

// Stats returns the counts so far; safe to call while Run runs.
func (p *Producer) Stats() Stats {
	return Stats{Sent: p.sent.Load(), Acked: p.acked.Load(), Valid: p.valid.Load(), Invalid: p.invalid.Load(), Failed: p.failed.Load()}
}

// Run produces until the plan is done or ctx ends, then waits for every
// outstanding acknowledgement and closes the producer. It returns an error
// if any record failed.
func (p *Producer) Run(ctx context.Context, plan Plan) (Stats, error) {
	if err := plan.Validate(); err != nil {
		return Stats{}, fmt.Errorf("produce plan: %w", err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for msg := range p.AP.Successes() {
			rec := msg.Metadata.(Record)
			p.acked.Add(1)
			if rec.Event != nil {
				p.valid.Add(1)
			} else {
				p.invalid.Add(1)
			}
			if p.OnAck != nil {
				p.OnAck(Acked{Record: rec, Partition: msg.Partition, Offset: msg.Offset})
			}
		}
	}()
	go func() {
		defer wg.Done()
		for perr := range p.AP.Errors() {
			p.failed.Add(1)
			err := fmt.Errorf("produce to %s: %w", p.Topic, perr.Err)
			p.firstErr.CompareAndSwap(nil, &err)
		}
	}()

	start := time.Now()
	var deadline time.Time
	if plan.Duration > 0 {
		deadline = start.Add(plan.Duration)
	}
	var n int64
loop:
	for plan.Count <= 0 || n < plan.Count {
		now := time.Now()
		if !deadline.IsZero() && now.After(deadline) {
			break
		}
		if plan.Rate > 0 {
			due := int64(now.Sub(start).Seconds()*plan.Rate) + 1
			if n >= due {
				wait := time.Duration(float64(n+1-due)/plan.Rate*float64(time.Second)) + time.Millisecond
				select {
				case <-ctx.Done():
					break loop
				case <-time.After(min(wait, 20*time.Millisecond)):
				}
				continue
			}
		}
		rec := p.Gen.Next(now)
		msg := &sarama.ProducerMessage{Topic: p.Topic, Key: sarama.ByteEncoder(rec.Key), Value: sarama.ByteEncoder(rec.Value), Metadata: rec}
		select {
		case p.AP.Input() <- msg:
			n++
			p.sent.Add(1)
		case <-ctx.Done():
			break loop
		}
	}
	p.AP.AsyncClose()
	wg.Wait()
	if e := p.firstErr.Load(); e != nil {
		return p.Stats(), *e
	}
	return p.Stats(), nil
}
