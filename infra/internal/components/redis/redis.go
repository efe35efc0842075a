package redis

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	classic "github.com/sluicehq/sluice/infra/internal/azurenative/cache/v20241101"
	managed "github.com/sluicehq/sluice/infra/internal/azurenative/cache/v20250701"
	"github.com/sluicehq/sluice/infra/internal/components/base"
	"github.com/sluicehq/sluice/infra/internal/components/privatelink"
)

// Type is the component's type token.
const Type = "sluice:components:Redis"

// Ports of the two kinds of cache (TLS only).
const (
	ManagedPort = 10000
	ClassicPort = 6380
)

// Redis is the component.
type Redis struct {
	pulumi.ResourceState

	Host pulumi.StringOutput
	Port pulumi.IntOutput

	env         *base.Env
	name        string
	kind        string
	cacheName   pulumi.StringOutput
	dataPlane   pulumi.Resource
	lastGrant   pulumi.Resource
	grantParent pulumi.ResourceOption
	// ready are what clients wait for (see Ready).
	ready []pulumi.Resource
}

// New declares the cache.
func New(ctx *pulumi.Context, name string, env *base.Env, opts ...pulumi.ResourceOption) (*Redis, error) {
	c := &Redis{env: env, name: name, kind: env.Config.Redis.Kind}
	if err := ctx.RegisterComponentResource(Type, name, c, opts...); err != nil {
		return nil, fmt.Errorf("register redis: %w", err)
	}
	c.grantParent = pulumi.Parent(c)
	var (
		targetID pulumi.StringOutput
		service  privatelink.Service
		err      error
	)
	if c.kind == "classic" {
		targetID, err = c.classic(ctx)
		service = privatelink.ClassicRedis
	} else {
		targetID, err = c.managed(ctx)
		service = privatelink.ManagedRedis
	}
	if err != nil {
		return nil, err
	}
	// The private endpoint connection is a write to the cluster: it waits
	// for the database, and the access policy assignments wait for it.
	pe, err := privatelink.ConnectAfter(ctx, name+"-link", env, service, targetID, []pulumi.Resource{c.dataPlane}, c.grantParent)
	if err != nil {
		return nil, fmt.Errorf("redis private link: %w", err)
	}
	c.ready = append(c.ready, c.dataPlane)
	if pe != nil {
		c.ready = append(c.ready, pe.Ready...)
		c.dataPlane = pe.Connection
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"host": c.Host,
		"port": c.Port,
		"kind": pulumi.String(c.kind),
	}); err != nil {
		return nil, fmt.Errorf("register redis outputs: %w", err)
	}
	return c, nil
}

func (c *Redis) managed(ctx *pulumi.Context) (pulumi.StringOutput, error) {
	env, r := c.env, c.env.Config.Redis
	ha := "Disabled"
	if r.HighAvailability {
		ha = "Enabled"
	}
	cluster, err := managed.NewRedisEnterprise(ctx, c.name, &managed.RedisEnterpriseArgs{
		ClusterName:         pulumi.String(ClusterName(env.Config.Stack, env.SubscriptionID)),
		PublicNetworkAccess: env.PublicNetworkAccess(),
		ResourceGroupName:   env.ResourceGroupName,
		Location:            env.Location(),
		Sku:                 managed.EnterpriseSkuArgs{Name: pulumi.String(r.SKU)},
		MinimumTlsVersion:   pulumi.String("1.2"),
		// Azure Managed Redis places a replicated cluster across the
		// region's zones by itself; it takes no zone list.
		HighAvailability: pulumi.String(ha),
		Tags:             env.Tags(),
	}, c.grantParent)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("managed redis cluster: %w", err)
	}
	db, err := managed.NewDatabase(ctx, c.name+"-db", &managed.DatabaseArgs{
		ResourceGroupName:        env.ResourceGroupName,
		ClusterName:              cluster.Name,
		DatabaseName:             pulumi.String("default"),
		ClientProtocol:           pulumi.String("Encrypted"),
		Port:                     pulumi.Int(ManagedPort),
		ClusteringPolicy:         pulumi.String("EnterpriseCluster"),
		EvictionPolicy:           pulumi.String("AllKeysLRU"),
		AccessKeysAuthentication: pulumi.String("Disabled"),
	}, c.grantParent)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("managed redis database: %w", err)
	}
	c.cacheName = cluster.Name
	c.dataPlane = db
	c.Host = cluster.HostName
	c.Port = pulumi.Int(ManagedPort).ToIntOutput()
	id := cluster.ID().ToStringOutput()
	if err := env.Diagnose(ctx, c.name+"-diagnostics", id, base.Diagnostics{Metrics: []string{"AllMetrics"}}, c.grantParent); err != nil {
		return pulumi.StringOutput{}, err
	}
	if err := env.Diagnose(ctx, c.name+"-db-diagnostics", db.ID().ToStringOutput(), base.Diagnostics{LogCategoryGroups: []string{"allLogs"}}, c.grantParent); err != nil {
		return pulumi.StringOutput{}, err
	}
	return id, nil
}

func (c *Redis) classic(ctx *pulumi.Context) (pulumi.StringOutput, error) {
	env, r := c.env, c.env.Config.Redis
	family := "C"
	if r.SKU == "Premium" {
		family = "P"
	}
	args := &classic.RedisArgs{
		ResourceGroupName:              env.ResourceGroupName,
		Location:                       env.Location(),
		Sku:                            classic.SkuArgs{Name: pulumi.String(r.SKU), Family: pulumi.String(family), Capacity: pulumi.Int(r.Capacity)},
		EnableNonSslPort:               pulumi.Bool(false),
		MinimumTlsVersion:              pulumi.String("1.2"),
		DisableAccessKeyAuthentication: pulumi.Bool(true),
		PublicNetworkAccess:            env.PublicNetworkAccess(),
		RedisConfiguration: classic.RedisCommonPropertiesRedisConfigurationArgs{
			AadEnabled:      pulumi.String("true"),
			MaxmemoryPolicy: pulumi.String("allkeys-lru"),
		},
		Tags: env.Tags(),
	}
	if r.SKU == "Premium" {
		args.Zones = env.Zones()
	}
	cache, err := classic.NewRedis(ctx, c.name, args, c.grantParent)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("classic redis: %w", err)
	}
	c.cacheName = cache.Name
	c.dataPlane = cache
	c.Host = cache.HostName
	c.Port = pulumi.Int(ClassicPort).ToIntOutput()
	id := cache.ID().ToStringOutput()
	if err := env.Diagnose(ctx, c.name+"-diagnostics", id, base.AllLogsAndMetrics, c.grantParent); err != nil {
		return pulumi.StringOutput{}, err
	}
	return id, nil
}

// ClusterName is the managed cluster's name: the first label of its host
// name, so unique in Azure. The 2025-07-01 API is written through the
// generic resource, which azure-native does not auto-name; the suffix is
// derived from the subscription and the stack, so it is stable across
// deployments and distinct between stacks and subscriptions.
func ClusterName(stack, subscriptionID string) string {
	sum := sha256.Sum256([]byte(subscriptionID + "/" + stack))
	label := strings.Trim(nonAlphanumeric.ReplaceAllString(strings.ToLower(stack), "-"), "-")
	const prefix, room = "redis-sluice-", 60 - len("redis-sluice-") - 1 - 8
	if len(label) > room {
		label = strings.Trim(label[:room], "-")
	}
	if label == "" {
		return fmt.Sprintf("%s%x", prefix, sum[:4])
	}
	return fmt.Sprintf("%s%s-%x", prefix, label, sum[:4])
}

var nonAlphanumeric = regexp.MustCompile(`[^a-z0-9]+`)

// assignmentName is the REST spec's pattern of an access policy assignment
// name: letters and digits only, at most 60.
var assignmentName = regexp.MustCompile(`^[A-Za-z0-9]{1,60}$`)

// AssignmentName is the Azure name of the access policy assignment of the
// workload alias: the alias without its non-alphanumeric characters, so it
// is stable and, aliases being unique, unique per database. azure-native
// would otherwise name the child resource after its logical name, whose
// hyphens Azure rejects (HTTP 400).
func AssignmentName(alias string) (string, error) {
	name := strings.Map(func(r rune) rune {
		if ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9') {
			return r
		}
		return -1
	}, alias)
	if !assignmentName.MatchString(name) {
		return "", fmt.Errorf("redis access for %q: assignment name %q does not match %s", alias, name, assignmentName)
	}
	return name, nil
}

// GrantDataAccess lets an Entra ID principal (a workload identity) read and
// write keys: the "default" access policy of a managed database, or "Data
// Contributor" on a classic cache. Grants are written one after another.
func (c *Redis) GrantDataAccess(ctx *pulumi.Context, name string, principalID pulumi.StringInput, alias string) error {
	assignment, err := AssignmentName(alias)
	if err != nil {
		return err
	}
	after := c.dataPlane
	if c.lastGrant != nil {
		after = c.lastGrant
	}
	var grant pulumi.Resource
	if c.kind == "classic" {
		grant, err = classic.NewAccessPolicyAssignment(ctx, name, &classic.AccessPolicyAssignmentArgs{
			AccessPolicyAssignmentName: pulumi.String(assignment),
			ResourceGroupName:          c.env.ResourceGroupName,
			CacheName:                  c.cacheName,
			AccessPolicyName:           pulumi.String("Data Contributor"),
			ObjectId:                   principalID,
			ObjectIdAlias:              pulumi.String(alias),
		}, c.grantParent, pulumi.DependsOn([]pulumi.Resource{after}))
	} else {
		grant, err = managed.NewAccessPolicyAssignment(ctx, name, &managed.AccessPolicyAssignmentArgs{
			AccessPolicyAssignmentName: pulumi.String(assignment),
			ResourceGroupName:          c.env.ResourceGroupName,
			ClusterName:                c.cacheName,
			DatabaseName:               pulumi.String("default"),
			AccessPolicyName:           pulumi.String("default"),
			User:                       managed.AccessPolicyAssignmentPropertiesUserArgs{ObjectId: principalID},
		}, c.grantParent, pulumi.DependsOn([]pulumi.Resource{after}))
	}
	if err != nil {
		return fmt.Errorf("redis access for %s: %w", alias, err)
	}
	c.lastGrant = grant
	c.ready = append(c.ready, grant)
	return nil
}

// Ready are what a client waits for: the database (or classic cache),
// every access grant made so far (call it after the grants) and, with
// private networking, the private endpoint and its DNS.
func (c *Redis) Ready() []pulumi.Resource { return append([]pulumi.Resource(nil), c.ready...) }
