package v20241101

import (
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/azurenative"
	"github.com/sluicehq/sluice/infra/internal/mocks"
)

// Transcribed from pulumi-azure-native-sdk v2.92.3, cache/v20241101
// (redis.go, accessPolicyAssignment.go, pulumiTypes.go).
var sdkInputs = map[string][]string{
	"RedisArgs": {"disableAccessKeyAuthentication", "enableNonSslPort", "identity", "location", "minimumTlsVersion",
		"name", "publicNetworkAccess", "redisConfiguration", "redisVersion", "replicasPerMaster", "replicasPerPrimary",
		"resourceGroupName", "shardCount", "sku", "staticIP", "subnetId", "tags", "tenantSettings", "updateChannel",
		"zonalAllocationPolicy", "zones"},
	"AccessPolicyAssignmentArgs": {"accessPolicyAssignmentName", "accessPolicyName", "cacheName", "objectId",
		"objectIdAlias", "resourceGroupName"},
	"SkuArgs": {"capacity", "family", "name"},
	"RedisCommonPropertiesRedisConfigurationArgs": {"aadEnabled", "aofBackupEnabled", "aofStorageConnectionString0",
		"aofStorageConnectionString1", "authnotrequired", "maxfragmentationmemoryReserved", "maxmemoryDelta",
		"maxmemoryPolicy", "maxmemoryReserved", "notifyKeyspaceEvents", "preferredDataPersistenceAuthMethod",
		"rdbBackupEnabled", "rdbBackupFrequency", "rdbBackupMaxSnapshotCount", "rdbStorageConnectionString",
		"storageSubscriptionId"},
}

func TestTokensAndAPIVersion(t *testing.T) {
	if APIVersion != "2024-11-01" {
		t.Errorf("APIVersion = %s", APIVersion)
	}
	if RedisToken != "azure-native:cache/v20241101:Redis" {
		t.Errorf("RedisToken = %s", RedisToken)
	}
	if AccessPolicyAssignmentToken != "azure-native:cache/v20241101:AccessPolicyAssignment" {
		t.Errorf("AccessPolicyAssignmentToken = %s", AccessPolicyAssignmentToken)
	}
}

func TestInputNamesAreTheSDKs(t *testing.T) {
	for name, in := range map[string]pulumi.Input{
		"RedisArgs":                  RedisArgs{},
		"AccessPolicyAssignmentArgs": AccessPolicyAssignmentArgs{},
		"SkuArgs":                    SkuArgs{},
		"RedisCommonPropertiesRedisConfigurationArgs": RedisCommonPropertiesRedisConfigurationArgs{},
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
		cache, err := NewRedis(ctx, "cache", &RedisArgs{
			ResourceGroupName:              pulumi.String("rg"),
			Sku:                            SkuArgs{Name: pulumi.String("Premium"), Family: pulumi.String("P"), Capacity: pulumi.Int(1)},
			DisableAccessKeyAuthentication: pulumi.Bool(true),
			RedisConfiguration:             RedisCommonPropertiesRedisConfigurationArgs{AadEnabled: pulumi.String("true")},
		})
		if err != nil {
			return err
		}
		_, err = NewAccessPolicyAssignment(ctx, "grant", &AccessPolicyAssignmentArgs{
			ResourceGroupName: pulumi.String("rg"),
			CacheName:         cache.Name,
			AccessPolicyName:  pulumi.String("Data Contributor"),
			ObjectId:          pulumi.String("00000000-0000-0000-0000-00000000000b"),
			ObjectIdAlias:     pulumi.String("api"),
		})
		return err
	}, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range m.Resources() {
		if r.Version != azurenative.ProviderVersion {
			t.Errorf("%s: provider version %q", r.Name, r.Version)
		}
		switch r.Name {
		case "cache":
			for path, want := range map[string]any{
				"sku.family": "P", "sku.capacity": 1.0, "disableAccessKeyAuthentication": true,
				"redisConfiguration.aadEnabled": "true", "enableNonSslPort": false, "publicNetworkAccess": "Enabled",
			} {
				if got := mocks.Lookup(r.Inputs, path); got != want {
					t.Errorf("cache: %s = %v, want %v", path, got, want)
				}
			}
			if r.Type != RedisToken {
				t.Errorf("cache token %s", r.Type)
			}
		case "grant":
			if r.Type != AccessPolicyAssignmentToken || mocks.Lookup(r.Inputs, "cacheName") != "cache" || mocks.Lookup(r.Inputs, "objectIdAlias") != "api" {
				t.Errorf("grant: %s %v", r.Type, r.Inputs)
			}
		}
	}
	if len(m.Resources()) != 2 {
		t.Errorf("registered %d resources, want 2", len(m.Resources()))
	}
}
