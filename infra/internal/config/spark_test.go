package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

func TestSparkSettings(t *testing.T) {
	for _, tc := range []struct {
		name      string
		overrides map[string]string
		want      string
	}{
		{"no executors", map[string]string{"sparkExecutors": "0"}, "sluice:sparkExecutors is 0"},
		{"too many cores", map[string]string{"sparkExecutorCores": "17"}, "sluice:sparkExecutorCores is 17"},
		{"memory unit", map[string]string{"sparkExecutorMemory": "2G"}, `sluice:sparkExecutorMemory "2G" is not a Spark memory size`},
		{"memory too small", map[string]string{"sparkDriverMemory": "256m"}, "sluice:sparkDriverMemory is 256m; Spark needs at least 512m"},
		{"memory too large", map[string]string{"sparkExecutorMemory": "65g"}, "at most 64g"},
		{"trigger without unit", map[string]string{"sparkTrigger": "10"}, `sluice:sparkTrigger "10" is not a trigger interval`},
		{"no checkpoint space", map[string]string{"sparkCheckpointGb": "0"}, "sluice:sparkCheckpointGb is 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := map[string]string{"sparkStream": "true"}
			for k, v := range tc.overrides {
				o[k] = v
			}
			_, err := load("prod", values(t, "prod", o))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
	c, err := load("prod", values(t, "prod", map[string]string{"sparkStream": "true", "sparkExecutorMemory": "1536m", "sparkTrigger": "500ms"}))
	if err != nil {
		t.Fatal(err)
	}
	if mib, _ := SparkMemoryMiB(c.Spark.ExecutorMemory); mib != 1536 {
		t.Errorf("1536m is %d MiB", mib)
	}
	if mib, _ := SparkMemoryMiB("2g"); mib != 2048 {
		t.Errorf("2g is %d MiB", mib)
	}
}

// The stream image is deployed, and so required, only with Spark on.
func TestStreamImageOnlyWithSpark(t *testing.T) {
	off, err := load("dev", values(t, "dev", map[string]string{"sparkStream": "false", "imageStream": ""}))
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(off.DeployedImages(), deploy.Stream) {
		t.Errorf("Spark off deploys %v", off.DeployedImages())
	}
	if err := off.WorkloadsReady(); err != nil {
		t.Errorf("Spark off without a stream image: %v", err)
	}
	on, err := load("dev", values(t, "dev", map[string]string{"sparkStream": "true", "imageStream": ""}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(on.DeployedImages(), deploy.Stream) {
		t.Errorf("Spark on deploys %v", on.DeployedImages())
	}
	if err := on.WorkloadsReady(); err == nil || !strings.Contains(err.Error(), "no image for stream: set sluice:imageStream") {
		t.Errorf("Spark on without a stream image: %v", err)
	}
}

func TestSparkOperatorImage(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	for _, bad := range []string{"ghcr.io/acme/spark-operator@" + digest, "ghcr.io/acme/spark-operator:2.5.2", "spark-operator:2.5.2@" + digest} {
		if _, err := load("prod", values(t, "prod", map[string]string{"sparkOperatorImage": bad})); err == nil || !strings.Contains(err.Error(), "sluice:sparkOperatorImage") {
			t.Errorf("%s: %v", bad, err)
		}
	}
	c, err := load("prod", values(t, "prod", map[string]string{"sparkOperatorImage": "myacr.azurecr.io/kubeflow/spark-operator:2.5.2-spark3.5.7@" + digest}))
	if err != nil {
		t.Fatal(err)
	}
	reg, repo, tag, ok := c.Spark.OperatorImageParts()
	if !ok || reg != "myacr.azurecr.io" || repo != "kubeflow/spark-operator" || tag != "2.5.2-spark3.5.7@"+digest {
		t.Errorf("parts %q %q %q %v", reg, repo, tag, ok)
	}
}

func TestEnrichEngine(t *testing.T) {
	for _, tc := range []struct {
		name      string
		overrides map[string]string
		want      string
	}{
		{"unknown engine", map[string]string{"enrichEngine": "flink"}, `sluice:enrichEngine is "flink"; want one of go, spark`},
		{"engine case", map[string]string{"enrichEngine": "Spark"}, `sluice:enrichEngine is "Spark"`},
		{"no executors", map[string]string{"enrichEngine": "spark", "enrichSparkExecutors": "0"}, "sluice:enrichSparkExecutors is 0; want 1 to 50"},
		{"too many cores", map[string]string{"enrichEngine": "spark", "enrichSparkExecutorCores": "17"}, "sluice:enrichSparkExecutorCores is 17"},
		{"memory unit", map[string]string{"enrichEngine": "spark", "enrichSparkExecutorMemory": "2GB"}, `sluice:enrichSparkExecutorMemory "2GB" is not a Spark memory size`},
		{"driver too small", map[string]string{"enrichEngine": "spark", "enrichSparkDriverMemory": "256m"}, "sluice:enrichSparkDriverMemory is 256m; Spark needs at least 512m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load("prod", values(t, "prod", tc.overrides))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
	// Every problem at once, before anything is created.
	_, err := load("prod", values(t, "prod", map[string]string{"enrichEngine": "flink", "enrichSparkExecutors": "0", "enrichSparkDriverMemory": "1t"}))
	for _, want := range []string{"sluice:enrichEngine", "sluice:enrichSparkExecutors", "sluice:enrichSparkDriverMemory"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %s among the problems, got %v", want, err)
		}
	}
	for _, engine := range []string{"go", "spark"} {
		c, err := load("prod", values(t, "prod", map[string]string{"enrichEngine": engine, "enrichSparkExecutorMemory": "1536m"}))
		if err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		if c.Spark.EnrichOnSpark() != (engine == "spark") || c.Spark.Operator() != (engine == "spark" || c.Spark.Stream) {
			t.Errorf("%s: EnrichOnSpark %v, Operator %v", engine, c.Spark.EnrichOnSpark(), c.Spark.Operator())
		}
		if c.Spark.Enrich.ExecutorMemory != "1536m" {
			t.Errorf("%s: executor memory %q", engine, c.Spark.Enrich.ExecutorMemory)
		}
	}
}

// The Spark enrich job runs in the stream image: with enrichEngine spark
// the image is deployed, and so required, even with the stream job off.
func TestStreamImageWithSparkEnrich(t *testing.T) {
	c, err := load("dev", values(t, "dev", map[string]string{"sparkStream": "false", "enrichEngine": "spark", "imageStream": ""}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(c.DeployedImages(), deploy.Stream) {
		t.Errorf("Spark enrich deploys %v", c.DeployedImages())
	}
	if err := c.WorkloadsReady(); err == nil || !strings.Contains(err.Error(), "no image for stream") {
		t.Errorf("Spark enrich without a stream image: %v", err)
	}
}
