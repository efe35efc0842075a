package mocks

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Identities the mocked deployer runs as.
const (
	SubscriptionID = "00000000-0000-0000-0000-000000000001"
	TenantID       = "00000000-0000-0000-0000-000000000002"
	DeployerObject = "00000000-0000-0000-0000-000000000003"
	DeployerClient = "00000000-0000-0000-0000-000000000004"
)

// KeyMarker starts every fake account key the mocks hand out, so tests can
// look for key material anywhere it must not be.
const KeyMarker = "mock-account-key-"

// Resource is one registered resource.
type Resource struct {
	URN    string
	Type   string
	Name   string
	Parent string
	Custom bool
	ID     string
	// Inputs are the registered inputs; secrets stay wrapped.
	Inputs  resource.PropertyMap
	Outputs resource.PropertyMap
	Protect bool
	// Dependencies are every resource the registration waits for: the
	// dependsOn option (components expanded to their children) and the
	// resources behind its inputs, as the SDK sends them.
	Dependencies []string
	// PropertyDependencies are the resources behind each input.
	PropertyDependencies map[string][]string
	Version              string
	// Provider is the explicit provider reference ("<urn>::<id>"), empty
	// for the default provider.
	Provider string
}

// Call is one recorded invoke.
type Call struct {
	Token string
	Args  resource.PropertyMap
}

// Monitor is the mock resource monitor.
type Monitor struct {
	project, stack string

	mu        sync.Mutex
	resources []*Resource
	calls     []Call
}

// New returns a monitor for project and stack.
func New(project, stack string) *Monitor { return &Monitor{project: project, stack: stack} }

// Resources returns the registered resources sorted by URN.
func (m *Monitor) Resources() []*Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := append([]*Resource(nil), m.resources...)
	sort.Slice(out, func(i, j int) bool { return out[i].URN < out[j].URN })
	return out
}

// Calls returns the recorded invokes.
func (m *Monitor) Calls() []Call {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Call(nil), m.calls...)
}

// urn mirrors the URN the SDK's mock monitor assigns.
func (m *Monitor) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(m.stack), tokens.PackageName(m.project), parentType, tokens.Type(typ), name))
}

// NewResource implements pulumi.MockResourceMonitor.
func (m *Monitor) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r := &Resource{Type: args.TypeToken, Name: args.Name, Custom: args.Custom, Inputs: args.Inputs, Provider: args.Provider}
	if rpc := args.RegisterRPC; rpc != nil {
		r.Parent = rpc.GetParent()
		r.Protect = rpc.GetProtect()
		r.Dependencies = append([]string(nil), rpc.GetDependencies()...)
		r.Version = rpc.GetVersion()
		for k, deps := range rpc.GetPropertyDependencies() {
			if r.PropertyDependencies == nil {
				r.PropertyDependencies = map[string][]string{}
			}
			r.PropertyDependencies[k] = append([]string(nil), deps.GetUrns()...)
		}
	}
	r.URN = m.urn(r.Parent, r.Type, r.Name)
	if !args.Custom {
		m.record(r)
		return "", resource.PropertyMap{}, nil
	}
	id, state := outputs(args.TypeToken, args.Name, args.Inputs)
	r.ID, r.Outputs = id, state
	m.record(r)
	return id, state, nil
}

func (m *Monitor) record(r *Resource) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.resources = append(m.resources, r)
}

// Call implements pulumi.MockResourceMonitor for invokes.
func (m *Monitor) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.mu.Lock()
	m.calls = append(m.calls, Call{Token: args.Token, Args: args.Args})
	m.mu.Unlock()
	switch args.Token {
	case "azure-native:authorization:getClientConfig":
		return resource.NewPropertyMapFromMap(map[string]any{
			"clientId":       DeployerClient,
			"objectId":       DeployerObject,
			"subscriptionId": SubscriptionID,
			"tenantId":       TenantID,
		}), nil
	case "azure-native:documentdb:listDatabaseAccountKeys":
		account := str(args.Args, "accountName")
		return resource.NewPropertyMapFromMap(map[string]any{
			"primaryMasterKey":           KeyMarker + "primary-" + account,
			"primaryReadonlyMasterKey":   KeyMarker + "primary-ro-" + account,
			"secondaryMasterKey":         KeyMarker + "secondary-" + account,
			"secondaryReadonlyMasterKey": KeyMarker + "secondary-ro-" + account,
		}), nil
	case "azure-native:containerservice:listManagedClusterUserCredentials",
		"azure-native:containerservice/v20250101:listManagedClusterUserCredentials":
		cluster := str(args.Args, "resourceName")
		kubeconfig := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: %s\n  cluster:\n    server: https://%s.hcp.westeurope.azmk8s.io:443\n", cluster, cluster)
		return resource.NewPropertyMapFromMap(map[string]any{
			"kubeconfigs": []any{map[string]any{
				"name":  "clusterUser",
				"value": base64.StdEncoding.EncodeToString([]byte(kubeconfig)),
			}},
		}), nil
	}
	return nil, fmt.Errorf("mocks: no mock for invoke %s", args.Token)
}

func str(m resource.PropertyMap, key string) string {
	v, ok := m[resource.PropertyKey(key)]
	if !ok {
		return ""
	}
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

// UUID derives a stable UUID-shaped id from seed.
func UUID(seed string) string {
	h := sha256.Sum256([]byte(seed))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// armType describes how a type token's ARM id is built: the resource type
// path under the provider namespace, with {input} placeholders, and the
// input holding the resource's own name if it has one.
type armType struct {
	path    string
	nameKey string
}

var armTypes = map[string]armType{
	"azure-native:resources:ResourceGroup":                             {"", "resourceGroupName"},
	"azure-native:operationalinsights:Workspace":                       {"Microsoft.OperationalInsights/workspaces/{name}", "workspaceName"},
	"azure-native:network:VirtualNetwork":                              {"Microsoft.Network/virtualNetworks/{name}", "virtualNetworkName"},
	"azure-native:network:Subnet":                                      {"Microsoft.Network/virtualNetworks/{virtualNetworkName}/subnets/{name}", "subnetName"},
	"azure-native:network:PrivateEndpoint":                             {"Microsoft.Network/privateEndpoints/{name}", "privateEndpointName"},
	"azure-native:network:PrivateZone":                                 {"Microsoft.Network/privateDnsZones/{name}", "privateZoneName"},
	"azure-native:network:VirtualNetworkLink":                          {"Microsoft.Network/privateDnsZones/{privateZoneName}/virtualNetworkLinks/{name}", "virtualNetworkLinkName"},
	"azure-native:network:PrivateDnsZoneGroup":                         {"Microsoft.Network/privateEndpoints/{privateEndpointName}/privateDnsZoneGroups/{name}", "privateDnsZoneGroupName"},
	"azure-native:keyvault:Vault":                                      {"Microsoft.KeyVault/vaults/{name}", "vaultName"},
	"azure-native:keyvault:Secret":                                     {"Microsoft.KeyVault/vaults/{vaultName}/secrets/{name}", "secretName"},
	"azure-native:eventhub:Namespace":                                  {"Microsoft.EventHub/namespaces/{name}", "namespaceName"},
	"azure-native:eventhub:EventHub":                                   {"Microsoft.EventHub/namespaces/{namespaceName}/eventhubs/{name}", "eventHubName"},
	"azure-native:eventhub:ConsumerGroup":                              {"Microsoft.EventHub/namespaces/{namespaceName}/eventhubs/{eventHubName}/consumergroups/{name}", "consumerGroupName"},
	"azure-native:documentdb:DatabaseAccount":                          {"Microsoft.DocumentDB/databaseAccounts/{name}", "accountName"},
	"azure-native:documentdb:CassandraResourceCassandraKeyspace":       {"Microsoft.DocumentDB/databaseAccounts/{accountName}/cassandraKeyspaces/{name}", "keyspaceName"},
	"azure-native:documentdb:CassandraResourceCassandraTable":          {"Microsoft.DocumentDB/databaseAccounts/{accountName}/cassandraKeyspaces/{keyspaceName}/tables/{name}", "tableName"},
	"azure-native:containerregistry:Registry":                          {"Microsoft.ContainerRegistry/registries/{name}", "registryName"},
	"azure-native:storage:StorageAccount":                              {"Microsoft.Storage/storageAccounts/{name}", "accountName"},
	"azure-native:storage:BlobContainer":                               {"Microsoft.Storage/storageAccounts/{accountName}/blobServices/default/containers/{name}", "containerName"},
	"azure-native:dbforpostgresql/v20240801:Server":                    {"Microsoft.DBforPostgreSQL/flexibleServers/{name}", "serverName"},
	"azure-native:dbforpostgresql/v20240801:Administrator":             {"Microsoft.DBforPostgreSQL/flexibleServers/{serverName}/administrators/{objectId}", ""},
	"azure-native:dbforpostgresql/v20240801:Database":                  {"Microsoft.DBforPostgreSQL/flexibleServers/{serverName}/databases/{name}", "databaseName"},
	"azure-native:dbforpostgresql/v20240801:Configuration":             {"Microsoft.DBforPostgreSQL/flexibleServers/{serverName}/configurations/{name}", "configurationName"},
	"azure-native:dbforpostgresql/v20240801:FirewallRule":              {"Microsoft.DBforPostgreSQL/flexibleServers/{serverName}/firewallRules/{name}", "firewallRuleName"},
	"azure-native:cache/v20241101:Redis":                               {"Microsoft.Cache/redis/{name}", "name"},
	"azure-native:cache/v20241101:AccessPolicyAssignment":              {"Microsoft.Cache/redis/{cacheName}/accessPolicyAssignments/{name}", "accessPolicyAssignmentName"},
	"azure-native:managedidentity:UserAssignedIdentity":                {"Microsoft.ManagedIdentity/userAssignedIdentities/{name}", "resourceName"},
	"azure-native:managedidentity:FederatedIdentityCredential":         {"Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}/federatedIdentityCredentials/{name}", "federatedIdentityCredentialResourceName"},
	"azure-native:containerservice/v20250101:ManagedCluster":           {"Microsoft.ContainerService/managedClusters/{name}", "resourceName"},
	"azure-native:containerservice/v20250101:AgentPool":                {"Microsoft.ContainerService/managedClusters/{resourceName}/agentPools/{name}", "agentPoolName"},
	"azure-native:authorization:RoleAssignment":                        {"", "roleAssignmentName"},
	"azure-native:authorization:ManagementLockByScope":                 {"", "lockName"},
	"azure-native:insights:DiagnosticSetting":                          {"", "name"},
	"azure-native:containerservice/v20250101:MaintenanceConfiguration": {"Microsoft.ContainerService/managedClusters/{resourceName}/maintenanceConfigurations/{name}", "configName"},
}

// outputs builds the id and state of a custom resource: its inputs, its
// name and id, and the computed outputs its type has in Azure.
func outputs(token, logical string, in resource.PropertyMap) (string, resource.PropertyMap) {
	state := in.Copy()
	at, known := armTypes[token]
	name := logical
	if known && at.nameKey != "" {
		if v := str(in, at.nameKey); v != "" {
			name = v
		}
	}
	rg := str(in, "resourceGroupName")
	if rg == "" {
		rg = "rg-mock"
	}
	rgID := fmt.Sprintf("/subscriptions/%s/resourceGroups/%s", SubscriptionID, rg)
	var id string
	switch {
	case token == "azure-native:resources:ResourceGroup":
		id = fmt.Sprintf("/subscriptions/%s/resourceGroups/%s", SubscriptionID, name)
	case token == "azure-native:authorization:RoleAssignment":
		name = UUID(logical)
		id = fmt.Sprintf("%s/providers/Microsoft.Authorization/roleAssignments/%s", str(in, "scope"), name)
	case token == "azure-native:authorization:ManagementLockByScope":
		id = fmt.Sprintf("%s/providers/Microsoft.Authorization/locks/%s", str(in, "scope"), name)
	case token == "azure-native:insights:DiagnosticSetting":
		id = fmt.Sprintf("%s/providers/Microsoft.Insights/diagnosticSettings/%s", str(in, "resourceUri"), name)
	case token == GenericToken:
		// The generic ARM resource: its name is resourceName (no
		// auto-naming) and its id the path it is PUT to.
		if v := str(in, "resourceName"); v != "" {
			name = v
		}
		path := str(in, "resourceProviderNamespace")
		if parent := str(in, "parentResourcePath"); parent != "" {
			path += "/" + parent
		}
		id = rgID + "/providers/" + path + "/" + str(in, "resourceType") + "/" + name
	case known:
		path := strings.ReplaceAll(at.path, "{name}", name)
		for {
			open := strings.Index(path, "{")
			if open < 0 {
				break
			}
			end := strings.Index(path[open:], "}") + open
			key := path[open+1 : end]
			path = path[:open] + str(in, key) + path[end+1:]
		}
		id = rgID + "/providers/" + path
	default:
		id = rgID + "/providers/Mock.Unknown/" + strings.ReplaceAll(token, ":", "-") + "/" + name
	}
	set := func(k string, v any) { state[resource.PropertyKey(k)] = resource.NewPropertyValue(v) }
	set("name", name)
	set("id", id)
	region := str(in, "location")
	switch token {
	case "azure-native:keyvault:Vault":
		props := map[string]any{}
		if p, ok := in["properties"]; ok && p.IsObject() {
			props = p.ObjectValue().Mappable()
		}
		props["vaultUri"] = fmt.Sprintf("https://%s.vault.azure.net/", name)
		set("properties", props)
	case "azure-native:keyvault:Secret":
		// Like the provider: the value is write-only and never read back.
		set("properties", map[string]any{
			"secretUri":            fmt.Sprintf("https://%s.vault.azure.net/secrets/%s", str(in, "vaultName"), name),
			"secretUriWithVersion": fmt.Sprintf("https://%s.vault.azure.net/secrets/%s/0123456789abcdef", str(in, "vaultName"), name),
			"contentType":          "",
			"attributes":           map[string]any{"enabled": true},
		})
	case "azure-native:eventhub:Namespace":
		set("serviceBusEndpoint", fmt.Sprintf("https://%s.servicebus.windows.net:443/", name))
	case "azure-native:documentdb:DatabaseAccount":
		set("documentEndpoint", fmt.Sprintf("https://%s.documents.azure.com:443/", name))
	case "azure-native:containerregistry:Registry":
		set("loginServer", name+".azurecr.io")
	case "azure-native:storage:StorageAccount":
		set("primaryEndpoints", map[string]any{
			"blob": fmt.Sprintf("https://%s.blob.core.windows.net/", name),
			"dfs":  fmt.Sprintf("https://%s.dfs.core.windows.net/", name),
		})
	case "azure-native:dbforpostgresql/v20240801:Server":
		set("fullyQualifiedDomainName", name+".postgres.database.azure.com")
	case "azure-native:cache/v20241101:Redis":
		set("hostName", name+".redis.cache.windows.net")
		set("sslPort", 6380)
		set("port", 6379)
	case GenericToken:
		if GenericKind(in) == "Microsoft.Cache/redisEnterprise" {
			props := map[string]any{}
			if p, ok := in["properties"]; ok && p.IsObject() {
				props = p.ObjectValue().Mappable()
			}
			props["hostName"] = fmt.Sprintf("%s.%s.redis.azure.net", name, region)
			set("properties", props)
		}
	case "azure-native:managedidentity:UserAssignedIdentity":
		set("clientId", UUID("client:"+id))
		set("principalId", UUID("principal:"+id))
		set("tenantId", TenantID)
	case "azure-native:compute:VirtualMachineScaleSet":
		// A system-assigned identity gets its principal on creation.
		set("identity", map[string]any{"type": str(in, "identity.type"), "principalId": UUID("principal:" + id), "tenantId": TenantID})
	case "azure-native:operationalinsights:Workspace":
		set("customerId", UUID("workspace:"+id))
	case "azure-native:containerservice/v20250101:ManagedCluster":
		set("fqdn", fmt.Sprintf("%s-dns.hcp.%s.azmk8s.io", name, region))
		set("privateFQDN", fmt.Sprintf("%s-dns.privatelink.%s.azmk8s.io", name, region))
		set("nodeResourceGroup", fmt.Sprintf("MC_%s_%s_%s", rg, name, region))
		set("oidcIssuerProfile", map[string]any{
			"enabled":   true,
			"issuerURL": fmt.Sprintf("https://%s.oic.prod-aks.azure.com/%s/%s/", region, TenantID, UUID("issuer:"+id)),
		})
		set("identityProfile", map[string]any{"kubeletidentity": map[string]any{
			"clientId":   UUID("kubelet-client:" + id),
			"objectId":   UUID("kubelet-object:" + id),
			"resourceId": fmt.Sprintf("/subscriptions/%s/resourceGroups/MC_%s_%s_%s/providers/Microsoft.ManagedIdentity/userAssignedIdentities/%s-agentpool", SubscriptionID, rg, name, region, name),
		}})
		// The application routing add-on runs as its own identity.
		if v := in["ingressProfile"]; v.IsObject() {
			if wr := v.ObjectValue()["webAppRouting"]; wr.IsObject() && wr.ObjectValue()["enabled"].IsBool() && wr.ObjectValue()["enabled"].BoolValue() {
				set("ingressProfile", map[string]any{"webAppRouting": map[string]any{
					"enabled": true,
					"identity": map[string]any{
						"clientId":   UUID("webapprouting-client:" + id),
						"objectId":   UUID("webapprouting-object:" + id),
						"resourceId": fmt.Sprintf("/subscriptions/%s/resourceGroups/MC_%s_%s_%s/providers/Microsoft.ManagedIdentity/userAssignedIdentities/webapprouting-%s", SubscriptionID, rg, name, region, name),
					},
				}})
			}
		}
	}
	return id, state
}

// Run runs program as project "sluice" and stack under a fresh Monitor with
// config as the stack's config map ("sluice:region" -> "westeurope"), and
// returns the monitor with everything the run registered.
func Run(program pulumi.RunFunc, stack string, config map[string]string) (*Monitor, error) {
	m := New("sluice", stack)
	err := pulumi.RunErr(program, pulumi.WithMocks("sluice", stack, m), func(info *pulumi.RunInfo) {
		info.Config = config
	})
	return m, err
}

// RunPreview is Run as a preview (dry run) executes the program.
func RunPreview(program pulumi.RunFunc, stack string, config map[string]string) (*Monitor, error) {
	m := New("sluice", stack)
	err := pulumi.RunErr(program, pulumi.WithMocks("sluice", stack, m), func(info *pulumi.RunInfo) {
		info.Config = config
		info.DryRun = true
	})
	return m, err
}

// Lookup walks a dotted path ("locations.0.locationName") through a property
// map, looking through secrets, and returns the plain value there (string,
// float64, bool, ...) or nil.
func Lookup(m resource.PropertyMap, path string) any {
	v := Value(m, path)
	if v.IsNull() {
		return nil
	}
	return v.V
}

// Value is Lookup returning the property value itself (secrets unwrapped).
func Value(m resource.PropertyMap, path string) resource.PropertyValue {
	v := resource.NewObjectProperty(m)
	for _, part := range strings.Split(path, ".") {
		for v.IsSecret() {
			v = v.SecretValue().Element
		}
		switch {
		case v.IsObject():
			v = v.ObjectValue()[resource.PropertyKey(part)]
		case v.IsArray():
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(v.ArrayValue()) {
				return resource.NewNullProperty()
			}
			v = v.ArrayValue()[i]
		default:
			return resource.NewNullProperty()
		}
	}
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v
}

// String is the string at a dotted path ("" when there is none).
func String(m resource.PropertyMap, path string) string {
	s, _ := Lookup(m, path).(string)
	return s
}

// Strings is the array of strings at a dotted path, secrets unwrapped;
// elements that are not strings are left out.
func Strings(m resource.PropertyMap, path string) []string {
	v := Value(m, path)
	if !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.ArrayValue() {
		for e.IsSecret() {
			e = e.SecretValue().Element
		}
		if e.IsString() {
			out = append(out, e.StringValue())
		}
	}
	return out
}

// GenericToken is azure-native's generic ARM resource, which writes any
// resource type at any API version (see azurenative/cache/v20250701).
const GenericToken = "azure-native:resources:Resource"

// GenericKind is the ARM type of a generic resource's inputs,
// "<namespace>/<type>[/<child type>...]": the types of parentResourcePath
// (every other segment) and resourceType, e.g.
// "Microsoft.Cache/redisEnterprise/databases".
func GenericKind(in resource.PropertyMap) string {
	kind := str(in, "resourceProviderNamespace")
	if parent := str(in, "parentResourcePath"); parent != "" {
		for i, seg := range strings.Split(parent, "/") {
			if i%2 == 0 {
				kind += "/" + seg
			}
		}
	}
	return kind + "/" + str(in, "resourceType")
}

// GenericType is the pseudo token OfType matches the generic resources of
// one ARM type with: GenericToken + "#" + kind.
func GenericType(kind string) string { return GenericToken + "#" + kind }

// OfType returns the registered resources of one type token, in URN order.
// A GenericType token selects the generic resources of that ARM type.
func (m *Monitor) OfType(token string) []*Resource {
	generic, kind, isGeneric := strings.Cut(token, "#")
	var out []*Resource
	for _, r := range m.Resources() {
		switch {
		case isGeneric && r.Type == generic && GenericKind(r.Inputs) == kind:
			out = append(out, r)
		case !isGeneric && r.Type == token:
			out = append(out, r)
		}
	}
	return out
}

// Mismatches compares a resource's inputs at dotted paths with the values
// wanted there and describes every difference, in path order.
func Mismatches(r *Resource, want map[string]any) []string {
	paths := make([]string, 0, len(want))
	for p := range want {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var out []string
	for _, p := range paths {
		if got := Lookup(r.Inputs, p); got != want[p] {
			out = append(out, fmt.Sprintf("%s %s: %s = %#v, want %#v", r.Type, r.Name, p, got, want[p]))
		}
	}
	return out
}
