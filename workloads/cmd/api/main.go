// Command api serves Sluice's read API and live page; see package api.
// Configuration comes from the environment (API_*, CASSANDRA_*, REDIS_*,
// CACHE_*, HTTP_ADDR, OPS_ADDR, SHUTDOWN_TIMEOUT, LOG_LEVEL). Outside API_MODE=local
// it needs API_KEYS_SHA256. It starts without Redis and answers from
// Cassandra until Redis is back. A changed CASSANDRA_PASSWORD_FILE (a rotated
// Cosmos DB key) moves the reads to a new session without a restart. With
// POSTGRES_URL or POSTGRES_HOST it also serves the report page, read as a
// member of report_reader (through PgBouncer on Azure); it starts, and
// serves everything else, when PostgreSQL is down.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/internal/api"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/opsserver"
	"github.com/sluicehq/sluice/workloads/internal/rediscache"
	"github.com/sluicehq/sluice/workloads/internal/service"
)

func main() {
	service.Main(deploy.API, "serves the read API and the live page; configured by environment variables", run)
}

func run(ctx context.Context, svc *service.Service) error {
	log := svc.Log
	cfg, err := api.ConfigFromEnv(envconfig.New())
	if err != nil {
		return err
	}
	// The heap is small and short-lived (requests, cached documents): a
	// less eager collector costs little memory and a good share of CPU
	// per request less. GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	reg := svc.Registry
	sessions, err := svc.OpenCassandra(ctx, cfg.Cassandra)
	if err != nil {
		return err
	}
	defer sessions.Close()
	// No ping: the API starts and serves from Cassandra while Redis is
	// down, and the client reconnects by itself.
	ropts, err := cfg.Redis.Options(nil)
	if err != nil {
		return err
	}
	rdb := redis.NewUniversalClient(ropts)
	defer rdb.Close()

	opts := cfg.Options
	opts.Logger = log
	if cfg.Postgres != nil {
		// No ping: the pool connects on the first report read, so the api
		// starts and serves events while PostgreSQL is unreachable.
		pc, err := cfg.Postgres.PoolConfig(nil)
		if err != nil {
			return err
		}
		pool, err := pgxpool.NewWithConfig(ctx, pc)
		if err != nil {
			return fmt.Errorf("postgres pool for %s: %w", cfg.Postgres.Redacted(), err)
		}
		defer pool.Close()
		opts.Reports = &api.PostgresReports{Pool: pool}
		log.Info("reports on", "postgres", cfg.Postgres.Redacted())
	} else {
		log.Info("reports off: neither POSTGRES_URL nor POSTGRES_HOST is set")
	}
	cache := rediscache.New(rdb, cfg.Cache)
	store := api.NewCassandraStoreFrom(sessions, cfg.Cassandra.Keyspace, opts.LookbackDays)
	if key, err := pageKey(cfg); err != nil {
		return err
	} else if key != nil {
		store.SetPageKey(key)
	} else {
		log.Warn("page tokens are signed with a key of this process only: a device's next page may fail on another replica; set API_PAGE_TOKEN_KEY or a Cassandra password")
	}
	opts.Aggregates = store
	srv, err := api.New(store, cache, opts, reg)
	if err != nil {
		return err
	}
	handler := srv.Routes(reg)
	if cfg.OpsAddr != "" {
		// The probes and the scraper get their own listener; it stays up
		// until the api has stopped, so liveness holds through the drain.
		ops, err := opsserver.Listen(cfg.OpsAddr, reg, srv.Ready)
		if err != nil {
			return err
		}
		go ops.Serve()
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = ops.Shutdown(sctx)
		}()
		handler = srv.PublicRoutes()
		log.Info("ops endpoints listening", "addr", ops.Addr())
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	hs := &http.Server{
		Handler: handler,
		// The API takes GETs only, with small bodies at most: the whole
		// request gets as long as its headers would. One deadline for
		// both also spares net/http a second one per request.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       5 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	log.Info("api listening", "addr", ln.Addr().String(), "local", opts.Local)
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Readiness fails first; the api serves on for the drain delay while
	// the endpoints forget the pod, then the requests in flight finish.
	srv.Close()
	if cfg.DrainDelay > 0 {
		log.Info("draining", "for", cfg.DrainDelay.String())
		time.Sleep(cfg.DrainDelay)
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("api stopped")
	return nil
}

// pageKey is the page tokens' key: API_PAGE_TOKEN_KEY, else one derived
// from the Cassandra secret (the mounted Cosmos DB key on Azure, which every
// replica shares), else nil.
func pageKey(cfg api.Config) ([]byte, error) {
	if cfg.PageKey != nil {
		return cfg.PageKey, nil
	}
	secret := cfg.Cassandra.Password
	if f := cfg.Cassandra.PasswordFile; f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read %s for the page-token key: %w", f, err)
		}
		secret = strings.TrimSpace(string(b))
	}
	if secret == "" {
		return nil, nil
	}
	return api.DerivePageKey([]byte(secret)), nil
}
