package config

import (
	"strings"
	"testing"
)

func TestAPIIngressSettings(t *testing.T) {
	for _, tc := range []struct {
		name      string
		overrides map[string]string
		want      string
	}{
		{"unknown mode", map[string]string{"apiIngress": "loadbalancer"}, `sluice:apiIngress is "loadbalancer"; want one of none, internal, public`},
		{"public without host", map[string]string{"apiIngress": "public", "apiHostname": ""}, `sluice:apiHostname "" is not a lower-case DNS name`},
		{"host not a name", map[string]string{"apiIngress": "public", "apiHostname": "https://api.example.com"}, "is not a lower-case DNS name"},
		{"host one label", map[string]string{"apiIngress": "internal", "apiHostname": "api"}, "is not a lower-case DNS name"},
		{"no certificate", map[string]string{"apiIngress": "internal", "apiTlsCertificateName": ""}, "serves TLS only"},
		{"certificate name", map[string]string{"apiIngress": "public", "apiTlsCertificateName": "api_cert"}, "is not a Key Vault certificate name"},
		{"host without ingress", map[string]string{"apiIngress": "none"}, "but sluice:apiIngress is none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := map[string]string{"apiHostname": "api.example.com", "apiTlsCertificateName": "api-tls"}
			for k, v := range tc.overrides {
				o[k] = v
			}
			_, err := load("staging", values(t, "staging", o))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
	for _, mode := range []string{"internal", "public"} {
		if _, err := load("staging", values(t, "staging", map[string]string{"apiIngress": mode, "apiHostname": "api.staging.example.com", "apiTlsCertificateName": "api-tls"})); err != nil {
			t.Errorf("%s ingress: %v", mode, err)
		}
	}
	if _, err := load("staging", values(t, "staging", map[string]string{"apiIngress": "none", "apiHostname": "", "apiTlsCertificateName": ""})); err != nil {
		t.Errorf("no ingress: %v", err)
	}
}
