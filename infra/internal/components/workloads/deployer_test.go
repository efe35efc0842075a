package workloads_test

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/infra/internal/config"
	"github.com/sluicehq/sluice/infra/internal/mocks"
	"github.com/sluicehq/sluice/infra/internal/platform"
	"github.com/sluicehq/sluice/internal/modroot/roottest"
)

const tRole = "azure-native:authorization:RoleAssignment"

// aksRBACClusterAdmin is the built-in role "Azure Kubernetes Service RBAC
// Cluster Admin".
const aksRBACClusterAdmin = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"

// deployerAccess returns the AKS RBAC Cluster Admin assignments on the
// cluster.
func deployerAccess(m *mocks.Monitor, clusterID string) []*mocks.Resource {
	var out []*mocks.Resource
	for _, ra := range m.OfType(tRole) {
		if strings.HasSuffix(mocks.String(ra.Inputs, "roleDefinitionId"), "/"+aksRBACClusterAdmin) &&
			mocks.String(ra.Inputs, "scope") == clusterID {
			out = append(out, ra)
		}
	}
	return out
}

// TestDeployerHasKubernetesRBAC: with local accounts off, the deploying
// identity gets Azure Kubernetes Service RBAC Cluster Admin on the cluster,
// and the Kubernetes provider, so every Kubernetes object, waits for it.
func TestDeployerHasKubernetesRBAC(t *testing.T) {
	for _, stack := range []string{"dev", "staging", "prod"} {
		r := runStack(t, stack, "")
		cluster := r.one(tCluster)
		if mocks.Lookup(cluster.Inputs, "disableLocalAccounts") != true {
			t.Errorf("%s: local accounts are on", stack)
		}
		access := deployerAccess(r.m, cluster.ID)
		if len(access) != 1 {
			t.Fatalf("%s: %d AKS RBAC Cluster Admin assignments on the cluster, want 1", stack, len(access))
		}
		ra := access[0]
		if got := mocks.String(ra.Inputs, "principalId"); got != mocks.DeployerObject {
			t.Errorf("%s: cluster admin granted to %s, want the deployer %s", stack, got, mocks.DeployerObject)
		}
		provider := r.one(tProvider)
		if !reach(r.m, provider)[ra.URN] {
			t.Errorf("%s: the Kubernetes provider does not wait for the deployer's RBAC assignment", stack)
		}
		for _, res := range r.m.Resources() {
			if strings.HasPrefix(res.Type, "kubernetes:") && !reach(r.m, res)[ra.URN] {
				t.Errorf("%s: %s %s can be applied before the deployer has Kubernetes RBAC", stack, res.Type, res.Name)
			}
		}
	}
	// A configured deployer principal replaces the client's identity.
	values, err := config.StackValues(roottest.Root(t), "staging")
	if err != nil {
		t.Fatal(err)
	}
	const ci = "12345678-1234-1234-1234-123456789abc"
	values["sluice:aksDeployerObjectId"] = ci
	values["sluice:aksDeployerPrincipalType"] = "ServicePrincipal"
	t.Setenv(config.ImagesFileEnv, "")
	m, err := mocks.Run(platform.Program, "staging", values)
	if err != nil {
		t.Fatal(err)
	}
	clusters := m.OfType(tCluster)
	if len(clusters) != 1 {
		t.Fatalf("%d clusters", len(clusters))
	}
	access := deployerAccess(m, clusters[0].ID)
	if len(access) != 1 || mocks.String(access[0].Inputs, "principalId") != ci || mocks.String(access[0].Inputs, "principalType") != "ServicePrincipal" {
		t.Errorf("configured deployer: assignments %v", access)
	}
}
