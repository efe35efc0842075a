package workloads_test

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/infra/internal/mocks"
)

// Type tokens of what the workloads use.
const (
	tPool       = "azure-native:containerservice/v20250101:AgentPool"
	tPgDatabase = "azure-native:dbforpostgresql/v20240801:Database"
	tPgConfig   = "azure-native:dbforpostgresql/v20240801:Configuration"
	tKeyspace   = "azure-native:documentdb:CassandraResourceCassandraKeyspace"
	tTable      = "azure-native:documentdb:CassandraResourceCassandraTable"
	tEndpoint   = "azure-native:network:PrivateEndpoint"
	tZoneGroup  = "azure-native:network:PrivateDnsZoneGroup"
)

// Azure Managed Redis is declared through the generic resource (API
// 2025-07-01, see infra/internal/azurenative/cache/v20250701).
var (
	tRedisDB     = mocks.GenericType("Microsoft.Cache/redisEnterprise/databases")
	tRedisAccess = mocks.GenericType("Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments")
)

// TestWorkloadsWaitForWhatTheyUse: no workload object can be applied before
// what it uses exists. Every pod-running object (Deployment, Job, CronJob)
// waits, through its dependencies, parents and provider as the engine
// follows them, for the user node pool (the system pool is tainted), the
// PostgreSQL database, every server parameter and (private networking) the
// PostgreSQL private endpoint and DNS, the Cosmos keyspace and every table,
// the Redis database and every access assignment; ScaledObject and
// SecretProviderClass wait for the cluster that brings their add-ons.
func TestWorkloadsWaitForWhatTheyUse(t *testing.T) {
	for _, stack := range []string{"dev", "staging", "prod"} {
		r := runStack(t, stack, "")
		var needs []*mocks.Resource
		for _, token := range []string{tPool, tPgDatabase, tPgConfig, tKeyspace, tTable, tRedisDB, tRedisAccess} {
			list := r.all(token)
			if len(list) == 0 {
				t.Fatalf("%s: no %s in the plan", stack, token)
			}
			needs = append(needs, list...)
		}
		if r.cfg.PrivateNetworking {
			for _, token := range []string{tEndpoint, tZoneGroup} {
				for _, res := range r.all(token) {
					if strings.HasPrefix(res.Name, "psql-sluice-") || strings.HasPrefix(res.Name, "cosmos-sluice-") || strings.HasPrefix(res.Name, "redis-sluice-") {
						needs = append(needs, res)
					}
				}
			}
			if len(needs) < 12 {
				t.Fatalf("%s: the data services' private endpoints are missing from the plan", stack)
			}
		}
		cluster := r.one(tCluster)
		pods := 0
		for _, res := range r.m.Resources() {
			if !strings.HasPrefix(res.Type, "kubernetes:") {
				continue
			}
			got := reach(r.m, res)
			if !got[cluster.URN] {
				t.Errorf("%s: %s %s does not wait for the cluster", stack, res.Type, res.Name)
			}
			switch res.Type {
			case tDeployment, tJob, tCronJob:
				pods++
				for _, need := range needs {
					if !got[need.URN] {
						t.Errorf("%s: %s %s does not wait for %s %s", stack, res.Type, res.Name, need.Type, need.Name)
					}
				}
			}
		}
		if pods < 5 {
			t.Errorf("%s: only %d pod-running objects", stack, pods)
		}
	}
}
