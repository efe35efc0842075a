package config

import (
	"regexp"
	"strings"
)

// APIIngressModes are the values of sluice:apiIngress.
var APIIngressModes = []string{"none", "internal", "public"}

var (
	// dnsName is a fully qualified host name: at least two labels of
	// letters, digits and inner hyphens, 253 characters at most.
	dnsLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	// kvObjectName is a Key Vault object name.
	kvObjectName = regexp.MustCompile(`^[0-9a-zA-Z-]{1,127}$`)
)

// IsDNSName reports whether s is a lower-case fully qualified host name.
func IsDNSName(s string) bool {
	if len(s) > 253 || !strings.Contains(s, ".") {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if !dnsLabel.MatchString(l) {
			return false
		}
	}
	return true
}

func (v *validator) apiIngress(w Workloads) {
	if !v.oneOf("apiIngress", w.APIIngress, APIIngressModes...) {
		return
	}
	if w.APIIngress == "none" {
		if w.APIHostname != "" || w.APITLSCertificateName != "" {
			v.addf("sluice:apiHostname / sluice:apiTlsCertificateName are set but sluice:apiIngress is none; set apiIngress to internal or public, or drop them")
		}
		return
	}
	if !IsDNSName(w.APIHostname) {
		v.addf("sluice:apiHostname %q is not a lower-case DNS name like api.example.com; sluice:apiIngress %s needs one", w.APIHostname, w.APIIngress)
	}
	if !kvObjectName.MatchString(w.APITLSCertificateName) {
		v.addf("sluice:apiTlsCertificateName %q is not a Key Vault certificate name (1-127 letters, digits, hyphens); sluice:apiIngress %s serves TLS only", w.APITLSCertificateName, w.APIIngress)
	}
}
