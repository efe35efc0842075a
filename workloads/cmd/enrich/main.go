// Command enrich is Sluice's batch job: it enriches a time window of events
// from Cassandra with reference data (PostgreSQL sites and devices, a
// Parquet file of device models) into PostgreSQL, one transaction per
// window; see package enrich. On Azure it runs as a Kubernetes CronJob.
//
//	enrich [--from T --to T]
//	enrich seed --parquet PATH|URL [--sites 12 --devices 500] [--postgres=false] [--if-empty]
//
// Without --from/--to it enriches every completed hour not yet done (see
// enrich.PlanDefault). T is RFC 3339 (2024-05-01T10:00:00Z) or a date.
// "enrich seed" writes reference data matching the simulator's fleet: the
// device-model Parquet file (a path, or an abfss:// or https:// Data Lake
// URL, written with the workload identity) and the sites and devices
// tables. With --if-empty it keeps what is there: the file when it exists,
// the tables when sites has a row; a deployment seeds that way, so a
// user's own reference data is never overwritten.
// With ENRICH_ENGINE=spark each window is enriched by the Spark job
// (io.sluice.spark.EnrichJob), launched by ENRICH_SPARK_COMMAND or as a
// SparkApplication from the template at ENRICH_SPARK_APPLICATION; this
// process still plans the windows and records the runs.
// Configuration comes from the environment (POSTGRES_*, CASSANDRA_*,
// ENRICH_*, LOG_LEVEL; GOGC and GOMEMLIMIT default to 300 and 320 MiB). A
// progress bar shows on a terminal, structured progress logs otherwise. The
// exit status is 1 when a window failed.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/sluicehq/sluice/workloads/internal/enrich"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/logging"
	"github.com/sluicehq/sluice/workloads/internal/progress"
	"github.com/sluicehq/sluice/workloads/internal/refdata"
	"github.com/sluicehq/sluice/workloads/internal/sparklaunch"
	"github.com/sluicehq/sluice/workloads/internal/version"
)

func main() {
	if version.HandleFlags("enrich", "enriches windows of events into PostgreSQL; `enrich seed` writes local reference data") {
		return
	}
	log := logging.Setup("enrich")
	tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if len(os.Args) > 1 && os.Args[1] == "seed" {
		err = seed(ctx, os.Args[2:], log)
	} else {
		err = run(ctx, os.Args[1:], log)
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		log.Error("enrich failed", "err", err)
		os.Exit(1)
	}
}

// tuneGC trades memory for CPU unless GOGC or GOMEMLIMIT say otherwise: the
// job allocates a little for every event it moves, and on a small node the
// collector's share of the CPU competes with Cassandra and PostgreSQL. The
// memory limit keeps the heap, and so the pod's footprint, bounded.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(300)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(320 << 20)
	}
}

func run(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("enrich", flag.ContinueOnError)
	from := fs.String("from", "", "window start (RFC 3339 or date); with --to")
	to := fs.String("to", "", "window end, exclusive; with --from")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var explicit *enrich.Window
	switch {
	case *from != "" && *to != "":
		f, err := enrich.ParseTime(*from)
		if err != nil {
			return fmt.Errorf("--from: %w", err)
		}
		t, err := enrich.ParseTime(*to)
		if err != nil {
			return fmt.Errorf("--to: %w", err)
		}
		explicit = &enrich.Window{From: f, To: t}
		if err := explicit.Validate(time.Now()); err != nil {
			return err
		}
	case *from != "" || *to != "":
		return errors.New("--from and --to go together")
	}

	cfg, err := enrich.ConfigFromEnv(envconfig.New())
	if err != nil {
		return err
	}
	pool, err := cfg.Postgres.Open(ctx, nil)
	if err != nil {
		return err
	}
	defer pool.Close()
	session, err := cfg.Cassandra.Open()
	if err != nil {
		return err
	}
	defer session.Close()

	// Every window reads the models file; a remote one is read with one
	// credential, so its tokens are cached across windows.
	source := refdata.Source{}
	if loc, err := refdata.ParseLocation(cfg.ModelsURL); err == nil && loc.Local == "" {
		cred, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return fmt.Errorf("azure credential for %s: %w", loc, err)
		}
		source.Credential = cred
	}
	job := enrich.New(cfg, pool, session, source, log)
	job.NewProgress = func(w enrich.Window) enrich.Progress { return progress.New("enrich "+w.String(), -1) }
	if cfg.Engine == enrich.EngineSpark {
		if job.Spark, err = sparkLauncher(cfg, log); err != nil {
			return err
		}
		log.Info("windows are enriched on spark", "launch", launchName(cfg))
	}
	var due []enrich.Due
	if explicit != nil {
		due = append(due, enrich.Due{Window: *explicit, Reason: enrich.ReasonRequested})
	} else {
		due, err = job.Pending(ctx)
		if err != nil {
			return err
		}
		if len(due) == 0 {
			log.Info("nothing to do: every completed hour in the catch-up horizon is enriched", "catchup", cfg.Catchup.String())
			fmt.Println("enrich: up to date")
			return nil
		}
		log.Info("windows to enrich", "count", len(due), "first", due[0].String())
	}
	for _, d := range due {
		st, err := job.RunDue(ctx, d)
		if err != nil {
			return fmt.Errorf("window %s: %w", d.Window, err)
		}
		fmt.Printf("enrich %s (%s): run %d %s · read %d · changed %d · unknown devices %d · unknown sites %d · unknown models %d · hourly rows %d · %s\n",
			d.Window, d.Reason, st.RunID, st.Status, st.EventsRead, st.EventsChanged, st.UnknownDevices, st.UnknownSites, st.UnknownModels,
			st.HourlyRows, st.Total.Round(time.Millisecond))
	}
	return nil
}

// sparkLauncher is the Spark engine's launcher the configuration names: a
// local command, or a SparkApplication on Kubernetes.
func sparkLauncher(cfg enrich.Config, log *slog.Logger) (sparklaunch.Launcher, error) {
	if len(cfg.SparkCommand) > 0 {
		return &sparklaunch.Command{Argv: cfg.SparkCommand, Output: os.Stderr}, nil
	}
	return sparklaunch.NewOperator(cfg.SparkApplication, log)
}

func launchName(cfg enrich.Config) string {
	if len(cfg.SparkCommand) > 0 {
		return "command " + cfg.SparkCommand[0]
	}
	return "sparkapplication from " + cfg.SparkApplication
}

func seed(ctx context.Context, args []string, log *slog.Logger) error {
	cfg, err := enrich.SeedConfigFromEnv(envconfig.New(), args, os.Stderr)
	if err != nil {
		return err
	}
	ss, ds, models := refdata.Fleet(cfg.Sites, cfg.Devices)
	loc, err := refdata.ParseLocation(cfg.ModelsURL)
	if err != nil {
		return err
	}
	source := refdata.Source{}
	if loc.Local == "" {
		cred, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return fmt.Errorf("azure credential for %s: %w", loc, err)
		}
		source.Credential = cred
	}
	exists := false
	if cfg.IfEmpty {
		if exists, err = source.Exists(ctx, loc); err != nil {
			return err
		}
	}
	if exists {
		log.Info("device models kept: the file exists", "location", loc.String())
	} else {
		var file bytes.Buffer
		if err := refdata.WriteModels(&file, models); err != nil {
			return err
		}
		if err := source.Write(ctx, loc, file.Bytes()); err != nil {
			return err
		}
		log.Info("device models written", "location", loc.String(), "models", len(models))
	}
	if !cfg.Postgres {
		return nil
	}
	pool, err := cfg.DB.Open(ctx, nil)
	if err != nil {
		return err
	}
	defer pool.Close()
	if cfg.IfEmpty {
		var seeded bool
		if err := pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM sites)").Scan(&seeded); err != nil {
			return fmt.Errorf("seed: look for sites: %w", err)
		}
		if seeded {
			log.Info("sites and devices kept: sites has rows")
			return nil
		}
	}
	if err := refdata.SeedPostgres(ctx, pool, ss, ds); err != nil {
		return err
	}
	log.Info("sites and devices seeded", "sites", len(ss), "devices", len(ds))
	fmt.Printf("enrich seed: %d models in %s · %d sites · %d devices\n", len(models), cfg.ModelsURL, len(ss), len(ds))
	return nil
}
