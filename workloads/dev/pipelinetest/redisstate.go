package pipelinetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/gocql/gocql"
	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
	"github.com/sluicehq/sluice/workloads/internal/rediscache"
)

// SortedCritical returns the newest n critical events of evs by time, then
// id, as a site's sorted set must hold them.
func SortedCritical(evs map[string]contract.Event, n int) []contract.Event {
	var out []contract.Event
	for _, e := range evs {
		if e.Severity == contract.SeverityCritical {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].At.UnixMilli(), out[j].At.UnixMilli()
		if a != b {
			return a > b
		}
		return out[i].ID > out[j].ID
	})
	return out[:min(n, len(out))]
}

// RedisState says whether Redis holds what the change feed must have
// written for evs, all of one site: every critical event's document as
// Cassandra stores it, the site's sorted set of its newest critical
// events (rediscache.DefaultSiteMax of them), and each device's latest
// event. It
// returns the first difference; tests poll it until it is nil.
func RedisState(ctx context.Context, rdb *redis.Client, s *gocql.Session, site string, evs map[string]contract.Event) error {
	store := eventstore.New(s, contract.Keyspace)
	stored := func(id string) ([]byte, error) {
		st, err := store.Get(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("read %s from cassandra: %w", id, err)
		}
		return rediscache.Encode(st)
	}
	newest := map[string]contract.Event{}
	for _, e := range evs {
		if cur, ok := newest[e.Device]; !ok || e.At.After(cur.At) {
			newest[e.Device] = e
		}
	}
	for _, e := range evs {
		if e.Severity != contract.SeverityCritical {
			continue
		}
		got, err := rdb.Get(ctx, rediscache.EventKey(e.ID)).Bytes()
		if errors.Is(err, redis.Nil) {
			return fmt.Errorf("critical event %s not in redis", e.ID)
		}
		if err != nil {
			return err
		}
		want, err := stored(e.ID)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("event %s in redis differs from cassandra:\n got %s\nwant %s", e.ID, got, want)
		}
	}
	top := SortedCritical(evs, rediscache.DefaultSiteMax)
	zs, err := rdb.ZRevRangeWithScores(ctx, rediscache.SiteCriticalKey(site), 0, -1).Result()
	if err != nil {
		return err
	}
	if len(zs) != len(top) {
		return fmt.Errorf("site set holds %d events, want %d", len(zs), len(top))
	}
	for i, z := range zs {
		if z.Member != top[i].ID || int64(z.Score) != top[i].At.UnixMilli() {
			return fmt.Errorf("site set position %d is %v@%v, want %s@%d", i, z.Member, z.Score, top[i].ID, top[i].At.UnixMilli())
		}
	}
	for d, e := range newest {
		h, err := rdb.HGetAll(ctx, rediscache.DeviceLatestKey(d)).Result()
		if err != nil {
			return err
		}
		if h["id"] != e.ID {
			return fmt.Errorf("device %s latest is %q, want %s", d, h["id"], e.ID)
		}
		want, err := stored(e.ID)
		if err != nil {
			return err
		}
		if h["doc"] != string(want) {
			return fmt.Errorf("device %s latest document differs from cassandra", d)
		}
	}
	return nil
}
