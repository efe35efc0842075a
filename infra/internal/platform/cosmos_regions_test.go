package platform

import (
	"errors"
	"fmt"
	"testing"

	"github.com/sluicehq/sluice/infra/internal/config"
	"github.com/sluicehq/sluice/infra/internal/mocks"
)

// TestCosmosFailoverRegions: prod's account has its write region first and
// at least one read region after it, automatic failover on and a single
// write region; the other stacks stay single-region.
func TestCosmosFailoverRegions(t *testing.T) {
	for _, stack := range stacks {
		r := runStack(t, stack, nil)
		acct := r.one(tAccount)
		var regions []string
		for i := 0; ; i++ {
			name := str(acct.Inputs, fmt.Sprintf("locations.%d.locationName", i))
			if name == "" {
				break
			}
			if p := mocks.Lookup(acct.Inputs, fmt.Sprintf("locations.%d.failoverPriority", i)); p != float64(i) {
				t.Errorf("%s: location %d (%s) has failover priority %v, want %d", stack, i, name, p, i)
			}
			regions = append(regions, name)
		}
		if mocks.Lookup(acct.Inputs, "enableMultipleWriteLocations") != false {
			t.Errorf("%s: multi-region writes are not off (the change feed's leases need lightweight transactions)", stack)
		}
		want := 1
		if stack == "prod" {
			want = 2
		}
		if len(regions) < want || regions[0] != "westeurope" {
			t.Errorf("%s: Cosmos DB regions %v; want the write region westeurope first and %d region(s) in all", stack, regions, want)
		}
		if auto := mocks.Lookup(acct.Inputs, "enableAutomaticFailover") == true; auto != (len(regions) > 1) {
			t.Errorf("%s: automatic failover %v with regions %v", stack, auto, regions)
		}
		for i := 1; i < len(regions); i++ {
			if regions[i] == regions[0] {
				t.Errorf("%s: read region %s is the write region", stack, regions[i])
			}
		}
	}
	// Multi-region writes never reach Azure.
	values := stackValues(t, "prod", map[string]string{"cosmosMultipleWriteLocations": "true"})
	var cfgErr *config.Error
	if m, err := mocks.Run(Program, "prod", values); !errors.As(err, &cfgErr) || len(m.Resources()) != 0 {
		t.Errorf("prod with multi-region writes: err %v, %d resources", err, len(m.Resources()))
	}
}
