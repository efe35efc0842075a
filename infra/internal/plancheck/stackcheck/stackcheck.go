// Package stackcheck plans a stack under mocks (package plan) and runs the
// plancheck checks on it; it is apart from plancheck so that the checks'
// own unit tests build without the Pulumi program.
package stackcheck

import (
	"fmt"

	"github.com/sluicehq/sluice/infra/internal/plan"
	"github.com/sluicehq/sluice/infra/internal/plancheck"
)

// Run plans stack under mocks (root holds Pulumi.yaml) and checks the plan.
func Run(root, stack string) (*plancheck.Report, error) { return RunWith(root, stack, nil) }

// RunWith is Run with config values overriding the stack file's, keyed
// without the namespace ("sparkStream"): how the checks see the parts a
// stack file leaves off.
func RunWith(root, stack string, overrides map[string]string) (*plancheck.Report, error) {
	crds, err := plancheck.LoadCRDs(plancheck.CRDDir(root), plancheck.RepoCRDDir(root))
	if err != nil {
		return nil, err
	}
	m, err := plan.RunWith(root, stack, overrides)
	if err != nil {
		return nil, err
	}
	resources := m.Resources()
	vs, err := plancheck.Check(resources, crds)
	if err != nil {
		return nil, fmt.Errorf("check %s: %w", stack, err)
	}
	return &plancheck.Report{Stack: stack, Resources: len(resources), Violations: vs}, nil
}
