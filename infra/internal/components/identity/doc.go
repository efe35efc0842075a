// Package identity declares one user-assigned managed identity per workload,
// the federated credential that lets the workload's Kubernetes service
// account (system:serviceaccount:<namespace>:<workload>) act as it through the
// AKS OIDC issuer, and the workload's least-privilege role assignments, each
// on the narrowest scope (one event hub, one secret, one container).
//
// Azure rejects concurrent writes of federated credentials, so every
// credential waits for the one before it, across all identities.
package identity
