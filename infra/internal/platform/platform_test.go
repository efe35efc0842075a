package platform

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/sluicehq/sluice/infra/internal/azurenative"
	"github.com/sluicehq/sluice/infra/internal/components/base"
	"github.com/sluicehq/sluice/infra/internal/components/cosmos"
	"github.com/sluicehq/sluice/infra/internal/components/identity"
	"github.com/sluicehq/sluice/infra/internal/components/privatelink"
	"github.com/sluicehq/sluice/infra/internal/config"
	"github.com/sluicehq/sluice/infra/internal/mocks"
	"github.com/sluicehq/sluice/workloads/contract"
)

var stacks = []string{"dev", "staging", "prod"}

// Type tokens the rules below are about.
const (
	tResourceGroup = "azure-native:resources:ResourceGroup"
	tWorkspace     = "azure-native:operationalinsights:Workspace"
	tVNet          = "azure-native:network:VirtualNetwork"
	tSubnet        = "azure-native:network:Subnet"
	tEndpoint      = "azure-native:network:PrivateEndpoint"
	tZone          = "azure-native:network:PrivateZone"
	tZoneLink      = "azure-native:network:VirtualNetworkLink"
	tZoneGroup     = "azure-native:network:PrivateDnsZoneGroup"
	tVault         = "azure-native:keyvault:Vault"
	tSecret        = "azure-native:keyvault:Secret"
	tScaleSet      = "azure-native:compute:VirtualMachineScaleSet"
	tNamespace     = "azure-native:eventhub:Namespace"
	tHub           = "azure-native:eventhub:EventHub"
	tConsumerGroup = "azure-native:eventhub:ConsumerGroup"
	tAccount       = "azure-native:documentdb:DatabaseAccount"
	tKeyspace      = "azure-native:documentdb:CassandraResourceCassandraKeyspace"
	tTable         = "azure-native:documentdb:CassandraResourceCassandraTable"
	tRegistry      = "azure-native:containerregistry:Registry"
	tStorage       = "azure-native:storage:StorageAccount"
	tContainer     = "azure-native:storage:BlobContainer"
	tServer        = "azure-native:dbforpostgresql/v20240801:Server"
	tPgConfig      = "azure-native:dbforpostgresql/v20240801:Configuration"
	tPgDatabase    = "azure-native:dbforpostgresql/v20240801:Database"
	tPgAdmin       = "azure-native:dbforpostgresql/v20240801:Administrator"
	tPgFirewall    = "azure-native:dbforpostgresql/v20240801:FirewallRule"
	// Azure Managed Redis is written with azure-native's generic resource
	// (API 2025-07-01, see azurenative/cache/v20250701): mocks.GenericType
	// tokens select it by ARM type.
	tRedis         = "azure-native:resources:Resource#Microsoft.Cache/redisEnterprise"
	tRedisDB       = "azure-native:resources:Resource#Microsoft.Cache/redisEnterprise/databases"
	tRedisAccess   = "azure-native:resources:Resource#Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments"
	tClassic       = "azure-native:cache/v20241101:Redis"
	tClassicAccess = "azure-native:cache/v20241101:AccessPolicyAssignment"
	tIdentity      = "azure-native:managedidentity:UserAssignedIdentity"
	tFederation    = "azure-native:managedidentity:FederatedIdentityCredential"
	tCluster       = "azure-native:containerservice/v20250101:ManagedCluster"
	tPool          = "azure-native:containerservice/v20250101:AgentPool"
	tRole          = "azure-native:authorization:RoleAssignment"
	tLock          = "azure-native:authorization:ManagementLockByScope"
	tDiagnostics   = "azure-native:insights:DiagnosticSetting"
)

// dataService is a data service and how it is reached privately.
type dataService struct {
	token    string
	services []privatelink.Service
	// closed reports whether the service's public network access is off.
	closed func(r *mocks.Resource) bool
}

var dataServices = []dataService{
	{tNamespace, []privatelink.Service{{GroupID: "namespace", Zone: "privatelink.servicebus.windows.net"}},
		func(r *mocks.Resource) bool { return str(r.Inputs, "publicNetworkAccess") == "Disabled" }},
	{tAccount, []privatelink.Service{{GroupID: "Cassandra", Zone: "privatelink.cassandra.cosmos.azure.com"}},
		func(r *mocks.Resource) bool { return str(r.Inputs, "publicNetworkAccess") == "Disabled" }},
	{tServer, []privatelink.Service{{GroupID: "postgresqlServer", Zone: "privatelink.postgres.database.azure.com"}},
		func(r *mocks.Resource) bool { return str(r.Inputs, "network.publicNetworkAccess") == "Disabled" }},
	{tRedis, []privatelink.Service{{GroupID: "redisEnterprise", Zone: "privatelink.redis.azure.net"}},
		func(r *mocks.Resource) bool { return str(r.Inputs, "properties.publicNetworkAccess") == "Disabled" }},
	{tVault, []privatelink.Service{{GroupID: "vault", Zone: "privatelink.vaultcore.azure.net"}},
		func(r *mocks.Resource) bool {
			return str(r.Inputs, "properties.publicNetworkAccess") == "Disabled" && str(r.Inputs, "properties.networkAcls.defaultAction") == "Deny"
		}},
	{tRegistry, []privatelink.Service{{GroupID: "registry", Zone: "privatelink.azurecr.io"}},
		func(r *mocks.Resource) bool { return str(r.Inputs, "publicNetworkAccess") == "Disabled" }},
	{tStorage, []privatelink.Service{{GroupID: "dfs", Zone: "privatelink.dfs.core.windows.net"}, {GroupID: "blob", Zone: "privatelink.blob.core.windows.net"}},
		func(r *mocks.Resource) bool {
			return str(r.Inputs, "publicNetworkAccess") == "Disabled" && str(r.Inputs, "networkRuleSet.defaultAction") == "Deny"
		}},
}

func TestPrivateNetworking(t *testing.T) {
	for _, stack := range stacks {
		r := runStack(t, stack, nil)
		private := stack != "dev"
		if !private {
			if n := len(r.all(tEndpoint)) + len(r.all(tZone)) + len(r.all(tZoneGroup)); n != 0 {
				t.Errorf("dev has %d private link resources, want none", n)
			}
			continue
		}
		vnet := r.one(tVNet)
		var endpointsSubnet string
		for _, s := range r.all(tSubnet) {
			if str(s.Inputs, "subnetName") == "private-endpoints" {
				endpointsSubnet = s.ID
			}
		}
		for _, ds := range dataServices {
			svc := r.one(ds.token)
			if !ds.closed(svc) {
				t.Errorf("%s: %s %s keeps public network access: %v", stack, svc.Type, svc.Name, svc.Inputs)
			}
			for _, want := range ds.services {
				r.checkPrivateLink(svc, want, vnet.ID, endpointsSubnet)
			}
		}
	}
}

// checkPrivateLink finds the private endpoint of svc for one group id and
// checks its subnet, DNS zone, zone link and zone group.
func (r *run) checkPrivateLink(svc *mocks.Resource, want privatelink.Service, vnetID, subnetID string) {
	r.t.Helper()
	var pe *mocks.Resource
	for _, e := range r.all(tEndpoint) {
		if str(e.Inputs, "privateLinkServiceConnections.0.privateLinkServiceId") == svc.ID &&
			slices.Equal(strs(e.Inputs, "privateLinkServiceConnections.0.groupIds"), []string{want.GroupID}) {
			pe = e
		}
	}
	if pe == nil {
		r.t.Errorf("%s: no private endpoint with group %s for %s", r.stack, want.GroupID, svc.Name)
		return
	}
	if str(pe.Inputs, "subnet.id") != subnetID {
		r.t.Errorf("%s: endpoint %s is in subnet %s, want the private endpoints subnet", r.stack, pe.Name, str(pe.Inputs, "subnet.id"))
	}
	var zone *mocks.Resource
	for _, z := range r.all(tZone) {
		if str(z.Inputs, "privateZoneName") == want.Zone {
			zone = z
		}
	}
	if zone == nil {
		r.t.Errorf("%s: no private DNS zone %s", r.stack, want.Zone)
		return
	}
	linked := slices.ContainsFunc(r.all(tZoneLink), func(l *mocks.Resource) bool {
		return str(l.Inputs, "privateZoneName") == want.Zone && str(l.Inputs, "virtualNetwork.id") == vnetID &&
			mocks.Lookup(l.Inputs, "registrationEnabled") == false
	})
	if !linked {
		r.t.Errorf("%s: zone %s is not linked to the VNet", r.stack, want.Zone)
	}
	grouped := 0
	for _, g := range r.all(tZoneGroup) {
		if str(g.Inputs, "privateEndpointName") == pe.Name {
			grouped++
			if str(g.Inputs, "privateDnsZoneConfigs.0.privateDnsZoneId") != zone.ID {
				r.t.Errorf("%s: zone group of %s points at %s, want %s", r.stack, pe.Name, str(g.Inputs, "privateDnsZoneConfigs.0.privateDnsZoneId"), zone.ID)
			}
		}
	}
	if grouped != 1 {
		r.t.Errorf("%s: endpoint %s has %d DNS zone groups, want 1", r.stack, pe.Name, grouped)
	}
}

func TestPublicAccessInDev(t *testing.T) {
	r := runStack(t, "dev", nil)
	for _, ds := range dataServices {
		if svc := r.one(ds.token); ds.closed(svc) {
			t.Errorf("dev: %s is closed although dev has no private endpoints to reach it", svc.Name)
		}
	}
	fw := r.one(tPgFirewall)
	r.expect(fw, map[string]any{"startIpAddress": "0.0.0.0", "endIpAddress": "0.0.0.0"})
	if len(runStack(t, "prod", nil).all(tPgFirewall)) != 0 {
		t.Error("prod has a PostgreSQL firewall rule; it is reached privately only")
	}
}

func TestTLSAndAuthentication(t *testing.T) {
	for _, stack := range stacks {
		r := runStack(t, stack, nil)
		r.expect(r.one(tNamespace), map[string]any{"minimumTlsVersion": "1.2", "disableLocalAuth": true, "kafkaEnabled": true})
		r.expect(r.one(tAccount), map[string]any{"minimalTlsVersion": "Tls12", "disableKeyBasedMetadataWriteAccess": true})
		r.expect(r.one(tStorage), map[string]any{"minimumTlsVersion": "TLS1_2", "enableHttpsTrafficOnly": true,
			"allowSharedKeyAccess": false, "allowBlobPublicAccess": false})
		r.expect(r.one(tRedis), map[string]any{"properties.minimumTlsVersion": "1.2", "apiVersion": "2025-07-01"})
		r.expect(r.one(tRedisDB), map[string]any{"properties.clientProtocol": "Encrypted", "properties.accessKeysAuthentication": "Disabled",
			"properties.port": 10000.0, "apiVersion": "2025-07-01"})
		r.expect(r.one(tServer), map[string]any{"authConfig.activeDirectoryAuth": "Enabled", "authConfig.passwordAuth": "Disabled"})
		r.expect(r.one(tVault), map[string]any{"properties.enableRbacAuthorization": true, "properties.enableSoftDelete": true})
		r.expect(r.one(tRegistry), map[string]any{"adminUserEnabled": false})
		r.expect(r.one(tCluster), map[string]any{"disableLocalAccounts": true, "aadProfile.managed": true, "aadProfile.enableAzureRBAC": true})
		r.expect(r.one(tWorkspace), map[string]any{"features.disableLocalAuth": true})
		params := map[string]string{}
		for _, c := range r.all(tPgConfig) {
			params[str(c.Inputs, "configurationName")] = str(c.Inputs, "value")
		}
		if params["ssl_min_protocol_version"] != "TLSv1.2" || params["require_secure_transport"] != "on" {
			t.Errorf("%s: postgres TLS parameters = %v", stack, params)
		}
		if _, ok := r.one(tVault).Inputs["properties"].ObjectValue()["accessPolicies"]; ok {
			t.Errorf("%s: the vault has access policies; it must use Azure RBAC only", stack)
		}
	}
}

func TestProdIsZoneRedundantAndHighlyAvailable(t *testing.T) {
	r := runStack(t, "prod", nil)
	zones := []string{"1", "2", "3"}
	if got := strs(r.one(tCluster).Inputs, "agentPoolProfiles.0.availabilityZones"); !slices.Equal(got, zones) {
		t.Errorf("system pool zones = %v", got)
	}
	if got := strs(r.one(tPool).Inputs, "availabilityZones"); !slices.Equal(got, zones) {
		t.Errorf("user pool zones = %v", got)
	}
	r.expect(r.one(tCluster), map[string]any{"sku.tier": "Standard", "apiServerAccessProfile.enablePrivateCluster": true})
	r.expect(r.one(tNamespace), map[string]any{"zoneRedundant": true})
	r.expect(r.one(tAccount), map[string]any{"locations.0.isZoneRedundant": true})
	server := r.one(tServer)
	r.expect(server, map[string]any{"highAvailability.mode": "ZoneRedundant", "availabilityZone": "1", "highAvailability.standbyAvailabilityZone": "2",
		"backup.geoRedundantBackup": "Enabled"})
	r.expect(r.one(tRedis), map[string]any{"properties.highAvailability": "Enabled"})
	r.expect(r.one(tRegistry), map[string]any{"zoneRedundancy": "Enabled", "sku.name": "Premium"})
	r.expect(r.one(tStorage), map[string]any{"sku.name": "Standard_ZRS"})
	r.expect(r.one(tVault), map[string]any{"properties.enablePurgeProtection": true})
}

func TestDevUsesTheCheapSKUs(t *testing.T) {
	r := runStack(t, "dev", nil)
	r.expect(r.one(tNamespace), map[string]any{"sku.name": "Standard", "sku.capacity": 1.0, "zoneRedundant": false})
	account := r.one(tAccount)
	caps := []string{str(account.Inputs, "capabilities.0.name"), str(account.Inputs, "capabilities.1.name")}
	if !slices.Equal(caps, []string{"EnableCassandra", "EnableServerless"}) {
		t.Errorf("dev cosmos capabilities = %v, want Cassandra and serverless", caps)
	}
	if mocks.Lookup(r.one(tKeyspace).Inputs, "options") != nil {
		t.Error("a serverless keyspace must not provision throughput")
	}
	r.expect(r.one(tServer), map[string]any{"sku.tier": "Burstable", "sku.name": "Standard_B1ms", "highAvailability.mode": "Disabled", "storage.storageSizeGB": 32.0})
	r.expect(r.one(tRedis), map[string]any{"sku.name": "Balanced_B0", "properties.highAvailability": "Disabled"})
	r.expect(r.one(tCluster), map[string]any{"sku.tier": "Free", "agentPoolProfiles.0.count": 1.0})
	r.expect(r.one(tRegistry), map[string]any{"sku.name": "Basic"})
	r.expect(r.one(tStorage), map[string]any{"sku.name": "Standard_LRS"})
	if mocks.Lookup(r.one(tVault).Inputs, "properties.enablePurgeProtection") != nil {
		t.Error("dev key vault has purge protection; a torn-down dev stack could not reuse its name")
	}
	if len(r.all(tLock)) != 0 {
		t.Errorf("dev has %d locks", len(r.all(tLock)))
	}
	for _, res := range r.m.Resources() {
		if res.Protect {
			t.Errorf("dev protects %s", res.Name)
		}
	}
}

func TestProdProtectsDataStores(t *testing.T) {
	r := runStack(t, "prod", nil)
	for _, token := range []string{tNamespace, tAccount, tServer, tStorage, tVault} {
		store := r.one(token)
		if !store.Protect {
			t.Errorf("prod: %s is not protected", store.Name)
		}
		locked := slices.ContainsFunc(r.all(tLock), func(l *mocks.Resource) bool {
			return str(l.Inputs, "scope") == store.ID && str(l.Inputs, "level") == "CanNotDelete"
		})
		if !locked {
			t.Errorf("prod: %s has no CanNotDelete lock", store.Name)
		}
	}
	for _, token := range []string{tKeyspace, tTable, tPgDatabase, tContainer} {
		for _, res := range r.all(token) {
			if !res.Protect {
				t.Errorf("prod: %s %s is not protected", token, res.Name)
			}
		}
	}
}

// diagnosed are the resource types that support diagnostic settings.
var diagnosed = []string{tWorkspace, tVNet, tVault, tNamespace, tAccount, tRegistry, tStorage, tServer, tRedis, tRedisDB, tCluster}

func TestDiagnosticSettings(t *testing.T) {
	for _, stack := range stacks {
		r := runStack(t, stack, nil)
		workspace := r.one(tWorkspace).ID
		targets := map[string]int{}
		for _, d := range r.all(tDiagnostics) {
			if str(d.Inputs, "workspaceId") != workspace {
				t.Errorf("%s: %s sends to %q, not the workspace", stack, d.Name, str(d.Inputs, "workspaceId"))
			}
			if mocks.Lookup(d.Inputs, "logs.0.enabled") != true && mocks.Lookup(d.Inputs, "metrics.0.enabled") != true {
				t.Errorf("%s: %s collects nothing", stack, d.Name)
			}
			targets[str(d.Inputs, "resourceUri")]++
		}
		for _, token := range diagnosed {
			for _, res := range r.all(token) {
				if targets[res.ID] != 1 {
					t.Errorf("%s: %s %s has %d diagnostic settings, want 1", stack, token, res.Name, targets[res.ID])
				}
			}
		}
		if blob := r.one(tStorage).ID + "/blobServices/default"; targets[blob] != 1 {
			t.Errorf("%s: the blob service has no diagnostic setting", stack)
		}
	}
}

// untaggable are the sub-resource and extension types Azure keeps no tags on.
var untaggable = []string{tSubnet, tZoneGroup, tHub, tConsumerGroup, tContainer, tPgConfig, tPgDatabase, tPgAdmin,
	tPgFirewall, tRedisDB, tRedisAccess, tClassicAccess, tFederation, tRole, tLock, tDiagnostics}

func TestEveryResourceIsTagged(t *testing.T) {
	for _, stack := range stacks {
		r := runStack(t, stack, nil)
		tagged := 0
		for _, res := range r.m.Resources() {
			// Tags are an Azure notion; Kubernetes objects carry labels,
			// which the workloads tests check.
			if !strings.HasPrefix(res.Type, "azure-native:") {
				continue
			}
			if !res.Custom || slices.Contains(untaggable, res.Type) || slices.Contains(untaggable, mocks.GenericType(mocks.GenericKind(res.Inputs))) {
				if res.Custom {
					if _, ok := res.Inputs["tags"]; ok {
						t.Errorf("%s: untaggable %s %s has tags", stack, res.Type, res.Name)
					}
				}
				continue
			}
			tagged++
			for _, k := range base.TagKeys {
				if str(res.Inputs, "tags."+k) == "" {
					t.Errorf("%s: %s %s lacks tag %s", stack, res.Type, res.Name, k)
				}
			}
			if got := str(res.Inputs, "tags.environment"); got != stack {
				t.Errorf("%s: %s has environment tag %q", stack, res.Name, got)
			}
		}
		if tagged < 20 {
			t.Errorf("%s: only %d tagged resources; the walk is not seeing the platform", stack, tagged)
		}
	}
}

func TestNoSecretInOutputsOrPlainInputs(t *testing.T) {
	for _, stack := range stacks {
		r := runStack(t, stack, nil)
		for _, name := range []string{"kafkaBootstrap", "cassandraContactPoint", "cassandraUsername", "cassandraKeySecretName",
			"postgresHost", "postgresPort", "redisHost", "redisPort", "keyVaultUri", "acrLoginServer", "aksClusterName",
			"resourceGroupName", "aksOidcIssuerUrl", "ingestClientId", "changefeedClientId", "apiClientId", "enrichClientId"} {
			if _, ok := r.exports[name]; !ok {
				t.Errorf("%s: output %s missing", stack, name)
			}
		}
		for name, v := range r.exports {
			if r.secrets[name] {
				t.Errorf("%s: output %s is a secret; outputs carry no secrets", stack, name)
			}
			lower := strings.ToLower(name)
			if s := fmt.Sprint(v); strings.Contains(s, mocks.KeyMarker) || strings.HasSuffix(lower, "key") || strings.Contains(lower, "password") {
				t.Errorf("%s: output %s = %q exposes key material", stack, name, s)
			}
		}
		// The key reaches Key Vault, as a secret, and nowhere else in clear.
		secret := r.named(tSecret, "cosmos-sluice-key-secret")
		v := secret.Inputs["properties"].ObjectValue()["value"]
		if !v.IsSecret() || !strings.HasPrefix(v.SecretValue().Element.StringValue(), mocks.KeyMarker) {
			t.Errorf("%s: the key vault secret does not hold the account key as a secret: %v", stack, v)
		}
		for _, res := range r.m.Resources() {
			if leak := clearKey(resource.NewObjectProperty(res.Inputs)); leak != "" {
				t.Errorf("%s: %s %s has the account key in clear at %s", stack, res.Type, res.Name, leak)
			}
		}
	}
}

// clearKey returns where a fake account key appears outside a secret.
func clearKey(v resource.PropertyValue) string {
	switch {
	case v.IsSecret():
		return ""
	case v.IsString() && strings.Contains(v.StringValue(), mocks.KeyMarker):
		return "value"
	case v.IsObject():
		for k, e := range v.ObjectValue() {
			if at := clearKey(e); at != "" {
				return string(k) + "." + at
			}
		}
	case v.IsArray():
		for i, e := range v.ArrayValue() {
			if at := clearKey(e); at != "" {
				return fmt.Sprintf("%d.%s", i, at)
			}
		}
	}
	return ""
}

// The grants are the same with either enrich engine: the Spark enrich pods
// sign in as the enrich identity (a second federated credential), so they
// hold exactly enrich's rights.
func TestLeastPrivilegeRoleAssignments(t *testing.T) {
	for _, engine := range []string{"go", "spark"} {
		t.Run(engine, func(t *testing.T) { checkLeastPrivilege(t, map[string]string{"enrichEngine": engine}) })
	}
}

func checkLeastPrivilege(t *testing.T, overrides map[string]string) {
	r := runStack(t, "prod", overrides)
	who := map[string]string{}
	for _, id := range r.all(tIdentity) {
		who[mocks.Lookup(id.Outputs, "principalId").(string)] = strings.TrimPrefix(id.Name, "workload-identities-")
	}
	cluster := r.one(tCluster)
	who[mocks.Lookup(cluster.Outputs, "identityProfile.kubeletidentity.objectId").(string)] = "kubelet"
	who[mocks.String(cluster.Outputs, "ingressProfile.webAppRouting.identity.objectId")] = "app-routing"
	who[mocks.DeployerObject] = "deployer"
	ids := map[string]string{}
	for _, h := range r.all(tHub) {
		ids[str(h.Inputs, "eventHubName")] = h.ID
	}
	for _, s := range r.all(tSubnet) {
		ids[str(s.Inputs, "subnetName")] = s.ID
	}
	ids["secret"] = r.named(tSecret, "cosmos-sluice-key-secret").ID
	ids["readonly-secret"] = r.named(tSecret, "cosmos-sluice-readonly-key-secret").ID
	ids["runner-app"] = r.named(tSecret, "deploy-runner-app-key").ID
	who[mocks.Lookup(r.named(tScaleSet, "deploy-runner-vmss").Outputs, "identity.principalId").(string)] = "deploy-runner"
	ids["container"] = r.one(tContainer).ID
	ids["registry"] = r.one(tRegistry).ID
	role := func(guid string) string {
		return "/subscriptions/" + mocks.SubscriptionID + "/providers/Microsoft.Authorization/roleDefinitions/" + guid
	}
	want := []string{
		"ingest " + role(base.RoleEventHubsDataReceiver) + " " + ids["events"],
		"ingest " + role(base.RoleEventHubsDataSender) + " " + ids["events.dlq"],
		"ingest " + role(base.RoleKeyVaultSecretsUser) + " " + ids["secret"],
		"changefeed " + role(base.RoleKeyVaultSecretsUser) + " " + ids["secret"],
		// api and enrich only read Cassandra: the read-only key.
		"api " + role(base.RoleKeyVaultSecretsUser) + " " + ids["readonly-secret"],
		"enrich " + role(base.RoleKeyVaultSecretsUser) + " " + ids["readonly-secret"],
		"enrich " + role(base.RoleStorageBlobDataReader) + " " + ids["container"],
		"migrate " + role(base.RoleStorageBlobDataContributor) + " " + ids["container"],
		"aks-sluice-control-plane " + role(base.RoleNetworkContributor) + " " + ids["aks-nodes"],
		"kubelet " + role(base.RoleAcrPull) + " " + ids["registry"],
		// Kubernetes RBAC for whoever applies the objects (local accounts
		// are off), and the ingress add-on's read of the api's certificate.
		"deployer " + role(base.RoleAKSRBACClusterAdmin) + " " + cluster.ID,
		"app-routing " + role(base.RoleKeyVaultCertificateUser) + " " + r.one(tVault).ID + "/certificates/api-tls",
		// The in-VNet runner reads its GitHub App and nothing else.
		"deploy-runner " + role(base.RoleKeyVaultSecretsUser) + " " + ids["runner-app"],
	}
	var got []string
	for _, ra := range r.all(tRole) {
		// The deployer may be a user or a service principal: Azure looks
		// its type up.
		deployer := str(ra.Inputs, "principalId") == mocks.DeployerObject && str(ra.Inputs, "principalType") == config.AKS{}.DeployerType(os.Getenv)
		if str(ra.Inputs, "principalType") != "ServicePrincipal" && !deployer {
			t.Errorf("%s: principalType %q", ra.Name, str(ra.Inputs, "principalType"))
		}
		scope := str(ra.Inputs, "scope")
		if !strings.Contains(scope, "/providers/") {
			t.Errorf("%s is scoped to a whole resource group or subscription: %s", ra.Name, scope)
		}
		principal := who[str(ra.Inputs, "principalId")]
		if principal == "" {
			principal = "unknown:" + str(ra.Inputs, "principalId")
		}
		got = append(got, principal+" "+str(ra.Inputs, "roleDefinitionId")+" "+scope)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("role assignments:\n got  %q\n want %q", got, want)
	}
	var redisUsers []string
	for _, a := range r.all(tRedisAccess) {
		redisUsers = append(redisUsers, who[str(a.Inputs, "properties.user.objectId")])
		r.expect(a, map[string]any{"properties.accessPolicyName": "default"})
		if p := str(a.Inputs, "parentResourcePath"); !strings.HasSuffix(p, "/databases/default") {
			t.Errorf("%s is on %s, want the default database", a.Name, p)
		}
	}
	sort.Strings(redisUsers)
	if !slices.Equal(redisUsers, []string{"api", "changefeed"}) {
		t.Errorf("redis data access for %v, want api and changefeed", redisUsers)
	}
	// The deployer and the postgres-admin identity, which only the
	// principals Job uses; no workload is an administrator.
	var admins []string
	for _, a := range r.all(tPgAdmin) {
		admin := who[str(a.Inputs, "objectId")]
		if str(a.Inputs, "objectId") == mocks.DeployerObject {
			admin = "deployer"
		}
		admins = append(admins, admin)
	}
	sort.Strings(admins)
	if !slices.Equal(admins, []string{"deployer", "postgres-admin"}) {
		t.Errorf("postgres administrators %v, want the deployer and postgres-admin only", admins)
	}
}

func TestFederatedCredentialsAreSequential(t *testing.T) {
	t.Run("go", func(t *testing.T) { checkFederatedCredentials(t, nil, nil) })
	// The Spark enrich pods' service account is federated to the enrich
	// identity, in the same chain.
	t.Run("spark", func(t *testing.T) {
		checkFederatedCredentials(t, map[string]string{"enrichEngine": "spark"}, []string{"system:serviceaccount:sluice:enrich-spark"})
	})
}

func checkFederatedCredentials(t *testing.T, overrides map[string]string, extra []string) {
	r := runStack(t, "staging", overrides)
	issuer := mocks.Lookup(r.one(tCluster).Outputs, "oidcIssuerProfile.issuerURL")
	fics := r.all(tFederation)
	if len(fics) != 6+len(extra) {
		t.Fatalf("%d federated credentials, want one per identity (6) and %d more", len(fics), len(extra))
	}
	urns := map[string]*mocks.Resource{}
	for _, f := range fics {
		urns[f.URN] = f
	}
	starts := 0
	followers := map[string]int{}
	var subjects []string
	for _, f := range fics {
		subjects = append(subjects, str(f.Inputs, "subject"))
		r.expect(f, map[string]any{"issuer": issuer, "audiences.0": identity.Audience})
		prev := 0
		for _, d := range f.Dependencies {
			if urns[d] != nil {
				prev++
				followers[d]++
			}
		}
		switch prev {
		case 0:
			starts++
		case 1:
		default:
			t.Errorf("%s waits for %d credentials", f.Name, prev)
		}
	}
	if starts != 1 {
		t.Errorf("%d credentials start a chain, want exactly 1 (they must be created one after another)", starts)
	}
	for urn, n := range followers {
		if n > 1 {
			t.Errorf("%d credentials wait for %s at once", n, urn)
		}
	}
	sort.Strings(subjects)
	want := []string{"system:serviceaccount:sluice:api", "system:serviceaccount:sluice:changefeed", "system:serviceaccount:sluice:enrich",
		"system:serviceaccount:sluice:ingest", "system:serviceaccount:sluice:migrate", "system:serviceaccount:sluice:postgres-admin"}
	want = append(want, extra...)
	sort.Strings(want)
	if !slices.Equal(subjects, want) {
		t.Errorf("subjects = %v", subjects)
	}
}

func TestPostgresWritesAreSequential(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		r := runStack(t, stack, nil)
		server := r.one(tServer)
		// Walk the chain from the server: each write waits for exactly one
		// other write (the one before it), the first only for the server.
		writes := append(append(append(r.all(tPgAdmin), r.all(tPgDatabase)...), r.all(tPgFirewall)...), r.all(tPgConfig)...)
		// The private endpoint, diagnostic setting and lock write to the
		// server too (writes_test.go).
		writes = append(writes, r.targeting(tEndpoint, "privateLinkServiceConnections.0.privateLinkServiceId", server.ID)...)
		writes = append(writes, r.targeting(tDiagnostics, "resourceUri", server.ID)...)
		writes = append(writes, r.targeting(tLock, "scope", server.ID)...)
		next := map[string][]*mocks.Resource{}
		for _, w := range writes {
			if !slices.Contains(w.Dependencies, server.URN) {
				t.Errorf("%s: %s does not wait for the server", stack, w.Name)
			}
			before := []string{}
			for _, d := range w.Dependencies {
				if slices.ContainsFunc(writes, func(o *mocks.Resource) bool { return o.URN == d }) {
					before = append(before, d)
				}
			}
			switch len(before) {
			case 0:
				next[server.URN] = append(next[server.URN], w)
			case 1:
				next[before[0]] = append(next[before[0]], w)
			default:
				t.Fatalf("%s: %s waits for %d server writes, want only the previous one", stack, w.Name, len(before))
			}
		}
		var order []string
		for at := server.URN; len(next[at]) > 0; {
			if len(next[at]) > 1 {
				t.Fatalf("%s: %d writes run in parallel after %s", stack, len(next[at]), r.byURN(at).Name)
			}
			w := next[at][0]
			order = append(order, w.Type[strings.LastIndex(w.Type, ":")+1:]+"/"+str(w.Inputs, "configurationName"))
			at = w.URN
		}
		if len(order) != len(writes) {
			t.Errorf("%s: the chain reaches %d of %d writes: %v", stack, len(order), len(writes), order)
		}
		bouncer := slices.Contains(order, "Configuration/pgbouncer.enabled")
		if bouncer != (stack == "prod") {
			t.Errorf("%s: pgbouncer.enabled configured = %v", stack, bouncer)
		}
		port := map[string]float64{"dev": 5432, "prod": 6432}[stack]
		if got := r.exports["postgresPort"]; got != int(port) {
			t.Errorf("%s: postgresPort = %v, want %v", stack, got, port)
		}
		if r.one(tPgDatabase).Inputs["databaseName"].StringValue() != "sluice" {
			t.Errorf("%s: database is not sluice", stack)
		}
	}
}

func TestCassandraSchemaComesFromTheContract(t *testing.T) {
	r := runStack(t, "prod", nil)
	ks := r.one(tKeyspace)
	r.expect(ks, map[string]any{"keyspaceName": contract.Keyspace, "resource.id": contract.Keyspace, "options.autoscaleSettings.maxThroughput": 4000.0})
	tables := map[string]*mocks.Resource{}
	for _, tbl := range r.all(tTable) {
		tables[str(tbl.Inputs, "tableName")] = tbl
		if str(tbl.Inputs, "keyspaceName") != contract.Keyspace {
			t.Errorf("table %s is not in keyspace %s", tbl.Name, ks.Name)
		}
	}
	want := contract.Tables()
	if len(tables) != len(want) {
		t.Errorf("%d tables, contract has %d", len(tables), len(want))
	}
	for _, ct := range want {
		tbl := tables[ct.Name]
		if tbl == nil {
			t.Errorf("contract table %s missing", ct.Name)
			continue
		}
		for i, col := range ct.Columns {
			r.expect(tbl, map[string]any{
				fmt.Sprintf("resource.schema.columns.%d.name", i): col.Name,
				fmt.Sprintf("resource.schema.columns.%d.type", i): col.Type,
			})
		}
		for i, k := range ct.PartitionKey {
			r.expect(tbl, map[string]any{fmt.Sprintf("resource.schema.partitionKeys.%d.name", i): k})
		}
		for i, k := range ct.ClusteringKey {
			order := map[string]string{"ASC": "Asc", "DESC": "Desc"}[k.Order]
			r.expect(tbl, map[string]any{
				fmt.Sprintf("resource.schema.clusterKeys.%d.name", i):    k.Name,
				fmt.Sprintf("resource.schema.clusterKeys.%d.orderBy", i): order,
			})
		}
		var ttl any
		if ct.DefaultTTLSeconds > 0 {
			ttl = float64(ct.DefaultTTLSeconds)
		}
		r.expect(tbl, map[string]any{"resource.defaultTtl": ttl})
	}
	r.expect(r.one(tAccount), map[string]any{"capabilities.0.name": "EnableCassandra", "backupPolicy.type": "Continuous",
		"backupPolicy.continuousModeProperties.tier": "Continuous30Days"})
	if exp := r.exports["cassandraContactPoint"]; exp != r.one(tAccount).Name+".cassandra.cosmos.azure.com" {
		t.Errorf("cassandraContactPoint = %v", exp)
	}
}

func TestTableResourceRejectsBadContract(t *testing.T) {
	bad := []contract.Table{
		{Name: "t1", Columns: []contract.Column{{Name: "a", Type: "text"}}},
		{Name: "t2", Columns: []contract.Column{{Name: "a", Type: "text"}}, PartitionKey: []string{"b"}},
		{Name: "t3", Columns: []contract.Column{{Name: "a", Type: "text"}}, PartitionKey: []string{"a"}, ClusteringKey: []contract.ClusteringColumn{{Name: "a", Order: "UP"}}},
	}
	for _, tbl := range bad {
		if _, err := cosmos.TableResource(tbl); err == nil {
			t.Errorf("table %s accepted", tbl.Name)
		}
	}
}

func TestEventHubs(t *testing.T) {
	r := runStack(t, "prod", nil)
	hubs := map[string]*mocks.Resource{}
	for _, h := range r.all(tHub) {
		hubs[str(h.Inputs, "eventHubName")] = h
	}
	r.expect(hubs["events"], map[string]any{"partitionCount": 32.0, "retentionDescription.retentionTimeInHours": 168.0})
	r.expect(hubs["events.dlq"], map[string]any{"partitionCount": 4.0})
	var groups []string
	for _, g := range r.all(tConsumerGroup) {
		if str(g.Inputs, "eventHubName") != "events" {
			t.Errorf("consumer group %s is on %s", g.Name, str(g.Inputs, "eventHubName"))
		}
		groups = append(groups, str(g.Inputs, "consumerGroupName"))
	}
	sort.Strings(groups)
	if !slices.Equal(groups, []string{"changefeed", "ingest"}) {
		t.Errorf("consumer groups = %v", groups)
	}
	r.expect(r.one(tNamespace), map[string]any{"sku.name": "Premium", "sku.tier": "Premium"})
	if got := r.exports["kafkaBootstrap"]; got != r.one(tNamespace).Name+".servicebus.windows.net:9093" {
		t.Errorf("kafkaBootstrap = %v", got)
	}
	s := runStack(t, "staging", nil)
	s.expect(s.one(tNamespace), map[string]any{"isAutoInflateEnabled": true, "maximumThroughputUnits": 4.0, "sku.capacity": 2.0})
}

func TestAKS(t *testing.T) {
	for _, stack := range stacks {
		r := runStack(t, stack, nil)
		cluster := r.one(tCluster)
		r.expect(cluster, map[string]any{
			"agentPoolProfiles.0.mode":                           "System",
			"agentPoolProfiles.0.nodeTaints.0":                   "CriticalAddonsOnly=true:NoSchedule",
			"networkProfile.networkPlugin":                       "azure",
			"networkProfile.networkPluginMode":                   "overlay",
			"oidcIssuerProfile.enabled":                          true,
			"securityProfile.workloadIdentity.enabled":           true,
			"workloadAutoScalerProfile.keda.enabled":             true,
			"addonProfiles.azureKeyvaultSecretsProvider.enabled": true,
			"identity.type":                                      "UserAssigned",
		})
		if mocks.Lookup(cluster.Inputs, "agentPoolProfiles.1.name") != nil {
			t.Errorf("%s: more than the system pool inline", stack)
		}
		if str(cluster.Inputs, "autoUpgradeProfile.upgradeChannel") == "" || str(cluster.Inputs, "autoUpgradeProfile.nodeOSUpgradeChannel") == "" {
			t.Errorf("%s: upgrade channels not set", stack)
		}
		pool := r.one(tPool)
		r.expect(pool, map[string]any{"mode": "User", "enableAutoScaling": true, "resourceName": cluster.Name})
		if mocks.Lookup(pool.Inputs, "minCount") == nil || mocks.Lookup(pool.Inputs, "maxCount") == nil {
			t.Errorf("%s: user pool has no autoscaler bounds", stack)
		}
		if str(pool.Inputs, "vnetSubnetID") != str(cluster.Inputs, "agentPoolProfiles.0.vnetSubnetID") {
			t.Errorf("%s: pools are in different subnets", stack)
		}
	}
}

func TestClassicRedisIsSelectable(t *testing.T) {
	r := runStack(t, "prod", map[string]string{"redisKind": "classic", "redisSku": "Premium", "redisCapacity": "1"})
	if len(r.all(tRedis)) != 0 {
		t.Error("classic stack also declares Azure Managed Redis")
	}
	cache := r.one(tClassic)
	r.expect(cache, map[string]any{"minimumTlsVersion": "1.2", "enableNonSslPort": false, "disableAccessKeyAuthentication": true,
		"redisConfiguration.aadEnabled": "true", "publicNetworkAccess": "Disabled", "sku.family": "P"})
	vnet := r.one(tVNet)
	var subnet string
	for _, s := range r.all(tSubnet) {
		if str(s.Inputs, "subnetName") == "private-endpoints" {
			subnet = s.ID
		}
	}
	r.checkPrivateLink(cache, privatelink.ClassicRedis, vnet.ID, subnet)
	if got := len(r.all(tClassicAccess)); got != 2 {
		t.Errorf("%d classic access policy assignments, want 2", got)
	}
	if got := r.exports["redisPort"]; got != 6380 {
		t.Errorf("redisPort = %v", got)
	}
}

func TestInvalidConfigFailsBeforeAnyResource(t *testing.T) {
	values := stackValues(t, "dev", map[string]string{"eventHubsSku": "Basic", "postgresPgBouncer": "true", "eventHubsPartitions": "64"})
	m, err := mocks.Run(Program, "dev", values)
	var cfgErr *config.Error
	if !errors.As(err, &cfgErr) {
		t.Fatalf("want a *config.Error, got %v", err)
	}
	if len(cfgErr.Problems) < 3 {
		t.Errorf("want every problem at once, got %q", cfgErr.Problems)
	}
	if n := len(m.Resources()); n != 0 {
		t.Errorf("%d resources registered before the configuration was rejected", n)
	}
}

func TestProgramRunsForEveryStack(t *testing.T) {
	for _, stack := range stacks {
		m, err := mocks.Run(Program, stack, stackValues(t, stack, nil))
		if err != nil {
			t.Fatalf("%s: %v", stack, err)
		}
		for _, res := range m.Resources() {
			if res.Custom && strings.HasPrefix(res.Type, "azure-native:") && res.Version != azurenative.ProviderVersion {
				t.Errorf("%s: %s %s pins provider %q, want %s", stack, res.Type, res.Name, res.Version, azurenative.ProviderVersion)
			}
			if res.Parent == "" {
				t.Errorf("%s: %s has no parent", stack, res.Name)
			}
			if !res.Custom && !strings.HasPrefix(res.Type, "sluice:components:") {
				t.Errorf("%s: component %s has type %s", stack, res.Name, res.Type)
			}
		}
		if rg := 1; len(filter(m.Resources(), tResourceGroup)) != rg {
			t.Errorf("%s: want one resource group", stack)
		}
	}
}

func filter(list []*mocks.Resource, token string) []*mocks.Resource {
	var out []*mocks.Resource
	for _, r := range list {
		if r.Type == token {
			out = append(out, r)
		}
	}
	return out
}
