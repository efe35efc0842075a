package datalake

import (
	"fmt"

	"github.com/pulumi/pulumi-azure-native-sdk/storage/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/components/base"
	"github.com/sluicehq/sluice/infra/internal/components/privatelink"
)

// Type is the component's type token.
const Type = "sluice:components:DataLake"

// ReferenceContainer holds the reference Parquet files.
const ReferenceContainer = "reference"

// DataLake is the component.
type DataLake struct {
	pulumi.ResourceState

	AccountID   pulumi.StringOutput
	AccountName pulumi.StringOutput
	DfsEndpoint pulumi.StringOutput
	// ContainerID scopes the enrich workload's read grant.
	ContainerID pulumi.StringOutput
}

// New declares the account and the reference container. Its logical name
// has no hyphen: storage account names are lowercase alphanumeric.
func New(ctx *pulumi.Context, name string, env *base.Env, opts ...pulumi.ResourceOption) (*DataLake, error) {
	c := &DataLake{}
	if err := ctx.RegisterComponentResource(Type, name, c, opts...); err != nil {
		return nil, fmt.Errorf("register data lake: %w", err)
	}
	parent := pulumi.Parent(c)
	defaultAction := "Allow"
	if env.Config.PrivateNetworking {
		defaultAction = "Deny"
	}
	account, err := storage.NewStorageAccount(ctx, name, &storage.StorageAccountArgs{
		ResourceGroupName:            env.ResourceGroupName,
		Location:                     env.Location(),
		Kind:                         pulumi.String("StorageV2"),
		Sku:                          storage.SkuArgs{Name: pulumi.String(env.Config.Storage.SKU)},
		IsHnsEnabled:                 pulumi.Bool(true),
		MinimumTlsVersion:            pulumi.String("TLS1_2"),
		EnableHttpsTrafficOnly:       pulumi.Bool(true),
		AllowBlobPublicAccess:        pulumi.Bool(false),
		AllowSharedKeyAccess:         pulumi.Bool(false),
		DefaultToOAuthAuthentication: pulumi.Bool(true),
		AllowCrossTenantReplication:  pulumi.Bool(false),
		PublicNetworkAccess:          env.PublicNetworkAccess(),
		NetworkRuleSet: storage.NetworkRuleSetArgs{
			DefaultAction: storage.DefaultAction(defaultAction),
			Bypass:        pulumi.String("AzureServices"),
		},
		Tags: env.Tags(),
	}, env.DataStoreOptions(parent)...)
	if err != nil {
		return nil, fmt.Errorf("storage account: %w", err)
	}
	container, err := storage.NewBlobContainer(ctx, name+"-"+ReferenceContainer, &storage.BlobContainerArgs{
		ResourceGroupName: env.ResourceGroupName,
		AccountName:       account.Name,
		ContainerName:     pulumi.String(ReferenceContainer),
		PublicAccess:      storage.PublicAccessNone,
	}, env.DataStoreOptions(parent)...)
	if err != nil {
		return nil, fmt.Errorf("reference container: %w", err)
	}
	c.AccountID = account.ID().ToStringOutput()
	c.AccountName = account.Name
	c.DfsEndpoint = account.PrimaryEndpoints.Dfs()
	c.ContainerID = container.ID().ToStringOutput()
	for _, svc := range []privatelink.Service{privatelink.DFS, privatelink.Blob} {
		if err := privatelink.Connect(ctx, name+"-"+svc.GroupID+"-link", env, svc, c.AccountID, parent); err != nil {
			return nil, fmt.Errorf("storage %s private link: %w", svc.GroupID, err)
		}
	}
	// Accounts expose metrics only; blob logs live on the blob service.
	if err := env.Diagnose(ctx, name+"-diagnostics", c.AccountID, base.Diagnostics{Metrics: []string{"Transaction"}}, parent); err != nil {
		return nil, err
	}
	blobService := pulumi.Sprintf("%s/blobServices/default", c.AccountID)
	if err := env.Diagnose(ctx, name+"-blob-diagnostics", blobService, base.Diagnostics{LogCategoryGroups: []string{"allLogs"}, Metrics: []string{"Transaction"}}, parent); err != nil {
		return nil, err
	}
	if err := env.Lock(ctx, name+"-lock", c.AccountID, parent); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"accountId":   c.AccountID,
		"accountName": c.AccountName,
		"dfsEndpoint": c.DfsEndpoint,
		"containerId": c.ContainerID,
	}); err != nil {
		return nil, fmt.Errorf("register data lake outputs: %w", err)
	}
	return c, nil
}
