// Command migrate prepares the stores the workloads need and exits: Kafka
// topics and the Cassandra keyspace and tables on plain Apache Kafka and
// Cassandra (on Azure the Pulumi program owns Event Hubs hubs and Cosmos DB
// tables, so those steps are skipped there), and with -postgres the
// PostgreSQL schema (see package pgmigrate), which it applies on Azure too,
// over a direct connection (POSTGRES_MIGRATE_URL or POSTGRES_MIGRATE_PORT).
// It is idempotent; Kubernetes runs it as a Job before the workloads start.
//
// With -principals (Azure only) it does nothing else: signed in as an Entra
// ID administrator of the server, it creates the PostgreSQL roles of the
// workload identities (see pgmigrate.Build): the migrate identity, which
// then applies the schema, enrich's, and the report readers. The principals
// come from POSTGRES_MIGRATE_PRINCIPAL(_OID), POSTGRES_ENRICH_PRINCIPAL(_OID)
// and POSTGRES_REPORT_READERS (deploy.Env*).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
	"github.com/sluicehq/sluice/workloads/internal/kafkaclient"
	"github.com/sluicehq/sluice/workloads/internal/logging"
	"github.com/sluicehq/sluice/workloads/internal/migrateconfig"
	"github.com/sluicehq/sluice/workloads/internal/pgmigrate"
	"github.com/sluicehq/sluice/workloads/internal/pgstore"
	"github.com/sluicehq/sluice/workloads/internal/version"
)

func main() {
	logging.Setup("migrate")
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		slog.Error("migrate failed", "err", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	flags, err := migrateconfig.ParseFlags(args, os.Stderr)
	if err != nil {
		return err
	}
	if flags.Version {
		fmt.Println(version.String("migrate"))
		return nil
	}
	cfg, err := migrateconfig.ConfigFromEnv(envconfig.New(), flags)
	if err != nil {
		return err
	}
	if flags.Principals {
		return createPrincipals(cfg)
	}
	kc, cc, pc := cfg.Kafka, cfg.Cassandra, cfg.Postgres
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	if flags.Kafka {
		if kafkaclient.IsEventHubs(kc.Brokers[0]) {
			slog.Info("kafka: Event Hubs hubs are created by the infrastructure; skipping")
		} else if err := migrateKafka(kc, int32(flags.Partitions)); err != nil {
			return err
		}
	}
	if flags.Cassandra {
		if cc.Cosmos {
			slog.Info("cassandra: Cosmos DB keyspace and tables are created by the infrastructure; skipping")
		} else if err := migrateCassandra(ctx, cc, flags.ReplicationFactor); err != nil {
			return err
		}
	}
	if flags.Postgres {
		if err := migratePostgres(ctx, pc, cfg.ReportPassword); err != nil {
			return err
		}
	}
	return nil
}

func migrateKafka(kc kafkaclient.Config, partitions int32) error {
	sc, err := kc.Sarama(nil)
	if err != nil {
		return err
	}
	admin, err := sarama.NewClusterAdmin(kc.Brokers, sc)
	if err != nil {
		return fmt.Errorf("kafka admin: %w", err)
	}
	defer admin.Close()
	week := int64(7 * 24 * time.Hour / time.Millisecond)
	if err := kafkaclient.EnsureTopics(admin, []kafkaclient.Topic{
		{Name: kc.Topic, Partitions: partitions, RetentionMs: week},
		{Name: kc.DLQTopic, Partitions: 2, RetentionMs: 4 * week},
	}); err != nil {
		return err
	}
	slog.Info("kafka: topics ready", "topic", kc.Topic, "dlq", kc.DLQTopic, "partitions", partitions)
	return nil
}

func migrateCassandra(ctx context.Context, cc cqlsession.Config, rf int) error {
	if err := eventstore.MigrateConfig(ctx, cc, rf); err != nil {
		return err
	}
	slog.Info("cassandra: schema ready", "keyspace", cc.Keyspace)
	return nil
}

// migratePostgres applies the embedded PostgreSQL migrations (waiting while
// another migrator holds the lock) and, when POSTGRES_REPORT_PASSWORD is set,
// gives the BI login role that password (local use; on Azure the BI tool
// signs in with Entra ID).
func migratePostgres(ctx context.Context, pc pgstore.Config, reportPassword string) error {
	db, err := pc.OpenDB(ctx, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := pgmigrate.Up(ctx, db, slog.Default())
	if err != nil {
		return err
	}
	slog.Info("postgres: schema ready", "target", pc.Redacted(), "version", res.Version, "applied", len(res.Applied))
	if reportPassword != "" {
		if err := pgmigrate.SetPassword(ctx, db, pgmigrate.PowerBIRole, reportPassword); err != nil {
			return err
		}
		slog.Info("postgres: password of the BI login set", "role", pgmigrate.PowerBIRole)
	}
	return nil
}

// createPrincipals runs the principals step: the roles in the "postgres"
// database, where pgaadauth_create_principal_with_oid lives, then the
// grants in the application database.
func createPrincipals(cfg migrateconfig.Config) error {
	p, pc := cfg.Principals, cfg.Postgres
	plan, err := pgmigrate.Build(p, pc.Database)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	server := pc
	server.Database = "postgres"
	for _, step := range []struct {
		cfg        pgstore.Config
		statements []pgmigrate.Statement
	}{{server, plan.Server}, {pc, plan.Database}} {
		db, err := step.cfg.OpenDB(ctx, nil)
		if err != nil {
			return err
		}
		err = pgmigrate.Run(ctx, db, step.statements)
		db.Close()
		if err != nil {
			return err
		}
	}
	slog.Info("postgres: principals ready", "target", pc.Redacted(), "migrate", p.Migrate.Name, "enrich", p.Enrich.Name, "report readers", len(p.ReportReaders))
	return nil
}
