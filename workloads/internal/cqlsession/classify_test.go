package cqlsession

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocql/gocql"

	"github.com/sluicehq/sluice/workloads/internal/envconfig"
)

// requestError stands in for the server's error frames, which gocql does
// not export.
type requestError struct {
	code int
	msg  string
}

func (e requestError) Code() int       { return e.code }
func (e requestError) Message() string { return e.msg }
func (e requestError) Error() string   { return e.msg }

func TestClassify(t *testing.T) {
	cases := []struct {
		name  string
		err   error
		retry bool
		after time.Duration
	}{
		{"cosmos 429", requestError{gocql.ErrCodeOverloaded, "Request rate is large: ActivityID=x, RetryAfterMs=120, Additional details"}, true, 120 * time.Millisecond},
		{"overloaded without hint", requestError{gocql.ErrCodeOverloaded, "overloaded"}, true, 0},
		{"wrapped overloaded", fmt.Errorf("upsert: %w", requestError{gocql.ErrCodeOverloaded, "RetryAfterMs=7"}), true, 7 * time.Millisecond},
		{"unavailable", requestError{gocql.ErrCodeUnavailable, "Cannot achieve consistency"}, true, 0},
		{"write timeout", requestError{0x1100, "timeout"}, true, 0},
		{"syntax", requestError{0x2000, "line 1:0 no viable alternative"}, false, 0},
		{"invalid", requestError{0x2200, "unconfigured table"}, false, 0},
		{"no connections", gocql.ErrNoConnections, true, 0},
		{"no response", fmt.Errorf("x: %w", gocql.ErrTimeoutNoResponse), true, 0},
		{"session closed", gocql.ErrSessionClosed, false, 0},
		{"unknown", errors.New("something odd"), true, 0},
	}
	for _, c := range cases {
		v := Classify(c.err)
		if v.Retry != c.retry || v.After != c.after {
			t.Errorf("%s: Classify = %+v, want retry=%v after=%s", c.name, v, c.retry, c.after)
		}
	}
}

// Writes stall on what every event would hit and dead-letter only what is
// about the event.
func TestClassifyWrite(t *testing.T) {
	cases := []struct {
		name         string
		err          error
		retry, stall bool
	}{
		{"table dropped", fmt.Errorf("upsert: %w", requestError{gocql.ErrCodeInvalid, "unconfigured table events_by_device"}), true, true},
		{"keyspace missing", requestError{gocql.ErrCodeInvalid, "Keyspace 'sluice' does not exist"}, true, true},
		{"column missing", requestError{gocql.ErrCodeInvalid, "Undefined column name payload in table sluice.events_outbox"}, true, true},
		{"permission revoked", requestError{gocql.ErrCodeUnauthorized, "User ingest has no MODIFY permission on <table sluice.events_by_id> or any of its parents"}, true, true},
		{"syntax", requestError{gocql.ErrCodeSyntax, "line 1:0 no viable alternative"}, true, true},
		{"value refused", requestError{gocql.ErrCodeInvalid, "Key length of 70000 is longer than maximum of 65535"}, false, false},
		{"batch too large", requestError{gocql.ErrCodeInvalid, "Batch too large"}, false, false},
		{"outage stays an outage", gocql.ErrNoConnections, true, false},
		{"session closed", gocql.ErrSessionClosed, false, false},
	}
	for _, c := range cases {
		v := ClassifyWrite(c.err)
		if v.Retry != c.retry || v.Stall != c.stall {
			t.Errorf("%s: ClassifyWrite = %+v, want retry=%v stall=%v", c.name, v, c.retry, c.stall)
		}
	}
}

func TestFromEnvCosmosDefaults(t *testing.T) {
	r := envconfig.NewFrom(envconfig.FromMap(map[string]string{
		"CASSANDRA_HOSTS":         "acct.cassandra.cosmos.azure.com",
		"CASSANDRA_USERNAME":      "acct",
		"CASSANDRA_PASSWORD_FILE": "/mnt/secrets/cosmos-key",
	}))
	c := FromEnv(r)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if !c.Cosmos || c.Port != CosmosPort || !c.TLS {
		t.Fatalf("cosmos defaults not applied: %+v", c)
	}
	cl := c.Cluster()
	if cl.ProtoVersion != 4 || !cl.DisableInitialHostLookup || cl.SslOpts == nil || cl.SslOpts.Config.MinVersion < 0x0303 {
		t.Fatalf("cluster config not Cosmos-safe: proto=%d lookup=%v ssl=%+v", cl.ProtoVersion, cl.DisableInitialHostLookup, cl.SslOpts)
	}
}

func TestFromEnvReportsEveryProblem(t *testing.T) {
	r := envconfig.NewFrom(envconfig.FromMap(map[string]string{
		"CASSANDRA_COSMOS":   "true",
		"CASSANDRA_TLS":      "false",
		"CASSANDRA_PORT":     "99999",
		"CASSANDRA_USERNAME": "u",
		"CASSANDRA_KEYSPACE": "sluice; DROP KEYSPACE x",
	}))
	FromEnv(r)
	err := r.Err()
	if !errors.Is(err, envconfig.ErrInvalidConfig) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"CASSANDRA_HOSTS", "CASSANDRA_TLS=false", "CASSANDRA_PORT", "CASSANDRA_USERNAME is set without", "CASSANDRA_KEYSPACE"} {
		if !contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestFromEnvKeyspaceNames(t *testing.T) {
	for name, ok := range map[string]bool{
		"sluice": true, "sluice_bench": true, "K2": true, strings.Repeat("k", 48): true,
		"2k": false, "_k": false, "a-b": false, "a.b": false, `"q"`: false, strings.Repeat("k", 49): false,
	} {
		r := envconfig.NewFrom(envconfig.FromMap(map[string]string{"CASSANDRA_HOSTS": "127.0.0.1", "CASSANDRA_KEYSPACE": name}))
		c := FromEnv(r)
		if err := r.Err(); (err == nil) != ok {
			t.Errorf("CASSANDRA_KEYSPACE=%q: err = %v, want accepted %v", name, err, ok)
		} else if ok && c.Keyspace != name {
			t.Errorf("CASSANDRA_KEYSPACE=%q read as %q", name, c.Keyspace)
		}
	}
}

func TestAuthenticatorRereadsPasswordFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(f, []byte("first\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := &Authenticator{Username: "u", PasswordFile: f}
	resp, _, err := a.Challenge(nil)
	if err != nil || string(resp) != "\x00u\x00first" {
		t.Fatalf("resp=%q err=%v", resp, err)
	}
	if err := os.WriteFile(f, []byte("second"), 0o600); err != nil {
		t.Fatal(err)
	}
	resp, _, _ = a.Challenge(nil)
	if string(resp) != "\x00u\x00second" {
		t.Fatalf("rotated password not read: %q", resp)
	}
	if err := os.Remove(f); err != nil {
		t.Fatal(err)
	}
	resp, _, err = a.Challenge(nil)
	if err != nil || string(resp) != "\x00u\x00second" {
		t.Fatalf("missing file mid-swap should keep last value: %q %v", resp, err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
