// Package migrateconfig is the configuration of the migrate command: its
// flags (which stores to prepare) and what it reads from the environment
// for them. The command and the infra↔workload contract check
// (workloads/contract/envcheck) load it the same way.
package migrateconfig

import (
	"errors"
	"flag"
	"io"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/internal/pgmigrate"

	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/kafkaclient"
	"github.com/sluicehq/sluice/workloads/internal/pgstore"
)

// Flags are migrate's command-line flags.
type Flags struct {
	Kafka, Cassandra, Postgres bool
	// Principals runs only the PostgreSQL principals step (Azure): the
	// workload identities' roles, created as an Entra administrator.
	Principals        bool
	Partitions        int
	ReplicationFactor int
	Version           bool
}

// ParseFlags parses migrate's arguments, writing usage and errors to
// output; flag.ErrHelp for -h.
func ParseFlags(args []string, output io.Writer) (Flags, error) {
	var f Flags
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.BoolVar(&f.Kafka, "kafka", true, "create Kafka topics (skipped against Event Hubs)")
	fs.BoolVar(&f.Cassandra, "cassandra", true, "create the Cassandra keyspace and tables (skipped against Cosmos DB)")
	fs.BoolVar(&f.Principals, "principals", false, "create the PostgreSQL roles of the workload identities as an Entra administrator (Azure; nothing else runs)")
	fs.BoolVar(&f.Postgres, "postgres", false, "apply the PostgreSQL migrations, locally and on Azure (POSTGRES_MIGRATE_URL: a direct connection, not PgBouncer)")
	fs.IntVar(&f.Partitions, "partitions", 6, "partitions of the events topic")
	fs.IntVar(&f.ReplicationFactor, "replication-factor", 1, "Cassandra keyspace replication factor")
	fs.BoolVar(&f.Version, "version", false, "print the version and exit")
	err := fs.Parse(args)
	return f, err
}

// Config is what migrate reads from its environment for the steps its
// flags ask for.
type Config struct {
	Kafka     kafkaclient.Config
	Cassandra cqlsession.Config
	Postgres  pgstore.Config
	// ReportPassword, when set, becomes the BI login role's password
	// (local use).
	ReportPassword string
	// Principals are the roles the principals step creates (with
	// Flags.Principals; Postgres is then the administrator's connection).
	Principals pgmigrate.Principals
}

// ConfigFromEnv reads KAFKA_* (-kafka), CASSANDRA_* (-cassandra) and
// POSTGRES_* with POSTGRES_MIGRATE_URL/PORT and POSTGRES_REPORT_PASSWORD
// (-postgres), reporting every problem at once.
func ConfigFromEnv(r *envconfig.Reader, f Flags) (Config, error) {
	var c Config
	if f.Principals {
		return principalsFromEnv(r)
	}
	if f.Kafka {
		c.Kafka = kafkaclient.FromEnv(r, "sluice-migrate")
	}
	if f.Cassandra {
		c.Cassandra = cqlsession.FromEnv(r)
	}
	if f.Postgres {
		c.Postgres = pgstore.MigrationFromEnv(r, "migrate")
		c.ReportPassword = r.String(deploy.EnvPostgresReportPassword, "")
	}
	return c, r.Err()
}

// principalsFromEnv reads the principals step's settings: the Entra
// administrator's connection and each workload identity's role name and
// object id.
func principalsFromEnv(r *envconfig.Reader) (Config, error) {
	c := Config{Postgres: pgstore.MigrationFromEnv(r, "migrate-principals")}
	// Each principal is checked here, where the problem can name its
	// variables, not first when the step plans its statements.
	principal := func(nameKey, oidKey string) pgmigrate.Principal {
		p := pgmigrate.Principal{Name: r.String(nameKey, ""), ObjectID: r.String(oidKey, ""), Type: "service"}
		if p.Name == "" && p.ObjectID == "" {
			return p
		}
		if err := p.Validate(); err != nil {
			r.Problem("%s/%s: %v", nameKey, oidKey, err)
		}
		return p
	}
	c.Principals = pgmigrate.Principals{
		Migrate: principal(deploy.EnvPostgresMigratePrincipal, deploy.EnvPostgresMigratePrincipalOID),
		Enrich:  principal(deploy.EnvPostgresEnrichPrincipal, deploy.EnvPostgresEnrichPrincipalOID),
	}
	for _, k := range []string{deploy.EnvPostgresMigratePrincipal, deploy.EnvPostgresMigratePrincipalOID, deploy.EnvPostgresEnrichPrincipal, deploy.EnvPostgresEnrichPrincipalOID} {
		if r.String(k, "") == "" {
			r.Problem("%s is required with -principals", k)
		}
	}
	// The api's role is optional (a stack may deploy it without reports),
	// but its name and object id come together.
	if api := principal(deploy.EnvPostgresAPIPrincipal, deploy.EnvPostgresAPIPrincipalOID); api.Name != "" || api.ObjectID != "" {
		if api.Name == "" || api.ObjectID == "" {
			r.Problem("set both %s and %s, or neither", deploy.EnvPostgresAPIPrincipal, deploy.EnvPostgresAPIPrincipalOID)
		}
		c.Principals.API = api
	}
	readers, err := pgmigrate.ParseReportReaders(r.String(deploy.EnvPostgresReportReaders, ""))
	if err != nil {
		r.Problem("%s: %v", deploy.EnvPostgresReportReaders, err)
	}
	for _, p := range readers {
		if err := p.Validate(); err != nil {
			r.Problem("%s: %v", deploy.EnvPostgresReportReaders, err)
		}
	}
	c.Principals.ReportReaders = readers
	if err := r.Err(); err != nil {
		return c, err
	}
	if c.Postgres.URL != "" {
		return c, errors.New("principals: set POSTGRES_HOST, not a URL: the step connects to two databases")
	}
	return c, nil
}
