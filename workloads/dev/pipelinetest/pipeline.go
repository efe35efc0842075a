package pipelinetest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/internal/modroot"
	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/itest"
	"github.com/sluicehq/sluice/workloads/dev/localrun"
	"github.com/sluicehq/sluice/workloads/internal/rediscache"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// Binaries builds ingest, changefeed and api once per test process and
// returns the folder holding them.
func Binaries(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := modroot.Find(".")
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "sluice-pipeline-bin-")
		if err != nil {
			buildErr = fmt.Errorf("temp dir: %w", err)
			return
		}
		goBin, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("the go tool is needed to build the workloads: %w", err)
			return
		}
		cmd := exec.Command(goBin, "build", "-o", dir+string(os.PathSeparator),
			"./workloads/cmd/ingest", "./workloads/cmd/changefeed", "./workloads/cmd/api")
		cmd.Dir = root
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			buildErr = fmt.Errorf("build workloads: %w\n%s", err, out.String())
			return
		}
		buildDir = dir
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildDir
}

// RemoveBinaries deletes what Binaries built; a TestMain calls it once the
// tests are done.
func RemoveBinaries() {
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
}

// ArtifactsDir is .sluice/artifacts, where tests leave screenshots.
func ArtifactsDir(t testing.TB) string {
	t.Helper()
	home, err := devservices.DiscoverHome("")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(home, "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Pipeline is one running instance of the real-time path.
type Pipeline struct {
	t      testing.TB
	EP     devservices.Endpoints
	Bin    string
	Topic  string
	Feed   string
	Owner  string
	Site   string // a site name only this pipeline's events use
	launch *localrun.Launcher
	sc     *sarama.Config

	mu         sync.Mutex
	Ingest     *localrun.Proc
	Changefeed *localrun.Proc
	API        *localrun.Proc
}

// Options change a pipeline's environment; Extra is added to every
// process, ChangefeedEnv to the changefeed only.
type Options struct {
	Extra         []string
	ChangefeedEnv []string
	NoAPI         bool
}

// Start brings the engines up and starts ingest (writing the outbox),
// changefeed and api (local mode) on a fresh topic and change-feed name.
func Start(t testing.TB, opts Options) *Pipeline {
	t.Helper()
	ep := itest.Up(t, devservices.Kafka, devservices.Cassandra, devservices.Redis)
	itest.Cassandra(t, ep) // migrated schema, the outbox included
	p := &Pipeline{t: t, EP: ep, Bin: Binaries(t), Topic: itest.Name("rt-events"), Feed: itest.Name("rt-feed"),
		Owner: itest.Name("rt-owner"), Site: strings.ToLower(itest.Name("rt-site"))}
	itest.Topics(t, ep, map[string]int32{p.Topic: 4, p.Topic + ".dlq": 1})
	_, p.sc = itest.Kafka(t, ep, p.Topic, p.Topic+".dlq")
	env := localrun.Env(ep, "LOG_LEVEL=info", "KAFKA_TOPIC="+p.Topic, "KAFKA_DLQ_TOPIC="+p.Topic+".dlq")
	p.launch = &localrun.Launcher{Bin: p.Bin, Logs: t.TempDir(), Env: append(env, opts.Extra...), ReadyTimeout: 2 * time.Minute}

	var err error
	p.Changefeed, err = p.start("changefeed", append([]string{"CHANGEFEED_NAME=" + p.Feed, "CHANGEFEED_OWNER=" + p.Owner}, opts.ChangefeedEnv...))
	if err != nil {
		t.Fatal(err)
	}
	p.Ingest, err = p.start("ingest", []string{"INGEST_GROUP=" + itest.Name("rt-ingest"), "INGEST_OUTBOX=true"})
	if err != nil {
		t.Fatal(err)
	}
	if !opts.NoAPI {
		p.API, err = p.start("api", []string{"API_MODE=local"})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(p.stop)
	t.Cleanup(p.forgetSites)
	return p
}

// forgetSites takes the pipeline's sites off the live page's index, so
// test runs do not pile up on a developer's page.
func (p *Pipeline) forgetSites() {
	rdb := redis.NewClient(&redis.Options{Addr: p.EP.RedisAddr, DB: p.EP.RedisDB, DisableIdentity: true})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sites, err := rdb.ZRange(ctx, rediscache.LiveSitesKey, 0, -1).Result()
	if err != nil {
		return
	}
	for _, s := range sites {
		if strings.HasPrefix(s, p.Site) {
			rdb.ZRem(ctx, rediscache.LiveSitesKey, s)
		}
	}
}

func (p *Pipeline) start(name string, env []string) (*localrun.Proc, error) {
	return p.launch.Start(context.Background(), localrun.Spec{Name: name, Env: env})
}

// RestartChangefeed starts the changefeed again (after Kill) with the same
// name and owner, so it takes its leases back at once.
func (p *Pipeline) RestartChangefeed(env ...string) {
	p.t.Helper()
	proc, err := p.start("changefeed", append([]string{"CHANGEFEED_NAME=" + p.Feed, "CHANGEFEED_OWNER=" + p.Owner}, env...))
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.Changefeed = proc
	p.mu.Unlock()
}

// StartChangefeedReplica starts another changefeed on the pipeline's feed
// under name (its log's name too), as owner, with env added; it is stopped
// with the other processes.
func (p *Pipeline) StartChangefeedReplica(name, owner string, env ...string) *localrun.Proc {
	p.t.Helper()
	proc, err := p.launch.Start(context.Background(), localrun.Spec{Name: name, Binary: filepath.Join(p.Bin, "changefeed"),
		Env: append([]string{"CHANGEFEED_NAME=" + p.Feed, "CHANGEFEED_OWNER=" + owner}, env...)})
	if err != nil {
		p.t.Fatalf("start %s: %v\n%s", name, err, p.Log(name))
	}
	return proc
}

// LogPath is the log file of a process.
func (p *Pipeline) LogPath(name string) string { return p.launch.LogPath(name) }

// Log returns the tail of a process' log, for failure messages.
func (p *Pipeline) Log(name string) string { return p.launch.Tail(name, 30) }

// stop stops the processes in reverse start order: api, ingest, changefeed.
func (p *Pipeline) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.launch.StopAll(); err != nil {
		p.t.Logf("stop: %v", err)
	}
	if p.t.Failed() {
		for _, n := range []string{"ingest", "changefeed", "api"} {
			p.t.Logf("--- %s log (tail) ---\n%s", n, p.Log(n))
		}
	}
}

// URL is the API's base URL.
func (p *Pipeline) URL() string { return "http://" + p.API.Addr }

// Event makes a valid event of the pipeline's site.
func (p *Pipeline) Event(device, severity string, value float64) contract.Event {
	return contract.Event{V: contract.SchemaVersion, ID: uuid.Must(uuid.NewV7()).String(), Site: p.Site, Device: device, Kind: "co2",
		Value: value, Unit: "ppm", Severity: severity, At: time.Now().UTC()}
}

// Producer sends events to the pipeline's topic.
type Producer struct {
	p  *Pipeline
	sp sarama.SyncProducer
}

// Producer returns a synchronous producer, closed when the test ends.
func (p *Pipeline) Producer() *Producer {
	p.t.Helper()
	sp, err := sarama.NewSyncProducer(p.EP.KafkaBrokers, p.sc)
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { _ = sp.Close() })
	return &Producer{p: p, sp: sp}
}

// Send produces events and returns once the broker acknowledged them.
func (pr *Producer) Send(evs ...contract.Event) error {
	msgs := make([]*sarama.ProducerMessage, len(evs))
	for i, e := range evs {
		b, err := e.Marshal()
		if err != nil {
			return err
		}
		msgs[i] = &sarama.ProducerMessage{Topic: pr.p.Topic, Key: sarama.StringEncoder(e.Device), Value: sarama.ByteEncoder(b)}
	}
	if err := pr.sp.SendMessages(msgs); err != nil {
		return fmt.Errorf("produce %d events: %w", len(evs), err)
	}
	return nil
}

// Get fetches a path of the API and returns the status, X-Cache and body.
func Get(client *http.Client, url string) (int, string, []byte, error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Cache"), b, err
}

// StartAPI starts the api alone (local mode, its own log folder) against
// the local Cassandra and Redis, with env added, and stops it at cleanup.
func StartAPI(t testing.TB, env ...string) *localrun.Proc {
	t.Helper()
	ep := itest.Up(t, devservices.Cassandra, devservices.Redis)
	itest.Cassandra(t, ep)
	launch := &localrun.Launcher{Bin: Binaries(t), Logs: t.TempDir(), Env: localrun.Env(ep, "LOG_LEVEL=info", "API_MODE=local"), ReadyTimeout: 2 * time.Minute}
	proc, err := launch.Start(context.Background(), localrun.Spec{Name: "api", Env: env})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := launch.StopAll(); err != nil {
			t.Logf("stop api: %v", err)
		}
		if t.Failed() {
			t.Logf("--- api log (tail) ---\n%s", launch.Tail("api", 30))
		}
	})
	return proc
}
