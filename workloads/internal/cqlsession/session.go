package cqlsession

import (
	"crypto/tls"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/gocql/gocql"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
)

const (
	cosmosHostSuffix = ".cassandra.cosmos.azure.com"
	// CosmosPort is Cosmos DB for Apache Cassandra's CQL port.
	CosmosPort = deploy.CosmosCassandraPort
)

// Config is the Cassandra part of a workload's configuration.
type Config struct {
	Hosts        []string
	Port         int
	Username     string
	Password     string `json:"-"`
	PasswordFile string
	TLS          bool
	Cosmos       bool
	Keyspace     string
	Consistency  gocql.Consistency
	Timeout      time.Duration
	NumConns     int
	// PasswordPoll is how often a Rotating session reads PasswordFile;
	// RotationDrain how long a replaced session stays open.
	PasswordPoll  time.Duration
	RotationDrain time.Duration
}

// FromEnv reads CASSANDRA_HOSTS, CASSANDRA_PORT, CASSANDRA_USERNAME,
// CASSANDRA_PASSWORD or CASSANDRA_PASSWORD_FILE, CASSANDRA_TLS,
// CASSANDRA_COSMOS, CASSANDRA_KEYSPACE, CASSANDRA_CONSISTENCY,
// CASSANDRA_TIMEOUT, CASSANDRA_NUM_CONNS, and for key rotation (see
// Rotating) CASSANDRA_PASSWORD_POLL and CASSANDRA_ROTATION_DRAIN.
func FromEnv(r *envconfig.Reader) Config {
	c := Config{Hosts: r.List(deploy.EnvCassandraHosts, nil)}
	if len(c.Hosts) == 0 {
		r.Problem("CASSANDRA_HOSTS is required (comma-separated hosts)")
	}
	autoCosmos := len(c.Hosts) > 0 && strings.HasSuffix(c.Hosts[0], cosmosHostSuffix)
	c.Cosmos = r.Bool(deploy.EnvCassandraCosmos, autoCosmos)
	defPort := 9042
	if c.Cosmos {
		defPort = CosmosPort
	}
	c.Port = r.Int(deploy.EnvCassandraPort, defPort, 1, 65535)
	c.Username = r.String(deploy.EnvCassandraUsername, "")
	c.Password = r.String(deploy.EnvCassandraPassword, "")
	c.PasswordFile = r.String(deploy.EnvCassandraPasswordFile, "")
	c.TLS = r.Bool(deploy.EnvCassandraTLS, c.Cosmos)
	c.Keyspace = r.String(deploy.EnvCassandraKeyspace, "sluice")
	if !ValidName(c.Keyspace) {
		r.Problem("CASSANDRA_KEYSPACE=%q must be 1-48 letters, digits or underscores, starting with a letter", c.Keyspace)
	}
	cons := r.OneOf(deploy.EnvCassandraConsistency, "LOCAL_QUORUM", "ONE", "LOCAL_ONE", "QUORUM", "LOCAL_QUORUM", "ALL")
	c.Consistency = gocql.ParseConsistency(cons)
	c.Timeout = r.Duration(deploy.EnvCassandraTimeout, 10*time.Second, 100*time.Millisecond, 5*time.Minute)
	c.NumConns = r.Int(deploy.EnvCassandraNumConns, 2, 1, 64)
	c.PasswordPoll = r.Duration(deploy.EnvCassandraPasswordPoll, DefaultPasswordPoll, 100*time.Millisecond, 10*time.Minute)
	c.RotationDrain = r.Duration(deploy.EnvCassandraRotationDrain, DefaultRotationDrain, 100*time.Millisecond, 10*time.Minute)
	if c.Cosmos && !c.TLS {
		r.Problem("CASSANDRA_TLS=false is not allowed against Cosmos DB")
	}
	if c.Password != "" && c.PasswordFile != "" {
		r.Problem("set only one of CASSANDRA_PASSWORD and CASSANDRA_PASSWORD_FILE")
	}
	if c.Username != "" && c.Password == "" && c.PasswordFile == "" {
		r.Problem("CASSANDRA_USERNAME is set without CASSANDRA_PASSWORD or CASSANDRA_PASSWORD_FILE")
	}
	return c
}

// Cluster returns the gocql cluster configuration for c. Retries are left to
// the caller's loop (see Classify), so gocql's own policy does none.
func (c Config) Cluster() *gocql.ClusterConfig {
	cl := gocql.NewCluster(c.Hosts...)
	cl.Port = c.Port
	cl.Keyspace = c.Keyspace
	cl.Consistency = c.Consistency
	cl.Timeout = c.Timeout
	cl.ConnectTimeout = c.Timeout
	cl.NumConns = c.NumConns
	cl.RetryPolicy = &gocql.SimpleRetryPolicy{NumRetries: 0}
	cl.PoolConfig.HostSelectionPolicy = gocql.TokenAwareHostPolicy(gocql.RoundRobinHostPolicy())
	cl.ReconnectInterval = 2 * time.Second
	cl.ReconnectionPolicy = &gocql.ExponentialReconnectionPolicy{MaxRetries: 1 << 20, InitialInterval: 500 * time.Millisecond, MaxInterval: 5 * time.Second}
	if c.Cosmos {
		cl.ProtoVersion = 4
		cl.DisableInitialHostLookup = true
		// Cosmos answers with one gateway address; token awareness
		// buys nothing there.
		cl.PoolConfig.HostSelectionPolicy = gocql.RoundRobinHostPolicy()
	}
	if c.TLS {
		cl.SslOpts = &gocql.SslOptions{Config: &tls.Config{MinVersion: tls.VersionTLS12}, EnableHostVerification: true}
	}
	if c.Username != "" {
		cl.Authenticator = &Authenticator{Username: c.Username, Password: c.Password, PasswordFile: c.PasswordFile}
	}
	return cl
}

// Open connects a session.
func (c Config) Open() (*gocql.Session, error) {
	s, err := c.Cluster().CreateSession()
	if err != nil {
		return nil, fmt.Errorf("connect to cassandra %s:%d: %w", strings.Join(c.Hosts, ","), c.Port, err)
	}
	return s, nil
}

// Authenticator answers Cassandra's PasswordAuthenticator challenge. When
// PasswordFile is set it is read at every new connection, which is how a
// rotated key reaches a running workload.
type Authenticator struct {
	Username     string
	Password     string
	PasswordFile string

	mu       sync.Mutex
	lastRead string
}

var _ gocql.Authenticator = (*Authenticator)(nil)

// cqlName is what an unquoted CQL keyspace or table name may be; the
// names are written into statements, so nothing else is let through.
var cqlName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,47}$`)

// ValidName reports whether s may be written into a statement as a
// keyspace or table name.
func ValidName(s string) bool { return cqlName.MatchString(s) }

// Challenge implements gocql.Authenticator.
func (a *Authenticator) Challenge(req []byte) ([]byte, gocql.Authenticator, error) {
	pw, err := a.password()
	if err != nil {
		return nil, nil, err
	}
	resp := make([]byte, 0, 2+len(a.Username)+len(pw))
	resp = append(resp, 0)
	resp = append(resp, a.Username...)
	resp = append(resp, 0)
	resp = append(resp, pw...)
	return resp, nil, nil
}

// Success implements gocql.Authenticator.
func (a *Authenticator) Success([]byte) error { return nil }

func (a *Authenticator) password() (string, error) {
	if a.PasswordFile == "" {
		return a.Password, nil
	}
	b, err := os.ReadFile(a.PasswordFile)
	if err != nil {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.lastRead != "" {
			// The CSI driver swaps the file atomically; a read that
			// races the swap falls back to the last good value.
			return a.lastRead, nil
		}
		return "", fmt.Errorf("read cassandra password file: %w", err)
	}
	pw := strings.TrimRight(string(b), "\r\n")
	a.mu.Lock()
	a.lastRead = pw
	a.mu.Unlock()
	return pw, nil
}
