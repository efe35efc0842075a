package devservices

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Engine names one local engine.
type Engine string

// The engines the tool manages.
const (
	Kafka     Engine = "kafka"
	Cassandra Engine = "cassandra"
	Postgres  Engine = "postgres"
	Redis     Engine = "redis"
)

// AllEngines lists every engine in start order: the slowest first, so its
// start overlaps with the others.
func AllEngines() []Engine {
	return []Engine{Cassandra, Kafka, Postgres, Redis}
}

// ParseEngine turns a name such as "kafka" into an Engine.
func ParseEngine(s string) (Engine, error) {
	e := Engine(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range AllEngines() {
		if e == known {
			return e, nil
		}
	}
	return "", fmt.Errorf("unknown engine %q (want one of kafka, cassandra, postgres, redis)", s)
}

// The one place that fixes the local addresses. Everything binds to the
// loopback address only.
const (
	// Host is the only address the engines listen on.
	Host = "127.0.0.1"

	KafkaBrokerPort      = 19092
	KafkaControllerPort  = 19093
	CassandraCQLPort     = 19042
	CassandraStoragePort = 17000
	CassandraJMXPort     = 17199
	PostgresPort         = 15432
	RedisPort            = 16379
)

// Local credentials. They protect nothing but a developer's loopback engines.
const (
	CassandraUser     = "cassandra"
	CassandraPassword = "cassandra"
	PostgresUser      = "sluice"
	PostgresPassword  = "sluice"
	PostgresDatabase  = "sluice"
)

// Ports returns the TCP ports an engine listens on, the client port first.
func (e Engine) Ports() []int {
	switch e {
	case Kafka:
		return []int{KafkaBrokerPort, KafkaControllerPort}
	case Cassandra:
		return []int{CassandraCQLPort, CassandraStoragePort, CassandraJMXPort}
	case Postgres:
		return []int{PostgresPort}
	case Redis:
		return []int{RedisPort}
	}
	return nil
}

// Endpoints are the fixed local addresses of the engines.
type Endpoints struct {
	KafkaBrokers      []string
	CassandraHosts    []string
	CassandraPort     int
	CassandraUser     string
	CassandraPassword string
	PostgresURL       string
	RedisAddr         string
	// RedisDB is the Redis database the workloads and clients use:
	// DemoRedisDB for the demo, TestRedisDB for the tests, BenchRedisDB for
	// the benchmarks, so neither writes into what the demo's live page shows.
	RedisDB int
}

// The Redis databases of the local Redis, one per kind of run. make test
// empties TestRedisDB before and after the tests; nothing empties the
// demo's.
const (
	DemoRedisDB  = 0
	TestRedisDB  = 1
	BenchRedisDB = 2
)

// LocalEndpoints returns the addresses and credentials of the local engines.
func LocalEndpoints() Endpoints {
	return Endpoints{
		KafkaBrokers:      []string{hostPort(KafkaBrokerPort)},
		CassandraHosts:    []string{Host},
		CassandraPort:     CassandraCQLPort,
		CassandraUser:     CassandraUser,
		CassandraPassword: CassandraPassword,
		PostgresURL: fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable",
			PostgresUser, PostgresPassword, hostPort(PostgresPort), PostgresDatabase),
		RedisAddr: hostPort(RedisPort),
		RedisDB:   DemoRedisDB,
	}
}

// TestEndpoints are LocalEndpoints with the tests' Redis database.
func TestEndpoints() Endpoints {
	ep := LocalEndpoints()
	ep.RedisDB = TestRedisDB
	return ep
}

// Env returns the endpoints as environment variables, in a stable order, the
// way the workloads read them.
func (ep Endpoints) Env() [][2]string {
	return [][2]string{
		{"KAFKA_BROKERS", strings.Join(ep.KafkaBrokers, ",")},
		{"CASSANDRA_HOSTS", strings.Join(ep.CassandraHosts, ",")},
		{"CASSANDRA_PORT", strconv.Itoa(ep.CassandraPort)},
		{"CASSANDRA_USERNAME", ep.CassandraUser},
		{"CASSANDRA_PASSWORD", ep.CassandraPassword},
		{"POSTGRES_URL", ep.PostgresURL},
		{"REDIS_ADDR", ep.RedisAddr},
		{"REDIS_DB", strconv.Itoa(ep.RedisDB)},
	}
}

func hostPort(port int) string {
	return net.JoinHostPort(Host, strconv.Itoa(port))
}
