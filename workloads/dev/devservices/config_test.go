package devservices

import (
	"encoding/xml"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func parseProperties(t *testing.T, s string) map[string]string {
	t.Helper()
	props := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("line without '=': %q", line)
		}
		if _, dup := props[k]; dup {
			t.Fatalf("duplicate property %s", k)
		}
		props[k] = v
	}
	return props
}

func TestKafkaServerProperties(t *testing.T) {
	props := parseProperties(t, kafkaServerProperties("/h/data/kafka/logs"))
	want := map[string]string{
		"process.roles":                            "broker,controller",
		"node.id":                                  "1",
		"controller.quorum.voters":                 "1@127.0.0.1:19093",
		"listeners":                                "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093",
		"advertised.listeners":                     "PLAINTEXT://127.0.0.1:19092",
		"controller.listener.names":                "CONTROLLER",
		"log.dirs":                                 "/h/data/kafka/logs",
		"auto.create.topics.enable":                "false",
		"num.partitions":                           "6",
		"offsets.topic.replication.factor":         "1",
		"group.initial.rebalance.delay.ms":         "0",
		"transaction.state.log.min.isr":            "1",
		"default.replication.factor":               "1",
		"listener.security.protocol.map":           "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
		"inter.broker.listener.name":               "PLAINTEXT",
		"transaction.state.log.replication.factor": "1",
	}
	for k, v := range want {
		if got, ok := props[k]; !ok || got != v {
			t.Errorf("%s = %q (present %v), want %q", k, got, ok, v)
		}
	}
}

func TestKafkaJVMArgsCapHeap(t *testing.T) {
	args := kafkaJVMArgs("/h/conf/log4j.properties")
	for _, want := range []string{"-Xms512M", "-Xmx512M", "-Dlog4j.configuration=file:/h/conf/log4j.properties"} {
		if !slices.Contains(args, want) {
			t.Errorf("kafka JVM args lack %s: %v", want, args)
		}
	}
}

func TestKafkaClusterID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		id, err := newKafkaClusterID()
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != 22 || !validKafkaClusterID(id) {
			t.Fatalf("cluster id %q is not a 22-char Kafka uuid", id)
		}
		if seen[id] {
			t.Fatalf("cluster id %q repeated", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "abc", "-AAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAA=", "a+b/AAAAAAAAAAAAAAAAAA"} {
		if validKafkaClusterID(bad) {
			t.Errorf("validKafkaClusterID(%q) = true", bad)
		}
	}
}

func TestCassandraYAML(t *testing.T) {
	d := newCassandraDirs("/h/data/cassandra")
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(cassandraYAML(d)), &cfg); err != nil {
		t.Fatalf("generated cassandra.yaml does not parse: %v", err)
	}
	want := map[string]any{
		"num_tokens":             1,
		"authenticator":          "PasswordAuthenticator",
		"authorizer":             "CassandraAuthorizer",
		"native_transport_port":  CassandraCQLPort,
		"storage_port":           CassandraStoragePort,
		"listen_address":         Host,
		"rpc_address":            Host,
		"commitlog_sync":         "periodic",
		"auto_snapshot":          false,
		"commitlog_directory":    "/h/data/cassandra/commitlog",
		"hints_directory":        "/h/data/cassandra/hints",
		"saved_caches_directory": "/h/data/cassandra/saved_caches",
		"concurrent_reads":       8,
		"concurrent_writes":      8,
		"endpoint_snitch":        "SimpleSnitch",
		"start_native_transport": true,
	}
	for k, v := range want {
		if got := cfg[k]; fmt.Sprint(got) != fmt.Sprint(v) {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	dirs, ok := cfg["data_file_directories"].([]any)
	if !ok || len(dirs) != 1 || dirs[0] != "/h/data/cassandra/data" {
		t.Errorf("data_file_directories = %v", cfg["data_file_directories"])
	}
	seeds := fmt.Sprint(cfg["seed_provider"])
	if !strings.Contains(seeds, "127.0.0.1:17000") {
		t.Errorf("seed_provider %s lacks the loopback seed", seeds)
	}
}

func TestCassandraYAMLQuotesPaths(t *testing.T) {
	d := newCassandraDirs("/h/it's here/cassandra")
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(cassandraYAML(d)), &cfg); err != nil {
		t.Fatalf("generated cassandra.yaml does not parse: %v", err)
	}
	if got := cfg["commitlog_directory"]; got != "/h/it's here/cassandra/commitlog" {
		t.Errorf("commitlog_directory = %v", got)
	}
}

func TestCassandraJVMArgs(t *testing.T) {
	d := newCassandraDirs("/h/data/cassandra")
	args := cassandraJVMArgs("/h/conf/cassandra.yaml", "/h/conf/logback.xml", "/h/lib/jamm-0.4.0.jar", d)
	for _, want := range []string{
		"-Xms1G", "-Xmx1G", "-XX:+UseG1GC",
		"-javaagent:/h/lib/jamm-0.4.0.jar",
		"-Dcassandra.config=file:///h/conf/cassandra.yaml",
		"-Dcassandra-foreground=yes",
		"-Dcassandra.superuser_setup_delay_ms=0",
		"-Dcassandra.skip_wait_for_gossip_to_settle=0",
		"-Dcassandra.jmx.local.port=17199",
		"-Dio.netty.tryReflectionSetAccessible=true",
		"-Djdk.attach.allowAttachSelf=true",
	} {
		if !slices.Contains(args, want) {
			t.Errorf("cassandra JVM args lack %s", want)
		}
	}
	// Every module flag must be followed by its value.
	opens := 0
	for i, a := range args {
		if a == "--add-opens" || a == "--add-exports" {
			if i+1 >= len(args) || !strings.HasSuffix(args[i+1], "=ALL-UNNAMED") {
				t.Fatalf("%s at %d has no module value", a, i)
			}
			opens++
		}
	}
	if opens != 23 {
		t.Errorf("%d module flags, want the 23 of jvm17-server.options", opens)
	}
	for _, a := range args {
		if strings.HasPrefix(a, "-Xmn") {
			t.Errorf("-Xmn must not be set with G1: %s", a)
		}
	}
}

func TestPostgresConf(t *testing.T) {
	conf := postgresConf("/h/data/postgres/pgdata", "/h/data/postgres/conf/pg_hba.conf", "/h/run/pgsocket")
	for _, want := range []string{
		"listen_addresses = '127.0.0.1'",
		"port = 15432",
		"unix_socket_directories = '/h/run/pgsocket'",
		"password_encryption = 'scram-sha-256'",
		"data_directory = '/h/data/postgres/pgdata'",
		"hba_file = '/h/data/postgres/conf/pg_hba.conf'",
	} {
		if !strings.Contains(conf, want+"\n") {
			t.Errorf("postgresql.conf lacks %q", want)
		}
	}
	if !strings.Contains(postgresHBA, "127.0.0.1/32  scram-sha-256") {
		t.Error("pg_hba.conf must ask for SCRAM over TCP")
	}
	if strings.Contains(postgresHBA, "0.0.0.0") || strings.Contains(postgresHBA, "::") {
		t.Error("pg_hba.conf must not allow non-loopback addresses")
	}
}

func TestRedisArgs(t *testing.T) {
	args := redisArgs("/h/data/redis")
	pairs := map[string]string{}
	for i := 0; i+1 < len(args); i += 2 {
		if !strings.HasPrefix(args[i], "--") {
			t.Fatalf("argument %d %q is not an option name", i, args[i])
		}
		pairs[args[i]] = args[i+1]
	}
	want := map[string]string{
		"--bind": "127.0.0.1", "--port": "16379", "--dir": "/h/data/redis",
		"--appendonly": "yes", "--save": "", "--protected-mode": "yes", "--daemonize": "no",
	}
	for k, v := range want {
		if got, ok := pairs[k]; !ok || got != v {
			t.Errorf("%s = %q (present %v), want %q", k, got, ok, v)
		}
	}
}

func TestPomXML(t *testing.T) {
	deps := []artifact{{"org.apache.kafka", "kafka_2.13", "3.9.1"}, {"a&b", "c<d", "1"}}
	var pom struct {
		ArtifactID string `xml:"artifactId"`
		Packaging  string `xml:"packaging"`
		Deps       []struct {
			Group    string `xml:"groupId"`
			Artifact string `xml:"artifactId"`
			Version  string `xml:"version"`
		} `xml:"dependencies>dependency"`
		Repos []struct{} `xml:"repositories>repository"`
	}
	if err := xml.Unmarshal([]byte(pomXML("kafka-runtime", deps)), &pom); err != nil {
		t.Fatalf("pom does not parse: %v", err)
	}
	if pom.ArtifactID != "kafka-runtime" || pom.Packaging != "pom" {
		t.Errorf("pom artifact %q packaging %q", pom.ArtifactID, pom.Packaging)
	}
	if len(pom.Repos) != 0 {
		t.Error("pom must not add repositories: Maven Central only")
	}
	if len(pom.Deps) != len(deps) {
		t.Fatalf("%d dependencies, want %d", len(pom.Deps), len(deps))
	}
	for i, d := range deps {
		got := artifact{pom.Deps[i].Group, pom.Deps[i].Artifact, pom.Deps[i].Version}
		if got != d {
			t.Errorf("dependency %d = %v, want %v", i, got, d)
		}
	}
}

func TestMavenArgs(t *testing.T) {
	args := mavenArgs("/h/cache/kafka-3.9.1/pom.xml", "/h/cache/kafka-3.9.1/lib.partial", "/h/cache/m2")
	for _, want := range []string{"-q", "-B", "-Dmaven.repo.local=/h/cache/m2",
		"-DoutputDirectory=/h/cache/kafka-3.9.1/lib.partial", "-DincludeScope=runtime",
		dependencyPlugin + ":copy-dependencies"} {
		if !slices.Contains(args, want) {
			t.Errorf("mvn args lack %s: %v", want, args)
		}
	}
	if i := slices.Index(args, "-f"); i < 0 || args[i+1] != "/h/cache/kafka-3.9.1/pom.xml" {
		t.Errorf("mvn args do not name the pom: %v", args)
	}
}

func TestKafkaArtifactsIncludeLogging(t *testing.T) {
	arts := kafkaArtifacts()
	if arts[0].Artifact != "kafka_2.13" || arts[0].Version != KafkaVersion {
		t.Errorf("first artifact %v, want kafka_2.13:%s", arts[0], KafkaVersion)
	}
	var names []string
	for _, a := range arts {
		names = append(names, a.Artifact)
	}
	if !slices.Contains(names, "slf4j-reload4j") || !slices.Contains(names, "reload4j") {
		t.Errorf("kafka artifacts lack a logging backend: %v", names)
	}
	if !strings.HasPrefix(KafkaVersion, "3.9.") || !strings.HasPrefix(CassandraVersion, "5.0.") {
		t.Errorf("versions %s / %s outside the 3.9 / 5.0 lines", KafkaVersion, CassandraVersion)
	}
}

func TestFindJar(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "jamm-0.4.0.jar"), "x")
	writeFile(t, filepath.Join(dir, "jackson-core-2.19.2.jar"), "x")
	got, err := findJar(dir, "jamm-")
	if err != nil || got != filepath.Join(dir, "jamm-0.4.0.jar") {
		t.Fatalf("findJar = %q, %v", got, err)
	}
	if _, err := findJar(dir, "netty-"); err == nil {
		t.Error("findJar found a missing jar")
	}
	writeFile(t, filepath.Join(dir, "jamm-0.3.2.jar"), "x")
	if _, err := findJar(dir, "jamm-"); err == nil {
		t.Error("findJar accepted two candidates")
	}
}
