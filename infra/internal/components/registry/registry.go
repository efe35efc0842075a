package registry

import (
	"fmt"

	"github.com/pulumi/pulumi-azure-native-sdk/containerregistry/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/components/base"
	"github.com/sluicehq/sluice/infra/internal/components/privatelink"
)

// Type is the component's type token.
const Type = "sluice:components:Registry"

// Registry is the component.
type Registry struct {
	pulumi.ResourceState

	RegistryID  pulumi.StringOutput
	LoginServer pulumi.StringOutput
}

// New declares the registry. Its logical name has no hyphen: registry names
// are alphanumeric.
func New(ctx *pulumi.Context, name string, env *base.Env, opts ...pulumi.ResourceOption) (*Registry, error) {
	c := &Registry{}
	if err := ctx.RegisterComponentResource(Type, name, c, opts...); err != nil {
		return nil, fmt.Errorf("register registry: %w", err)
	}
	parent := pulumi.Parent(c)
	zoneRedundancy := "Disabled"
	if env.Config.ZoneRedundant() {
		zoneRedundancy = "Enabled"
	}
	reg, err := containerregistry.NewRegistry(ctx, name, &containerregistry.RegistryArgs{
		ResourceGroupName:   env.ResourceGroupName,
		Location:            env.Location(),
		Sku:                 containerregistry.SkuArgs{Name: pulumi.String(env.Config.ACR.SKU)},
		AdminUserEnabled:    pulumi.Bool(false),
		PublicNetworkAccess: env.PublicNetworkAccess(),
		ZoneRedundancy:      pulumi.String(zoneRedundancy),
		Tags:                env.Tags(),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("container registry: %w", err)
	}
	c.RegistryID = reg.ID().ToStringOutput()
	c.LoginServer = reg.LoginServer
	if err := privatelink.Connect(ctx, name+"-link", env, privatelink.Registry, c.RegistryID, parent); err != nil {
		return nil, fmt.Errorf("registry private link: %w", err)
	}
	if err := env.Diagnose(ctx, name+"-diagnostics", c.RegistryID, base.AllLogsAndMetrics, parent); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"registryId":  c.RegistryID,
		"loginServer": c.LoginServer,
	}); err != nil {
		return nil, fmt.Errorf("register registry outputs: %w", err)
	}
	return c, nil
}
