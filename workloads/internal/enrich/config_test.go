package enrich_test

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/workloads/internal/enrich"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
)

func engineEnv(kv ...string) map[string]string {
	m := map[string]string{
		"POSTGRES_URL": "postgres://enrich@127.0.0.1:5432/sluice", "CASSANDRA_HOSTS": "127.0.0.1",
		"ENRICH_MODELS_URL": "/tmp/device_models.parquet",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// The engine is chosen by ENRICH_ENGINE; the Spark engine needs exactly one
// way to launch its driver and a models file it can read, and a bad choice
// fails before anything starts.
func TestEngineConfig(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		want string // a part of the error; empty: valid
	}{
		{"go by default", engineEnv(), ""},
		{"spark by command", engineEnv("ENRICH_ENGINE", "spark", "ENRICH_SPARK_COMMAND", `["java","-cp","x.jar","io.sluice.spark.EnrichJob"]`), ""},
		{"spark by application", engineEnv("ENRICH_ENGINE", "spark", "ENRICH_SPARK_APPLICATION", "/etc/sluice/spark/enrich.json",
			"ENRICH_MODELS_URL", "abfss://reference@acct.dfs.core.windows.net/device_models.parquet"), ""},
		{"unknown engine", engineEnv("ENRICH_ENGINE", "flink"), "ENRICH_ENGINE"},
		{"spark without a launch", engineEnv("ENRICH_ENGINE", "spark"), "needs ENRICH_SPARK_COMMAND"},
		{"spark with both launches", engineEnv("ENRICH_ENGINE", "spark", "ENRICH_SPARK_COMMAND", `["java"]`,
			"ENRICH_SPARK_APPLICATION", "/x.json"), "only one of"},
		{"command not json", engineEnv("ENRICH_ENGINE", "spark", "ENRICH_SPARK_COMMAND", "java -cp x"), "ENRICH_SPARK_COMMAND"},
		{"empty command", engineEnv("ENRICH_ENGINE", "spark", "ENRICH_SPARK_COMMAND", `[]`), "empty"},
		{"spark with an https models url", engineEnv("ENRICH_ENGINE", "spark", "ENRICH_SPARK_COMMAND", `["java"]`,
			"ENRICH_MODELS_URL", "https://acct.dfs.core.windows.net/reference/device_models.parquet"), "path or an abfss://"},
		{"spark timeout too short", engineEnv("ENRICH_ENGINE", "spark", "ENRICH_SPARK_COMMAND", `["java"]`,
			"ENRICH_SPARK_TIMEOUT", "5s"), "ENRICH_SPARK_TIMEOUT"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := enrich.ConfigFromEnv(envconfig.NewFrom(envconfig.FromMap(c.env)))
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("valid configuration refused: %v", err)
			case c.want != "" && err == nil:
				t.Fatalf("accepted; want an error about %q (engine %s)", c.want, cfg.Engine)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
		})
	}
}
