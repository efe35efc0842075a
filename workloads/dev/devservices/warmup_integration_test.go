//go:build integration

package devservices

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/redis/go-redis/v9"
)

// TestIntegrationWarmupLeavesNothingBehind runs every engine's warm-up on
// the running engines (as Up does after a start), checks each reports
// figures from real work, and that no scratch keyspace, topic or key is
// left. It does not restart anything: an Up of running engines must not
// warm them again.
func TestIntegrationWarmupLeavesNothingBehind(t *testing.T) {
	m := integrationManager(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := m.Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	if ws := m.Warmups(); len(ws) != 0 {
		t.Fatalf("an Up of running engines warmed them: %+v", ws)
	}
	m.SetWarmup(2 * time.Minute)
	ws, err := m.WarmUp(ctx)
	if err != nil {
		t.Fatalf("warm-up: %v", err)
	}
	if len(ws) != len(AllEngines()) {
		t.Fatalf("%d warm-ups, want one per engine: %+v", len(ws), ws)
	}
	for _, w := range ws {
		t.Logf("%s: %s, %d operations", w.Engine, w, w.Ops)
		if w.Ops == 0 || w.Took <= 0 || len(w.Paths) == 0 {
			t.Errorf("%s: no work measured: %+v", w.Engine, w)
		}
		for _, p := range w.Paths {
			if p.P99 <= 0 || p.P50 <= 0 || p.P50 > p.P99 {
				t.Errorf("%s %s: p50 %v, p99 %v", w.Engine, p.Name, p.P50, p.P99)
			}
		}
		if w.Errors*10 > w.Ops {
			t.Errorf("%s: %d of %d operations failed on a warm engine", w.Engine, w.Errors, w.Ops)
		}
		// Running engines are warm already: each settles well within the cap.
		if !w.Settled {
			t.Errorf("%s did not settle within %s on a running engine", w.Engine, 2*time.Minute)
		}
	}
	if got := m.Warmups(); len(got) != len(ws) {
		t.Errorf("Warmups() = %d entries, want %d", len(got), len(ws))
	}

	ep := LocalEndpoints()
	sess, err := cassandraSession(ep, CassandraPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var n int
	if err := sess.Query("SELECT count(*) FROM system_schema.keyspaces WHERE keyspace_name = ?", WarmupKeyspace).WithContext(ctx).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("keyspace %s left behind", WarmupKeyspace)
	}

	if left := warmupTopics(t, ep.KafkaBrokers); len(left) > 0 {
		t.Errorf("topics left behind: %v", left)
	}

	rc := redis.NewClient(&redis.Options{Addr: ep.RedisAddr, DB: DemoRedisDB, DisableIdentity: true})
	defer rc.Close()
	if k, err := rc.Exists(ctx, WarmupRedisKey).Result(); err != nil || k != 0 {
		t.Errorf("redis key %s left behind (exists=%d, err=%v)", WarmupRedisKey, k, err)
	}
}

// warmupTopics lists the Kafka warm-up's scratch topics that exist.
func warmupTopics(t *testing.T, brokers []string) []string {
	t.Helper()
	admin, err := sarama.NewClusterAdmin(brokers, kafkaConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	topics, err := admin.ListTopics()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for name := range topics {
		if strings.HasPrefix(name, WarmupTopicPrefix) {
			out = append(out, name)
		}
	}
	return out
}
