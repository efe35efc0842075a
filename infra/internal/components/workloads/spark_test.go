package workloads_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/sluicehq/sluice/infra/internal/components/workloads"
	"github.com/sluicehq/sluice/infra/internal/config"
	"github.com/sluicehq/sluice/infra/internal/mocks"
	"github.com/sluicehq/sluice/infra/internal/platform"
	"github.com/sluicehq/sluice/internal/modroot/roottest"
	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

const (
	tRelease  = "kubernetes:helm.sh/v3:Release"
	tSparkApp = "kubernetes:sparkoperator.k8s.io/v1beta2:SparkApplication"
	tPVC      = "kubernetes:core/v1:PersistentVolumeClaim"
	tK8sRole  = "kubernetes:rbac.authorization.k8s.io/v1:Role"
	tBinding  = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
	tFIC      = "azure-native:managedidentity:FederatedIdentityCredential"
	tAssign   = "azure-native:authorization:RoleAssignment"
)

// With Spark off (every stack file) there is no Spark at all: no operator,
// no application, no stream identity or its grants.
func TestSparkOffDeclaresNoSpark(t *testing.T) {
	for _, stack := range []string{"dev", "staging", "prod"} {
		r := runStack(t, stack, "")
		if r.cfg.Spark.Stream {
			t.Fatalf("%s: the stack file turns Spark on; this test needs a stack without it", stack)
		}
		for _, token := range []string{tRelease, tSparkApp, tPVC, tK8sRole} {
			if n := len(r.all(token)); n != 0 {
				t.Errorf("%s: %d %s with Spark off", stack, n, token)
			}
		}
		if _, ok := r.clientIDs()[workloads.Stream]; ok {
			t.Errorf("%s: a stream identity with Spark off", stack)
		}
	}
}

// keyOf reads key (which may hold dots) of the object at path.
func keyOf(res *mocks.Resource, path, key string) string {
	v := mocks.Value(res.Inputs, path)
	if !v.IsObject() {
		return ""
	}
	e := v.ObjectValue()[resource.PropertyKey(key)]
	if !e.IsString() {
		return ""
	}
	return e.StringValue()
}

// sparkApp is the one SparkApplication of a run.
func sparkApp(r *run) *mocks.Resource {
	r.t.Helper()
	return r.one(tSparkApp)
}

func TestSparkStreamOnAKS(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			r := runWith(t, stack, map[string]string{"sparkStream": "true"})
			s := r.cfg.Spark
			ns := r.cfg.KubernetesNamespace

			rel := r.one(tRelease)
			r.expect(rel, map[string]any{
				"chart":                    workloads.SparkOperatorChart,
				"version":                  workloads.SparkOperatorVersion,
				"repositoryOpts.repo":      workloads.SparkOperatorRepo,
				"namespace":                workloads.SparkOperatorNamespace,
				"values.webhook.enable":    false,
				"values.spark.rbac.create": false,
			})
			if got := strs(rel, "values.spark.jobNamespaces"); !slices.Equal(got, []string{ns}) {
				t.Errorf("operator watches %v, want only %s", got, ns)
			}
			if img := mocks.Lookup(rel.Inputs, "values.image"); img != nil {
				t.Errorf("the chart's own operator image is replaced without sluice:sparkOperatorImage: %v", img)
			}

			app := sparkApp(r)
			r.expect(app, map[string]any{
				"metadata.name":                workloads.Stream,
				"metadata.namespace":           ns,
				"spec.type":                    "Java",
				"spec.mode":                    "cluster",
				"spec.sparkVersion":            deploy.SparkVersion,
				"spec.mainClass":               deploy.SparkStreamMainClass,
				"spec.mainApplicationFile":     "local://" + deploy.SparkJobJar,
				"spec.restartPolicy.type":      "Always",
				"spec.driver.serviceAccount":   workloads.Stream,
				"spec.executor.serviceAccount": workloads.Stream,
				"spec.executor.instances":      float64(s.Executors),
				"spec.executor.cores":          float64(s.ExecutorCores),
				"spec.executor.memory":         s.ExecutorMemory,
				"spec.driver.memory":           s.DriverMemory,
			})
			for k, want := range map[string]string{
				"spark.driver.port": fmt.Sprint(workloads.SparkDriverPort), "spark.blockManager.port": fmt.Sprint(workloads.SparkBlockManagerPort),
				"spark.driver.extraClassPath": deploy.SparkJarDir + "/*", "spark.executor.extraClassPath": deploy.SparkJarDir + "/*",
				"spark.sql.shuffle.partitions": fmt.Sprint(2 * s.Executors * s.ExecutorCores),
			} {
				if got := keyOf(app, "spec.sparkConf", k); got != want {
					t.Errorf("sparkConf %s = %q, want %q", k, got, want)
				}
			}
			if image := str(app, "spec.image"); image != r.imageFor(workloads.Stream) || !config.IsDigestRef(image) {
				t.Errorf("application image %q, want %q by digest", image, r.imageFor(workloads.Stream))
			}
			for _, role := range []string{"driver", "executor"} {
				checkSparkPod(t, r, app, role)
			}

			// The checkpoint volume is shared by the driver and every
			// executor (the state store), so ReadWriteMany.
			pvc := r.named(tPVC, workloads.Stream+"-checkpoints")
			r.expect(pvc, map[string]any{
				"spec.storageClassName":           workloads.CheckpointStorageClass,
				"spec.resources.requests.storage": fmt.Sprintf("%dGi", s.CheckpointGB),
			})
			if got := strs(pvc, "spec.accessModes"); !slices.Equal(got, []string{"ReadWriteMany"}) {
				t.Errorf("checkpoint access modes %v", got)
			}

			// The driver's Role is namespaced and bound to the stream
			// service account only.
			role := r.named(tK8sRole, workloads.Stream+"-driver")
			if res := strs(role, "rules.0.resources"); !slices.Contains(res, "pods") || slices.Contains(res, "secrets") {
				t.Errorf("driver role resources %v: want pods, never secrets", res)
			}
			b := r.named(tBinding, workloads.Stream+"-driver")
			r.expect(b, map[string]any{"subjects.0.name": workloads.Stream, "subjects.0.namespace": ns, "roleRef.kind": "Role"})

			// The application waits for the operator (its CRD), the Role,
			// the volume, its service account and key class, and the
			// Cosmos DB tables it writes.
			deps := reach(r.m, app)
			for _, need := range []*mocks.Resource{rel, pvc, b, r.named(tSA, workloads.Stream), r.named(tSPC, workloads.SecretProviderClassName(workloads.Stream))} {
				if !deps[need.URN] {
					t.Errorf("the SparkApplication does not wait for %s", need.Name)
				}
			}
			tables := 0
			for _, tbl := range r.all("azure-native:documentdb:CassandraResourceCassandraTable") {
				if deps[tbl.URN] {
					tables++
				}
			}
			if tables == 0 {
				t.Error("the SparkApplication waits for no Cosmos DB table")
			}

			checkStreamIdentity(t, r)
			checkStreamPolicies(t, r)
		})
	}
}

// checkSparkPod: a role's pod template keeps the pod within the restricted
// Pod Security Standard, signs in with the stream identity, reads the
// Cosmos DB key from its CSI mount, and sets what the job requires.
func checkSparkPod(t *testing.T, r *run, app *mocks.Resource, role string) {
	t.Helper()
	p := "spec." + role + ".template."
	spec, c := p+"spec.", p+"spec.containers.0."
	r.expect(app, map[string]any{
		spec + "automountServiceAccountToken":        role == "driver", // only the driver calls the API server
		spec + "securityContext.runAsNonRoot":        true,
		spec + "securityContext.runAsUser":           float64(deploy.SparkUID),
		spec + "securityContext.seccompProfile.type": "RuntimeDefault",
		c + "name":                                     "spark-kubernetes-" + role,
		c + "securityContext.runAsNonRoot":             true,
		c + "securityContext.allowPrivilegeEscalation": false,
		c + "securityContext.privileged":               false,
		c + "securityContext.readOnlyRootFilesystem":   true,
		c + "securityContext.seccompProfile.type":      "RuntimeDefault",
	})
	if keyOf(app, p+"metadata.labels", workloads.WorkloadIdentityUse) != "true" || keyOf(app, "spec."+role+".labels", workloads.NameLabel) != workloads.Stream {
		t.Errorf("%s pods lack the labels %s=true and %s=%s", role, workloads.WorkloadIdentityUse, workloads.NameLabel, workloads.Stream)
	}
	if drop := strs(app, c+"securityContext.capabilities.drop"); !slices.Equal(drop, []string{"ALL"}) {
		t.Errorf("%s drops capabilities %v, want ALL", role, drop)
	}
	csi := false
	for i := 0; i < length(app, spec+"volumes"); i++ {
		v := fmt.Sprintf("%svolumes.%d.", spec, i)
		if str(app, v+"csi.driver") == workloads.CSIDriver {
			csi = str(app, v+"csi.volumeAttributes.secretProviderClass") == workloads.SecretProviderClassName(workloads.Stream)
		}
		if h := str(app, v+"hostPath.path"); h != "" {
			t.Errorf("%s mounts host path %s", role, h)
		}
	}
	mounts := map[string]bool{}
	for i := 0; i < length(app, c+"volumeMounts"); i++ {
		mounts[str(app, fmt.Sprintf("%svolumeMounts.%d.mountPath", c, i))] = true
	}
	if !csi || !mounts[workloads.SecretsDir] || !mounts[workloads.CheckpointDir] || !mounts["/tmp"] {
		t.Errorf("%s pod: CSI key %v, mounts %v", role, csi, mounts)
	}
	env := map[string]string{}
	for i := 0; i < length(app, c+"env"); i++ {
		e := fmt.Sprintf("%senv.%d.", c, i)
		env[str(app, e+"name")] = str(app, e+"value")
	}
	sc := contract.Spark()
	for _, k := range sc.RequiredEnv {
		if env[k] == "" {
			t.Errorf("%s pod lacks %s", role, k)
		}
	}
	for k := range env {
		if _, ok := sc.Env[k]; !ok {
			t.Errorf("%s pod sets %s, which the stream job does not read", role, k)
		}
		if strings.Contains(k, "PASSWORD") && k != deploy.EnvCassandraPasswordFile {
			t.Errorf("%s pod sets %s; the key comes only from the CSI mount", role, k)
		}
	}
	if env[deploy.EnvKafkaAuth] != "oauth" || env[deploy.EnvCassandraTLS] != "true" || env[deploy.EnvCassandraPasswordFile] != workloads.PasswordFile ||
		!strings.HasPrefix(env[deploy.EnvSparkCheckpoint], workloads.CheckpointDir+"/") {
		t.Errorf("%s pod env %v: want Entra ID to Event Hubs, TLS and the mounted key to Cosmos DB, the checkpoint on the volume", role, env)
	}
}

// checkStreamIdentity: the stream job has its own identity, federated to
// its service account, that may receive from the events hub and read the
// read-write Cosmos DB key (it writes aggregates), and nothing else.
func checkStreamIdentity(t *testing.T, r *run) {
	t.Helper()
	ids := r.clientIDs()
	id := ids[workloads.Stream]
	if id == "" {
		t.Fatal("no stream identity")
	}
	sa := r.named(tSA, workloads.Stream)
	if got := keyOf(sa, "metadata.annotations", workloads.ClientIDAnnotation); got != id {
		t.Errorf("stream service account client id %q, want %q", got, id)
	}
	subject := "system:serviceaccount:" + r.cfg.KubernetesNamespace + ":" + workloads.Stream
	federated := false
	for _, f := range r.all(tFIC) {
		federated = federated || str(f, "subject") == subject
	}
	if !federated {
		t.Errorf("no federated credential for %s", subject)
	}
	var principal string
	for _, i := range r.all(tIdentity) {
		if strings.TrimPrefix(i.Name, "workload-identities-") == workloads.Stream {
			principal, _ = mocks.Lookup(i.Outputs, "principalId").(string)
		}
	}
	var grants []string
	for _, a := range r.all(tAssign) {
		if str(a, "principalId") == principal {
			role := str(a, "roleDefinitionId")
			grants = append(grants, role[strings.LastIndex(role, "/")+1:]+" on "+str(a, "scope"))
		}
	}
	if len(grants) != 2 {
		t.Errorf("stream identity grants %v: want the events hub receiver and the Cosmos DB key reader", grants)
	}
	for _, g := range grants {
		if strings.Contains(g, "readonly") || strings.Contains(g, "dlq") {
			t.Errorf("stream grant %s", g)
		}
	}
}

// checkStreamPolicies: the stream pods reach Event Hubs and Cosmos DB, talk
// to each other only on Spark's pinned ports, and only the driver gets
// HTTPS out for the API server.
func checkStreamPolicies(t *testing.T, r *run) {
	t.Helper()
	egress := r.named(tPolicy, workloads.Stream+"-egress")
	var ports []string
	for i := 0; i < length(egress, "spec.egress.0.ports"); i++ {
		ports = append(ports, fmt.Sprint(mocks.Lookup(egress.Inputs, fmt.Sprintf("spec.egress.0.ports.%d.port", i))))
	}
	if !slices.Equal(ports, []string{fmt.Sprint(workloads.KafkaPort), fmt.Sprint(workloads.CassandraPort)}) {
		t.Errorf("stream egress ports %v, want Event Hubs and Cosmos DB only", ports)
	}
	peers := r.named(tPolicy, "stream-peers")
	r.expect(peers, map[string]any{
		"spec.ingress.0.ports.0.port":    float64(workloads.SparkDriverPort),
		"spec.ingress.0.ports.0.endPort": float64(workloads.SparkBlockManagerPort),
		"spec.egress.0.ports.0.endPort":  float64(workloads.SparkBlockManagerPort),
	})
	for _, path := range []string{"spec.podSelector.matchLabels", "spec.ingress.0.from.0.podSelector.matchLabels", "spec.egress.0.to.0.podSelector.matchLabels"} {
		if keyOf(peers, path, workloads.NameLabel) != workloads.Stream {
			t.Errorf("stream-peers %s does not select the stream pods", path)
		}
	}
	api := r.named(tPolicy, "stream-driver-api-server")
	r.expect(api, map[string]any{"spec.podSelector.matchLabels.spark-role": "driver", "spec.egress.0.ports.0.port": 443.0})
	if r.cfg.AKS.PrivateAPIServer {
		r.expect(api, map[string]any{"spec.egress.0.to.0.ipBlock.cidr": r.cfg.Network.AKSNodesSubnetCIDR})
	}
}

// sluice:sparkOperatorImage replaces the chart's image, digest included.
func TestSparkOperatorImageOverride(t *testing.T) {
	ref := "myacr.azurecr.io/kubeflow/spark-operator:2.5.2-spark3.5.7@sha256:" + strings.Repeat("cd", 32)
	r := runWith(t, "dev", map[string]string{"sparkStream": "true", "sparkOperatorImage": ref})
	rel := r.one(tRelease)
	r.expect(rel, map[string]any{
		"values.image.registry":   "myacr.azurecr.io",
		"values.image.repository": "kubeflow/spark-operator",
		"values.image.tag":        "2.5.2-spark3.5.7@sha256:" + strings.Repeat("cd", 32),
	})
}

// Spark on needs the stream image; a stack without one stops before
// anything is created, naming the key and the images file.
func TestSparkStreamNeedsItsImage(t *testing.T) {
	values, err := config.StackValues(roottest.Root(t), "dev")
	if err != nil {
		t.Fatal(err)
	}
	values["sluice:sparkStream"] = "true"
	values["sluice:imageStream"] = ""
	t.Setenv(config.ImagesFileEnv, "")
	_, err = mocks.Run(platform.Program, "dev", values)
	if err == nil || !strings.Contains(err.Error(), "no image for stream") || !strings.Contains(err.Error(), "sluice:imageStream") {
		t.Errorf("Spark on without a stream image: %v", err)
	}
	values["sluice:sparkStream"] = "false"
	if _, err := mocks.Run(platform.Program, "dev", values); err != nil {
		t.Errorf("Spark off needs no stream image: %v", err)
	}
}
