package backoff

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Policy says how long to wait between attempts.
type Policy struct {
	// Base is the first delay's upper bound; each attempt doubles it.
	Base time.Duration
	// Max caps every delay, the server's included.
	Max time.Duration
	// MaxAttempts stops after that many attempts; 0 retries until the
	// context ends.
	MaxAttempts int
}

// Default suits calls to a database: 50 ms doubling to 5 s, no attempt limit.
var Default = Policy{Base: 50 * time.Millisecond, Max: 5 * time.Second}

// Verdict is a classifier's answer about one error.
type Verdict struct {
	// Retry is true for a transient failure.
	Retry bool
	// After is a delay the server asked for; 0 means use the backoff.
	After time.Duration
	// Stall marks a retried error that no request can get past until an
	// operator acts (a table missing, a permission revoked): a worker keeps
	// retrying but reports itself stalled (not ready, a metric) instead of
	// treating it as an outage that heals by itself.
	Stall bool
}

// Delay is the wait before attempt n+1 (n counts from 1): full jitter over
// min(Max, Base·2^(n-1)).
func (p Policy) Delay(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	ceiling := p.Base
	for i := 1; i < n && ceiling < p.Max; i++ {
		ceiling *= 2
	}
	if ceiling > p.Max {
		ceiling = p.Max
	}
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceiling)) + 1)
}

// ErrGaveUp wraps the last error when MaxAttempts is reached.
var ErrGaveUp = errors.New("gave up after retries")

// Do calls op until it succeeds, classify says an error is permanent, the
// attempts run out or ctx ends. onRetry, if set, is told about each retry
// (for metrics and logs). The returned error is op's last error; it also
// wraps ErrGaveUp or ctx's error when those ended the loop.
func (p Policy) Do(ctx context.Context, op func(context.Context) error, classify func(error) Verdict, onRetry func(attempt int, err error, wait time.Duration)) error {
	for attempt := 1; ; attempt++ {
		err := op(ctx)
		if err == nil {
			return nil
		}
		v := classify(err)
		if !v.Retry {
			return err
		}
		if p.MaxAttempts > 0 && attempt >= p.MaxAttempts {
			return errors.Join(ErrGaveUp, err)
		}
		wait := p.Delay(attempt)
		if v.After > 0 {
			wait = v.After
			if p.Max > 0 && wait > p.Max {
				wait = p.Max
			}
		}
		if onRetry != nil {
			onRetry(attempt, err, wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(ctx.Err(), err)
		case <-t.C:
		}
	}
}
