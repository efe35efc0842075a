package rediscache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/workloads/contract"
)

// ErrMiss is returned for a key Redis does not hold.
var ErrMiss = errors.New("cache miss")

// LiveSitesKey scores sites by their newest critical event.
const LiveSitesKey = "live:sites"

// EventKey is the key of an event document.
func EventKey(id string) string { return "event:{" + id + "}" }

// SiteCriticalKey is the sorted set of a site's critical event ids.
func SiteCriticalKey(site string) string { return "site:{" + site + "}:critical" }

// SiteFilledKey marks a site's sorted set as complete.
func SiteFilledKey(site string) string { return "site:{" + site + "}:critical:filled" }

// DeviceLatestKey is the hash with a device's newest reading.
func DeviceLatestKey(device string) string { return "device:{" + device + "}:latest" }

// Defaults of Options, the one place they are written: the binaries'
// configuration, New and the api's cache fills use them.
const (
	DefaultEventTTL     = 24 * time.Hour
	DefaultDeviceTTL    = 24 * time.Hour
	DefaultSiteTTL      = 7 * 24 * time.Hour
	DefaultSiteMax      = 100
	DefaultLiveSitesMax = 1000
)

// Options are the cache's sizes and lifetimes.
type Options struct {
	// EventTTL is the lifetime of event:{id} (DefaultEventTTL).
	EventTTL time.Duration
	// DeviceTTL is the lifetime of device:{d}:latest (DefaultDeviceTTL).
	DeviceTTL time.Duration
	// SiteTTL is the lifetime of a site's sorted set after its last
	// write (DefaultSiteTTL).
	SiteTTL time.Duration
	// SiteMax is N, the length site:{s}:critical is trimmed to (DefaultSiteMax).
	SiteMax int
	// LiveSitesMax bounds live:sites (DefaultLiveSitesMax).
	LiveSitesMax int
	// GetTimeout bounds each pipeline of coalesced Event reads and so
	// every Event call (default 1 s).
	GetTimeout time.Duration
}

func (o *Options) defaults() {
	if o.EventTTL <= 0 {
		o.EventTTL = DefaultEventTTL
	}
	if o.DeviceTTL <= 0 {
		o.DeviceTTL = DefaultDeviceTTL
	}
	if o.SiteTTL <= 0 {
		o.SiteTTL = DefaultSiteTTL
	}
	if o.SiteMax <= 0 {
		o.SiteMax = DefaultSiteMax
	}
	if o.LiveSitesMax <= 0 {
		o.LiveSitesMax = DefaultLiveSitesMax
	}
	if o.GetTimeout <= 0 {
		o.GetTimeout = time.Second
	}
}

// Cache reads and writes Sluice's keys.
type Cache struct {
	rdb  redis.UniversalClient
	opts Options
	gets *getBatcher
}

// New wraps a client.
func New(rdb redis.UniversalClient, opts Options) *Cache {
	opts.defaults()
	return &Cache{rdb: rdb, opts: opts, gets: newGetBatcher(rdb, 1, 128, opts.GetTimeout)}
}

// Jitter returns ttl plus a random share of up to frac of it, so keys
// filled together do not expire together.
func Jitter(ttl time.Duration, frac float64) time.Duration {
	if frac <= 0 || ttl <= 0 {
		return ttl
	}
	return ttl + time.Duration(rand.Float64()*frac*float64(ttl))
}

const docTime = "2006-01-02T15:04:05.000Z07:00"

// Encode is the document of an event: the same bytes for the same event,
// whichever path wrote it. The ingestion time is left out on purpose: a
// redelivered record is ingested again with a new one, and the document of
// an event must not depend on which of its deliveries came last.
func Encode(st contract.Stored) ([]byte, error) {
	ev := st.Event
	if ev.V == 0 {
		ev.V = contract.SchemaVersion
	}
	ev.At = ev.At.Truncate(time.Millisecond)
	b, err := ev.MarshalTime(docTime)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", st.ID, err)
	}
	return b, nil
}

// Decode reads a document back (used by tests and tools); IngestedAt stays
// zero.
func Decode(b []byte) (contract.Stored, error) {
	var ev contract.Event
	if err := json.Unmarshal(b, &ev); err != nil {
		return contract.Stored{}, fmt.Errorf("decode event document: %w", err)
	}
	ev.At = ev.At.UTC()
	return contract.Stored{Event: ev}, nil
}

// deviceScript replaces device:{d}:latest only with a newer reading
// (event time, then id) and sets its lifetime. KEYS[1] the hash; ARGV at in
// Unix ms, id, document, TTL in ms. It returns 1 when it wrote.
var deviceScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'at', 'id')
if cur[1] then
  local cat = tonumber(cur[1])
  local nat = tonumber(ARGV[1])
  if cat > nat or (cat == nat and cur[2] and cur[2] > ARGV[2]) then
    return 0
  end
end
redis.call('HSET', KEYS[1], 'at', ARGV[1], 'id', ARGV[2], 'doc', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`)

// Write stores a batch of changes: every event updates its device's
// latest reading (if newer); critical ones are also stored under their id,
// added to their site's sorted set (trimmed to SiteMax) and to live:sites.
// It is idempotent and touches one slot per command.
func (c *Cache) Write(ctx context.Context, events []contract.Stored) error {
	if len(events) == 0 {
		return nil
	}
	type doc struct {
		st  contract.Stored
		b   []byte
		atm int64
	}
	newest := map[string]doc{} // per device
	bySite := map[string][]doc{}
	var critical []doc
	for _, st := range events {
		b, err := Encode(st)
		if err != nil {
			return err
		}
		d := doc{st: st, b: b, atm: st.At.UnixMilli()}
		if cur, ok := newest[st.Device]; !ok || d.atm > cur.atm || (d.atm == cur.atm && st.ID > cur.st.ID) {
			newest[st.Device] = d
		}
		if st.Severity == contract.SeverityCritical {
			critical = append(critical, d)
			bySite[st.Site] = append(bySite[st.Site], d)
		}
	}
	pipe := c.rdb.Pipeline()
	devices := make([]string, 0, len(newest))
	for dev := range newest {
		devices = append(devices, dev)
	}
	sort.Strings(devices)
	scripts := make([]*redis.Cmd, len(devices))
	for i, dev := range devices {
		d := newest[dev]
		scripts[i] = deviceScript.EvalSha(ctx, pipe, []string{DeviceLatestKey(dev)}, d.atm, d.st.ID, d.b, c.opts.DeviceTTL.Milliseconds())
	}
	for _, d := range critical {
		pipe.Set(ctx, EventKey(d.st.ID), d.b, c.opts.EventTTL)
	}
	var live []redis.Z
	for site, ds := range bySite {
		zs := make([]redis.Z, len(ds))
		top := ds[0].atm
		for i, d := range ds {
			zs[i] = redis.Z{Score: float64(d.atm), Member: d.st.ID}
			top = max(top, d.atm)
		}
		key := SiteCriticalKey(site)
		pipe.ZAdd(ctx, key, zs...)
		pipe.ZRemRangeByRank(ctx, key, 0, int64(-c.opts.SiteMax-1))
		pipe.PExpire(ctx, key, c.opts.SiteTTL)
		live = append(live, redis.Z{Score: float64(top), Member: site})
	}
	if len(live) > 0 {
		pipe.ZAddArgs(ctx, LiveSitesKey, redis.ZAddArgs{GT: true, Members: live})
		pipe.ZRemRangeByRank(ctx, LiveSitesKey, 0, int64(-c.opts.LiveSitesMax-1))
	}
	cmds, err := pipe.Exec(ctx)
	if err == nil {
		return nil
	}
	// A server that lost its script cache (restart, failover) answers
	// NOSCRIPT: those calls are sent again with the script's source. Any
	// other failure fails the batch, which the change feed retries whole.
	// A failed connection fails the pipeline without marking its
	// commands, so only a pipeline whose failures are all NOSCRIPT
	// replies is retried.
	noScript := 0
	for _, cmd := range cmds {
		if e := cmd.Err(); e != nil {
			if !redis.HasErrorPrefix(e, "NOSCRIPT") {
				return fmt.Errorf("write %d changes to redis: %w", len(events), e)
			}
			noScript++
		}
	}
	if noScript == 0 {
		return fmt.Errorf("write %d changes to redis: %w", len(events), err)
	}
	retry := c.rdb.Pipeline()
	for i, cmd := range scripts {
		if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			d := newest[devices[i]]
			deviceScript.Eval(ctx, retry, []string{DeviceLatestKey(devices[i])}, d.atm, d.st.ID, d.b, c.opts.DeviceTTL.Milliseconds())
		}
	}
	if _, err := retry.Exec(ctx); err != nil {
		return fmt.Errorf("write %d changes to redis: %w", len(events), err)
	}
	return nil
}

// SetDeviceLatest fills device:{d}:latest from a store read, unless the
// cache holds a newer reading.
func (c *Cache) SetDeviceLatest(ctx context.Context, st contract.Stored, ttl time.Duration) error {
	b, err := Encode(st)
	if err != nil {
		return err
	}
	if err := deviceScript.Run(ctx, c.rdb, []string{DeviceLatestKey(st.Device)}, st.At.UnixMilli(), st.ID, b, ttl.Milliseconds()).Err(); err != nil {
		return fmt.Errorf("fill latest reading of %s: %w", st.Device, err)
	}
	return nil
}

// DeviceLatest returns the newest reading of a device, or ErrMiss.
func (c *Cache) DeviceLatest(ctx context.Context, device string) ([]byte, error) {
	b, err := c.rdb.HGet(ctx, DeviceLatestKey(device), "doc").Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrMiss
	}
	if err != nil {
		return nil, fmt.Errorf("read latest reading of %s: %w", device, err)
	}
	return b, nil
}

// Event returns an event document, or ErrMiss. Concurrent calls share
// pipelines (see getBatcher): this is the API's hottest read, so the
// document comes back as the string the reply was read into, uncopied.
func (c *Cache) Event(ctx context.Context, id string) (string, error) {
	doc, err := c.gets.get(ctx, EventKey(id))
	if errors.Is(err, redis.Nil) {
		return "", ErrMiss
	}
	if err != nil {
		return "", fmt.Errorf("read event %s: %w", id, err)
	}
	return doc, nil
}

// Events returns the documents of ids in order; a missing one is nil.
// The keys live in different slots, so they are read with one pipeline
// of GETs rather than MGET.
func (c *Cache) Events(ctx context.Context, ids []string) ([][]byte, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	pipe := c.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.Get(ctx, EventKey(id))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read %d events: %w", len(ids), err)
	}
	out := make([][]byte, len(ids))
	for i, cmd := range cmds {
		b, err := cmd.Bytes()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read event %s: %w", ids[i], err)
		}
		out[i] = b
	}
	return out, nil
}

// SetEvent stores an event document for ttl.
func (c *Cache) SetEvent(ctx context.Context, id string, doc []byte, ttl time.Duration) error {
	if err := c.rdb.Set(ctx, EventKey(id), doc, ttl).Err(); err != nil {
		return fmt.Errorf("fill event %s: %w", id, err)
	}
	return nil
}

// SiteCritical returns the ids of a site's newest critical events, newest
// first, at most limit, and whether the set is marked complete.
func (c *Cache) SiteCritical(ctx context.Context, site string, limit int) ([]string, bool, error) {
	pipe := c.rdb.Pipeline()
	filled := pipe.Exists(ctx, SiteFilledKey(site))
	ids := pipe.ZRevRange(ctx, SiteCriticalKey(site), 0, int64(limit-1))
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, false, fmt.Errorf("read critical events of %s: %w", site, err)
	}
	return ids.Val(), filled.Val() == 1, nil
}

// FillSite adds a site's critical events read from the store to its
// sorted set and documents, trims the set, and marks it complete for ttl.
func (c *Cache) FillSite(ctx context.Context, site string, events []contract.Stored, ttl time.Duration) error {
	pipe := c.rdb.Pipeline()
	key := SiteCriticalKey(site)
	if len(events) > 0 {
		zs := make([]redis.Z, len(events))
		for i, st := range events {
			b, err := Encode(st)
			if err != nil {
				return err
			}
			zs[i] = redis.Z{Score: float64(st.At.UnixMilli()), Member: st.ID}
			pipe.Set(ctx, EventKey(st.ID), b, Jitter(c.opts.EventTTL, 0.1))
		}
		pipe.ZAdd(ctx, key, zs...)
		pipe.ZRemRangeByRank(ctx, key, 0, int64(-c.opts.SiteMax-1))
		pipe.PExpire(ctx, key, c.opts.SiteTTL)
	}
	pipe.Set(ctx, SiteFilledKey(site), "1", ttl)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("fill critical events of %s: %w", site, err)
	}
	return nil
}

// LiveSites returns up to n sites with the most recent critical events.
func (c *Cache) LiveSites(ctx context.Context, n int) ([]string, error) {
	sites, err := c.rdb.ZRevRange(ctx, LiveSitesKey, 0, int64(n-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("read live sites: %w", err)
	}
	return sites, nil
}

// SitesCritical returns the newest critical ids of several sites, at most
// limit each, in one pipeline.
func (c *Cache) SitesCritical(ctx context.Context, sites []string, limit int) ([][]string, error) {
	pipe := c.rdb.Pipeline()
	cmds := make([]*redis.StringSliceCmd, len(sites))
	for i, s := range sites {
		cmds[i] = pipe.ZRevRange(ctx, SiteCriticalKey(s), 0, int64(limit-1))
	}
	if len(sites) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("read critical events of %d sites: %w", len(sites), err)
		}
	}
	out := make([][]string, len(sites))
	for i, cmd := range cmds {
		out[i] = cmd.Val()
	}
	return out, nil
}

// Ping checks the connection.
func (c *Cache) Ping(ctx context.Context) error {
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return nil
}
