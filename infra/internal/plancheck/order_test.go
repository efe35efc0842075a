package plancheck

import (
	"testing"

	"github.com/sluicehq/sluice/infra/internal/mocks"
)

const clusterID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"

// kubeBase is a cluster with Azure RBAC, a tainted system pool, KEDA and
// the CSI add-on, its user pool, the deployer's role and a provider.
func kubeBase() (cluster, pool, role, provider *mocks.Resource) {
	cluster = res("azure-native:containerservice/v20250101:ManagedCluster", "aks", map[string]any{
		"resourceGroupName":         "rg",
		"aadProfile":                map[string]any{"enableAzureRBAC": true},
		"agentPoolProfiles":         []any{map[string]any{"name": "system", "mode": "System", "nodeTaints": []any{"CriticalAddonsOnly=true:NoSchedule"}}},
		"addonProfiles":             map[string]any{"azureKeyvaultSecretsProvider": map[string]any{"enabled": true}},
		"workloadAutoScalerProfile": map[string]any{"keda": map[string]any{"enabled": true}},
	}, map[string]any{"id": clusterID, "name": "aks"})
	pool = dependsOn(res("azure-native:containerservice/v20250101:AgentPool", "user", map[string]any{"mode": "User", "resourceName": "aks"}, nil), cluster)
	role = dependsOn(res("azure-native:authorization:RoleAssignment", "deployer-aks", map[string]any{
		"principalId": mocks.DeployerObject, "scope": clusterID,
		"roleDefinitionId": "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
	}, nil), cluster)
	provider = dependsOn(res("pulumi:providers:kubernetes", "k8s", map[string]any{}, nil), cluster, role)
	return
}

func kube(typ, name, apiVersion, kind string, spec map[string]any, provider *mocks.Resource) *mocks.Resource {
	r := res(typ, name, map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": map[string]any{"name": name}, "spec": spec}, nil)
	r.Provider = provider.URN + "::id"
	return r
}

func deploymentSpec() map[string]any {
	return map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "app", "image": "x"}}}}}
}

func TestOrderDeploymentWaitsForTheUserPool(t *testing.T) {
	cluster, pool, role, provider := kubeBase()
	early := kube("kubernetes:apps/v1:Deployment", "early", "apps/v1", "Deployment", deploymentSpec(), provider)
	late := dependsOn(kube("kubernetes:apps/v1:Deployment", "late", "apps/v1", "Deployment", deploymentSpec(), provider), pool)
	vs := CheckOrder([]*mocks.Resource{cluster, pool, role, provider, early, late})
	want(t, vs, "order", "Deployment early", "could be created before a node pool that schedules workload pods")
	if len(vs) != 1 {
		t.Errorf("want only the early deployment flagged:\n%s", list(vs))
	}
}

func TestOrderKubernetesObjectsNeedTheDeployersRole(t *testing.T) {
	cluster, _, role, _ := kubeBase()
	provider := dependsOn(res("pulumi:providers:kubernetes", "k8s", map[string]any{}, nil), cluster)
	ns := kube("kubernetes:core/v1:Namespace", "ns", "v1", "Namespace", nil, provider)
	want(t, CheckOrder([]*mocks.Resource{cluster, role, provider, ns}), "order", "Namespace ns", "deployer's AKS RBAC role assignment")
	// Without the role at all the plan is told it has none.
	want(t, CheckOrder([]*mocks.Resource{cluster, provider, ns}), "order", "Namespace ns", "the plan has none")
}

func TestOrderCustomResourcesNeedTheirAddOn(t *testing.T) {
	cluster, pool, role, provider := kubeBase()
	noKeda := res("azure-native:containerservice/v20250101:ManagedCluster", "aks", map[string]any{
		"aadProfile": map[string]any{"enableAzureRBAC": false},
	}, map[string]any{"id": clusterID})
	so := kube("kubernetes:keda.sh/v1alpha1:ScaledObject", "so", "keda.sh/v1alpha1", "ScaledObject", map[string]any{}, provider)
	none(t, CheckOrder([]*mocks.Resource{cluster, pool, role, provider, so}))
	p2 := dependsOn(res("pulumi:providers:kubernetes", "k8s2", map[string]any{}, nil), noKeda)
	so2 := kube("kubernetes:keda.sh/v1alpha1:ScaledObject", "so2", "keda.sh/v1alpha1", "ScaledObject", map[string]any{}, p2)
	want(t, CheckOrder([]*mocks.Resource{noKeda, p2, so2}), "order", "ScaledObject so2", "KEDA add-on")
	odd := kube("kubernetes:example.com/v1:Widget", "w", "example.com/v1", "Widget", map[string]any{}, provider)
	want(t, CheckOrder([]*mocks.Resource{cluster, pool, role, provider, odd}), "order", "Widget w", "CustomResourceDefinition of Widget.example.com")
}

func TestOrderJobNeedsItsPostgresPrincipal(t *testing.T) {
	cluster, pool, role, provider := kubeBase()
	server := res("azure-native:dbforpostgresql/v20240801:Server", "psql", map[string]any{"resourceGroupName": "rg"},
		map[string]any{"id": "/sub/psql", "name": "psql", "fullyQualifiedDomainName": "psql.postgres.database.azure.com"})
	db := dependsOn(res("azure-native:dbforpostgresql/v20240801:Database", "db", map[string]any{"serverName": "psql", "databaseName": "sluice"}, nil), server)
	job := dependsOn(kube("kubernetes:batch/v1:Job", "migrate", "batch/v1", "Job", map[string]any{"template": map[string]any{"spec": map[string]any{
		"containers": []any{map[string]any{"name": "migrate", "image": "x", "env": []any{
			map[string]any{"name": "POSTGRES_HOST", "value": "psql.postgres.database.azure.com"},
			map[string]any{"name": "POSTGRES_USER", "value": "id-migrate"},
		}}},
	}}}, provider), pool, db)
	vs := CheckOrder([]*mocks.Resource{cluster, pool, role, provider, server, db, job})
	want(t, vs, "order", "Job migrate", "PostgreSQL role for id-migrate", "the plan has none")
	principal := dependsOn(res("kubernetes:batch/v1:Job", "principals", map[string]any{"spec": map[string]any{"args": []any{
		"SELECT * FROM pgaadauth_create_principal_with_oid('id-migrate', '…', 'service', false, false)"}}}, nil), db)
	job.Dependencies = append(job.Dependencies, principal.URN)
	vs = CheckOrder([]*mocks.Resource{cluster, pool, role, provider, server, db, principal, job})
	for _, v := range vs {
		if v.Resource == job.Type+" "+job.Name {
			t.Errorf("job with its principal step before it flagged: %s", v)
		}
	}
}

func TestOrderPrivateEndpointNeedsSubnetAndTarget(t *testing.T) {
	subnet := res("azure-native:network:Subnet", "pe-subnet", map[string]any{}, map[string]any{"id": "/sub/vnet/subnets/pe"})
	vault := res("azure-native:keyvault:Vault", "kv", map[string]any{}, map[string]any{"id": "/sub/kv"})
	in := map[string]any{"subnet": map[string]any{"id": "/sub/vnet/subnets/pe"},
		"privateLinkServiceConnections": []any{map[string]any{"privateLinkServiceId": "/sub/kv"}}}
	bad := res("azure-native:network:PrivateEndpoint", "pe-bad", in, nil)
	good := dependsOn(res("azure-native:network:PrivateEndpoint", "pe-good", in, nil), subnet, vault)
	vs := CheckOrder([]*mocks.Resource{subnet, vault, bad, good})
	want(t, vs, "order", "pe-bad", "its subnet pe")
	want(t, vs, "order", "pe-bad", "its target kv")
	if len(vs) != 2 {
		t.Errorf("want 2 violations:\n%s", list(vs))
	}
}

func TestOrderSerialisesWritesToOneServer(t *testing.T) {
	server := res("azure-native:dbforpostgresql/v20240801:Server", "psql", map[string]any{}, map[string]any{"id": "/sub/psql", "name": "psql"})
	p1 := dependsOn(res("azure-native:dbforpostgresql/v20240801:Configuration", "p1", map[string]any{"serverName": "psql"}, nil), server)
	p2 := dependsOn(res("azure-native:dbforpostgresql/v20240801:Configuration", "p2", map[string]any{"serverName": "psql"}, nil), p1)
	pe := dependsOn(res("azure-native:network:PrivateEndpoint", "psql-pe", map[string]any{
		"privateLinkServiceConnections": []any{map[string]any{"privateLinkServiceId": "/sub/psql"}}}, nil), server)
	diag := dependsOn(res("azure-native:insights:DiagnosticSetting", "psql-diag", map[string]any{"resourceUri": "/sub/psql"}, nil), pe, p2)
	vs := CheckOrder([]*mocks.Resource{server, p1, p2, pe, diag})
	want(t, vs, "order", "psql-pe", "PostgreSQL server psql", "p1, p2")
	if len(vs) != 1 {
		t.Errorf("want only the endpoint flagged:\n%s", list(vs))
	}
	pe.Dependencies = append(pe.Dependencies, p2.URN)
	none(t, CheckOrder([]*mocks.Resource{server, p1, p2, pe, diag}))

	cluster := res("azure-native:cache/v20250401:RedisEnterprise", "redis", map[string]any{}, map[string]any{"id": "/sub/redis", "name": "redis"})
	a1 := dependsOn(res("azure-native:cache/v20250401:AccessPolicyAssignment", "a1", map[string]any{"clusterName": "redis"}, nil), cluster)
	a2 := dependsOn(res("azure-native:cache/v20250401:AccessPolicyAssignment", "a2", map[string]any{"clusterName": "redis"}, nil), cluster)
	rpe := dependsOn(res("azure-native:network:PrivateEndpoint", "redis-pe", map[string]any{
		"privateLinkServiceConnections": []any{map[string]any{"privateLinkServiceId": "/sub/redis"}}}, nil), cluster, a1)
	vs = CheckOrder([]*mocks.Resource{cluster, a1, a2, rpe})
	want(t, vs, "order", "PrivateEndpoint redis-pe", "Azure Managed Redis cluster redis", "same time as a2")
	if len(vs) != 1 {
		t.Errorf("want only the endpoint against a2 flagged (assignments among themselves are not serialised):\n%s", list(vs))
	}
}

func TestGraphExpandsComponentsAndProviders(t *testing.T) {
	comp := &mocks.Resource{URN: "urn:pulumi:t::sluice::sluice:components:X::c", Type: "sluice:components:X", Name: "c"}
	child := res("azure-native:network:Subnet", "child", map[string]any{}, nil)
	child.Parent = comp.URN
	user := dependsOn(res("azure-native:network:Subnet", "user", map[string]any{}, nil), comp)
	g := NewGraph([]*mocks.Resource{comp, child, user})
	if !g.Before(user)[child.URN] {
		t.Error("depending on a component does not wait for its children")
	}
	if g.Before(child)[comp.URN] {
		t.Error("a parent counted as a creation dependency")
	}
}
