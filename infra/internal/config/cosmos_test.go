package config

import (
	"slices"
	"strings"
	"testing"
)

// TestCosmosRegions: prod has a read region with automatic failover, and
// multi-region writes are refused everywhere.
func TestCosmosRegions(t *testing.T) {
	prod, err := load("prod", values(t, "prod", nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(prod.Cosmos.FailoverRegions) == 0 || slices.Contains(prod.Cosmos.FailoverRegions, prod.Region) {
		t.Errorf("prod Cosmos DB failover regions %v: want at least one region besides %s", prod.Cosmos.FailoverRegions, prod.Region)
	}
	for _, tc := range []struct {
		name, stack string
		overrides   map[string]string
		want        string
	}{
		{"multi-region writes on prod", "prod", map[string]string{"cosmosMultipleWriteLocations": "true"}, "lightweight transactions"},
		{"multi-region writes on dev", "dev", map[string]string{"cosmosMultipleWriteLocations": "true"}, "sluice:cosmosMultipleWriteLocations is on"},
		{"failover on serverless", "dev", map[string]string{"cosmosFailoverRegions": `["northeurope"]`}, "serverless Cosmos DB account runs in one region only"},
		{"failover to the write region", "prod", map[string]string{"cosmosFailoverRegions": `["westeurope"]`}, "the write region"},
		{"unknown failover region", "prod", map[string]string{"cosmosFailoverRegions": `["north-europe"]`}, `"north-europe", which is not a known Azure region`},
		{"failover region twice", "prod", map[string]string{"cosmosFailoverRegions": `["northeurope","northeurope"]`}, `lists "northeurope" twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(tc.stack, values(t, tc.stack, tc.overrides))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
	if _, err := load("staging", values(t, "staging", map[string]string{"cosmosFailoverRegions": `["northeurope","francecentral"]`})); err != nil {
		t.Errorf("staging with two read regions: %v", err)
	}
}
