package privatelink

import (
	"fmt"

	"github.com/pulumi/pulumi-azure-native-sdk/network/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/components/base"
)

// Type is the component's type token.
const Type = "sluice:components:PrivateLink"

// Service is a Private Link sub-resource and its private DNS zone.
type Service struct {
	GroupID string
	Zone    string
}

// The services Sluice connects to privately.
var (
	EventHubs    = Service{GroupID: "namespace", Zone: "privatelink.servicebus.windows.net"}
	Cassandra    = Service{GroupID: "Cassandra", Zone: "privatelink.cassandra.cosmos.azure.com"}
	Postgres     = Service{GroupID: "postgresqlServer", Zone: "privatelink.postgres.database.azure.com"}
	ManagedRedis = Service{GroupID: "redisEnterprise", Zone: "privatelink.redis.azure.net"}
	ClassicRedis = Service{GroupID: "redisCache", Zone: "privatelink.redis.cache.windows.net"}
	KeyVault     = Service{GroupID: "vault", Zone: "privatelink.vaultcore.azure.net"}
	Registry     = Service{GroupID: "registry", Zone: "privatelink.azurecr.io"}
	Blob         = Service{GroupID: "blob", Zone: "privatelink.blob.core.windows.net"}
	DFS          = Service{GroupID: "dfs", Zone: "privatelink.dfs.core.windows.net"}
)

// Args are the component's inputs.
type Args struct {
	Service  Service
	TargetID pulumi.StringInput
	SubnetID pulumi.StringInput
	VNetID   pulumi.StringInput
	// After are writes to the target the endpoint must follow: Azure
	// rejects a private endpoint connection while another write to the
	// same server runs (ServerBusy, 409).
	After []pulumi.Resource
}

// Endpoint is the component.
type Endpoint struct {
	pulumi.ResourceState

	PrivateEndpointID pulumi.StringOutput
	ZoneID            pulumi.StringOutput
	// Ready are what a client inside the VNet needs before it connects:
	// the endpoint, the zone's VNet link and the DNS zone group.
	Ready []pulumi.Resource
	// Connection is the private endpoint resource: the write to the target
	// that the target's next write waits for. Wait for it, not for the
	// component: the SDK expands a component into the children it has
	// registered so far, which may not include them yet.
	Connection pulumi.Resource
}

// New declares the endpoint, zone, VNet link and zone group.
func New(ctx *pulumi.Context, name string, env *base.Env, args Args, opts ...pulumi.ResourceOption) (*Endpoint, error) {
	c := &Endpoint{}
	if err := ctx.RegisterComponentResource(Type, name, c, opts...); err != nil {
		return nil, fmt.Errorf("register private link %s: %w", name, err)
	}
	parent := pulumi.Parent(c)
	peOpts := []pulumi.ResourceOption{parent}
	if len(args.After) > 0 {
		peOpts = append(peOpts, pulumi.DependsOn(args.After))
	}
	pe, err := network.NewPrivateEndpoint(ctx, name+"-pe", &network.PrivateEndpointArgs{
		ResourceGroupName: env.ResourceGroupName,
		Location:          env.Location(),
		Subnet:            network.SubnetTypeArgs{Id: args.SubnetID},
		PrivateLinkServiceConnections: network.PrivateLinkServiceConnectionArray{
			network.PrivateLinkServiceConnectionArgs{
				Name:                 pulumi.String(name),
				GroupIds:             pulumi.StringArray{pulumi.String(args.Service.GroupID)},
				PrivateLinkServiceId: args.TargetID,
			},
		},
		Tags: env.Tags(),
	}, peOpts...)
	if err != nil {
		return nil, fmt.Errorf("private endpoint %s: %w", name, err)
	}
	zone, err := network.NewPrivateZone(ctx, name+"-zone", &network.PrivateZoneArgs{
		ResourceGroupName: env.ResourceGroupName,
		PrivateZoneName:   pulumi.String(args.Service.Zone),
		Location:          pulumi.String("global"),
		Tags:              env.Tags(),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("private dns zone %s: %w", args.Service.Zone, err)
	}
	link, err := network.NewVirtualNetworkLink(ctx, name+"-vnet-link", &network.VirtualNetworkLinkArgs{
		ResourceGroupName:   env.ResourceGroupName,
		PrivateZoneName:     zone.Name,
		Location:            pulumi.String("global"),
		RegistrationEnabled: pulumi.Bool(false),
		VirtualNetwork:      network.SubResourceArgs{Id: args.VNetID},
		Tags:                env.Tags(),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("vnet link %s: %w", args.Service.Zone, err)
	}
	group, err := network.NewPrivateDnsZoneGroup(ctx, name+"-dns", &network.PrivateDnsZoneGroupArgs{
		ResourceGroupName:       env.ResourceGroupName,
		PrivateEndpointName:     pe.Name,
		PrivateDnsZoneGroupName: pulumi.String("default"),
		PrivateDnsZoneConfigs: network.PrivateDnsZoneConfigArray{
			network.PrivateDnsZoneConfigArgs{Name: pulumi.String(args.Service.GroupID), PrivateDnsZoneId: zone.ID().ToStringOutput()},
		},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("dns zone group %s: %w", name, err)
	}
	c.Ready = []pulumi.Resource{pe, link, group}
	c.Connection = pe
	c.PrivateEndpointID = pe.ID().ToStringOutput()
	c.ZoneID = zone.ID().ToStringOutput()
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"privateEndpointId": c.PrivateEndpointID,
		"zoneId":            c.ZoneID,
		"groupId":           pulumi.String(args.Service.GroupID),
	}); err != nil {
		return nil, fmt.Errorf("register private link outputs: %w", err)
	}
	return c, nil
}

// Connect puts target behind a private endpoint when the stack uses private
// networking, and does nothing otherwise. The caller disables the service's
// public network access with env.PublicNetworkAccess.
func Connect(ctx *pulumi.Context, name string, env *base.Env, service Service, target pulumi.StringInput, opts ...pulumi.ResourceOption) error {
	_, err := ConnectAfter(ctx, name, env, service, target, nil, opts...)
	return err
}

// Open is Connect returning what clients wait for: the endpoint's Ready
// resources, or none without private networking.
func Open(ctx *pulumi.Context, name string, env *base.Env, service Service, target pulumi.StringInput, opts ...pulumi.ResourceOption) ([]pulumi.Resource, error) {
	e, err := ConnectAfter(ctx, name, env, service, target, nil, opts...)
	if err != nil || e == nil {
		return nil, err
	}
	return e.Ready, nil
}

// ConnectAfter is Connect for a target whose writes are serialised: the
// private endpoint waits for after, and the endpoint (nil without private
// networking) is returned so the next write can wait for it.
func ConnectAfter(ctx *pulumi.Context, name string, env *base.Env, service Service, target pulumi.StringInput, after []pulumi.Resource, opts ...pulumi.ResourceOption) (*Endpoint, error) {
	if !env.Config.PrivateNetworking {
		return nil, nil
	}
	return New(ctx, name, env, Args{
		Service:  service,
		TargetID: target,
		SubnetID: env.PrivateEndpointsSubnetID,
		VNetID:   env.VNetID,
		After:    after,
	}, opts...)
}
