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
	counts := map[string]int{}
	for _, c := range []struct {
		name, stack string
		overrides   map[string]string
	}{
		{"dev", "dev", nil}, {"staging", "staging", nil}, {"prod", "prod", nil},
		// The stack files leave Spark off; the plan with it on must pass
		// the same checks (the operator's release, the SparkApplication
		// against its CRD and the Spark contract, its order).
		{"dev+spark", "dev", map[string]string{"sparkStream": "true"}},
		{"prod+spark", "prod", map[string]string{"sparkStream": "true"}},
		// The enrich job on Spark: its SparkApplication template (in a
		// ConfigMap) against the CRD and the enrich job's contract, the
		// launcher's and the driver's Roles, the order after the operator.
		{"dev+spark-enrich", "dev", map[string]string{"enrichEngine": "spark"}},
		{"prod+spark-enrich", "prod", map[string]string{"enrichEngine": "spark"}},
		{"prod+spark-both", "prod", map[string]string{"sparkStream": "true", "enrichEngine": "spark"}},
	} {
		stack := c.stack
		t.Run(c.name, func(t *testing.T) {
			rep, err := RunWith(r, stack, c.overrides)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Resources == 0 {
				t.Fatal("empty plan")
			}
			if c.overrides == nil {
				counts[stack] = rep.Resources
			} else if rep.Resources <= counts[stack] {
				t.Fatalf("%v adds nothing to %s's plan (%d resources)", c.overrides, stack, rep.Resources)
			}
			for _, v := range rep.Violations {
				t.Errorf("%s", v)
			}
		})
	}
}
