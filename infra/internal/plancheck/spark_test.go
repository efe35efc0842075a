package plancheck

import (
	"strings"
	"testing"

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
