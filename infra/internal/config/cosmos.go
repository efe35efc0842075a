package config

import "slices"

// cosmosRegions: read regions are real, distinct and not the write region;
// serverless accounts are single-region; writes stay in one region.
func (v *validator) cosmosRegions(c *Config) {
	co := c.Cosmos
	if co.MultipleWriteLocations {
		v.addf("sluice:cosmosMultipleWriteLocations is on: the change feed's leases use lightweight transactions (IF NOT EXISTS / IF), which Cosmos DB for Apache Cassandra does not support with multi-region writes; keep one write region and add read regions with sluice:cosmosFailoverRegions")
	}
	if len(co.FailoverRegions) > 0 && co.Throughput == "serverless" {
		v.addf("sluice:cosmosFailoverRegions is set but a serverless Cosmos DB account runs in one region only; use sluice:cosmosThroughput autoscale")
	}
	seen := map[string]bool{}
	for _, r := range co.FailoverRegions {
		switch {
		case !RegionHasZones(r) && !slices.Contains(regionsWithoutZones, r):
			v.addf("sluice:cosmosFailoverRegions contains %q, which is not a known Azure region name (e.g. northeurope)", r)
		case r == c.Region:
			v.addf("sluice:cosmosFailoverRegions contains %q, the write region (sluice:region); list other regions", r)
		case seen[r]:
			v.addf("sluice:cosmosFailoverRegions lists %q twice", r)
		}
		seen[r] = true
	}
}
