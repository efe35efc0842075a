package devservices

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// PostgreSQL and Redis are native programs, fast from their first request:
// their warm-up only checks that, with a fixed number of round trips of the
// workloads' kind (a write and a read each), and reports the p99 of the
// first and of the last window side by side. It always counts as settled.
const (
	simpleWarmOps    = 2000
	simpleWarmWindow = 500
	redisWarmP99     = 5 * time.Millisecond
	postgresWarmP99  = 10 * time.Millisecond
)

// WarmupRedisKey is the scratch key of Redis's warm-up, deleted when it ends.
const WarmupRedisKey = "devservices:warmup"

func (r *redisService) warmUp(ctx context.Context, _ func(string, ...any)) (Warmup, error) {
	c := redis.NewClient(&redis.Options{Addr: hostPort(RedisPort), DB: DemoRedisDB, MaxRetries: -1, DisableIdentity: true})
	defer c.Close()
	defer c.Del(context.WithoutCancel(ctx), WarmupRedisKey)
	payload := make([]byte, 300)
	return roundTrips(ctx, "set+get", redisWarmP99, func(int) error {
		if err := c.Set(ctx, WarmupRedisKey, payload, time.Minute).Err(); err != nil {
			return err
		}
		return c.Get(ctx, WarmupRedisKey).Err()
	})
}

func (p *postgresService) warmUp(ctx context.Context, _ func(string, ...any)) (Warmup, error) {
	conn, err := pgx.Connect(ctx, p.socketDSN())
	if err != nil {
		return Warmup{}, fmt.Errorf("connect over %s: %w", p.socketPath(), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// A temporary table lives only in this session: nothing is left behind.
	if _, err := conn.Exec(ctx, "CREATE TEMP TABLE devservices_warmup (id int PRIMARY KEY, payload text)"); err != nil {
		return Warmup{}, fmt.Errorf("create temp table: %w", err)
	}
	return roundTrips(ctx, "upsert+select", postgresWarmP99, func(i int) error {
		id := i % 100
		if _, err := conn.Exec(ctx, "INSERT INTO devservices_warmup (id, payload) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET payload = EXCLUDED.payload", id, "warm"); err != nil {
			return err
		}
		var got string
		return conn.QueryRow(ctx, "SELECT payload FROM devservices_warmup WHERE id = $1", id).Scan(&got)
	})
}

// roundTrips runs simpleWarmOps round trips (op(i)) and reports the p99 of
// the first window beside the last's; it fails only when every one failed.
func roundTrips(ctx context.Context, name string, p99 time.Duration, op func(i int) error) (Warmup, error) {
	s := newSettler(simpleWarmWindow, simpleWarmOps, p99, warmPlateau)
	res := Warmup{}
	var first PathLatency
	for res.Ops < simpleWarmOps && ctx.Err() == nil {
		begin := time.Now()
		err := op(res.Ops)
		res.Ops++
		if err != nil {
			res.Errors++
			continue
		}
		s.add(time.Since(begin))
		if len(s.recent) == 1 && first.P99 == 0 {
			first = s.recent[0]
		}
	}
	first.Name = "first " + name
	res.Settled, res.Paths = true, []PathLatency{first, s.last(name)}
	if res.Ops > 0 && res.Errors == res.Ops {
		return res, fmt.Errorf("every one of %d round trips failed", res.Ops)
	}
	return res, nil
}
