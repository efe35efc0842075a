// Package registry declares the Azure Container Registry the workload images
// are pushed to: admin user off (pulls use the AKS kubelet identity's AcrPull
// grant), anonymous pull off, zone redundancy and a private endpoint where the
// stack asks for them (both need the Premium SKU, which config validation
// enforces).
package registry
