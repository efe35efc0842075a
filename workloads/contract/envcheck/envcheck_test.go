package envcheck

import (
	"errors"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/workloads/internal/envconfig"
)

var cosmos = map[string]string{
	"CASSANDRA_HOSTS": "acct.cassandra.cosmos.azure.com", "CASSANDRA_USERNAME": "acct",
	// Only a path at load time: the file need not exist.
	"CASSANDRA_PASSWORD_FILE": "/mnt/secrets/cosmos/cassandra-password",
}

func with(base map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func TestLoadEachWorkload(t *testing.T) {
	for workload, env := range map[string]map[string]string{
		"ingest":     with(cosmos, "KAFKA_BROKERS", "ns.servicebus.windows.net:9093", "KAFKA_AUTH", "oauth", "LOG_LEVEL", "info"),
		"changefeed": with(cosmos, "REDIS_ADDR", "r.westeurope.redis.azure.net:10000", "CHANGEFEED_SOURCE", "cosmos"),
		"api":        with(cosmos, "REDIS_ADDR", "r:10000", "API_KEYS_SHA256", strings.Repeat("ab", 32)),
		"enrich": with(cosmos, "ENRICH_MODELS_URL", "https://st.dfs.core.windows.net/reference/models.parquet",
			"POSTGRES_HOST", "psql", "POSTGRES_USER", "id-enrich", "POSTGRES_AUTH", "entra"),
	} {
		if err := Load(workload, env); err != nil {
			t.Errorf("%s: %v", workload, err)
		}
	}
	if err := LoadArgs("migrate", []string{"-postgres", "-kafka=false", "-cassandra=false"},
		map[string]string{"POSTGRES_HOST": "psql", "POSTGRES_USER": "id", "POSTGRES_MIGRATE_PORT": "5432"}); err != nil {
		t.Error(err)
	}
}

func TestLoadFailsOnRenamesAndBadValues(t *testing.T) {
	env := with(cosmos, "KAFKA_BROKERS", "ns.servicebus.windows.net:9093", "KAFKA_AUTH", "oauth")
	renamed := with(env, "CASSANDRA_HOST", env["CASSANDRA_HOSTS"])
	delete(renamed, "CASSANDRA_HOSTS")
	err := Load("ingest", renamed)
	if err == nil || !strings.Contains(err.Error(), "CASSANDRA_HOSTS is required") || !strings.Contains(err.Error(), "never reads CASSANDRA_HOST ") || !errors.Is(err, envconfig.ErrInvalidConfig) {
		t.Errorf("renamed variable: %v", err)
	}
	if err := Load("ingest", with(env, "INGEST_GROUPS", "x")); err == nil || !strings.Contains(err.Error(), "never reads INGEST_GROUPS") {
		t.Errorf("unread variable: %v", err)
	}
	if err := Load("ingest", with(env, "KAFKA_AUTH", "sasl")); err == nil {
		t.Error("a bad value loads")
	}
	if err := Load("nosuch", env); err == nil {
		t.Error("an unknown workload loads")
	}
	if err := LoadArgs("api", []string{"-x"}, nil); err == nil {
		t.Error("arguments to a workload without flags accepted")
	}
}
