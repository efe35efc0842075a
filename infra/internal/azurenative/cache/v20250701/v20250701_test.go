package v20250701

import (
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/azurenative"
	"github.com/sluicehq/sluice/infra/internal/mocks"
)

// The 2025-07-01 inputs of Microsoft.Cache/redisEnterprise, .../databases
// and .../databases/accessPolicyAssignments, under the names the azure-native
// generator gives them (path parameters at the top level, body properties
// flattened), from the REST API spec (redisenterprise.json, 2025-07-01).
var specInputs = map[string][]string{
	"RedisEnterpriseArgs": {"clusterName", "encryption", "highAvailability", "identity", "location",
		"minimumTlsVersion", "publicNetworkAccess", "resourceGroupName", "sku", "tags", "zones"},
	"DatabaseArgs": {"accessKeysAuthentication", "clientProtocol", "clusterName", "clusteringPolicy", "databaseName",
		"deferUpgrade", "evictionPolicy", "geoReplication", "modules", "persistence", "port", "resourceGroupName"},
	"AccessPolicyAssignmentArgs": {"accessPolicyAssignmentName", "accessPolicyName", "clusterName", "databaseName",
		"resourceGroupName", "user"},
	"EnterpriseSkuArgs":                        {"capacity", "name"},
	"AccessPolicyAssignmentPropertiesUserArgs": {"objectId"},
}

func TestTokenAndAPIVersion(t *testing.T) {
	if APIVersion != "2025-07-01" {
		t.Errorf("APIVersion = %s; versions before 2025-07-01 retire", APIVersion)
	}
	// The generic resource of the pinned SDK module (resources/v2), which
	// the provider v2.92.3 serves.
	if Token != "azure-native:resources:Resource" || mocks.GenericToken != Token {
		t.Errorf("Token = %s", Token)
	}
}

func TestInputNamesAreTheAPIs(t *testing.T) {
	for name, in := range map[string]pulumi.Input{
		"RedisEnterpriseArgs":                      RedisEnterpriseArgs{},
		"DatabaseArgs":                             DatabaseArgs{},
		"AccessPolicyAssignmentArgs":               AccessPolicyAssignmentArgs{},
		"EnterpriseSkuArgs":                        EnterpriseSkuArgs{},
		"AccessPolicyAssignmentPropertiesUserArgs": AccessPolicyAssignmentPropertiesUserArgs{},
	} {
		for _, n := range azurenative.InputNames(in) {
			if !slices.Contains(specInputs[name], n) {
				t.Errorf("%s: input %q is not an API input", name, n)
			}
		}
		if err := azurenative.CheckArgs(in); err != nil {
			t.Error(err)
		}
	}
}

func TestRegistration(t *testing.T) {
	m, err := mocks.Run(func(ctx *pulumi.Context) error {
		if _, err := NewRedisEnterprise(ctx, "c", &RedisEnterpriseArgs{ResourceGroupName: pulumi.String("rg"), ClusterName: pulumi.String("c"),
			Sku: EnterpriseSkuArgs{Name: pulumi.String("Balanced_B0")}}); err == nil {
			t.Error("cluster without publicNetworkAccess accepted (required from 2025-07-01)")
		}
		if _, err := NewRedisEnterprise(ctx, "c", &RedisEnterpriseArgs{ResourceGroupName: pulumi.String("rg"), PublicNetworkAccess: pulumi.String("Disabled"),
			Sku: EnterpriseSkuArgs{Name: pulumi.String("Balanced_B0")}}); err == nil {
			t.Error("cluster without a name accepted (the generic resource is not auto-named)")
		}
		if _, err := NewAccessPolicyAssignment(ctx, "x", &AccessPolicyAssignmentArgs{ResourceGroupName: pulumi.String("rg")}); err == nil {
			t.Error("assignment without name, policy, cluster, database and user accepted")
		}
		cluster, err := NewRedisEnterprise(ctx, "cluster", &RedisEnterpriseArgs{
			ClusterName:         pulumi.String("redis-x"),
			ResourceGroupName:   pulumi.String("rg"),
			Location:            pulumi.String("westeurope"),
			Sku:                 EnterpriseSkuArgs{Name: pulumi.String("Balanced_B0")},
			MinimumTlsVersion:   pulumi.String("1.2"),
			HighAvailability:    pulumi.String("Disabled"),
			PublicNetworkAccess: pulumi.String("Disabled"),
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
			AccessPolicyAssignmentName: pulumi.String("api"),
			ResourceGroupName:          pulumi.String("rg"),
			ClusterName:                cluster.Name,
			DatabaseName:               db.Name,
			AccessPolicyName:           pulumi.String("default"),
			User:                       AccessPolicyAssignmentPropertiesUserArgs{ObjectId: pulumi.String("00000000-0000-0000-0000-00000000000a")},
		})
		return err
	}, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	common := map[string]any{"apiVersion": "2025-07-01", "resourceProviderNamespace": "Microsoft.Cache", "resourceGroupName": "rg"}
	want := map[string]map[string]any{
		"cluster": {"resourceType": "redisEnterprise", "parentResourcePath": "", "resourceName": "redis-x", "location": "westeurope",
			"sku.name": "Balanced_B0", "properties.minimumTlsVersion": "1.2", "properties.highAvailability": "Disabled",
			"properties.publicNetworkAccess": "Disabled"},
		"db": {"resourceType": "databases", "parentResourcePath": "redisEnterprise/redis-x", "resourceName": "default",
			"properties.accessKeysAuthentication": "Disabled", "properties.clientProtocol": "Encrypted", "properties.port": 10000.0},
		"grant": {"resourceType": "accessPolicyAssignments", "parentResourcePath": "redisEnterprise/redis-x/databases/default",
			"resourceName": "api", "properties.accessPolicyName": "default", "properties.user.objectId": "00000000-0000-0000-0000-00000000000a"},
	}
	seen := 0
	for _, r := range m.Resources() {
		w, ok := want[r.Name]
		if !ok {
			continue
		}
		seen++
		if r.Type != Token || r.Version != azurenative.ProviderVersion {
			t.Errorf("%s: token %s version %s, want %s %s", r.Name, r.Type, r.Version, Token, azurenative.ProviderVersion)
		}
		for path, v := range common {
			w[path] = v
		}
		for _, mm := range mocks.Mismatches(r, w) {
			t.Error(mm)
		}
		if r.Name == "db" {
			if _, ok := r.Inputs["properties"].ObjectValue()["evictionPolicy"]; ok {
				t.Error("an unset input reached the body")
			}
		}
	}
	if seen != len(want) {
		t.Errorf("registered %d of %d resources", seen, len(want))
	}
}

func TestHostNameIsTheClustersProperty(t *testing.T) {
	host := make(chan string, 1)
	_, err := mocks.Run(func(ctx *pulumi.Context) error {
		c, err := NewRedisEnterprise(ctx, "cluster", &RedisEnterpriseArgs{
			ClusterName: pulumi.String("redis-x"), ResourceGroupName: pulumi.String("rg"), Location: pulumi.String("westeurope"),
			Sku: EnterpriseSkuArgs{Name: pulumi.String("Balanced_B0")}, PublicNetworkAccess: pulumi.String("Enabled"),
		})
		if err != nil {
			return err
		}
		c.HostName.ApplyT(func(h string) string { host <- h; return h })
		return nil
	}, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := <-host; got != "redis-x.westeurope.redis.azure.net" {
		t.Errorf("HostName = %q", got)
	}
}
