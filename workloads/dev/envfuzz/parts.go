package envfuzz

import (
	"context"
	"net"
	"regexp"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/kafkaclient"
	"github.com/sluicehq/sluice/workloads/internal/pgstore"
	"github.com/sluicehq/sluice/workloads/internal/rediscache"
)

// The checks below restate the rules of the systems the names go to,
// independently of the loaders' own checks, so that a loader that lets a
// bad name through fails.
var (
	// Identifier is an unquoted CQL keyspace or table name, which
	// nothing in it can turn into another statement.
	Identifier = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,47}$`)
	// kafkaTopic is a topic name Kafka accepts (besides "." and "..").
	kafkaTopic = regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)
)

// Within reports whether d is in [lo, hi].
func Within[T int | int64 | float64 | time.Duration](d, lo, hi T) bool { return d >= lo && d <= hi }

// Cassandra checks an accepted cqlsession.Config.
func Cassandra(c cqlsession.Config) error {
	var cs Checks
	cs.Want(len(c.Hosts) > 0, "no cassandra host")
	for _, h := range c.Hosts {
		cs.Want(h != "", "an empty cassandra host")
	}
	cs.Want(Within(c.Port, 1, 65535), "cassandra port %d", c.Port)
	cs.Want(Identifier.MatchString(c.Keyspace), "keyspace %q is not a CQL name", c.Keyspace)
	cs.Want(!c.Cosmos || c.TLS, "cosmos without TLS")
	cs.Want(c.Password == "" || c.PasswordFile == "", "both a password and a password file")
	cs.Want(c.Username == "" || c.Password != "" || c.PasswordFile != "", "a username without a password")
	cs.Want(Within(c.Timeout, 100*time.Millisecond, 5*time.Minute), "cassandra timeout %s", c.Timeout)
	cs.Want(Within(c.NumConns, 1, 64), "cassandra connections %d", c.NumConns)
	cs.Want(c.Cluster() != nil, "no gocql cluster")
	return cs.Err()
}

// Kafka checks an accepted kafkaclient.Config; the sarama configuration
// built from it must validate.
func Kafka(c kafkaclient.Config) error {
	var cs Checks
	cs.Want(len(c.Brokers) > 0, "no kafka broker")
	for _, b := range c.Brokers {
		_, _, err := net.SplitHostPort(b)
		cs.Want(err == nil, "broker %q is not host:port", b)
	}
	for _, t := range []string{c.Topic, c.DLQTopic} {
		cs.Want(kafkaTopic.MatchString(t) && t != "." && t != "..", "topic %q is not a Kafka topic name", t)
	}
	cs.Want(c.Auth == kafkaclient.AuthNone || c.TLS, "kafka auth %s without TLS", c.Auth)
	if len(c.Brokers) > 0 {
		_, err := c.Sarama(noToken{})
		cs.Add(err)
	}
	return cs.Err()
}

// Postgres checks an accepted pgstore.Config: pgx must accept the
// connection it describes.
func Postgres(c pgstore.Config) error {
	var cs Checks
	cs.Want((c.URL == "") != (c.Host == ""), "want exactly one of a URL and a host")
	cs.Want(c.URL != "" || c.User != "", "a host without a user")
	cs.Want(Within(c.Port, 1, 65535), "postgres port %d", c.Port)
	cs.Want(Within(c.MaxConns, 1, 200), "postgres connections %d", c.MaxConns)
	cs.Want(c.Auth != pgstore.AuthEntra || c.Password == "", "entra with a password")
	_, err := c.ConnConfig()
	cs.Add(err)
	return cs.Err()
}

// Redis checks an accepted rediscache.Config: go-redis' options must build
// from it.
func Redis(c rediscache.Config) error {
	var cs Checks
	cs.Want(len(c.Problems()) == 0, "redis problems %q", c.Problems())
	cs.Want(Within(c.DB, 0, 15), "redis db %d", c.DB)
	cs.Want(Within(c.MaxRetries, -1, 10), "redis retries %d", c.MaxRetries)
	_, err := c.Options(&rediscache.EntraCredentials{Source: noToken{}})
	cs.Add(err)
	return cs.Err()
}

// noToken stands in for an Entra ID credential: nothing here connects.
type noToken struct{}

func (noToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{}, context.Canceled
}
