package plancheck

import (
	"slices"
	"testing"

	"github.com/sluicehq/sluice/infra/internal/mocks"
)

const testSchema = `{
 "resources": {
  "azure-native:cache:Thing": {"provider": "2.92.3", "properties": {
    "resourceGroupName": {"kind": "string"},
    "sku": {"kind": "object", "ref": "cache:SkuArgs"},
    "publicNetworkAccess": {"kind": "string", "enum": "cache:PublicNetworkAccess"},
    "zones": {"kind": "array", "items": {"kind": "string"}},
    "port": {"kind": "integer"}
  }, "required": ["resourceGroupName", "sku"]},
  "azure-native:redisenterprise:Thing": {"provider": "3.29.0", "properties": {"resourceGroupName": {"kind": "string"}}}
 },
 "types": {"cache:SkuArgs": {"properties": {"name": {"kind": "string", "enum": "cache:SkuName", "strict": true}, "capacity": {"kind": "integer"}}, "required": ["name"]}},
 "enums": {"cache:PublicNetworkAccess": ["Enabled", "Disabled"], "cache:SkuName": ["Balanced_B0", "Balanced_B1"]}
}`

func TestSchemaCatchesUnknownTokenPropertyEnumAndRequired(t *testing.T) {
	s, err := ParseSchema([]byte(testSchema))
	if err != nil {
		t.Fatal(err)
	}
	good := res("azure-native:cache:Thing", "good", map[string]any{
		"resourceGroupName": "rg", "sku": map[string]any{"name": "balanced_b1"}, "publicNetworkAccess": "Disabled", "zones": []any{"1"}, "port": 10000,
	}, nil)
	none(t, CheckSchema(s, []*mocks.Resource{good}))

	vs := CheckSchema(s, []*mocks.Resource{
		res("azure-native:cache:Unknown", "a", map[string]any{}, nil),
		res("azure-native:cache:Thing", "b", map[string]any{"resourceGroupName": "rg", "sku": map[string]any{"name": "Balanced_B0"}, "publicNetworkAcess": "Disabled"}, nil),
		res("azure-native:cache:Thing", "c", map[string]any{"resourceGroupName": "rg", "sku": map[string]any{"name": "Basic_C0"}, "publicNetworkAccess": "Off"}, nil),
		res("azure-native:cache:Thing", "d", map[string]any{"sku": map[string]any{"capacity": 2, "tier": "x"}}, nil),
		res("azure-native:cache:Thing", "e", map[string]any{"resourceGroupName": "rg", "sku": map[string]any{"name": "Balanced_B0"}, "port": 1.5, "zones": "1"}, nil),
	})
	want(t, vs, "schema", "Unknown a", "unknown type token")
	want(t, vs, "schema", "Thing b", "publicNetworkAcess: unknown property")
	want(t, vs, "schema", "Thing c", `"Basic_C0" is not a value of cache:SkuName`)
	want(t, vs, "schema", "Thing c", `"Off" is not a value of cache:PublicNetworkAccess`)
	want(t, vs, "schema", "Thing d", "resourceGroupName: required input missing")
	want(t, vs, "schema", "Thing d", "sku.name: required input missing")
	want(t, vs, "schema", "Thing d", "sku.tier: unknown property")
	want(t, vs, "schema", "Thing e", "port: want an integer")
	want(t, vs, "schema", "Thing e", "zones: want an array")
	if len(vs) != 9 {
		t.Errorf("want 9 violations, got %d:\n%s", len(vs), list(vs))
	}

	// A token only a later provider major knows, on a resource pinned to
	// the earlier one, is unknown to the provider that runs it.
	pinned := res("azure-native:redisenterprise:Thing", "v3", map[string]any{"resourceGroupName": "rg"}, nil)
	pinned.Version = "2.92.3"
	want(t, CheckSchema(s, []*mocks.Resource{pinned}), "schema", "exists only from azure-native 3.29.0 on")
	pinned.Version = "3.29.0"
	none(t, CheckSchema(s, []*mocks.Resource{pinned}))
}

// The committed subset covers the hand-made wrappers' tokens and Azure
// Managed Redis at 2025-07-01, with what the REST API requires there.
func TestCommittedSchemaCoversWrappersAndManagedRedis(t *testing.T) {
	s, err := AzureSchema()
	if err != nil {
		t.Fatal(err)
	}
	for _, token := range []string{
		"azure-native:documentdb:DatabaseAccount", "azure-native:documentdb:CassandraResourceCassandraKeyspace",
		"azure-native:documentdb:CassandraResourceCassandraTable",
		"azure-native:managedidentity:UserAssignedIdentity", "azure-native:managedidentity:FederatedIdentityCredential",
		"azure-native:cache/v20250401:RedisEnterprise", "azure-native:cache/v20250401:Database", "azure-native:cache/v20250401:AccessPolicyAssignment",
		"azure-native:redisenterprise:RedisEnterprise", "azure-native:redisenterprise:Database", "azure-native:redisenterprise:AccessPolicyAssignment",
	} {
		if _, ok := s.Resources[token]; !ok {
			t.Errorf("schema subset lacks %s", token)
		}
	}
	re := s.Resources["azure-native:redisenterprise:RedisEnterprise"]
	if re == nil {
		t.FailNow()
	}
	if re.APIVersion != "2025-07-01" || !slices.Contains(re.Required, "publicNetworkAccess") {
		t.Errorf("redisenterprise:RedisEnterprise: API %s, required %v; want 2025-07-01 with publicNetworkAccess required", re.APIVersion, re.Required)
	}
	if got := s.Enums[re.Properties["publicNetworkAccess"].Enum]; !slices.Equal(got, []string{"Enabled", "Disabled"}) && !slices.Equal(got, []string{"Disabled", "Enabled"}) {
		t.Errorf("publicNetworkAccess enum %v", got)
	}
	if sku := s.Resources["azure-native:cache/v20250401:RedisEnterprise"].Properties["sku"]; sku == nil || s.Types[sku.Ref] == nil || s.Types[sku.Ref].Properties["name"] == nil {
		t.Error("nested sku type of cache/v20250401:RedisEnterprise missing")
	}
}
