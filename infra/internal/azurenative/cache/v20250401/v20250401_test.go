package v20250401

import (
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/azurenative"
	"github.com/sluicehq/sluice/infra/internal/mocks"
)

// Transcribed from pulumi-azure-native-sdk v2.92.3, cache/v20250401
// (redisEnterprise.go, database.go, accessPolicyAssignment.go, pulumiTypes.go).
var sdkInputs = map[string][]string{
	"RedisEnterpriseArgs": {"clusterName", "encryption", "highAvailability", "identity", "location",
		"minimumTlsVersion", "resourceGroupName", "sku", "tags", "zones"},
	"DatabaseArgs": {"accessKeysAuthentication", "clientProtocol", "clusterName", "clusteringPolicy", "databaseName",
		"deferUpgrade", "evictionPolicy", "geoReplication", "modules", "persistence", "port", "resourceGroupName"},
	"AccessPolicyAssignmentArgs": {"accessPolicyAssignmentName", "accessPolicyName", "clusterName", "databaseName",
		"resourceGroupName", "user"},
	"EnterpriseSkuArgs":                        {"capacity", "name"},
	"AccessPolicyAssignmentPropertiesUserArgs": {"objectId"},
}

func TestTokensAndAPIVersion(t *testing.T) {
	if APIVersion != "2025-04-01" {
		t.Errorf("APIVersion = %s", APIVersion)
	}
	for got, want := range map[string]string{
		RedisEnterpriseToken:        "azure-native:cache/v20250401:RedisEnterprise",
		DatabaseToken:               "azure-native:cache/v20250401:Database",
		AccessPolicyAssignmentToken: "azure-native:cache/v20250401:AccessPolicyAssignment",
	} {
		if got != want {
			t.Errorf("token %s, SDK registers %s", got, want)
		}
	}
}

func TestInputNamesAreTheSDKs(t *testing.T) {
	for name, in := range map[string]pulumi.Input{
		"RedisEnterpriseArgs":                      RedisEnterpriseArgs{},
		"DatabaseArgs":                             DatabaseArgs{},
		"AccessPolicyAssignmentArgs":               AccessPolicyAssignmentArgs{},
		"EnterpriseSkuArgs":                        EnterpriseSkuArgs{},
		"AccessPolicyAssignmentPropertiesUserArgs": AccessPolicyAssignmentPropertiesUserArgs{},
	} {
		for _, n := range azurenative.InputNames(in) {
			if !slices.Contains(sdkInputs[name], n) {
				t.Errorf("%s: input %q is not an SDK input", name, n)
			}
		}
		if err := azurenative.CheckArgs(in); err != nil {
			t.Error(err)
		}
	}
}

func TestRegistration(t *testing.T) {
	m, err := mocks.Run(func(ctx *pulumi.Context) error {
		if _, err := NewRedisEnterprise(ctx, "c", &RedisEnterpriseArgs{ResourceGroupName: pulumi.String("rg")}); err == nil {
			t.Error("cluster without Sku accepted")
		}
		if _, err := NewAccessPolicyAssignment(ctx, "x", &AccessPolicyAssignmentArgs{ResourceGroupName: pulumi.String("rg")}); err == nil {
			t.Error("assignment without policy, cluster, database and user accepted")
		}
		cluster, err := NewRedisEnterprise(ctx, "cluster", &RedisEnterpriseArgs{
			ResourceGroupName: pulumi.String("rg"),
			Location:          pulumi.String("westeurope"),
			Sku:               EnterpriseSkuArgs{Name: pulumi.String("Balanced_B0")},
			MinimumTlsVersion: pulumi.String("1.2"),
			HighAvailability:  pulumi.String("Disabled"),
		})
		if err != nil {
			return err
		}
		db, err := NewDatabase(ctx, "db", &DatabaseArgs{
			ResourceGroupName:        pulumi.String("rg"),
			ClusterName:              cluster.Name,
			DatabaseName:             pulumi.String("default"),
			AccessKeysAuthentication: pulumi.String("Disabled"),
			ClientProtocol:           pulumi.String("Encrypted"),
			Port:                     pulumi.Int(10000),
		})
		if err != nil {
			return err
		}
		_, err = NewAccessPolicyAssignment(ctx, "grant", &AccessPolicyAssignmentArgs{
			ResourceGroupName: pulumi.String("rg"),
			ClusterName:       cluster.Name,
			DatabaseName:      db.Name,
			AccessPolicyName:  pulumi.String("default"),
			User:              AccessPolicyAssignmentPropertiesUserArgs{ObjectId: pulumi.String("00000000-0000-0000-0000-00000000000a")},
		})
		return err
	}, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		token  string
		inputs map[string]any
	}{
		"cluster": {RedisEnterpriseToken, map[string]any{"sku.name": "Balanced_B0", "minimumTlsVersion": "1.2", "highAvailability": "Disabled"}},
		"db":      {DatabaseToken, map[string]any{"clusterName": "cluster", "accessKeysAuthentication": "Disabled", "clientProtocol": "Encrypted", "port": 10000.0}},
		"grant":   {AccessPolicyAssignmentToken, map[string]any{"databaseName": "default", "accessPolicyName": "default", "user.objectId": "00000000-0000-0000-0000-00000000000a"}},
	}
	seen := 0
	for _, r := range m.Resources() {
		w, ok := want[r.Name]
		if !ok {
			continue
		}
		seen++
		if r.Type != w.token || r.Version != azurenative.ProviderVersion {
			t.Errorf("%s: token %s version %s, want %s %s", r.Name, r.Type, r.Version, w.token, azurenative.ProviderVersion)
		}
		for path, v := range w.inputs {
			if got := mocks.Lookup(r.Inputs, path); got != v {
				t.Errorf("%s: %s = %v, want %v", r.Name, path, got, v)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("registered %d of %d resources", seen, len(want))
	}
}
