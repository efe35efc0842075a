// Package devservices installs, starts, stops and health-checks the local
// engines Sluice runs against on one machine, without Docker:
//
//   - Apache Kafka 3.9 (KRaft, single node: broker 127.0.0.1:19092, controller
//     :19093), jars from Maven Central, run on Java 17 with a 512 MiB heap.
//     Topics are never auto-created (like Event Hubs); new topics default to 6
//     partitions. The KRaft storage is formatted once; the cluster id lives in
//     data/kafka/cluster.id.
//   - Apache Cassandra 5.0 (CQL 127.0.0.1:19042, storage :17000, JMX on
//     loopback :17199), jars from Maven Central, run on Java 17 with a 1 GiB
//     G1 heap and the module flags of Cassandra's conf/jvm17-server.options.
//     A light single-node setup: one token, small pools and memtables,
//     periodic commit log, no auto snapshots. PasswordAuthenticator and
//     CassandraAuthorizer with the default superuser cassandra/cassandra.
//   - PostgreSQL from the Debian package (127.0.0.1:15432), its own cluster in
//     data/postgres/pgdata, run as the postgres OS user when the tool runs as
//     root. Role sluice/sluice (LOGIN CREATEDB CREATEROLE) owns database
//     sluice; TCP logins use SCRAM; the superuser postgres logs in only over
//     the private unix socket in run/pgsocket.
//   - Redis from the Debian package (127.0.0.1:16379), configured on its
//     command line: append-only file in data/redis, no RDB snapshots.
//
// Everything lives in one git-ignored home folder, .sluice at the repository
// root (the nearest directory above the working directory holding go.mod), or
// $SLUICE_HOME; see Layout. Jars are resolved by mvn from a generated pom
// (dependency:copy-dependencies) into cache/, with cache/m2 as the Maven local
// repository; nothing else is downloaded. $SLUICE_CACHE_DIR moves that cache
// elsewhere (for example to share it between fresh clones in CI).
// WriteSparkImageJars derives the stream image's extra jars from the same
// resolution: the Spark jar set minus spark-sql's runtime closure (what
// Apache Spark's image ships), matched by group:artifact. Missing PostgreSQL or Redis binaries
// are installed with apt-get when running as root (with Debian's policy-rc.d
// hook forbidding the packages from starting their own services); otherwise
// Up fails with one message naming every missing prerequisite and its fix.
//
// Engines run detached (own session and process group) and outlive the
// process that started them; run/<engine>.pid records each one's pid and start
// time, so a pid reused by an unrelated process is recognised as stale. Up is
// idempotent and waits until each engine answers a real client request (Kafka
// metadata with sarama, a CQL query with gocql, SELECT 1 with pgx, PING with
// go-redis), with a deadline per engine; on failure it reports the cause and
// the tail of the engine's log in logs/<engine>.log. Stop sends the engine's
// shutdown signal (SIGINT, fast shutdown, for PostgreSQL; SIGTERM otherwise),
// waits, then kills the process group. Purge also deletes data/.
//
// Answering is not serving at speed: a JVM just started interprets its hot
// paths until the JIT has compiled them (a Cassandra just started stored a
// few hundred events/s with a p99 of tens of seconds). So after an engine
// it started answers, Up warms it up before calling it ready, exercising
// the paths the workloads use on scratch data it removes: Cassandra takes
// ingest-shaped UNLOGGED batches (an event's rows by device, by id, by hour
// shard and the outbox) from 16 workers at ONE, with the api's and the
// change feed's reads, in the keyspace WarmupKeyspace, for at least 10,000
// batches and then until the p99 of a window of batches is under a
// threshold or flat over three windows; Kafka takes synchronous produce
// requests (acks from all) on a 6-partition scratch topic that a consumer
// fetches, until the produce and produce → fetch p99s settle the same way;
// PostgreSQL and Redis, native and fast at once, get a fixed 2,000 round
// trips that show it. Each prints one line with its duration and settled
// latencies. $SLUICE_WARMUP caps each warm-up (DefaultWarmupCap) or, at 0,
// skips them; an engine already running is never warmed again by Up.
// Manager.WarmUp runs the warm-ups on running engines on demand.
//
// The same Manager is used by the devservices command and by tests that
// restart engines mid-stream:
//
//	m, err := devservices.New("")
//	if err != nil { ... }
//	if err := m.Up(ctx, devservices.Kafka); err != nil { ... }
//	ep := devservices.LocalEndpoints()
//
// The ports and credentials are fixed in engine.go, the one place that holds
// them.
package devservices
