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
	// DeployRunnerSubnetID is the deploy runner's subnet (config
	// sluice:deployRunner); nil without a runner.
	DeployRunnerSubnetID pulumi.StringOutput
	// DeployRunnerSubnet is that subnet's resource, for ordering; nil without.
	DeployRunnerSubnet pulumi.Resource
	// PowerBIGatewaySubnetID is the subnet delegated to the Power Platform
	// VNet data gateway (config sluice:powerBIGatewaySubnetCidr); nil
	// without one.
	PowerBIGatewaySubnetID pulumi.StringOutput
}

// PowerBIGatewayDelegation is the service a Power BI VNet data gateway's
// subnet is delegated to.
const PowerBIGatewayDelegation = "Microsoft.PowerPlatform/vnetaccesslinks"

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
	last := pulumi.Resource(endpoints)
	if env.Config.DeployRunner.Enabled {
		subnet, err := runnerSubnet(ctx, name, env, vnet, endpoints, parent)
		if err != nil {
			return nil, err
		}
		c.DeployRunnerSubnet = subnet
		c.DeployRunnerSubnetID = subnet.ID().ToStringOutput()
		last = subnet
	}
	if n.PowerBIGatewaySubnetCIDR != "" {
		subnet, err := powerBIGatewaySubnet(ctx, name, env, vnet, last, parent)
		if err != nil {
			return nil, err
		}
		c.PowerBIGatewaySubnetID = subnet.ID().ToStringOutput()
	}
	if err := env.Diagnose(ctx, name+"-vnet-diagnostics", vnet.ID().ToStringOutput(), base.AllLogsAndMetrics, parent); err != nil {
		return nil, err
	}
	c.VNetID = vnet.ID().ToStringOutput()
	c.AKSNodesSubnetID = nodes.ID().ToStringOutput()
	c.PrivateEndpointsSubnetID = endpoints.ID().ToStringOutput()
	outputs := pulumi.Map{
		"vnetId":                   c.VNetID,
		"aksNodesSubnetId":         c.AKSNodesSubnetID,
		"privateEndpointsSubnetId": c.PrivateEndpointsSubnetID,
	}
	if c.DeployRunnerSubnet != nil {
		outputs["deployRunnerSubnetId"] = c.DeployRunnerSubnetID
	}
	if n.PowerBIGatewaySubnetCIDR != "" {
		outputs["powerBIGatewaySubnetId"] = c.PowerBIGatewaySubnetID
	}
	if err := ctx.RegisterResourceOutputs(c, outputs); err != nil {
		return nil, fmt.Errorf("register network outputs: %w", err)
	}
	return c, nil
}

// runnerSubnet is the deploy runner's subnet: no inbound traffic at all (the
// runner only dials out, to GitHub, Azure and the private endpoints), and
// outbound to the internet through a NAT gateway with its own static address,
// because new subnets get no default outbound access.
func runnerSubnet(ctx *pulumi.Context, name string, env *base.Env, vnet *network.VirtualNetwork, after pulumi.Resource, parent pulumi.ResourceOption) (*network.Subnet, error) {
	nsg, err := denyInbound(ctx, name+"-runner-nsg", env, "deny-all-inbound", "*",
		"The deploy runner accepts no connection; it only dials out.", parent)
	if err != nil {
		return nil, fmt.Errorf("runner network security group: %w", err)
	}
	ip, err := network.NewPublicIPAddress(ctx, name+"-runner-egress-ip", &network.PublicIPAddressArgs{
		ResourceGroupName:        env.ResourceGroupName,
		Location:                 env.Location(),
		Sku:                      network.PublicIPAddressSkuArgs{Name: pulumi.String("Standard"), Tier: pulumi.String("Regional")},
		PublicIPAllocationMethod: pulumi.String("Static"),
		PublicIPAddressVersion:   pulumi.String("IPv4"),
		Zones:                    env.Zones(),
		Tags:                     env.Tags(),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("runner egress address: %w", err)
	}
	nat, err := network.NewNatGateway(ctx, name+"-runner-nat", &network.NatGatewayArgs{
		ResourceGroupName:    env.ResourceGroupName,
		Location:             env.Location(),
		Sku:                  network.NatGatewaySkuArgs{Name: pulumi.String("Standard")},
		PublicIpAddresses:    network.SubResourceArray{network.SubResourceArgs{Id: ip.ID()}},
		IdleTimeoutInMinutes: pulumi.Int(10),
		Tags:                 env.Tags(),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("runner NAT gateway: %w", err)
	}
	subnet, err := network.NewSubnet(ctx, name+"-deploy-runner", &network.SubnetArgs{
		ResourceGroupName:    env.ResourceGroupName,
		VirtualNetworkName:   vnet.Name,
		SubnetName:           pulumi.String("deploy-runner"),
		AddressPrefix:        pulumi.String(env.Config.Network.DeployRunnerSubnetCIDR),
		NetworkSecurityGroup: network.NetworkSecurityGroupTypeArgs{Id: nsg.ID()},
		NatGateway:           network.SubResourceArgs{Id: nat.ID()},
	}, parent, pulumi.DependsOn([]pulumi.Resource{after}))
	if err != nil {
		return nil, fmt.Errorf("runner subnet: %w", err)
	}
	return subnet, nil
}

// powerBIGatewaySubnet is the subnet a Power BI VNet data gateway runs in:
// delegated to the Power Platform, which injects the gateway's containers
// there when an administrator creates the gateway on this subnet (Power
// Platform admin center; the subscription needs the Microsoft.PowerPlatform
// provider registered). The gateway only dials out, to the private
// endpoints, so the subnet accepts no inbound connection from outside the
// VNet.
func powerBIGatewaySubnet(ctx *pulumi.Context, name string, env *base.Env, vnet *network.VirtualNetwork, after pulumi.Resource, parent pulumi.ResourceOption) (*network.Subnet, error) {
	nsg, err := denyInbound(ctx, name+"-powerbi-gateway-nsg", env, "deny-internet-inbound", "Internet",
		"The Power BI data gateway accepts no connection from the internet; it dials out to the private endpoints.", parent)
	if err != nil {
		return nil, fmt.Errorf("power bi gateway network security group: %w", err)
	}
	subnet, err := network.NewSubnet(ctx, name+"-powerbi-gateway", &network.SubnetArgs{
		ResourceGroupName:    env.ResourceGroupName,
		VirtualNetworkName:   vnet.Name,
		SubnetName:           pulumi.String("powerbi-gateway"),
		AddressPrefix:        pulumi.String(env.Config.Network.PowerBIGatewaySubnetCIDR),
		NetworkSecurityGroup: network.NetworkSecurityGroupTypeArgs{Id: nsg.ID()},
		Delegations: network.DelegationArray{network.DelegationArgs{
			Name:        pulumi.String("power-platform"),
			ServiceName: pulumi.String(PowerBIGatewayDelegation),
		}},
	}, parent, pulumi.DependsOn([]pulumi.Resource{after}))
	if err != nil {
		return nil, fmt.Errorf("power bi gateway subnet: %w", err)
	}
	return subnet, nil
}

// denyInbound is a network security group with one rule: deny every
// inbound connection from source (an address prefix or service tag, "*"
// for all).
func denyInbound(ctx *pulumi.Context, name string, env *base.Env, rule, source, why string, parent pulumi.ResourceOption) (*network.NetworkSecurityGroup, error) {
	return network.NewNetworkSecurityGroup(ctx, name, &network.NetworkSecurityGroupArgs{
		ResourceGroupName: env.ResourceGroupName,
		Location:          env.Location(),
		SecurityRules: network.SecurityRuleTypeArray{network.SecurityRuleTypeArgs{
			Name:                     pulumi.String(rule),
			Priority:                 pulumi.Int(4000),
			Direction:                pulumi.String("Inbound"),
			Access:                   pulumi.String("Deny"),
			Protocol:                 pulumi.String("*"),
			SourceAddressPrefix:      pulumi.String(source),
			SourcePortRange:          pulumi.String("*"),
			DestinationAddressPrefix: pulumi.String("*"),
			DestinationPortRange:     pulumi.String("*"),
			Description:              pulumi.String(why),
		}},
		Tags: env.Tags(),
	}, parent)
}
