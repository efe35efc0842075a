// Package network declares the Sluice virtual network and its standalone
// subnets: one for the AKS nodes (Azure CNI overlay: pods take addresses from
// a separate overlay range, not from this subnet) and one for the private
// endpoints of every data service.
package network
