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
//
// A public API server admits only sluice:aksAuthorizedIpRanges (config
// validation requires them; dev and review stacks may opt out with
// sluice:aksUnrestrictedPublicApiServer). The deployer (the client's object
// id or sluice:aksDeployerObjectId) gets "Azure Kubernetes Service RBAC
// Cluster Admin" on the cluster, which the Kubernetes provider waits for.
// With sluice:apiIngress internal or public the application routing add-on
// (ingressProfile.webAppRouting) is enabled and its identity gets "Key
// Vault Certificate User" on the api's TLS certificate in the stack's vault.
// Cluster and UserPool are exposed so Kubernetes objects can wait for the
// add-ons (KEDA, Secrets Store CSI, application routing come with the
// cluster resource) and for a schedulable pool.
package aks
