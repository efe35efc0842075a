package plancheck

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/infra/internal/mocks"
)

func TestNamesCatchAutoNamedAssignmentsAndBadNames(t *testing.T) {
	const assignment = "azure-native:cache/v20250401:AccessPolicyAssignment"
	in := func(extra map[string]any) map[string]any {
		m := map[string]any{"resourceGroupName": "rg", "clusterName": "redis", "databaseName": "default"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	vs := CheckNames([]*mocks.Resource{
		// No explicit name: azure-native names a child after its
		// logical name, hyphens included.
		res(assignment, "workload-identities-api-data-0", in(nil), nil),
		res(assignment, "ok", in(map[string]any{"accessPolicyAssignmentName": "apidata0"}), nil),
		res(assignment, "dup", in(map[string]any{"accessPolicyAssignmentName": "APIDATA0"}), nil),
		// Top-level: the logical name plus 8 random characters.
		res("azure-native:storage:StorageAccount", "stsluicereference01", map[string]any{"resourceGroupName": "rg"}, nil),
		res("azure-native:storage:StorageAccount", "st-sluice", map[string]any{"resourceGroupName": "rg", "accountName": "st-sluice"}, nil),
		res("azure-native:containerservice/v20250101:AgentPool", "pool", map[string]any{"resourceGroupName": "rg", "resourceName": "aks", "agentPoolName": "user-pool"}, nil),
		res("azure-native:unknown:Thing", "x", map[string]any{}, nil),
	})
	want(t, vs, "names", "workload-identities-api-data-0", `does not match ^[A-Za-z0-9]{1,60}$`)
	want(t, vs, "names", "AccessPolicyAssignment dup", "is also the name of ok")
	want(t, vs, "names", "stsluicereference01", "has 27 characters, allowed 3-24", "random characters")
	want(t, vs, "names", "st-sluice", "does not match")
	want(t, vs, "names", "AgentPool pool", `"user-pool"`)
	want(t, vs, "names", "Thing x", "no name rule")
	for _, v := range vs {
		if strings.Contains(v.Resource, " ok") {
			t.Errorf("explicit valid name flagged: %s", v)
		}
	}
	if len(vs) != 6 {
		t.Errorf("want 6 violations, got %d:\n%s", len(vs), list(vs))
	}
}

func TestFinalNameEmulatesAutoNaming(t *testing.T) {
	top := res("azure-native:keyvault:Vault", "kv-sluice", map[string]any{"resourceGroupName": "rg"}, nil)
	if n, auto, ok := FinalName(NameRules[top.Type], top); !ok || !auto || n != "kv-sluice"+randomSuffix || len(randomSuffix) != RandomSuffixLen {
		t.Errorf("top-level auto-name %q %v %v", n, auto, ok)
	}
	child := res("azure-native:keyvault:Secret", "cosmos-key", map[string]any{"vaultName": "kv"}, nil)
	if n, auto, _ := FinalName(NameRules[child.Type], child); n != "cosmos-key" || !auto {
		t.Errorf("child auto-name %q", n)
	}
	set := res("azure-native:keyvault:Secret", "logical", map[string]any{"vaultName": "kv", "secretName": "explicit"}, nil)
	if n, auto, _ := FinalName(NameRules[set.Type], set); n != "explicit" || auto {
		t.Errorf("explicit name %q", n)
	}
}
