//go:build integration

package cqlsession_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/gocql/gocql"
	"github.com/google/uuid"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/itest"
	"github.com/sluicehq/sluice/workloads/dev/localrun"
	"github.com/sluicehq/sluice/workloads/dev/pipelinetest"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
)

// writeKey replaces the key file the way the Secrets Store CSI driver does:
// a new file renamed over the old one.
func writeKey(t *testing.T, path, key string) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// rolePorts lists the client ports of the role's connections, from
// Cassandra's own view of its clients.
func rolePorts(admin *gocql.Session, role string) (map[int]bool, error) {
	iter := admin.Query("SELECT port, username FROM system_views.clients").Iter()
	ports := map[int]bool{}
	var port int
	var user string
	for iter.Scan(&port, &user) {
		if user == role {
			ports[port] = true
		}
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("list cassandra clients: %w", err)
	}
	return ports, nil
}

// TestIntegrationKeyRotationWithoutRestart rotates the Cassandra password
// under running ingest, api and changefeed processes, the local rehearsal of rotating
// the Cosmos DB key (infra/delivery/scripts/rotate-cosmos-key.sh): the role's
// password changes in Cassandra (the key is regenerated), then the mounted
// key file is replaced (Key Vault, synced by the CSI driver). Every process
// must keep working, open new sessions with the new key, close every
// connection made with the old one, and never restart.
func TestIntegrationKeyRotationWithoutRestart(t *testing.T) {
	ep := itest.Up(t, devservices.Kafka, devservices.Cassandra, devservices.Redis)
	admin, _ := itest.Cassandra(t, ep)
	role := itest.Name("rotation")
	oldKey, newKey := "key-one-"+uuid.NewString(), "key-two-"+uuid.NewString()
	for _, cql := range []string{
		fmt.Sprintf("CREATE ROLE %s WITH PASSWORD = '%s' AND LOGIN = true", role, oldKey),
		fmt.Sprintf("GRANT SELECT ON KEYSPACE %s TO %s", contract.Keyspace, role),
		fmt.Sprintf("GRANT MODIFY ON KEYSPACE %s TO %s", contract.Keyspace, role),
	} {
		if err := admin.Query(cql).Exec(); err != nil {
			t.Fatalf("%s: %v", cql, err)
		}
	}
	t.Cleanup(func() { _ = admin.Query("DROP ROLE IF EXISTS " + role).Exec() })

	keyFile := filepath.Join(t.TempDir(), "cassandra-password")
	writeKey(t, keyFile, oldKey)
	topic := itest.Name("rotation-events")
	itest.Topics(t, ep, map[string]int32{topic: 4, topic + ".dlq": 1})
	_, sc := itest.Kafka(t, ep, topic, topic+".dlq")
	bin := pipelinetest.Binaries(t)

	var env []string
	for _, kv := range ep.Env() {
		env = append(env, kv[0]+"="+kv[1])
	}
	env = append(env,
		"CASSANDRA_USERNAME="+role, "CASSANDRA_PASSWORD=", "CASSANDRA_PASSWORD_FILE="+keyFile,
		"CASSANDRA_PASSWORD_POLL=500ms", "CASSANDRA_ROTATION_DRAIN=2s", "CASSANDRA_CONSISTENCY=ONE",
		"KAFKA_TOPIC="+topic, "KAFKA_DLQ_TOPIC="+topic+".dlq", "LOG_LEVEL=info")
	logs := t.TempDir()
	start := func(name string, extra ...string) *localrun.Proc {
		p, err := localrun.Start(context.Background(), name, filepath.Join(bin, name), append(append([]string(nil), env...), extra...), nil,
			filepath.Join(logs, name+".log"), 2*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := p.Stop(30 * time.Second); err != nil {
				t.Errorf("stop %s: %v", name, err)
			}
			if t.Failed() {
				b, _ := os.ReadFile(filepath.Join(logs, name+".log"))
				lines := strings.Split(strings.TrimSpace(string(b)), "\n")
				t.Logf("--- %s log (tail) ---\n%s", name, strings.Join(lines[max(0, len(lines)-25):], "\n"))
			}
		})
		return p
	}
	// The change feed starts a little in the past, so it cannot miss the
	// first events however long its start takes.
	feed := start("changefeed", "CHANGEFEED_NAME="+itest.Name("rotation-feed"),
		"CHANGEFEED_START="+time.Now().Add(-time.Second).UTC().Format(time.RFC3339))
	ingest := start("ingest", "INGEST_GROUP="+itest.Name("rotation-ingest"), "INGEST_OUTBOX=true")
	api := start("api", "API_MODE=local")
	procs := []*localrun.Proc{ingest, api, feed}
	pids := map[string]int{ingest.Name: ingest.Pid(), api.Name: api.Pid(), feed.Name: feed.Pid()}

	producer, err := sarama.NewSyncProducer(ep.KafkaBrokers, sc)
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	var mu sync.Mutex
	var sent []string
	produce := func(n int) ([]string, error) {
		msgs := make([]*sarama.ProducerMessage, n)
		ids := make([]string, n)
		for i := range msgs {
			ev := contract.Event{V: contract.SchemaVersion, ID: uuid.Must(uuid.NewV7()).String(), Site: "site-rotation",
				Device: fmt.Sprintf("dev-rot-%02d", i%7), Kind: "co2", Value: float64(400 + i), Unit: "ppm",
				Severity: contract.SeverityInfo, At: time.Now().UTC()}
			b, err := ev.Marshal()
			if err != nil {
				return nil, err
			}
			ids[i] = ev.ID
			msgs[i] = &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(ev.Device), Value: sarama.ByteEncoder(b)}
		}
		if err := producer.SendMessages(msgs); err != nil {
			return nil, fmt.Errorf("produce: %w", err)
		}
		mu.Lock()
		sent = append(sent, ids...)
		mu.Unlock()
		return ids, nil
	}
	stored := func(ids []string) error {
		for _, id := range ids {
			uid, err := gocql.ParseUUID(id)
			if err != nil {
				return err
			}
			var got gocql.UUID
			err = admin.Query(fmt.Sprintf("SELECT id FROM %s.%s WHERE id = ?", contract.Keyspace, contract.TableEventsByID), uid).Scan(&got)
			if errors.Is(err, gocql.ErrNotFound) {
				return fmt.Errorf("event %s not stored yet", id)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	client := &http.Client{Timeout: 5 * time.Second}
	readThroughAPI := func(id string) error {
		resp, err := client.Get("http://" + api.Addr + "/v1/events/" + id)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), id) {
			return fmt.Errorf("GET event %s: %d %s", id, resp.StatusCode, body)
		}
		if c := resp.Header.Get("X-Cache"); c == "hit" {
			return fmt.Errorf("GET event %s came from the cache; the read must reach Cassandra", id)
		}
		return nil
	}
	metric := func(p *localrun.Proc, name string) float64 {
		m, err := p.Metrics()
		if err != nil {
			t.Fatalf("metrics of %s: %v", p.Name, err)
		}
		return m[name]
	}

	before, err := produce(40)
	if err != nil {
		t.Fatal(err)
	}
	itest.Eventually(t, time.Minute, func() error { return stored(before) })
	if err := readThroughAPI(before[0]); err != nil {
		t.Fatal(err)
	}
	oldPorts, err := rolePorts(admin, role)
	if err != nil {
		t.Fatal(err)
	}
	if len(oldPorts) == 0 {
		t.Fatalf("no connection of role %s before the rotation; the workloads do not log in as it", role)
	}

	// Events keep flowing through the whole rotation.
	stop := make(chan struct{})
	produced := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				produced <- nil
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := produce(5); err != nil {
				produced <- err
				return
			}
		}
	}()

	// 1. The key is regenerated: the old one no longer opens connections.
	// (Cassandra 5 refuses a password change within 5 s of the last one.)
	itest.Eventually(t, 30*time.Second, func() error {
		return admin.Query(fmt.Sprintf("ALTER ROLE %s WITH PASSWORD = '%s'", role, newKey)).Exec()
	})
	oldLogin := cqlsession.Config{Hosts: ep.CassandraHosts, Port: ep.CassandraPort, Username: role, Password: oldKey,
		Keyspace: contract.Keyspace, Consistency: gocql.One, Timeout: 5 * time.Second, NumConns: 1}
	itest.Eventually(t, 30*time.Second, func() error {
		// One attempt per connection: the workloads' policy retries a
		// refused login for as long as a Cassandra restart may take.
		cl := oldLogin.Cluster()
		cl.ReconnectionPolicy = &gocql.ConstantReconnectionPolicy{MaxRetries: 1}
		s, err := cl.CreateSession()
		if err == nil {
			s.Close()
			return errors.New("the old key still opens connections")
		}
		return nil
	})
	// 2. The new key reaches the mounted file.
	writeKey(t, keyFile, newKey)

	// Both processes open a session with the new key ...
	itest.Eventually(t, time.Minute, func() error {
		for _, p := range procs {
			if n := metric(p, "sluice_cassandra_session_rotations_total"); n != 1 {
				return fmt.Errorf("%s rotated %v times, want 1", p.Name, n)
			}
		}
		return nil
	})
	// ... and, once the old sessions drained, no connection made with the
	// old key is left: every connection of the role was opened after the
	// ALTER ROLE, so with the new key.
	itest.Eventually(t, time.Minute, func() error {
		ports, err := rolePorts(admin, role)
		if err != nil {
			return err
		}
		if len(ports) == 0 {
			return errors.New("no connection of the role after the rotation")
		}
		for p := range ports {
			if oldPorts[p] {
				return fmt.Errorf("connection from port %d, made with the old key, is still open", p)
			}
		}
		return nil
	})
	close(stop)
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	after, err := produce(40)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	all := append([]string(nil), sent...)
	mu.Unlock()
	itest.Eventually(t, 2*time.Minute, func() error { return stored(all) })
	// The change feed followed the outbox across the rotation: every event
	// reached it (the outbox is shared, so others' changes may add to it).
	itest.Eventually(t, time.Minute, func() error {
		if n := metric(feed, "sluice_changefeed_changes_total"); n < float64(len(all)) {
			return fmt.Errorf("the change feed processed %v changes, want at least the %d events produced", n, len(all))
		}
		return nil
	})
	for _, id := range []string{after[0], after[len(after)-1], before[1]} {
		if err := readThroughAPI(id); err != nil {
			t.Error(err)
		}
	}
	for _, p := range procs {
		if p.Pid() != pids[p.Name] {
			t.Errorf("%s restarted: pid %d, was %d", p.Name, p.Pid(), pids[p.Name])
		}
		if err := syscall.Kill(p.Pid(), 0); err != nil {
			t.Errorf("%s (pid %d) is gone: %v", p.Name, p.Pid(), err)
		}
		if n := metric(p, "sluice_cassandra_session_rotation_failures_total"); n != 0 {
			t.Errorf("%s failed %v rotation attempts; the key was valid before it reached the file", p.Name, n)
		}
	}
	if dead := metric(ingest, "sluice_ingest_dlq_total"); dead != 0 {
		t.Errorf("ingest dead-lettered %v events during the rotation", dead)
	}
	t.Logf("%d events stored across the rotation; ingest, api and changefeed kept their pids", len(all))
}
