package plancheck

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/sluicehq/sluice/infra/internal/mocks"
)

// NameRule is what Azure accepts as the name of one resource type.
type NameRule struct {
	// ARMType is the resource type ("Microsoft.Cache/redisEnterprise/databases").
	ARMType string
	// NameInput is the input holding the resource's own name; empty when
	// the name comes from elsewhere (Naming).
	NameInput string
	// Naming is how azure-native names the resource when NameInput is
	// unset: "random" (the logical name plus a random suffix, top-level
	// resources), "copy" (the logical name, child resources), "uuid" (a
	// random GUID) or "input:<key>" (the value of another input).
	Naming string
	Min    int
	Max    int
	// Pattern is the full-name pattern (anchored).
	Pattern *regexp.Regexp
	// Scope is where the name must be unique: "global" (a DNS name),
	// "subscription", "resourceGroup" or "parent" (the parent resource,
	// named by the ParentInputs).
	Scope        string
	ParentInputs []string
	// Source says where the rule comes from.
	Source string
}

// RandomSuffixLen is the length of azure-native's auto-name suffix: the
// logical name plus 8 random lowercase hex characters
// (resource.NewUniqueName with the provider's default charset), for
// resources whose metadata says autoname "random".
const RandomSuffixLen = 8

// randomSuffix stands for the random part in checks: hex like the real one.
const randomSuffix = "0a1b2c3d"

const (
	ruleDocs = "learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules"
)

func re(s string) *regexp.Regexp { return regexp.MustCompile(s) }

// Common character classes of the name rules.
var (
	// alnum, underscores, periods, hyphens; start alnum; end alnum or
	// underscore (Microsoft.Network).
	networkName = re(`^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$`)
	// alnum and hyphens, start and end alnum.
	alnumHyphens = re(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`)
	guid         = re(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	// PostgreSQL flexible server child names (REST spec path parameter
	// pattern of databases, configurations, firewallRules).
	pgChild = re(`^[-\w\._]+$`)
)

// NameRules are the rules by azure-native type token. Sources: the REST API
// specs' path parameter patterns where they have one (named per row), else
// the Azure resource name rules page.
var NameRules = map[string]NameRule{
	"azure-native:resources:ResourceGroup": {ARMType: "Microsoft.Resources/resourceGroups", NameInput: "resourceGroupName", Naming: "random",
		Min: 1, Max: 90, Pattern: re(`^[-\w\._\(\)]*[-\w_\(\)]$`), Scope: "subscription",
		Source: "resources.json resourceGroupName pattern; " + ruleDocs},
	"azure-native:operationalinsights:Workspace": {ARMType: "Microsoft.OperationalInsights/workspaces", NameInput: "workspaceName", Naming: "random",
		Min: 4, Max: 63, Pattern: re(`^[A-Za-z0-9][A-Za-z0-9-]+[A-Za-z0-9]$`), Scope: "resourceGroup",
		Source: "OperationalInsights Workspaces.json workspaceName pattern"},
	"azure-native:network:VirtualNetwork": {ARMType: "Microsoft.Network/virtualNetworks", NameInput: "virtualNetworkName", Naming: "random",
		Min: 2, Max: 64, Pattern: networkName, Scope: "resourceGroup", Source: ruleDocs},
	"azure-native:network:Subnet": {ARMType: "Microsoft.Network/virtualNetworks/subnets", NameInput: "subnetName", Naming: "copy",
		Min: 1, Max: 80, Pattern: networkName, Scope: "parent", ParentInputs: []string{"virtualNetworkName"}, Source: ruleDocs},
	"azure-native:network:NetworkSecurityGroup": {ARMType: "Microsoft.Network/networkSecurityGroups", NameInput: "networkSecurityGroupName", Naming: "random",
		Min: 1, Max: 80, Pattern: networkName, Scope: "resourceGroup", Source: ruleDocs},
	"azure-native:network:PublicIPAddress": {ARMType: "Microsoft.Network/publicIPAddresses", NameInput: "publicIpAddressName", Naming: "random",
		Min: 1, Max: 80, Pattern: networkName, Scope: "resourceGroup", Source: ruleDocs},
	"azure-native:network:NatGateway": {ARMType: "Microsoft.Network/natGateways", NameInput: "natGatewayName", Naming: "random",
		Min: 1, Max: 80, Pattern: networkName, Scope: "resourceGroup", Source: ruleDocs},
	// Linux scale sets: 1-64 characters; alphanumerics, underscores, periods
	// and hyphens; start alphanumeric, end alphanumeric or underscore.
	"azure-native:compute:VirtualMachineScaleSet": {ARMType: "Microsoft.Compute/virtualMachineScaleSets", NameInput: "vmScaleSetName", Naming: "random",
		Min: 1, Max: 64, Pattern: networkName, Scope: "resourceGroup", Source: ruleDocs},
	"azure-native:network:PrivateEndpoint": {ARMType: "Microsoft.Network/privateEndpoints", NameInput: "privateEndpointName", Naming: "random",
		Min: 2, Max: 64, Pattern: networkName, Scope: "resourceGroup", Source: ruleDocs},
	"azure-native:network:PrivateDnsZoneGroup": {ARMType: "Microsoft.Network/privateEndpoints/privateDnsZoneGroups", NameInput: "privateDnsZoneGroupName", Naming: "copy",
		Min: 1, Max: 80, Pattern: networkName, Scope: "parent", ParentInputs: []string{"privateEndpointName"}, Source: ruleDocs},
	"azure-native:network:PrivateZone": {ARMType: "Microsoft.Network/privateDnsZones", NameInput: "privateZoneName", Naming: "random",
		Min: 1, Max: 253, Pattern: re(`^([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)+[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$`), Scope: "resourceGroup",
		Source: ruleDocs + " (DNS labels of 1-63 characters)"},
	"azure-native:network:VirtualNetworkLink": {ARMType: "Microsoft.Network/privateDnsZones/virtualNetworkLinks", NameInput: "virtualNetworkLinkName", Naming: "copy",
		Min: 1, Max: 80, Pattern: networkName, Scope: "parent", ParentInputs: []string{"privateZoneName"}, Source: ruleDocs},
	"azure-native:keyvault:Vault": {ARMType: "Microsoft.KeyVault/vaults", NameInput: "vaultName", Naming: "random",
		Min: 3, Max: 24, Pattern: re(`^[a-zA-Z](-?[a-zA-Z0-9])*$`), Scope: "global", Source: "keyvault.json vaultName pattern ^[a-zA-Z0-9-]{3,24}$; " + ruleDocs + " (start with a letter, no consecutive hyphens)"},
	"azure-native:keyvault:Secret": {ARMType: "Microsoft.KeyVault/vaults/secrets", NameInput: "secretName", Naming: "copy",
		Min: 1, Max: 127, Pattern: re(`^[a-zA-Z0-9-]+$`), Scope: "parent", ParentInputs: []string{"vaultName"}, Source: "secrets.json secretName pattern"},
	"azure-native:eventhub:Namespace": {ARMType: "Microsoft.EventHub/namespaces", NameInput: "namespaceName", Naming: "random",
		Min: 6, Max: 50, Pattern: re(`^[a-zA-Z][a-zA-Z0-9-]{4,48}[a-zA-Z0-9]$`), Scope: "global", Source: ruleDocs},
	"azure-native:eventhub:EventHub": {ARMType: "Microsoft.EventHub/namespaces/eventhubs", NameInput: "eventHubName", Naming: "copy",
		Min: 1, Max: 256, Pattern: re(`^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$`), Scope: "parent", ParentInputs: []string{"namespaceName"}, Source: ruleDocs},
	"azure-native:eventhub:ConsumerGroup": {ARMType: "Microsoft.EventHub/namespaces/eventhubs/consumergroups", NameInput: "consumerGroupName", Naming: "copy",
		Min: 1, Max: 50, Pattern: re(`^[A-Za-z0-9$]([A-Za-z0-9._-]*[A-Za-z0-9])?$`), Scope: "parent", ParentInputs: []string{"namespaceName", "eventHubName"}, Source: ruleDocs},
	"azure-native:documentdb:DatabaseAccount": {ARMType: "Microsoft.DocumentDB/databaseAccounts", NameInput: "accountName", Naming: "random",
		Min: 3, Max: 44, Pattern: re(`^[a-z0-9]+(-[a-z0-9]+)*$`), Scope: "global", Source: "cosmos-db.json accountName pattern ^[a-z0-9]+(-[a-z0-9]+)*; " + ruleDocs},
	"azure-native:documentdb:CassandraResourceCassandraKeyspace": {ARMType: "Microsoft.DocumentDB/databaseAccounts/cassandraKeyspaces", NameInput: "keyspaceName", Naming: "copy",
		Min: 1, Max: 48, Pattern: re(`^[A-Za-z][A-Za-z0-9_]*$`), Scope: "parent", ParentInputs: []string{"accountName"}, Source: "CQL keyspace identifiers (Cosmos DB for Apache Cassandra: 48 characters)"},
	"azure-native:documentdb:CassandraResourceCassandraTable": {ARMType: "Microsoft.DocumentDB/databaseAccounts/cassandraKeyspaces/tables", NameInput: "tableName", Naming: "copy",
		Min: 1, Max: 48, Pattern: re(`^[A-Za-z][A-Za-z0-9_]*$`), Scope: "parent", ParentInputs: []string{"accountName", "keyspaceName"}, Source: "CQL table identifiers (48 characters)"},
	"azure-native:containerregistry:Registry": {ARMType: "Microsoft.ContainerRegistry/registries", NameInput: "registryName", Naming: "random",
		Min: 5, Max: 50, Pattern: re(`^[a-zA-Z0-9]*$`), Scope: "global", Source: "containerregistry.json registryName pattern ^[a-zA-Z0-9]*$, length 5-50"},
	"azure-native:storage:StorageAccount": {ARMType: "Microsoft.Storage/storageAccounts", NameInput: "accountName", Naming: "random",
		Min: 3, Max: 24, Pattern: re(`^[a-z0-9]+$`), Scope: "global", Source: ruleDocs + " (lowercase letters and numbers)"},
	"azure-native:storage:BlobContainer": {ARMType: "Microsoft.Storage/storageAccounts/blobServices/containers", NameInput: "containerName", Naming: "copy",
		Min: 3, Max: 63, Pattern: re(`^[a-z0-9](-?[a-z0-9])*$`), Scope: "parent", ParentInputs: []string{"accountName"}, Source: ruleDocs},
	"azure-native:dbforpostgresql/v20240801:Server": {ARMType: "Microsoft.DBforPostgreSQL/flexibleServers", NameInput: "serverName", Naming: "random",
		Min: 3, Max: 63, Pattern: re(`^[a-z0-9][-a-z0-9]*[a-z0-9]$`), Scope: "global", Source: "FlexibleServers.json serverName pattern; " + ruleDocs},
	"azure-native:dbforpostgresql/v20240801:Database": {ARMType: "Microsoft.DBforPostgreSQL/flexibleServers/databases", NameInput: "databaseName", Naming: "copy",
		Min: 1, Max: 63, Pattern: pgChild, Scope: "parent", ParentInputs: []string{"serverName"}, Source: "Databases.json databaseName pattern ^[-\\w\\._]+$"},
	"azure-native:dbforpostgresql/v20240801:Configuration": {ARMType: "Microsoft.DBforPostgreSQL/flexibleServers/configurations", NameInput: "configurationName", Naming: "copy",
		Min: 1, Max: 256, Pattern: pgChild, Scope: "parent", ParentInputs: []string{"serverName"}, Source: "Configuration.json configurationName pattern ^[-\\w\\._]+$"},
	"azure-native:dbforpostgresql/v20240801:FirewallRule": {ARMType: "Microsoft.DBforPostgreSQL/flexibleServers/firewallRules", NameInput: "firewallRuleName", Naming: "copy",
		Min: 1, Max: 128, Pattern: pgChild, Scope: "parent", ParentInputs: []string{"serverName"}, Source: "FirewallRules.json firewallRuleName pattern ^[-\\w\\._]+$"},
	"azure-native:dbforpostgresql/v20240801:Administrator": {ARMType: "Microsoft.DBforPostgreSQL/flexibleServers/administrators", Naming: "input:objectId",
		Min: 36, Max: 36, Pattern: guid, Scope: "parent", ParentInputs: []string{"serverName"}, Source: "Administrators.json: the name is the principal's object id"},
	"azure-native:managedidentity:UserAssignedIdentity": {ARMType: "Microsoft.ManagedIdentity/userAssignedIdentities", NameInput: "resourceName", Naming: "random",
		Min: 3, Max: 128, Pattern: re(`^[a-zA-Z0-9][a-zA-Z0-9_-]*$`), Scope: "resourceGroup", Source: ruleDocs},
	"azure-native:managedidentity:FederatedIdentityCredential": {ARMType: "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials", NameInput: "federatedIdentityCredentialResourceName", Naming: "copy",
		Min: 3, Max: 120, Pattern: re(`^[a-zA-Z0-9][a-zA-Z0-9_-]*$`), Scope: "parent", ParentInputs: []string{"resourceName"}, Source: "ManagedIdentity.json federatedIdentityCredentialResourceName pattern ^[a-zA-Z0-9]{1}[a-zA-Z0-9-_]{2,119}$"},
	"azure-native:containerservice/v20250101:ManagedCluster": {ARMType: "Microsoft.ContainerService/managedClusters", NameInput: "resourceName", Naming: "random",
		Min: 1, Max: 63, Pattern: re(`^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$`), Scope: "resourceGroup", Source: "managedClusters.json resourceName pattern"},
	"azure-native:containerservice/v20250101:AgentPool": {ARMType: "Microsoft.ContainerService/managedClusters/agentPools", NameInput: "agentPoolName", Naming: "copy",
		Min: 1, Max: 12, Pattern: re(`^[a-z][a-z0-9]{0,11}$`), Scope: "parent", ParentInputs: []string{"resourceName"}, Source: "managedClusters.json agentPoolName pattern ^[a-z][a-z0-9]{0,11}$"},
	"azure-native:containerservice/v20250101:MaintenanceConfiguration": {ARMType: "Microsoft.ContainerService/managedClusters/maintenanceConfigurations", NameInput: "configName", Naming: "copy",
		Min: 1, Max: 63, Pattern: re(`^(default|aksManagedAutoUpgradeSchedule|aksManagedNodeOSUpgradeSchedule)$`), Scope: "parent", ParentInputs: []string{"resourceName"},
		Source: "AKS maintenance configurations: default, aksManagedAutoUpgradeSchedule or aksManagedNodeOSUpgradeSchedule"},
	"azure-native:authorization:RoleAssignment": {ARMType: "Microsoft.Authorization/roleAssignments", NameInput: "roleAssignmentName", Naming: "uuid",
		Min: 36, Max: 36, Pattern: guid, Scope: "parent", ParentInputs: []string{"scope"}, Source: "authorization RoleAssignmentsCalls.json: the name is a GUID"},
	"azure-native:authorization:ManagementLockByScope": {ARMType: "Microsoft.Authorization/locks", NameInput: "lockName", Naming: "random",
		Min: 1, Max: 90, Pattern: re(`^[^<>*%&:\\?/+#]*[^<>*%&:\\?/+#.]$`), Scope: "parent", ParentInputs: []string{"scope"}, Source: ruleDocs + " (locks: no < > * % & : \\ ? / +, not ending in a period)"},
	"azure-native:insights:DiagnosticSetting": {ARMType: "Microsoft.Insights/diagnosticSettings", NameInput: "name", Naming: "random",
		Min: 1, Max: 260, Pattern: re(`^[^*<>%&:\\?+/]*[^*<>%&:\\?+/. ]$`), Scope: "parent", ParentInputs: []string{"resourceUri"}, Source: ruleDocs + " (diagnostic settings)"},
}

func init() {
	// Azure Managed Redis, at the API versions the program uses or moves
	// to: the azure-native v2 versioned tokens and the v3 module.
	cluster := NameRule{ARMType: "Microsoft.Cache/redisEnterprise", NameInput: "clusterName", Naming: "random",
		Min: 1, Max: 60, Pattern: re(`^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$`), Scope: "global",
		Source: "redisenterprise.json clusterName: 1-60 characters, alphanumerics and hyphens, no leading, trailing or consecutive hyphens"}
	database := NameRule{ARMType: "Microsoft.Cache/redisEnterprise/databases", NameInput: "databaseName", Naming: "copy",
		Min: 1, Max: 60, Pattern: re(`^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$`), Scope: "parent", ParentInputs: []string{"clusterName"},
		Source: "redisenterprise.json databaseName pattern (the service supports only \"default\")"}
	assignment := NameRule{ARMType: "Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments", NameInput: "accessPolicyAssignmentName", Naming: "copy",
		Min: 1, Max: 60, Pattern: re(`^[A-Za-z0-9]{1,60}$`), Scope: "parent", ParentInputs: []string{"clusterName", "databaseName"},
		Source: "redisenterprise.json accessPolicyAssignmentName pattern ^[A-Za-z0-9]{1,60}$"}
	for _, m := range []string{"cache/v20250401", "cache/v20241001", "redisenterprise", "redisenterprise/v20250701"} {
		NameRules["azure-native:"+m+":RedisEnterprise"] = cluster
		NameRules["azure-native:"+m+":Database"] = database
		NameRules["azure-native:"+m+":AccessPolicyAssignment"] = assignment
	}
}

// FinalName is the name Azure gets for a resource: its name input, or what
// azure-native's auto-naming makes of the logical name. ok is false when
// the name is not known at plan time.
func FinalName(rule NameRule, r *mocks.Resource) (name string, auto, ok bool) {
	if rule.NameInput != "" {
		if v, present := r.Inputs[keyOf(rule.NameInput)]; present {
			pv, known := plain(v)
			if !known {
				return "", false, false
			}
			if pv.IsString() && pv.StringValue() != "" {
				return pv.StringValue(), false, true
			}
		}
	}
	switch {
	case rule.Naming == "random":
		return r.Name + randomSuffix, true, true
	case rule.Naming == "copy":
		return r.Name, true, true
	case rule.Naming == "uuid":
		return mocks.UUID(r.URN), true, true
	case strings.HasPrefix(rule.Naming, "input:"):
		s := mocks.String(r.Inputs, strings.TrimPrefix(rule.Naming, "input:"))
		return s, false, s != ""
	}
	return "", false, false
}

// CheckNames checks every azure-native resource's final name against its
// type's rule (pattern and length) and its uniqueness in its scope.
func CheckNames(resources []*mocks.Resource) []Violation {
	var out []Violation
	seen := map[string]*mocks.Resource{}
	for _, r := range resources {
		if !isAzure(r) {
			continue
		}
		rule, ok := NameRules[r.Type]
		if !ok {
			if r.Type == "azure-native:resources:Resource" {
				continue // generic resource: name rule of its resourceType, not known here
			}
			out = append(out, violation("names", r, "no name rule for %s: add one to NameRules with its source", r.Type))
			continue
		}
		name, auto, known := FinalName(rule, r)
		if !known {
			continue
		}
		how := "set explicitly"
		if auto {
			how = "auto-named by azure-native from the logical name"
			if rule.Naming == "random" {
				how += fmt.Sprintf(" plus %d random characters", RandomSuffixLen)
			}
		}
		if n := len(name); n < rule.Min || n > rule.Max {
			out = append(out, violation("names", r, "%s name %q (%s) has %d characters, allowed %d-%d (%s)", rule.ARMType, name, how, n, rule.Min, rule.Max, rule.Source))
		}
		if !rule.Pattern.MatchString(name) {
			out = append(out, violation("names", r, "%s name %q (%s) does not match %s (%s)", rule.ARMType, name, how, rule.Pattern, rule.Source))
		}
		scope := scopeKey(rule, r)
		key := strings.ToLower(rule.ARMType + "|" + scope + "|" + name)
		if other, dup := seen[key]; dup {
			out = append(out, violation("names", r, "%s name %q is also the name of %s in the same %s scope", rule.ARMType, name, other.Name, rule.Scope))
		} else {
			seen[key] = r
		}
	}
	return out
}

func scopeKey(rule NameRule, r *mocks.Resource) string {
	switch rule.Scope {
	case "global", "subscription":
		return rule.Scope
	case "resourceGroup":
		return mocks.String(r.Inputs, "resourceGroupName")
	}
	parts := []string{mocks.String(r.Inputs, "resourceGroupName")}
	for _, k := range rule.ParentInputs {
		parts = append(parts, mocks.String(r.Inputs, k))
	}
	return strings.Join(parts, "/")
}

// RuleTokens lists the tokens with a name rule, sorted.
func RuleTokens() []string {
	out := make([]string, 0, len(NameRules))
	for t := range NameRules {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
