package documentdb

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/mocks"
)

// TestMultiRegionAccountRegistration: the wrapper carries what a
// single-write, multi-read account needs (REST DatabaseAccountCreateUpdate
// properties locations[].failoverPriority, enableAutomaticFailover,
// enableMultipleWriteLocations) to the registered inputs unchanged.
func TestMultiRegionAccountRegistration(t *testing.T) {
	m, err := mocks.Run(func(ctx *pulumi.Context) error {
		_, err := NewDatabaseAccount(ctx, "acct", &DatabaseAccountArgs{
			ResourceGroupName:        pulumi.String("rg"),
			DatabaseAccountOfferType: DatabaseAccountOfferTypeStandard,
			Locations: LocationArray{
				LocationArgs{LocationName: pulumi.String("westeurope"), FailoverPriority: pulumi.Int(0), IsZoneRedundant: pulumi.Bool(true)},
				LocationArgs{LocationName: pulumi.String("northeurope"), FailoverPriority: pulumi.Int(1), IsZoneRedundant: pulumi.Bool(false)},
			},
			EnableAutomaticFailover:      pulumi.Bool(true),
			EnableMultipleWriteLocations: pulumi.Bool(false),
		})
		return err
	}, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	list := m.OfType(sdkTokens["DatabaseAccount"])
	if len(list) != 1 {
		t.Fatalf("%d accounts registered", len(list))
	}
	acct := list[0]
	for path, want := range map[string]any{
		"locations.0.locationName":     "westeurope",
		"locations.0.failoverPriority": 0.0,
		"locations.0.isZoneRedundant":  true,
		"locations.1.locationName":     "northeurope",
		"locations.1.failoverPriority": 1.0,
		"locations.1.isZoneRedundant":  false,
		"enableAutomaticFailover":      true,
		"enableMultipleWriteLocations": false,
	} {
		if got := mocks.Lookup(acct.Inputs, path); got != want {
			t.Errorf("input %s = %v, want %v", path, got, want)
		}
	}
}
