package keyvault

import (
	"fmt"

	"github.com/pulumi/pulumi-azure-native-sdk/keyvault/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/components/base"
	"github.com/sluicehq/sluice/infra/internal/components/privatelink"
)

// Type is the component's type token.
const Type = "sluice:components:KeyVault"

// Vault is the component.
type Vault struct {
	pulumi.ResourceState

	VaultID   pulumi.StringOutput
	VaultName pulumi.StringOutput
	VaultURI  pulumi.StringOutput
}

// New declares the vault.
func New(ctx *pulumi.Context, name string, env *base.Env, opts ...pulumi.ResourceOption) (*Vault, error) {
	c := &Vault{}
	if err := ctx.RegisterComponentResource(Type, name, c, opts...); err != nil {
		return nil, fmt.Errorf("register key vault: %w", err)
	}
	parent := pulumi.Parent(c)
	k := env.Config.KeyVault
	defaultAction := "Allow"
	if env.Config.PrivateNetworking {
		defaultAction = "Deny"
	}
	props := keyvault.VaultPropertiesArgs{
		TenantId:                  pulumi.String(env.TenantID),
		Sku:                       keyvault.SkuArgs{Family: pulumi.String("A"), Name: keyvault.SkuName(k.SKU)},
		EnableRbacAuthorization:   pulumi.Bool(true),
		EnableSoftDelete:          pulumi.Bool(true),
		SoftDeleteRetentionInDays: pulumi.Int(k.SoftDeleteRetentionDays),
		PublicNetworkAccess:       env.PublicNetworkAccess(),
		NetworkAcls: keyvault.NetworkRuleSetArgs{
			Bypass:        pulumi.String("AzureServices"),
			DefaultAction: pulumi.String(defaultAction),
		},
	}
	// Azure rejects enablePurgeProtection=false: leave it unset when off.
	if k.PurgeProtection {
		props.EnablePurgeProtection = pulumi.Bool(true)
	}
	vault, err := keyvault.NewVault(ctx, name, &keyvault.VaultArgs{
		ResourceGroupName: env.ResourceGroupName,
		Location:          env.Location(),
		Properties:        props,
		Tags:              env.Tags(),
	}, env.DataStoreOptions(parent)...)
	if err != nil {
		return nil, fmt.Errorf("key vault: %w", err)
	}
	c.VaultID = vault.ID().ToStringOutput()
	c.VaultName = vault.Name
	c.VaultURI = vault.Properties.VaultUri()
	if err := privatelink.Connect(ctx, name+"-link", env, privatelink.KeyVault, c.VaultID, parent); err != nil {
		return nil, fmt.Errorf("key vault private link: %w", err)
	}
	if err := env.Diagnose(ctx, name+"-diagnostics", c.VaultID, base.AllLogsAndMetrics, parent); err != nil {
		return nil, err
	}
	if err := env.Lock(ctx, name+"-lock", c.VaultID, parent); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"vaultId":   c.VaultID,
		"vaultName": c.VaultName,
		"vaultUri":  c.VaultURI,
	}); err != nil {
		return nil, fmt.Errorf("register key vault outputs: %w", err)
	}
	return c, nil
}
