package plancheck

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sluicehq/sluice/infra/internal/mocks"
)

// AKS built-in roles that let an Entra principal apply Kubernetes objects
// on a cluster with Azure RBAC (Azure Kubernetes Service RBAC Cluster
// Admin, Admin, Writer).
var aksRBACWriteRoles = []string{
	"b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
	"3498e952-d568-435e-9b2c-8d77e338d7f7",
	"a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb",
}

// Graph is a plan's dependency graph as the engine sees it on a first
// deployment: a resource is created only after everything it depends on
// (its dependsOn, with components standing for all their children, the
// resources behind its inputs and its explicit provider). The parent is no
// creation dependency.
type Graph struct {
	resources []*mocks.Resource
	byURN     map[string]*mocks.Resource
	direct    map[string][]string
	closure   map[string]map[string]bool
}

// NewGraph builds the graph of a plan.
func NewGraph(resources []*mocks.Resource) *Graph {
	g := &Graph{resources: resources, byURN: map[string]*mocks.Resource{}, direct: map[string][]string{}, closure: map[string]map[string]bool{}}
	children := map[string][]string{}
	for _, r := range resources {
		g.byURN[r.URN] = r
		if r.Parent != "" {
			children[r.Parent] = append(children[r.Parent], r.URN)
		}
	}
	var descendants func(urn string, out *[]string)
	descendants = func(urn string, out *[]string) {
		for _, c := range children[urn] {
			*out = append(*out, c)
			descendants(c, out)
		}
	}
	for _, r := range resources {
		var deps []string
		add := func(urn string) {
			deps = append(deps, urn)
			if d, ok := g.byURN[urn]; ok && !d.Custom {
				descendants(urn, &deps)
			}
		}
		for _, d := range r.Dependencies {
			add(d)
		}
		for _, ds := range r.PropertyDependencies {
			for _, d := range ds {
				add(d)
			}
		}
		if r.Provider != "" {
			// "<urn>::<id>"; the URN has "::" of its own.
			add(r.Provider[:max(strings.LastIndex(r.Provider, "::"), 0)])
		}
		g.direct[r.URN] = deps
	}
	return g
}

// Before returns the URNs certainly created before r.
func (g *Graph) Before(r *mocks.Resource) map[string]bool {
	if c, ok := g.closure[r.URN]; ok {
		return c
	}
	seen := map[string]bool{}
	g.closure[r.URN] = seen // cycle guard
	for _, d := range g.direct[r.URN] {
		if seen[d] {
			continue
		}
		seen[d] = true
		if dr, ok := g.byURN[d]; ok {
			for u := range g.Before(dr) {
				seen[u] = true
			}
		}
	}
	return seen
}

// Ordered tells whether a and b can never run at the same time.
func (g *Graph) Ordered(a, b *mocks.Resource) bool {
	return g.Before(a)[b.URN] || g.Before(b)[a.URN]
}

func (g *Graph) ofType(suffix string) []*mocks.Resource {
	var out []*mocks.Resource
	for _, r := range g.resources {
		if r.Custom && (r.Type == suffix || strings.HasSuffix(r.Type, ":"+suffix)) {
			out = append(out, r)
		}
	}
	return out
}

// need is one requirement of a resource: what must exist first.
type need struct {
	what  string
	match func(*mocks.Resource) bool
}

func id(r *mocks.Resource) string { return mocks.String(r.Outputs, "id") }

func outName(r *mocks.Resource) string {
	if n := mocks.String(r.Outputs, "name"); n != "" {
		return n
	}
	return r.Name
}

// CheckOrder simulates a first deployment over the plan's graph and
// reports every resource the engine could create before something it
// needs, and every pair of writes to one server the engine could run at
// once.
func CheckOrder(resources []*mocks.Resource) []Violation {
	g := NewGraph(resources)
	var out []Violation
	require := func(r *mocks.Resource, needs []need) {
		before := g.Before(r)
		for _, n := range needs {
			found, present := false, false
			for _, c := range g.resources {
				if !n.match(c) {
					continue
				}
				present = true
				if before[c.URN] {
					found = true
					break
				}
			}
			switch {
			case !present:
				out = append(out, violation("order", r, "needs %s first, and the plan has none", n.what))
			case !found:
				out = append(out, violation("order", r, "could be created before %s, which it needs", n.what))
			}
		}
	}
	k := &kubeFacts{g: g}
	k.index()
	for _, r := range resources {
		switch {
		case isKube(r):
			require(r, k.needs(r))
		case isAzure(r) && strings.HasSuffix(r.Type, ":PrivateEndpoint"):
			require(r, privateEndpointNeeds(g, r))
		case isAzure(r) && strings.HasSuffix(r.Type, ":PrivateDnsZoneGroup"):
			require(r, zoneGroupNeeds(g, r))
		}
	}
	out = append(out, serialised(g)...)
	return out
}

func byID(g *Graph, want string) func(*mocks.Resource) bool {
	return func(c *mocks.Resource) bool { return want != "" && c.Custom && strings.EqualFold(id(c), want) }
}

func privateEndpointNeeds(g *Graph, r *mocks.Resource) []need {
	var needs []need
	if sub := mocks.String(r.Inputs, "subnet.id"); sub != "" && anyMatch(g, byID(g, sub)) {
		needs = append(needs, need{"its subnet " + lastSegment(sub), byID(g, sub)})
	}
	for i := 0; ; i++ {
		target := mocks.String(r.Inputs, fmt.Sprintf("privateLinkServiceConnections.%d.privateLinkServiceId", i))
		if target == "" {
			break
		}
		if anyMatch(g, byID(g, target)) {
			needs = append(needs, need{"its target " + lastSegment(target), byID(g, target)})
		}
	}
	return needs
}

func zoneGroupNeeds(g *Graph, r *mocks.Resource) []need {
	pe := mocks.String(r.Inputs, "privateEndpointName")
	needs := []need{{"its private endpoint " + pe, func(c *mocks.Resource) bool {
		return strings.HasSuffix(c.Type, ":PrivateEndpoint") && outName(c) == pe
	}}}
	for i := 0; ; i++ {
		zone := mocks.String(r.Inputs, fmt.Sprintf("privateDnsZoneConfigs.%d.privateDnsZoneId", i))
		if zone == "" {
			break
		}
		if anyMatch(g, byID(g, zone)) {
			needs = append(needs, need{"its DNS zone " + lastSegment(zone), byID(g, zone)})
		}
	}
	return needs
}

func anyMatch(g *Graph, m func(*mocks.Resource) bool) bool {
	for _, r := range g.resources {
		if m(r) {
			return true
		}
	}
	return false
}

func lastSegment(s string) string { return s[strings.LastIndex(s, "/")+1:] }

// serialised reports writes to one server that could run at once:
// PostgreSQL server parameters, private endpoints, diagnostic settings,
// locks and Entra administrators of one flexible server (ServerBusy); the
// private endpoint and the access policy assignments of one Azure Managed
// Redis cluster (409 Conflict); federated credentials of one identity.
func serialised(g *Graph) []Violation {
	type group struct {
		what    string
		writers []*mocks.Resource
		// pairs limits the rule to pairs of different kinds when set.
		across bool
	}
	var groups []group
	for _, s := range g.ofType("Server") {
		if !strings.Contains(s.Type, "dbforpostgresql") {
			continue
		}
		sid, name := id(s), outName(s)
		gr := group{what: "PostgreSQL server " + name}
		for _, r := range g.resources {
			if !isAzure(r) {
				continue
			}
			switch {
			case strings.Contains(r.Type, "dbforpostgresql") && (strings.HasSuffix(r.Type, ":Configuration") || strings.HasSuffix(r.Type, ":Administrator")):
				if mocks.String(r.Inputs, "serverName") == name {
					gr.writers = append(gr.writers, r)
				}
			case strings.HasSuffix(r.Type, ":PrivateEndpoint"):
				if targets(r, sid) {
					gr.writers = append(gr.writers, r)
				}
			case strings.HasSuffix(r.Type, ":DiagnosticSetting"):
				if strings.EqualFold(mocks.String(r.Inputs, "resourceUri"), sid) {
					gr.writers = append(gr.writers, r)
				}
			case strings.HasSuffix(r.Type, ":ManagementLockByScope"):
				if strings.EqualFold(mocks.String(r.Inputs, "scope"), sid) {
					gr.writers = append(gr.writers, r)
				}
			}
		}
		groups = append(groups, gr)
	}
	for _, c := range g.ofType("RedisEnterprise") {
		cid, name := id(c), outName(c)
		gr := group{what: "Azure Managed Redis cluster " + name, across: true}
		for _, r := range g.resources {
			switch {
			case isAzure(r) && strings.HasSuffix(r.Type, ":AccessPolicyAssignment") && mocks.String(r.Inputs, "clusterName") == name:
				gr.writers = append(gr.writers, r)
			case isAzure(r) && strings.HasSuffix(r.Type, ":PrivateEndpoint") && targets(r, cid):
				gr.writers = append(gr.writers, r)
			}
		}
		groups = append(groups, gr)
	}
	fics := map[string][]*mocks.Resource{}
	for _, r := range g.ofType("FederatedIdentityCredential") {
		key := mocks.String(r.Inputs, "resourceGroupName") + "/" + mocks.String(r.Inputs, "resourceName")
		fics[key] = append(fics[key], r)
	}
	keys := make([]string, 0, len(fics))
	for k := range fics {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		groups = append(groups, group{what: "managed identity " + lastSegment(k), writers: fics[k]})
	}
	var out []Violation
	for _, gr := range groups {
		for i, a := range gr.writers {
			var racing []string
			for _, b := range gr.writers[:i] {
				if gr.across && a.Type == b.Type {
					continue
				}
				if !g.Ordered(a, b) {
					racing = append(racing, b.Name)
				}
			}
			if len(racing) > 0 {
				out = append(out, violation("order", a, "writes to %s and could run at the same time as %s (the service refuses concurrent writes: chain them with dependsOn)",
					gr.what, strings.Join(racing, ", ")))
			}
		}
	}
	return out
}

func targets(pe *mocks.Resource, target string) bool {
	for i := 0; ; i++ {
		t := mocks.String(pe.Inputs, fmt.Sprintf("privateLinkServiceConnections.%d.privateLinkServiceId", i))
		if t == "" {
			return false
		}
		if target != "" && strings.EqualFold(t, target) {
			return true
		}
	}
}
