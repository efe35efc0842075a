// Package v20250401 is a small typed stand-in for the azure-native v2
// subpackage github.com/pulumi/pulumi-azure-native-sdk/cache/v2/v20250401
// (v2.92.3), which cannot be fetched here. It covers Azure Managed Redis:
// RedisEnterprise (Microsoft.Cache/redisEnterprise), its Database and the
// Entra ID AccessPolicyAssignment of a database.
//
// The versioned subpackage is used instead of the module default because the
// default RedisEnterprise API (2023-03-01-preview) predates Azure Managed
// Redis: Balanced/MemoryOptimized/ComputeOptimized SKUs, highAvailability,
// accessKeysAuthentication and access policy assignments need 2024-09-01 or
// later. Tokens, the pinned provider version, Go field names and pulumi tags
// are the SDK's.
package v20250401

// APIVersion is the Azure REST API version of this subpackage.
const APIVersion = "2025-04-01"

// Type tokens registered by this package, as in the SDK.
const (
	RedisEnterpriseToken        = "azure-native:cache/v20250401:RedisEnterprise"
	DatabaseToken               = "azure-native:cache/v20250401:Database"
	AccessPolicyAssignmentToken = "azure-native:cache/v20250401:AccessPolicyAssignment"
)
