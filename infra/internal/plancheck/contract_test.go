package plancheck

import (
	"testing"

	"github.com/sluicehq/sluice/infra/internal/mocks"
)

func job(name, image string, args []any, env map[string]string) *mocks.Resource {
	var vars []any
	for k, v := range env {
		vars = append(vars, map[string]any{"name": k, "value": v})
	}
	return res("kubernetes:batch/v1:Job", name, map[string]any{"apiVersion": "batch/v1", "kind": "Job", "spec": map[string]any{
		"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": name, "image": image, "args": args, "env": vars}}}},
	}}, nil)
}

func TestContractFeedsTheWorkloadsLoader(t *testing.T) {
	env := map[string]string{
		"KAFKA_BROKERS": "ns.servicebus.windows.net:9093", "KAFKA_AUTH": "oauth",
		"CASSANDRA_HOSTS": "acct.cassandra.cosmos.azure.com",
		"POSTGRES_HOST":   "psql.postgres.database.azure.com", "POSTGRES_MIGRATE_PORT": "5432", "POSTGRES_DATABASE": "sluice",
		"POSTGRES_USER": "id-migrate", "POSTGRES_AUTH": "entra", "POSTGRES_SSLMODE": "verify-full",
	}
	none(t, CheckContract([]*mocks.Resource{job("migrate", "acr.azurecr.io/migrate@sha256:00", []any{"-postgres"}, env)}))

	// Renamed on the infra side: the loader never reads the new name and
	// misses the old one.
	renamed := map[string]string{}
	for k, v := range env {
		renamed[k] = v
	}
	delete(renamed, "POSTGRES_HOST")
	renamed["POSTGRES_HOSTNAME"] = "psql.postgres.database.azure.com"
	want(t, CheckContract([]*mocks.Resource{job("migrate", "acr.azurecr.io/migrate@sha256:00", []any{"-postgres"}, renamed)}),
		"contract", "POSTGRES_URL or POSTGRES_HOST is required", "never reads POSTGRES_HOSTNAME")
	// A variable the workload does not read (renamed on the workload
	// side: the old name is read by nobody).
	extra := map[string]string{"INGEST_GRUOP": "ingest"}
	for k, v := range env {
		extra[k] = v
	}
	vs := CheckContract([]*mocks.Resource{job("migrate", "acr.azurecr.io/migrate@sha256:00", []any{"-postgres"}, extra)})
	want(t, vs, "contract", "never reads INGEST_GRUOP")
	// Bad arguments and bad values are the loader's own errors.
	want(t, CheckContract([]*mocks.Resource{job("migrate", "acr.azurecr.io/migrate@sha256:00", []any{"-postgress"}, env)}), "contract", "flag provided but not defined")
	bad := map[string]string{"CASSANDRA_HOSTS": "acct.cassandra.cosmos.azure.com", "REDIS_ADDR": "r:10000", "API_KEYS_SHA256": "nothex"}
	want(t, CheckContract([]*mocks.Resource{job("api", "acr.azurecr.io/api@sha256:00", nil, bad)}), "contract", "API_KEYS_SHA256 entry")
	// Containers of other images are not the repository's workloads.
	none(t, CheckContract([]*mocks.Resource{job("psql", "postgres:16", nil, map[string]string{"PGHOST": "x"})}))
}
