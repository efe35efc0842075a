package workloads

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// PostgreSQL principals: the server's only way in is Entra ID, and only an
// Entra administrator can create a role for another identity
// (pgaadauth_create_principal_with_oid, in the "postgres" database). The
// deployer cannot reach a private server, a Job in the cluster can: it runs
// as the postgres-admin identity, which the platform registers as a second
// Entra administrator of the server, and creates the roles of the migrate
// identity (owner of the schema: DDL), of enrich (DML through the
// batch_writer role) and of the api (its report page reads through the
// report_reader role). The schema migration then runs as migrate.
const (
	// PostgresAdmin is the service account (and identity) of the
	// principals Job.
	PostgresAdmin = "postgres-admin"
	// Principals is the principals Job's workload name (its pod label).
	Principals = "postgres-principals"
)

// DatabaseAccounts are the service accounts with an identity that reach
// PostgreSQL only: they get no Cosmos DB key.
var DatabaseAccounts = []string{Migrate, PostgresAdmin}

// principals declares the Job that creates the workload identities'
// PostgreSQL roles. It waits for the server's last write (the
// administrators, the database, the parameters and the private endpoint)
// and for the service account; the migration waits for it.
func (d *deployer) principals() (pulumi.Resource, error) {
	ids := d.args.Identities
	readers, err := deploy.EncodeReportReaders(d.cfg.Postgres.ReportReaders())
	if err != nil {
		return nil, err
	}
	pod := podSpec{
		workload: Principals, serviceAccount: PostgresAdmin, image: d.images[Migrate], restartPolicy: "Never",
		args: []string{"-principals"},
		env: join(
			[]envVar{
				ev(deploy.EnvPostgresMigratePrincipal, ids[Migrate].PrincipalName),
				ev(deploy.EnvPostgresMigratePrincipalOID, ids[Migrate].PrincipalID),
				ev(deploy.EnvPostgresEnrichPrincipal, ids[Enrich].PrincipalName),
				ev(deploy.EnvPostgresEnrichPrincipalOID, ids[Enrich].PrincipalID),
				ev(deploy.EnvPostgresAPIPrincipal, ids[API].PrincipalName),
				ev(deploy.EnvPostgresAPIPrincipalOID, ids[API].PrincipalID),
				ev(deploy.EnvPostgresReportReaders, pulumi.String(readers)),
			},
			d.postgresEnv(ids[PostgresAdmin].PrincipalName, pulumi.Int(PostgresDirectPort), "POSTGRES_MIGRATE_PORT"),
		),
	}
	// d.ready holds the platform's needs, the PostgreSQL server's last
	// write (administrators, database, parameters, endpoint) among them.
	return d.job(Principals, pod, 600, "postgres principals job")
}
