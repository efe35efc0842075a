package sparkrun_test

import (
	"encoding/xml"
	"os"
	"path"
	"path/filepath"
	"testing"

	"github.com/sluicehq/sluice/internal/modroot/roottest"
	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/sparkrun"
)

// The job compiles against the Spark it runs on: pom.xml's versions are
// devservices' (which fetches the runtime jar set).
func TestPomVersionsAreDevservices(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(roottest.Root(t), "workloads", "spark", "pom.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var pom struct {
		Properties struct {
			Scala     string `xml:"scala.binary"`
			Spark     string `xml:"spark.version"`
			Connector string `xml:"cassandra.connector.version"`
			Postgres  string `xml:"postgresql.version"`
			ABFS      string `xml:"hadoop.azure.version"`
			Release   string `xml:"maven.compiler.release"`
		} `xml:"properties"`
	}
	if err := xml.Unmarshal(b, &pom); err != nil {
		t.Fatal(err)
	}
	p := pom.Properties
	if p.Spark != devservices.SparkVersion || p.Scala != devservices.SparkScala || p.Connector != devservices.SparkCassandraConnectorVersion {
		t.Fatalf("pom.xml compiles against Spark %s (Scala %s, connector %s); devservices runs Spark %s (Scala %s, connector %s)",
			p.Spark, p.Scala, p.Connector, devservices.SparkVersion, devservices.SparkScala, devservices.SparkCassandraConnectorVersion)
	}
	if p.Postgres != devservices.SparkPostgresJDBCVersion {
		t.Fatalf("pom.xml compiles against PostgreSQL JDBC %s; devservices runs %s", p.Postgres, devservices.SparkPostgresJDBCVersion)
	}
	if p.ABFS != devservices.SparkHadoopAzureVersion {
		t.Fatalf("pom.xml compiles against hadoop-azure %s; devservices runs %s", p.ABFS, devservices.SparkHadoopAzureVersion)
	}
	if p.Release != "17" {
		t.Fatalf("the job targets Java %s; the images and the machines run 17", p.Release)
	}
}

// The stream image holds the jar this package builds at the contract's path
// and the SparkApplication starts the contract's class.
func TestJobMatchesTheDeploymentContract(t *testing.T) {
	if sparkrun.JarName != path.Base(deploy.SparkJobJar) || sparkrun.StreamJob != deploy.SparkStreamMainClass {
		t.Errorf("job jar %s class %s; the contract has %s and %s", sparkrun.JarName, sparkrun.StreamJob, deploy.SparkJobJar, deploy.SparkStreamMainClass)
	}
}
