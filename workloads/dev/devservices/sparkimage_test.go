package devservices

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Fixtures in the format maven-dependency-plugin 3.6.1 writes: list with
// absolute file names (and module names), tree with its drawing.
const fullListFixture = `
The following files have been resolved:
   org.apache.spark:spark-sql_2.12:jar:3.5.7:compile:/m2/org/apache/spark/spark-sql_2.12/3.5.7/spark-sql_2.12-3.5.7.jar
   org.apache.spark:spark-sql-kafka-0-10_2.12:jar:3.5.7:compile:/m2/org/apache/spark/spark-sql-kafka-0-10_2.12/3.5.7/spark-sql-kafka-0-10_2.12-3.5.7.jar -- module spark.sql.kafka (auto)
   org.apache.kafka:kafka-clients:jar:3.4.1:compile:/m2/org/apache/kafka/kafka-clients/3.4.1/kafka-clients-3.4.1.jar -- module kafka.clients (auto)
   com.datastax.spark:spark-cassandra-connector_2.12:jar:3.5.1:compile:/m2/com/datastax/spark/spark-cassandra-connector_2.12/3.5.1/spark-cassandra-connector_2.12-3.5.1.jar
   org.apache.commons:commons-pool2:jar:2.11.1:runtime:/m2/org/apache/commons/commons-pool2/2.11.1/commons-pool2-2.11.1.jar -- module org.apache.commons.pool2
   io.netty:netty-transport-native-epoll:jar:linux-x86_64:4.1.96.Final:compile:/m2/io/netty/netty-transport-native-epoll/4.1.96.Final/netty-transport-native-epoll-4.1.96.Final-linux-x86_64.jar
   org.slf4j:slf4j-api:jar:2.0.7:compile:/m2/org/slf4j/slf4j-api/2.0.7/slf4j-api-2.0.7.jar -- module org.slf4j
   com.typesafe:config:jar:1.4.1:compile:/m2/com/typesafe/config/1.4.1/config-1.4.1.jar -- module typesafe.config
   org.scala-lang:scala-library:jar:2.12.18:compile:/m2/org/scala-lang/scala-library/2.12.18/scala-library-2.12.18.jar
   org.example:some-bom:pom:1.0:compile:/m2/org/example/some-bom/1.0/some-bom-1.0.pom
`

// The distribution's tree: slf4j-api at another version than the combined
// set mediated (still shipped: matched by group:artifact), epoll with
// another classifier.
const distributionTreeFixture = `local.sluice.devservices:spark-image-distribution:pom:1
\- org.apache.spark:spark-sql_2.12:jar:3.5.7:compile
   +- org.rocksdb:rocksdbjni:jar:8.3.2:compile
   +- org.apache.spark:spark-core_2.12:jar:3.5.7:compile
   |  +- io.netty:netty-transport-native-epoll:jar:linux-aarch_64:4.1.96.Final:compile
   |  +- org.slf4j:slf4j-api:jar:2.0.16:compile
   |  \- org.scala-lang:scala-library:jar:2.12.18:compile
   \- org.apache.hive:hive-storage-api:jar:2.8.1:compile (optional)
`

func TestParseMavenDeps(t *testing.T) {
	full, err := parseMavenDeps(fullListFixture)
	if err != nil {
		t.Fatal(err)
	}
	if len(full) != 10 {
		t.Fatalf("parsed %d dependencies, want 10: %+v", len(full), full)
	}
	kc := full[2]
	if kc.Group != "org.apache.kafka" || kc.Artifact != "kafka-clients" || kc.Version != "3.4.1" || kc.Scope != "compile" ||
		kc.File != "/m2/org/apache/kafka/kafka-clients/3.4.1/kafka-clients-3.4.1.jar" {
		t.Errorf("kafka-clients parsed as %+v", kc)
	}
	epoll := full[5]
	if epoll.Classifier != "linux-x86_64" || epoll.Version != "4.1.96.Final" || !strings.HasSuffix(epoll.File, "-linux-x86_64.jar") {
		t.Errorf("classified jar parsed as %+v", epoll)
	}
	dist, err := parseMavenDeps(distributionTreeFixture)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, d := range dist {
		keys = append(keys, d.key())
		if d.File != "" {
			t.Errorf("%s: a tree line has no file, got %q", d.key(), d.File)
		}
	}
	want := []string{"org.apache.spark:spark-sql_2.12", "org.rocksdb:rocksdbjni", "org.apache.spark:spark-core_2.12",
		"io.netty:netty-transport-native-epoll", "org.slf4j:slf4j-api", "org.scala-lang:scala-library", "org.apache.hive:hive-storage-api"}
	if !slices.Equal(keys, want) {
		t.Errorf("tree keys = %q, want %q (the project line skipped)", keys, want)
	}
	for _, bad := range []string{"   org.example:x:jar\n", "   org.example::jar:1:compile\n"} {
		if _, err := parseMavenDeps(bad); err == nil {
			t.Errorf("line %q accepted", bad)
		}
	}
}

func TestSparkExtraJars(t *testing.T) {
	full, err := parseMavenDeps(fullListFixture)
	if err != nil {
		t.Fatal(err)
	}
	dist, err := parseMavenDeps(distributionTreeFixture)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range sparkExtraJars(full, dist) {
		got = append(got, filepath.Base(d.File))
	}
	want := []string{
		"commons-pool2-2.11.1.jar",
		"config-1.4.1.jar",
		"kafka-clients-3.4.1.jar",
		"spark-cassandra-connector_2.12-3.5.1.jar",
		"spark-sql-kafka-0-10_2.12-3.5.7.jar",
	}
	if !slices.Equal(got, want) {
		t.Errorf("extra jars = %q, want %q (spark-sql's closure by group:artifact, whatever the version or classifier, and non-jars left out)", got, want)
	}
	if len(sparkDistributionArtifacts()) != 1 || sparkDistributionArtifacts()[0].Artifact != "spark-sql_"+SparkScala {
		t.Errorf("the distribution is resolved from %v, want spark-sql alone", sparkDistributionArtifacts())
	}
}

func TestReplaceWithCopies(t *testing.T) {
	src := t.TempDir()
	a, b := filepath.Join(src, "a.jar"), filepath.Join(src, "b.jar")
	writeFile(t, a, "A")
	writeFile(t, b, "B")
	dir := filepath.Join(t.TempDir(), "jars")
	writeFile(t, filepath.Join(dir, "stale.jar"), "old")
	names, err := replaceWithCopies(dir, []string{b, a})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"a.jar", "b.jar"}) {
		t.Errorf("names = %q", names)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Errorf("%d files in %s, want 2 (the stale jar removed)", len(entries), dir)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "b.jar")); string(got) != "B" {
		t.Errorf("b.jar = %q", got)
	}
	other := filepath.Join(t.TempDir(), "a.jar")
	writeFile(t, other, "A2")
	if _, err := replaceWithCopies(dir, []string{a, other}); err == nil || !strings.Contains(err.Error(), "two jars named a.jar") {
		t.Errorf("a name clash gave %v", err)
	}
}

type sparkTestLog struct{ t *testing.T }

func (w sparkTestLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
