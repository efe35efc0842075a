package itest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/gocql/gocql"

	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
	"github.com/sluicehq/sluice/workloads/internal/kafkaclient"
)

var (
	mgrOnce sync.Once
	mgr     *devservices.Manager
	mgrErr  error
)

// Manager returns the devservices manager for the repository's engines.
// It warms up no engine it starts unless $SLUICE_WARMUP asks for it: a
// test that restarts an engine under a stream measures how the workloads
// recover, which a warm-up beside them would blur, and `make test` starts
// the engines (warmed up) with services-up before any test runs.
func Manager(t testing.TB) *devservices.Manager {
	t.Helper()
	mgrOnce.Do(func() {
		mgr, mgrErr = devservices.New("")
		if mgrErr == nil && os.Getenv(devservices.WarmupEnv) == "" {
			mgr.SetWarmup(0)
		}
	})
	if mgrErr != nil {
		t.Fatalf("devservices: %v", mgrErr)
	}
	return mgr
}

// Up makes sure the engines run and answer, and returns their endpoints.
func Up(t testing.TB, engines ...devservices.Engine) devservices.Endpoints {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	if err := Manager(t).Up(ctx, engines...); err != nil {
		t.Fatalf("local engines are not available (run `make services-up` to see why): %v", err)
	}
	// The tests' own Redis database: the demo's live page never shows
	// what a test wrote.
	return devservices.TestEndpoints()
}

// Name returns a unique name with a prefix, safe for topics, groups and
// Cassandra identifiers.
func Name(prefix string) string {
	return fmt.Sprintf("%s_%d_%04x", prefix, time.Now().UnixMilli()%1_000_000_000, rand.IntN(1<<16))
}

// Env is a lookup over the local endpoints plus overrides, the way the
// workloads' FromEnv functions read configuration.
func Env(ep devservices.Endpoints, overrides map[string]string) *envconfig.Reader {
	m := map[string]string{}
	for _, kv := range ep.Env() {
		m[kv[0]] = kv[1]
	}
	for k, v := range overrides {
		m[k] = v
	}
	return envconfig.NewFrom(envconfig.FromMap(m))
}

// Kafka returns the Event Hubs-safe client config for the local broker.
func Kafka(t testing.TB, ep devservices.Endpoints, topic, dlq string) (kafkaclient.Config, *sarama.Config) {
	t.Helper()
	r := Env(ep, map[string]string{"KAFKA_TOPIC": topic, "KAFKA_DLQ_TOPIC": dlq})
	kc := kafkaclient.FromEnv(r, "itest")
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	sc, err := kc.Sarama(nil)
	if err != nil {
		t.Fatal(err)
	}
	return kc, sc
}

// Topics creates topics with the given partition counts and deletes them
// when the test ends.
func Topics(t testing.TB, ep devservices.Endpoints, topics map[string]int32) {
	t.Helper()
	_, sc := Kafka(t, ep, "events", "events.dlq")
	admin, err := sarama.NewClusterAdmin(ep.KafkaBrokers, sc)
	if err != nil {
		t.Fatalf("kafka admin: %v", err)
	}
	var list []kafkaclient.Topic
	for name, p := range topics {
		list = append(list, kafkaclient.Topic{Name: name, Partitions: p})
	}
	if err := kafkaclient.EnsureTopics(admin, list); err != nil {
		t.Fatal(err)
	}
	_ = admin.Close()
	t.Cleanup(func() {
		admin, err := sarama.NewClusterAdmin(ep.KafkaBrokers, sc)
		if err != nil {
			return
		}
		defer admin.Close()
		for name := range topics {
			_ = admin.DeleteTopic(name)
		}
	})
}

// Cassandra opens a session on the migrated sluice keyspace.
func Cassandra(t testing.TB, ep devservices.Endpoints) (*gocql.Session, cqlsession.Config) {
	t.Helper()
	r := Env(ep, nil)
	cc := cqlsession.FromEnv(r)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := eventstore.MigrateConfig(ctx, cc, 1); err != nil {
		t.Fatal(err)
	}
	s, err := cc.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, cc
}

// Eventually polls cond every 200 ms until it returns nil or timeout passes,
// then fails with cond's last error.
func Eventually(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %s: %v", timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
