// Package v20241101 is a small typed stand-in for the azure-native v2
// subpackage github.com/pulumi/pulumi-azure-native-sdk/cache/v2/v20241101
// (v2.92.3), which cannot be fetched here. It covers the classic Azure Cache
// for Redis (Basic/Standard/Premium, retiring) for tenants that still run it:
// Redis and the Entra ID AccessPolicyAssignment of a cache.
//
// The versioned subpackage is used because the module default (2023-04-01)
// has neither disableAccessKeyAuthentication nor Entra ID access policies.
// Tokens, the pinned provider version, Go field names and pulumi tags are the
// SDK's.
package v20241101

// APIVersion is the Azure REST API version of this subpackage.
const APIVersion = "2024-11-01"

// Type tokens registered by this package, as in the SDK.
const (
	RedisToken                  = "azure-native:cache/v20241101:Redis"
	AccessPolicyAssignmentToken = "azure-native:cache/v20241101:AccessPolicyAssignment"
)
