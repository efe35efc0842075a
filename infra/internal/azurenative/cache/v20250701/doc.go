// Package v20250701 declares Azure Managed Redis (Microsoft.Cache/
// redisEnterprise, its databases and their Entra ID access policy
// assignments) on the REST API 2025-07-01, with typed inputs shaped like the
// azure-native SDK's.
//
// Why not a generated package: API versions of redisEnterprise older than
// 2025-07-01 retire from 2026-10-31, but the newest one the azure-native v2
// SDK and its provider v2.92.3 carry is 2025-04-01 (cache/v20250401; the
// tokens a provider serves are the ones its SDK is generated with, so a hand
// wrapper registering azure-native:cache/v20250701:* would be refused by the
// provider at `up`). azure-native v3 ships only each module's default API
// version and reaches others through locally generated, parameterised
// packages, which the Go proxy cannot serve here (the cache module is
// refused at every version). So every resource here is azure-native's
// generic ARM resource, azure-native:resources:Resource (SDK package
// resources/v2, provider v2.92.3 like every other azure-native resource of
// the program), which PUTs the body it is given to
// /subscriptions/…/resourceGroups/<rg>/providers/Microsoft.Cache/
// <parentResourcePath>/<resourceType>/<resourceName>?api-version=2025-07-01.
//
// What that costs: the provider does not check the properties against the
// API's schema (this package's typed Args and the plan's schema check do),
// and names are not generated: every resource gets an explicit name
// (ClusterName, DatabaseName, AccessPolicyAssignmentName are required here,
// optional in the SDK). 2025-07-01 requires publicNetworkAccess on the
// cluster, so PublicNetworkAccess is required too.
//
// Swapping in a generated SDK once one carries 2025-07-01 (or newer) is an
// import change: the Args types, field names, wire names (pulumi tags, see
// the tests) and constructors match the SDK's, and RedisEnterprise has the
// SDK's Name and HostName outputs. The state moves with an alias from
// azure-native:resources:Resource to the new token, or with
// `pulumi state` import.
package v20250701

// APIVersion is the Azure REST API version every resource here is written
// with.
const APIVersion = "2025-07-01"

// Token is the type token all three resources register: azure-native's
// generic ARM resource.
const Token = "azure-native:resources:Resource"

// ARM coordinates of the three resource types.
const (
	Namespace                  = "Microsoft.Cache"
	ClusterType                = "redisEnterprise"
	DatabaseType               = "databases"
	AccessPolicyAssignmentType = "accessPolicyAssignments"
)
