//go:build integration

package devservices

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestWriteSparkImageJarsFromTheJarSet resolves the real sets with mvn
// over the local Spark jar set (fetched first if missing; `make build`
// already has).
func TestWriteSparkImageJarsFromTheJarSet(t *testing.T) {
	m, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	m.SetOutput(sparkTestLog{t})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	rt, err := m.SparkJars(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lib := rt.Jars
	job := filepath.Join(t.TempDir(), "sluice-spark.jar")
	writeFile(t, job, "job")
	dir := filepath.Join(t.TempDir(), "image-jars")
	names, err := m.WriteSparkImageJars(ctx, dir, job)
	if err != nil {
		t.Fatal(err)
	}
	local, err := os.ReadDir(lib)
	if err != nil {
		t.Fatal(err)
	}
	var localNames []string
	for _, e := range local {
		localNames = append(localNames, e.Name())
	}
	for _, n := range names {
		if n != "sluice-spark.jar" && !slices.Contains(localNames, n) {
			t.Errorf("%s is not in the local jar set", n)
		}
	}
	has := func(prefix string) bool {
		return slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, prefix) })
	}
	for _, p := range []string{"sluice-spark.jar", "spark-sql-kafka-0-10_" + SparkScala + "-", "spark-token-provider-kafka-0-10_", "kafka-clients-",
		"spark-cassandra-connector_" + SparkScala + "-" + SparkCassandraConnectorVersion, "spark-cassandra-connector-driver_", "java-driver-core-shaded-",
		"postgresql-" + SparkPostgresJDBCVersion, "hadoop-azure-" + SparkHadoopAzureVersion} {
		if !has(p) {
			t.Errorf("no %s* among the image jars %q", p, names)
		}
	}
	for _, p := range []string{"spark-sql_", "spark-core_", "spark-catalyst_", "scala-library-", "scala-reflect-", "jackson-databind-", "slf4j-api-", "netty-"} {
		if has(p) {
			t.Errorf("%s* is among the image jars, but the Spark distribution ships it: %q", p, names)
		}
	}
	t.Logf("%d image jars: %s", len(names), strings.Join(names, " "))
}
