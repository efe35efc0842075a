// Package aks declares the Kubernetes cluster the workloads run on.
//
// Only the system pool is inline in the cluster (tainted CriticalAddonsOnly so
// only critical add-ons land there); the user pool, with the cluster
// autoscaler, is a separate AgentPool resource, because editing inline pools
// rescales all of them. Both pools spread over the configured zones.
//
// Networking is Azure CNI overlay (Cilium data plane and network policy) in
// the nodes subnet; the control plane runs as a user-assigned identity with
// Network Contributor on that subnet only. The OIDC issuer and workload
// identity are on (each workload federates its own user-assigned identity),
// KEDA and the Key Vault Secrets Store CSI driver are enabled, local accounts
// are disabled (Entra ID with Azure RBAC only), automatic upgrade channels
// are set for the cluster and for node images, the API server is private where
// configured, and control-plane logs go to Log Analytics. The kubelet identity
// gets AcrPull on the registry.
package aks
