package eventhubs

import (
	"fmt"

	"github.com/pulumi/pulumi-azure-native-sdk/eventhub/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/components/base"
	"github.com/sluicehq/sluice/infra/internal/components/privatelink"
	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// Type is the component's type token.
const Type = "sluice:components:EventHubs"

// Hub (Kafka topic) names shared with the workloads.
const (
	EventsHub = "events"
	DLQHub    = "events.dlq"
)

// KafkaPort is the Kafka endpoint's port.
const KafkaPort = deploy.EventHubsKafkaPort

// Args are the component's inputs.
type Args struct {
	// Readers are the Kafka consumer groups on the events hub, one per
	// reading workload.
	Readers []string
}

// EventHubs is the component.
type EventHubs struct {
	pulumi.ResourceState

	NamespaceID   pulumi.StringOutput
	NamespaceName pulumi.StringOutput
	// KafkaBootstrap is "<namespace>.servicebus.windows.net:9093".
	KafkaBootstrap pulumi.StringOutput
	EventsHubID    pulumi.StringOutput
	DLQHubID       pulumi.StringOutput
}

// New declares the namespace, its hubs and consumer groups.
func New(ctx *pulumi.Context, name string, env *base.Env, args Args, opts ...pulumi.ResourceOption) (*EventHubs, error) {
	c := &EventHubs{}
	if err := ctx.RegisterComponentResource(Type, name, c, opts...); err != nil {
		return nil, fmt.Errorf("register event hubs: %w", err)
	}
	parent := pulumi.Parent(c)
	e := env.Config.EventHubs
	nsArgs := &eventhub.NamespaceArgs{
		ResourceGroupName: env.ResourceGroupName,
		Location:          env.Location(),
		Sku: eventhub.SkuArgs{
			Name:     pulumi.String(e.SKU),
			Tier:     pulumi.String(e.SKU),
			Capacity: pulumi.Int(e.Capacity),
		},
		KafkaEnabled:        pulumi.Bool(true),
		MinimumTlsVersion:   pulumi.String("1.2"),
		DisableLocalAuth:    pulumi.Bool(true),
		ZoneRedundant:       pulumi.Bool(env.Config.ZoneRedundant()),
		PublicNetworkAccess: env.PublicNetworkAccess(),
		Tags:                env.Tags(),
	}
	if e.AutoInflate {
		nsArgs.IsAutoInflateEnabled = pulumi.Bool(true)
		nsArgs.MaximumThroughputUnits = pulumi.Int(e.MaxThroughputUnits)
	}
	ns, err := eventhub.NewNamespace(ctx, name, nsArgs, env.DataStoreOptions(parent)...)
	if err != nil {
		return nil, fmt.Errorf("event hubs namespace: %w", err)
	}
	hub := func(logical, hubName string, partitions int) (*eventhub.EventHub, error) {
		h, err := eventhub.NewEventHub(ctx, logical, &eventhub.EventHubArgs{
			ResourceGroupName: env.ResourceGroupName,
			NamespaceName:     ns.Name,
			EventHubName:      pulumi.String(hubName),
			PartitionCount:    pulumi.Float64(float64(partitions)),
			RetentionDescription: eventhub.RetentionDescriptionArgs{
				CleanupPolicy:        pulumi.String("Delete"),
				RetentionTimeInHours: pulumi.Float64(float64(e.RetentionHours)),
			},
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("event hub %s: %w", hubName, err)
		}
		return h, nil
	}
	events, err := hub(name+"-events", EventsHub, e.Partitions)
	if err != nil {
		return nil, err
	}
	dlq, err := hub(name+"-events-dlq", DLQHub, e.DLQPartitions)
	if err != nil {
		return nil, err
	}
	for _, reader := range args.Readers {
		if _, err := eventhub.NewConsumerGroup(ctx, name+"-events-"+reader, &eventhub.ConsumerGroupArgs{
			ResourceGroupName: env.ResourceGroupName,
			NamespaceName:     ns.Name,
			EventHubName:      events.Name,
			ConsumerGroupName: pulumi.String(reader),
			UserMetadata:      pulumi.String("Kafka consumer group of the " + reader + " workload"),
		}, parent); err != nil {
			return nil, fmt.Errorf("consumer group %s: %w", reader, err)
		}
	}
	// Producers outside the cluster send with their own Entra ID identity
	// (SAS is off on the namespace): Data Sender on the events hub only.
	for _, p := range e.Producers() {
		if _, err := env.GrantPrincipal(ctx, name+"-producer-"+p.ObjectID, pulumi.String(p.ObjectID), p.PrincipalType,
			base.RoleEventHubsDataSender, events.ID().ToStringOutput(), parent); err != nil {
			return nil, err
		}
	}
	c.NamespaceID = ns.ID().ToStringOutput()
	c.NamespaceName = ns.Name
	c.KafkaBootstrap = pulumi.Sprintf("%s.servicebus.windows.net:%d", ns.Name, KafkaPort)
	c.EventsHubID = events.ID().ToStringOutput()
	c.DLQHubID = dlq.ID().ToStringOutput()
	if err := privatelink.Connect(ctx, name+"-link", env, privatelink.EventHubs, c.NamespaceID, parent); err != nil {
		return nil, fmt.Errorf("event hubs private link: %w", err)
	}
	if err := env.Diagnose(ctx, name+"-diagnostics", c.NamespaceID, base.AllLogsAndMetrics, parent); err != nil {
		return nil, err
	}
	if err := env.Lock(ctx, name+"-lock", c.NamespaceID, parent); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"namespaceId":    c.NamespaceID,
		"namespaceName":  c.NamespaceName,
		"kafkaBootstrap": c.KafkaBootstrap,
		"eventsHubId":    c.EventsHubID,
		"dlqHubId":       c.DLQHubID,
	}); err != nil {
		return nil, fmt.Errorf("register event hubs outputs: %w", err)
	}
	return c, nil
}
