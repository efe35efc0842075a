package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/localrun"
	"github.com/sluicehq/sluice/workloads/dev/rtprobe"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
	"github.com/sluicehq/sluice/workloads/internal/rediscache"
)

func init() { benchmarks["api"] = benchAPI }

// benchAPI measures cache-hit GET /v1/events/{id}: the api binary's
// maximum rate, with its in-process event cache and without it, against
// two bare net/http handlers: one returning the same bytes from memory, and
// the honest ceiling, one doing the api's Redis read (the same go-redis GET
// of event:{id}) and writing what Redis returns (each in its own process, driven by the same
// load generator in the same run); then each one's latency at half its
// maximum rate, and the api processes' peak RSS.
func benchAPI(args []string) error {
	b, err := parseAPI(args)
	if err != nil {
		return err
	}
	switch {
	case b.serve:
		return serveBaseline(os.Getenv("HTTP_ADDR"), b.docsFile)
	case b.serveCeiling:
		return serveCeiling(os.Getenv("HTTP_ADDR"), b.redisAddr, b.redisDB)
	}
	ctx := context.Background()
	defer b.teardown()
	if err := b.setup(ctx); err != nil {
		return err
	}
	if err := b.startServers(ctx); err != nil {
		return err
	}
	if err := b.warmUp(ctx); err != nil {
		return err
	}
	if err := b.measureMax(ctx); err != nil {
		return err
	}
	if err := b.measurePaced(ctx); err != nil {
		return err
	}
	if err := b.fill(ctx); err != nil {
		return err
	}
	return b.report()
}

// apiBench is one run of the api benchmark, filled in phase by phase.
type apiBench struct {
	// flags
	d                time.Duration
	rounds           int
	connList         string
	levels           []int
	pacedConns, nIDs int
	nFill            int
	bin              string
	serve            bool
	docsFile         string
	serveCeiling     bool
	redisAddr        string
	redisDB          int

	// setup
	lc       *local
	ids      []string
	docsPath string
	key      string // the api key the load generator sends

	launch *localrun.Launcher
	// The servers, in the order each round drives them: the bare
	// handler, the Redis ceiling, the api without its in-process cache,
	// the api.
	base, ceiling, noLocal, api *server
}

// server is one process under test and what was measured of it.
type server struct {
	name string // in the progress lines
	proc *localrun.Proc
	req  requestFor
	best apiBest
	// paced is the run at half of best's rate.
	paced loadResult
	// pacedWait and genWait are how long the server's threads and the
	// load generator's waited for a CPU during paced, per second of it:
	// on a busy machine, where a latency tail comes from.
	pacedWait, genWait time.Duration
	// rssMiB is the process's peak RSS (VmHWM) after the measured
	// phases; filledMiB after the fill too (the apis only).
	rssMiB, filledMiB float64
}

func (b *apiBench) servers() []*server { return []*server{b.base, b.ceiling, b.noLocal, b.api} }

// apiBest is one server's best full-speed run so far.
type apiBest struct {
	res   loadResult
	cpu   float64
	conns int
}

func parseAPI(args []string) (*apiBench, error) {
	b := &apiBench{}
	fs := flag.NewFlagSet("bench api", flag.ContinueOnError)
	fs.StringVar(&b.bin, "bin", ".sluice/bin", "folder holding the api binary")
	fs.DurationVar(&b.d, "duration", 6*time.Second, "length of each measured phase")
	fs.IntVar(&b.rounds, "rounds", 2, "full-speed rounds per server; the best counts")
	fs.StringVar(&b.connList, "connections", "64,128,256", "keep-alive connections of the load generator at full speed, one or more levels (comma-separated): each server's maximum rate is its best over them")
	fs.IntVar(&b.pacedConns, "paced-connections", 32, "keep-alive connections of the load generator at half rate")
	fs.IntVar(&b.nIDs, "ids", 100, "distinct cached events requested in turn")
	fs.IntVar(&b.nFill, "fill", 100_000, "after the measured phases, events put in Redis only and requested once from each api, for the peak RSS with a full local cache (0: none)")
	fs.BoolVar(&b.serve, "serve-baseline", false, "internal: serve the baseline on HTTP_ADDR with the documents in -docs")
	fs.StringVar(&b.docsFile, "docs", "", "internal: the baseline's documents (JSON object id → document)")
	fs.BoolVar(&b.serveCeiling, "serve-ceiling", false, "internal: serve the Redis ceiling on HTTP_ADDR, reading -redis-addr, database -redis-db")
	fs.StringVar(&b.redisAddr, "redis-addr", "", "internal: the Redis of the ceiling")
	fs.IntVar(&b.redisDB, "redis-db", 0, "internal: the Redis database of the ceiling")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if b.serve || b.serveCeiling {
		return b, nil
	}
	var err error
	if b.levels, err = parseLevels(b.connList); err != nil {
		return nil, fmt.Errorf("-connections: %w", err)
	}
	return b, nil
}

// setup brings the engines up, puts the events in Cassandra and Redis as
// the change feed leaves them, writes the baseline's copy of their
// documents and makes the api key.
func (b *apiBench) setup(ctx context.Context) error {
	var err error
	if b.lc, err = startLocal(ctx, devservices.Cassandra, devservices.Redis); err != nil {
		return err
	}
	ids, docs, err := seedCached(ctx, b.lc, b.lc.Endpoints.RedisAddr, b.nIDs)
	if err != nil {
		return err
	}
	b.ids = ids
	b.docsPath = filepath.Join(b.lc.logs, "bench-api-docs.json")
	raw, err := json.Marshal(docs)
	if err != nil {
		return err
	}
	if err := os.WriteFile(b.docsPath, raw, 0o644); err != nil {
		return fmt.Errorf("write baseline documents: %w", err)
	}
	keyBytes := make([]byte, 24)
	if _, err := rand.Read(keyBytes); err != nil {
		return err
	}
	b.key = hex.EncodeToString(keyBytes)
	return nil
}

// startServers starts the two api processes and the two bare handlers
// (this binary with -serve-baseline and -serve-ceiling) and prepares the
// requests each gets.
func (b *apiBench) startServers(ctx context.Context) error {
	sum := sha256.Sum256([]byte(b.key))
	b.launch = b.lc.launcher(b.bin, "bench-")
	b.launch.ReadyTimeout, b.launch.StopTimeout = time.Minute, 10*time.Second
	self, err := os.Executable()
	if err != nil {
		return err
	}
	start := func(name string, spec localrun.Spec, withKey bool) (*server, error) {
		spec.Name = name
		p, err := b.launch.Start(ctx, spec)
		if err != nil {
			return nil, err
		}
		return &server{name: name, proc: p, req: b.requests(withKey)}, nil
	}
	// The per-key rate limit stays on, so its cost is measured, but far
	// above what one machine can send.
	apiEnv := []string{"API_KEYS_SHA256=" + hex.EncodeToString(sum[:]), "LOG_LEVEL=warn", "API_RATE_LIMIT=1000000", "API_RATE_BURST=1000000"}
	if b.api, err = start("api", localrun.Spec{Env: apiEnv}, true); err != nil {
		return err
	}
	// The same api with its in-process cache off: every hit is a Redis
	// round trip.
	off := append(slices.Clone(apiEnv), deploy.EnvAPIEventCacheEntries+"=0")
	if b.noLocal, err = start("api-nolocal", localrun.Spec{Binary: filepath.Join(b.bin, "api"), Env: off}, true); err != nil {
		return err
	}
	if b.base, err = start("api-baseline", localrun.Spec{Binary: self, Args: []string{"api", "-serve-baseline", "-docs", b.docsPath}}, false); err != nil {
		return err
	}
	b.ceiling, err = start("api-ceiling", localrun.Spec{Binary: self, Args: []string{"api", "-serve-ceiling",
		"-redis-addr", b.lc.Endpoints.RedisAddr, "-redis-db", strconv.Itoa(b.lc.Endpoints.RedisDB)}}, false)
	return err
}

// requests are the prepared GETs of the cached events, in turn.
func (b *apiBench) requests(withKey bool) requestFor {
	reqs := make([][]byte, len(b.ids))
	for i, id := range b.ids {
		h := "GET /v1/events/" + id + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		if withKey {
			h += "X-API-Key: " + b.key + "\r\n"
		}
		reqs[i] = []byte(h + "\r\n")
	}
	return func(i int64) []byte { return reqs[i%int64(len(reqs))] }
}

// warmUp drives every server at the top level for 2 s.
func (b *apiBench) warmUp(ctx context.Context) error {
	top := b.levels[len(b.levels)-1]
	fmt.Printf("warming up: %d connections, %d cached events\n", top, len(b.ids))
	for _, s := range b.servers() {
		if _, err := closedLoop(ctx, s.proc.Addr, top, 2*time.Second, s.req); err != nil {
			return err
		}
	}
	return nil
}

// measureMax finds each server's maximum rate. It depends on how many
// requests are in flight: a server waiting on Redis for each needs more of
// them to fill the machine than the bare handler does. So each server is
// driven at every level and keeps its best. Rounds take the servers in
// turn at each level, so a burst of unrelated work on the machine does not
// decide the ratios.
func (b *apiBench) measureMax(ctx context.Context) error {
	for round := 1; round <= b.rounds; round++ {
		for _, conns := range b.levels {
			fmt.Printf("round %d/%d, %d connections: bare handler, redis ceiling, api without its local cache, api; %s each at full speed\n", round, b.rounds, conns, b.d)
			for _, s := range b.servers() {
				res, err := b.fullSpeed(ctx, s, conns)
				if err != nil {
					return err
				}
				if res.errors+res.non200 > 0 {
					return fmt.Errorf("round %d, %d connections, %s: %d connection errors, %d non-200 answers (logs in %s)", round, conns, s.name, res.errors, res.non200, b.lc.logs)
				}
			}
		}
	}
	return nil
}

// fullSpeed drives s with conns connections for -duration and keeps the
// run when it is s's best so far.
func (b *apiBench) fullSpeed(ctx context.Context, s *server, conns int) (loadResult, error) {
	var res loadResult
	cpu, err := cpuDuring(s.proc, func() error {
		var err error
		res, err = closedLoop(ctx, s.proc.Addr, conns, b.d, s.req)
		return err
	})
	if err == nil && (s.best.res.requests == 0 || res.rps() > s.best.res.rps()) {
		s.best = apiBest{res, cpu, conns}
	}
	return res, err
}

// measurePaced runs each server at half its own maximum rate, latency
// measured from the intended send time; the bare handlers' tails show how
// much of the api's belongs to the machine rather than to the api. Then it
// reads each process's peak RSS.
func (b *apiBench) measurePaced(ctx context.Context) error {
	for _, s := range b.servers() {
		half := s.best.res.rps() / 2
		fmt.Printf("%s: %.0f requests/s (half its maximum) for %s, latency from the intended send time\n", s.name, half, 2*b.d)
		srv0, srvErr := runDelay(s.proc.Pid())
		gen0, genErr := runDelay(os.Getpid())
		var err error
		if s.paced, err = openLoop(ctx, s.proc.Addr, b.pacedConns, half, 2*b.d, s.req); err != nil {
			return err
		}
		srv1, srvErr1 := runDelay(s.proc.Pid())
		gen1, genErr1 := runDelay(os.Getpid())
		if err := errors.Join(srvErr, genErr, srvErr1, genErr1); err != nil {
			return err
		}
		per := s.paced.seconds
		s.pacedWait, s.genWait = time.Duration(float64(srv1-srv0)/per), time.Duration(float64(gen1-gen0)/per)
	}
	for _, s := range b.servers() {
		var err error
		if s.rssMiB, err = s.proc.PeakRSSMiB(); err != nil {
			return err
		}
	}
	return nil
}

// fill puts -fill more events in Redis (documents only, as the change
// feed writes them) and requests each once from both apis, so the api's
// local cache fills up to its bounds; then it reads both apis' peak RSS and
// the local cache's size. The keys are deleted afterwards.
func (b *apiBench) fill(ctx context.Context) error {
	if b.nFill <= 0 {
		return nil
	}
	fmt.Printf("fill: %d more events in Redis, each requested once from both apis\n", b.nFill)
	rdb := redis.NewClient(&redis.Options{Addr: b.lc.Endpoints.RedisAddr, DB: b.lc.Endpoints.RedisDB, DisableIdentity: true})
	defer rdb.Close()
	ids := make([]string, b.nFill)
	now := time.Now().UTC().Truncate(time.Millisecond)
	pipe := rdb.Pipeline()
	for i := range ids {
		ev := contract.Event{V: 1, ID: uuid.Must(uuid.NewV7()).String(), Site: "bench-fill", Device: fmt.Sprintf("bench-dev-%03d", i%50),
			Kind: "co2", Value: 400 + float64(i%1000), Unit: "ppm", Severity: contract.SeverityCritical, At: now, Attrs: map[string]string{"model": "co2-m1", "fw": "1.2"}}
		doc, err := rediscache.Encode(contract.Stored{Event: ev, IngestedAt: now})
		if err != nil {
			return err
		}
		ids[i] = ev.ID
		pipe.Set(ctx, rediscache.EventKey(ev.ID), doc, time.Hour)
		if pipe.Len() == 1000 || i == len(ids)-1 {
			if _, err := pipe.Exec(ctx); err != nil {
				return fmt.Errorf("put fill events: %w", err)
			}
		}
	}
	defer func() {
		for i := 0; i < len(ids); i += 1000 {
			keys := make([]string, 0, 1000)
			for _, id := range ids[i:min(i+1000, len(ids))] {
				keys = append(keys, rediscache.EventKey(id))
			}
			rdb.Del(context.Background(), keys...)
		}
	}()
	for _, s := range []*server{b.noLocal, b.api} {
		reqs := make([][]byte, len(ids))
		for i, id := range ids {
			reqs[i] = []byte("GET /v1/events/" + id + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: " + b.key + "\r\n\r\n")
		}
		res, err := eachOnce(ctx, s.proc.Addr, b.pacedConns, reqs)
		if err != nil {
			return err
		}
		if res.errors+res.non200 > 0 {
			return fmt.Errorf("fill, %s: %d connection errors, %d non-200 answers (logs in %s)", s.name, res.errors, res.non200, b.lc.logs)
		}
		if s.filledMiB, err = s.proc.PeakRSSMiB(); err != nil {
			return err
		}
	}
	return nil
}

// Targets of the api benchmark.
const (
	targetCeilingRatio = 0.90 // api / redis ceiling
	targetBareRatio    = 0.75 // api / bare handler
	targetP99          = 3 * time.Millisecond
)

// report checks that every answer was a good one and nearly all of the
// apis' were cache hits, then prints the verdict and the result.
func (b *apiBench) report() error {
	for _, s := range b.servers() {
		for phase, r := range map[string]loadResult{"full speed": s.best.res, "half rate": s.paced} {
			if r.errors > 0 || r.non200 > 0 {
				return fmt.Errorf("%s at %s: %d connection errors, %d non-200 answers (logs in %s)", s.name, phase, r.errors, r.non200, b.lc.logs)
			}
		}
	}
	for _, s := range []*server{b.noLocal, b.api} {
		full, paced := s.best.res, s.paced
		if share := float64(full.hits+paced.hits) / float64(full.requests+paced.requests); share < 0.99 {
			mt, err := s.proc.Metrics()
			if err != nil {
				return err
			}
			return fmt.Errorf("%s: only %.1f%% of the answers were cache hits (redis errors %.0f, bypassed %.0f, misses %.0f): the machine is too busy for this benchmark",
				s.name, share*100, mt["sluice_api_cache_errors_total"], mt["sluice_api_cache_bypass_total"], mt["sluice_api_cache_misses_total"])
		}
	}
	full := b.api.best.res
	localShare := float64(full.local+b.api.paced.local) / float64(full.requests+b.api.paced.requests)
	ceilRatio, bareRatio := full.rps()/b.ceiling.best.res.rps(), full.rps()/b.base.best.res.rps()
	p99 := func(s *server) time.Duration { return rtprobe.Percentile(s.paced.latencies, 0.99) }
	p50 := func(s *server) time.Duration { return rtprobe.Percentile(s.paced.latencies, 0.50) }
	met := ceilRatio >= targetCeilingRatio && bareRatio >= targetBareRatio && p99(b.api) <= targetP99
	verdict := "meets"
	if !met {
		verdict = "MISSES"
	}
	fmt.Fprintf(os.Stderr, "targets api/ceiling ≥ %.2f, api/bare ≥ %.2f and p99 ≤ %s at half rate: %s\n", targetCeilingRatio, targetBareRatio, targetP99, verdict)
	rows := []row{
		{"cached events requested in turn", fmt.Sprint(len(b.ids))},
		{"load generator connections (levels)", b.connList},
		{"full-speed rounds per server and level", fmt.Sprint(b.rounds)},
	}
	for _, s := range []struct {
		srv   *server
		label string
	}{
		{b.base, "bare net/http, fixed bytes"},
		{b.ceiling, "redis ceiling: bare net/http + GET"},
		{b.noLocal, "api, local cache off (redis hit)"},
		{b.api, "api, local cache on"},
	} {
		r := s.srv.best.res
		rows = append(rows,
			row{s.label + " (req/s)", fmt.Sprintf("%.0f", r.rps())},
			row{"  at connections", fmt.Sprint(s.srv.best.conns)},
			row{"  server CPU µs per request", fmt.Sprintf("%.1f", s.srv.best.cpu/float64(r.requests)*1e6)},
			row{"  at half rate: p50 / p99 ms", fmt.Sprintf("%.2f / %.2f", ms(p50(s.srv)), ms(p99(s.srv)))},
			row{"  waiting for a CPU, server / load gen (ms/s)", fmt.Sprintf("%.0f / %.0f", ms(s.srv.pacedWait), ms(s.srv.genWait))},
			row{"  peak RSS MiB", fmt.Sprintf("%.1f", s.srv.rssMiB)},
		)
	}
	var local map[string]float64
	if b.nFill > 0 {
		var err error
		if local, err = b.api.proc.Metrics(); err != nil {
			return err
		}
		rows = append(rows,
			row{fmt.Sprintf("after %d more events once: peak RSS MiB", b.nFill), ""},
			row{"  api, local cache off", fmt.Sprintf("%.1f", b.noLocal.filledMiB)},
			row{"  api, local cache on", fmt.Sprintf("%.1f", b.api.filledMiB)},
			row{"  local cache: entries / MiB", fmt.Sprintf("%.0f / %.1f", local["sluice_api_local_cache_entries"], local["sluice_api_local_cache_bytes"]/(1<<20))},
		)
	}
	rows = append(rows,
		row{fmt.Sprintf("api / redis ceiling (target ≥ %.2f)", targetCeilingRatio), fmt.Sprintf("%.2f", ceilRatio)},
		row{fmt.Sprintf("api / bare handler (target ≥ %.2f)", targetBareRatio), fmt.Sprintf("%.2f", bareRatio)},
		row{"api, local cache off / redis ceiling", fmt.Sprintf("%.2f", b.noLocal.best.res.rps()/b.ceiling.best.res.rps())},
		row{fmt.Sprintf("api at half rate: p99 ms (target ≤ %.0f)", ms(targetP99)), fmt.Sprintf("%.2f", ms(p99(b.api)))},
		row{"api answers from the local cache", fmt.Sprintf("%.2f%%", localShare*100)},
	)
	return report("api", rows, [][2]any{
		{"rps", round(full.rps())}, {"baseline_rps", round(b.base.best.res.rps())}, {"ceiling_rps", round(b.ceiling.best.res.rps())},
		{"nolocal_rps", round(b.noLocal.best.res.rps())},
		{"ratio", round2(bareRatio)}, {"ceiling_ratio", round2(ceilRatio)},
		{"p99_ms", ms(p99(b.api))}, {"nolocal_p99_ms", ms(p99(b.noLocal))}, {"ceiling_p99_ms", ms(p99(b.ceiling))}, {"baseline_p99_ms", ms(p99(b.base))},
		{"cpu_wait_ms_per_s", ms(b.api.pacedWait)}, {"rss_mib", round2(b.api.rssMiB)}, {"nolocal_rss_mib", round2(b.noLocal.rssMiB)},
		{"filled_rss_mib", round2(b.api.filledMiB)}, {"filled_nolocal_rss_mib", round2(b.noLocal.filledMiB)}, {"local_cache_entries", local["sluice_api_local_cache_entries"]},
		{"targets_met", met},
	})
}

// teardown stops the servers, in reverse start order.
func (b *apiBench) teardown() {
	if b.launch != nil {
		_ = b.launch.StopAll()
	}
}

// runDelay is how long pid's threads have waited for a CPU, in the run
// queue, so far: the second field of /proc/<pid>/task/*/schedstat.
func runDelay(pid int) (time.Duration, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		return 0, fmt.Errorf("read run delay of %d: no tasks", pid)
	}
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread has exited
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			return 0, fmt.Errorf("read run delay: malformed %s", t)
		}
		ns, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read run delay: %w", err)
		}
		total += time.Duration(ns)
	}
	return total, nil
}

// cpuDuring returns the CPU seconds proc used while run ran.
func cpuDuring(proc *localrun.Proc, run func() error) (float64, error) {
	before, err := proc.CPUSeconds()
	if err != nil {
		return 0, err
	}
	if err := run(); err != nil {
		return 0, err
	}
	after, err := proc.CPUSeconds()
	if err != nil {
		return 0, err
	}
	return after - before, nil
}

// seedCached stores n critical events in Cassandra and Redis and returns
// their ids and documents.
func seedCached(ctx context.Context, lc *local, redisAddr string, n int) ([]string, map[string]string, error) {
	r := lc.reader()
	cc := cqlsession.FromEnv(r)
	if err := r.Err(); err != nil {
		return nil, nil, err
	}
	if err := eventstore.MigrateConfig(ctx, cc, 1); err != nil {
		return nil, nil, err
	}
	session, err := cc.Open()
	if err != nil {
		return nil, nil, err
	}
	defer session.Close()
	store := eventstore.New(session, cc.Keyspace)
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr, DB: lc.Endpoints.RedisDB, DisableIdentity: true})
	defer rdb.Close()
	cache := rediscache.New(rdb, rediscache.Options{EventTTL: 2 * time.Hour})
	now := time.Now().UTC().Truncate(time.Millisecond)
	var evs []contract.Stored
	ids := make([]string, n)
	docs := make(map[string]string, n)
	for i := range ids {
		ev := contract.Event{V: 1, ID: uuid.Must(uuid.NewV7()).String(), Site: "bench-site", Device: fmt.Sprintf("bench-dev-%03d", i%50),
			Kind: "co2", Value: 1500 + float64(i), Unit: "ppm", Severity: contract.SeverityCritical, At: now.Add(time.Duration(-i) * time.Second),
			Attrs: map[string]string{"model": "co2-m1", "fw": "1.2"}}
		if err := store.Upsert(ctx, ev, now); err != nil {
			return nil, nil, err
		}
		st := contract.Stored{Event: ev, IngestedAt: now}
		evs = append(evs, st)
		b, err := rediscache.Encode(st)
		if err != nil {
			return nil, nil, err
		}
		ids[i], docs[ev.ID] = ev.ID, string(b)
	}
	if err := cache.Write(ctx, evs); err != nil {
		return nil, nil, err
	}
	return ids, docs, nil
}

// serveBaseline is the bare handler: it returns the document of the id in
// the path, with no routing, authentication, cache or metrics.
func serveBaseline(addr, docsPath string) error {
	if addr == "" {
		return errors.New("HTTP_ADDR is required")
	}
	b, err := os.ReadFile(docsPath)
	if err != nil {
		return fmt.Errorf("read documents: %w", err)
	}
	var raw map[string]string
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("documents: %w", err)
	}
	docs := make(map[string][]byte, len(raw))
	for id, d := range raw {
		docs[id] = []byte(d)
	}
	ctype := []string{"application/json"}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, ok := docs[strings.TrimPrefix(r.URL.Path, "/v1/events/")]
		if !ok {
			if r.URL.Path == "/readyz" {
				return
			}
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header()["Content-Type"] = ctype
		_, _ = w.Write(doc)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	return srv.Serve(ln)
}

// serveCeiling is the honest ceiling of a cache hit: a bare handler that
// does the api's Redis read and writes the bytes, with no routing,
// authentication, validation or metrics. The read is the api's own,
// rediscache's Event: a go-redis GET of event:{id}, which concurrent reads
// share pipelines for; a plain GET per request on go-redis' pool would make
// a ceiling the api itself passes.
func serveCeiling(addr, redisAddr string, db int) error {
	if addr == "" || redisAddr == "" {
		return errors.New("HTTP_ADDR and -redis-addr are required")
	}
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr, DB: db, DisableIdentity: true})
	defer rdb.Close()
	cache := rediscache.New(rdb, rediscache.Options{})
	ctype := []string{"application/json"}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := strings.CutPrefix(r.URL.Path, "/v1/events/")
		if !ok {
			if r.URL.Path != "/readyz" {
				w.WriteHeader(http.StatusNotFound)
			}
			return
		}
		doc, err := cache.Event(r.Context(), id)
		switch {
		case errors.Is(err, rediscache.ErrMiss):
			w.WriteHeader(http.StatusNotFound)
		case err != nil:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.Header()["Content-Type"] = ctype
			_, _ = io.WriteString(w, doc)
		}
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	return srv.Serve(ln)
}

// parseLevels reads a comma-separated list of connection counts, returned
// in increasing order.
func parseLevels(list string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 4096 {
			return nil, fmt.Errorf("%q is not a connection count between 1 and 4096", f)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
