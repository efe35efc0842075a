package platform

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/infra/internal/mocks"
)

// dependsOn reports whether a waits for b, directly or through other
// resources, following the dependencies Pulumi records.
func (r *run) dependsOn(a, b *mocks.Resource) bool {
	byURN := map[string]*mocks.Resource{}
	for _, res := range r.m.Resources() {
		byURN[res.URN] = res
	}
	seen := map[string]bool{}
	stack := []string{a.URN}
	for len(stack) > 0 {
		at := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		res := byURN[at]
		if res == nil {
			continue
		}
		for _, d := range res.Dependencies {
			if d == b.URN {
				return true
			}
			if !seen[d] {
				seen[d] = true
				stack = append(stack, d)
			}
		}
	}
	return false
}

// checkSerialised fails unless the writes are one chain: of any two, one
// waits for the other.
func (r *run) checkSerialised(what string, writes []*mocks.Resource) {
	r.t.Helper()
	for i, a := range writes {
		for _, b := range writes[i+1:] {
			if !r.dependsOn(a, b) && !r.dependsOn(b, a) {
				r.t.Errorf("%s: %s writes %s and %s may run at once (Azure answers ServerBusy/409)", r.stack, what, label(a), label(b))
			}
		}
	}
}

func label(r *mocks.Resource) string { return r.Type[strings.LastIndex(r.Type, ":")+1:] + " " + r.Name }

// targeting returns the resources of a type whose input at path is id.
func (r *run) targeting(token, path, id string) []*mocks.Resource {
	var out []*mocks.Resource
	for _, res := range r.all(token) {
		if str(res.Inputs, path) == id {
			out = append(out, res)
		}
	}
	return out
}

// TestWritesToOneServerAreSerialised: every write to the PostgreSQL server
// (administrators, database, firewall rule, parameters, private endpoint,
// diagnostic setting, lock) and to the Redis cluster (database, private
// endpoint, access policy assignments) waits for the one before it.
func TestWritesToOneServerAreSerialised(t *testing.T) {
	for _, stack := range stacks {
		r := runStack(t, stack, nil)
		server := r.one(tServer)
		var pg []*mocks.Resource
		for _, token := range []string{tPgAdmin, tPgDatabase, tPgFirewall, tPgConfig} {
			pg = append(pg, r.all(token)...)
		}
		pg = append(pg, r.targeting(tEndpoint, "privateLinkServiceConnections.0.privateLinkServiceId", server.ID)...)
		pg = append(pg, r.targeting(tDiagnostics, "resourceUri", server.ID)...)
		pg = append(pg, r.targeting(tLock, "scope", server.ID)...)
		r.checkSerialised("postgres", pg)

		cluster := r.one(tRedis)
		redis := append(r.all(tRedisDB), r.all(tRedisAccess)...)
		redis = append(redis, r.targeting(tEndpoint, "privateLinkServiceConnections.0.privateLinkServiceId", cluster.ID)...)
		r.checkSerialised("redis", redis)

		// The chain covers what this stack writes to the servers.
		want := map[string]int{"dev": 0, "staging": 1, "prod": 1}[stack]
		if n := len(r.targeting(tEndpoint, "privateLinkServiceConnections.0.privateLinkServiceId", server.ID)); n != want {
			t.Errorf("%s: %d postgres private endpoints, want %d", stack, n, want)
		}
		if n := len(r.targeting(tLock, "scope", server.ID)); n != map[string]int{"prod": 1}[stack] {
			t.Errorf("%s: %d postgres locks", stack, n)
		}
	}
}
