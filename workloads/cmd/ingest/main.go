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
// restart.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/workloads/internal/consumerlag"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
	"github.com/sluicehq/sluice/workloads/internal/ingest"
	"github.com/sluicehq/sluice/workloads/internal/logging"
	"github.com/sluicehq/sluice/workloads/internal/opsserver"
	"github.com/sluicehq/sluice/workloads/internal/version"
)

func main() {
	if version.HandleFlags("ingest", "consumes events from Kafka into Cassandra; configured by environment variables") {
		return
	}
	log := logging.Setup("ingest")
	if err := run(); err != nil {
		log.Error("ingest failed", "err", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := ingest.ConfigFromEnv(envconfig.New())
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	reg := opsserver.NewRegistry()
	metrics := ingest.NewMetrics(reg)

	// The session follows the mounted Cosmos DB key: a rotated key opens a
	// new session without a restart (see cqlsession.Rotating).
	sessions, err := cfg.Cassandra.OpenRotating(cqlsession.RotateOptions{Registerer: reg})
	if err != nil {
		return err
	}
	defer sessions.Close()
	go sessions.Run(ctx)

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

	var storeOpts []eventstore.Option
	if cfg.Outbox {
		storeOpts = append(storeOpts, eventstore.WithOutbox(""))
	}
	if !cfg.BatchWrites {
		storeOpts = append(storeOpts, eventstore.WithStatementWrites())
	}
	worker := ingest.New(group, cfg.Kafka.Topic, eventstore.NewWithSource(sessions, cfg.Cassandra.Keyspace, storeOpts...),
		&ingest.KafkaDeadLetters{Producer: producer, Topic: cfg.Kafka.DLQTopic}, metrics,
		ingest.Options{Concurrency: cfg.Concurrency, DrainTimeout: cfg.ShutdownTimeout * 4 / 5, Classify: cqlsession.Classify})

	ops, err := opsserver.Listen(cfg.HTTPAddr, reg, func(context.Context) error {
		if sessions.Closed() {
			return errors.New("cassandra session closed")
		}
		return worker.Ready()
	})
	if err != nil {
		return err
	}
	ops.Handle("GET /lag", lag)
	go ops.Serve()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = ops.Shutdown(sctx)
	}()

	runErr := make(chan error, 1)
	go func() { runErr <- worker.Run(ctx) }()
	select {
	case err := <-runErr:
		return err
	case <-ctx.Done():
	}
	// The worker drains within DrainTimeout; the deadline here is the
	// backstop a Kubernetes terminationGracePeriod expects.
	select {
	case err := <-runErr:
		return err
	case <-time.After(cfg.ShutdownTimeout):
		return errors.New("shutdown deadline passed before in-flight writes finished")
	}
}
