// Package managedidentity is a small typed stand-in for the azure-native v2
// module github.com/pulumi/pulumi-azure-native-sdk/managedidentity/v2
// (v2.92.3), which cannot be fetched here: UserAssignedIdentity and
// FederatedIdentityCredential with the SDK's type tokens, pinned provider
// version, Go field names and pulumi tags (default API version 2023-01-31).
package managedidentity

// APIVersion is the Azure REST API version behind the module's default tokens.
const APIVersion = "2023-01-31"

// Type tokens registered by this package, as in the SDK.
const (
	UserAssignedIdentityToken        = "azure-native:managedidentity:UserAssignedIdentity"
	FederatedIdentityCredentialToken = "azure-native:managedidentity:FederatedIdentityCredential"
)
