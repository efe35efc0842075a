package main

import (
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
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
	"azure-native:resources:ResourceGroup":          "resourceGroupName",
	"azure-native:storage:StorageAccount":           "accountName",
	"azure-native:storage:BlobServiceProperties":    "blobServicesName",
	"azure-native:storage:BlobContainer":            "containerName",
	"azure-native:keyvault:Vault":                   "vaultName",
	"azure-native:keyvault:Key":                     "keyName",
	"azure-native:authorization:RoleAssignment":     "roleAssignmentName",
	"azure-native:authorization:getClientConfig":    "",
	"azure-native:storage:getStorageAccount":        "",
	"azure-native:resources:getResourceGroup":       "",
	"azure-native:keyvault:getVault":                "",
	"azure-native:authorization:getRoleAssignment":  "",
	"azure-native:storage:listStorageAccountKeys":   "",
	"azure-native:storage:getBlobServiceProperties": "",
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
	protect := false
	if args.RegisterRPC != nil {
		protect = args.RegisterRPC.GetProtect()
	}
	m.mu.Lock()
	m.resources = append(m.resources, registered{typ: args.TypeToken, name: args.Name, inputs: args.Inputs, protect: protect})
	m.mu.Unlock()
	return "/subscriptions/" + testSubscription + "/mock/" + args.Name, outs, nil
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

func TestBootstrapSecurity(t *testing.T) {
	m := &mocks{}
	var backendURL, secretsProvider string
	var wg sync.WaitGroup
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		b, err := deploy(ctx)
		if err != nil {
			return err
		}
		wg.Add(1)
		pulumi.All(b.BackendURL, b.SecretsProvider).ApplyT(func(v []any) error {
			backendURL, secretsProvider = v[0].(string), v[1].(string)
			wg.Done()
			return nil
		})
		return nil
	}, pulumi.WithMocks("sluice-bootstrap", "prod", m), withConfig(map[string]string{
		"sluice-bootstrap:principalIds": `["` + testCI + `"]`,
	}))
	if err != nil {
		t.Fatalf("program: %v", err)
	}
	wg.Wait()

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

	container := m.one(t, "azure-native:storage:BlobContainer")
	wantString(t, container.inputs, "containerName", "state")
	wantString(t, container.inputs, "publicAccess", "None")
	if !container.protect {
		t.Error("state container is not protected")
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

	key := m.one(t, "azure-native:keyvault:Key")
	wantString(t, key.inputs, "properties.kty", "RSA")
	wantNumber(t, key.inputs, "properties.keySize", 3072)
	if !key.protect {
		t.Error("state key is not protected")
	}

	roles := m.byType("azure-native:authorization:RoleAssignment")
	if len(roles) != 4 {
		t.Fatalf("%d role assignments, want 4 (two roles for deployer and CI)", len(roles))
	}
	grants := map[string]bool{}
	for _, r := range roles {
		def := get(t, r.inputs, "roleDefinitionId").StringValue()
		grants[get(t, r.inputs, "principalId").StringValue()+" "+def[strings.LastIndexByte(def, '/')+1:]] = true
		if !strings.HasPrefix(def, "/subscriptions/"+testSubscription+"/providers/Microsoft.Authorization/roleDefinitions/") {
			t.Errorf("role definition id %q", def)
		}
	}
	for _, p := range []string{testDeployer, testCI} {
		for _, role := range []string{roleStorageBlobDataContributor, roleKeyVaultCryptoUser} {
			if !grants[p+" "+role] {
				t.Errorf("principal %s lacks role %s", p, role)
			}
		}
	}

	if want := "azblob://state?storage_account=sluicestate" + sfx; backendURL != want {
		t.Errorf("backendUrl = %q, want %q", backendURL, want)
	}
	if want := "azurekeyvault://sluice-state-" + sfx + ".vault.azure.net/keys/pulumi-state"; secretsProvider != want {
		t.Errorf("secretsProvider = %q, want %q", secretsProvider, want)
	}
}

func TestBootstrapConfigOverrides(t *testing.T) {
	m := &mocks{}
	err := pulumi.RunErr(program, pulumi.WithMocks("sluice-bootstrap", "prod", m), withConfig(map[string]string{
		"sluice-bootstrap:storageAccountName": "acmestate01",
		"sluice-bootstrap:keyVaultName":       "acme-state-kv",
		"sluice-bootstrap:location":           "northeurope",
		"sluice-bootstrap:softDeleteDays":     "14",
	}))
	if err != nil {
		t.Fatalf("program: %v", err)
	}
	wantString(t, m.one(t, "azure-native:storage:StorageAccount").inputs, "accountName", "acmestate01")
	wantString(t, m.one(t, "azure-native:keyvault:Vault").inputs, "vaultName", "acme-state-kv")
	wantString(t, m.one(t, "azure-native:resources:ResourceGroup").inputs, "location", "northeurope")
	wantNumber(t, m.one(t, "azure-native:storage:BlobServiceProperties").inputs, "deleteRetentionPolicy.days", 14)
	if n := len(m.byType("azure-native:authorization:RoleAssignment")); n != 2 {
		t.Fatalf("%d role assignments, want 2 (deployer only)", n)
	}
}

func TestBootstrapRejectsBadConfig(t *testing.T) {
	for key, value := range map[string]string{
		"storageAccountName": "Not_Valid",
		"keyVaultName":       "-bad",
		"softDeleteDays":     "0",
		"principalIds":       `["not-a-guid"]`,
	} {
		m := &mocks{}
		err := pulumi.RunErr(program, pulumi.WithMocks("sluice-bootstrap", "prod", m), withConfig(map[string]string{
			"sluice-bootstrap:" + key: value,
		}))
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s=%s: error %v", key, value, err)
		}
		if len(m.resources) != 0 {
			t.Errorf("%s=%s: resources registered despite bad config", key, value)
		}
	}
}
