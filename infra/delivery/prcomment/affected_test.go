package prcomment

import (
	"strings"
	"testing"
)

func TestAffected(t *testing.T) {
	stacks := []string{"dev", "staging", "prod"}
	cases := []struct {
		changed []string
		want    string
	}{
		{nil, ""},
		{[]string{"README.md", "infra/DELIVERY.md", ".github/workflows/pr.yml"}, ""},
		{[]string{"stacks/Pulumi.prod.yaml"}, "prod"},
		{[]string{"stacks/Pulumi.prod.yaml", "stacks/Pulumi.dev.yaml", "docs.md"}, "dev,prod"},
		{[]string{"stacks/Pulumi.review-pr1.yaml"}, ""},
		{[]string{"infra/network.go"}, "dev,staging,prod"},
		{[]string{"README.md", "go.sum"}, "dev,staging,prod"},
		{[]string{"Pulumi.yaml"}, "dev,staging,prod"},
		{[]string{"stacks/README.txt"}, "dev,staging,prod"},
		{[]string{"  ", "workloads/contract/event.go"}, "dev,staging,prod"},
	}
	for _, tc := range cases {
		if got := strings.Join(Affected(tc.changed, stacks), ","); got != tc.want {
			t.Errorf("Affected(%q) = %q, want %q", tc.changed, got, tc.want)
		}
	}
}
