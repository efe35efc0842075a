package workloads_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/sluicehq/sluice/infra/internal/components/workloads"
	"github.com/sluicehq/sluice/infra/internal/config"
	"github.com/sluicehq/sluice/infra/internal/mocks"
	"github.com/sluicehq/sluice/infra/internal/plan"
	"github.com/sluicehq/sluice/infra/internal/platform"
	"github.com/sluicehq/sluice/internal/modroot/roottest"
	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// Type tokens of the objects under test.
const (
	tProvider   = "pulumi:providers:kubernetes"
	tNamespace  = "kubernetes:core/v1:Namespace"
	tSA         = "kubernetes:core/v1:ServiceAccount"
	tService    = "kubernetes:core/v1:Service"
	tSecret     = "kubernetes:core/v1:Secret"
	tDeployment = "kubernetes:apps/v1:Deployment"
	tJob        = "kubernetes:batch/v1:Job"
	tCronJob    = "kubernetes:batch/v1:CronJob"
	tPDB        = "kubernetes:policy/v1:PodDisruptionBudget"
	tHPA        = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
	tPolicy     = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	tScaled     = "kubernetes:keda.sh/v1alpha1:ScaledObject"
	tSPC        = "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass"
	tComponent  = "sluice:components:Workloads"
	tIdentity   = "azure-native:managedidentity:UserAssignedIdentity"
	tHub        = "azure-native:eventhub:EventHub"
	tVault      = "azure-native:keyvault:Vault"
	tRegistry   = "azure-native:containerregistry:Registry"
	tCluster    = "azure-native:containerservice/v20250101:ManagedCluster"
)

type run struct {
	t     *testing.T
	stack string
	m     *mocks.Monitor
	cfg   *config.Config
}

func load(t *testing.T, stack string) *config.Config {
	t.Helper()
	values, err := config.StackValues(roottest.Root(t), stack)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(stack, func(k string) (string, bool) { v, ok := values[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// runStack runs the whole program for stack under mocks, with the images
// file named by imagesFile ("" for none).
func runStack(t *testing.T, stack, imagesFile string) *run {
	t.Helper()
	t.Setenv(config.ImagesFileEnv, imagesFile)
	m, err := plan.Run(roottest.Root(t), stack)
	if err != nil {
		t.Fatalf("mocked run of %s: %v", stack, err)
	}
	return &run{t: t, stack: stack, m: m, cfg: load(t, stack)}
}

func (r *run) all(token string) []*mocks.Resource { return r.m.OfType(token) }

// migration is the schema migration Job (pods labelled migrate).
func (r *run) migration() *mocks.Resource {
	r.t.Helper()
	for _, j := range r.all(tJob) {
		labels := mocks.Value(j.Inputs, "spec.template.metadata.labels")
		if labels.IsObject() && labels.ObjectValue()[workloads.NameLabel].StringValue() == workloads.Migrate {
			return j
		}
	}
	r.t.Fatalf("%s: no migration Job", r.stack)
	return nil
}

func (r *run) one(token string) *mocks.Resource {
	r.t.Helper()
	list := r.all(token)
	if len(list) != 1 {
		r.t.Fatalf("%s: want one %s, found %d", r.stack, token, len(list))
	}
	return list[0]
}

// named returns the object of a type whose metadata.name is name.
func (r *run) named(token, name string) *mocks.Resource {
	r.t.Helper()
	for _, res := range r.all(token) {
		if str(res, "metadata.name") == name {
			return res
		}
	}
	r.t.Fatalf("%s: no %s named %s", r.stack, token, name)
	return nil
}

func (r *run) expect(res *mocks.Resource, want map[string]any) {
	r.t.Helper()
	for _, m := range mocks.Mismatches(res, want) {
		r.t.Errorf("%s: %s", r.stack, m)
	}
}

func str(res *mocks.Resource, path string) string { return mocks.String(res.Inputs, path) }

func strs(res *mocks.Resource, path string) []string { return mocks.Strings(res.Inputs, path) }

func length(res *mocks.Resource, path string) int {
	v := mocks.Value(res.Inputs, path)
	if !v.IsArray() {
		return 0
	}
	return len(v.ArrayValue())
}

// envOf returns a pod template's container environment as a map.
func envOf(res *mocks.Resource, pod string) map[string]string {
	out := map[string]string{}
	for i := 0; ; i++ {
		name := str(res, fmt.Sprintf("%s.spec.containers.0.env.%d.name", pod, i))
		if name == "" {
			return out
		}
		out[name] = str(res, fmt.Sprintf("%s.spec.containers.0.env.%d.value", pod, i))
	}
}

// clientIDs maps a workload to its identity's client id.
func (r *run) clientIDs() map[string]string {
	ids := map[string]string{}
	for _, id := range r.all(tIdentity) {
		name := strings.TrimPrefix(id.Name, "workload-identities-")
		ids[name], _ = mocks.Lookup(id.Outputs, "clientId").(string)
	}
	return ids
}

// checkPod asserts what every workload pod must be: its identity, its
// image by digest, the restricted security settings, sizes.
func (r *run) checkPod(res *mocks.Resource, pod, workload, serviceAccount string, key bool) {
	r.t.Helper()
	labels := mocks.Value(res.Inputs, pod+".metadata.labels")
	if !labels.IsObject() || labels.ObjectValue()[workloads.WorkloadIdentityUse].StringValue() != "true" ||
		labels.ObjectValue()[workloads.NameLabel].StringValue() != workload {
		r.t.Errorf("%s: %s pod labels %v lack %s=true and %s=%s", r.stack, res.Name, labels, workloads.WorkloadIdentityUse, workloads.NameLabel, workload)
	}
	spec := pod + ".spec."
	c := spec + "containers.0."
	r.expect(res, map[string]any{
		spec + "serviceAccountName":                    serviceAccount,
		spec + "automountServiceAccountToken":          false,
		spec + "securityContext.runAsNonRoot":          true,
		spec + "securityContext.runAsUser":             65532.0,
		spec + "securityContext.seccompProfile.type":   "RuntimeDefault",
		c + "securityContext.runAsNonRoot":             true,
		c + "securityContext.runAsUser":                65532.0,
		c + "securityContext.readOnlyRootFilesystem":   true,
		c + "securityContext.allowPrivilegeEscalation": false,
		c + "securityContext.privileged":               false,
		c + "securityContext.seccompProfile.type":      "RuntimeDefault",
	})
	if drop := strs(res, c+"securityContext.capabilities.drop"); !slices.Equal(drop, []string{"ALL"}) {
		r.t.Errorf("%s: %s drops capabilities %v, want ALL", r.stack, res.Name, drop)
	}
	if length(res, c+"securityContext.capabilities.add") != 0 {
		r.t.Errorf("%s: %s adds capabilities", r.stack, res.Name)
	}
	for _, k := range []string{"requests.cpu", "requests.memory", "limits.cpu", "limits.memory"} {
		if str(res, c+"resources."+k) == "" {
			r.t.Errorf("%s: %s has no %s", r.stack, res.Name, k)
		}
	}
	image := str(res, c+"image")
	if !config.IsDigestRef(image) || !strings.Contains(image, "/"+workload+"@sha256:") {
		r.t.Errorf("%s: %s runs image %q, want %s by digest", r.stack, res.Name, image, workload)
	}
	if got := r.imageFor(workload); image != got {
		r.t.Errorf("%s: %s image %q, want %q", r.stack, res.Name, image, got)
	}
	env := envOf(res, pod)
	mounted := false
	for i := 0; i < length(res, spec+"volumes"); i++ {
		v := fmt.Sprintf("%svolumes.%d.", spec, i)
		if str(res, v+"csi.driver") == workloads.CSIDriver {
			mounted = true
			r.expect(res, map[string]any{v + "csi.readOnly": true, v + "csi.volumeAttributes.secretProviderClass": "cosmos-key-" + serviceAccount})
		}
	}
	readOnlyMount := false
	for i := 0; i < length(res, c+"volumeMounts"); i++ {
		m := fmt.Sprintf("%svolumeMounts.%d.", c, i)
		if str(res, m+"mountPath") == workloads.SecretsDir && mocks.Lookup(res.Inputs, m+"readOnly") == true {
			readOnlyMount = true
		}
	}
	if key {
		if !mounted || !readOnlyMount || env["CASSANDRA_PASSWORD_FILE"] != workloads.PasswordFile || env["CASSANDRA_USERNAME"] == "" {
			r.t.Errorf("%s: %s does not read the Cosmos DB key from the CSI mount (mounted %v, read-only %v, env %v)", r.stack, res.Name, mounted, readOnlyMount, env)
		}
		if env["CASSANDRA_HOSTS"] == "" || !strings.HasSuffix(env["CASSANDRA_HOSTS"], ".cassandra.cosmos.azure.com") {
			r.t.Errorf("%s: %s CASSANDRA_HOSTS = %q", r.stack, res.Name, env["CASSANDRA_HOSTS"])
		}
	} else if mounted {
		r.t.Errorf("%s: %s mounts the Cosmos DB key it does not need", r.stack, res.Name)
	}
	for k := range env {
		if strings.Contains(k, "PASSWORD") && k != "CASSANDRA_PASSWORD_FILE" {
			r.t.Errorf("%s: %s sets %s; credentials reach pods only through the CSI mount or Entra ID", r.stack, res.Name, k)
		}
	}
}

// imageFor is the reference the stack's config (or images file) gives.
func (r *run) imageFor(workload string) string {
	v := r.cfg.Workloads.Images[workload]
	if config.IsBareDigest(v) {
		login, _ := mocks.Lookup(r.one(tRegistry).Outputs, "loginServer").(string)
		return login + "/" + workload + "@" + v
	}
	return v
}

func TestProdWorkloads(t *testing.T) {
	r := runStack(t, "prod", "")
	cfg := r.cfg
	ns := cfg.KubernetesNamespace

	// One provider, from the cluster's credentials, used by every object.
	provider := r.one(tProvider)
	kc := provider.Inputs["kubeconfig"]
	if !kc.IsSecret() {
		t.Errorf("the provider's kubeconfig is not a secret: %v", kc)
	}
	cluster := r.one(tCluster)
	listed := false
	for _, c := range r.m.Calls() {
		if strings.HasSuffix(c.Token, ":listManagedClusterUserCredentials") {
			listed = true
			if mocks.Lookup(c.Args, "resourceName") != cluster.Name && mocks.Lookup(c.Args, "resourceName") != str(cluster, "resourceName") {
				t.Errorf("credentials listed for %v, not the cluster %s", mocks.Lookup(c.Args, "resourceName"), cluster.Name)
			}
			if mocks.Lookup(c.Args, "format") != "exec" {
				t.Errorf("credentials listed in format %v, want exec (kubelogin)", mocks.Lookup(c.Args, "format"))
			}
		}
	}
	if !listed {
		t.Error("the cluster's user credentials were never listed")
	}
	component := r.one(tComponent)
	kube := 0
	for _, res := range r.m.Resources() {
		if !strings.HasPrefix(res.Type, "kubernetes:") {
			continue
		}
		kube++
		if res.Parent != component.URN {
			t.Errorf("%s %s is not parented to the workloads component", res.Type, res.Name)
		}
		if !strings.HasPrefix(res.Provider, provider.URN+"::") {
			t.Errorf("%s %s uses provider %q, not the AKS one", res.Type, res.Name, res.Provider)
		}
		if res.Type != tNamespace && res.Type != tNginx && str(res, "metadata.namespace") != ns {
			t.Errorf("%s %s is in namespace %q, want %q", res.Type, res.Name, str(res, "metadata.namespace"), ns)
		}
		if v := mocks.Value(res.Inputs, "metadata.labels"); !v.IsObject() || v.ObjectValue()["app.kubernetes.io/part-of"].StringValue() != "sluice" {
			t.Errorf("%s %s is not labelled app.kubernetes.io/part-of=sluice", res.Type, res.Name)
		}
	}
	if kube < 30 {
		t.Errorf("only %d Kubernetes objects; the walk misses the workloads", kube)
	}

	namespace := r.one(tNamespace)
	r.expect(namespace, map[string]any{"metadata.name": ns})
	if v := mocks.Value(namespace.Inputs, "metadata.labels"); v.ObjectValue()["pod-security.kubernetes.io/enforce"].StringValue() != "restricted" {
		t.Errorf("namespace does not enforce the restricted pod security standard: %v", v)
	}

	ids := r.clientIDs()
	sas := r.all(tSA)
	if want := len(workloads.ServiceAccounts) + len(workloads.DatabaseAccounts); len(sas) != want {
		t.Errorf("%d service accounts, want %d", len(sas), want)
	}
	for _, w := range workloads.ServiceAccounts {
		sa := r.named(tSA, w)
		ann := mocks.Value(sa.Inputs, "metadata.annotations").ObjectValue()
		if got := ann[workloads.ClientIDAnnotation].StringValue(); got == "" || got != ids[w] {
			t.Errorf("service account %s: client id %q, want the identity's %q", w, got, ids[w])
		}
		r.expect(sa, map[string]any{"automountServiceAccountToken": false})

		spc := r.named(tSPC, "cosmos-key-"+w)
		r.expect(spc, map[string]any{
			"spec.provider":                  "azure",
			"spec.parameters.usePodIdentity": "false",
			"spec.parameters.clientID":       ids[w],
			"spec.parameters.tenantId":       mocks.TenantID,
			"spec.parameters.keyvaultName":   mocks.Lookup(r.one(tVault).Outputs, "name"),
		})
		// Only ingest and changefeed write to Cassandra; api and enrich
		// mount the read-only key.
		key := map[string]string{workloads.Ingest: "cosmos-cassandra-key", workloads.Changefeed: "cosmos-cassandra-key",
			workloads.API: "cosmos-cassandra-readonly-key", workloads.Enrich: "cosmos-cassandra-readonly-key"}[w]
		if objects := str(spc, "spec.parameters.objects"); key == "" || !strings.Contains(objects, "objectName: "+key+"\n") ||
			!strings.Contains(objects, "objectType: secret") || !strings.Contains(objects, "objectAlias: "+workloads.PasswordAlias) {
			t.Errorf("secret provider class %s objects = %q", w, objects)
		}
		if mocks.Lookup(spc.Inputs, "spec.secretObjects") != nil {
			t.Errorf("secret provider class %s syncs a Kubernetes Secret", w)
		}
	}

	// The migration runs first; everything else waits for it.
	job := r.migration()
	if str(job, "metadata.name") != "" {
		t.Errorf("the migration Job has a fixed name %q; an image change could not replace it", str(job, "metadata.name"))
	}
	r.expect(job, map[string]any{"spec.template.spec.restartPolicy": "Never"})
	if arg := str(job, "spec.template.spec.containers.0.args.0"); arg != "-postgres" {
		t.Errorf("the migration Job's first argument is %q, want -postgres (the PostgreSQL schema)", arg)
	}
	r.checkPod(job, "spec.template", workloads.Migrate, workloads.Migrate, false)
	if env := envOf(job, "spec.template"); env["POSTGRES_MIGRATE_PORT"] != "5432" || env["POSTGRES_AUTH"] != "entra" {
		t.Errorf("migration env %v: want the direct PostgreSQL port and Entra ID auth", env)
	}
	for _, sa := range sas {
		if !slices.Contains(job.Dependencies, sa.URN) {
			t.Errorf("the migration does not wait for service account %s", sa.Name)
		}
	}
	waitsForMigration := func(res *mocks.Resource) {
		t.Helper()
		if !slices.Contains(res.Dependencies, job.URN) {
			t.Errorf("%s %s does not wait for the migration Job", res.Type, res.Name)
		}
	}

	hubs := map[string]float64{}
	for _, h := range r.all(tHub) {
		hubs[str(h, "eventHubName")], _ = mocks.Lookup(h.Inputs, "partitionCount").(float64)
	}
	deployments := r.all(tDeployment)
	if len(deployments) != 3 {
		t.Errorf("%d deployments, want ingest, changefeed, api", len(deployments))
	}
	for _, w := range []string{workloads.Ingest, workloads.Changefeed, workloads.API} {
		d := r.named(tDeployment, w)
		waitsForMigration(d)
		r.checkPod(d, "spec.template", w, w, true)
		sel := mocks.Value(d.Inputs, "spec.selector.matchLabels").ObjectValue()
		if sel[workloads.NameLabel].StringValue() != w {
			t.Errorf("deployment %s selects %v", w, sel)
		}
		c := "spec.template.spec.containers.0."
		// The api probes its ops port (OPS_ADDR): its public port, which
		// the ingress reaches, serves no readiness or metrics.
		probes, opsAddr := "http", ""
		if w == workloads.API {
			probes, opsAddr = "ops", fmt.Sprintf(":%d", workloads.OpsPort)
			r.expect(d, map[string]any{c + "ports.1.containerPort": float64(workloads.OpsPort), c + "ports.1.name": "ops"})
		}
		r.expect(d, map[string]any{
			c + "livenessProbe.httpGet.path":  "/healthz",
			c + "livenessProbe.httpGet.port":  probes,
			c + "readinessProbe.httpGet.path": "/readyz",
			c + "readinessProbe.httpGet.port": probes,
			c + "startupProbe.httpGet.port":   probes,
			c + "ports.0.containerPort":       float64(workloads.HTTPPort),
			c + "ports.0.name":                "http",
		})
		env := envOf(d, "spec.template")
		if env["HTTP_ADDR"] != fmt.Sprintf(":%d", workloads.HTTPPort) || env["OPS_ADDR"] != opsAddr {
			t.Errorf("deployment %s HTTP_ADDR = %q, OPS_ADDR = %q", w, env["HTTP_ADDR"], env["OPS_ADDR"])
		}
		spread := map[string]string{}
		for i := 0; i < length(d, "spec.template.spec.topologySpreadConstraints"); i++ {
			p := fmt.Sprintf("spec.template.spec.topologySpreadConstraints.%d.", i)
			spread[str(d, p+"topologyKey")] = str(d, p+"whenUnsatisfiable")
			if mocks.Lookup(d.Inputs, p+"maxSkew") != 1.0 {
				t.Errorf("deployment %s spread %d has maxSkew %v", w, i, mocks.Lookup(d.Inputs, p+"maxSkew"))
			}
		}
		if spread[workloads.ZoneKey] != "DoNotSchedule" || spread[workloads.HostKey] == "" {
			t.Errorf("deployment %s spreads %v; prod has zones, so the zone spread must be hard", w, spread)
		}
		pdb := r.named(tPDB, w)
		r.expect(pdb, map[string]any{"spec.maxUnavailable": 1.0})
		if mocks.Value(pdb.Inputs, "spec.selector.matchLabels").ObjectValue()[workloads.NameLabel].StringValue() != w {
			t.Errorf("disruption budget %s selects another workload", w)
		}
	}
	if mocks.Lookup(r.named(tDeployment, workloads.Ingest).Inputs, "spec.replicas") != nil ||
		mocks.Lookup(r.named(tDeployment, workloads.API).Inputs, "spec.replicas") != nil {
		t.Error("an autoscaled deployment sets spec.replicas; Pulumi would fight its autoscaler")
	}
	r.expect(r.named(tDeployment, workloads.Changefeed), map[string]any{"spec.replicas": float64(cfg.Workloads.ChangefeedReplicas)})
	ingestEnv := envOf(r.named(tDeployment, workloads.Ingest), "spec.template")
	if ingestEnv["KAFKA_AUTH"] != "oauth" || !strings.HasSuffix(ingestEnv["KAFKA_BROKERS"], ".servicebus.windows.net:9093") ||
		ingestEnv["KAFKA_TOPIC"] != "events" || ingestEnv["KAFKA_DLQ_TOPIC"] != "events.dlq" || ingestEnv["INGEST_GROUP"] != "ingest" {
		t.Errorf("ingest env %v", ingestEnv)
	}
	apiEnv := envOf(r.named(tDeployment, workloads.API), "spec.template")
	if apiEnv["API_KEYS_SHA256"] != strings.Join(cfg.Workloads.APICredentialHashes, ",") || apiEnv["API_MODE"] != "production" ||
		!strings.HasSuffix(apiEnv["REDIS_ADDR"], ".redis.azure.net:10000") {
		t.Errorf("api env %v", apiEnv)
	}

	cron := r.one(tCronJob)
	waitsForMigration(cron)
	r.expect(cron, map[string]any{
		"metadata.name":          workloads.Enrich,
		"spec.schedule":          cfg.Workloads.EnrichSchedule,
		"spec.concurrencyPolicy": "Forbid",
		"spec.jobTemplate.spec.template.spec.restartPolicy": "Never",
	})
	r.checkPod(cron, "spec.jobTemplate.spec.template", workloads.Enrich, workloads.Enrich, true)
	enrichEnv := envOf(cron, "spec.jobTemplate.spec.template")
	if enrichEnv["POSTGRES_AUTH"] != "entra" || enrichEnv["POSTGRES_PORT"] != "6432" || !strings.HasPrefix(enrichEnv["ENRICH_MODELS_URL"], "https://") {
		t.Errorf("enrich env %v: want Entra ID auth through PgBouncer and the models file in Data Lake", enrichEnv)
	}

	svc := r.named(tService, workloads.API)
	r.expect(svc, map[string]any{"spec.type": "ClusterIP", "spec.ports.0.targetPort": "http"})
	if mocks.Value(svc.Inputs, "spec.selector").ObjectValue()[workloads.NameLabel].StringValue() != workloads.API {
		t.Error("the api service selects other pods")
	}

	hpa := r.one(tHPA)
	r.expect(hpa, map[string]any{
		"spec.scaleTargetRef.kind": "Deployment", "spec.scaleTargetRef.name": workloads.API,
		"spec.minReplicas": float64(cfg.Workloads.APIMinReplicas), "spec.maxReplicas": float64(cfg.Workloads.APIMaxReplicas),
		"spec.metrics.0.resource.name": "cpu", "spec.metrics.0.resource.target.type": "Utilization",
	})

	so := r.one(tScaled)
	r.expect(so, map[string]any{
		"spec.scaleTargetRef.kind": "Deployment", "spec.scaleTargetRef.name": workloads.Ingest,
		"spec.minReplicaCount":                   float64(cfg.Workloads.IngestMinReplicas),
		"spec.maxReplicaCount":                   float64(cfg.Workloads.IngestMaxReplicas),
		"spec.triggers.0.type":                   "metrics-api",
		"spec.triggers.0.metricType":             "AverageValue",
		"spec.triggers.0.metadata.valueLocation": workloads.LagValueLocation,
		"spec.triggers.0.metadata.targetValue":   fmt.Sprint(cfg.Workloads.IngestLagThreshold),
		"spec.triggers.0.metadata.url":           fmt.Sprintf("http://ingest.%s.svc.cluster.local:%d/lag", ns, workloads.HTTPPort),
	})
	maxReplicas, _ := mocks.Lookup(so.Inputs, "spec.maxReplicaCount").(float64)
	if partitions := hubs["events"]; partitions == 0 || maxReplicas > partitions || maxReplicas < 1 {
		t.Errorf("ingest scales to %v replicas on %v partitions; it must never exceed the partition count", maxReplicas, partitions)
	}
	if length(so, "spec.triggers") != 1 {
		t.Errorf("%d triggers, want the consumer lag only", length(so, "spec.triggers"))
	}
	r.named(tService, workloads.Ingest)

	checkNoSecret(t, r)
	checkNetworkPolicies(t, r, cfg.Network.PrivateEndpointsSubnetCIDR)
}

// checkNoSecret: no Kubernetes Secret at all, and no account key anywhere in
// a Kubernetes object.
func checkNoSecret(t *testing.T, r *run) {
	t.Helper()
	if n := len(r.all(tSecret)); n != 0 {
		t.Errorf("%d Kubernetes Secrets; the Cosmos DB key must reach pods only through the CSI driver", n)
	}
	var find func(v resource.PropertyValue) bool
	find = func(v resource.PropertyValue) bool {
		switch {
		case v.IsSecret():
			return find(v.SecretValue().Element)
		case v.IsString():
			return strings.Contains(v.StringValue(), mocks.KeyMarker)
		case v.IsObject():
			for _, e := range v.ObjectValue() {
				if find(e) {
					return true
				}
			}
		case v.IsArray():
			for _, e := range v.ArrayValue() {
				if find(e) {
					return true
				}
			}
		}
		return false
	}
	for _, res := range r.m.Resources() {
		if strings.HasPrefix(res.Type, "kubernetes:") && find(resource.NewObjectProperty(res.Inputs)) {
			t.Errorf("%s %s holds the account key", res.Type, res.Name)
		}
	}
}

// rule is one allowed flow as read back from a NetworkPolicy.
type rule struct {
	peers []string // CIDRs (with exceptions) or selectors
	ports []string // "TCP/9093"
}

func policyRules(res *mocks.Resource, kind string) []rule {
	var out []rule
	for i := 0; ; i++ {
		base := fmt.Sprintf("spec.%s.%d.", kind, i)
		if mocks.Lookup(res.Inputs, base[:len(base)-1]) == nil {
			return out
		}
		var ru rule
		peerKey := map[string]string{"egress": "to", "ingress": "from"}[kind]
		for j := 0; ; j++ {
			p := fmt.Sprintf("%s%s.%d.", base, peerKey, j)
			if mocks.Lookup(res.Inputs, p[:len(p)-1]) == nil {
				break
			}
			switch {
			case str(res, p+"ipBlock.cidr") != "":
				peer := str(res, p+"ipBlock.cidr")
				if ex := strs(res, p+"ipBlock.except"); len(ex) > 0 {
					peer += " except " + strings.Join(ex, ",")
				}
				ru.peers = append(ru.peers, peer)
			default:
				ns := mocks.Value(res.Inputs, p+"namespaceSelector.matchLabels")
				pod := mocks.Value(res.Inputs, p+"podSelector.matchLabels")
				ru.peers = append(ru.peers, fmt.Sprintf("ns%v pod%v", ns.Mappable(), pod.Mappable()))
			}
		}
		for j := 0; ; j++ {
			p := fmt.Sprintf("%sports.%d.", base, j)
			if mocks.Lookup(res.Inputs, p[:len(p)-1]) == nil {
				break
			}
			ru.ports = append(ru.ports, fmt.Sprintf("%s/%v", str(res, p+"protocol"), mocks.Lookup(res.Inputs, p+"port")))
		}
		out = append(out, ru)
	}
}

func checkNetworkPolicies(t *testing.T, r *run, dataCIDR string) {
	t.Helper()
	public := "0.0.0.0/0 except " + strings.Join(workloads.PrivateRanges, ",")
	deny := r.named(tPolicy, "default-deny")
	if v := mocks.Value(deny.Inputs, "spec.podSelector"); v.IsObject() && len(v.ObjectValue()) != 0 {
		t.Errorf("default-deny selects %v, want every pod", v)
	}
	if types := strs(deny, "spec.policyTypes"); !slices.Equal(types, []string{"Ingress", "Egress"}) {
		t.Errorf("default-deny policy types %v", types)
	}
	if len(policyRules(deny, "ingress"))+len(policyRules(deny, "egress")) != 0 {
		t.Error("default-deny allows something")
	}
	dns := policyRules(r.named(tPolicy, "allow-dns"), "egress")
	if len(dns) != 1 || len(dns[0].peers) != 1 || !strings.Contains(dns[0].peers[0], "kube-dns") || !slices.Equal(dns[0].ports, []string{"UDP/53", "TCP/53"}) {
		t.Errorf("allow-dns rules %+v", dns)
	}
	entra := policyRules(r.named(tPolicy, "allow-entra-id"), "egress")
	if len(entra) != 1 || !slices.Equal(entra[0].peers, []string{public}) || !slices.Equal(entra[0].ports, []string{"TCP/443"}) {
		t.Errorf("allow-entra-id rules %+v", entra)
	}
	want := map[string][]string{
		workloads.Ingest:     {"TCP/9093", "TCP/10350"},
		workloads.Changefeed: {"TCP/10350", "TCP/10000"},
		workloads.API:        {"TCP/10350", "TCP/10000", "TCP/6432"},
		workloads.Enrich:     {"TCP/10350", "TCP/6432", "TCP/443"},
		workloads.Migrate:    {"TCP/5432"},
		workloads.Principals: {"TCP/5432"},
		workloads.Seed:       {"TCP/6432", "TCP/443"},
	}
	for w, ports := range want {
		p := r.named(tPolicy, w+"-egress")
		if sel := mocks.Value(p.Inputs, "spec.podSelector.matchLabels").ObjectValue(); sel[workloads.NameLabel].StringValue() != w {
			t.Errorf("%s-egress selects %v", w, sel)
		}
		rules := policyRules(p, "egress")
		if len(rules) != 1 || !slices.Equal(rules[0].peers, []string{dataCIDR}) || !slices.Equal(rules[0].ports, ports) {
			t.Errorf("%s-egress rules %+v, want %v to %s", w, rules, ports, dataCIDR)
		}
	}
	checkAPIIngressPolicy(t, r, r.cfg.Workloads.APIIngress)
	keda := policyRules(r.named(tPolicy, "ingest-from-keda"), "ingress")
	if len(keda) != 1 || len(keda[0].peers) != 1 || !strings.Contains(keda[0].peers[0], "keda-operator") {
		t.Errorf("ingest-from-keda rules %+v", keda)
	}
	var names []string
	for _, p := range r.all(tPolicy) {
		names = append(names, str(p, "metadata.name"))
	}
	sort.Strings(names)
	wantNames := []string{"allow-dns", "allow-entra-id", "api-egress", "api-ingress", "changefeed-egress", "default-deny",
		"enrich-egress", "ingest-egress", "ingest-from-keda", "migrate-egress", "postgres-principals-egress", "seed-reference-egress"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("network policies %v, want exactly %v", names, wantNames)
	}
}

func TestDevReachesPublicEndpoints(t *testing.T) {
	r := runStack(t, "dev", "")
	public := "0.0.0.0/0 except " + strings.Join(workloads.PrivateRanges, ",")
	for _, w := range []string{workloads.Ingest, workloads.Enrich} {
		rules := policyRules(r.named(tPolicy, w+"-egress"), "egress")
		if len(rules) != 1 || !slices.Equal(rules[0].peers, []string{public}) {
			t.Errorf("dev %s-egress rules %+v; dev's data services have public endpoints", w, rules)
		}
	}
	d := r.named(tDeployment, workloads.API)
	if got := str(d, "spec.template.spec.topologySpreadConstraints.0.whenUnsatisfiable"); got != "ScheduleAnyway" {
		t.Errorf("dev (no zones) spreads over zones with %q", got)
	}
	so := r.one(tScaled)
	if max, _ := mocks.Lookup(so.Inputs, "spec.maxReplicaCount").(float64); max > 2 {
		t.Errorf("dev ingest scales to %v on 2 partitions", max)
	}
}

func TestImagesFileWins(t *testing.T) {
	dir := t.TempDir()
	refs := map[string]string{}
	for i, w := range config.ImageWorkloads {
		refs[w] = fmt.Sprintf("sluiceci.azurecr.io/%s@sha256:%064x", w, i+1)
	}
	b, err := json.Marshal(refs)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "digests.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := runStack(t, "staging", path)
	for _, w := range []string{workloads.Ingest, workloads.Changefeed, workloads.API} {
		if got := str(r.named(tDeployment, w), "spec.template.spec.containers.0.image"); got != refs[w] {
			t.Errorf("%s runs %q, want the images file's %q", w, got, refs[w])
		}
	}
	if got := str(r.migration(), "spec.template.spec.containers.0.image"); got != refs[workloads.Migrate] {
		t.Errorf("migrate runs %q, want %q", got, refs[workloads.Migrate])
	}
	if got := str(r.one(tCronJob), "spec.jobTemplate.spec.template.spec.containers.0.image"); got != refs[workloads.Enrich] {
		t.Errorf("enrich runs %q, want %q", got, refs[workloads.Enrich])
	}

	bad := map[string]string{
		"tag":      `{"ingest": "sluiceci.azurecr.io/ingest:latest"}`,
		"unknown":  `{"simulator": "sluiceci.azurecr.io/simulator@sha256:` + strings.Repeat("a", 64) + `"}`,
		"no host":  `{"ingest": "ingest@sha256:` + strings.Repeat("a", 64) + `"}`,
		"not json": `ingest=x`,
	}
	for name, content := range bad {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Setenv(config.ImagesFileEnv, p)
		if _, err := plan.Run(roottest.Root(t), "staging"); err == nil {
			t.Errorf("images file %s (%s) accepted", name, content)
		}
	}
}

func TestMissingImageStopsTheDeployment(t *testing.T) {
	values, err := config.StackValues(roottest.Root(t), "dev")
	if err != nil {
		t.Fatal(err)
	}
	values["sluice:imageApi"] = ""
	t.Setenv(config.ImagesFileEnv, "")
	_, err = mocks.Run(platform.Program, "dev", values)
	if err == nil || !strings.Contains(err.Error(), "no image for api") {
		t.Errorf("a stack without an api image deployed: %v", err)
	}
}

// The api drains before it shuts down, and both fit in the pod's grace
// period: Kubernetes would SIGKILL requests still in flight otherwise.
func TestAPIDrainsWithinItsGracePeriod(t *testing.T) {
	r := runStack(t, "prod", "")
	d := r.named(tDeployment, workloads.API)
	env := map[string]string{}
	for i := 0; ; i++ {
		name := str(d, fmt.Sprintf("spec.template.spec.containers.0.env.%d.name", i))
		if name == "" {
			break
		}
		env[name] = str(d, fmt.Sprintf("spec.template.spec.containers.0.env.%d.value", i))
	}
	drain, err1 := time.ParseDuration(env[deploy.EnvAPIDrainDelay])
	shutdown, err2 := time.ParseDuration(env[deploy.EnvShutdownTimeout])
	grace, _ := mocks.Lookup(d.Inputs, "spec.template.spec.terminationGracePeriodSeconds").(float64)
	if err1 != nil || err2 != nil || drain < 3*time.Second {
		t.Fatalf("api drain %q and shutdown %q: want a drain of a few seconds (endpoints take that long to update)", env[deploy.EnvAPIDrainDelay], env[deploy.EnvShutdownTimeout])
	}
	if drain+shutdown >= time.Duration(grace)*time.Second {
		t.Fatalf("drain %s + shutdown %s do not fit the %vs grace period", drain, shutdown, grace)
	}
}
