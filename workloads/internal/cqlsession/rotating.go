package cqlsession

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gocql/gocql"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of key rotation (CASSANDRA_PASSWORD_POLL, CASSANDRA_ROTATION_DRAIN).
const (
	// DefaultPasswordPoll is how often the password file is read. The
	// Secrets Store CSI driver refreshes the mounted key every two minutes
	// by default, so a rotated key is in use within about that long.
	DefaultPasswordPoll = 5 * time.Second
	// DefaultRotationDrain is how long a replaced session stays open for
	// the queries still running on it.
	DefaultRotationDrain = 30 * time.Second
)

// RotateOptions tune a Rotating session.
type RotateOptions struct {
	// Logger reports rotations and failed attempts; slog.Default() when nil.
	Logger *slog.Logger
	// Registerer, when set, gets sluice_cassandra_session_rotations_total
	// and sluice_cassandra_session_rotation_failures_total.
	Registerer prometheus.Registerer
}

// Rotating is a session that follows the password file: when the file's
// content changes (the CSI driver writes the rotated Cosmos DB key), it
// opens a new session, which authenticates with the new password, swaps it
// in for every statement that asks for the session from then on, and
// closes the old one once the statements running on it have had
// RotationDrain to finish. A failed attempt (the new password not valid
// yet, the store unreachable) keeps the current session and is retried at
// the next poll. It implements Source.
type Rotating struct {
	r *rotator[*gocql.Session]
}

// OpenRotating connects the first session and returns the rotating
// session; Run makes it follow the password file. Without
// CASSANDRA_PASSWORD_FILE it never rotates.
func (c Config) OpenRotating(o RotateOptions) (*Rotating, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	r := &rotator[*gocql.Session]{
		file:     c.PasswordFile,
		open:     c.Open,
		close:    func(s *gocql.Session) { s.Close() },
		interval: c.PasswordPoll,
		drain:    c.RotationDrain,
		log:      log,
		pending:  map[*time.Timer]*gocql.Session{},
	}
	if r.interval <= 0 {
		r.interval = DefaultPasswordPoll
	}
	if r.drain <= 0 {
		r.drain = DefaultRotationDrain
	}
	r.openTimeout = max(4*c.Timeout, 30*time.Second)
	if o.Registerer != nil {
		r.rotated = prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_cassandra_session_rotations_total",
			Help: "Cassandra sessions replaced because the password file changed.",
		})
		r.failed = prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_cassandra_session_rotation_failures_total",
			Help: "Attempts to open a session with a changed password that failed (retried at the next poll).",
		})
		if err := o.Registerer.Register(r.rotated); err != nil {
			return nil, fmt.Errorf("register rotation metrics: %w", err)
		}
		if err := o.Registerer.Register(r.failed); err != nil {
			return nil, fmt.Errorf("register rotation metrics: %w", err)
		}
	}
	if err := r.start(); err != nil {
		return nil, err
	}
	return &Rotating{r: r}, nil
}

// Session returns the session new statements should run on.
func (r *Rotating) Session() *gocql.Session { return r.r.current() }

// Run reads the password file every CASSANDRA_PASSWORD_POLL until ctx ends.
func (r *Rotating) Run(ctx context.Context) { r.r.run(ctx) }

// Rotations is how many times the session was replaced.
func (r *Rotating) Rotations() int64 { return r.r.count.Load() }

// Closed reports whether the current session is closed.
func (r *Rotating) Closed() bool { return r.r.current().Closed() }

// Close closes the current session and any replaced one still draining.
func (r *Rotating) Close() { r.r.shutdown() }

// rotator is Rotating's logic over any session type, so it can be tested
// without a Cassandra cluster.
type rotator[S any] struct {
	file     string
	open     func() (S, error)
	close    func(S)
	interval time.Duration
	drain    time.Duration
	// openTimeout bounds an attempt to open a session with a new password:
	// gocql retries refused pool connections for as long as its
	// reconnection policy allows, which must not stall the rotation loop.
	openTimeout time.Duration
	log         *slog.Logger
	rotated     prometheus.Counter
	failed      prometheus.Counter
	count       atomic.Int64

	cur atomic.Pointer[S]

	mu      sync.Mutex
	applied [sha256.Size]byte
	closed  bool
	pending map[*time.Timer]S
}

// passwordDigest reads the password file as the Authenticator does (line
// breaks at the end ignored) and returns its digest.
func passwordDigest(file string) ([sha256.Size]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("read cassandra password file: %w", err)
	}
	return sha256.Sum256([]byte(strings.TrimRight(string(b), "\r\n"))), nil
}

func (r *rotator[S]) start() error {
	if r.file != "" {
		d, err := passwordDigest(r.file)
		if err != nil {
			return err
		}
		r.applied = d
	}
	s, err := r.open()
	if err != nil {
		return err
	}
	r.cur.Store(&s)
	return nil
}

func (r *rotator[S]) current() S { return *r.cur.Load() }

func (r *rotator[S]) run(ctx context.Context) {
	if r.file == "" {
		return
	}
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rotated, err := r.check()
		switch {
		case err != nil:
			r.log.Warn("cassandra password changed but the new session is not ready; keeping the current one", "err", err)
		case rotated:
			r.log.Info("cassandra password changed: new statements use a new session; the old one closes after the drain period",
				"drain", r.drain.String(), "rotations", r.count.Load())
		}
	}
}

// check rotates when the password file holds a password the current
// session was not opened with.
func (r *rotator[S]) check() (bool, error) {
	d, err := passwordDigest(r.file)
	if err != nil {
		// The CSI driver replaces the file atomically; a failed read is
		// retried at the next poll.
		return false, err
	}
	r.mu.Lock()
	same, closed := d == r.applied, r.closed
	r.mu.Unlock()
	if same || closed {
		return false, nil
	}
	s, err := r.openWithin()
	if err != nil {
		if r.failed != nil {
			r.failed.Inc()
		}
		return false, fmt.Errorf("open a session with the new cassandra password: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		r.close(s)
		return false, nil
	}
	old := r.cur.Swap(&s)
	r.applied = d
	r.count.Add(1)
	if r.rotated != nil {
		r.rotated.Inc()
	}
	var timer *time.Timer
	timer = time.AfterFunc(r.drain, func() {
		r.mu.Lock()
		_, waiting := r.pending[timer]
		delete(r.pending, timer)
		r.mu.Unlock()
		if waiting {
			r.close(*old)
		}
	})
	r.pending[timer] = *old
	return true, nil
}

// openWithin opens a session, giving up after openTimeout; a session that
// opens after that is closed as soon as it arrives.
func (r *rotator[S]) openWithin() (S, error) {
	type result struct {
		s   S
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := r.open()
		done <- result{s, err}
	}()
	timer := time.NewTimer(r.openTimeout)
	defer timer.Stop()
	select {
	case res := <-done:
		return res.s, res.err
	case <-timer.C:
		go func() {
			if res := <-done; res.err == nil {
				r.close(res.s)
			}
		}()
		var zero S
		return zero, fmt.Errorf("no session within %s", r.openTimeout)
	}
}

func (r *rotator[S]) shutdown() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	var draining []S
	for t, s := range r.pending {
		// Whether or not its timer already fired, a session still listed
		// here has not been closed: its callback skips what is no longer
		// pending.
		t.Stop()
		draining = append(draining, s)
		delete(r.pending, t)
	}
	r.mu.Unlock()
	for _, s := range draining {
		r.close(s)
	}
	r.close(r.current())
}
