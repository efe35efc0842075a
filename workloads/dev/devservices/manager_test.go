package devservices

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseEngineAndNormalize(t *testing.T) {
	if e, err := ParseEngine(" Kafka "); err != nil || e != Kafka {
		t.Fatalf("ParseEngine(Kafka) = %q, %v", e, err)
	}
	if _, err := ParseEngine("mysql"); err == nil {
		t.Fatal("ParseEngine accepted mysql")
	}
	all, err := normalize(nil)
	if err != nil || len(all) != 4 {
		t.Fatalf("normalize(nil) = %v, %v", all, err)
	}
	got, err := normalize([]Engine{"redis", "kafka", "redis"})
	if err != nil || len(got) != 2 || got[0] != Kafka || got[1] != Redis {
		t.Fatalf("normalize = %v, %v; want [kafka redis]", got, err)
	}
	if _, err := normalize([]Engine{"nope"}); err == nil {
		t.Fatal("normalize accepted an unknown engine")
	}
}

func TestPortsAreDistinctAndLoopback(t *testing.T) {
	seen := map[int]Engine{}
	for _, e := range AllEngines() {
		if len(e.Ports()) == 0 {
			t.Errorf("%s has no ports", e)
		}
		for _, p := range e.Ports() {
			if other, dup := seen[p]; dup {
				t.Errorf("port %d used by %s and %s", p, other, e)
			}
			seen[p] = e
		}
	}
	if Host != "127.0.0.1" {
		t.Errorf("engines bind %s, want loopback", Host)
	}
}

func TestLocalEndpointsEnv(t *testing.T) {
	ep := LocalEndpoints()
	want := [][2]string{
		{"KAFKA_BROKERS", "127.0.0.1:19092"},
		{"CASSANDRA_HOSTS", "127.0.0.1"},
		{"CASSANDRA_PORT", "19042"},
		{"CASSANDRA_USERNAME", "cassandra"},
		{"CASSANDRA_PASSWORD", "cassandra"},
		{"POSTGRES_URL", "postgres://sluice:sluice@127.0.0.1:15432/sluice?sslmode=disable"},
		{"REDIS_ADDR", "127.0.0.1:16379"},
		{"REDIS_DB", "0"},
	}
	got := ep.Env()
	if len(got) != len(want) {
		t.Fatalf("%d variables, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("variable %d = %v, want %v", i, got[i], want[i])
		}
	}
	if ep.CassandraPort != CassandraCQLPort || ep.CassandraHosts[0] != Host {
		t.Errorf("cassandra endpoint %v:%d", ep.CassandraHosts, ep.CassandraPort)
	}
}

func TestDiscoverHome(t *testing.T) {
	t.Setenv(HomeEnv, "")
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "go.mod"), "module example.com/x\n")
	deep := filepath.Join(root, "a", "b", "c")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	home, err := DiscoverHome(deep)
	if err != nil {
		t.Fatal(err)
	}
	if home != filepath.Join(root, ".sluice") {
		t.Fatalf("home = %s, want %s", home, filepath.Join(root, ".sluice"))
	}

	override := t.TempDir()
	t.Setenv(HomeEnv, override)
	home, err = DiscoverHome(deep)
	if err != nil || home != override {
		t.Fatalf("with %s set: home = %s, %v", HomeEnv, home, err)
	}
}

func TestDiscoverHomeWithoutModule(t *testing.T) {
	t.Setenv(HomeEnv, "")
	dir := t.TempDir()
	// Only fails when no go.mod exists up to the root; skip the check if the
	// temp dir itself lives inside a module.
	if _, err := findModuleRoot(dir); err == nil {
		t.Fatal("temp dir is inside a Go module: set TMPDIR outside any module")
	}
	if _, err := DiscoverHome(dir); err == nil || !strings.Contains(err.Error(), HomeEnv) {
		t.Fatalf("err = %v, want a hint about %s", err, HomeEnv)
	}
}

func TestLayout(t *testing.T) {
	l := Layout{Home: "/r/.sluice"}
	cases := map[string]string{
		l.MavenRepo():                 "/r/.sluice/cache/m2",
		l.ArtifactDir(Kafka, "3.9.1"): "/r/.sluice/cache/kafka-3.9.1",
		l.DataDir(Cassandra):          "/r/.sluice/data/cassandra",
		l.ConfDir(Postgres):           "/r/.sluice/data/postgres/conf",
		l.LogFile(Redis):              "/r/.sluice/logs/redis.log",
		l.PidFile(Kafka):              "/r/.sluice/run/kafka.pid",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("%s, want %s", got, want)
		}
	}
}

func TestCacheOverride(t *testing.T) {
	cache := t.TempDir()
	t.Setenv(CacheEnv, cache)
	m, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l := m.Layout()
	if l.MavenRepo() != filepath.Join(cache, "m2") || l.ArtifactDir(Kafka, KafkaVersion) != filepath.Join(cache, "kafka-"+KafkaVersion) {
		t.Errorf("with %s set: maven repo %s, kafka jars %s", CacheEnv, l.MavenRepo(), l.ArtifactDir(Kafka, KafkaVersion))
	}
	if l.DataDir(Kafka) != filepath.Join(l.Home, "data", "kafka") {
		t.Errorf("data moved with the cache: %s", l.DataDir(Kafka))
	}
}

func newTestManager(t *testing.T) *Manager {
	t.Helper()
	m, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m.SetOutput(io.Discard)
	if err := m.layout.ensureBase(); err != nil {
		t.Fatal(err)
	}
	return m
}

func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestRunningCleansStalePidFile(t *testing.T) {
	m := newTestManager(t)
	path := m.layout.PidFile(Redis)
	if err := writePidFile(path, pidRecord{PID: deadPID(t), StartTime: 1}); err != nil {
		t.Fatal(err)
	}
	_, ok, err := m.running(Redis)
	if err != nil || ok {
		t.Fatalf("running = %v, %v; want not running", ok, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("stale pid file was not removed")
	}

	// Garbage in the pid file is stale too.
	writeFile(t, path, "not a pid\n")
	if _, ok, err := m.running(Redis); err != nil || ok {
		t.Fatalf("garbage pid file: running = %v, %v", ok, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("unreadable pid file was not removed")
	}
}

func TestRunningKeepsLivePidFile(t *testing.T) {
	m := newTestManager(t)
	st, ok := processInfo(os.Getpid())
	if !ok {
		t.Fatal("own process not in /proc")
	}
	rec := pidRecord{PID: os.Getpid(), StartTime: st.StartTime}
	if err := writePidFile(m.layout.PidFile(Kafka), rec); err != nil {
		t.Fatal(err)
	}
	got, ok, err := m.running(Kafka)
	if err != nil || !ok || got != rec {
		t.Fatalf("running = %+v, %v, %v; want %+v", got, ok, err, rec)
	}
}

func TestStatusReportsStaleAndStopped(t *testing.T) {
	m := newTestManager(t)
	if err := writePidFile(m.layout.PidFile(Redis), pidRecord{PID: deadPID(t)}); err != nil {
		t.Fatal(err)
	}
	sts, err := m.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 4 {
		t.Fatalf("%d statuses", len(sts))
	}
	for _, st := range sts {
		if st.Running || st.Healthy || st.PID != 0 {
			t.Errorf("%s reported running: %+v", st.Engine, st)
		}
		if st.Engine == Redis && !strings.Contains(st.Detail, "stale pid file") {
			t.Errorf("redis detail %q, want a stale pid note", st.Detail)
		}
	}
	// Status changes nothing.
	if _, err := os.Stat(m.layout.PidFile(Redis)); err != nil {
		t.Error("Status removed a pid file")
	}
}

func TestStopRemovesPidFileOfStoppedProcess(t *testing.T) {
	m := newTestManager(t)
	rec, _, err := startDetached(exec.Command("sleep", "60"), m.layout.LogFile(Redis))
	if err != nil {
		t.Fatal(err)
	}
	if err := writePidFile(m.layout.PidFile(Redis), rec); err != nil {
		t.Fatal(err)
	}
	if err := m.Stop(context.Background(), Redis); err != nil {
		t.Fatal(err)
	}
	if alive(rec) {
		t.Fatal("process still alive after Stop")
	}
	if _, err := os.Stat(m.layout.PidFile(Redis)); !os.IsNotExist(err) {
		t.Fatal("pid file left after Stop")
	}
	// Stopping again is fine.
	if err := m.Stop(context.Background(), Redis); err != nil {
		t.Fatal(err)
	}
}

func TestWaitReadyFailsFastWhenProcessDies(t *testing.T) {
	m := newTestManager(t)
	logPath := m.layout.LogFile(Redis)
	svc := &fakeService{e: Redis, probeErr: io.ErrUnexpectedEOF}
	rec, exited, err := startDetached(exec.Command("sh", "-c", "echo boom: bad config; exit 3"), logPath)
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	err = m.waitReady(context.Background(), starting{svc: svc, rec: rec, begin: begin, exited: exited})
	if err == nil {
		t.Fatal("waitReady succeeded for a dead process")
	}
	if time.Since(begin) > 10*time.Second {
		t.Errorf("took %s to notice the exit", time.Since(begin))
	}
	for _, want := range []string{"exit status 3", "boom: bad config", logPath} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestWaitReadyDeadline(t *testing.T) {
	m := newTestManager(t)
	m.SetStartTimeout(Redis, 1500*time.Millisecond)
	svc := &fakeService{e: Redis, probeErr: io.ErrUnexpectedEOF}
	rec, exited, err := startDetached(exec.Command("sh", "-c", "echo still starting; exec sleep 60"), m.layout.LogFile(Redis))
	if err != nil {
		t.Fatal(err)
	}
	if err := writePidFile(m.layout.PidFile(Redis), rec); err != nil {
		t.Fatal(err)
	}
	err = m.waitReady(context.Background(), starting{svc: svc, rec: rec, begin: time.Now(), exited: exited})
	if err == nil || !strings.Contains(err.Error(), "no answer to PING within 2s") || !strings.Contains(err.Error(), "still starting") {
		t.Fatalf("err = %v", err)
	}
	if alive(rec) {
		t.Error("a process that missed its deadline was left running")
	}
	if _, err := os.Stat(m.layout.PidFile(Redis)); !os.IsNotExist(err) {
		t.Error("pid file left after a failed start")
	}
}

func TestWaitReadySucceedsAndBootstraps(t *testing.T) {
	m := newTestManager(t)
	svc := &fakeService{e: Redis, failFirst: 2}
	rec, exited, err := startDetached(exec.Command("sleep", "60"), m.layout.LogFile(Redis))
	if err != nil {
		t.Fatal(err)
	}
	defer stopProcess(context.Background(), rec, syscall.SIGKILL, time.Second)
	if err := m.waitReady(context.Background(), starting{svc: svc, rec: rec, begin: time.Now(), exited: exited}); err != nil {
		t.Fatal(err)
	}
	if svc.probes != 3 || svc.bootstraps != 1 || svc.checks != 1 {
		t.Errorf("probes=%d bootstraps=%d checks=%d", svc.probes, svc.bootstraps, svc.checks)
	}
}

func TestUpRefusesTakenPort(t *testing.T) {
	m := newTestManager(t)
	// Either this listener or a Redis this manager did not start (its home is
	// empty) holds the port: Up must refuse in both cases.
	if l, err := net.Listen("tcp", hostPort(RedisPort)); err == nil {
		defer l.Close()
	}
	f := newFakeMachine(t)
	m.sys = f.system()
	err := m.Up(context.Background(), Redis)
	if err == nil || !strings.Contains(err.Error(), "16379") || !strings.Contains(err.Error(), "already in use") {
		t.Fatalf("err = %v, want a port-in-use message", err)
	}
}

func TestPortsInUse(t *testing.T) {
	l, err := net.Listen("tcp", Host+":0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if got := portsInUse([]int{port}); len(got) != 1 || got[0] != port {
		t.Errorf("portsInUse with a listener = %v", got)
	}
	l.Close()
	if got := portsInUse([]int{port}); len(got) != 0 {
		t.Errorf("portsInUse after close = %v", got)
	}
}

// fakeService is a service whose probe fails a given number of times.
type fakeService struct {
	e          Engine
	probeErr   error
	failFirst  int
	probes     int
	bootstraps int
	checks     int
}

func (f *fakeService) engine() Engine                       { return f.e }
func (f *fakeService) prepare(context.Context, tools) error { return nil }
func (f *fakeService) command(tools) (*exec.Cmd, error)     { return exec.Command("sleep", "60"), nil }
func (f *fakeService) probe(context.Context) error {
	f.probes++
	if f.probeErr != nil {
		return f.probeErr
	}
	if f.probes <= f.failFirst {
		return io.ErrUnexpectedEOF
	}
	return nil
}
func (f *fakeService) bootstrap(context.Context) error { f.bootstraps++; return nil }
func (f *fakeService) check(context.Context) error     { f.checks++; return nil }
func (f *fakeService) waitLabel() string               { return "PING" }
func (f *fakeService) stopSignal() syscall.Signal      { return syscall.SIGTERM }
func (f *fakeService) startTimeout() time.Duration     { return 30 * time.Second }
func (f *fakeService) stopTimeout() time.Duration      { return time.Second }
func (f *fakeService) describe() string                { return "fake" }
