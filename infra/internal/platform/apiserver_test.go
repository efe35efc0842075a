package platform

import (
	"testing"

	"github.com/sluicehq/sluice/infra/internal/mocks"
)

// TestAPIServerIsNeverOpenToEveryone: in every stack the cluster's API
// server is private, or public with authorized IP ranges none of which
// admits every address.
func TestAPIServerIsNeverOpenToEveryone(t *testing.T) {
	for _, stack := range stacks {
		r := runStack(t, stack, nil)
		cluster := r.one(tCluster)
		private := mocks.Lookup(cluster.Inputs, "apiServerAccessProfile.enablePrivateCluster") == true
		ranges := strs(cluster.Inputs, "apiServerAccessProfile.authorizedIPRanges")
		switch {
		case private && len(ranges) > 0:
			t.Errorf("%s: a private API server with authorized ranges %v", stack, ranges)
		case !private && len(ranges) == 0:
			t.Errorf("%s: the public API server admits every address (no authorized IP ranges)", stack)
		}
		for _, cidr := range ranges {
			if cidr == "0.0.0.0/0" {
				t.Errorf("%s: authorized range %s admits every address", stack, cidr)
			}
		}
	}
	// The dev opt-out, when taken, is the only way to an open server.
	r := runStack(t, "dev", map[string]string{"aksAuthorizedIpRanges": "[]", "aksUnrestrictedPublicApiServer": "true"})
	if ranges := strs(r.one(tCluster).Inputs, "apiServerAccessProfile.authorizedIPRanges"); len(ranges) != 0 {
		t.Errorf("dev opt-out still sets authorized ranges %v", ranges)
	}
}
