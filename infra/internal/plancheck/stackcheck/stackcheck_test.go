package stackcheck

import (
	"testing"

	"github.com/sluicehq/sluice/infra/internal/plancheck"
	"github.com/sluicehq/sluice/internal/modroot/roottest"
)

// Every stack's plan must pass every check: this is what a first `pulumi
// up` meets in Azure and on AKS.
func TestStacksHaveNoViolations(t *testing.T) {
	r := roottest.Root(t)
	if _, err := plancheck.LoadCRDs(plancheck.CRDDir(r), plancheck.RepoCRDDir(r)); err != nil {
		t.Fatalf("the published CRDs must be in ../shared/schemas/crds (or %s): %v", plancheck.SharedEnv, err) // fail, not skip
	}
	for _, stack := range []string{"dev", "staging", "prod"} {
		t.Run(stack, func(t *testing.T) {
			rep, err := Run(r, stack)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Resources == 0 {
				t.Fatal("empty plan")
			}
			for _, v := range rep.Violations {
				t.Errorf("%s", v)
			}
		})
	}
}
