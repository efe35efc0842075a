package ingest

import (
	"errors"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/workloads/internal/envconfig"
)

func TestConfigFromEnv(t *testing.T) {
	base := func(extra map[string]string) *envconfig.Reader {
		m := map[string]string{"KAFKA_BROKERS": "127.0.0.1:19092", "CASSANDRA_HOSTS": "127.0.0.1"}
		for k, v := range extra {
			m[k] = v
		}
		return envconfig.NewFrom(envconfig.FromMap(m))
	}
	c, err := ConfigFromEnv(base(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.BatchWrites || c.Outbox || c.Concurrency != 256 || c.Group != "ingest" {
		t.Fatalf("defaults: %+v", c)
	}
	// The longest timeout the hour marks' lag allows starts.
	if _, err := ConfigFromEnv(base(map[string]string{"CASSANDRA_TIMEOUT": "24s"})); err != nil {
		t.Fatalf("CASSANDRA_TIMEOUT=24s: %v", err)
	}
	c, err = ConfigFromEnv(base(map[string]string{"INGEST_BATCH_WRITES": "false", "INGEST_OUTBOX": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.BatchWrites || !c.Outbox {
		t.Fatalf("INGEST_BATCH_WRITES=false, INGEST_OUTBOX=true read as %+v", c)
	}
	_, err = ConfigFromEnv(base(map[string]string{"INGEST_BATCH_WRITES": "sometimes", "INGEST_CONCURRENCY": "0",
		"CASSANDRA_COSMOS": "true", "CASSANDRA_HOSTS": "acct.cassandra.cosmos.azure.com", "INGEST_OUTBOX": "true",
		"CASSANDRA_TIMEOUT": "25s"}))
	if !errors.Is(err, envconfig.ErrInvalidConfig) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"INGEST_BATCH_WRITES", "INGEST_CONCURRENCY", "INGEST_OUTBOX=true is for plain Apache Cassandra",
		"CASSANDRA_TIMEOUT=25s is too long"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
