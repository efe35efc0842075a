package documentdb

import (
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/azurenative"
	"github.com/sluicehq/sluice/infra/internal/mocks"
)

// The SDK's facts, transcribed from pulumi-azure-native-sdk v2.92.3
// (documentdb/databaseAccount.go, cassandraResourceCassandraKeyspace.go,
// cassandraResourceCassandraTable.go, listDatabaseAccountKeys.go and
// pulumiTypes.go): tokens, the default API version and every input name.
var (
	sdkAPIVersion = "2023-04-15"
	sdkTokens     = map[string]string{
		"DatabaseAccount":                    "azure-native:documentdb:DatabaseAccount",
		"CassandraResourceCassandraKeyspace": "azure-native:documentdb:CassandraResourceCassandraKeyspace",
		"CassandraResourceCassandraTable":    "azure-native:documentdb:CassandraResourceCassandraTable",
		"listDatabaseAccountKeys":            "azure-native:documentdb:listDatabaseAccountKeys",
	}
	sdkInputs = map[string][]string{
		"DatabaseAccountArgs": {"accountName", "analyticalStorageConfiguration", "apiProperties", "backupPolicy",
			"capabilities", "capacity", "connectorOffer", "consistencyPolicy", "cors", "createMode",
			"databaseAccountOfferType", "defaultIdentity", "disableKeyBasedMetadataWriteAccess", "disableLocalAuth",
			"enableAnalyticalStorage", "enableAutomaticFailover", "enableCassandraConnector", "enableFreeTier",
			"enableMultipleWriteLocations", "enablePartitionMerge", "identity", "ipRules", "isVirtualNetworkFilterEnabled",
			"keyVaultKeyUri", "kind", "location", "locations", "minimalTlsVersion", "networkAclBypass",
			"networkAclBypassResourceIds", "publicNetworkAccess", "resourceGroupName", "restoreParameters", "tags",
			"virtualNetworkRules"},
		"CassandraResourceCassandraKeyspaceArgs": {"accountName", "keyspaceName", "location", "options", "resource", "resourceGroupName", "tags"},
		"CassandraResourceCassandraTableArgs":    {"accountName", "keyspaceName", "location", "options", "resource", "resourceGroupName", "tableName", "tags"},
		"ListDatabaseAccountKeysOutputArgs":      {"accountName", "resourceGroupName"},
		"CapabilityArgs":                         {"name"},
		"LocationArgs":                           {"failoverPriority", "isZoneRedundant", "locationName"},
		"ConsistencyPolicyArgs":                  {"defaultConsistencyLevel", "maxIntervalInSeconds", "maxStalenessPrefix"},
		"ContinuousModeBackupPolicyArgs":         {"continuousModeProperties", "migrationState", "type"},
		"ContinuousModePropertiesArgs":           {"tier"},
		"PeriodicModeBackupPolicyArgs":           {"migrationState", "periodicModeProperties", "type"},
		"PeriodicModePropertiesArgs":             {"backupIntervalInMinutes", "backupRetentionIntervalInHours", "backupStorageRedundancy"},
		"AutoscaleSettingsArgs":                  {"maxThroughput"},
		"CreateUpdateOptionsArgs":                {"autoscaleSettings", "throughput"},
		"CassandraKeyspaceResourceArgs":          {"id"},
		"CassandraTableResourceArgs":             {"analyticalStorageTtl", "defaultTtl", "id", "schema"},
		"CassandraSchemaArgs":                    {"clusterKeys", "columns", "partitionKeys"},
		"ClusterKeyArgs":                         {"name", "orderBy"},
		"ColumnArgs":                             {"name", "type"},
		"CassandraPartitionKeyArgs":              {"name"},
	}
)

func TestTokensAndAPIVersion(t *testing.T) {
	if APIVersion != sdkAPIVersion {
		t.Errorf("APIVersion = %s, SDK default is %s", APIVersion, sdkAPIVersion)
	}
	for name, got := range map[string]string{
		"DatabaseAccount":                    DatabaseAccountToken,
		"CassandraResourceCassandraKeyspace": CassandraResourceCassandraKeyspaceToken,
		"CassandraResourceCassandraTable":    CassandraResourceCassandraTableToken,
		"listDatabaseAccountKeys":            ListDatabaseAccountKeysToken,
	} {
		if got != sdkTokens[name] {
			t.Errorf("%s token = %s, SDK registers %s", name, got, sdkTokens[name])
		}
	}
}

func TestInputNamesAreTheSDKs(t *testing.T) {
	for name, in := range map[string]pulumi.Input{
		"DatabaseAccountArgs":                    DatabaseAccountArgs{},
		"CassandraResourceCassandraKeyspaceArgs": CassandraResourceCassandraKeyspaceArgs{},
		"CassandraResourceCassandraTableArgs":    CassandraResourceCassandraTableArgs{},
		"ListDatabaseAccountKeysOutputArgs":      ListDatabaseAccountKeysOutputArgs{},
		"CapabilityArgs":                         CapabilityArgs{},
		"LocationArgs":                           LocationArgs{},
		"ConsistencyPolicyArgs":                  ConsistencyPolicyArgs{},
		"ContinuousModeBackupPolicyArgs":         ContinuousModeBackupPolicyArgs{},
		"ContinuousModePropertiesArgs":           ContinuousModePropertiesArgs{},
		"PeriodicModeBackupPolicyArgs":           PeriodicModeBackupPolicyArgs{},
		"PeriodicModePropertiesArgs":             PeriodicModePropertiesArgs{},
		"AutoscaleSettingsArgs":                  AutoscaleSettingsArgs{},
		"CreateUpdateOptionsArgs":                CreateUpdateOptionsArgs{},
		"CassandraKeyspaceResourceArgs":          CassandraKeyspaceResourceArgs{},
		"CassandraTableResourceArgs":             CassandraTableResourceArgs{},
		"CassandraSchemaArgs":                    CassandraSchemaArgs{},
		"ClusterKeyArgs":                         ClusterKeyArgs{},
		"ColumnArgs":                             ColumnArgs{},
		"CassandraPartitionKeyArgs":              CassandraPartitionKeyArgs{},
	} {
		sdk, ok := sdkInputs[name]
		if !ok {
			t.Errorf("%s: no SDK input list to compare with", name)
			continue
		}
		for _, n := range azurenative.InputNames(in) {
			if !slices.Contains(sdk, n) {
				t.Errorf("%s: input %q is not an SDK input", name, n)
			}
		}
		if err := azurenative.CheckArgs(in); err != nil {
			t.Error(err)
		}
	}
}

func TestRegistration(t *testing.T) {
	var keys pulumi.StringOutput
	m, err := mocks.Run(func(ctx *pulumi.Context) error {
		acct, err := NewDatabaseAccount(ctx, "acct", &DatabaseAccountArgs{
			ResourceGroupName:        pulumi.String("rg"),
			DatabaseAccountOfferType: DatabaseAccountOfferTypeStandard,
			Locations:                LocationArray{LocationArgs{LocationName: pulumi.String("westeurope"), IsZoneRedundant: pulumi.Bool(true)}},
			Capabilities:             CapabilityArray{CapabilityArgs{Name: pulumi.String("EnableCassandra")}},
			BackupPolicy: ContinuousModeBackupPolicyArgs{
				Type:                     pulumi.String("Continuous"),
				ContinuousModeProperties: ContinuousModePropertiesArgs{Tier: pulumi.String("Continuous7Days")},
			},
			MinimalTlsVersion: pulumi.String("Tls12"),
		})
		if err != nil {
			return err
		}
		ks, err := NewCassandraResourceCassandraKeyspace(ctx, "ks", &CassandraResourceCassandraKeyspaceArgs{
			ResourceGroupName: pulumi.String("rg"),
			AccountName:       acct.Name,
			Resource:          CassandraKeyspaceResourceArgs{Id: pulumi.String("sluice")},
			Options:           CreateUpdateOptionsArgs{AutoscaleSettings: AutoscaleSettingsArgs{MaxThroughput: pulumi.Int(4000)}},
		})
		if err != nil {
			return err
		}
		if _, err := NewCassandraResourceCassandraTable(ctx, "tbl", &CassandraResourceCassandraTableArgs{
			ResourceGroupName: pulumi.String("rg"),
			AccountName:       acct.Name,
			KeyspaceName:      ks.Name,
			Resource: CassandraTableResourceArgs{
				Id:         pulumi.String("events_by_id"),
				DefaultTtl: pulumi.Int(3600),
				Schema: CassandraSchemaArgs{
					Columns:       ColumnArray{ColumnArgs{Name: pulumi.String("id"), Type: pulumi.String("uuid")}},
					PartitionKeys: CassandraPartitionKeyArray{CassandraPartitionKeyArgs{Name: pulumi.String("id")}},
					ClusterKeys:   ClusterKeyArray{ClusterKeyArgs{Name: pulumi.String("at"), OrderBy: pulumi.String("Desc")}},
				},
			},
		}); err != nil {
			return err
		}
		keys = ListDatabaseAccountKeysOutput(ctx, ListDatabaseAccountKeysOutputArgs{AccountName: acct.Name, ResourceGroupName: pulumi.String("rg")}).PrimaryMasterKey()
		return nil
	}, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*mocks.Resource{}
	for _, r := range m.Resources() {
		byName[r.Name] = r
	}
	check := func(name, token string, paths map[string]any) {
		t.Helper()
		r := byName[name]
		if r == nil {
			t.Fatalf("%s not registered", name)
		}
		if r.Type != token {
			t.Errorf("%s: token %s, want %s", name, r.Type, token)
		}
		if r.Version != azurenative.ProviderVersion {
			t.Errorf("%s: provider version %q, want %s", name, r.Version, azurenative.ProviderVersion)
		}
		for path, want := range paths {
			if got := mocks.Lookup(r.Inputs, path); got != want {
				t.Errorf("%s: input %s = %v, want %v", name, path, got, want)
			}
		}
	}
	check("acct", sdkTokens["DatabaseAccount"], map[string]any{
		"databaseAccountOfferType":                   "Standard",
		"kind":                                       "GlobalDocumentDB",
		"createMode":                                 "Default",
		"locations.0.locationName":                   "westeurope",
		"locations.0.isZoneRedundant":                true,
		"capabilities.0.name":                        "EnableCassandra",
		"backupPolicy.type":                          "Continuous",
		"backupPolicy.continuousModeProperties.tier": "Continuous7Days",
		"minimalTlsVersion":                          "Tls12",
	})
	check("ks", sdkTokens["CassandraResourceCassandraKeyspace"], map[string]any{
		"accountName": "acct", "resource.id": "sluice", "options.autoscaleSettings.maxThroughput": 4000.0,
	})
	check("tbl", sdkTokens["CassandraResourceCassandraTable"], map[string]any{
		"keyspaceName": "ks", "resource.id": "events_by_id", "resource.defaultTtl": 3600.0,
		"resource.schema.columns.0.type": "uuid", "resource.schema.partitionKeys.0.name": "id",
		"resource.schema.clusterKeys.0.orderBy": "Desc",
	})
	calls := m.Calls()
	if !slices.ContainsFunc(calls, func(c mocks.Call) bool {
		return c.Token == sdkTokens["listDatabaseAccountKeys"] && mocks.Lookup(c.Args, "accountName") == "acct" && mocks.Lookup(c.Args, "resourceGroupName") == "rg"
	}) {
		t.Errorf("listDatabaseAccountKeys not invoked with accountName and resourceGroupName: %+v", calls)
	}
	if !pulumi.IsSecret(keys) {
		t.Error("PrimaryMasterKey is not a secret output")
	}
}

func TestRequiredArguments(t *testing.T) {
	_, err := mocks.Run(func(ctx *pulumi.Context) error {
		if _, err := NewDatabaseAccount(ctx, "a", &DatabaseAccountArgs{ResourceGroupName: pulumi.String("rg")}); err == nil {
			t.Error("DatabaseAccount without DatabaseAccountOfferType accepted")
		}
		if _, err := NewCassandraResourceCassandraTable(ctx, "t", &CassandraResourceCassandraTableArgs{AccountName: pulumi.String("a")}); err == nil {
			t.Error("table without keyspace, resource and group accepted")
		}
		if _, err := NewCassandraResourceCassandraKeyspace(ctx, "k", nil); err == nil {
			t.Error("keyspace without arguments accepted")
		}
		return nil
	}, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
}
