package changefeed

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gocql/gocql"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
)

// ErrLeaseHeld is returned by Acquire while another owner's lease is valid.
var ErrLeaseHeld = errors.New("lease held by another owner")

// ErrLeaseLost is returned when a lease was taken over or ran out: the
// holder must stop working on the range at once.
var ErrLeaseLost = errors.New("lease lost")

// LeaseManager hands out leases on feed ranges.
type LeaseManager interface {
	// Acquire takes the lease on (feed, feedRange) for owner, or returns
	// an error wrapping ErrLeaseHeld while someone else holds it. An
	// owner may take over its own unexpired lease (a restart with a
	// stable owner name).
	Acquire(ctx context.Context, feed, feedRange, owner string, ttl time.Duration) (Lease, error)
}

// Lease is one held lease. Its Checkpoints methods read and save the
// range's position, fenced by the lease: Save fails with ErrLeaseLost
// once the lease is gone.
type Lease interface {
	Checkpoints
	// Renew extends the lease by its time to live.
	Renew(ctx context.Context) error
	// Release gives the lease up so another owner can take it at once.
	Release(ctx context.Context) error
	// Until is when the lease expires unless renewed, by the local clock:
	// the expiry the last successful update stored (to the store's
	// precision), computed from the clock read before it was sent. It
	// answers at once, also while a renewal or save is under way: the
	// runner's deadline is built on it.
	Until() time.Time
	// Epoch counts the owners the lease has had.
	Epoch() int64
}

// Leases keeps leases and checkpoints in contract.TableChangefeedLeases
// with lightweight transactions.
type Leases struct {
	sessions cqlsession.Source
	keyspace string
	table    string
	now      func() time.Time
}

// NewLeases returns the lease manager on keyspace's lease table.
func NewLeases(sessions cqlsession.Source, keyspace string) *Leases {
	return &Leases{sessions: sessions, keyspace: keyspace, table: contract.TableChangefeedLeases, now: time.Now}
}

// leaseRow is the stored state of a lease.
type leaseRow struct {
	owner      string
	epoch      int64
	until      time.Time
	checkpoint string
}

func (l *Leases) read(ctx context.Context, feed, feedRange string) (leaseRow, bool, error) {
	var r leaseRow
	err := l.sessions.Session().Query(fmt.Sprintf("SELECT owner, epoch, lease_until, checkpoint FROM %s.%s WHERE feed = ? AND feed_range = ?", l.keyspace, l.table),
		feed, feedRange).WithContext(ctx).Idempotent(true).Scan(&r.owner, &r.epoch, &r.until, &r.checkpoint)
	if errors.Is(err, gocql.ErrNotFound) {
		return leaseRow{}, false, nil
	}
	if err != nil {
		return leaseRow{}, false, fmt.Errorf("read lease %s/%s: %w", feed, feedRange, err)
	}
	return r, true, nil
}

// cas runs a conditional statement and reports whether it applied.
func (l *Leases) cas(ctx context.Context, cql string, args ...any) (bool, error) {
	applied, err := l.sessions.Session().Query(cql, args...).WithContext(ctx).SerialConsistency(gocql.LocalSerial).MapScanCAS(map[string]any{})
	if err != nil {
		return false, err
	}
	return applied, nil
}

// Acquire implements LeaseManager.
func (l *Leases) Acquire(ctx context.Context, feed, feedRange, owner string, ttl time.Duration) (Lease, error) {
	for attempt := 0; attempt < 3; attempt++ {
		row, ok, err := l.read(ctx, feed, feedRange)
		if err != nil {
			return nil, err
		}
		now := l.now()
		until := now.Add(ttl)
		if !ok {
			applied, err := l.cas(ctx, fmt.Sprintf("INSERT INTO %s.%s (feed, feed_range, owner, epoch, lease_until, updated_at) VALUES (?, ?, ?, 1, ?, ?) IF NOT EXISTS", l.keyspace, l.table),
				feed, feedRange, owner, until, now)
			if err != nil {
				return nil, fmt.Errorf("create lease %s/%s: %w", feed, feedRange, err)
			}
			if applied {
				return &cqlLease{leases: l, feed: feed, feedRange: feedRange, owner: owner, epoch: 1, ttl: ttl, until: until}, nil
			}
			continue // created by someone else meanwhile: look again
		}
		if row.owner != owner && row.until.After(now) {
			return nil, fmt.Errorf("%s/%s owned by %s until %s: %w", feed, feedRange, row.owner, row.until.Format(time.RFC3339), ErrLeaseHeld)
		}
		applied, err := l.cas(ctx, fmt.Sprintf("UPDATE %s.%s SET owner = ?, epoch = ?, lease_until = ?, updated_at = ? WHERE feed = ? AND feed_range = ? IF epoch = ?", l.keyspace, l.table),
			owner, row.epoch+1, until, now, feed, feedRange, row.epoch)
		if err != nil {
			return nil, fmt.Errorf("take over lease %s/%s: %w", feed, feedRange, err)
		}
		if !applied {
			continue // another owner was faster: look again
		}
		le := &cqlLease{leases: l, feed: feed, feedRange: feedRange, owner: owner, epoch: row.epoch + 1, ttl: ttl, until: until}
		// The checkpoint is read again now that the epoch is ours: the
		// previous owner may have saved one after the first read.
		row, _, err = l.read(ctx, feed, feedRange)
		if err != nil {
			return nil, err
		}
		le.checkpoint = row.checkpoint
		return le, nil
	}
	return nil, fmt.Errorf("lease %s/%s kept changing hands: %w", feed, feedRange, ErrLeaseHeld)
}

// cqlLease is a lease held in the lease table.
type cqlLease struct {
	leases                 *Leases
	feed, feedRange, owner string
	epoch                  int64
	ttl                    time.Duration
	checkpoint             string

	// mu serialises this owner's conditional updates, which would
	// otherwise contend with each other in Paxos.
	mu sync.Mutex
	// untilMu guards until alone, so that Until does not wait for an
	// update that hangs while holding mu.
	untilMu sync.Mutex
	until   time.Time
}

func (c *cqlLease) Epoch() int64 { return c.epoch }

func (c *cqlLease) Until() time.Time {
	c.untilMu.Lock()
	defer c.untilMu.Unlock()
	return c.until
}

func (c *cqlLease) setUntil(t time.Time) {
	c.untilMu.Lock()
	defer c.untilMu.Unlock()
	c.until = t
}

// Load implements Checkpoints with the checkpoint read when the lease was
// acquired: nobody else can change it while the lease is held.
func (c *cqlLease) Load(context.Context) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.checkpoint == "" {
		return nil, nil
	}
	return []byte(c.checkpoint), nil
}

// Save implements Checkpoints; it also extends the lease.
func (c *cqlLease) Save(ctx context.Context, position []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.leases.now()
	until := now.Add(c.ttl)
	applied, err := c.leases.cas(ctx, fmt.Sprintf("UPDATE %s.%s SET checkpoint = ?, lease_until = ?, updated_at = ? WHERE feed = ? AND feed_range = ? IF owner = ? AND epoch = ?", c.leases.keyspace, c.leases.table),
		string(position), until, now, c.feed, c.feedRange, c.owner, c.epoch)
	if err != nil {
		return fmt.Errorf("save checkpoint %s/%s: %w", c.feed, c.feedRange, err)
	}
	if !applied {
		return fmt.Errorf("save checkpoint %s/%s: %w", c.feed, c.feedRange, ErrLeaseLost)
	}
	c.checkpoint = string(position)
	c.setUntil(until)
	return nil
}

// Renew implements Lease.
func (c *cqlLease) Renew(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.leases.now()
	until := now.Add(c.ttl)
	applied, err := c.leases.cas(ctx, fmt.Sprintf("UPDATE %s.%s SET lease_until = ?, updated_at = ? WHERE feed = ? AND feed_range = ? IF owner = ? AND epoch = ?", c.leases.keyspace, c.leases.table),
		until, now, c.feed, c.feedRange, c.owner, c.epoch)
	if err != nil {
		return fmt.Errorf("renew lease %s/%s: %w", c.feed, c.feedRange, err)
	}
	if !applied {
		return fmt.Errorf("renew lease %s/%s: %w", c.feed, c.feedRange, ErrLeaseLost)
	}
	c.setUntil(until)
	return nil
}

// Release implements Lease: the lease expires at once, the checkpoint stays.
func (c *cqlLease) Release(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	applied, err := c.leases.cas(ctx, fmt.Sprintf("UPDATE %s.%s SET lease_until = ?, updated_at = ? WHERE feed = ? AND feed_range = ? IF owner = ? AND epoch = ?", c.leases.keyspace, c.leases.table),
		time.UnixMilli(0).UTC(), c.leases.now(), c.feed, c.feedRange, c.owner, c.epoch)
	if err != nil {
		return fmt.Errorf("release lease %s/%s: %w", c.feed, c.feedRange, err)
	}
	if !applied {
		return fmt.Errorf("release lease %s/%s: %w", c.feed, c.feedRange, ErrLeaseLost)
	}
	c.setUntil(time.Time{})
	return nil
}
