package v20250701

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/pulumi/pulumi-azure-native-sdk/resources/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/azurenative"
)

// RedisEnterprise is an Azure Managed Redis cluster.
type RedisEnterprise struct {
	// Resource is the generic ARM resource; its Name is the cluster name.
	*resources.Resource
	// HostName is the cluster's host name (properties.hostName),
	// <name>.<region>.redis.azure.net.
	HostName pulumi.StringOutput
}

type redisEnterpriseArgs struct {
	ClusterName         *string           `pulumi:"clusterName"`
	HighAvailability    *string           `pulumi:"highAvailability"`
	Location            *string           `pulumi:"location"`
	MinimumTlsVersion   *string           `pulumi:"minimumTlsVersion"`
	PublicNetworkAccess string            `pulumi:"publicNetworkAccess"`
	ResourceGroupName   string            `pulumi:"resourceGroupName"`
	Sku                 EnterpriseSku     `pulumi:"sku"`
	Tags                map[string]string `pulumi:"tags"`
}

// RedisEnterpriseArgs are the inputs of a RedisEnterprise cluster.
type RedisEnterpriseArgs struct {
	// ClusterName is required here (the generic resource is not
	// auto-named): ^(?=.{1,60}$)[A-Za-z0-9]+(-[A-Za-z0-9]+)*$, globally
	// unique (it is the host name's first label).
	ClusterName pulumi.StringPtrInput
	// HighAvailability is "Enabled" (replicated, the default) or "Disabled".
	HighAvailability pulumi.StringPtrInput
	Location         pulumi.StringPtrInput
	// MinimumTlsVersion is "1.2".
	MinimumTlsVersion pulumi.StringPtrInput
	// PublicNetworkAccess is "Enabled" or "Disabled"; required from
	// 2025-07-01.
	PublicNetworkAccess pulumi.StringInput
	ResourceGroupName   pulumi.StringInput
	Sku                 EnterpriseSkuInput
	Tags                pulumi.StringMapInput
}

// ElementType implements pulumi.Input.
func (RedisEnterpriseArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*redisEnterpriseArgs)(nil)).Elem()
}

// properties collects the set inputs under their wire names.
type properties pulumi.Map

func (p properties) set(name string, in pulumi.Input, isNil bool) {
	if !isNil {
		p[name] = in
	}
}

// NewRedisEnterprise registers a cluster; ClusterName, PublicNetworkAccess,
// ResourceGroupName and Sku are required.
func NewRedisEnterprise(ctx *pulumi.Context, name string, args *RedisEnterpriseArgs, opts ...pulumi.ResourceOption) (*RedisEnterprise, error) {
	if args == nil {
		return nil, errors.New("missing one or more required arguments")
	}
	switch {
	case args.ClusterName == nil:
		return nil, errors.New("invalid value for required argument 'ClusterName'")
	case args.PublicNetworkAccess == nil:
		return nil, errors.New("invalid value for required argument 'PublicNetworkAccess'")
	case args.ResourceGroupName == nil:
		return nil, errors.New("invalid value for required argument 'ResourceGroupName'")
	case args.Sku == nil:
		return nil, errors.New("invalid value for required argument 'Sku'")
	}
	sku, ok := args.Sku.(EnterpriseSkuArgs)
	if !ok || sku.Name == nil {
		return nil, errors.New("invalid value for required argument 'Sku': want EnterpriseSkuArgs with a Name")
	}
	props := properties{"publicNetworkAccess": args.PublicNetworkAccess}
	props.set("highAvailability", args.HighAvailability, args.HighAvailability == nil)
	props.set("minimumTlsVersion", args.MinimumTlsVersion, args.MinimumTlsVersion == nil)
	r, err := resources.NewResource(ctx, name, &resources.ResourceArgs{
		ApiVersion:                pulumi.String(APIVersion),
		ResourceProviderNamespace: pulumi.String(Namespace),
		ParentResourcePath:        pulumi.String(""),
		ResourceType:              pulumi.String(ClusterType),
		ResourceName:              args.ClusterName,
		ResourceGroupName:         args.ResourceGroupName,
		Location:                  args.Location,
		Sku:                       resources.SkuArgs{Name: sku.Name.ToStringOutput(), Capacity: sku.Capacity},
		Tags:                      args.Tags,
		Properties:                pulumi.Map(props),
	}, azurenative.ResourceOpts(opts)...)
	if err != nil {
		return nil, err
	}
	host := r.Properties.ApplyT(func(p any) (string, error) {
		m, _ := p.(map[string]any)
		h, _ := m["hostName"].(string)
		return h, nil
	}).(pulumi.StringOutput)
	return &RedisEnterprise{Resource: r, HostName: host}, nil
}

// Database is the (single) database of an Azure Managed Redis cluster.
type Database struct {
	// Resource is the generic ARM resource; its Name is the database name.
	*resources.Resource
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
	// ClusteringPolicy is "OSSCluster", "EnterpriseCluster" or
	// "NoCluster".
	ClusteringPolicy pulumi.StringPtrInput
	// DatabaseName is required here; Azure Managed Redis has one database,
	// "default".
	DatabaseName      pulumi.StringPtrInput
	DeferUpgrade      pulumi.StringPtrInput
	EvictionPolicy    pulumi.StringPtrInput
	Port              pulumi.IntPtrInput
	ResourceGroupName pulumi.StringInput
}

// ElementType implements pulumi.Input.
func (DatabaseArgs) ElementType() reflect.Type { return reflect.TypeOf((*databaseArgs)(nil)).Elem() }

// NewDatabase registers a database; ClusterName, DatabaseName and
// ResourceGroupName are required.
func NewDatabase(ctx *pulumi.Context, name string, args *DatabaseArgs, opts ...pulumi.ResourceOption) (*Database, error) {
	if args == nil {
		return nil, errors.New("missing one or more required arguments")
	}
	switch {
	case args.ClusterName == nil:
		return nil, errors.New("invalid value for required argument 'ClusterName'")
	case args.DatabaseName == nil:
		return nil, errors.New("invalid value for required argument 'DatabaseName'")
	case args.ResourceGroupName == nil:
		return nil, errors.New("invalid value for required argument 'ResourceGroupName'")
	}
	props := properties{}
	props.set("accessKeysAuthentication", args.AccessKeysAuthentication, args.AccessKeysAuthentication == nil)
	props.set("clientProtocol", args.ClientProtocol, args.ClientProtocol == nil)
	props.set("clusteringPolicy", args.ClusteringPolicy, args.ClusteringPolicy == nil)
	props.set("deferUpgrade", args.DeferUpgrade, args.DeferUpgrade == nil)
	props.set("evictionPolicy", args.EvictionPolicy, args.EvictionPolicy == nil)
	props.set("port", args.Port, args.Port == nil)
	r, err := resources.NewResource(ctx, name, &resources.ResourceArgs{
		ApiVersion:                pulumi.String(APIVersion),
		ResourceProviderNamespace: pulumi.String(Namespace),
		ParentResourcePath:        pulumi.Sprintf("%s/%s", ClusterType, args.ClusterName),
		ResourceType:              pulumi.String(DatabaseType),
		ResourceName:              args.DatabaseName,
		ResourceGroupName:         args.ResourceGroupName,
		Properties:                pulumi.Map(props),
	}, azurenative.ResourceOpts(opts)...)
	if err != nil {
		return nil, err
	}
	return &Database{Resource: r}, nil
}

// AccessPolicyAssignment grants an Entra ID principal the data access policy
// of a database (only the "default" policy exists).
type AccessPolicyAssignment struct {
	// Resource is the generic ARM resource; its Name is the assignment
	// name.
	*resources.Resource
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
	// AccessPolicyAssignmentName is required here: ^[A-Za-z0-9]{1,60}$.
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

// NewAccessPolicyAssignment registers an assignment; every input is
// required.
func NewAccessPolicyAssignment(ctx *pulumi.Context, name string, args *AccessPolicyAssignmentArgs, opts ...pulumi.ResourceOption) (*AccessPolicyAssignment, error) {
	if args == nil {
		return nil, errors.New("missing one or more required arguments")
	}
	switch {
	case args.AccessPolicyAssignmentName == nil:
		return nil, errors.New("invalid value for required argument 'AccessPolicyAssignmentName'")
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
	user, ok := args.User.(AccessPolicyAssignmentPropertiesUserArgs)
	if !ok || user.ObjectId == nil {
		return nil, errors.New("invalid value for required argument 'User': want AccessPolicyAssignmentPropertiesUserArgs with an ObjectId")
	}
	r, err := resources.NewResource(ctx, name, &resources.ResourceArgs{
		ApiVersion:                pulumi.String(APIVersion),
		ResourceProviderNamespace: pulumi.String(Namespace),
		ParentResourcePath:        pulumi.Sprintf("%s/%s/%s/%s", ClusterType, args.ClusterName, DatabaseType, args.DatabaseName),
		ResourceType:              pulumi.String(AccessPolicyAssignmentType),
		ResourceName:              args.AccessPolicyAssignmentName,
		ResourceGroupName:         args.ResourceGroupName,
		Properties: pulumi.Map{
			"accessPolicyName": args.AccessPolicyName,
			"user":             pulumi.Map{"objectId": user.ObjectId},
		},
	}, azurenative.ResourceOpts(opts)...)
	if err != nil {
		return nil, fmt.Errorf("access policy assignment: %w", err)
	}
	return &AccessPolicyAssignment{Resource: r}, nil
}
