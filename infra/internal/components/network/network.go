package network

import (
	"fmt"

	"github.com/pulumi/pulumi-azure-native-sdk/network/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/components/base"
)

// Type is the component's type token.
const Type = "sluice:components:Network"

// Network is the component.
type Network struct {
	pulumi.ResourceState

	VNetID                   pulumi.StringOutput
	AKSNodesSubnetID         pulumi.StringOutput
	PrivateEndpointsSubnetID pulumi.StringOutput
}

// New declares the virtual network and its subnets. Subnets are separate
// resources, created one after another (Azure serialises writes to a VNet).
func New(ctx *pulumi.Context, name string, env *base.Env, opts ...pulumi.ResourceOption) (*Network, error) {
	c := &Network{}
	if err := ctx.RegisterComponentResource(Type, name, c, opts...); err != nil {
		return nil, fmt.Errorf("register network: %w", err)
	}
	parent := pulumi.Parent(c)
	n := env.Config.Network
	vnet, err := network.NewVirtualNetwork(ctx, name+"-vnet", &network.VirtualNetworkArgs{
		ResourceGroupName: env.ResourceGroupName,
		Location:          env.Location(),
		AddressSpace:      network.AddressSpaceArgs{AddressPrefixes: pulumi.StringArray{pulumi.String(n.VNetCIDR)}},
		Tags:              env.Tags(),
	}, parent, pulumi.IgnoreChanges([]string{"subnets"}))
	if err != nil {
		return nil, fmt.Errorf("virtual network: %w", err)
	}
	nodes, err := network.NewSubnet(ctx, name+"-aks-nodes", &network.SubnetArgs{
		ResourceGroupName:  env.ResourceGroupName,
		VirtualNetworkName: vnet.Name,
		SubnetName:         pulumi.String("aks-nodes"),
		AddressPrefix:      pulumi.String(n.AKSNodesSubnetCIDR),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("aks nodes subnet: %w", err)
	}
	endpoints, err := network.NewSubnet(ctx, name+"-private-endpoints", &network.SubnetArgs{
		ResourceGroupName:  env.ResourceGroupName,
		VirtualNetworkName: vnet.Name,
		SubnetName:         pulumi.String("private-endpoints"),
		AddressPrefix:      pulumi.String(n.PrivateEndpointsSubnetCIDR),
		// Network policies (NSGs, route tables) apply to private endpoints too.
		PrivateEndpointNetworkPolicies: pulumi.String("Enabled"),
	}, parent, pulumi.DependsOn([]pulumi.Resource{nodes}))
	if err != nil {
		return nil, fmt.Errorf("private endpoints subnet: %w", err)
	}
	if err := env.Diagnose(ctx, name+"-vnet-diagnostics", vnet.ID().ToStringOutput(), base.AllLogsAndMetrics, parent); err != nil {
		return nil, err
	}
	c.VNetID = vnet.ID().ToStringOutput()
	c.AKSNodesSubnetID = nodes.ID().ToStringOutput()
	c.PrivateEndpointsSubnetID = endpoints.ID().ToStringOutput()
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"vnetId":                   c.VNetID,
		"aksNodesSubnetId":         c.AKSNodesSubnetID,
		"privateEndpointsSubnetId": c.PrivateEndpointsSubnetID,
	}); err != nil {
		return nil, fmt.Errorf("register network outputs: %w", err)
	}
	return c, nil
}
