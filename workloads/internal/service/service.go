package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/logging"
	"github.com/sluicehq/sluice/workloads/internal/opsserver"
	"github.com/sluicehq/sluice/workloads/internal/version"
)

// opsShutdown bounds how long the ops server gets to finish its requests.
const opsShutdown = 5 * time.Second

// Service is what a running workload shares with its parts.
type Service struct {
	Name     string
	Log      *slog.Logger
	Registry *prometheus.Registry
}

// Main is a workload's main: it answers -version and -help (about
// describes the binary), installs the logger, starts the CPU profile
// CPU_PROFILE asks for, and calls run with a context that ends on SIGINT
// or SIGTERM. A failed run is logged and exits 1.
func Main(name, about string, run func(ctx context.Context, s *Service) error) {
	if version.HandleFlags(name, about) {
		return
	}
	log := logging.Setup(name)
	stopProfile, err := StartCPUProfile(os.Getenv(deploy.EnvCPUProfile))
	if err != nil {
		log.Error(name+" failed", "err", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, &Service{Name: name, Log: log, Registry: opsserver.NewRegistry()})
	stop()
	if perr := stopProfile(); perr != nil {
		log.Warn("cpu profile incomplete", "err", perr)
	}
	if err != nil {
		log.Error(name+" failed", "err", err)
		os.Exit(1)
	}
}

// StartCPUProfile writes a pprof CPU profile to path until the returned
// stop is called; an empty path profiles nothing. The profile costs a few
// percent of CPU while it runs, so it is off unless asked for.
func StartCPUProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		return nil
	}, nil
}

// OpenCassandra opens the session that follows the mounted Cosmos DB key:
// a rotated key opens a new session without a restart (see
// cqlsession.Rotating). It watches the key until ctx ends; the caller
// closes it.
func (s *Service) OpenCassandra(ctx context.Context, cfg cqlsession.Config) (*cqlsession.Rotating, error) {
	sessions, err := cfg.OpenRotating(cqlsession.RotateOptions{Logger: s.Log, Registerer: s.Registry})
	if err != nil {
		return nil, err
	}
	go sessions.Run(ctx)
	return sessions, nil
}

// ServeOps serves the ops endpoints on addr with the service's registry,
// plus routes added by with (e.g. ingest's GET /lag), in the background.
// stop shuts the server down within a few seconds.
func (s *Service) ServeOps(addr string, ready opsserver.Readiness, with func(*opsserver.Server)) (stop func(), err error) {
	ops, err := opsserver.Listen(addr, s.Registry, ready)
	if err != nil {
		return nil, err
	}
	if with != nil {
		with(ops)
	}
	go ops.Serve()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), opsShutdown)
		defer cancel()
		_ = ops.Shutdown(ctx)
	}, nil
}

// Run runs work until it returns or ctx ends. After ctx ends, work (which
// sees the same ctx) has until deadline to return; past it Run gives up
// with an error saying the shutdown deadline passed before what, the
// backstop to the workload's own drain.
func Run(ctx context.Context, deadline time.Duration, what string, work func(context.Context) error) error {
	done := make(chan error, 1)
	go func() { done <- work(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	select {
	case err := <-done:
		return err
	case <-time.After(deadline):
		return errors.New("shutdown deadline passed before " + what)
	}
}
