package config

import (
	"net/netip"
	"strings"
)

// MaxAuthorizedIPRanges is how many authorized IP ranges AKS accepts on a
// public API server.
const MaxAuthorizedIPRanges = 200

// IsDevStack reports whether stack is a dev stack (dev, dev-<name>) or a
// review stack (review-<name>, which runs with dev's configuration).
func IsDevStack(stack string) bool {
	return stack == "dev" || strings.HasPrefix(stack, "dev-") || strings.HasPrefix(stack, "review-")
}

// documentationRanges are the address blocks reserved for documentation
// (RFC 5737); no client ever has such an address, so a stack file may carry
// them as placeholders, but a cluster restricted to them admits nobody.
var documentationRanges = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
}

// IsDocumentationRange reports whether cidr lies inside an RFC 5737
// documentation block.
func IsDocumentationRange(cidr string) bool {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return false
	}
	for _, d := range documentationRanges {
		if d.Contains(p.Addr()) && p.Bits() >= d.Bits() {
			return true
		}
	}
	return false
}

// DeployerType is the principal type of the deploying identity for role
// assignments: the configured one, else ServicePrincipal when the session
// signs in as an application or managed identity (ARM_CLIENT_ID or
// AZURE_CLIENT_ID set: OIDC in CI, a client secret or certificate, MSI),
// else User (an `az login` as a person). An `az login --service-principal`
// without those variables must set sluice:aksDeployerPrincipalType.
func (a AKS) DeployerType(getenv func(string) string) string {
	switch {
	case a.DeployerPrincipalType != "":
		return a.DeployerPrincipalType
	case getenv("ARM_CLIENT_ID") != "" || getenv("AZURE_CLIENT_ID") != "":
		return "ServicePrincipal"
	}
	return "User"
}

// apiServerAccess: the cluster API is never open to the whole internet by
// accident. Private, or public with at least one authorized range, or (dev
// stacks only) public with the explicit opt-out.
func (v *validator) apiServerAccess(c *Config) {
	a := c.AKS
	if a.DeployerObjectID != "" && !uuidPattern.MatchString(a.DeployerObjectID) {
		v.addf("sluice:aksDeployerObjectId %q is not an object id (UUID)", a.DeployerObjectID)
	}
	if a.DeployerPrincipalType != "" {
		v.oneOf("aksDeployerPrincipalType", a.DeployerPrincipalType, "User", "Group", "ServicePrincipal")
	}
	for _, r := range a.AuthorizedIPRanges {
		p, err := netip.ParsePrefix(r)
		switch {
		case err != nil || !p.Addr().Is4():
			v.addf("sluice:aksAuthorizedIpRanges contains %q, which is not an IPv4 CIDR", r)
		case p.Masked() != p:
			v.addf("sluice:aksAuthorizedIpRanges contains %q, which has host bits set; did you mean %s?", r, p.Masked())
		case p.Bits() == 0:
			v.addf("sluice:aksAuthorizedIpRanges contains %q, which admits every address; list your egress ranges instead", r)
		}
	}
	if len(a.AuthorizedIPRanges) > MaxAuthorizedIPRanges {
		v.addf("sluice:aksAuthorizedIpRanges lists %d ranges; AKS accepts at most %d", len(a.AuthorizedIPRanges), MaxAuthorizedIPRanges)
	}
	switch {
	case a.PrivateAPIServer && a.UnrestrictedPublicAPIServer:
		v.addf("sluice:aksUnrestrictedPublicApiServer is on but the API server is private (sluice:aksPrivateApiServer); drop one")
	case a.UnrestrictedPublicAPIServer && len(a.AuthorizedIPRanges) > 0:
		v.addf("sluice:aksUnrestrictedPublicApiServer is on but sluice:aksAuthorizedIpRanges restricts the API server; drop one")
	case a.UnrestrictedPublicAPIServer && !IsDevStack(c.Stack):
		v.addf("sluice:aksUnrestrictedPublicApiServer opens the cluster API to the internet; only dev and review stacks may, not %q: set sluice:aksAuthorizedIpRanges or sluice:aksPrivateApiServer", c.Stack)
	case !a.PrivateAPIServer && !a.UnrestrictedPublicAPIServer && len(a.AuthorizedIPRanges) == 0:
		v.addf("sluice:aksAuthorizedIpRanges is empty while the API server is public (sluice:aksPrivateApiServer false): anyone could reach it; list the CIDRs that deploy and operate the cluster, make it private, or (dev only) set sluice:aksUnrestrictedPublicApiServer")
	}
}
