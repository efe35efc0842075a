//go:build integration

package faulttest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/gocql/gocql"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/itest"
	"github.com/sluicehq/sluice/workloads/dev/localrun"
	"github.com/sluicehq/sluice/workloads/dev/pipelinetest"
)

// Changefeed settings of these tests: a short lease and grace window keep
// them short while respecting the configuration's rules (the lease longer
// than its skew margin, the grace window longer than the write timeout
// plus the outbox skew).
const (
	cfLeaseTTL    = 4 * time.Second
	cfLeaseSkew   = time.Second
	cfGrace       = 2 * time.Second
	cfCommitEvery = 500 * time.Millisecond
)

func changefeedEnv(cassandraTimeout time.Duration) []string {
	return []string{
		fmt.Sprintf("CHANGEFEED_LEASE_TTL=%s", cfLeaseTTL), fmt.Sprintf("CHANGEFEED_LEASE_MAX_SKEW=%s", cfLeaseSkew),
		fmt.Sprintf("CHANGEFEED_OUTBOX_GRACE=%s", cfGrace), "CHANGEFEED_OUTBOX_MAX_SKEW=250ms",
		fmt.Sprintf("CHANGEFEED_COMMIT_INTERVAL=%s", cfCommitEvery), fmt.Sprintf("CASSANDRA_TIMEOUT=%s", cassandraTimeout),
	}
}

// redisWrite is one write command a changefeed sent, as MONITOR saw it.
type redisWrite struct {
	at     time.Time // Redis' clock (the same host's)
	client string    // the connection's address
	cmd    string
	event  string // the critical event of a SET event:{id}
	device string // the device the key belongs to
}

// redisMonitor records, over a raw MONITOR connection, the write commands
// on one Redis database that touch one site's keys: its events, devices
// and sorted set.
type redisMonitor struct {
	t    *testing.T
	db   int
	site string
	conn net.Conn
	done chan struct{}

	mu     sync.Mutex
	writes []redisWrite
	other  []string
}

func startMonitor(t *testing.T, p *pipelinetest.Pipeline) *redisMonitor {
	t.Helper()
	conn, err := net.DialTimeout("tcp", p.EP.RedisAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	m := &redisMonitor{t: t, db: p.EP.RedisDB, site: p.Site, conn: conn, done: make(chan struct{})}
	t.Cleanup(m.stop)
	if _, err := conn.Write([]byte("MONITOR\r\n")); err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReaderSize(conn, 1<<20)
	if line, err := rd.ReadString('\n'); err != nil || strings.TrimSpace(line) != "+OK" {
		t.Fatalf("MONITOR answered %q, %v", line, err)
	}
	go func() {
		defer close(m.done)
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return
			}
			m.parse(strings.TrimSuffix(strings.TrimPrefix(line, "+"), "\r\n"))
		}
	}()
	return m
}

// stop closes the connection and waits for the lines read to be parsed.
func (m *redisMonitor) stop() {
	_ = m.conn.Close()
	<-m.done
}

// parse reads a MONITOR line: `<unix.micro> [<db> <addr>] "CMD" "arg" …`.
func (m *redisMonitor) parse(line string) {
	if !strings.Contains(line, m.site) {
		return
	}
	lb, rb := strings.IndexByte(line, '['), strings.IndexByte(line, ']')
	if lb < 0 || rb < lb {
		return
	}
	head := strings.Fields(line[lb+1 : rb])
	if len(head) != 2 {
		return
	}
	db, err := strconv.Atoi(head[0])
	if err != nil || db != m.db {
		return
	}
	args := monitorArgs(line[rb+1:])
	if len(args) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if head[1] == "lua" {
		return // the commands a script runs: the EVALSHA is counted
	}
	cmd := strings.ToUpper(args[0])
	w := redisWrite{client: head[1], cmd: cmd}
	if sec, err := strconv.ParseFloat(line[:strings.IndexByte(line, ' ')], 64); err == nil {
		w.at = time.UnixMicro(int64(sec * 1e6))
	}
	switch {
	case cmd == "SET" && len(args) > 1 && strings.HasPrefix(args[1], "event:{"):
		w.event = strings.TrimSuffix(strings.TrimPrefix(args[1], "event:{"), "}")
	case (cmd == "EVALSHA" || cmd == "EVAL") && len(args) > 3 && strings.HasPrefix(args[3], "device:{"):
		w.device = strings.TrimSuffix(strings.TrimPrefix(args[3], "device:{"), "}:latest")
	case cmd == "ZADD" || cmd == "ZREMRANGEBYRANK" || cmd == "PEXPIRE":
		// the site's sorted set: all ranges write it
	default:
		m.other = append(m.other, line) // reads
		return
	}
	m.writes = append(m.writes, w)
}

// monitorArgs splits MONITOR's quoted arguments (escapes kept as they are:
// the keys compared hold none).
func monitorArgs(s string) []string {
	var out []string
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			return out
		}
		s = s[i+1:]
		var b strings.Builder
		for len(s) > 0 && s[0] != '"' {
			if s[0] == '\\' && len(s) > 1 {
				b.WriteByte(s[0])
				s = s[1:]
			}
			b.WriteByte(s[0])
			s = s[1:]
		}
		out = append(out, b.String())
		if len(s) > 0 {
			s = s[1:]
		}
	}
}

// snapshot returns the writes recorded so far, in Redis' order.
func (m *redisMonitor) snapshot() []redisWrite {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]redisWrite(nil), m.writes...)
}

// clients maps Redis client addresses to the processes holding the
// sockets, read from /proc (the processes are this test's children).
type clients struct {
	mu    sync.Mutex
	names map[int]string // pid → name
	owner map[string]string
}

func newClients(procs ...*localrun.Proc) *clients {
	c := &clients{names: map[int]string{}, owner: map[string]string{}}
	for _, p := range procs {
		c.names[p.Pid()] = p.Name
	}
	return c
}

// scan records the local addresses of every TCP socket of the processes.
func (c *clients) scan() error {
	inodes := map[string]string{} // socket inode → process name
	for pid, name := range c.names {
		dir := fmt.Sprintf("/proc/%d/fd", pid)
		fds, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("sockets of %s: %w", name, err)
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(dir, fd.Name()))
			if err == nil && strings.HasPrefix(link, "socket:[") {
				inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = name
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) < 10 {
				continue
			}
			name, ok := inodes[f[9]]
			if !ok {
				continue
			}
			if addr, ok := procAddr(f[1]); ok {
				c.owner[addr] = name
			}
		}
	}
	return nil
}

// procAddr turns /proc/net/tcp's "0100007F:D431" into "127.0.0.1:54321".
func procAddr(s string) (string, bool) {
	hexIP, hexPort, ok := strings.Cut(s, ":")
	if !ok {
		return "", false
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return "", false
	}
	raw := make([]byte, len(hexIP)/2)
	for i := range raw {
		v, err := strconv.ParseUint(hexIP[2*i:2*i+2], 16, 8)
		if err != nil {
			return "", false
		}
		raw[i] = byte(v)
	}
	// The kernel prints each 32-bit word in host (little-endian) order.
	for w := 0; w+4 <= len(raw); w += 4 {
		raw[w], raw[w+1], raw[w+2], raw[w+3] = raw[w+3], raw[w+2], raw[w+1], raw[w]
	}
	ip := net.IP(raw)
	if v4 := ip.To4(); v4 != nil {
		ip = v4
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(int(port))), true
}

// of names the process behind a client address ("" if none of them).
func (c *clients) of(addr string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.owner[addr]
}

// watch scans the sockets every 100 ms until ctx ends, so that every
// connection that writes is mapped while it is open.
func (c *clients) watch(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		_ = c.scan()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// leaseSeen is one read of a range's lease row.
type leaseSeen struct {
	sent  time.Time // when the read was sent: the row is at least that new
	owner string
	epoch int64
}

// leaseLog polls the feed's lease rows every 100 ms.
type leaseLog struct {
	mu   sync.Mutex
	seen map[string][]leaseSeen // by range
}

func (l *leaseLog) poll(ctx context.Context, s *gocql.Session, feed string) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	ranges := make([]string, contract.OutboxShards)
	for i := range ranges {
		ranges[i] = strconv.Itoa(i)
	}
	for {
		sent := time.Now()
		// The partition key is (feed, feed_range): the ranges are named.
		iter := s.Query(`SELECT feed_range, owner, epoch FROM `+contract.Keyspace+`.`+contract.TableChangefeedLeases+` WHERE feed = ? AND feed_range IN ?`,
			feed, ranges).WithContext(ctx).Iter()
		var rng, owner string
		var epoch int64
		l.mu.Lock()
		for iter.Scan(&rng, &owner, &epoch) {
			l.seen[rng] = append(l.seen[rng], leaseSeen{sent: sent, owner: owner, epoch: epoch})
		}
		l.mu.Unlock()
		_ = iter.Close()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// owners is the latest owner of each range.
func (l *leaseLog) owners() map[string]leaseSeen {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]leaseSeen{}
	for r, s := range l.seen {
		out[r] = s[len(s)-1]
	}
	return out
}

// stale reports whether a write by owner at "at" on rng came from a
// replica that had lost the range: a read sent before the write showed
// another owner, and no read after it shows owner back with a newer epoch
// (a range taken back legitimately).
func (l *leaseLog) stale(rng, owner string, at time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.seen[rng]
	i := sort.Search(len(s), func(i int) bool { return !s[i].sent.Before(at) })
	if i == 0 || s[i-1].owner == owner {
		return false
	}
	other := s[i-1]
	for _, later := range s[i:] {
		if later.owner == owner && later.epoch > other.epoch {
			return false
		}
	}
	return true
}

// heldAfter reports whether a read sent after at shows owner holding rng:
// a range the frozen replica took back once the other lost it (a loaded
// machine), where its writes are its right again.
func (l *leaseLog) heldAfter(rng, owner string, at time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.seen[rng] {
		if s.sent.After(at) && s.owner == owner {
			return true
		}
	}
	return false
}

// cfStream produces a steady stream of events of the pipeline's site,
// every third one critical, and records each with its send time.
type cfStream struct {
	mu   sync.Mutex
	all  map[string]contract.Event
	sent map[string]time.Time
}

func streamEvents(t *testing.T, p *pipelinetest.Pipeline, rate int, d time.Duration) (*cfStream, <-chan error) {
	pr := p.Producer()
	var quit atomic.Bool
	finished := make(chan struct{})
	// Registered after the producer's close, so it runs before it.
	t.Cleanup(func() { quit.Store(true); <-finished })
	s := &cfStream{all: map[string]contract.Event{}, sent: map[string]time.Time{}}
	devices := make([]string, 24)
	for i := range devices {
		devices[i] = fmt.Sprintf("%s-d%02d", p.Site, i)
	}
	done := make(chan error, 1)
	go func() {
		defer close(finished)
		base := time.Now().UTC()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		n := 0
		for b := 0; b < int(d/(100*time.Millisecond)) && !quit.Load(); b++ {
			<-tick.C
			batch := make([]contract.Event, 0, rate/10)
			for i := 0; i < rate/10; i++ {
				sev := contract.SeverityInfo
				if n%3 == 0 {
					sev = contract.SeverityCritical
				}
				e := p.Event(devices[n%len(devices)], sev, float64(n))
				e.At = base.Add(time.Duration(n) * time.Millisecond)
				batch = append(batch, e)
				n++
			}
			if err := pr.Send(batch...); err != nil {
				done <- err
				return
			}
			now := time.Now()
			s.mu.Lock()
			for _, e := range batch {
				s.all[e.ID], s.sent[e.ID] = e, now
			}
			s.mu.Unlock()
		}
		done <- nil
	}()
	return s, done
}

// criticalSentIn counts the critical events sent in [from, to] whose
// device is in one of ranges (all ranges when nil).
func (s *cfStream) criticalSentIn(from, to time.Time, ranges map[string]bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, e := range s.all {
		at := s.sent[id]
		if e.Severity == contract.SeverityCritical && !at.Before(from) && !at.After(to) &&
			(ranges == nil || ranges[strconv.Itoa(contract.OutboxShard(e.Device))]) {
			n++
		}
	}
	return n
}

// settleRedis waits until every critical event is in Redis as Cassandra
// stores it, the site's sorted set holds the newest ones and every
// device's latest reading is its newest event.
func settleRedis(t *testing.T, p *pipelinetest.Pipeline, s *cfStream, within time.Duration) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: p.EP.RedisAddr, DB: p.EP.RedisDB, DisableIdentity: true, MaxRetries: -1})
	defer rdb.Close()
	session, _ := itest.Cassandra(t, p.EP)
	s.mu.Lock()
	all := make(map[string]contract.Event, len(s.all))
	for id, e := range s.all {
		all[id] = e
	}
	s.mu.Unlock()
	itest.Eventually(t, within, func() error {
		return pipelinetest.RedisState(context.Background(), rdb, session, p.Site, all)
	})
}

// writesOf keeps the writes the process named proc sent.
func writesOf(ws []redisWrite, cl *clients, proc string) []redisWrite {
	var out []redisWrite
	for _, w := range ws {
		if cl.of(w.client) == proc {
			out = append(out, w)
		}
	}
	return out
}

// eventWrites counts the SET event:{id} writes per critical event.
func eventWrites(ws []redisWrite) map[string]int {
	out := map[string]int{}
	for _, w := range ws {
		if w.event != "" {
			out[w.event]++
		}
	}
	return out
}

// duplicates sums the writes beyond the first of each event, and the
// most writes one event had.
func duplicates(per map[string]int) (dups, most int) {
	for _, n := range per {
		dups += max(n-1, 0)
		most = max(most, n)
	}
	return dups, most
}

// rangeOf is the feed range a write belongs to ("" for the site's set).
func (s *cfStream) rangeOf(w redisWrite) string {
	dev := w.device
	if w.event != "" {
		s.mu.Lock()
		dev = s.all[w.event].Device
		s.mu.Unlock()
	}
	if dev == "" {
		return ""
	}
	return strconv.Itoa(contract.OutboxShard(dev))
}

// TestFaultChangefeedLeaseHolderStopped runs two changefeed replicas on
// one feed and freezes (SIGSTOP) the one holding the leases for twice the
// lease's time to live, then lets it go on (SIGCONT): the other takes the
// ranges over once the leases expire. Every critical event ends up in
// Redis in its final state; the frozen replica, once it runs again, writes
// nothing for a range it lost (MONITOR shows every write with its
// connection, and /proc maps the connection to its process): its lease
// guard ended its work before the lease expired. The duplicate bound: the
// new holder redelivers from the last checkpoint, so at most the critical
// events of the taken-over ranges sent from a commit interval plus the
// grace window (plus a second of ingest lag) before the freeze.
func TestFaultChangefeedLeaseHolderStopped(t *testing.T) {
	env := changefeedEnv(1500 * time.Millisecond)
	p := pipelinetest.Start(t, pipelinetest.Options{NoAPI: true, ChangefeedEnv: env})
	a := p.Changefeed
	b := p.StartChangefeedReplica("changefeed-b", p.Owner+"-b", env...)
	names := map[string]string{p.Owner: a.Name, p.Owner + "-b": b.Name} // owner → process
	owners := map[string]string{a.Name: p.Owner, b.Name: p.Owner + "-b"}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cl := newClients(a, b)
	go cl.watch(ctx)
	session, _ := itest.Cassandra(t, p.EP)
	leases := &leaseLog{seen: map[string][]leaseSeen{}}
	go leases.poll(ctx, session, p.Feed+"/outbox")
	mon := startMonitor(t, p)

	const rate = 150
	stream, done := streamEvents(t, p, rate, 16*time.Second)
	time.Sleep(5 * time.Second)

	// The holder is the replica owning most ranges (the first started
	// normally owns them all).
	count := map[string]int{}
	for _, o := range leases.owners() {
		count[names[o.owner]]++
	}
	holder, other := a, b
	if count[b.Name] > count[a.Name] {
		holder, other = b, a
	}
	lost := map[string]bool{}
	for rng, o := range leases.owners() {
		if names[o.owner] == holder.Name {
			lost[rng] = true
		}
	}
	if len(lost) == 0 {
		t.Fatalf("no replica holds a lease after 5 s: %v", leases.owners())
	}
	stopped := time.Now()
	if err := syscall.Kill(holder.Pid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			_ = syscall.Kill(holder.Pid(), syscall.SIGCONT)
		}
	}
	t.Cleanup(resume) // before the processes are stopped
	itest.Eventually(t, 3*cfLeaseTTL, func() error {
		for rng := range lost {
			if o := leases.owners()[rng]; names[o.owner] != other.Name {
				return fmt.Errorf("range %s still owned by %s", rng, o.owner)
			}
		}
		return nil
	})
	took := time.Since(stopped)
	time.Sleep(max(2*cfLeaseTTL-took, time.Second))
	resumedAt := time.Now()
	resume()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	settleRedis(t, p, stream, 2*time.Minute)
	time.Sleep(time.Second) // the last writes reach the monitor
	mon.stop()
	_ = cl.scan()

	ws := mon.snapshot()
	var stale, afterResume, unmapped, holderWrites, otherWrites int
	for _, w := range ws {
		name := cl.of(w.client)
		if name == "" {
			unmapped++
			continue
		}
		if name == holder.Name {
			holderWrites++
		} else {
			otherWrites++
		}
		rng := stream.rangeOf(w)
		if rng == "" {
			continue
		}
		if leases.stale(rng, owners[name], w.at) {
			stale++
			if stale <= 5 {
				t.Errorf("%s wrote %s for range %s at %s after it lost the range", name, w.cmd, rng, w.at.Format("15:04:05.000000"))
			}
		}
		if name == holder.Name && lost[rng] && w.at.After(resumedAt) && !leases.heldAfter(rng, owners[holder.Name], resumedAt) {
			afterResume++
		}
	}
	if unmapped > 0 {
		t.Errorf("%d writes on this site's keys came from connections of neither replica", unmapped)
	}
	if afterResume > 0 {
		t.Errorf("the frozen replica wrote %d commands for its lost ranges after it resumed", afterResume)
	}
	if otherWrites == 0 || holderWrites == 0 {
		t.Fatalf("writes: %d by the frozen replica, %d by the other: the takeover was not observed", holderWrites, otherWrites)
	}

	per := eventWrites(ws)
	dups, most := duplicates(per)
	window := cfCommitEvery + cfGrace + time.Second
	bound := stream.criticalSentIn(stopped.Add(-window), stopped, lost)
	both := 0
	byWriter := map[string]map[string]bool{}
	for _, w := range ws {
		if w.event == "" {
			continue
		}
		n := cl.of(w.client)
		if byWriter[w.event] == nil {
			byWriter[w.event] = map[string]bool{}
		}
		byWriter[w.event][n] = true
	}
	for _, ns := range byWriter {
		if len(ns) > 1 {
			both++
		}
	}
	m, err := other.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("frozen %s held %d ranges; %s owned them all %.1fs after the freeze (lease %s); resumed after %.1fs",
		holder.Name, len(lost), other.Name, took.Seconds(), cfLeaseTTL, resumedAt.Sub(stopped).Seconds())
	t.Logf("redis writes on the site: %d by the frozen replica, %d by the other; stale writes %d, writes for lost ranges after the resume %d",
		holderWrites, otherWrites, stale, afterResume)
	t.Logf("critical events %d, duplicate writes %d (bound %d: critical events of the taken-over ranges sent in the %s before the freeze), %d written by both replicas, at most %d writes of one event; the other replica processed %v changes",
		len(per), dups, bound, window, both, most, m["sluice_changefeed_changes_total"])
	if dups > bound {
		t.Errorf("%d duplicate writes, over the bound of %d", dups, bound)
	}
}

// TestFaultChangefeedCassandraTimeouts routes the changefeed's Cassandra
// connection through Toxiproxy (ingest writes directly) and, while events
// stream, delays every answer by more than the changefeed's
// CASSANDRA_TIMEOUT for longer than the lease lives: reads, renewals and
// checkpoint saves time out, as on an overloaded machine, and the replica
// loses its leases to itself. Once the delay is gone every critical event
// reaches Redis and the api within a bounded time, and the duplicate
// writes stay within the redelivery of the last checkpoint: the critical
// events sent from a commit interval plus the grace window (plus a second)
// before the fault to its end.
func TestFaultChangefeedCassandraTimeouts(t *testing.T) {
	ep := itest.Up(t, devservices.Cassandra)
	_, cc := itest.Cassandra(t, ep)
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	tox := toxiproxy.NewProxy(srv, "changefeed-cassandra", "127.0.0.1:0", fmt.Sprintf("%s:%d", cc.Hosts[0], cc.Port))
	if err := tox.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tox.Stop)
	env := append(changefeedEnv(time.Second), "CASSANDRA_HOSTS=127.0.0.1", fmt.Sprintf("CASSANDRA_PORT=%d", mustPort(t, tox.Listen)))
	p := pipelinetest.Start(t, pipelinetest.Options{ChangefeedEnv: env})
	cl := newClients(p.Changefeed, p.API)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go cl.watch(ctx)
	mon := startMonitor(t, p)

	const rate = 150
	// The stream ends with the fault: the time to settle is the time the
	// changefeed takes to recover.
	stream, done := streamEvents(t, p, rate, 5*time.Second+2*cfLeaseTTL)
	time.Sleep(5 * time.Second)
	before, err := p.Changefeed.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"name": "slow", "type": "latency", "stream": "downstream", "toxicity": 1.0,
		"attributes": map[string]int{"latency": 1500}})
	faultStart := time.Now()
	if _, err := tox.Toxics.AddToxicJson(strings.NewReader(string(body))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * cfLeaseTTL)
	if err := tox.Toxics.RemoveToxic(context.Background(), "slow"); err != nil {
		t.Fatal(err)
	}
	faultEnd := time.Now()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	streamEnd := time.Now()
	// Recovery: a lease taken back within half its life, a read retried
	// within the backoff's 5 s cap, the grace window, with room for a
	// loaded machine.
	const recovery = 30 * time.Second
	settleRedis(t, p, stream, recovery-time.Since(faultEnd))
	inRedis := time.Since(faultEnd)

	// The api serves the site's newest critical events.
	stream.mu.Lock()
	top := pipelinetest.SortedCritical(stream.all, 50)
	stream.mu.Unlock()
	client := &http.Client{Timeout: 5 * time.Second}
	itest.Eventually(t, max(recovery-time.Since(faultEnd), time.Second), func() error {
		code, _, body, err := pipelinetest.Get(client, p.URL()+"/v1/sites/"+p.Site+"/critical?limit=50")
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("site critical: %d %v", code, err)
		}
		var site struct {
			Events []struct {
				ID string `json:"id"`
			} `json:"events"`
		}
		if err := json.Unmarshal(body, &site); err != nil {
			return err
		}
		if len(site.Events) != len(top) {
			return fmt.Errorf("api lists %d critical events, want %d", len(site.Events), len(top))
		}
		for i, e := range site.Events {
			if e.ID != top[i].ID {
				return fmt.Errorf("api position %d is %s, want %s", i, e.ID, top[i].ID)
			}
		}
		return nil
	})
	inAPI := time.Since(faultEnd)
	time.Sleep(time.Second)
	mon.stop()
	_ = cl.scan()

	after, err := p.Changefeed.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	delta := func(name string) float64 { return after[name] - before[name] }
	per := eventWrites(writesOf(mon.snapshot(), cl, p.Changefeed.Name))
	dups, most := duplicates(per)
	window := cfCommitEvery + cfGrace + time.Second
	bound := stream.criticalSentIn(faultStart.Add(-window), faultEnd, nil)
	t.Logf("fault: answers delayed 1.5 s (CASSANDRA_TIMEOUT 1 s) for %.1fs; leases lost %v, read retries %v, commits %v, handler retries %v during and after it",
		faultEnd.Sub(faultStart).Seconds(), delta("sluice_changefeed_leases_lost_total"), delta("sluice_changefeed_read_retries_total"),
		delta("sluice_changefeed_commits_total"), delta("sluice_changefeed_handle_retries_total"))
	t.Logf("stream ended %.1fs after the fault; every critical event in redis %.1fs and in the api %.1fs after the fault's end (bound %s)",
		streamEnd.Sub(faultEnd).Seconds(), inRedis.Seconds(), inAPI.Seconds(), recovery)
	t.Logf("critical events %d, duplicate writes %d (bound %d: critical events sent from %s before the fault to its end), at most %d writes of one event",
		len(per), dups, bound, window, most)
	if delta("sluice_changefeed_leases_lost_total") == 0 {
		t.Error("no lease was lost while every answer came after the timeout for twice the lease's life: the fault never struck")
	}
	if dups > bound {
		t.Errorf("%d duplicate writes, over the bound of %d", dups, bound)
	}
}

// TestFaultChangefeedCassandraRestart stops Cassandra under the whole
// real-time path while events stream (ingest and changefeed both lose it)
// and starts it again five seconds later: the changefeed resumes from its
// last saved checkpoint, every critical event reaches Redis in its final
// state, and the duplicate writes stay within the redelivery of that
// checkpoint: the critical events sent from a commit interval plus the
// grace window (plus a second) before the stop until Cassandra is back.
func TestFaultChangefeedCassandraRestart(t *testing.T) {
	p := pipelinetest.Start(t, pipelinetest.Options{ChangefeedEnv: changefeedEnv(1500 * time.Millisecond)})
	cl := newClients(p.Changefeed, p.Ingest)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go cl.watch(ctx)
	mon := startMonitor(t, p)

	stream, done := streamEvents(t, p, 150, 20*time.Second)
	time.Sleep(5 * time.Second)
	m := itest.Manager(t)
	stopped := time.Now()
	if err := m.Stop(context.Background(), devservices.Cassandra); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	itest.Up(t, devservices.Cassandra)
	back := time.Now()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	settleRedis(t, p, stream, 2*time.Minute)
	time.Sleep(time.Second)
	mon.stop()
	_ = cl.scan()

	per := eventWrites(writesOf(mon.snapshot(), cl, p.Changefeed.Name))
	dups, most := duplicates(per)
	window := cfCommitEvery + cfGrace + time.Second
	bound := stream.criticalSentIn(stopped.Add(-window), back, nil)
	t.Logf("cassandra down %.1fs; critical events %d, duplicate writes %d (bound %d: critical events sent from %s before the stop until it was back), at most %d writes of one event",
		back.Sub(stopped).Seconds(), len(per), dups, bound, window, most)
	if len(per) == 0 {
		t.Fatal("no changefeed write was seen: the counts are not whole")
	}
	if dups > bound {
		t.Errorf("%d duplicate writes, over the bound of %d", dups, bound)
	}
}
