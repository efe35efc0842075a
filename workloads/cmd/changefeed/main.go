// Command changefeed follows the change feed of the events tables and keeps
// the Redis cache current: critical events under event:{id} and in their
// site's sorted set, and every device's newest reading; see packages
// changefeed and rediscache. Configuration comes from the environment
// (CASSANDRA_*, REDIS_*, CACHE_*, CHANGEFEED_*, HTTP_ADDR, SHUTDOWN_TIMEOUT,
// LOG_LEVEL). On plain Apache Cassandra it reads the events outbox, which
// ingest writes with INGEST_OUTBOX=true; on Cosmos DB the native change feed.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/workloads/internal/changefeed"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/logging"
	"github.com/sluicehq/sluice/workloads/internal/opsserver"
	"github.com/sluicehq/sluice/workloads/internal/rediscache"
	"github.com/sluicehq/sluice/workloads/internal/version"
)

func main() {
	if version.HandleFlags("changefeed", "follows the events change feed into the Redis cache; configured by environment variables") {
		return
	}
	log := logging.Setup("changefeed")
	if err := run(); err != nil {
		log.Error("changefeed failed", "err", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := changefeed.ConfigFromEnv(envconfig.New())
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	reg := opsserver.NewRegistry()

	// The session follows the mounted Cosmos DB key: a rotated key opens a
	// new session without a restart (see cqlsession.Rotating).
	sessions, err := cfg.Cassandra.OpenRotating(cqlsession.RotateOptions{Registerer: reg})
	if err != nil {
		return err
	}
	defer sessions.Close()
	go sessions.Run(ctx)
	rdb, err := cfg.Redis.Open(ctx)
	if err != nil {
		return err
	}
	defer rdb.Close()
	cache := rediscache.New(rdb, cfg.Cache)

	metrics := changefeed.NewMetrics(reg)
	var feed changefeed.Feed
	switch cfg.Source {
	case changefeed.SourceCosmos:
		feed = changefeed.NewCosmosFeed(changefeed.CQLPager{Sessions: sessions}, changefeed.CosmosOptions{
			Keyspace: cfg.Cassandra.Keyspace, Table: cfg.CosmosTable, PageSize: cfg.PageSize, Start: cfg.Start})
	default:
		feed = changefeed.NewOutboxFeed(sessions, changefeed.OutboxOptions{
			Keyspace: cfg.Cassandra.Keyspace, PageSize: cfg.PageSize, Grace: cfg.Grace, Start: cfg.Start,
			OnLate: func(via string, n int) { metrics.Late.WithLabelValues(via).Add(float64(n)) }})
	}
	opts := cfg.Runner
	opts.Classify = cqlsession.Classify
	opts.Metrics = metrics
	handler := func(ctx context.Context, changes []changefeed.Change) error { return cache.Write(ctx, changes) }
	runner := changefeed.NewRunner(feed, changefeed.NewLeases(sessions, cfg.Cassandra.Keyspace), handler, opts)

	ops, err := opsserver.Listen(cfg.HTTPAddr, reg, func(ctx context.Context) error {
		if sessions.Closed() {
			return errors.New("cassandra session closed")
		}
		if err := cache.Ping(ctx); err != nil {
			return err
		}
		return runner.Ready()
	})
	if err != nil {
		return err
	}
	go ops.Serve()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = ops.Shutdown(sctx)
	}()

	runErr := make(chan error, 1)
	go func() { runErr <- runner.Run(ctx) }()
	select {
	case err := <-runErr:
		if err != nil {
			return fmt.Errorf("change feed: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	select {
	case err := <-runErr:
		return err
	case <-time.After(cfg.ShutdownTimeout):
		return errors.New("shutdown deadline passed before the change feed stopped")
	}
}
