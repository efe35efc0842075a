// Package platform is the Sluice Pulumi program: Program reads and validates
// the stack configuration, then Deploy declares every Azure service through the
// components under infra/internal/components and returns the endpoints and
// identities the workloads need.
//
// Deploy's Outputs struct is the seam for what comes next: a later step that
// deploys the workloads onto AKS inside this same program takes the cluster
// name and resource group, the OIDC-federated identities' client ids and the
// service endpoints from it. Nothing secret is in Outputs: the Cosmos DB key
// only exists as a Key Vault secret, and every other service is reached with
// Entra ID tokens.
package platform
