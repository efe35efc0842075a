package plancheck

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/sluicehq/sluice/infra/internal/mocks"
	"github.com/sluicehq/sluice/internal/modroot/roottest"
)

// res builds a synthetic registered resource.
func res(typ, name string, inputs map[string]any, outputs map[string]any) *mocks.Resource {
	if outputs == nil {
		outputs = map[string]any{}
	}
	return &mocks.Resource{
		URN: "urn:pulumi:t::sluice::" + typ + "::" + name, Type: typ, Name: name, Custom: true,
		Inputs: resource.NewPropertyMapFromMap(inputs), Outputs: resource.NewPropertyMapFromMap(outputs),
	}
}

func dependsOn(r *mocks.Resource, deps ...*mocks.Resource) *mocks.Resource {
	for _, d := range deps {
		r.Dependencies = append(r.Dependencies, d.URN)
	}
	return r
}

// want fails unless exactly one violation of check mentions every part.
func want(t *testing.T, vs []Violation, check string, parts ...string) {
	t.Helper()
	n := 0
	for _, v := range vs {
		if v.Check != check {
			continue
		}
		all := true
		for _, p := range parts {
			if !strings.Contains(v.String(), p) {
				all = false
			}
		}
		if all {
			n++
		}
	}
	if n != 1 {
		t.Errorf("want one %s violation with %q, got %d in:\n%s", check, parts, n, list(vs))
	}
}

func none(t *testing.T, vs []Violation) {
	t.Helper()
	if len(vs) > 0 {
		t.Errorf("want no violation, got:\n%s", list(vs))
	}
}

func list(vs []Violation) string {
	var b strings.Builder
	for _, v := range vs {
		b.WriteString("  " + v.String() + "\n")
	}
	return b.String()
}

// crds loads the published CRDs; a missing ../shared fails the test.
func crds(t *testing.T) *CRDs {
	t.Helper()
	c, err := LoadCRDs(CRDDir(roottest.Root(t)), RepoCRDDir(roottest.Root(t)))
	if err != nil {
		t.Fatalf("the published CRD schemas must be in ../shared/schemas/crds beside the repository (or %s): %v", SharedEnv, err)
	}
	return c
}
