package migrateconfig

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
)

func principalsEnv(extra map[string]string) func(string) (string, bool) {
	env := map[string]string{
		deploy.EnvPostgresHost:                "server.postgres.database.azure.com",
		deploy.EnvPostgresUser:                "workload-identities-postgres-admin",
		deploy.EnvPostgresAuth:                "entra",
		deploy.EnvPostgresMigratePrincipal:    "workload-identities-migrate",
		deploy.EnvPostgresMigratePrincipalOID: "0a1b2c3d-0000-4000-8000-000000000001",
		deploy.EnvPostgresEnrichPrincipal:     "workload-identities-enrich",
		deploy.EnvPostgresEnrichPrincipalOID:  "0a1b2c3d-0000-4000-8000-000000000002",
	}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestPrincipalsReadTheAPIPrincipalAsAPair(t *testing.T) {
	c, err := ConfigFromEnv(envconfig.NewFrom(principalsEnv(nil)), Flags{Principals: true})
	if err != nil || c.Principals.API.Name != "" {
		t.Fatalf("without an api principal: %+v, %v", c.Principals.API, err)
	}
	c, err = ConfigFromEnv(envconfig.NewFrom(principalsEnv(map[string]string{
		deploy.EnvPostgresAPIPrincipal:    "workload-identities-api",
		deploy.EnvPostgresAPIPrincipalOID: "0a1b2c3d-0000-4000-8000-000000000004",
	})), Flags{Principals: true})
	if err != nil || c.Principals.API.Name != "workload-identities-api" || c.Principals.API.Type != "service" {
		t.Fatalf("with an api principal: %+v, %v", c.Principals.API, err)
	}
	for _, half := range []string{deploy.EnvPostgresAPIPrincipal, deploy.EnvPostgresAPIPrincipalOID} {
		_, err := ConfigFromEnv(envconfig.NewFrom(principalsEnv(map[string]string{half: "x"})), Flags{Principals: true})
		if err == nil || !strings.Contains(err.Error(), "or neither") {
			t.Errorf("only %s: %v", half, err)
		}
	}
}
