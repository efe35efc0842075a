package main

import (
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/bootstrap/trust"
)

const (
	testSubscription = "00000000-1111-2222-3333-444444444444"
	testTenant       = "99999999-8888-7777-6666-555555555555"
	testDeployer     = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	testCI           = "12345678-1234-1234-1234-123456789abc"
)

type registered struct {
	typ     string
	name    string
	inputs  resource.PropertyMap
	protect bool
}

// mocks records every registered resource and answers getClientConfig.
type mocks struct {
	mu        sync.Mutex
	resources []registered
}

// nameKeys says which input holds the Azure name of each resource type.
var nameKeys = map[string]string{
	"azure-native:resources:ResourceGroup":                     "resourceGroupName",
	"azure-native:storage:StorageAccount":                      "accountName",
	"azure-native:storage:BlobServiceProperties":               "blobServicesName",
	"azure-native:storage:BlobContainer":                       "containerName",
	"azure-native:keyvault:Vault":                              "vaultName",
	"azure-native:keyvault:Key":                                "keyName",
	"azure-native:authorization:RoleAssignment":                "roleAssignmentName",
	"azure-native:authorization:RoleDefinition":                "roleName",
	"azure-native:containerregistry:Registry":                  "registryName",
	"azure-native:managedidentity:UserAssignedIdentity":        "resourceName",
	"azure-native:managedidentity:FederatedIdentityCredential": "federatedIdentityCredentialResourceName",
	"azure-native:authorization:getClientConfig":               "",
	"azure-native:storage:getStorageAccount":                   "",
	"azure-native:resources:getResourceGroup":                  "",
	"azure-native:keyvault:getVault":                           "",
	"azure-native:authorization:getRoleAssignment":             "",
	"azure-native:storage:listStorageAccountKeys":              "",
	"azure-native:storage:getBlobServiceProperties":            "",
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	outs := args.Inputs.Copy()
	if key := nameKeys[args.TypeToken]; key != "" {
		if v, ok := args.Inputs[resource.PropertyKey(key)]; ok && v.IsString() {
			outs["name"] = v
		} else {
			outs["name"] = resource.NewStringProperty(args.Name)
		}
	}
	switch args.TypeToken {
	case "azure-native:managedidentity:UserAssignedIdentity":
		outs["principalId"] = resource.NewStringProperty("principal-" + args.Name)
		outs["clientId"] = resource.NewStringProperty("client-" + args.Name)
	case "azure-native:containerregistry:Registry":
		outs["loginServer"] = resource.NewStringProperty(args.Name + ".azurecr.io")
	}
	protect := false
	if args.RegisterRPC != nil {
		protect = args.RegisterRPC.GetProtect()
	}
	m.mu.Lock()
	m.resources = append(m.resources, registered{typ: args.TypeToken, name: args.Name, inputs: args.Inputs, protect: protect})
	m.mu.Unlock()
	return mockID(args.TypeToken, args.Name), outs, nil
}

// mockID is the id the mocks give a resource: unique per type and name.
func mockID(typ, name string) string {
	return "/subscriptions/" + testSubscription + "/mock/" + typ + "/" + name
}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	if args.Token == "azure-native:authorization:getClientConfig" {
		return resource.NewPropertyMapFromMap(map[string]any{
			"clientId":       "client",
			"objectId":       testDeployer,
			"subscriptionId": testSubscription,
			"tenantId":       testTenant,
		}), nil
	}
	return resource.PropertyMap{}, nil
}

func (m *mocks) byType(typ string) []registered {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []registered
	for _, r := range m.resources {
		if r.typ == typ {
			out = append(out, r)
		}
	}
	return out
}

func (m *mocks) one(t *testing.T, typ string) registered {
	t.Helper()
	rs := m.byType(typ)
	if len(rs) != 1 {
		t.Fatalf("%d resources of type %s, want 1", len(rs), typ)
	}
	return rs[0]
}

func withConfig(cfg map[string]string) pulumi.RunOption {
	return func(info *pulumi.RunInfo) { info.Config = cfg }
}

// get reads a nested input such as "properties.enableRbacAuthorization".
func get(t *testing.T, m resource.PropertyMap, path string) resource.PropertyValue {
	t.Helper()
	parts := strings.Split(path, ".")
	v := resource.NewObjectProperty(m)
	for _, p := range parts {
		if !v.IsObject() {
			t.Fatalf("input %s: %s is not an object", path, p)
		}
		next, ok := v.ObjectValue()[resource.PropertyKey(p)]
		if !ok {
			t.Fatalf("input %s is not set", path)
		}
		v = next
	}
	return v
}

func wantBool(t *testing.T, m resource.PropertyMap, path string, want bool) {
	t.Helper()
	v := get(t, m, path)
	if !v.IsBool() || v.BoolValue() != want {
		t.Errorf("%s = %v, want %v", path, v, want)
	}
}

func wantString(t *testing.T, m resource.PropertyMap, path, want string) {
	t.Helper()
	v := get(t, m, path)
	if !v.IsString() || v.StringValue() != want {
		t.Errorf("%s = %v, want %q", path, v, want)
	}
}

func wantNumber(t *testing.T, m resource.PropertyMap, path string, want float64) {
	t.Helper()
	v := get(t, m, path)
	if !v.IsNumber() || v.NumberValue() != want {
		t.Errorf("%s = %v, want %v", path, v, want)
	}
}

// Subscriptions of the stack levels in the tests, all different from the
// bootstrap's own.
var testSubs = map[trust.Level]string{
	trust.Review:  "10000000-0000-0000-0000-00000000000a",
	trust.Dev:     "20000000-0000-0000-0000-00000000000b",
	trust.Staging: "30000000-0000-0000-0000-00000000000c",
	trust.Prod:    "40000000-0000-0000-0000-00000000000d",
}

const testRepo = "sluicehq/sluice"

// baseConfig is the smallest valid configuration plus extra.
func baseConfig(extra map[string]string) map[string]string {
	subs := `{"review":"` + testSubs[trust.Review] + `","dev":"` + testSubs[trust.Dev] +
		`","staging":"` + testSubs[trust.Staging] + `","prod":"` + testSubs[trust.Prod] + `"}`
	cfg := map[string]string{
		"sluice-bootstrap:githubRepository": testRepo,
		"sluice-bootstrap:subscriptions":    subs,
	}
	for k, v := range extra {
		cfg["sluice-bootstrap:"+k] = v
	}
	return cfg
}

func run(t *testing.T, cfg map[string]string) (*mocks, *stateBackend) {
	t.Helper()
	m := &mocks{}
	var out *stateBackend
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		b, err := deploy(ctx)
		out = b
		return err
	}, pulumi.WithMocks("sluice-bootstrap", "prod", m), withConfig(cfg))
	if err != nil {
		t.Fatalf("program: %v", err)
	}
	return m, out
}

// await resolves an output inside a finished mock run.
func await(t *testing.T, o pulumi.StringOutput) string {
	t.Helper()
	ch := make(chan string, 1)
	o.ApplyT(func(v string) string { ch <- v; return v })
	return <-ch
}

func TestBootstrapSecurity(t *testing.T) {
	m, b := run(t, baseConfig(map[string]string{"principalIds": `["` + testCI + `"]`}))

	sfx := suffix(testSubscription)
	account := m.one(t, "azure-native:storage:StorageAccount")
	wantString(t, account.inputs, "accountName", "sluicestate"+sfx)
	wantString(t, account.inputs, "minimumTlsVersion", "TLS1_2")
	wantBool(t, account.inputs, "allowBlobPublicAccess", false)
	wantBool(t, account.inputs, "allowSharedKeyAccess", false)
	wantBool(t, account.inputs, "enableHttpsTrafficOnly", true)
	wantString(t, account.inputs, "kind", "StorageV2")
	if !account.protect {
		t.Error("storage account is not protected")
	}

	blob := m.one(t, "azure-native:storage:BlobServiceProperties")
	wantBool(t, blob.inputs, "isVersioningEnabled", true)
	wantBool(t, blob.inputs, "deleteRetentionPolicy.enabled", true)
	wantNumber(t, blob.inputs, "deleteRetentionPolicy.days", 30)
	wantBool(t, blob.inputs, "containerDeleteRetentionPolicy.enabled", true)

	containers := m.byType("azure-native:storage:BlobContainer")
	keys := m.byType("azure-native:keyvault:Key")
	if len(containers) != len(trust.StateLevels) || len(keys) != len(trust.StateLevels) {
		t.Fatalf("%d containers and %d keys, want one of each per stack level %v", len(containers), len(keys), trust.StateLevels)
	}
	for _, c := range containers {
		wantString(t, c.inputs, "publicAccess", "None")
		if !c.protect {
			t.Errorf("state container %s is not protected", c.name)
		}
	}
	for _, k := range keys {
		wantString(t, k.inputs, "properties.kty", "RSA")
		wantNumber(t, k.inputs, "properties.keySize", 3072)
		if !k.protect {
			t.Errorf("state key %s is not protected", k.name)
		}
	}

	vault := m.one(t, "azure-native:keyvault:Vault")
	wantString(t, vault.inputs, "vaultName", "sluice-state-"+sfx)
	wantBool(t, vault.inputs, "properties.enableRbacAuthorization", true)
	wantBool(t, vault.inputs, "properties.enableSoftDelete", true)
	wantBool(t, vault.inputs, "properties.enablePurgeProtection", true)
	wantString(t, vault.inputs, "properties.tenantId", testTenant)
	if !vault.protect {
		t.Error("key vault is not protected")
	}

	// Operators keep full access to the state account and vault.
	grants := map[string]bool{}
	for _, r := range m.byType("azure-native:authorization:RoleAssignment") {
		def := get(t, r.inputs, "roleDefinitionId").StringValue()
		grants[get(t, r.inputs, "principalId").StringValue()+" "+def[strings.LastIndexByte(def, '/')+1:]] = true
	}
	for _, p := range []string{testDeployer, testCI} {
		for _, role := range []string{roleStorageBlobDataContributor, roleKeyVaultCryptoUser} {
			if !grants[p+" "+role] {
				t.Errorf("operator %s lacks role %s", p, role)
			}
		}
	}

	for _, l := range trust.StateLevels {
		if got, want := await(t, b.BackendURLs[l]), "azblob://state-"+string(l)+"?storage_account=sluicestate"+sfx; got != want {
			t.Errorf("backend url of %s = %q, want %q", l, got, want)
		}
		if got, want := await(t, b.SecretsProviders[l]), "azurekeyvault://sluice-state-"+sfx+".vault.azure.net/keys/state-"+string(l); got != want {
			t.Errorf("secrets provider of %s = %q, want %q", l, got, want)
		}
	}
}

func TestBootstrapConfigOverrides(t *testing.T) {
	m := &mocks{}
	err := pulumi.RunErr(program, pulumi.WithMocks("sluice-bootstrap", "prod", m), withConfig(baseConfig(map[string]string{
		"storageAccountName": "acmestate01",
		"keyVaultName":       "acme-state-kv",
		"location":           "northeurope",
		"softDeleteDays":     "14",
		"buildRegistryName":  "acmebuild01",
	})))
	if err != nil {
		t.Fatalf("program: %v", err)
	}
	wantString(t, m.one(t, "azure-native:storage:StorageAccount").inputs, "accountName", "acmestate01")
	wantString(t, m.one(t, "azure-native:keyvault:Vault").inputs, "vaultName", "acme-state-kv")
	wantString(t, m.one(t, "azure-native:resources:ResourceGroup").inputs, "location", "northeurope")
	wantString(t, m.one(t, "azure-native:containerregistry:Registry").inputs, "registryName", "acmebuild01")
	wantNumber(t, m.one(t, "azure-native:storage:BlobServiceProperties").inputs, "deleteRetentionPolicy.days", 14)
	operators := 0
	for _, r := range m.byType("azure-native:authorization:RoleAssignment") {
		if get(t, r.inputs, "principalId").StringValue() == testDeployer {
			operators++
		}
	}
	if operators != 2 {
		t.Fatalf("%d operator role assignments, want 2 (deployer only)", operators)
	}
}

func TestBootstrapRejectsBadConfig(t *testing.T) {
	shared := `{"review":"` + testSubs[trust.Review] + `","dev":"` + testSubs[trust.Dev] +
		`","staging":"` + testSubs[trust.Staging] + `","prod":"` + strings.ToUpper(testSubs[trust.Staging]) + `"}`
	for key, c := range map[string]struct{ value, want string }{
		"storageAccountName": {"Not_Valid", "storageAccountName"},
		"keyVaultName":       {"-bad", "keyVaultName"},
		"softDeleteDays":     {"0", "softDeleteDays"},
		"principalIds":       {`["not-a-guid"]`, "principalIds"},
		"githubRepository":   {"no-slash", "githubRepository"},
		"buildRegistryName":  {"a-b", "buildRegistryName"},
		"subscriptions":      {`{"dev":"` + testSubs[trust.Dev] + `"}`, "subscriptions.review"},
	} {
		m := &mocks{}
		err := pulumi.RunErr(program, pulumi.WithMocks("sluice-bootstrap", "prod", m), withConfig(baseConfig(map[string]string{key: c.value})))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%s: error %v", key, c.value, err)
		}
		if len(m.resources) != 0 {
			t.Errorf("%s=%s: resources registered despite bad config", key, c.value)
		}
	}
	// prod sharing staging's subscription (in another case) would let one
	// level's subscription role reach the other.
	m := &mocks{}
	err := pulumi.RunErr(program, pulumi.WithMocks("sluice-bootstrap", "prod", m), withConfig(baseConfig(map[string]string{"subscriptions": shared})))
	if err == nil || !strings.Contains(err.Error(), "staging and prod share subscription") {
		t.Errorf("shared subscription: error %v", err)
	}
	if len(m.resources) != 0 {
		t.Error("resources registered despite a shared subscription")
	}
}
