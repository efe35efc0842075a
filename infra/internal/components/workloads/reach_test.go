package workloads_test

import (
	"strings"

	"github.com/sluicehq/sluice/infra/internal/mocks"
)

// reach is every resource the engine must have finished before it can
// create res: its dependencies (the SDK expands a component into its
// children), its parent and its provider, transitively. A child waits for
// its parent because the SDK registers it only once the parent's URN is
// known, which for a custom parent means created.
func reach(m *mocks.Monitor, res *mocks.Resource) map[string]bool {
	byURN := map[string]*mocks.Resource{}
	for _, r := range m.Resources() {
		byURN[r.URN] = r
	}
	seen := map[string]bool{}
	var walk func(r *mocks.Resource)
	walk = func(r *mocks.Resource) {
		next := append([]string{}, r.Dependencies...)
		if r.Parent != "" {
			next = append(next, r.Parent)
		}
		if r.Provider != "" {
			// "<urn>::<id>"; the URN holds "::" itself.
			if i := strings.LastIndex(r.Provider, "::"); i > 0 {
				next = append(next, r.Provider[:i])
			}
		}
		for _, u := range next {
			if seen[u] {
				continue
			}
			seen[u] = true
			if d := byURN[u]; d != nil {
				walk(d)
			}
		}
	}
	walk(res)
	return seen
}
