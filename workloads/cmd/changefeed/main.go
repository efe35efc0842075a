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

	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/internal/changefeed"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/rediscache"
	"github.com/sluicehq/sluice/workloads/internal/service"
)

func main() {
	service.Main(deploy.Changefeed, "follows the events change feed into the Redis cache; configured by environment variables", run)
}

func run(ctx context.Context, svc *service.Service) error {
	cfg, err := changefeed.ConfigFromEnv(envconfig.New())
	if err != nil {
		return err
	}
	reg := svc.Registry

	sessions, err := svc.OpenCassandra(ctx, cfg.Cassandra)
	if err != nil {
		return err
	}
	defer sessions.Close()
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

	stopOps, err := svc.ServeOps(cfg.HTTPAddr, func(ctx context.Context) error {
		if sessions.Closed() {
			return errors.New("cassandra session closed")
		}
		if err := cache.Ping(ctx); err != nil {
			return err
		}
		return runner.Ready()
	}, nil)
	if err != nil {
		return err
	}
	defer stopOps()

	return service.Run(ctx, cfg.ShutdownTimeout, "the change feed stopped", func(ctx context.Context) error {
		if err := runner.Run(ctx); err != nil {
			return fmt.Errorf("change feed: %w", err)
		}
		return nil
	})
}
