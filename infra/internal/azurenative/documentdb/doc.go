// Package documentdb is a small typed stand-in for the azure-native v2 module
// github.com/pulumi/pulumi-azure-native-sdk/documentdb/v2 (v2.92.3), which
// cannot be fetched here. It covers what Sluice uses of Cosmos DB for Apache
// Cassandra: DatabaseAccount, CassandraResourceCassandraKeyspace,
// CassandraResourceCassandraTable and the listDatabaseAccountKeys invoke.
//
// Type tokens, the pinned provider version and every input's Go field name and
// pulumi tag are the SDK's (the module's default API version, 2023-04-15), so
// replacing this package with the generated one is an import change. Only the
// inputs and outputs Sluice needs are modelled; nested input types follow the
// SDK's Args / Array naming.
package documentdb

// APIVersion is the Azure REST API version behind the module's default
// (unversioned) tokens in azure-native v2.92.3.
const APIVersion = "2023-04-15"

// Type tokens registered by this package, as in the SDK.
const (
	DatabaseAccountToken                    = "azure-native:documentdb:DatabaseAccount"
	CassandraResourceCassandraKeyspaceToken = "azure-native:documentdb:CassandraResourceCassandraKeyspace"
	CassandraResourceCassandraTableToken    = "azure-native:documentdb:CassandraResourceCassandraTable"
	ListDatabaseAccountKeysToken            = "azure-native:documentdb:listDatabaseAccountKeys"
)
