//go:build integration

package devservices

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/gocql/gocql"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// These tests run the real engines under the repository's .sluice (or
// $SLUICE_HOME) and leave them running for the other integration tests;
// `devservices down` stops them.

func integrationManager(t *testing.T) *Manager {
	t.Helper()
	m, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	m.SetOutput(testWriter{t})
	return m
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func randomSuffix(t *testing.T) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

func statusByEngine(t *testing.T, m *Manager) map[Engine]EngineStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sts, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[Engine]EngineStatus{}
	for _, st := range sts {
		out[st.Engine] = st
	}
	return out
}

func TestIntegrationAllEnginesUpAndIdempotent(t *testing.T) {
	m := integrationManager(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	begin := time.Now()
	if err := m.Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	t.Logf("first up: %s", time.Since(begin).Round(time.Millisecond))

	ep := LocalEndpoints()
	t.Run("kafka", func(t *testing.T) { checkKafka(ctx, t, ep) })
	t.Run("cassandra", func(t *testing.T) { checkCassandra(ctx, t, ep) })
	t.Run("postgres", func(t *testing.T) { checkPostgres(ctx, t, ep) })
	t.Run("redis", func(t *testing.T) { checkRedis(ctx, t, ep) })

	before := statusByEngine(t, m)
	for _, e := range AllEngines() {
		if st := before[e]; !st.Running || !st.Healthy || st.PID == 0 {
			t.Errorf("%s status after up: %+v", e, st)
		}
	}

	// A second Up leaves every healthy engine alone, and is quick about it.
	begin = time.Now()
	if err := m.Up(ctx); err != nil {
		t.Fatalf("second up: %v", err)
	}
	second := time.Since(begin)
	t.Logf("second (warm) up: %s", second.Round(time.Millisecond))
	if second > 30*time.Second {
		t.Errorf("second up took %s; it should only check health", second)
	}
	after := statusByEngine(t, m)
	for _, e := range AllEngines() {
		if before[e].PID != after[e].PID {
			t.Errorf("%s pid changed from %d to %d on an idempotent up", e, before[e].PID, after[e].PID)
		}
	}
}

func kafkaConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.ClientID = "devservices-it"
	cfg.Version = sarama.V1_0_0_0
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Retry.Max = 2
	cfg.Producer.Retry.Backoff = 200 * time.Millisecond
	cfg.Metadata.Retry.Max = 2
	cfg.Metadata.Retry.Backoff = 200 * time.Millisecond
	cfg.Net.DialTimeout = 5 * time.Second
	return cfg
}

func createTopic(t *testing.T, brokers []string, topic string, partitions int32) {
	t.Helper()
	admin, err := sarama.NewClusterAdmin(brokers, kafkaConfig())
	if err != nil {
		t.Fatalf("kafka admin: %v", err)
	}
	defer admin.Close()
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1}, false); err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	t.Cleanup(func() {
		a, err := sarama.NewClusterAdmin(brokers, kafkaConfig())
		if err != nil {
			t.Errorf("kafka admin for cleanup: %v", err)
			return
		}
		defer a.Close()
		if err := a.DeleteTopic(topic); err != nil {
			t.Errorf("delete topic %s: %v", topic, err)
		}
	})
}

func produce(t *testing.T, brokers []string, topic, key, value string) (int32, int64) {
	t.Helper()
	p, err := sarama.NewSyncProducer(brokers, kafkaConfig())
	if err != nil {
		t.Fatalf("producer: %v", err)
	}
	defer p.Close()
	part, off, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(key), Value: sarama.StringEncoder(value)})
	if err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
	return part, off
}

func consumeOne(t *testing.T, brokers []string, topic string, partition int32, offset int64) string {
	t.Helper()
	c, err := sarama.NewConsumer(brokers, kafkaConfig())
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	defer c.Close()
	pc, err := c.ConsumePartition(topic, partition, offset)
	if err != nil {
		t.Fatalf("consume %s/%d@%d: %v", topic, partition, offset, err)
	}
	defer pc.Close()
	select {
	case msg := <-pc.Messages():
		return string(msg.Value)
	case err := <-pc.Errors():
		t.Fatalf("consume: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatalf("no message at %s/%d@%d within 30s", topic, partition, offset)
	}
	return ""
}

func checkKafka(ctx context.Context, t *testing.T, ep Endpoints) {
	admin, err := sarama.NewClusterAdmin(ep.KafkaBrokers, kafkaConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	entries, err := admin.DescribeConfig(sarama.ConfigResource{
		Type: sarama.BrokerResource, Name: "1",
		ConfigNames: []string{"num.partitions", "auto.create.topics.enable", "offsets.topic.replication.factor"},
	})
	if err != nil {
		t.Fatalf("describe broker config: %v", err)
	}
	got := map[string]string{}
	for _, e := range entries {
		got[e.Name] = e.Value
	}
	want := map[string]string{"num.partitions": "6", "auto.create.topics.enable": "false", "offsets.topic.replication.factor": "1"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("broker %s = %q, want %q", k, got[k], v)
		}
	}

	topic := "devservices.it." + randomSuffix(t)
	createTopic(t, ep.KafkaBrokers, topic, 6)
	client, err := sarama.NewClient(ep.KafkaBrokers, kafkaConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	parts, err := client.Partitions(topic)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 6 {
		t.Errorf("new topic has %d partitions, want 6", len(parts))
	}
	part, off := produce(t, ep.KafkaBrokers, topic, "device-1", "hello")
	if got := consumeOne(t, ep.KafkaBrokers, topic, part, off); got != "hello" {
		t.Errorf("consumed %q, want hello", got)
	}

	// Topics are not auto-created.
	missing := "devservices.missing." + randomSuffix(t)
	p, err := sarama.NewSyncProducer(ep.KafkaBrokers, kafkaConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: missing, Value: sarama.StringEncoder("x")}); err == nil {
		t.Errorf("producing to missing topic %s succeeded: auto-create is on", missing)
	}
	topics, err := client.Topics()
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range topics {
		if tp == missing {
			t.Errorf("topic %s was auto-created", missing)
		}
	}
}

func cassandraSession(ep Endpoints, password string) (*gocql.Session, error) {
	cl := gocql.NewCluster(ep.CassandraHosts...)
	cl.Port = ep.CassandraPort
	cl.ProtoVersion = 4
	cl.Authenticator = gocql.PasswordAuthenticator{Username: ep.CassandraUser, Password: password}
	cl.DisableInitialHostLookup = true
	cl.Timeout = 10 * time.Second
	cl.ConnectTimeout = 5 * time.Second
	cl.Logger = log.New(io.Discard, "", 0)
	return cl.CreateSession()
}

func checkCassandra(ctx context.Context, t *testing.T, ep Endpoints) {
	s, err := cassandraSession(ep, ep.CassandraPassword)
	if err != nil {
		t.Fatalf("cassandra login as %s: %v", ep.CassandraUser, err)
	}
	defer s.Close()
	var version string
	if err := s.Query("SELECT release_version FROM system.local").WithContext(ctx).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(version, "5.0.") {
		t.Errorf("release_version %q, want 5.0.x", version)
	}
	var superuser bool
	if err := s.Query("SELECT is_superuser FROM system_auth.roles WHERE role = ?", ep.CassandraUser).WithContext(ctx).Scan(&superuser); err != nil {
		t.Fatal(err)
	}
	if !superuser {
		t.Errorf("%s is not a superuser", ep.CassandraUser)
	}
	// Authentication is enforced.
	if bad, err := cassandraSession(ep, "wrong-"+randomSuffix(t)); err == nil {
		bad.Close()
		t.Error("cassandra accepted a wrong password: authentication is off")
	}
}

func checkPostgres(ctx context.Context, t *testing.T, ep Endpoints) {
	conn, err := pgx.Connect(ctx, ep.PostgresURL)
	if err != nil {
		t.Fatalf("postgres connect: %v", err)
	}
	defer conn.Close(ctx)
	var user, db string
	var createRole, createDB bool
	err = conn.QueryRow(ctx, `SELECT current_user, current_database(), r.rolcreaterole, r.rolcreatedb
		FROM pg_roles r WHERE r.rolname = current_user`).Scan(&user, &db, &createRole, &createDB)
	if err != nil {
		t.Fatal(err)
	}
	if user != "sluice" || db != "sluice" || !createRole || !createDB {
		t.Errorf("user %s db %s createrole %v createdb %v", user, db, createRole, createDB)
	}
	var owner string
	if err := conn.QueryRow(ctx, `SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()`).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	if owner != "sluice" {
		t.Errorf("database owned by %s, want sluice", owner)
	}
	bad := strings.Replace(ep.PostgresURL, "sluice:sluice@", "sluice:wrong@", 1)
	if c, err := pgx.Connect(ctx, bad); err == nil {
		c.Close(ctx)
		t.Error("postgres accepted a wrong password over TCP")
	}
}

func checkRedis(ctx context.Context, t *testing.T, ep Endpoints) {
	c := redis.NewClient(&redis.Options{Addr: ep.RedisAddr, DisableIdentity: true})
	defer c.Close()
	key := "devservices:it:" + randomSuffix(t)
	if err := c.Set(ctx, key, "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(ctx, key).Result(); err != nil || got != "v" {
		t.Fatalf("get = %q, %v", got, err)
	}
	if err := c.Del(ctx, key).Err(); err != nil {
		t.Fatal(err)
	}
	cfg, err := c.ConfigGet(ctx, "appendonly").Result()
	if err != nil {
		t.Fatal(err)
	}
	if cfg["appendonly"] != "yes" {
		t.Errorf("appendonly = %q", cfg["appendonly"])
	}
}

// TestFaultDevservicesKafkaRestart stops and restarts Kafka, so it runs in the
// serial fault-test pass: data written before the restart is still there and
// the broker answers again.
func TestFaultDevservicesKafkaRestart(t *testing.T) {
	m := integrationManager(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := m.Up(ctx, Kafka); err != nil {
		t.Fatalf("up kafka: %v", err)
	}
	ep := LocalEndpoints()
	topic := "devservices.restart." + randomSuffix(t)
	createTopic(t, ep.KafkaBrokers, topic, 1)
	part, off := produce(t, ep.KafkaBrokers, topic, "k", "before-restart")
	pidBefore := statusByEngine(t, m)[Kafka].PID

	if err := m.Stop(ctx, Kafka); err != nil {
		t.Fatalf("stop kafka: %v", err)
	}
	st := statusByEngine(t, m)[Kafka]
	if st.Running || st.Healthy {
		t.Fatalf("kafka still running after stop: %+v", st)
	}
	pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
	err := m.services[Kafka].check(pctx)
	pcancel()
	if err == nil {
		t.Fatal("a stopped kafka still answers")
	}

	begin := time.Now()
	if err := m.Up(ctx, Kafka); err != nil {
		t.Fatalf("up kafka after stop: %v", err)
	}
	t.Logf("kafka start after stop: %s", time.Since(begin).Round(time.Millisecond))
	// A start is followed by the warm-up (unless SLUICE_WARMUP=0), which
	// leaves no scratch topic behind.
	if ws := m.Warmups(); m.warmupCap() > 0 {
		if len(ws) != 1 || ws[0].Engine != Kafka || ws[0].Ops == 0 || len(ws[0].Paths) != 2 || ws[0].Paths[0].P99 <= 0 {
			t.Errorf("warm-ups after a start of kafka: %+v", ws)
		} else {
			t.Logf("kafka warm-up after the start: %s", ws[0])
		}
		if left := warmupTopics(t, ep.KafkaBrokers); len(left) > 0 {
			t.Errorf("warm-up topics left behind: %v", left)
		}
	} else if len(ws) != 0 {
		t.Errorf("warm-ups ran with %s=0: %+v", WarmupEnv, ws)
	}
	st = statusByEngine(t, m)[Kafka]
	if !st.Healthy || st.PID == 0 || st.PID == pidBefore {
		t.Fatalf("kafka after up: %+v (pid before %d)", st, pidBefore)
	}
	if got := consumeOne(t, ep.KafkaBrokers, topic, part, off); got != "before-restart" {
		t.Errorf("after stop and up read %q, want before-restart", got)
	}

	// Restart of a running broker.
	pidBefore = st.PID
	begin = time.Now()
	if err := m.Restart(ctx, Kafka); err != nil {
		t.Fatalf("restart kafka: %v", err)
	}
	t.Logf("kafka restart: %s", time.Since(begin).Round(time.Millisecond))
	st = statusByEngine(t, m)[Kafka]
	if !st.Healthy || st.PID == 0 || st.PID == pidBefore {
		t.Fatalf("kafka after restart: %+v (pid before %d)", st, pidBefore)
	}
	if got := consumeOne(t, ep.KafkaBrokers, topic, part, off); got != "before-restart" {
		t.Errorf("after restart read %q, want before-restart", got)
	}
	p2, off2 := produce(t, ep.KafkaBrokers, topic, "k", "after-restart")
	if p2 != part || off2 != off+1 {
		t.Errorf("after restart produced at %d@%d, want %d@%d", p2, off2, part, off+1)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("ran out of time")
	}
}
