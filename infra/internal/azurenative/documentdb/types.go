package documentdb

import (
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// DatabaseAccountOfferType is the offer type of an account; the only value is
// Standard.
type DatabaseAccountOfferType string

// DatabaseAccountOfferTypeStandard is the Standard offer.
const DatabaseAccountOfferTypeStandard = DatabaseAccountOfferType("Standard")

// ElementType implements pulumi.Input.
func (DatabaseAccountOfferType) ElementType() reflect.Type {
	return reflect.TypeOf((*DatabaseAccountOfferType)(nil)).Elem()
}

// DatabaseAccountOfferTypeInput is satisfied by DatabaseAccountOfferType.
type DatabaseAccountOfferTypeInput interface {
	pulumi.Input
	isDatabaseAccountOfferType()
}

func (DatabaseAccountOfferType) isDatabaseAccountOfferType() {}

// DefaultConsistencyLevel is an account's default consistency.
type DefaultConsistencyLevel string

// Consistency levels.
const (
	DefaultConsistencyLevelSession = DefaultConsistencyLevel("Session")
	DefaultConsistencyLevelStrong  = DefaultConsistencyLevel("Strong")
)

// ElementType implements pulumi.Input.
func (DefaultConsistencyLevel) ElementType() reflect.Type {
	return reflect.TypeOf((*DefaultConsistencyLevel)(nil)).Elem()
}

// DefaultConsistencyLevelInput is satisfied by DefaultConsistencyLevel.
type DefaultConsistencyLevelInput interface {
	pulumi.Input
	isDefaultConsistencyLevel()
}

func (DefaultConsistencyLevel) isDefaultConsistencyLevel() {}

// Capability is an account capability such as EnableCassandra.
type Capability struct {
	Name *string `pulumi:"name"`
}

// CapabilityArgs is the input form of Capability.
type CapabilityArgs struct {
	Name pulumi.StringPtrInput `pulumi:"name"`
}

// ElementType implements pulumi.Input.
func (CapabilityArgs) ElementType() reflect.Type { return reflect.TypeOf((*Capability)(nil)).Elem() }

// CapabilityInput is satisfied by CapabilityArgs.
type CapabilityInput interface {
	pulumi.Input
	isCapability()
}

func (CapabilityArgs) isCapability() {}

// CapabilityArray is a list of capabilities.
type CapabilityArray []CapabilityInput

// ElementType implements pulumi.Input.
func (CapabilityArray) ElementType() reflect.Type { return reflect.TypeOf((*[]Capability)(nil)).Elem() }

// CapabilityArrayInput is satisfied by CapabilityArray.
type CapabilityArrayInput interface {
	pulumi.Input
	isCapabilityArray()
}

func (CapabilityArray) isCapabilityArray() {}

// Location is one region of an account.
type Location struct {
	FailoverPriority *int    `pulumi:"failoverPriority"`
	IsZoneRedundant  *bool   `pulumi:"isZoneRedundant"`
	LocationName     *string `pulumi:"locationName"`
}

// LocationArgs is the input form of Location.
type LocationArgs struct {
	FailoverPriority pulumi.IntPtrInput    `pulumi:"failoverPriority"`
	IsZoneRedundant  pulumi.BoolPtrInput   `pulumi:"isZoneRedundant"`
	LocationName     pulumi.StringPtrInput `pulumi:"locationName"`
}

// ElementType implements pulumi.Input.
func (LocationArgs) ElementType() reflect.Type { return reflect.TypeOf((*Location)(nil)).Elem() }

// LocationInput is satisfied by LocationArgs.
type LocationInput interface {
	pulumi.Input
	isLocation()
}

func (LocationArgs) isLocation() {}

// LocationArray is a list of locations.
type LocationArray []LocationInput

// ElementType implements pulumi.Input.
func (LocationArray) ElementType() reflect.Type { return reflect.TypeOf((*[]Location)(nil)).Elem() }

// LocationArrayInput is satisfied by LocationArray.
type LocationArrayInput interface {
	pulumi.Input
	isLocationArray()
}

func (LocationArray) isLocationArray() {}

// ConsistencyPolicy is an account's consistency policy.
type ConsistencyPolicy struct {
	DefaultConsistencyLevel DefaultConsistencyLevel `pulumi:"defaultConsistencyLevel"`
	MaxIntervalInSeconds    *int                    `pulumi:"maxIntervalInSeconds"`
	MaxStalenessPrefix      *float64                `pulumi:"maxStalenessPrefix"`
}

// ConsistencyPolicyArgs is the input form of ConsistencyPolicy.
type ConsistencyPolicyArgs struct {
	DefaultConsistencyLevel DefaultConsistencyLevelInput `pulumi:"defaultConsistencyLevel"`
	MaxIntervalInSeconds    pulumi.IntPtrInput           `pulumi:"maxIntervalInSeconds"`
	MaxStalenessPrefix      pulumi.Float64PtrInput       `pulumi:"maxStalenessPrefix"`
}

// ElementType implements pulumi.Input.
func (ConsistencyPolicyArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*ConsistencyPolicy)(nil)).Elem()
}

// ConsistencyPolicyPtrInput is satisfied by ConsistencyPolicyArgs.
type ConsistencyPolicyPtrInput interface {
	pulumi.Input
	isConsistencyPolicy()
}

func (ConsistencyPolicyArgs) isConsistencyPolicy() {}

// ContinuousModeProperties configures continuous backup.
type ContinuousModeProperties struct {
	Tier *string `pulumi:"tier"`
}

// ContinuousModePropertiesArgs is the input form of ContinuousModeProperties.
type ContinuousModePropertiesArgs struct {
	Tier pulumi.StringPtrInput `pulumi:"tier"`
}

// ElementType implements pulumi.Input.
func (ContinuousModePropertiesArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*ContinuousModeProperties)(nil)).Elem()
}

// ContinuousModePropertiesPtrInput is satisfied by ContinuousModePropertiesArgs.
type ContinuousModePropertiesPtrInput interface {
	pulumi.Input
	isContinuousModeProperties()
}

func (ContinuousModePropertiesArgs) isContinuousModeProperties() {}

// ContinuousModeBackupPolicy is the continuous (point in time restore)
// backup policy; Type is "Continuous".
type ContinuousModeBackupPolicy struct {
	ContinuousModeProperties *ContinuousModeProperties `pulumi:"continuousModeProperties"`
	Type                     string                    `pulumi:"type"`
}

// ContinuousModeBackupPolicyArgs is the input form of ContinuousModeBackupPolicy.
type ContinuousModeBackupPolicyArgs struct {
	ContinuousModeProperties ContinuousModePropertiesPtrInput `pulumi:"continuousModeProperties"`
	Type                     pulumi.StringInput               `pulumi:"type"`
}

// ElementType implements pulumi.Input.
func (ContinuousModeBackupPolicyArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*ContinuousModeBackupPolicy)(nil)).Elem()
}

// PeriodicModeProperties configures periodic backup.
type PeriodicModeProperties struct {
	BackupIntervalInMinutes        *int    `pulumi:"backupIntervalInMinutes"`
	BackupRetentionIntervalInHours *int    `pulumi:"backupRetentionIntervalInHours"`
	BackupStorageRedundancy        *string `pulumi:"backupStorageRedundancy"`
}

// PeriodicModePropertiesArgs is the input form of PeriodicModeProperties.
type PeriodicModePropertiesArgs struct {
	BackupIntervalInMinutes        pulumi.IntPtrInput    `pulumi:"backupIntervalInMinutes"`
	BackupRetentionIntervalInHours pulumi.IntPtrInput    `pulumi:"backupRetentionIntervalInHours"`
	BackupStorageRedundancy        pulumi.StringPtrInput `pulumi:"backupStorageRedundancy"`
}

// ElementType implements pulumi.Input.
func (PeriodicModePropertiesArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*PeriodicModeProperties)(nil)).Elem()
}

// PeriodicModePropertiesPtrInput is satisfied by PeriodicModePropertiesArgs.
type PeriodicModePropertiesPtrInput interface {
	pulumi.Input
	isPeriodicModeProperties()
}

func (PeriodicModePropertiesArgs) isPeriodicModeProperties() {}

// PeriodicModeBackupPolicy is the periodic backup policy; Type is "Periodic".
type PeriodicModeBackupPolicy struct {
	PeriodicModeProperties *PeriodicModeProperties `pulumi:"periodicModeProperties"`
	Type                   string                  `pulumi:"type"`
}

// PeriodicModeBackupPolicyArgs is the input form of PeriodicModeBackupPolicy.
type PeriodicModeBackupPolicyArgs struct {
	PeriodicModeProperties PeriodicModePropertiesPtrInput `pulumi:"periodicModeProperties"`
	Type                   pulumi.StringInput             `pulumi:"type"`
}

// ElementType implements pulumi.Input.
func (PeriodicModeBackupPolicyArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*PeriodicModeBackupPolicy)(nil)).Elem()
}

// AutoscaleSettings sets autoscale throughput.
type AutoscaleSettings struct {
	MaxThroughput *int `pulumi:"maxThroughput"`
}

// AutoscaleSettingsArgs is the input form of AutoscaleSettings.
type AutoscaleSettingsArgs struct {
	MaxThroughput pulumi.IntPtrInput `pulumi:"maxThroughput"`
}

// ElementType implements pulumi.Input.
func (AutoscaleSettingsArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*AutoscaleSettings)(nil)).Elem()
}

// AutoscaleSettingsPtrInput is satisfied by AutoscaleSettingsArgs.
type AutoscaleSettingsPtrInput interface {
	pulumi.Input
	isAutoscaleSettings()
}

func (AutoscaleSettingsArgs) isAutoscaleSettings() {}

// CreateUpdateOptions carries the throughput of a keyspace or table.
type CreateUpdateOptions struct {
	AutoscaleSettings *AutoscaleSettings `pulumi:"autoscaleSettings"`
	Throughput        *int               `pulumi:"throughput"`
}

// CreateUpdateOptionsArgs is the input form of CreateUpdateOptions.
type CreateUpdateOptionsArgs struct {
	AutoscaleSettings AutoscaleSettingsPtrInput `pulumi:"autoscaleSettings"`
	Throughput        pulumi.IntPtrInput        `pulumi:"throughput"`
}

// ElementType implements pulumi.Input.
func (CreateUpdateOptionsArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*CreateUpdateOptions)(nil)).Elem()
}

// CreateUpdateOptionsPtrInput is satisfied by CreateUpdateOptionsArgs.
type CreateUpdateOptionsPtrInput interface {
	pulumi.Input
	isCreateUpdateOptions()
}

func (CreateUpdateOptionsArgs) isCreateUpdateOptions() {}

// CassandraKeyspaceResource names a keyspace.
type CassandraKeyspaceResource struct {
	Id string `pulumi:"id"`
}

// CassandraKeyspaceResourceArgs is the input form of CassandraKeyspaceResource.
type CassandraKeyspaceResourceArgs struct {
	Id pulumi.StringInput `pulumi:"id"`
}

// ElementType implements pulumi.Input.
func (CassandraKeyspaceResourceArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*CassandraKeyspaceResource)(nil)).Elem()
}

// CassandraKeyspaceResourceInput is satisfied by CassandraKeyspaceResourceArgs.
type CassandraKeyspaceResourceInput interface {
	pulumi.Input
	isCassandraKeyspaceResource()
}

func (CassandraKeyspaceResourceArgs) isCassandraKeyspaceResource() {}

// Column is one column of a Cassandra table.
type Column struct {
	Name *string `pulumi:"name"`
	Type *string `pulumi:"type"`
}

// ColumnArgs is the input form of Column.
type ColumnArgs struct {
	Name pulumi.StringPtrInput `pulumi:"name"`
	Type pulumi.StringPtrInput `pulumi:"type"`
}

// ElementType implements pulumi.Input.
func (ColumnArgs) ElementType() reflect.Type { return reflect.TypeOf((*Column)(nil)).Elem() }

// ColumnInput is satisfied by ColumnArgs.
type ColumnInput interface {
	pulumi.Input
	isColumn()
}

func (ColumnArgs) isColumn() {}

// ColumnArray is a list of columns.
type ColumnArray []ColumnInput

// ElementType implements pulumi.Input.
func (ColumnArray) ElementType() reflect.Type { return reflect.TypeOf((*[]Column)(nil)).Elem() }

// ColumnArrayInput is satisfied by ColumnArray.
type ColumnArrayInput interface {
	pulumi.Input
	isColumnArray()
}

func (ColumnArray) isColumnArray() {}

// CassandraPartitionKey is one partition key column.
type CassandraPartitionKey struct {
	Name *string `pulumi:"name"`
}

// CassandraPartitionKeyArgs is the input form of CassandraPartitionKey.
type CassandraPartitionKeyArgs struct {
	Name pulumi.StringPtrInput `pulumi:"name"`
}

// ElementType implements pulumi.Input.
func (CassandraPartitionKeyArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*CassandraPartitionKey)(nil)).Elem()
}

// CassandraPartitionKeyInput is satisfied by CassandraPartitionKeyArgs.
type CassandraPartitionKeyInput interface {
	pulumi.Input
	isCassandraPartitionKey()
}

func (CassandraPartitionKeyArgs) isCassandraPartitionKey() {}

// CassandraPartitionKeyArray is a list of partition key columns.
type CassandraPartitionKeyArray []CassandraPartitionKeyInput

// ElementType implements pulumi.Input.
func (CassandraPartitionKeyArray) ElementType() reflect.Type {
	return reflect.TypeOf((*[]CassandraPartitionKey)(nil)).Elem()
}

// CassandraPartitionKeyArrayInput is satisfied by CassandraPartitionKeyArray.
type CassandraPartitionKeyArrayInput interface {
	pulumi.Input
	isCassandraPartitionKeyArray()
}

func (CassandraPartitionKeyArray) isCassandraPartitionKeyArray() {}

// ClusterKey is one clustering column with its order ("Asc" or "Desc").
type ClusterKey struct {
	Name    *string `pulumi:"name"`
	OrderBy *string `pulumi:"orderBy"`
}

// ClusterKeyArgs is the input form of ClusterKey.
type ClusterKeyArgs struct {
	Name    pulumi.StringPtrInput `pulumi:"name"`
	OrderBy pulumi.StringPtrInput `pulumi:"orderBy"`
}

// ElementType implements pulumi.Input.
func (ClusterKeyArgs) ElementType() reflect.Type { return reflect.TypeOf((*ClusterKey)(nil)).Elem() }

// ClusterKeyInput is satisfied by ClusterKeyArgs.
type ClusterKeyInput interface {
	pulumi.Input
	isClusterKey()
}

func (ClusterKeyArgs) isClusterKey() {}

// ClusterKeyArray is a list of clustering columns.
type ClusterKeyArray []ClusterKeyInput

// ElementType implements pulumi.Input.
func (ClusterKeyArray) ElementType() reflect.Type { return reflect.TypeOf((*[]ClusterKey)(nil)).Elem() }

// ClusterKeyArrayInput is satisfied by ClusterKeyArray.
type ClusterKeyArrayInput interface {
	pulumi.Input
	isClusterKeyArray()
}

func (ClusterKeyArray) isClusterKeyArray() {}

// CassandraSchema is a table's columns and keys.
type CassandraSchema struct {
	ClusterKeys   []ClusterKey            `pulumi:"clusterKeys"`
	Columns       []Column                `pulumi:"columns"`
	PartitionKeys []CassandraPartitionKey `pulumi:"partitionKeys"`
}

// CassandraSchemaArgs is the input form of CassandraSchema.
type CassandraSchemaArgs struct {
	ClusterKeys   ClusterKeyArrayInput            `pulumi:"clusterKeys"`
	Columns       ColumnArrayInput                `pulumi:"columns"`
	PartitionKeys CassandraPartitionKeyArrayInput `pulumi:"partitionKeys"`
}

// ElementType implements pulumi.Input.
func (CassandraSchemaArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*CassandraSchema)(nil)).Elem()
}

// CassandraSchemaPtrInput is satisfied by CassandraSchemaArgs.
type CassandraSchemaPtrInput interface {
	pulumi.Input
	isCassandraSchema()
}

func (CassandraSchemaArgs) isCassandraSchema() {}

// CassandraTableResource is a table: its name, schema and default TTL.
type CassandraTableResource struct {
	AnalyticalStorageTtl *int             `pulumi:"analyticalStorageTtl"`
	DefaultTtl           *int             `pulumi:"defaultTtl"`
	Id                   string           `pulumi:"id"`
	Schema               *CassandraSchema `pulumi:"schema"`
}

// CassandraTableResourceArgs is the input form of CassandraTableResource.
type CassandraTableResourceArgs struct {
	AnalyticalStorageTtl pulumi.IntPtrInput      `pulumi:"analyticalStorageTtl"`
	DefaultTtl           pulumi.IntPtrInput      `pulumi:"defaultTtl"`
	Id                   pulumi.StringInput      `pulumi:"id"`
	Schema               CassandraSchemaPtrInput `pulumi:"schema"`
}

// ElementType implements pulumi.Input.
func (CassandraTableResourceArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*CassandraTableResource)(nil)).Elem()
}

// CassandraTableResourceInput is satisfied by CassandraTableResourceArgs.
type CassandraTableResourceInput interface {
	pulumi.Input
	isCassandraTableResource()
}

func (CassandraTableResourceArgs) isCassandraTableResource() {}
