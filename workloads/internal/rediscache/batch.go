package rediscache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// getBatcher coalesces concurrent GETs into pipelines without a goroutine
// of its own. A GET that finds fewer than maxInFlight pipelines out becomes
// a leader and sends itself at once: alone, a GET costs what a plain one
// does. GETs arriving while the pipelines are out queue up; when one
// returns, its leader hands the queue (up to maxBatch) to the first of
// them, which sends it as the next pipeline. Under load, one write and one
// read carry dozens of GETs, which is most of what a cache hit costs, and
// batches grow with the load by themselves.
type getBatcher struct {
	rdb         redis.UniversalClient
	maxBatch    int
	maxInFlight int
	timeout     time.Duration
	pool        sync.Pool

	mu       sync.Mutex
	inFlight int
	queue    []*getReq
}

type getReq struct {
	key string
	val string
	err error
	// done carries false when the answer is in val and err, true when
	// the receiver is to lead the batch it heads.
	done  chan bool
	batch []*getReq // set for a new leader
	self  [1]*getReq
}

func newGetBatcher(rdb redis.UniversalClient, maxInFlight, maxBatch int, timeout time.Duration) *getBatcher {
	b := &getBatcher{rdb: rdb, maxBatch: maxBatch, maxInFlight: maxInFlight, timeout: timeout}
	b.pool.New = func() any { return &getReq{done: make(chan bool, 1)} }
	return b
}

// get returns the value of key, or redis.Nil.
func (b *getBatcher) get(ctx context.Context, key string) (string, error) {
	r := b.pool.Get().(*getReq)
	r.key, r.val, r.err, r.batch = key, "", nil, nil
	b.mu.Lock()
	if b.inFlight < b.maxInFlight {
		b.inFlight++
		b.mu.Unlock()
		r.self[0] = r
		b.lead(r.self[:])
		return b.finish(r)
	}
	b.queue = append(b.queue, r)
	b.mu.Unlock()
	select {
	case leads := <-r.done:
		if leads {
			b.lead(r.batch)
		}
		return b.finish(r)
	case <-ctx.Done():
		// The batch still answers into r.done (buffered) and r is not
		// reused. Had r been made leader, that leadership must not be
		// lost: a goroutine takes it over.
		go func() {
			if <-r.done {
				b.lead(r.batch)
			}
		}()
		return "", ctx.Err()
	}
}

func (b *getBatcher) finish(r *getReq) (string, error) {
	val, err := r.val, r.err
	r.batch, r.self[0] = nil, nil
	b.pool.Put(r)
	return val, err
}

// lead sends batch, answers its followers, and passes the lead to the
// GETs that queued meanwhile.
func (b *getBatcher) lead(batch []*getReq) {
	b.exec(batch)
	for _, f := range batch[1:] {
		f.done <- false
	}
	b.mu.Lock()
	next := b.queue
	if len(next) == 0 {
		b.inFlight--
		b.mu.Unlock()
		return
	}
	if len(next) > b.maxBatch {
		b.queue = next[b.maxBatch:]
		next = next[:b.maxBatch:b.maxBatch]
	} else {
		b.queue = nil
	}
	b.mu.Unlock()
	head := next[0]
	head.batch = next
	head.done <- true
}

func (b *getBatcher) exec(batch []*getReq) {
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	if len(batch) == 1 {
		r := batch[0]
		r.val, r.err = b.rdb.Get(ctx, r.key).Result()
		return
	}
	pipe := b.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(batch))
	for i, r := range batch {
		cmds[i] = pipe.Get(ctx, r.key)
	}
	_, err := pipe.Exec(ctx)
	// A failed connection fails the pipeline without marking its
	// commands; then every GET of the batch gets the pipeline's error.
	unmarked := err != nil && !errors.Is(err, redis.Nil)
	if unmarked {
		for _, c := range cmds {
			if c.Err() != nil {
				unmarked = false
				break
			}
		}
	}
	for i, r := range batch {
		if unmarked {
			r.err = fmt.Errorf("pipeline: %w", err)
		} else {
			r.val, r.err = cmds[i].Result()
		}
	}
}
