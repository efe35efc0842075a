package v20241101

import (
	"errors"
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/azurenative"
)

// Redis is a classic Azure Cache for Redis.
type Redis struct {
	pulumi.CustomResourceState

	DisableAccessKeyAuthentication pulumi.BoolPtrOutput     `pulumi:"disableAccessKeyAuthentication"`
	EnableNonSslPort               pulumi.BoolPtrOutput     `pulumi:"enableNonSslPort"`
	HostName                       pulumi.StringOutput      `pulumi:"hostName"`
	Location                       pulumi.StringOutput      `pulumi:"location"`
	MinimumTlsVersion              pulumi.StringPtrOutput   `pulumi:"minimumTlsVersion"`
	Name                           pulumi.StringOutput      `pulumi:"name"`
	PublicNetworkAccess            pulumi.StringPtrOutput   `pulumi:"publicNetworkAccess"`
	SslPort                        pulumi.IntOutput         `pulumi:"sslPort"`
	Tags                           pulumi.StringMapOutput   `pulumi:"tags"`
	Type                           pulumi.StringOutput      `pulumi:"type"`
	Zones                          pulumi.StringArrayOutput `pulumi:"zones"`
}

type redisArgs struct {
	DisableAccessKeyAuthentication *bool                                    `pulumi:"disableAccessKeyAuthentication"`
	EnableNonSslPort               *bool                                    `pulumi:"enableNonSslPort"`
	Location                       *string                                  `pulumi:"location"`
	MinimumTlsVersion              *string                                  `pulumi:"minimumTlsVersion"`
	Name                           *string                                  `pulumi:"name"`
	PublicNetworkAccess            *string                                  `pulumi:"publicNetworkAccess"`
	RedisConfiguration             *RedisCommonPropertiesRedisConfiguration `pulumi:"redisConfiguration"`
	RedisVersion                   *string                                  `pulumi:"redisVersion"`
	ResourceGroupName              string                                   `pulumi:"resourceGroupName"`
	Sku                            Sku                                      `pulumi:"sku"`
	Tags                           map[string]string                        `pulumi:"tags"`
	Zones                          []string                                 `pulumi:"zones"`
}

// RedisArgs are the inputs of a Redis cache.
type RedisArgs struct {
	DisableAccessKeyAuthentication pulumi.BoolPtrInput
	EnableNonSslPort               pulumi.BoolPtrInput
	Location                       pulumi.StringPtrInput
	// MinimumTlsVersion is "1.2".
	MinimumTlsVersion   pulumi.StringPtrInput
	Name                pulumi.StringPtrInput
	PublicNetworkAccess pulumi.StringPtrInput
	RedisConfiguration  RedisCommonPropertiesRedisConfigurationPtrInput
	RedisVersion        pulumi.StringPtrInput
	ResourceGroupName   pulumi.StringInput
	Sku                 SkuInput
	Tags                pulumi.StringMapInput
	Zones               pulumi.StringArrayInput
}

// ElementType implements pulumi.Input.
func (RedisArgs) ElementType() reflect.Type { return reflect.TypeOf((*redisArgs)(nil)).Elem() }

// NewRedis registers a cache. ResourceGroupName and Sku are required; like
// the SDK it defaults EnableNonSslPort to false and PublicNetworkAccess to
// "Enabled".
func NewRedis(ctx *pulumi.Context, name string, args *RedisArgs, opts ...pulumi.ResourceOption) (*Redis, error) {
	if args == nil {
		return nil, errors.New("missing one or more required arguments")
	}
	if args.ResourceGroupName == nil {
		return nil, errors.New("invalid value for required argument 'ResourceGroupName'")
	}
	if args.Sku == nil {
		return nil, errors.New("invalid value for required argument 'Sku'")
	}
	if args.EnableNonSslPort == nil {
		args.EnableNonSslPort = pulumi.BoolPtr(false)
	}
	if args.PublicNetworkAccess == nil {
		args.PublicNetworkAccess = pulumi.StringPtr("Enabled")
	}
	var r Redis
	if err := ctx.RegisterResource(RedisToken, name, args, &r, azurenative.ResourceOpts(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}

// AccessPolicyAssignment grants an Entra ID principal an access policy
// ("Data Owner", "Data Contributor" or "Data Reader") on a cache.
type AccessPolicyAssignment struct {
	pulumi.CustomResourceState

	AccessPolicyName pulumi.StringOutput `pulumi:"accessPolicyName"`
	Name             pulumi.StringOutput `pulumi:"name"`
	ObjectId         pulumi.StringOutput `pulumi:"objectId"`
	ObjectIdAlias    pulumi.StringOutput `pulumi:"objectIdAlias"`
	Type             pulumi.StringOutput `pulumi:"type"`
}

type accessPolicyAssignmentArgs struct {
	AccessPolicyAssignmentName *string `pulumi:"accessPolicyAssignmentName"`
	AccessPolicyName           string  `pulumi:"accessPolicyName"`
	CacheName                  string  `pulumi:"cacheName"`
	ObjectId                   string  `pulumi:"objectId"`
	ObjectIdAlias              string  `pulumi:"objectIdAlias"`
	ResourceGroupName          string  `pulumi:"resourceGroupName"`
}

// AccessPolicyAssignmentArgs are the inputs of an AccessPolicyAssignment.
type AccessPolicyAssignmentArgs struct {
	AccessPolicyAssignmentName pulumi.StringPtrInput
	AccessPolicyName           pulumi.StringInput
	CacheName                  pulumi.StringInput
	ObjectId                   pulumi.StringInput
	// ObjectIdAlias is the user name clients authenticate with.
	ObjectIdAlias     pulumi.StringInput
	ResourceGroupName pulumi.StringInput
}

// ElementType implements pulumi.Input.
func (AccessPolicyAssignmentArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*accessPolicyAssignmentArgs)(nil)).Elem()
}

// NewAccessPolicyAssignment registers an assignment; AccessPolicyName,
// CacheName, ObjectId, ObjectIdAlias and ResourceGroupName are required, as
// in the SDK.
func NewAccessPolicyAssignment(ctx *pulumi.Context, name string, args *AccessPolicyAssignmentArgs, opts ...pulumi.ResourceOption) (*AccessPolicyAssignment, error) {
	if args == nil {
		return nil, errors.New("missing one or more required arguments")
	}
	switch {
	case args.AccessPolicyName == nil:
		return nil, errors.New("invalid value for required argument 'AccessPolicyName'")
	case args.CacheName == nil:
		return nil, errors.New("invalid value for required argument 'CacheName'")
	case args.ObjectId == nil:
		return nil, errors.New("invalid value for required argument 'ObjectId'")
	case args.ObjectIdAlias == nil:
		return nil, errors.New("invalid value for required argument 'ObjectIdAlias'")
	case args.ResourceGroupName == nil:
		return nil, errors.New("invalid value for required argument 'ResourceGroupName'")
	}
	var r AccessPolicyAssignment
	if err := ctx.RegisterResource(AccessPolicyAssignmentToken, name, args, &r, azurenative.ResourceOpts(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}
