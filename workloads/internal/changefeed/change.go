package changefeed

import (
	"context"
	"errors"

	"github.com/sluicehq/sluice/workloads/contract"
)

// Change is one insert or update of an event: the event as stored, with
// the time it was ingested, the same value the cache writes.
type Change = contract.Stored

// Batch is one page of changes and the position after it.
type Batch struct {
	Changes []Change
	// Position is where the source stands after this batch, in the
	// source's own encoding. Commit saves it.
	Position []byte
	// More says the batch was cut at the page size: more changes are
	// waiting. Without it the caller may pause briefly, so that changes
	// trickling in are read in pages rather than one query each.
	More bool
}

// Source reads one feed range. It is not safe for concurrent use.
type Source interface {
	// Next returns the changes after the previous batch. An empty batch
	// means caught up or throttled; the caller backs off before calling
	// again.
	Next(ctx context.Context) (Batch, error)
	// Commit durably records that b and everything before it was
	// processed.
	Commit(ctx context.Context, b Batch) error
}

// Checkpoints stores the position of one feed range.
type Checkpoints interface {
	// Load returns the saved position, or nil when there is none.
	Load(ctx context.Context) ([]byte, error)
	// Save replaces the saved position.
	Save(ctx context.Context, position []byte) error
}

// Feed is a change feed split into ranges.
type Feed interface {
	// Kind names the source ("outbox" or "cosmos"); leases and
	// checkpoints are kept per consumer and kind.
	Kind() string
	// Ranges lists the feed ranges; each is read by one Source.
	Ranges() []string
	// Open returns a Source for one range, resuming from cp.
	Open(ctx context.Context, feedRange string, cp Checkpoints) (Source, error)
}

// Handler processes one batch of changes. It must be idempotent: a batch
// is delivered again after a crash between Handler and Commit. It must
// also stop writing once ctx ends: the Runner's ctx has a deadline a
// safety margin before the range's lease expires, after which another
// replica may hold the lease.
type Handler func(ctx context.Context, changes []Change) error

// ErrBadPosition is wrapped when a saved position cannot be used.
var ErrBadPosition = errors.New("unusable change-feed position")

// latest keeps the last version of every event in changes, in the order of
// those last versions, so a batch holds the latest version of each row and
// one device's changes keep their order.
func latest(changes []Change) []Change {
	if len(changes) < 2 {
		return changes
	}
	last := make(map[string]int, len(changes))
	for i, c := range changes {
		last[c.Event.ID] = i
	}
	if len(last) == len(changes) {
		return changes
	}
	out := make([]Change, 0, len(last))
	for i, c := range changes {
		if last[c.Event.ID] == i {
			out = append(out, c)
		}
	}
	return out
}
