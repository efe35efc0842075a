package cosmos

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-azure-native-sdk/keyvault/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/azurenative/documentdb"
	"github.com/sluicehq/sluice/infra/internal/components/base"
	"github.com/sluicehq/sluice/infra/internal/components/privatelink"
	"github.com/sluicehq/sluice/infra/internal/config"
	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/contract/deploy"
)

// PreviewKeyPlaceholder is the key secret's value in a preview, which
// never reads the account key.
const PreviewKeyPlaceholder = "preview-does-not-read-the-account-key"

// Type is the component's type token.
const Type = "sluice:components:Cosmos"

// CassandraPort is the Cassandra API's port (TLS).
const CassandraPort = deploy.CosmosCassandraPort

// KeySecretName is the Key Vault secret holding the account's primary key;
// ReadOnlyKeySecretName the one holding its primary read-only key, for the
// workloads that only read (deploy.CassandraReadOnly).
const (
	KeySecretName         = "cosmos-cassandra-key"
	ReadOnlyKeySecretName = "cosmos-cassandra-readonly-key"
)

// Args are the component's inputs.
type Args struct {
	// VaultName is the Key Vault the account key is written to; VaultURI
	// is its URI ("https://<vault>.vault.azure.net/").
	VaultName pulumi.StringInput
	VaultURI  pulumi.StringInput
}

// Cosmos is the component.
type Cosmos struct {
	pulumi.ResourceState

	AccountID   pulumi.StringOutput
	AccountName pulumi.StringOutput
	// ContactPoint is "<account>.cassandra.cosmos.azure.com".
	ContactPoint pulumi.StringOutput
	// KeySecretID scopes the workloads' "Key Vault Secrets User" grants.
	KeySecretID pulumi.StringOutput
	// KeySecretURI is the secret's versionless URI (no value).
	KeySecretURI pulumi.StringOutput
	// ReadOnlyKeySecretID scopes the read-only workloads' grants.
	ReadOnlyKeySecretID pulumi.StringOutput
	// Ready are what a client waits for: the keyspace, every table and,
	// with private networking, the private endpoint and its DNS.
	Ready []pulumi.Resource
}

// New declares the account, keyspace, tables and key secret.
func New(ctx *pulumi.Context, name string, env *base.Env, args Args, opts ...pulumi.ResourceOption) (*Cosmos, error) {
	c := &Cosmos{}
	if err := ctx.RegisterComponentResource(Type, name, c, opts...); err != nil {
		return nil, fmt.Errorf("register cosmos: %w", err)
	}
	parent := pulumi.Parent(c)
	co := env.Config.Cosmos
	capabilities := documentdb.CapabilityArray{documentdb.CapabilityArgs{Name: pulumi.String("EnableCassandra")}}
	if co.Throughput == "serverless" {
		capabilities = append(capabilities, documentdb.CapabilityArgs{Name: pulumi.String("EnableServerless")})
	}
	account, err := documentdb.NewDatabaseAccount(ctx, name, &documentdb.DatabaseAccountArgs{
		ResourceGroupName:                  env.ResourceGroupName,
		Location:                           env.Location(),
		Kind:                               pulumi.String("GlobalDocumentDB"),
		DatabaseAccountOfferType:           documentdb.DatabaseAccountOfferTypeStandard,
		Capabilities:                       capabilities,
		Locations:                          Locations(env.Config),
		ConsistencyPolicy:                  documentdb.ConsistencyPolicyArgs{DefaultConsistencyLevel: documentdb.DefaultConsistencyLevelSession},
		BackupPolicy:                       backupPolicy(env),
		MinimalTlsVersion:                  pulumi.String("Tls12"),
		PublicNetworkAccess:                env.PublicNetworkAccess(),
		DisableKeyBasedMetadataWriteAccess: pulumi.Bool(true),
		DisableLocalAuth:                   pulumi.Bool(false),
		// One write region always (the change feed's leases use
		// lightweight transactions); read regions fail over automatically.
		EnableAutomaticFailover:      pulumi.Bool(len(co.FailoverRegions) > 0),
		EnableMultipleWriteLocations: pulumi.Bool(false),
		Tags:                         env.Tags(),
	}, env.DataStoreOptions(parent)...)
	if err != nil {
		return nil, fmt.Errorf("cosmos account: %w", err)
	}
	ksArgs := &documentdb.CassandraResourceCassandraKeyspaceArgs{
		ResourceGroupName: env.ResourceGroupName,
		AccountName:       account.Name,
		KeyspaceName:      pulumi.String(contract.Keyspace),
		Resource:          documentdb.CassandraKeyspaceResourceArgs{Id: pulumi.String(contract.Keyspace)},
		Tags:              env.Tags(),
	}
	if co.Throughput == "autoscale" {
		// Shared keyspace throughput: every table draws on one autoscale pool.
		ksArgs.Options = documentdb.CreateUpdateOptionsArgs{
			AutoscaleSettings: documentdb.AutoscaleSettingsArgs{MaxThroughput: pulumi.Int(co.AutoscaleMaxThroughput)},
		}
	}
	keyspace, err := documentdb.NewCassandraResourceCassandraKeyspace(ctx, name+"-keyspace-"+contract.Keyspace, ksArgs, env.DataStoreOptions(parent)...)
	if err != nil {
		return nil, fmt.Errorf("keyspace %s: %w", contract.Keyspace, err)
	}
	c.Ready = append(c.Ready, keyspace)
	for _, t := range contract.Tables() {
		resource, err := TableResource(t)
		if err != nil {
			return nil, err
		}
		table, err := documentdb.NewCassandraResourceCassandraTable(ctx, name+"-table-"+t.Name, &documentdb.CassandraResourceCassandraTableArgs{
			ResourceGroupName: env.ResourceGroupName,
			AccountName:       account.Name,
			KeyspaceName:      keyspace.Name,
			TableName:         pulumi.String(t.Name),
			Resource:          resource,
			Tags:              env.Tags(),
		}, env.DataStoreOptions(parent)...)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", t.Name, err)
		}
		c.Ready = append(c.Ready, table)
	}
	// A preview never reads the account key: the pull-request preview
	// identity is read-only and must not be able to (listKeys is a write
	// action), so a dry run writes a placeholder and ignores the value's
	// diff; `up` reads the key and stores it.
	var keyValue, readOnlyValue pulumi.StringInput = previewKey(), previewKey()
	secretOpts := []pulumi.ResourceOption{parent}
	if ctx.DryRun() {
		secretOpts = append(secretOpts, pulumi.IgnoreChanges([]string{"properties.value"}))
	} else {
		keys := documentdb.ListDatabaseAccountKeysOutput(ctx, documentdb.ListDatabaseAccountKeysOutputArgs{
			AccountName:       account.Name,
			ResourceGroupName: env.ResourceGroupName,
		})
		keyValue, readOnlyValue = keys.PrimaryMasterKey(), keys.PrimaryReadonlyMasterKey()
	}
	secret, err := keySecret(ctx, name+"-key-secret", env, args, KeySecretName, keyValue,
		"Cosmos DB for Apache Cassandra account key; user name is the account name", secretOpts)
	if err != nil {
		return nil, err
	}
	readOnly, err := keySecret(ctx, name+"-readonly-key-secret", env, args, ReadOnlyKeySecretName, readOnlyValue,
		"Cosmos DB for Apache Cassandra read-only account key; user name is the account name", secretOpts)
	if err != nil {
		return nil, err
	}
	c.ReadOnlyKeySecretID = readOnly.ID().ToStringOutput()
	c.AccountID = account.ID().ToStringOutput()
	c.AccountName = account.Name
	c.ContactPoint = pulumi.Sprintf("%s.cassandra.cosmos.azure.com", account.Name)
	c.KeySecretID = secret.ID().ToStringOutput()
	c.KeySecretURI = pulumi.Sprintf("%ssecrets/%s", args.VaultURI, KeySecretName)
	link, err := privatelink.Open(ctx, name+"-link", env, privatelink.Cassandra, c.AccountID, parent)
	if err != nil {
		return nil, fmt.Errorf("cosmos private link: %w", err)
	}
	c.Ready = append(c.Ready, link...)
	if err := env.Diagnose(ctx, name+"-diagnostics", c.AccountID, base.AllLogsAndMetrics, parent); err != nil {
		return nil, err
	}
	if err := env.Lock(ctx, name+"-lock", c.AccountID, parent); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"accountId":           c.AccountID,
		"accountName":         c.AccountName,
		"contactPoint":        c.ContactPoint,
		"keySecretId":         c.KeySecretID,
		"keySecretUri":        c.KeySecretURI,
		"readOnlyKeySecretId": c.ReadOnlyKeySecretID,
	}); err != nil {
		return nil, fmt.Errorf("register cosmos outputs: %w", err)
	}
	return c, nil
}

// Locations are the account's regions: the stack's region first (priority
// 0, the only write region), then each failover region in order. A read
// region is zone redundant when the stack is and the region has zones.
func Locations(cfg *config.Config) documentdb.LocationArray {
	locations := documentdb.LocationArray{documentdb.LocationArgs{
		LocationName:     pulumi.String(cfg.Region),
		FailoverPriority: pulumi.Int(0),
		IsZoneRedundant:  pulumi.Bool(cfg.ZoneRedundant()),
	}}
	for i, region := range cfg.Cosmos.FailoverRegions {
		locations = append(locations, documentdb.LocationArgs{
			LocationName:     pulumi.String(region),
			FailoverPriority: pulumi.Int(i + 1),
			IsZoneRedundant:  pulumi.Bool(cfg.ZoneRedundant() && config.RegionHasZones(region)),
		})
	}
	return locations
}

func backupPolicy(env *base.Env) pulumi.Input {
	tier := env.Config.Cosmos.BackupTier
	if tier == "Periodic" {
		redundancy := "Local"
		if env.Config.ZoneRedundant() {
			redundancy = "Zone"
		}
		return documentdb.PeriodicModeBackupPolicyArgs{
			Type: pulumi.String("Periodic"),
			PeriodicModeProperties: documentdb.PeriodicModePropertiesArgs{
				BackupIntervalInMinutes:        pulumi.Int(240),
				BackupRetentionIntervalInHours: pulumi.Int(8),
				BackupStorageRedundancy:        pulumi.String(redundancy),
			},
		}
	}
	return documentdb.ContinuousModeBackupPolicyArgs{
		Type:                     pulumi.String("Continuous"),
		ContinuousModeProperties: documentdb.ContinuousModePropertiesArgs{Tier: pulumi.String(tier)},
	}
}

// TableResource turns a contract table into the Cosmos DB table resource:
// columns, partition keys, clustering keys with their order and the default
// TTL (left unset when the contract keeps rows forever).
func TableResource(t contract.Table) (documentdb.CassandraTableResourceArgs, error) {
	var columns documentdb.ColumnArray
	for _, col := range t.Columns {
		columns = append(columns, documentdb.ColumnArgs{Name: pulumi.String(col.Name), Type: pulumi.String(col.Type)})
	}
	var partition documentdb.CassandraPartitionKeyArray
	for _, k := range t.PartitionKey {
		if _, ok := t.Column(k); !ok {
			return documentdb.CassandraTableResourceArgs{}, fmt.Errorf("table %s: partition key %s is not a column", t.Name, k)
		}
		partition = append(partition, documentdb.CassandraPartitionKeyArgs{Name: pulumi.String(k)})
	}
	var clustering documentdb.ClusterKeyArray
	for _, k := range t.ClusteringKey {
		if _, ok := t.Column(k.Name); !ok {
			return documentdb.CassandraTableResourceArgs{}, fmt.Errorf("table %s: clustering key %s is not a column", t.Name, k.Name)
		}
		var order string
		switch strings.ToUpper(k.Order) {
		case "ASC":
			order = "Asc"
		case "DESC":
			order = "Desc"
		default:
			return documentdb.CassandraTableResourceArgs{}, fmt.Errorf("table %s: clustering key %s has order %q, want ASC or DESC", t.Name, k.Name, k.Order)
		}
		clustering = append(clustering, documentdb.ClusterKeyArgs{Name: pulumi.String(k.Name), OrderBy: pulumi.String(order)})
	}
	if len(partition) == 0 {
		return documentdb.CassandraTableResourceArgs{}, fmt.Errorf("table %s has no partition key", t.Name)
	}
	schema := documentdb.CassandraSchemaArgs{Columns: columns, PartitionKeys: partition}
	if len(clustering) > 0 {
		schema.ClusterKeys = clustering
	}
	r := documentdb.CassandraTableResourceArgs{Id: pulumi.String(t.Name), Schema: schema}
	if t.DefaultTTLSeconds > 0 {
		r.DefaultTtl = pulumi.Int(t.DefaultTTLSeconds)
	}
	return r, nil
}

// previewKey stands in for a key in a preview, which never reads keys.
func previewKey() pulumi.StringInput {
	return pulumi.ToSecret(pulumi.String(PreviewKeyPlaceholder)).(pulumi.StringOutput)
}

// keySecret writes one account key to the stack's Key Vault.
func keySecret(ctx *pulumi.Context, name string, env *base.Env, args Args, secretName string, value pulumi.StringInput, contentType string, opts []pulumi.ResourceOption) (*keyvault.Secret, error) {
	secret, err := keyvault.NewSecret(ctx, name, &keyvault.SecretArgs{
		ResourceGroupName: env.ResourceGroupName,
		VaultName:         args.VaultName,
		SecretName:        pulumi.String(secretName),
		Properties: keyvault.SecretPropertiesArgs{
			Value:       value,
			ContentType: pulumi.String(contentType),
		},
		Tags: env.Tags(),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("key secret %s: %w", secretName, err)
	}
	return secret, nil
}
