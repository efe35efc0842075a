package workloads_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/infra/internal/components/workloads"
	"github.com/sluicehq/sluice/infra/internal/config"
	"github.com/sluicehq/sluice/infra/internal/mocks"
	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

const tConfigMap = "kubernetes:core/v1:ConfigMap"

// enrichTemplate decodes the enrich SparkApplication template from its
// ConfigMap.
func enrichTemplate(t *testing.T, r *run) (*mocks.Resource, map[string]any) {
	t.Helper()
	cm := r.named(tConfigMap, workloads.EnrichSpark+"-application")
	var app map[string]any
	v := mocks.Value(cm.Inputs, "data").ObjectValue()[workloads.EnrichSparkTemplateKey]
	if !v.IsString() {
		t.Fatalf("ConfigMap %s has no %s", cm.Name, workloads.EnrichSparkTemplateKey)
	}
	if err := json.Unmarshal([]byte(v.StringValue()), &app); err != nil {
		t.Fatalf("template %s: %v", workloads.EnrichSparkTemplateKey, err)
	}
	return cm, app
}

func at(v any, path ...string) any {
	for _, k := range path {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

func TestSparkEnrichOnAKS(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			r := runWith(t, stack, map[string]string{"enrichEngine": "spark"})
			ns := r.cfg.KubernetesNamespace
			s := r.cfg.Spark.Enrich
			rel := r.one(tRelease) // the operator, once, with the stream job off
			if n := len(r.all(tSparkApp)); n != 0 {
				t.Errorf("%d SparkApplications declared: the enrich CronJob creates its own per run", n)
			}

			cm, app := enrichTemplate(t, r)
			for path, want := range map[string]any{
				"apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
				"spec.mode": "cluster", "spec.type": "Java", "spec.sparkVersion": deploy.SparkVersion,
				"spec.mainClass": contract.SparkEnrichClass, "spec.mainApplicationFile": "local://" + deploy.SparkJobJar,
				"spec.restartPolicy.type": "Never", "spec.timeToLiveSeconds": float64(workloads.EnrichSparkTTLSeconds),
				"spec.image":                   r.imageFor(workloads.Stream),
				"spec.driver.serviceAccount":   workloads.EnrichSpark,
				"spec.executor.serviceAccount": workloads.EnrichSpark,
				"spec.executor.instances":      float64(s.Executors),
				"spec.executor.cores":          float64(s.ExecutorCores),
				"spec.executor.memory":         s.ExecutorMemory,
				"spec.driver.memory":           s.DriverMemory,
				"metadata.namespace":           ns,
			} {
				if got := at(app, strings.Split(path, ".")...); got != want {
					t.Errorf("template %s = %v, want %v", path, got, want)
				}
			}
			if at(app, "spec", "arguments") != nil {
				t.Error("the template has arguments: the launcher appends exactly the run's")
			}
			for _, role := range []string{"driver", "executor"} {
				spec := at(app, "spec", role, "template", "spec")
				if got := at(spec, "automountServiceAccountToken"); got != (role == "driver") {
					t.Errorf("%s automounts a token: %v", role, got)
				}
				if at(spec, "securityContext", "runAsUser") != float64(deploy.SparkUID) || at(spec, "securityContext", "runAsNonRoot") != true {
					t.Errorf("%s pod security context %v", role, at(spec, "securityContext"))
				}
				c := at(spec, "containers").([]any)[0]
				if at(c, "securityContext", "readOnlyRootFilesystem") != true || at(c, "securityContext", "allowPrivilegeEscalation") != false {
					t.Errorf("%s container security context %v", role, at(c, "securityContext"))
				}
				env := map[string]string{}
				for _, e := range at(c, "env").([]any) {
					env[at(e, "name").(string)], _ = at(e, "value").(string)
				}
				sc := contract.Spark()
				for k := range env {
					if !slices.Contains(sc.EnrichEnv, k) {
						t.Errorf("%s sets %s, which the enrich job does not read", role, k)
					}
				}
				for _, k := range sc.EnrichRequiredEnv {
					if env[k] == "" {
						t.Errorf("%s lacks %s", role, k)
					}
				}
				if env[deploy.EnvPostgresAuth] != "entra" || env[deploy.EnvPostgresPort] != fmt.Sprint(r.cfgPostgresPort(t)) ||
					env[deploy.EnvCassandraPasswordFile] != workloads.PasswordFile || env[deploy.EnvSparkMaster] != "" ||
					!strings.HasPrefix(env[deploy.EnvEnrichModelsURL], "abfss://") {
					t.Errorf("%s env %v: want Entra to PgBouncer, the mounted key, no master, the models by abfss", role, env)
				}
				csi := ""
				for _, v := range at(spec, "volumes").([]any) {
					if s, ok := at(v, "csi", "volumeAttributes", "secretProviderClass").(string); ok {
						csi = s
					}
				}
				if csi != workloads.SecretProviderClassName(workloads.EnrichSpark) {
					t.Errorf("%s mounts key class %q", role, csi)
				}
			}

			// The Spark pods' service account is federated to the enrich
			// identity, with the read-only Cosmos DB key.
			ids := r.clientIDs()
			if _, ok := ids[workloads.EnrichSpark]; ok {
				t.Error("a second identity for the Spark enrich pods")
			}
			sa := r.named(tSA, workloads.EnrichSpark)
			if got := keyOf(sa, "metadata.annotations", workloads.ClientIDAnnotation); got != ids[workloads.Enrich] {
				t.Errorf("enrich-spark client id %q, want enrich's %q", got, ids[workloads.Enrich])
			}
			subject := "system:serviceaccount:" + ns + ":" + workloads.EnrichSpark
			federated := 0
			for _, f := range r.all(tFIC) {
				if str(f, "subject") == subject {
					federated++
				}
			}
			if federated != 1 {
				t.Errorf("%d federated credentials for %s, want 1", federated, subject)
			}
			spc := r.named(tSPC, workloads.SecretProviderClassName(workloads.EnrichSpark))
			enrichSPC := r.named(tSPC, workloads.SecretProviderClassName(workloads.Enrich))
			if str(spc, "spec.parameters.objects") != str(enrichSPC, "spec.parameters.objects") {
				t.Errorf("enrich-spark mounts %q, enrich %q: want the same (read-only) key", str(spc, "spec.parameters.objects"), str(enrichSPC, "spec.parameters.objects"))
			}

			// RBAC: enrich may manage SparkApplications only; the driver
			// its executors' pods.
			launcher := r.named(tK8sRole, workloads.Enrich+"-spark-launcher")
			r.expect(launcher, map[string]any{"rules.0.apiGroups.0": "sparkoperator.k8s.io", "rules.0.resources.0": "sparkapplications"})
			if got := strs(launcher, "rules.0.verbs"); !slices.Equal(got, []string{"create", "get", "list", "watch", "delete"}) || length(launcher, "rules") != 1 {
				t.Errorf("launcher verbs %v", got)
			}
			r.expect(r.named(tBinding, workloads.Enrich+"-spark-launcher"), map[string]any{"subjects.0.name": workloads.Enrich, "subjects.0.namespace": ns})
			driver := r.named(tK8sRole, workloads.EnrichSpark+"-driver")
			if res := strs(driver, "rules.0.resources"); !slices.Contains(res, "pods") || slices.Contains(res, "secrets") || slices.Contains(res, "persistentvolumeclaims") {
				t.Errorf("driver role resources %v", res)
			}
			r.expect(r.named(tBinding, workloads.EnrichSpark+"-driver"), map[string]any{"subjects.0.name": workloads.EnrichSpark})

			// The CronJob selects the engine, mounts the template, has an
			// API token, and waits for the template (after the operator).
			cron := r.one(tCronJob)
			pod := "spec.jobTemplate.spec.template"
			env := envOf(cron, pod)
			if env[deploy.EnvEnrichEngine] != "spark" || env[deploy.EnvEnrichSparkApplication] != workloads.EnrichSparkTemplate {
				t.Errorf("cron env %v", env)
			}
			r.expect(cron, map[string]any{pod + ".spec.automountServiceAccountToken": true})
			mounted := false
			for i := 0; i < length(cron, pod+".spec.volumes"); i++ {
				mounted = mounted || str(cron, fmt.Sprintf("%s.spec.volumes.%d.configMap.name", pod, i)) == workloads.EnrichSpark+"-application"
			}
			if !mounted {
				t.Error("the CronJob does not mount the template")
			}
			deps := reach(r.m, cron)
			for _, need := range []*mocks.Resource{cm, rel, launcher, sa, spc} {
				if !deps[need.URN] {
					t.Errorf("the CronJob does not wait for %s", need.Name)
				}
			}

			// Network: data flows as enrich's, Spark ports between the
			// pods, API server for the driver and for the CronJob.
			egress := r.named(tPolicy, workloads.EnrichSpark+"-egress")
			if n := length(egress, "spec.egress.0.ports"); n != 3 {
				t.Errorf("enrich-spark egress has %d ports, want Cosmos DB, PostgreSQL and storage", n)
			}
			r.expect(r.named(tPolicy, workloads.EnrichSpark+"-peers"), map[string]any{
				"spec.ingress.0.ports.0.port": float64(workloads.SparkDriverPort), "spec.ingress.0.ports.0.endPort": float64(workloads.SparkBlockManagerPort),
			})
			r.expect(r.named(tPolicy, workloads.EnrichSpark+"-driver-api-server"), map[string]any{"spec.podSelector.matchLabels.spark-role": "driver", "spec.egress.0.ports.0.port": 443.0})
			r.expect(r.named(tPolicy, workloads.Enrich+"-api-server"), map[string]any{"spec.egress.0.ports.0.port": 443.0})
		})
	}
}

// cfgPostgresPort is the port the workloads reach PostgreSQL on (PgBouncer's
// when it is on).
func (r *run) cfgPostgresPort(t *testing.T) string {
	t.Helper()
	return envOf(r.one(tCronJob), "spec.jobTemplate.spec.template")[deploy.EnvPostgresPort]
}

// With the Go engine (every stack file) nothing of the Spark enrich job is
// declared.
func TestGoEnrichDeclaresNoSpark(t *testing.T) {
	r := runStack(t, "prod", "")
	if r.cfg.Spark.EnrichEngine != config.EnrichEngineGo {
		t.Fatalf("the prod stack file sets enrichEngine %q; this test needs go", r.cfg.Spark.EnrichEngine)
	}
	for _, cm := range r.all(tConfigMap) {
		if strings.HasPrefix(str(cm, "metadata.name"), workloads.EnrichSpark) {
			t.Errorf("a Spark enrich ConfigMap with the go engine: %s", cm.Name)
		}
	}
	env := envOf(r.one(tCronJob), "spec.jobTemplate.spec.template")
	if _, ok := env[deploy.EnvEnrichEngine]; ok {
		t.Errorf("cron env sets %s with the go engine", deploy.EnvEnrichEngine)
	}
	r.expect(r.one(tCronJob), map[string]any{"spec.jobTemplate.spec.template.spec.automountServiceAccountToken": false})
}

// Both Spark jobs on: one operator.
func TestBothSparkJobsShareTheOperator(t *testing.T) {
	r := runWith(t, "dev", map[string]string{"enrichEngine": "spark", "sparkStream": "true"})
	r.one(tRelease)
	r.one(tSparkApp)
	r.named(tConfigMap, workloads.EnrichSpark+"-application")
}
