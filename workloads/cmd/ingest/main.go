// Command ingest consumes events from Kafka and stores them in Cassandra;
// see package ingest. Configuration comes from the environment (KAFKA_*,
// CASSANDRA_*, INGEST_*, HTTP_ADDR, SHUTDOWN_TIMEOUT, LOG_LEVEL).
// INGEST_OUTBOX=true also appends every stored event to the events outbox
// that the changefeed worker reads on plain Apache Cassandra. An event's
// rows go in one unlogged batch; INGEST_BATCH_WRITES=false sends them one
// statement at a time instead. Besides
// /healthz, /readyz and /metrics it serves GET /lag, the consumer group's
// lag as JSON (KEDA scales ingest on it). A changed CASSANDRA_PASSWORD_FILE
// (a rotated Cosmos DB key) moves the writes to a new session without a
// restart. GOGC and GOMEMLIMIT default to 300 and 160 MiB (tuneGC).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/internal/consumerlag"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
	"github.com/sluicehq/sluice/workloads/internal/ingest"
	"github.com/sluicehq/sluice/workloads/internal/opsserver"
	"github.com/sluicehq/sluice/workloads/internal/service"
)

func main() {
	service.Main(deploy.Ingest, "consumes events from Kafka into Cassandra; configured by environment variables", run)
}

// tuneGC trades memory for CPU unless GOGC or GOMEMLIMIT say otherwise:
// every record allocates its decoded event and its statements, and the
// live heap is small (the records in flight), so a less eager collector
// spends a good share of CPU per event less for a few tens of MiB. The
// memory limit keeps the heap, and so the pod's footprint, bounded.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(300)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(160 << 20)
	}
}

func run(ctx context.Context, svc *service.Service) error {
	cfg, err := ingest.ConfigFromEnv(envconfig.New())
	if err != nil {
		return err
	}
	tuneGC()
	reg := svc.Registry
	metrics := ingest.NewMetrics(reg)

	sessions, err := svc.OpenCassandra(ctx, cfg.Cassandra)
	if err != nil {
		return err
	}
	defer sessions.Close()

	sc, err := cfg.Kafka.Sarama(nil)
	if err != nil {
		return err
	}
	group, err := sarama.NewConsumerGroup(cfg.Kafka.Brokers, cfg.Group, sc)
	if err != nil {
		return fmt.Errorf("join consumer group %s: %w", cfg.Group, err)
	}
	producer, err := sarama.NewSyncProducer(cfg.Kafka.Brokers, sc)
	if err != nil {
		_ = group.Close()
		return fmt.Errorf("dead-letter producer: %w", err)
	}
	defer producer.Close()
	// The consumer group's lag, served at /lag for KEDA's metrics-api
	// trigger (KEDA's kafka scaler cannot use workload identity).
	lagClient, err := sarama.NewClient(cfg.Kafka.Brokers, sc)
	if err != nil {
		_ = group.Close()
		return fmt.Errorf("lag client: %w", err)
	}
	lagAdmin, err := sarama.NewClusterAdminFromClient(lagClient)
	if err != nil {
		_ = lagClient.Close()
		_ = group.Close()
		return fmt.Errorf("lag admin: %w", err)
	}
	defer lagAdmin.Close()
	lag := consumerlag.New(lagClient, lagAdmin, cfg.Group, cfg.Kafka.Topic, reg)

	// The hour marks tell enrich which hours received rows after their run.
	storeOpts := []eventstore.Option{eventstore.WithHourMarks()}
	if cfg.Outbox {
		storeOpts = append(storeOpts, eventstore.WithOutbox(""))
	}
	if !cfg.BatchWrites {
		storeOpts = append(storeOpts, eventstore.WithStatementWrites())
	}
	worker := ingest.New(group, cfg.Kafka.Topic, eventstore.NewWithSource(sessions, cfg.Cassandra.Keyspace, storeOpts...),
		&ingest.KafkaDeadLetters{Producer: producer, Topic: cfg.Kafka.DLQTopic}, metrics,
		ingest.Options{Concurrency: cfg.Concurrency, DrainTimeout: cfg.ShutdownTimeout * 4 / 5, Classify: cqlsession.ClassifyWrite})

	stopOps, err := svc.ServeOps(cfg.HTTPAddr, func(context.Context) error {
		if sessions.Closed() {
			return errors.New("cassandra session closed")
		}
		return worker.Ready()
	}, func(ops *opsserver.Server) { ops.Handle("GET /lag", lag) })
	if err != nil {
		return err
	}
	defer stopOps()

	// The worker drains within DrainTimeout; the deadline is the backstop
	// a Kubernetes terminationGracePeriod expects.
	return service.Run(ctx, cfg.ShutdownTimeout, "in-flight writes finished", worker.Run)
}
