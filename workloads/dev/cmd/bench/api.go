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
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/localrun"
	"github.com/sluicehq/sluice/workloads/dev/rtprobe"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
	"github.com/sluicehq/sluice/workloads/internal/rediscache"
)

func init() { benchmarks["api"] = benchAPI }

// benchAPI measures cache-hit GET /v1/events/{id}: the api binary's
// maximum rate against a bare net/http handler returning the same bytes
// (each in its own process, driven by the same load generator in the same
// run), then the api's latency at half its maximum rate.
func benchAPI(args []string) error {
	b, err := parseAPI(args)
	if err != nil {
		return err
	}
	if b.serve {
		return serveBaseline(os.Getenv("HTTP_ADDR"), b.docsFile)
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
	bin              string
	serve            bool
	docsFile         string

	// setup
	lc       *local
	ids      []string
	docsPath string
	key      string // the api key the load generator sends

	launch          *localrun.Launcher
	api, base       *localrun.Proc
	apiReq, baseReq requestFor

	// the measured phases
	apiBest, baseBest apiBest
	paced, basePaced  loadResult
}

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
	fs.BoolVar(&b.serve, "serve-baseline", false, "internal: serve the baseline on HTTP_ADDR with the documents in -docs")
	fs.StringVar(&b.docsFile, "docs", "", "internal: the baseline's documents (JSON object id → document)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if b.serve {
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

// startServers starts the api and the baseline (this binary with
// -serve-baseline) and prepares the requests each gets.
func (b *apiBench) startServers(ctx context.Context) error {
	sum := sha256.Sum256([]byte(b.key))
	b.launch = b.lc.launcher(b.bin, "bench-")
	b.launch.ReadyTimeout, b.launch.StopTimeout = time.Minute, 10*time.Second
	var err error
	// The per-key rate limit stays on, so its cost is measured, but far
	// above what one machine can send.
	b.api, err = b.launch.Start(ctx, localrun.Spec{Name: "api", Env: []string{"API_KEYS_SHA256=" + hex.EncodeToString(sum[:]), "LOG_LEVEL=warn",
		"API_RATE_LIMIT=1000000", "API_RATE_BURST=1000000"}})
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	b.base, err = b.launch.Start(ctx, localrun.Spec{Name: "api-baseline", Binary: self, Args: []string{"api", "-serve-baseline", "-docs", b.docsPath}})
	if err != nil {
		return err
	}
	b.apiReq, b.baseReq = b.requests(true), b.requests(false)
	return nil
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

// warmUp drives both servers at the top level for 2 s each.
func (b *apiBench) warmUp(ctx context.Context) error {
	top := b.levels[len(b.levels)-1]
	fmt.Printf("warming up: %d connections, %d cached events\n", top, len(b.ids))
	for _, p := range []struct {
		addr string
		req  requestFor
	}{{b.api.Addr, b.apiReq}, {b.base.Addr, b.baseReq}} {
		if _, err := closedLoop(ctx, p.addr, top, 2*time.Second, p.req); err != nil {
			return err
		}
	}
	return nil
}

// measureMax finds each server's maximum rate. It depends on how many
// requests are in flight: the api, waiting on Redis for each, needs more of
// them to fill the machine than the bare handler does. So each server is
// driven at every level and keeps its best. Rounds alternate the two
// servers at each level, so a burst of unrelated work on the machine does
// not decide the ratio.
func (b *apiBench) measureMax(ctx context.Context) error {
	for round := 1; round <= b.rounds; round++ {
		for _, conns := range b.levels {
			fmt.Printf("round %d/%d, %d connections: baseline (bare net/http handler), then api, %s each at full speed\n", round, b.rounds, conns, b.d)
			base, err := b.fullSpeed(ctx, b.base, b.baseReq, conns, &b.baseBest)
			if err != nil {
				return err
			}
			a, err := b.fullSpeed(ctx, b.api, b.apiReq, conns, &b.apiBest)
			if err != nil {
				return err
			}
			if base.errors+base.non200+a.errors+a.non200 > 0 {
				return fmt.Errorf("round %d, %d connections: %d connection errors, %d non-200 answers (logs in %s)", round, conns, base.errors+a.errors, base.non200+a.non200, b.lc.logs)
			}
		}
	}
	return nil
}

// fullSpeed drives proc with conns connections for -duration and keeps the
// run in into when it is the best so far.
func (b *apiBench) fullSpeed(ctx context.Context, proc *localrun.Proc, req requestFor, conns int, into *apiBest) (loadResult, error) {
	var res loadResult
	cpu, err := cpuDuring(proc, func() error {
		var err error
		res, err = closedLoop(ctx, proc.Addr, conns, b.d, req)
		return err
	})
	if err == nil && (into.res.requests == 0 || res.rps() > into.res.rps()) {
		*into = apiBest{res, cpu, conns}
	}
	return res, err
}

// measurePaced runs the api at half its maximum rate, latency measured
// from the intended send time, then the same paced load on the bare
// handler, which shows how much of the tail belongs to the machine rather
// than to the api.
func (b *apiBench) measurePaced(ctx context.Context) error {
	half := b.apiBest.res.rps() / 2
	fmt.Printf("api: %.0f requests/s (half its maximum) for %s, latency from the intended send time\n", half, 2*b.d)
	var err error
	if b.paced, err = openLoop(ctx, b.api.Addr, b.pacedConns, half, 2*b.d, b.apiReq); err != nil {
		return err
	}
	fmt.Printf("baseline: the same %.0f requests/s for %s\n", half, 2*b.d)
	b.basePaced, err = openLoop(ctx, b.base.Addr, b.pacedConns, half, 2*b.d, b.baseReq)
	return err
}

// report checks that every answer was a good one and nearly all were
// cache hits, then prints the verdict and the result.
func (b *apiBench) report() error {
	baseline, full, paced, basePaced := b.baseBest.res, b.apiBest.res, b.paced, b.basePaced
	for name, r := range map[string]loadResult{"baseline": baseline, "api": full, "api at half rate": paced, "baseline at half rate": basePaced} {
		if r.errors > 0 || r.non200 > 0 {
			return fmt.Errorf("%s: %d connection errors, %d non-200 answers (logs in %s)", name, r.errors, r.non200, b.lc.logs)
		}
	}
	hitShare := float64(full.hits+paced.hits) / float64(full.requests+paced.requests)
	if hitShare < 0.99 {
		mt, err := b.api.Metrics()
		if err != nil {
			return err
		}
		return fmt.Errorf("only %.1f%% of the api's answers were cache hits (redis errors %.0f, bypassed %.0f, misses %.0f): the machine is too busy for this benchmark",
			hitShare*100, mt["sluice_api_cache_errors_total"], mt["sluice_api_cache_bypass_total"], mt["sluice_api_cache_misses_total"])
	}
	ratio := full.rps() / baseline.rps()
	p50, p99 := rtprobe.Percentile(paced.latencies, 0.50), rtprobe.Percentile(paced.latencies, 0.99)
	verdict := "meets"
	if ratio < 0.60 || p99 > 5*time.Millisecond {
		verdict = "MISSES"
	}
	fmt.Fprintf(os.Stderr, "target ratio ≥ 0.60 and p99 ≤ 5 ms at half rate: %s\n", verdict)
	return report("api", []row{
		{"cached events requested in turn", fmt.Sprint(len(b.ids))},
		{"load generator connections (levels)", b.connList},
		{"full-speed rounds per server and level", fmt.Sprint(b.rounds)},
		{"baseline: bare net/http, best (requests/s)", fmt.Sprintf("%.0f", baseline.rps())},
		{"  at connections", fmt.Sprint(b.baseBest.conns)},
		{"api: cache-hit GET /v1/events/{id}, best (req/s)", fmt.Sprintf("%.0f", full.rps())},
		{"  at connections", fmt.Sprint(b.apiBest.conns)},
		{"ratio (target ≥ 0.60)", fmt.Sprintf("%.2f", ratio)},
		{"server CPU µs per request: baseline", fmt.Sprintf("%.1f", b.baseBest.cpu/float64(baseline.requests)*1e6)},
		{"server CPU µs per request: api (without redis)", fmt.Sprintf("%.1f", b.apiBest.cpu/float64(full.requests)*1e6)},
		{"api answers that were cache hits", fmt.Sprintf("%.2f%%", hitShare*100)},
		{"api at half rate: requests/s", fmt.Sprintf("%.0f", paced.rps())},
		{"  connections", fmt.Sprint(b.pacedConns)},
		{"api at half rate: p50 ms", fmt.Sprintf("%.2f", ms(p50))},
		{"api at half rate: p99 ms (target ≤ 5)", fmt.Sprintf("%.2f", ms(p99))},
		{"baseline at that rate: p50 / p99 ms", fmt.Sprintf("%.2f / %.2f", ms(rtprobe.Percentile(basePaced.latencies, 0.50)), ms(rtprobe.Percentile(basePaced.latencies, 0.99)))},
	}, [][2]any{
		{"rps", round(full.rps())}, {"baseline_rps", round(baseline.rps())}, {"ratio", round2(ratio)}, {"p99_ms", ms(p99)},
	})
}

// teardown stops the baseline, then the api.
func (b *apiBench) teardown() {
	if b.launch != nil {
		_ = b.launch.StopAll()
	}
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
