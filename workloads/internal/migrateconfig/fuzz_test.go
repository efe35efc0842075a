package migrateconfig

import (
	"testing"

	"github.com/sluicehq/sluice/workloads/dev/envfuzz"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/pgmigrate"
)

// flagsOf picks migrate's steps from the bits of b: 1 kafka, 2 cassandra,
// 4 postgres, 8 principals.
func flagsOf(b uint8) Flags {
	return Flags{Kafka: b&1 != 0, Cassandra: b&2 != 0, Postgres: b&4 != 0, Principals: b&8 != 0}
}

// FuzzConfigFromEnv: whatever the environment and the steps asked for,
// migrate's loader keeps the envfuzz contract, reads what each step needs,
// and a principals config it accepts is one pgmigrate can plan.
func FuzzConfigFromEnv(f *testing.F) {
	principals := envfuzz.Merge(envfuzz.AzurePostgres, map[string]string{
		"POSTGRES_PORT": "5432", "POSTGRES_USER": "workload-identities-postgres-admin",
		"POSTGRES_MIGRATE_PRINCIPAL": "workload-identities-migrate", "POSTGRES_MIGRATE_PRINCIPAL_OID": "0a1b2c3d-0000-4000-8000-000000000001",
		"POSTGRES_ENRICH_PRINCIPAL": "workload-identities-enrich", "POSTGRES_ENRICH_PRINCIPAL_OID": "0a1b2c3d-0000-4000-8000-000000000002",
		"POSTGRES_API_PRINCIPAL": "workload-identities-api", "POSTGRES_API_PRINCIPAL_OID": "0a1b2c3d-0000-4000-8000-000000000004",
		"POSTGRES_REPORT_READERS": `[{"name":"analysts","objectId":"0a1b2c3d-0000-4000-8000-000000000005","type":"group"}]`,
	})
	seeds := []struct {
		env   map[string]string
		steps uint8
	}{
		{map[string]string{}, 3},
		{envfuzz.Merge(envfuzz.LocalKafka, envfuzz.LocalCassandra), 3},
		{envfuzz.Merge(envfuzz.LocalKafka, envfuzz.LocalCassandra, envfuzz.LocalPostgres, map[string]string{"POSTGRES_REPORT_PASSWORD": "bi"}), 7},
		{envfuzz.Merge(envfuzz.AzureKafka, envfuzz.CosmosCassandra, envfuzz.AzurePostgres,
			map[string]string{"POSTGRES_MIGRATE_URL": "postgres://sluice-migrate@sluice.postgres.database.azure.com:5432/sluice?sslmode=require"}), 4},
		{principals, 8},
		{envfuzz.Merge(principals, map[string]string{"POSTGRES_REPORT_READERS": `[{"name":"x"}`}), 8},
	}
	for _, s := range seeds {
		f.Add(envfuzz.Encode(s.env), s.steps)
	}
	f.Fuzz(func(t *testing.T, in string, steps uint8) {
		flags := flagsOf(steps)
		envfuzz.Check(t, envfuzz.Decode(in), func(r *envconfig.Reader) (Config, error) { return ConfigFromEnv(r, flags) }, func(c Config) error {
			var cs envfuzz.Checks
			if flags.Principals {
				cs.Add(envfuzz.Postgres(c.Postgres))
				_, err := pgmigrate.Build(c.Principals, c.Postgres.Database)
				cs.Add(err)
				return cs.Err()
			}
			if flags.Kafka {
				cs.Add(envfuzz.Kafka(c.Kafka))
			}
			if flags.Cassandra {
				cs.Add(envfuzz.Cassandra(c.Cassandra))
			}
			if flags.Postgres {
				cs.Add(envfuzz.Postgres(c.Postgres))
			}
			return cs.Err()
		})
	})
}
