package enrichtest

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gocql/gocql"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/internal/backoff"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
	"github.com/sluicehq/sluice/workloads/internal/simulate"
)

// mix is the severity mix of the generated windows.
var mix = simulate.Mix{Warning: 0.05, Critical: 0.02}

// Gen makes deterministic events spread uniformly over [From, From+Span).
type Gen struct {
	Seed uint64
	From time.Time
	Span time.Duration
	// UnknownDevices and UnknownSites are the shares of events from devices
	// or sites missing from the fleet's reference data.
	UnknownDevices float64
	UnknownSites   float64

	sites   []simulate.Site
	devices []simulate.Device
}

// NewGen returns a generator over the simulator's fleet of the given size.
func NewGen(seed uint64, from time.Time, span time.Duration, sites, devices int) *Gen {
	ss, ds := simulate.Fleet(sites, devices)
	return &Gen{Seed: seed, From: from.UTC(), Span: span, sites: ss, devices: ds}
}

// Event returns event i.
func (g *Gen) Event(i int) contract.Event {
	rng := rand.New(rand.NewPCG(g.Seed, uint64(i)))
	at := g.From.Add(time.Duration(rng.Int64N(int64(g.Span)))).Truncate(time.Millisecond)
	d := g.devices[rng.IntN(len(g.devices))]
	site, device := d.SiteID, d.ID
	if rng.Float64() < g.UnknownDevices {
		device = fmt.Sprintf("dev-x%04d", rng.IntN(100))
	}
	if rng.Float64() < g.UnknownSites {
		site = fmt.Sprintf("site-x%02d", rng.IntN(10))
	}
	sev, value := simulate.Reading(d.Kind, mix, rng)
	ev := contract.Event{V: contract.SchemaVersion, ID: uuidV7(at, rng), Site: site, Device: device,
		Kind: d.Kind.Name, Value: value, Unit: d.Kind.Unit, Severity: sev, At: at}
	ev.Attrs = simulate.Attrs(d, rng)
	return ev
}

// Known reports whether an event's device and site are in the fleet.
func (g *Gen) Known(ev contract.Event) (device, site bool) {
	for _, d := range g.devices {
		if d.ID == ev.Device {
			device = true
			break
		}
	}
	for _, s := range g.sites {
		if s.ID == ev.Site {
			site = true
			break
		}
	}
	return device, site
}

// uuidV7 makes a version 7 UUID with the event time as its timestamp, the
// way producers stamp events, from the generator's random stream.
func uuidV7(at time.Time, rng *rand.Rand) string {
	var b [16]byte
	ms := uint64(at.UnixMilli())
	b[0], b[1], b[2], b[3], b[4], b[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	binary.BigEndian.PutUint64(b[8:], rng.Uint64())
	r := rng.Uint32()
	b[6], b[7] = byte(r>>8), byte(r)
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Write stores events 0..n-1 in events_by_hour with bare concurrent
// upserts, retrying transient failures. progress, if set, is told how many
// are written.
func Write(ctx context.Context, session *gocql.Session, keyspace string, g *Gen, n, concurrency int, progress func(done int64)) error {
	store := eventstore.New(session, keyspace)
	policy := backoff.Policy{Base: 50 * time.Millisecond, Max: 2 * time.Second, MaxAttempts: 20}
	var next, done atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				ev := g.Event(i)
				st, err := store.HourStatement(ev, ev.At.Add(50*time.Millisecond))
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("event %d: %w", i, err); cancel() })
					return
				}
				err = policy.Do(ctx, func(ctx context.Context) error {
					return session.Query(st.CQL, st.Args...).WithContext(ctx).Idempotent(true).Exec()
				}, cqlsession.Classify, nil)
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("write event %d: %w", i, err); cancel() })
					return
				}
				if d := done.Add(1); progress != nil && d%1000 == 0 {
					progress(d)
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if progress != nil {
		progress(done.Load())
	}
	return ctx.Err()
}

// Delete removes the events_by_hour partitions of [from, to).
func Delete(ctx context.Context, session *gocql.Session, keyspace string, from, to time.Time) error {
	return eventstore.DeleteHours(ctx, session, keyspace, from, to)
}
