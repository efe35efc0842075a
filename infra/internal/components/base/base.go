package base

import (
	"fmt"

	"github.com/pulumi/pulumi-azure-native-sdk/authorization/v2"
	"github.com/pulumi/pulumi-azure-native-sdk/insights/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/config"
)

// Env is what every component needs to declare its resources.
type Env struct {
	Config *config.Config
	// ResourceGroupName is the group every resource lives in.
	ResourceGroupName pulumi.StringInput
	// SubscriptionID and TenantID come from the deploying identity.
	SubscriptionID string
	TenantID       string
	// DeployerObjectID is the object id of the deploying identity.
	DeployerObjectID string
	// WorkspaceID is the Log Analytics workspace diagnostic settings send
	// to; it is set once the monitoring component exists.
	WorkspaceID pulumi.StringInput
	// VNetID and PrivateEndpointsSubnetID are where private endpoints go;
	// they are set once the network component exists.
	VNetID                   pulumi.StringInput
	PrivateEndpointsSubnetID pulumi.StringInput
}

// Location is the region every regional resource is placed in.
func (e *Env) Location() pulumi.String { return pulumi.String(e.Config.Region) }

// Tags are the tags every taggable resource carries.
func (e *Env) Tags() pulumi.StringMap {
	return pulumi.StringMap{
		"project":     pulumi.String(config.Namespace),
		"environment": pulumi.String(e.Config.Stack),
		"owner":       pulumi.String(e.Config.Owner),
		"managed-by":  pulumi.String("pulumi"),
	}
}

// TagKeys are the keys Tags sets, for tests.
var TagKeys = []string{"project", "environment", "owner", "managed-by"}

// Zones returns the configured availability zones, or nil without zones.
func (e *Env) Zones() pulumi.StringArray {
	if len(e.Config.Zones) == 0 {
		return nil
	}
	return pulumi.ToStringArray(e.Config.Zones)
}

// PublicNetworkAccess is "Disabled" with private networking, else "Enabled".
func (e *Env) PublicNetworkAccess() pulumi.String {
	if e.Config.PrivateNetworking {
		return "Disabled"
	}
	return "Enabled"
}

// DataStoreOptions are the options of a data store: `protect` when the
// stack protects its data.
func (e *Env) DataStoreOptions(opts ...pulumi.ResourceOption) []pulumi.ResourceOption {
	if e.Config.Protect {
		opts = append(opts, pulumi.Protect(true))
	}
	return opts
}

// Lock adds a CanNotDelete management lock on a data store when the stack
// protects its data; otherwise it does nothing.
func (e *Env) Lock(ctx *pulumi.Context, name string, scope pulumi.StringInput, opts ...pulumi.ResourceOption) error {
	_, err := e.LockResource(ctx, name, scope, opts...)
	return err
}

// LockResource is Lock returning the lock (nil when the stack does not
// protect its data), for callers that chain writes to one resource.
func (e *Env) LockResource(ctx *pulumi.Context, name string, scope pulumi.StringInput, opts ...pulumi.ResourceOption) (pulumi.Resource, error) {
	if !e.Config.Protect {
		return nil, nil
	}
	lock, err := authorization.NewManagementLockByScope(ctx, name, &authorization.ManagementLockByScopeArgs{
		Scope: scope,
		Level: pulumi.String("CanNotDelete"),
		Notes: pulumi.String("Sluice data store: remove this lock deliberately before deleting."),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	return lock, nil
}

// Diagnostics says what a diagnostic setting collects.
type Diagnostics struct {
	// LogCategoryGroups are category groups such as "allLogs" or "audit".
	LogCategoryGroups []string
	// LogCategories are individual log categories.
	LogCategories []string
	// Metrics are metric categories such as "AllMetrics".
	Metrics []string
}

// AllLogsAndMetrics is the profile of most services.
var AllLogsAndMetrics = Diagnostics{LogCategoryGroups: []string{"allLogs"}, Metrics: []string{"AllMetrics"}}

// Diagnose sends the resource's logs and metrics to the workspace.
func (e *Env) Diagnose(ctx *pulumi.Context, name string, resourceURI pulumi.StringInput, d Diagnostics, opts ...pulumi.ResourceOption) error {
	_, err := e.DiagnosticSetting(ctx, name, resourceURI, d, opts...)
	return err
}

// DiagnosticSetting is Diagnose returning the setting, for callers that
// chain writes to one resource.
func (e *Env) DiagnosticSetting(ctx *pulumi.Context, name string, resourceURI pulumi.StringInput, d Diagnostics, opts ...pulumi.ResourceOption) (pulumi.Resource, error) {
	var logs insights.LogSettingsArray
	for _, g := range d.LogCategoryGroups {
		logs = append(logs, insights.LogSettingsArgs{CategoryGroup: pulumi.String(g), Enabled: pulumi.Bool(true)})
	}
	for _, c := range d.LogCategories {
		logs = append(logs, insights.LogSettingsArgs{Category: pulumi.String(c), Enabled: pulumi.Bool(true)})
	}
	var metrics insights.MetricSettingsArray
	for _, m := range d.Metrics {
		metrics = append(metrics, insights.MetricSettingsArgs{Category: pulumi.String(m), Enabled: pulumi.Bool(true)})
	}
	setting, err := insights.NewDiagnosticSetting(ctx, name, &insights.DiagnosticSettingArgs{
		Name:                        pulumi.String("to-log-analytics"),
		ResourceUri:                 resourceURI,
		WorkspaceId:                 e.WorkspaceID,
		LogAnalyticsDestinationType: pulumi.String("Dedicated"),
		Logs:                        logs,
		Metrics:                     metrics,
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("diagnostic setting %s: %w", name, err)
	}
	return setting, nil
}

// Built-in Azure role definition ids used by Sluice (least privilege).
const (
	RoleAcrPull               = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
	RoleEventHubsDataReceiver = "a638d3c7-ab3a-418d-83e6-5f17a39d4fde"
	RoleEventHubsDataSender   = "2b629674-e913-4c01-ae53-ef4638d8f975"
	RoleKeyVaultSecretsUser   = "4633458b-17de-408a-b874-0445c86b69e6"
	RoleStorageBlobDataReader = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
	RoleNetworkContributor    = "4d97b98b-1d4f-4787-a291-c67834d212e7"
	// RoleAKSRBACClusterAdmin is "Azure Kubernetes Service RBAC Cluster
	// Admin": the deployer's Kubernetes rights on a cluster with local
	// accounts off.
	RoleAKSRBACClusterAdmin = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
	// RoleKeyVaultCertificateUser reads a certificate with its key: the
	// application routing add-on's grant on the api's TLS certificate.
	RoleKeyVaultCertificateUser = "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba"
	// RoleStorageBlobDataContributor lets the reference-data seed write
	// the reference container.
	RoleStorageBlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
)

// RoleDefinitionID is the full id of a built-in role in the subscription.
func (e *Env) RoleDefinitionID(role string) string {
	return fmt.Sprintf("/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s", e.SubscriptionID, role)
}

// Grant assigns a built-in role to a service principal (a managed identity)
// on exactly one scope. Azure names the assignment with a GUID.
func (e *Env) Grant(ctx *pulumi.Context, name string, principalID pulumi.StringInput, role string, scope pulumi.StringInput, opts ...pulumi.ResourceOption) (*authorization.RoleAssignment, error) {
	return e.GrantPrincipal(ctx, name, principalID, "ServicePrincipal", role, scope, opts...)
}

// GrantPrincipal is Grant for a principal of any type (User, Group,
// ServicePrincipal), as Azure RBAC records it. The type must be right: Azure
// refuses an assignment whose type does not match the principal (and the
// SDK would default an empty one to User).
func (e *Env) GrantPrincipal(ctx *pulumi.Context, name string, principalID pulumi.StringInput, principalType, role string, scope pulumi.StringInput, opts ...pulumi.ResourceOption) (*authorization.RoleAssignment, error) {
	ra, err := authorization.NewRoleAssignment(ctx, name, &authorization.RoleAssignmentArgs{
		PrincipalId:      principalID,
		PrincipalType:    pulumi.String(principalType),
		RoleDefinitionId: pulumi.String(e.RoleDefinitionID(role)),
		Scope:            scope,
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("role assignment %s: %w", name, err)
	}
	return ra, nil
}
