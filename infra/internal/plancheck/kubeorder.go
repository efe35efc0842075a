package plancheck

import (
	"slices"
	"strings"

	"github.com/sluicehq/sluice/infra/internal/mocks"
	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// kubeFacts answers what a Kubernetes object needs on a first deployment.
type kubeFacts struct {
	g        *Graph
	clusters []*mocks.Resource
}

func (k *kubeFacts) index() { k.clusters = k.g.ofType("ManagedCluster") }

// podKinds are the kinds whose creation Pulumi waits on until their pods
// run (so they need a node that schedules them); CronJob pods start on
// schedule and Pulumi does not wait for them.
var podKinds = []string{"Deployment", "StatefulSet", "DaemonSet", "Job", "Pod", "ReplicaSet"}

// addOns maps an API group of custom resources to the cluster feature or
// object that installs its CRDs.
var addOns = map[string]need{
	"keda.sh": {"the cluster with the KEDA add-on (workloadAutoScalerProfile.keda.enabled)", func(c *mocks.Resource) bool {
		return strings.HasSuffix(c.Type, ":ManagedCluster") && mocks.Lookup(c.Inputs, "workloadAutoScalerProfile.keda.enabled") == true
	}},
	"secrets-store.csi.x-k8s.io": {"the cluster with the Key Vault Secrets Store CSI add-on (addonProfiles.azureKeyvaultSecretsProvider)", func(c *mocks.Resource) bool {
		return strings.HasSuffix(c.Type, ":ManagedCluster") && mocks.Lookup(c.Inputs, "addonProfiles.azureKeyvaultSecretsProvider.enabled") == true
	}},
	"approuting.kubernetes.azure.com": {"the cluster with the application routing add-on (ingressProfile.webAppRouting.enabled)", func(c *mocks.Resource) bool {
		return strings.HasSuffix(c.Type, ":ManagedCluster") && mocks.Lookup(c.Inputs, "ingressProfile.webAppRouting.enabled") == true
	}},
	"sparkoperator.k8s.io": {"the Spark Operator Helm release", func(c *mocks.Resource) bool {
		return strings.HasPrefix(c.Type, "kubernetes:helm.sh/") && strings.Contains(mocks.String(c.Inputs, "chart"), "spark-operator")
	}},
}

// builtinGroups are the API groups every cluster serves.
var builtinGroups = []string{"", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "rbac.authorization.k8s.io",
	"apiextensions.k8s.io", "storage.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "admissionregistration.k8s.io"}

func apiGroup(apiVersion string) string {
	if i := strings.Index(apiVersion, "/"); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}

func (k *kubeFacts) needs(r *mocks.Resource) []need {
	if strings.HasPrefix(r.Type, "kubernetes:helm.sh/") || r.Type == "pulumi:providers:kubernetes" {
		return nil
	}
	var needs []need
	isCluster := func(c *mocks.Resource) bool { return strings.HasSuffix(c.Type, ":ManagedCluster") && c.Custom }
	needs = append(needs, need{"the AKS cluster", isCluster})
	for _, cl := range k.clusters {
		if mocks.Lookup(cl.Inputs, "aadProfile.enableAzureRBAC") == true {
			cid := id(cl)
			needs = append(needs, need{"the deployer's AKS RBAC role assignment on " + outName(cl) + " (Azure Kubernetes Service RBAC Cluster Admin)", func(c *mocks.Resource) bool {
				if !strings.HasSuffix(c.Type, ":RoleAssignment") {
					return false
				}
				role := lastSegment(mocks.String(c.Inputs, "roleDefinitionId"))
				scope := mocks.String(c.Inputs, "scope")
				return slices.Contains(aksRBACWriteRoles, role) && mocks.String(c.Inputs, "principalId") == mocks.DeployerObject &&
					cid != "" && strings.HasPrefix(strings.ToLower(cid), strings.ToLower(scope))
			}})
		}
		break
	}
	kind := mocks.String(r.Inputs, "kind")
	apiVersion := mocks.String(r.Inputs, "apiVersion")
	if slices.Contains(podKinds, kind) && !k.inlineSchedulable() {
		needs = append(needs, need{"a node pool that schedules workload pods (the system pool is tainted)", func(c *mocks.Resource) bool {
			return strings.HasSuffix(c.Type, ":AgentPool") && schedulable(mocks.String(c.Inputs, "mode"), mocks.Strings(c.Inputs, "nodeTaints"))
		}})
	}
	if g := apiGroup(apiVersion); !slices.Contains(builtinGroups, g) {
		if n, ok := addOns[g]; ok {
			needs = append(needs, n)
		} else {
			needs = append(needs, need{"the CustomResourceDefinition of " + kind + "." + g, func(c *mocks.Resource) bool {
				return strings.HasSuffix(c.Type, ":CustomResourceDefinition") && mocks.String(c.Inputs, "spec.group") == g
			}})
		}
	}
	for _, pod := range podSpecsOf(r) {
		needs = append(needs, k.usesNeeds(pod)...)
	}
	return needs
}

// schedulable tells whether a pool takes ordinary pods.
func schedulable(mode string, taints []string) bool {
	for _, t := range taints {
		if strings.HasSuffix(t, ":NoSchedule") || strings.HasSuffix(t, ":NoExecute") {
			return false
		}
	}
	return mode != "System" || len(taints) == 0
}

// inlineSchedulable tells whether a pool declared in the cluster itself
// schedules workload pods (then the cluster is enough).
func (k *kubeFacts) inlineSchedulable() bool {
	for _, cl := range k.clusters {
		v := mocks.Value(cl.Inputs, "agentPoolProfiles")
		if !v.IsArray() {
			continue
		}
		for i := range v.ArrayValue() {
			p := "agentPoolProfiles." + itoa(i)
			if schedulable(mocks.String(cl.Inputs, p+".mode"), mocks.Strings(cl.Inputs, p+".nodeTaints")) {
				return true
			}
		}
	}
	return false
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// podSpecsOf returns the pod specs of a workload object, as plain values:
// one for the kinds that hold a pod template, and for a SparkApplication
// the driver's and the executors' pod templates, completed with what the
// operator sets from the application (service account, image), so they
// read as the pods Spark creates.
func podSpecsOf(r *mocks.Resource) []map[string]any {
	obj, _ := toAny(wrap(r), nil).(map[string]any)
	var path []string
	switch mocks.String(r.Inputs, "kind") {
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
		path = []string{"spec", "template", "spec"}
	case "CronJob":
		path = []string{"spec", "jobTemplate", "spec", "template", "spec"}
	case "Pod":
		path = []string{"spec"}
	case "SparkApplication":
		return sparkPodSpecs(obj)
	default:
		return nil
	}
	if m := dig(obj, path...); m != nil {
		return []map[string]any{m}
	}
	return nil
}

// dig follows path through nested objects; nil when one is missing.
func dig(v any, path ...string) map[string]any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	m, _ := v.(map[string]any)
	return m
}

// sparkPodSpecs are a SparkApplication's driver and executor pod
// templates with the role's service account and the application's image
// on their first container (the one Spark runs the JVM in).
func sparkPodSpecs(app map[string]any) []map[string]any {
	var out []map[string]any
	spec := dig(app, "spec")
	for _, role := range []string{"driver", "executor"} {
		r := dig(spec, role)
		if r == nil {
			continue
		}
		pod := map[string]any{}
		if t := dig(r, "template", "spec"); t != nil {
			for k, v := range t {
				pod[k] = v
			}
		}
		if sa, ok := r["serviceAccount"].(string); ok {
			pod["serviceAccountName"] = sa
		}
		image, _ := r["image"].(string)
		if image == "" {
			image, _ = spec["image"].(string)
		}
		containers, _ := pod["containers"].([]any)
		first := map[string]any{}
		if len(containers) > 0 {
			if c, ok := containers[0].(map[string]any); ok {
				for k, v := range c {
					first[k] = v
				}
			}
		}
		first["image"] = image
		pod["containers"] = append([]any{first}, containers[min(1, len(containers)):]...)
		out = append(out, pod)
	}
	return out
}

// containerEnvs returns the literal environment of each container of a
// pod spec (init containers included), by container name.
func containerEnvs(pod map[string]any) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, key := range []string{"initContainers", "containers"} {
		list, _ := pod[key].([]any)
		for _, c := range list {
			cm, _ := c.(map[string]any)
			name, _ := cm["name"].(string)
			env := map[string]string{}
			vars, _ := cm["env"].([]any)
			for _, v := range vars {
				vm, _ := v.(map[string]any)
				n, _ := vm["name"].(string)
				if val, ok := vm["value"].(string); ok {
					env[n] = val
				}
			}
			out[name] = env
		}
	}
	return out
}

// usesNeeds are the data services a pod's environment points at and what
// of them must exist before it starts.
func (k *kubeFacts) usesNeeds(pod map[string]any) []need {
	var needs []need
	sa, _ := pod["serviceAccountName"].(string)
	principal := k.principalOf(sa)
	for _, env := range containerEnvs(pod) {
		if host := env["POSTGRES_HOST"]; host != "" {
			needs = append(needs, k.postgresNeeds(host, env)...)
		}
		if hosts := env["CASSANDRA_HOSTS"]; hosts != "" {
			needs = append(needs, k.cassandraNeeds(strings.Split(hosts, ",")[0], env)...)
		}
		if addr := env["REDIS_ADDR"]; addr != "" {
			needs = append(needs, k.redisNeeds(strings.Split(addr, ":")[0], principal)...)
		}
	}
	return needs
}

// principalOf follows a service account's workload identity annotation to
// the managed identity's principal id.
func (k *kubeFacts) principalOf(sa string) string {
	if sa == "" {
		return ""
	}
	var client string
	for _, r := range k.g.resources {
		if r.Type == "kubernetes:core/v1:ServiceAccount" && mocks.String(r.Inputs, "metadata.name") == sa {
			if a := mocks.Value(r.Inputs, "metadata.annotations"); a.IsObject() {
				if v, ok := a.ObjectValue()["azure.workload.identity/client-id"]; ok {
					if pv, known := plain(v); known && pv.IsString() {
						client = pv.StringValue()
					}
				}
			}
		}
	}
	for _, r := range k.g.ofType("UserAssignedIdentity") {
		if client != "" && mocks.String(r.Outputs, "clientId") == client {
			return mocks.String(r.Outputs, "principalId")
		}
	}
	return ""
}

func (k *kubeFacts) postgresNeeds(host string, env map[string]string) []need {
	var server *mocks.Resource
	for _, s := range k.g.ofType("Server") {
		if strings.Contains(s.Type, "dbforpostgresql") && mocks.String(s.Outputs, "fullyQualifiedDomainName") == host {
			server = s
		}
	}
	if server == nil {
		return nil
	}
	name, sid := outName(server), id(server)
	db := env["POSTGRES_DATABASE"]
	if db == "" {
		db = "sluice"
	}
	user := env["POSTGRES_USER"]
	needs := []need{
		{"PostgreSQL database " + db, func(c *mocks.Resource) bool {
			return strings.HasSuffix(c.Type, ":Database") && strings.Contains(c.Type, "dbforpostgresql") &&
				mocks.String(c.Inputs, "serverName") == name && mocks.String(c.Inputs, "databaseName") == db
		}},
	}
	for _, c := range k.g.resources {
		c := c
		switch {
		case strings.Contains(c.Type, "dbforpostgresql") && strings.HasSuffix(c.Type, ":Configuration") && mocks.String(c.Inputs, "serverName") == name:
			needs = append(needs, need{"server parameter " + mocks.String(c.Inputs, "configurationName"), func(x *mocks.Resource) bool { return x == c }})
		case strings.HasSuffix(c.Type, ":PrivateEndpoint") && targets(c, sid):
			needs = append(needs, need{"the server's private endpoint " + c.Name, func(x *mocks.Resource) bool { return x == c }})
		}
	}
	if user != "" {
		needs = append(needs, need{"a PostgreSQL role for " + user + " (an Entra administrator of that name, or a step running pgaadauth_create_principal for it)", func(c *mocks.Resource) bool {
			if strings.Contains(c.Type, "dbforpostgresql") && strings.HasSuffix(c.Type, ":Administrator") &&
				mocks.String(c.Inputs, "serverName") == name && mocks.String(c.Inputs, "principalName") == user {
				return true
			}
			return createsPrincipal(c, user) || runsPrincipalsStep(c, user)
		}})
	}
	return needs
}

// createsPrincipal tells whether a resource's inputs run
// pgaadauth_create_principal for user: in one string, or with the SQL in
// one input and the user name as another (e.g. a Job's args and env).
func createsPrincipal(c *mocks.Resource, user string) bool {
	var texts []string
	var collect func(v any)
	collect = func(v any) {
		switch t := v.(type) {
		case string:
			texts = append(texts, t)
		case map[string]any:
			for _, e := range t {
				collect(e)
			}
		case []any:
			for _, e := range t {
				collect(e)
			}
		}
	}
	collect(toAny(wrap(c), nil))
	sql := false
	for _, t := range texts {
		if strings.Contains(t, "pgaadauth_create_principal") {
			sql = true
			if strings.Contains(t, user) {
				return true
			}
		}
	}
	return sql && slices.Contains(texts, user)
}

// principalEnvs are the variables through which the principals step
// (`migrate -principals`, see workloads/internal/pgmigrate) receives the
// roles it creates with pgaadauth_create_principal_with_oid.
var principalEnvs = []string{deploy.EnvPostgresMigratePrincipal, deploy.EnvPostgresEnrichPrincipal, deploy.EnvPostgresAPIPrincipal}

// runsPrincipalsStep tells whether a Kubernetes Job runs the migrate
// image's principals step for user: a container with the -principals
// argument whose environment names user as one of the roles to create.
func runsPrincipalsStep(c *mocks.Resource, user string) bool {
	if !strings.HasSuffix(c.Type, ":Job") {
		return false
	}
	spec, _ := toAny(wrap(c), nil).(map[string]any)
	for _, path := range [][]string{{"spec", "template", "spec", "containers"}} {
		var v any = spec
		for _, key := range path {
			m, _ := v.(map[string]any)
			v = m[key]
		}
		containers, _ := v.([]any)
		for _, ct := range containers {
			ctr, _ := ct.(map[string]any)
			args, _ := ctr["args"].([]any)
			if !slices.Contains(args, any("-principals")) {
				continue
			}
			env, _ := ctr["env"].([]any)
			for _, e := range env {
				ev, _ := e.(map[string]any)
				if name, _ := ev["name"].(string); slices.Contains(principalEnvs, name) && ev["value"] == user {
					return true
				}
			}
		}
	}
	return false
}

func (k *kubeFacts) cassandraNeeds(host string, env map[string]string) []need {
	var account *mocks.Resource
	for _, a := range k.g.ofType("DatabaseAccount") {
		if outName(a)+".cassandra.cosmos.azure.com" == host {
			account = a
		}
	}
	if account == nil {
		return nil
	}
	name, aid := outName(account), id(account)
	ks := env["CASSANDRA_KEYSPACE"]
	if ks == "" {
		ks = "sluice"
	}
	needs := []need{{"Cassandra keyspace " + ks, func(c *mocks.Resource) bool {
		return strings.HasSuffix(c.Type, ":CassandraResourceCassandraKeyspace") && mocks.String(c.Inputs, "accountName") == name &&
			mocks.String(c.Inputs, "keyspaceName") == ks
	}}}
	for _, c := range k.g.resources {
		c := c
		switch {
		case strings.HasSuffix(c.Type, ":CassandraResourceCassandraTable") && mocks.String(c.Inputs, "accountName") == name && mocks.String(c.Inputs, "keyspaceName") == ks:
			needs = append(needs, need{"Cassandra table " + mocks.String(c.Inputs, "tableName"), func(x *mocks.Resource) bool { return x == c }})
		case strings.HasSuffix(c.Type, ":PrivateEndpoint") && targets(c, aid):
			needs = append(needs, need{"the account's private endpoint " + c.Name, func(x *mocks.Resource) bool { return x == c }})
		}
	}
	return needs
}

func (k *kubeFacts) redisNeeds(host, principal string) []need {
	var cluster *mocks.Resource
	for _, c := range k.g.ofType("RedisEnterprise") {
		if mocks.String(c.Outputs, "hostName") == host {
			cluster = c
		}
	}
	if cluster == nil {
		return nil
	}
	name, cid := outName(cluster), id(cluster)
	var needs []need
	for _, c := range k.g.resources {
		c := c
		switch {
		case strings.HasSuffix(c.Type, ":Database") && strings.Contains(c.Type, "cache") || strings.HasSuffix(c.Type, ":Database") && strings.Contains(c.Type, "redisenterprise"):
			if mocks.String(c.Inputs, "clusterName") == name {
				needs = append(needs, need{"Redis database " + c.Name, func(x *mocks.Resource) bool { return x == c }})
			}
		case strings.HasSuffix(c.Type, ":PrivateEndpoint") && targets(c, cid):
			needs = append(needs, need{"the cluster's private endpoint " + c.Name, func(x *mocks.Resource) bool { return x == c }})
		}
	}
	if principal != "" {
		needs = append(needs, need{"the Redis access policy assignment of its identity " + principal, func(c *mocks.Resource) bool {
			return strings.HasSuffix(c.Type, ":AccessPolicyAssignment") && mocks.String(c.Inputs, "clusterName") == name &&
				mocks.String(c.Inputs, "user.objectId") == principal
		}})
	}
	return needs
}
