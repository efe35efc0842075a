// Package network declares the Sluice virtual network and its standalone
// subnets: one for the AKS nodes (Azure CNI overlay: pods take addresses from
// a separate overlay range, not from this subnet), one for the private
// endpoints of every data service, and, with sluice:deployRunner, one for the
// in-VNet deploy runner (package runner) that accepts no inbound connection
// and reaches the internet through its own NAT gateway.
package network
