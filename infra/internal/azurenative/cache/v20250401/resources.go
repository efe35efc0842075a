package v20250401

import (
	"errors"
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/azurenative"
)

// RedisEnterprise is an Azure Managed Redis cluster.
type RedisEnterprise struct {
	pulumi.CustomResourceState

	HighAvailability  pulumi.StringPtrOutput   `pulumi:"highAvailability"`
	HostName          pulumi.StringOutput      `pulumi:"hostName"`
	Location          pulumi.StringOutput      `pulumi:"location"`
	MinimumTlsVersion pulumi.StringPtrOutput   `pulumi:"minimumTlsVersion"`
	Name              pulumi.StringOutput      `pulumi:"name"`
	Tags              pulumi.StringMapOutput   `pulumi:"tags"`
	Type              pulumi.StringOutput      `pulumi:"type"`
	Zones             pulumi.StringArrayOutput `pulumi:"zones"`
}

type redisEnterpriseArgs struct {
	ClusterName       *string           `pulumi:"clusterName"`
	HighAvailability  *string           `pulumi:"highAvailability"`
	Location          *string           `pulumi:"location"`
	MinimumTlsVersion *string           `pulumi:"minimumTlsVersion"`
	ResourceGroupName string            `pulumi:"resourceGroupName"`
	Sku               EnterpriseSku     `pulumi:"sku"`
	Tags              map[string]string `pulumi:"tags"`
	Zones             []string          `pulumi:"zones"`
}

// RedisEnterpriseArgs are the inputs of a RedisEnterprise cluster.
type RedisEnterpriseArgs struct {
	ClusterName pulumi.StringPtrInput
	// HighAvailability is "Enabled" (replicated, the default) or "Disabled".
	HighAvailability pulumi.StringPtrInput
	Location         pulumi.StringPtrInput
	// MinimumTlsVersion is "1.2".
	MinimumTlsVersion pulumi.StringPtrInput
	ResourceGroupName pulumi.StringInput
	Sku               EnterpriseSkuInput
	Tags              pulumi.StringMapInput
	Zones             pulumi.StringArrayInput
}

// ElementType implements pulumi.Input.
func (RedisEnterpriseArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*redisEnterpriseArgs)(nil)).Elem()
}

// NewRedisEnterprise registers a cluster; ResourceGroupName and Sku are
// required, as in the SDK.
func NewRedisEnterprise(ctx *pulumi.Context, name string, args *RedisEnterpriseArgs, opts ...pulumi.ResourceOption) (*RedisEnterprise, error) {
	if args == nil {
		return nil, errors.New("missing one or more required arguments")
	}
	if args.ResourceGroupName == nil {
		return nil, errors.New("invalid value for required argument 'ResourceGroupName'")
	}
	if args.Sku == nil {
		return nil, errors.New("invalid value for required argument 'Sku'")
	}
	var r RedisEnterprise
	if err := ctx.RegisterResource(RedisEnterpriseToken, name, args, &r, azurenative.ResourceOpts(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}

// Database is the (single) database of an Azure Managed Redis cluster.
type Database struct {
	pulumi.CustomResourceState

	AccessKeysAuthentication pulumi.StringPtrOutput `pulumi:"accessKeysAuthentication"`
	ClientProtocol           pulumi.StringPtrOutput `pulumi:"clientProtocol"`
	ClusteringPolicy         pulumi.StringPtrOutput `pulumi:"clusteringPolicy"`
	Name                     pulumi.StringOutput    `pulumi:"name"`
	Port                     pulumi.IntPtrOutput    `pulumi:"port"`
	Type                     pulumi.StringOutput    `pulumi:"type"`
}

type databaseArgs struct {
	AccessKeysAuthentication *string `pulumi:"accessKeysAuthentication"`
	ClientProtocol           *string `pulumi:"clientProtocol"`
	ClusterName              string  `pulumi:"clusterName"`
	ClusteringPolicy         *string `pulumi:"clusteringPolicy"`
	DatabaseName             *string `pulumi:"databaseName"`
	DeferUpgrade             *string `pulumi:"deferUpgrade"`
	EvictionPolicy           *string `pulumi:"evictionPolicy"`
	Port                     *int    `pulumi:"port"`
	ResourceGroupName        string  `pulumi:"resourceGroupName"`
}

// DatabaseArgs are the inputs of a Database.
type DatabaseArgs struct {
	// AccessKeysAuthentication is "Enabled" or "Disabled".
	AccessKeysAuthentication pulumi.StringPtrInput
	// ClientProtocol is "Encrypted" (TLS) or "Plaintext".
	ClientProtocol pulumi.StringPtrInput
	ClusterName    pulumi.StringInput
	// ClusteringPolicy is "OSSCluster" or "EnterpriseCluster".
	ClusteringPolicy  pulumi.StringPtrInput
	DatabaseName      pulumi.StringPtrInput
	DeferUpgrade      pulumi.StringPtrInput
	EvictionPolicy    pulumi.StringPtrInput
	Port              pulumi.IntPtrInput
	ResourceGroupName pulumi.StringInput
}

// ElementType implements pulumi.Input.
func (DatabaseArgs) ElementType() reflect.Type { return reflect.TypeOf((*databaseArgs)(nil)).Elem() }

// NewDatabase registers a database; ClusterName and ResourceGroupName are
// required, as in the SDK.
func NewDatabase(ctx *pulumi.Context, name string, args *DatabaseArgs, opts ...pulumi.ResourceOption) (*Database, error) {
	if args == nil {
		return nil, errors.New("missing one or more required arguments")
	}
	if args.ClusterName == nil {
		return nil, errors.New("invalid value for required argument 'ClusterName'")
	}
	if args.ResourceGroupName == nil {
		return nil, errors.New("invalid value for required argument 'ResourceGroupName'")
	}
	var r Database
	if err := ctx.RegisterResource(DatabaseToken, name, args, &r, azurenative.ResourceOpts(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}

// AccessPolicyAssignment grants an Entra ID principal the data access policy
// of a database (only the "default" policy exists).
type AccessPolicyAssignment struct {
	pulumi.CustomResourceState

	AccessPolicyName pulumi.StringOutput `pulumi:"accessPolicyName"`
	Name             pulumi.StringOutput `pulumi:"name"`
	Type             pulumi.StringOutput `pulumi:"type"`
}

type accessPolicyAssignmentArgs struct {
	AccessPolicyAssignmentName *string                              `pulumi:"accessPolicyAssignmentName"`
	AccessPolicyName           string                               `pulumi:"accessPolicyName"`
	ClusterName                string                               `pulumi:"clusterName"`
	DatabaseName               string                               `pulumi:"databaseName"`
	ResourceGroupName          string                               `pulumi:"resourceGroupName"`
	User                       AccessPolicyAssignmentPropertiesUser `pulumi:"user"`
}

// AccessPolicyAssignmentArgs are the inputs of an AccessPolicyAssignment.
type AccessPolicyAssignmentArgs struct {
	AccessPolicyAssignmentName pulumi.StringPtrInput
	AccessPolicyName           pulumi.StringInput
	ClusterName                pulumi.StringInput
	DatabaseName               pulumi.StringInput
	ResourceGroupName          pulumi.StringInput
	User                       AccessPolicyAssignmentPropertiesUserInput
}

// ElementType implements pulumi.Input.
func (AccessPolicyAssignmentArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*accessPolicyAssignmentArgs)(nil)).Elem()
}

// NewAccessPolicyAssignment registers an assignment; AccessPolicyName,
// ClusterName, DatabaseName, ResourceGroupName and User are required, as in
// the SDK.
func NewAccessPolicyAssignment(ctx *pulumi.Context, name string, args *AccessPolicyAssignmentArgs, opts ...pulumi.ResourceOption) (*AccessPolicyAssignment, error) {
	if args == nil {
		return nil, errors.New("missing one or more required arguments")
	}
	switch {
	case args.AccessPolicyName == nil:
		return nil, errors.New("invalid value for required argument 'AccessPolicyName'")
	case args.ClusterName == nil:
		return nil, errors.New("invalid value for required argument 'ClusterName'")
	case args.DatabaseName == nil:
		return nil, errors.New("invalid value for required argument 'DatabaseName'")
	case args.ResourceGroupName == nil:
		return nil, errors.New("invalid value for required argument 'ResourceGroupName'")
	case args.User == nil:
		return nil, errors.New("invalid value for required argument 'User'")
	}
	var r AccessPolicyAssignment
	if err := ctx.RegisterResource(AccessPolicyAssignmentToken, name, args, &r, azurenative.ResourceOpts(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}
