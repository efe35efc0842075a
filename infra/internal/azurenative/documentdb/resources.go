package documentdb

import (
	"errors"
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/azurenative"
)

// DatabaseAccount is an Azure Cosmos DB database account.
type DatabaseAccount struct {
	pulumi.CustomResourceState

	DocumentEndpoint    pulumi.StringOutput    `pulumi:"documentEndpoint"`
	Location            pulumi.StringPtrOutput `pulumi:"location"`
	MinimalTlsVersion   pulumi.StringPtrOutput `pulumi:"minimalTlsVersion"`
	Name                pulumi.StringOutput    `pulumi:"name"`
	PublicNetworkAccess pulumi.StringPtrOutput `pulumi:"publicNetworkAccess"`
	Tags                pulumi.StringMapOutput `pulumi:"tags"`
	Type                pulumi.StringOutput    `pulumi:"type"`
}

type databaseAccountArgs struct {
	AccountName                        *string                  `pulumi:"accountName"`
	BackupPolicy                       interface{}              `pulumi:"backupPolicy"`
	Capabilities                       []Capability             `pulumi:"capabilities"`
	ConsistencyPolicy                  *ConsistencyPolicy       `pulumi:"consistencyPolicy"`
	CreateMode                         *string                  `pulumi:"createMode"`
	DatabaseAccountOfferType           DatabaseAccountOfferType `pulumi:"databaseAccountOfferType"`
	DisableKeyBasedMetadataWriteAccess *bool                    `pulumi:"disableKeyBasedMetadataWriteAccess"`
	DisableLocalAuth                   *bool                    `pulumi:"disableLocalAuth"`
	EnableAutomaticFailover            *bool                    `pulumi:"enableAutomaticFailover"`
	EnableFreeTier                     *bool                    `pulumi:"enableFreeTier"`
	EnableMultipleWriteLocations       *bool                    `pulumi:"enableMultipleWriteLocations"`
	IsVirtualNetworkFilterEnabled      *bool                    `pulumi:"isVirtualNetworkFilterEnabled"`
	Kind                               *string                  `pulumi:"kind"`
	Location                           *string                  `pulumi:"location"`
	Locations                          []Location               `pulumi:"locations"`
	MinimalTlsVersion                  *string                  `pulumi:"minimalTlsVersion"`
	PublicNetworkAccess                *string                  `pulumi:"publicNetworkAccess"`
	ResourceGroupName                  string                   `pulumi:"resourceGroupName"`
	Tags                               map[string]string        `pulumi:"tags"`
}

// DatabaseAccountArgs are the inputs of a DatabaseAccount.
type DatabaseAccountArgs struct {
	AccountName pulumi.StringPtrInput
	// BackupPolicy takes ContinuousModeBackupPolicyArgs or
	// PeriodicModeBackupPolicyArgs.
	BackupPolicy                       pulumi.Input
	Capabilities                       CapabilityArrayInput
	ConsistencyPolicy                  ConsistencyPolicyPtrInput
	CreateMode                         pulumi.StringPtrInput
	DatabaseAccountOfferType           DatabaseAccountOfferTypeInput
	DisableKeyBasedMetadataWriteAccess pulumi.BoolPtrInput
	DisableLocalAuth                   pulumi.BoolPtrInput
	EnableAutomaticFailover            pulumi.BoolPtrInput
	EnableFreeTier                     pulumi.BoolPtrInput
	EnableMultipleWriteLocations       pulumi.BoolPtrInput
	IsVirtualNetworkFilterEnabled      pulumi.BoolPtrInput
	Kind                               pulumi.StringPtrInput
	Location                           pulumi.StringPtrInput
	Locations                          LocationArrayInput
	// MinimalTlsVersion is "Tls12" for TLS 1.2.
	MinimalTlsVersion   pulumi.StringPtrInput
	PublicNetworkAccess pulumi.StringPtrInput
	ResourceGroupName   pulumi.StringInput
	Tags                pulumi.StringMapInput
}

// ElementType implements pulumi.Input.
func (DatabaseAccountArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*databaseAccountArgs)(nil)).Elem()
}

// NewDatabaseAccount registers a DatabaseAccount. Like the SDK it requires
// DatabaseAccountOfferType, Locations and ResourceGroupName and defaults
// CreateMode to "Default" and Kind to "GlobalDocumentDB".
func NewDatabaseAccount(ctx *pulumi.Context, name string, args *DatabaseAccountArgs, opts ...pulumi.ResourceOption) (*DatabaseAccount, error) {
	if args == nil {
		return nil, errors.New("missing one or more required arguments")
	}
	if args.DatabaseAccountOfferType == nil {
		return nil, errors.New("invalid value for required argument 'DatabaseAccountOfferType'")
	}
	if args.Locations == nil {
		return nil, errors.New("invalid value for required argument 'Locations'")
	}
	if args.ResourceGroupName == nil {
		return nil, errors.New("invalid value for required argument 'ResourceGroupName'")
	}
	if args.CreateMode == nil {
		args.CreateMode = pulumi.StringPtr("Default")
	}
	if args.Kind == nil {
		args.Kind = pulumi.StringPtr("GlobalDocumentDB")
	}
	var r DatabaseAccount
	if err := ctx.RegisterResource(DatabaseAccountToken, name, args, &r, azurenative.ResourceOpts(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}

// CassandraResourceCassandraKeyspace is a Cassandra keyspace of an account.
type CassandraResourceCassandraKeyspace struct {
	pulumi.CustomResourceState

	Name pulumi.StringOutput `pulumi:"name"`
	Type pulumi.StringOutput `pulumi:"type"`
}

type cassandraResourceCassandraKeyspaceArgs struct {
	AccountName       string                    `pulumi:"accountName"`
	KeyspaceName      *string                   `pulumi:"keyspaceName"`
	Location          *string                   `pulumi:"location"`
	Options           *CreateUpdateOptions      `pulumi:"options"`
	Resource          CassandraKeyspaceResource `pulumi:"resource"`
	ResourceGroupName string                    `pulumi:"resourceGroupName"`
	Tags              map[string]string         `pulumi:"tags"`
}

// CassandraResourceCassandraKeyspaceArgs are the inputs of a keyspace.
type CassandraResourceCassandraKeyspaceArgs struct {
	AccountName       pulumi.StringInput
	KeyspaceName      pulumi.StringPtrInput
	Location          pulumi.StringPtrInput
	Options           CreateUpdateOptionsPtrInput
	Resource          CassandraKeyspaceResourceInput
	ResourceGroupName pulumi.StringInput
	Tags              pulumi.StringMapInput
}

// ElementType implements pulumi.Input.
func (CassandraResourceCassandraKeyspaceArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*cassandraResourceCassandraKeyspaceArgs)(nil)).Elem()
}

// NewCassandraResourceCassandraKeyspace registers a keyspace. AccountName,
// Resource and ResourceGroupName are required, as in the SDK.
func NewCassandraResourceCassandraKeyspace(ctx *pulumi.Context, name string, args *CassandraResourceCassandraKeyspaceArgs, opts ...pulumi.ResourceOption) (*CassandraResourceCassandraKeyspace, error) {
	if args == nil {
		return nil, errors.New("missing one or more required arguments")
	}
	if args.AccountName == nil {
		return nil, errors.New("invalid value for required argument 'AccountName'")
	}
	if args.Resource == nil {
		return nil, errors.New("invalid value for required argument 'Resource'")
	}
	if args.ResourceGroupName == nil {
		return nil, errors.New("invalid value for required argument 'ResourceGroupName'")
	}
	var r CassandraResourceCassandraKeyspace
	if err := ctx.RegisterResource(CassandraResourceCassandraKeyspaceToken, name, args, &r, azurenative.ResourceOpts(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}

// CassandraResourceCassandraTable is a Cassandra table of a keyspace.
type CassandraResourceCassandraTable struct {
	pulumi.CustomResourceState

	Name pulumi.StringOutput `pulumi:"name"`
	Type pulumi.StringOutput `pulumi:"type"`
}

type cassandraResourceCassandraTableArgs struct {
	AccountName       string                 `pulumi:"accountName"`
	KeyspaceName      string                 `pulumi:"keyspaceName"`
	Location          *string                `pulumi:"location"`
	Options           *CreateUpdateOptions   `pulumi:"options"`
	Resource          CassandraTableResource `pulumi:"resource"`
	ResourceGroupName string                 `pulumi:"resourceGroupName"`
	TableName         *string                `pulumi:"tableName"`
	Tags              map[string]string      `pulumi:"tags"`
}

// CassandraResourceCassandraTableArgs are the inputs of a table.
type CassandraResourceCassandraTableArgs struct {
	AccountName       pulumi.StringInput
	KeyspaceName      pulumi.StringInput
	Location          pulumi.StringPtrInput
	Options           CreateUpdateOptionsPtrInput
	Resource          CassandraTableResourceInput
	ResourceGroupName pulumi.StringInput
	TableName         pulumi.StringPtrInput
	Tags              pulumi.StringMapInput
}

// ElementType implements pulumi.Input.
func (CassandraResourceCassandraTableArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*cassandraResourceCassandraTableArgs)(nil)).Elem()
}

// NewCassandraResourceCassandraTable registers a table. AccountName,
// KeyspaceName, Resource and ResourceGroupName are required, as in the SDK.
func NewCassandraResourceCassandraTable(ctx *pulumi.Context, name string, args *CassandraResourceCassandraTableArgs, opts ...pulumi.ResourceOption) (*CassandraResourceCassandraTable, error) {
	if args == nil {
		return nil, errors.New("missing one or more required arguments")
	}
	if args.AccountName == nil {
		return nil, errors.New("invalid value for required argument 'AccountName'")
	}
	if args.KeyspaceName == nil {
		return nil, errors.New("invalid value for required argument 'KeyspaceName'")
	}
	if args.Resource == nil {
		return nil, errors.New("invalid value for required argument 'Resource'")
	}
	if args.ResourceGroupName == nil {
		return nil, errors.New("invalid value for required argument 'ResourceGroupName'")
	}
	var r CassandraResourceCassandraTable
	if err := ctx.RegisterResource(CassandraResourceCassandraTableToken, name, args, &r, azurenative.ResourceOpts(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}
