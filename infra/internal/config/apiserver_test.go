package config

import (
	"fmt"
	"strings"
	"testing"
)

// TestAPIServerAccessRule: a public AKS API server always has authorized
// ranges, except on a dev or review stack that opts out by name.
func TestAPIServerAccessRule(t *testing.T) {
	for _, stack := range []string{"dev", "staging", "prod"} {
		c, err := load(stack, values(t, stack, nil))
		if err != nil {
			t.Fatalf("%s: %v", stack, err)
		}
		if !c.AKS.PrivateAPIServer && len(c.AKS.AuthorizedIPRanges) == 0 {
			t.Errorf("%s: the public API server has no authorized IP ranges", stack)
		}
		if values(t, stack, nil)[Namespace+":aksUnrestrictedPublicApiServer"] == "true" {
			t.Errorf("%s: the stack file opts out of authorized IP ranges", stack)
		}
	}
	bad := []struct {
		name, stack string
		overrides   map[string]string
		want        string
	}{
		{"dev public and open", "dev", map[string]string{"aksAuthorizedIpRanges": "[]"}, "is empty while the API server is public"},
		{"staging public and open", "staging", map[string]string{"aksAuthorizedIpRanges": "[]"}, "is empty while the API server is public"},
		{"prod made public and open", "prod", map[string]string{"aksPrivateApiServer": "false"}, "is empty while the API server is public"},
		{"opt-out on staging", "staging", map[string]string{"aksAuthorizedIpRanges": "[]", "aksUnrestrictedPublicApiServer": "true"}, `only dev and review stacks may, not "staging"`},
		{"opt-out on prod", "prod", map[string]string{"aksPrivateApiServer": "false", "aksUnrestrictedPublicApiServer": "true"}, `only dev and review stacks may, not "prod"`},
		{"opt-out with ranges", "dev", map[string]string{"aksUnrestrictedPublicApiServer": "true"}, "restricts the API server; drop one"},
		{"opt-out on a private server", "prod", map[string]string{"aksUnrestrictedPublicApiServer": "true"}, "the API server is private"},
		{"range admitting everything", "staging", map[string]string{"aksAuthorizedIpRanges": `["0.0.0.0/0"]`}, "admits every address"},
		{"range with host bits", "staging", map[string]string{"aksAuthorizedIpRanges": `["198.51.100.7/24"]`}, "has host bits set"},
		{"range not a cidr", "staging", map[string]string{"aksAuthorizedIpRanges": `["office"]`}, `"office", which is not an IPv4 CIDR`},
		{"range ipv6", "staging", map[string]string{"aksAuthorizedIpRanges": `["2001:db8::/32"]`}, "which is not an IPv4 CIDR"},
		{"too many ranges", "staging", map[string]string{"aksAuthorizedIpRanges": manyRanges(201)}, "AKS accepts at most 200"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(tc.stack, values(t, tc.stack, tc.overrides))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
	good := []struct {
		name, stack string
		overrides   map[string]string
	}{
		{"dev opts out", "dev", map[string]string{"aksAuthorizedIpRanges": "[]", "aksUnrestrictedPublicApiServer": "true"}},
		{"review stack opts out", "review-pr7", map[string]string{"aksAuthorizedIpRanges": "[]", "aksUnrestrictedPublicApiServer": "true"}},
		{"staging made private", "staging", map[string]string{"aksAuthorizedIpRanges": "[]", "aksPrivateApiServer": "true"}},
		{"staging with 200 ranges", "staging", map[string]string{"aksAuthorizedIpRanges": manyRanges(200)}},
	}
	for _, tc := range good {
		base := tc.stack
		if strings.HasPrefix(base, "review-") {
			base = "dev"
		}
		if _, err := load(tc.stack, values(t, base, tc.overrides)); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func manyRanges(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, fmt.Sprintf(`"20.%d.%d.0/24"`, i/256, i%256))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func TestDeployerType(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	for _, tc := range []struct {
		configured string
		vars       map[string]string
		want       string
	}{
		{"", nil, "User"},
		{"", map[string]string{"ARM_CLIENT_ID": "x"}, "ServicePrincipal"},
		{"", map[string]string{"AZURE_CLIENT_ID": "x"}, "ServicePrincipal"},
		{"Group", map[string]string{"ARM_CLIENT_ID": "x"}, "Group"},
	} {
		if got := (AKS{DeployerPrincipalType: tc.configured}).DeployerType(env(tc.vars)); got != tc.want {
			t.Errorf("DeployerType(%q, %v) = %q, want %q", tc.configured, tc.vars, got, tc.want)
		}
	}
}
