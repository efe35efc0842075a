package changefeed

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/workloads/internal/envconfig"
)

// load reads env over the two required settings.
func load(env map[string]string) (Config, error) {
	m := map[string]string{"CASSANDRA_HOSTS": "127.0.0.1", "REDIS_ADDR": "127.0.0.1:6379"}
	for k, v := range env {
		m[k] = v
	}
	return ConfigFromEnv(envconfig.NewFrom(envconfig.FromMap(m)))
}

// The defaults pass the grace check: 15 s > 10 s write timeout + 2 s skew.
func TestConfigDefaultGraceExceedsWriteTimeoutPlusSkew(t *testing.T) {
	c, err := load(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Grace != DefaultOutboxGrace || c.MaxSkew != DefaultOutboxMaxSkew || c.Grace <= c.Cassandra.Timeout+c.MaxSkew {
		t.Fatalf("grace %s, skew %s, write timeout %s", c.Grace, c.MaxSkew, c.Cassandra.Timeout)
	}
}

func TestConfigRefusesGraceWithinWriteTimeoutPlusSkew(t *testing.T) {
	_, err := load(map[string]string{"CHANGEFEED_OUTBOX_GRACE": "5s"})
	if err == nil {
		t.Fatal("a 5 s grace under a 10 s write timeout was accepted")
	}
	for _, want := range []string{"CHANGEFEED_OUTBOX_GRACE=5s", "CASSANDRA_TIMEOUT=10s", "CHANGEFEED_OUTBOX_MAX_SKEW=2s"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	// Equal is not enough: a write acknowledged at the timeout on a clock
	// at the skew limit lands right at the settled cursor.
	if _, err := load(map[string]string{"CHANGEFEED_OUTBOX_GRACE": "3s", "CASSANDRA_TIMEOUT": "2s", "CHANGEFEED_OUTBOX_MAX_SKEW": "1s"}); err == nil {
		t.Error("grace equal to timeout plus skew was accepted")
	}
	c, err := load(map[string]string{"CHANGEFEED_OUTBOX_GRACE": "3s", "CASSANDRA_TIMEOUT": "2s", "CHANGEFEED_OUTBOX_MAX_SKEW": "500ms"})
	if err != nil || c.Grace != 3*time.Second {
		t.Fatalf("a grace above timeout plus skew: %+v, %v", c.Grace, err)
	}
	// The Cosmos change feed has no grace window to check.
	if _, err := load(map[string]string{"CHANGEFEED_SOURCE": "cosmos", "CHANGEFEED_OUTBOX_GRACE": "1s"}); err != nil {
		t.Fatalf("cosmos source: %v", err)
	}
}

// A lease holder stops work the allowed skew before its lease expires, so
// the skew must be shorter than the lease.
func TestConfigLeaseMaxSkewShorterThanLease(t *testing.T) {
	c, err := load(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Runner.MaxSkew != DefaultLeaseMaxSkew || c.Runner.MaxSkew >= c.Runner.LeaseTTL {
		t.Fatalf("default lease skew %s with a %s lease", c.Runner.MaxSkew, c.Runner.LeaseTTL)
	}
	for _, env := range []map[string]string{
		{"CHANGEFEED_LEASE_TTL": "2s"},
		{"CHANGEFEED_LEASE_TTL": "5s", "CHANGEFEED_LEASE_MAX_SKEW": "6s"},
	} {
		_, err := load(env)
		if err == nil {
			t.Fatalf("%v: a lease skew not shorter than the lease was accepted", env)
		}
		for _, want := range []string{"CHANGEFEED_LEASE_MAX_SKEW=", "must be shorter than CHANGEFEED_LEASE_TTL="} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%v: error %q does not say %s", env, err, want)
			}
		}
	}
	c, err = load(map[string]string{"CHANGEFEED_LEASE_TTL": "3s", "CHANGEFEED_LEASE_MAX_SKEW": "500ms"})
	if err != nil || c.Runner.MaxSkew != 500*time.Millisecond {
		t.Fatalf("a lease skew under the lease: %s, %v", c.Runner.MaxSkew, err)
	}
}
