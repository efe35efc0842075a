package plancheck

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/sluicehq/sluice/infra/internal/mocks"
)

// sparkApp is a SparkApplication running image whose driver and executor
// templates set env (and extra fields in the driver's container).
func sparkApp(name, image string, env map[string]string, driverExtra map[string]any) *mocks.Resource {
	var vars []any
	for k, v := range env {
		vars = append(vars, map[string]any{"name": k, "value": v})
	}
	template := func(extra map[string]any) map[string]any {
		c := map[string]any{"name": "spark-kubernetes-driver", "env": vars}
		for k, v := range extra {
			c[k] = v
		}
		return map[string]any{"spec": map[string]any{"containers": []any{c}}}
	}
	return res("kubernetes:sparkoperator.k8s.io/v1beta2:SparkApplication", name, map[string]any{
		"apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
		"metadata": map[string]any{"name": name, "namespace": "sluice"},
		"spec": map[string]any{
			"type": "Java", "mode": "cluster", "sparkVersion": "3.5.7", "image": image,
			"mainApplicationFile": "local:///opt/sluice/jars/sluice-spark.jar", "mainClass": "io.sluice.spark.StreamJob",
			"driver":   map[string]any{"cores": 1, "memory": "1g", "serviceAccount": "stream", "template": template(driverExtra)},
			"executor": map[string]any{"instances": 1, "cores": 1, "memory": "2g", "serviceAccount": "stream", "template": template(nil)},
		},
	}, nil)
}

var streamEnv = map[string]string{
	"KAFKA_BROKERS": "ns.servicebus.windows.net:9093", "KAFKA_AUTH": "oauth",
	"CASSANDRA_HOSTS": "acct.cassandra.cosmos.azure.com", "CASSANDRA_PASSWORD_FILE": "/mnt/secrets/cosmos/cassandra-password",
	"SPARK_CHECKPOINT": "/checkpoints/stream",
}

func TestStreamJobAgainstTheSparkContract(t *testing.T) {
	image := "acr.azurecr.io/stream@sha256:00"
	none(t, CheckContract([]*mocks.Resource{sparkApp("stream", image, streamEnv, nil)}))

	missing := map[string]string{}
	for k, v := range streamEnv {
		missing[k] = v
	}
	delete(missing, "SPARK_CHECKPOINT")
	vs := CheckContract([]*mocks.Resource{sparkApp("stream", image, missing, nil)})
	if len(vs) != 2 { // the driver's template and the executors'
		t.Errorf("want SPARK_CHECKPOINT missing in both templates, got:\n%s", list(vs))
	}
	for _, v := range vs {
		if !strings.Contains(v.String(), "SPARK_CHECKPOINT is required") {
			t.Errorf("unexpected violation %s", v)
		}
	}

	extra := map[string]string{"SPARK_TRIGER": "10s"}
	for k, v := range streamEnv {
		extra[k] = v
	}
	if vs := CheckContract([]*mocks.Resource{sparkApp("stream", image, extra, nil)}); len(vs) != 2 || !strings.Contains(vs[0].String(), "does not read SPARK_TRIGER") {
		t.Errorf("want the misspelt variable reported per template, got:\n%s", list(vs))
	}
	// Another image is not the stream job.
	none(t, CheckContract([]*mocks.Resource{sparkApp("other", "apache/spark@sha256:00", map[string]string{"X": "y"}, nil)}))
}

func TestSparkPodTemplatesDecodeStrictly(t *testing.T) {
	c := crds(t)
	none(t, CheckManifests(c, []*mocks.Resource{sparkApp("stream", "acr.azurecr.io/stream@sha256:00", streamEnv, nil)}))
	typo := sparkApp("stream", "acr.azurecr.io/stream@sha256:00", streamEnv, map[string]any{"volumeMount": []any{}})
	want(t, CheckManifests(c, []*mocks.Resource{typo}), "manifests", "driver pod template", `unknown field "volumeMount"`)
}

// The driver and executor pods need what their environment points at,
// like any pod: here the Cosmos DB keyspace behind CASSANDRA_HOSTS.
func TestSparkPodsNeedWhatTheyUse(t *testing.T) {
	app := sparkApp("stream", "acr.azurecr.io/stream@sha256:00", streamEnv, nil)
	pods := podSpecsOf(app)
	if len(pods) != 2 {
		t.Fatalf("want the driver's and the executors' pod specs, got %d", len(pods))
	}
	for _, p := range pods {
		if p["serviceAccountName"] != "stream" {
			t.Errorf("pod spec service account %v, want the application's (stream)", p["serviceAccountName"])
		}
		c := p["containers"].([]any)[0].(map[string]any)
		if c["image"] != "acr.azurecr.io/stream@sha256:00" || c["name"] != "spark-kubernetes-driver" {
			t.Errorf("first container %v lacks the application's image", c)
		}
	}
}

var enrichSparkEnv = map[string]string{
	"CASSANDRA_HOSTS": "acct.cassandra.cosmos.azure.com", "CASSANDRA_PASSWORD_FILE": "/mnt/secrets/cosmos/cassandra-password",
	"CASSANDRA_PORT": "10350", "CASSANDRA_TLS": "true",
	"POSTGRES_HOST": "pg.postgres.database.azure.com", "POSTGRES_PORT": "6432", "POSTGRES_USER": "id-enrich", "POSTGRES_AUTH": "entra",
	"ENRICH_MODELS_URL": "abfss://reference@lake.dfs.core.windows.net/models.parquet",
}

// enrichTemplate is a ConfigMap holding the enrich SparkApplication
// (as its CronJob's launcher reads it), with edit applied to the
// application first.
func enrichTemplate(t *testing.T, env map[string]string, edit func(app map[string]any)) *mocks.Resource {
	t.Helper()
	app := Manifest(sparkApp("enrich-spark", "acr.azurecr.io/stream@sha256:00", env, nil))
	dig(app, "spec")["mainClass"] = "io.sluice.spark.EnrichJob"
	if edit != nil {
		edit(app)
	}
	b, err := json.Marshal(app)
	if err != nil {
		t.Fatal(err)
	}
	return res("kubernetes:core/v1:ConfigMap", "enrich-spark-application", map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "enrich-spark-application", "namespace": "sluice"},
		"data":     map[string]any{"enrich-sparkapplication.json": string(b)},
	}, nil)
}

// checkTemplates runs the manifests and contract checks on a plan with its
// templates expanded, as Check does.
func checkTemplates(t *testing.T, rs ...*mocks.Resource) []Violation {
	t.Helper()
	expanded, vs := WithTemplates(rs)
	vs = append(vs, CheckManifests(crds(t), expanded)...)
	return append(vs, CheckContract(expanded)...)
}

// The enrich SparkApplication lives in a ConfigMap (the CronJob creates it
// per run); it is checked as the SparkApplication it becomes, against
// the enrich job's own contract.
func TestEnrichTemplateChecked(t *testing.T) {
	cm := enrichTemplate(t, enrichSparkEnv, nil)
	expanded, vs := WithTemplates([]*mocks.Resource{cm})
	none(t, vs)
	if len(expanded) != 2 || expanded[1].Type != "kubernetes:sparkoperator.k8s.io/v1beta2:SparkApplication" || expanded[1].Dependencies[0] != cm.URN {
		t.Fatalf("want the ConfigMap then its SparkApplication after it, got %v", expanded)
	}
	none(t, checkTemplates(t, cm))

	missing := maps.Clone(enrichSparkEnv)
	delete(missing, "ENRICH_MODELS_URL")
	vs = checkTemplates(t, enrichTemplate(t, missing, nil))
	if len(vs) != 2 {
		t.Errorf("want ENRICH_MODELS_URL missing in both templates, got:\n%s", list(vs))
	}
	for _, v := range vs {
		if !strings.Contains(v.String(), "ENRICH_MODELS_URL is required by the enrich job") {
			t.Errorf("unexpected violation %s", v)
		}
	}

	noPostgres := maps.Clone(enrichSparkEnv)
	delete(noPostgres, "POSTGRES_HOST")
	if vs := checkTemplates(t, enrichTemplate(t, noPostgres, nil)); len(vs) != 2 || !strings.Contains(vs[0].String(), "needs POSTGRES_URL or POSTGRES_HOST") {
		t.Errorf("want the PostgreSQL address reported per template, got:\n%s", list(vs))
	}
	// A stream variable is not the enrich job's.
	stream := maps.Clone(enrichSparkEnv)
	stream["SPARK_CHECKPOINT"] = "/checkpoints"
	if vs := checkTemplates(t, enrichTemplate(t, stream, nil)); len(vs) != 2 || !strings.Contains(vs[0].String(), "the enrich job does not read SPARK_CHECKPOINT") {
		t.Errorf("want the stream variable reported per template, got:\n%s", list(vs))
	}

	ttl := enrichTemplate(t, enrichSparkEnv, func(app map[string]any) { dig(app, "spec")["timeToLive"] = 60 })
	want(t, checkTemplates(t, ttl), "manifests", "enrich-spark-application/enrich-sparkapplication.json", "spec.timeToLive: unknown field")
	typo := enrichTemplate(t, enrichSparkEnv, func(app map[string]any) {
		dig(app, "spec", "driver", "template", "spec")["volumeMount"] = []any{}
	})
	want(t, checkTemplates(t, typo), "manifests", "driver pod template", `unknown field "volumeMount"`)

	broken := enrichTemplate(t, enrichSparkEnv, nil)
	broken.Inputs["data"] = resource.NewObjectProperty(resource.NewPropertyMapFromMap(map[string]any{"enrich-sparkapplication.json": "{\"apiVersion\":"}))
	want(t, checkTemplates(t, broken), "manifests", "data enrich-sparkapplication.json: not a JSON object")
}

// The template may be used as soon as its ConfigMap exists: the order
// check holds the SparkApplication it holds to the Spark Operator release
// (its CRDs) through the ConfigMap.
func TestEnrichTemplateOrderedAfterTheOperator(t *testing.T) {
	cluster := res("azure-native:containerservice:ManagedCluster", "aks", map[string]any{
		"agentPoolProfiles": []any{map[string]any{"mode": "System"}},
	}, nil)
	operator := res("kubernetes:helm.sh/v3:Release", "spark-operator", map[string]any{"chart": "spark-operator"}, nil)
	early := dependsOn(enrichTemplate(t, enrichSparkEnv, nil), cluster)
	rs, _ := WithTemplates([]*mocks.Resource{cluster, operator, early})
	want(t, CheckOrder(rs), "order", "enrich-sparkapplication.json", "could be created before the Spark Operator Helm release")
	late := dependsOn(enrichTemplate(t, enrichSparkEnv, nil), cluster, operator)
	rs, _ = WithTemplates([]*mocks.Resource{cluster, operator, late})
	for _, v := range CheckOrder(rs) {
		if strings.Contains(v.Message, "Spark Operator") {
			t.Errorf("unexpected %s", v)
		}
	}
}
