//go:build integration

package rediscache_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/itest"
	"github.com/sluicehq/sluice/workloads/internal/rediscache"
)

// single returns a client on the local Redis.
func single(t *testing.T) redis.UniversalClient {
	t.Helper()
	ep := itest.Up(t, devservices.Redis)
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{ep.RedisAddr}, DB: ep.RedisDB, DisableIdentity: true})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// cluster starts a three-node Redis cluster from the Debian redis-server on
// free loopback ports and returns a cluster client on it.
func cluster(t *testing.T) redis.UniversalClient {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found (install the redis-server package): %v", err)
	}
	dir := t.TempDir()
	var addrs []string
	for i := 0; i < 3; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		_, port, _ := net.SplitHostPort(addr)
		nodeDir := filepath.Join(dir, port)
		if err := os.MkdirAll(nodeDir, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", port, "--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(nodeDir, "nodes.conf"), "--dir", nodeDir, "--save", "", "--appendonly", "no",
			"--protected-mode", "yes", "--daemonize", "no", "--logfile", filepath.Join(nodeDir, "redis.log"))
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
		addrs = append(addrs, addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nodes := make([]*redis.Client, len(addrs))
	for i, a := range addrs {
		nodes[i] = redis.NewClient(&redis.Options{Addr: a, DisableIdentity: true})
		defer nodes[i].Close()
		for nodes[i].Ping(ctx).Err() != nil {
			if ctx.Err() != nil {
				t.Fatalf("cluster node %s did not start", a)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	ranges := [][2]int{{0, 5460}, {5461, 10922}, {10923, 16383}}
	for i, n := range nodes {
		if err := n.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", ranges[i][0], ranges[i][1]).Err(); err != nil {
			t.Fatalf("addslots on %s: %v", addrs[i], err)
		}
	}
	for _, a := range addrs[1:] {
		_, port, _ := net.SplitHostPort(a)
		if err := nodes[0].Do(ctx, "CLUSTER", "MEET", "127.0.0.1", port).Err(); err != nil {
			t.Fatalf("cluster meet: %v", err)
		}
	}
	for _, n := range nodes {
		for {
			info, err := n.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:3") {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("cluster not ok: %s %v", info, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: addrs[:1], IsClusterMode: true, DisableIdentity: true})
	t.Cleanup(func() { _ = rdb.Close() })
	if _, ok := rdb.(*redis.ClusterClient); !ok {
		t.Fatal("not a cluster client")
	}
	return rdb
}

func ev(site, device string, at time.Time, sev string, value float64) contract.Stored {
	return contract.Stored{Event: contract.Event{V: 1, ID: uuid.Must(uuid.NewV7()).String(), Site: site, Device: device, Kind: "co2",
		Value: value, Unit: "ppm", Severity: sev, At: at.UTC().Truncate(time.Millisecond)}, IngestedAt: time.Now().UTC().Truncate(time.Millisecond)}
}

// snapshot is everything the cache holds for a test's site and device.
func snapshot(t *testing.T, rdb redis.UniversalClient, site, device string, ids []string) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	zs, err := rdb.ZRangeWithScores(ctx, rediscache.SiteCriticalKey(site), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "zset %v\n", zs)
	h, err := rdb.HGetAll(ctx, rediscache.DeviceLatestKey(device)).Result()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "device at=%s id=%s doc=%s\n", h["at"], h["id"], h["doc"])
	for _, id := range ids {
		v, err := rdb.Get(ctx, rediscache.EventKey(id)).Result()
		if err != nil && err != redis.Nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "event %s %s\n", id, v)
	}
	return b.String()
}

func runWriteContract(t *testing.T, rdb redis.UniversalClient) {
	ctx := context.Background()
	c := rediscache.New(rdb, rediscache.Options{SiteMax: 5, EventTTL: time.Hour, DeviceTTL: time.Hour, SiteTTL: time.Hour})
	site, device := strings.ToLower(itest.Name("site")), strings.ToLower(itest.Name("dev"))
	base := time.Now().Add(-time.Minute)
	var evs []contract.Stored
	var ids []string
	for i := 0; i < 8; i++ {
		sev := contract.SeverityInfo
		if i%2 == 0 || i > 4 {
			sev = contract.SeverityCritical
		}
		e := ev(site, device, base.Add(time.Duration(i)*time.Second), sev, float64(i))
		evs = append(evs, e)
		ids = append(ids, e.ID)
	}
	if err := c.Write(ctx, evs[:4]); err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx, evs[4:]); err != nil {
		t.Fatal(err)
	}
	want := snapshot(t, rdb, site, device, ids)

	// Replaying any batch, in any order, leaves the same state.
	for _, batch := range [][]contract.Stored{evs, evs[:3], {evs[7], evs[0]}, evs[2:6]} {
		if err := c.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if got := snapshot(t, rdb, site, device, ids); got != want {
			t.Fatalf("replay changed the cache:\n got %s\nwant %s", got, want)
		}
	}

	// The sorted set holds the newest SiteMax critical events, newest first.
	got, filled, err := c.SiteCritical(ctx, site, 10)
	if err != nil {
		t.Fatal(err)
	}
	if filled {
		t.Fatal("the change feed must not mark a site as filled")
	}
	wantIDs := []string{ids[7], ids[6], ids[5], ids[4], ids[2]}
	if fmt.Sprint(got) != fmt.Sprint(wantIDs) {
		t.Fatalf("site critical %v, want %v", got, wantIDs)
	}
	// Info events are not stored under their id; critical ones are, with a TTL.
	if _, err := c.Event(ctx, ids[1]); err != rediscache.ErrMiss {
		t.Fatalf("info event cached: %v", err)
	}
	if ttl := rdb.PTTL(ctx, rediscache.EventKey(ids[7])).Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("event ttl %s", ttl)
	}
	docs, err := c.Events(ctx, []string{ids[7], ids[1], ids[6]})
	if err != nil {
		t.Fatal(err)
	}
	if docs[0] == nil || docs[1] != nil || docs[2] == nil {
		t.Fatalf("Events across slots: %q", docs)
	}

	// The newest reading wins; an older one never replaces it.
	latest, err := c.DeviceLatest(ctx, device)
	if err != nil {
		t.Fatal(err)
	}
	st, err := rediscache.Decode(latest)
	if err != nil || st.ID != ids[7] {
		t.Fatalf("latest %s (%v), want %s", st.ID, err, ids[7])
	}
	if err := c.SetDeviceLatest(ctx, evs[3], time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, rdb, site, device, ids); got != want {
		t.Fatal("a fill with an older reading replaced the newer one")
	}
	newer := ev(site, device, base.Add(time.Hour), contract.SeverityInfo, 99)
	if err := c.SetDeviceLatest(ctx, newer, time.Hour); err != nil {
		t.Fatal(err)
	}
	if b, _ := c.DeviceLatest(ctx, device); !strings.Contains(string(b), newer.ID) {
		t.Fatal("a newer reading did not replace the latest")
	}

	// live:sites knows the site.
	sites, err := c.LiveSites(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range sites {
		found = found || s == site
	}
	if !found {
		t.Fatalf("site %s missing from live sites", site)
	}

	// A fill from the store marks the set complete.
	if err := c.FillSite(ctx, site, evs[5:6], time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, filled, _ := c.SiteCritical(ctx, site, 3); !filled {
		t.Fatal("FillSite did not mark the site")
	}
	t.Cleanup(func() {
		keys := []string{rediscache.SiteCriticalKey(site), rediscache.SiteFilledKey(site), rediscache.DeviceLatestKey(device)}
		for _, id := range ids {
			keys = append(keys, rediscache.EventKey(id))
		}
		for _, k := range keys {
			rdb.Del(context.Background(), k)
		}
		rdb.ZRem(context.Background(), rediscache.LiveSitesKey, site)
	})
}

func TestWriteIsIdempotentOnSingleRedis(t *testing.T) { runWriteContract(t, single(t)) }

func TestWriteIsIdempotentOnRedisCluster(t *testing.T) { runWriteContract(t, cluster(t)) }

func TestWriteRecoversFromFlushedScripts(t *testing.T) {
	rdb := single(t)
	ctx := context.Background()
	c := rediscache.New(rdb, rediscache.Options{})
	device := strings.ToLower(itest.Name("dev"))
	if err := c.Write(ctx, []contract.Stored{ev("s", device, time.Now(), contract.SeverityInfo, 1)}); err != nil {
		t.Fatal(err)
	}
	// A restarted or failed-over server has no scripts cached.
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	e := ev("s", device, time.Now().Add(time.Second), contract.SeverityInfo, 2)
	if err := c.Write(ctx, []contract.Stored{e}); err != nil {
		t.Fatalf("write after SCRIPT FLUSH: %v", err)
	}
	if b, _ := c.DeviceLatest(ctx, device); !strings.Contains(string(b), e.ID) {
		t.Fatal("the write after SCRIPT FLUSH was lost")
	}
	rdb.Del(ctx, rediscache.DeviceLatestKey(device))
}

func TestOpenPingsAndReportsUnreachable(t *testing.T) {
	ep := itest.Up(t, devservices.Redis)
	cfg := rediscache.Config{Addrs: []string{ep.RedisAddr}, DB: ep.RedisDB, Timeout: time.Second}
	rdb, err := cfg.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rdb.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	bad := rediscache.Config{Addrs: []string{addr}, Timeout: 200 * time.Millisecond}
	if _, err := bad.Open(context.Background()); err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("open of a closed port: %v", err)
	}
}

// TestConcurrentEventReadsGetTheirOwnAnswers drives the coalescing of
// Event reads: many goroutines, each key with its own value, some missing.
func TestConcurrentEventReadsGetTheirOwnAnswers(t *testing.T) {
	for name, rdb := range map[string]redis.UniversalClient{"single": single(t), "cluster": cluster(t)} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := rediscache.New(rdb, rediscache.Options{})
			prefix := strings.ToLower(itest.Name("id"))
			const keys = 300
			for i := 0; i < keys; i += 2 { // odd ones stay missing
				if err := rdb.Set(ctx, rediscache.EventKey(fmt.Sprintf("%s-%d", prefix, i)), fmt.Sprintf("doc-%d", i), time.Minute).Err(); err != nil {
					t.Fatal(err)
				}
			}
			errs := make(chan error, 64)
			var wg sync.WaitGroup
			for g := 0; g < 64; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n := 0; n < 200; n++ {
						i := (g*31 + n*7) % keys
						b, err := c.Event(ctx, fmt.Sprintf("%s-%d", prefix, i))
						switch {
						case i%2 == 1 && err != rediscache.ErrMiss:
							errs <- fmt.Errorf("key %d: want a miss, got %q %v", i, b, err)
							return
						case i%2 == 0 && (err != nil || b != fmt.Sprintf("doc-%d", i)):
							errs <- fmt.Errorf("key %d: got %q %v", i, b, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
		})
	}
}

// TestEventReadsSurviveCanceledCallers cancels callers while their reads
// are queued or leading a batch: no read may hang and the cache keeps
// answering.
func TestEventReadsSurviveCanceledCallers(t *testing.T) {
	rdb := single(t)
	c := rediscache.New(rdb, rediscache.Options{})
	key := strings.ToLower(itest.Name("id"))
	if err := rdb.Set(context.Background(), rediscache.EventKey(key), "doc", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := time.Now().Add(time.Second)
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; time.Now().Before(stop); n++ {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(n%5)*50*time.Microsecond)
				_, _ = c.Event(ctx, key)
				cancel()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("reads hung after canceled callers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if b, err := c.Event(ctx, key); err != nil || b != "doc" {
		t.Fatalf("read after the storm: %q %v", b, err)
	}
}
