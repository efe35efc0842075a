package devservices

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// The Spark the stream job runs on locally (the same as on AKS): Spark 3.5
// for Scala 2.12, its Kafka source and the Cassandra connector.
const (
	SparkVersion                   = deploy.SparkVersion
	SparkScala                     = deploy.SparkScala
	SparkCassandraConnectorVersion = deploy.SparkCassandraConnectorVersion
	SparkPostgresJDBCVersion       = deploy.SparkPostgresJDBCVersion
	SparkHadoopAzureVersion        = deploy.SparkHadoopAzureVersion
)

// Spark is not a service: it names the jar set Spark jobs run from in local
// mode (one JVM per job, started by the job's launcher).
const Spark Engine = "spark"

func sparkArtifacts() []artifact {
	return []artifact{
		{"org.apache.spark", "spark-sql_" + SparkScala, SparkVersion},
		{"org.apache.spark", "spark-sql-kafka-0-10_" + SparkScala, SparkVersion},
		{"com.datastax.spark", "spark-cassandra-connector_" + SparkScala, SparkCassandraConnectorVersion},
		{"org.postgresql", "postgresql", SparkPostgresJDBCVersion},
		{"org.apache.hadoop", "hadoop-azure", SparkHadoopAzureVersion},
	}
}

// sparkJarSet names the jar set's folder: Spark's version and a digest of
// the artifacts, so a jar set fetched before an artifact was added is
// fetched again rather than used without it.
func sparkJarSet() string {
	h := sha256.New()
	for _, a := range sparkArtifacts() {
		fmt.Fprintf(h, "%v\n", a)
	}
	return fmt.Sprintf("%s-%x", SparkVersion, h.Sum(nil)[:4])
}

// SparkRuntime is what a Spark job runs with locally: the jar set's folder
// and the java and mvn the prerequisite check resolved.
type SparkRuntime struct {
	Jars, Java, Mvn string
}

// SparkJars checks Java 17 and Maven, fetches the Spark jar set from Maven
// Central once (about 250 MB; later calls return at once) and returns the
// runtime.
func (m *Manager) SparkJars(ctx context.Context) (SparkRuntime, error) {
	t, err := m.checkPrereqs(ctx, []Engine{Spark})
	if err != nil {
		return SparkRuntime{}, err
	}
	dir, err := m.fetchJars(ctx, t, Spark, sparkJarSet(), sparkArtifacts())
	if err != nil {
		return SparkRuntime{}, err
	}
	return SparkRuntime{Jars: dir, Java: t.java, Mvn: t.mvn}, nil
}

// SparkJavaOptions are the JVM options Spark needs on Java 17: the module
// openings of Spark's launcher (JavaModuleOptions), which a JVM started
// without spark-submit must be given by hand.
func SparkJavaOptions() []string {
	opens := []string{
		"java.base/java.lang", "java.base/java.lang.invoke", "java.base/java.lang.reflect", "java.base/java.io",
		"java.base/java.net", "java.base/java.nio", "java.base/java.util", "java.base/java.util.concurrent",
		"java.base/java.util.concurrent.atomic", "java.base/jdk.internal.ref", "java.base/sun.nio.ch",
		"java.base/sun.nio.cs", "java.base/sun.security.action", "java.base/sun.util.calendar",
	}
	out := []string{"-XX:+IgnoreUnrecognizedVMOptions", "-Djdk.reflect.useDirectMethodHandle=false", "-Dio.netty.tryReflectionSetAccessible=true"}
	for _, o := range opens {
		out = append(out, "--add-opens="+o+"=ALL-UNNAMED")
	}
	return out
}

// SparkClasspath is the classpath of a job: its jar first, then every jar of
// the set, in a stable order.
func SparkClasspath(jobJar, jarsDir string) (string, error) {
	jars, err := filepath.Glob(filepath.Join(jarsDir, "*.jar"))
	if err != nil || len(jars) == 0 {
		return "", fmt.Errorf("no jars in %s: fetch the Spark jar set first (devservices spark)", jarsDir)
	}
	sort.Strings(jars)
	return strings.Join(append([]string{jobJar}, jars...), string(filepath.ListSeparator)), nil
}
