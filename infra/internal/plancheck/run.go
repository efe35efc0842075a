package plancheck

import (
	"path/filepath"

	"github.com/sluicehq/sluice/infra/internal/mocks"
	"github.com/sluicehq/sluice/internal/crdschema"
)

// SharedEnv overrides where the shared folder (published CRD schemas under
// schemas/crds) is; by default it is ../shared beside the repository root.
const SharedEnv = crdschema.SharedEnv

// CRDDir is the folder of the published CRDs for the repository at root.
func CRDDir(root string) string { return crdschema.Dir(root) }

// RepoCRDDir holds the published CRDs of AKS add-ons that ../shared does
// not carry (see its README).
func RepoCRDDir(root string) string {
	return filepath.Join(root, "infra", "internal", "plancheck", "crds")
}

// Report is the outcome of the checks on one stack's plan.
type Report struct {
	Stack      string
	Resources  int
	Violations []Violation
}

// Check runs every check (schema, names, order, manifests, contract) on a
// plan's resources.
func Check(resources []*mocks.Resource, crds *CRDs) ([]Violation, error) {
	s, err := AzureSchema()
	if err != nil {
		return nil, err
	}
	var out []Violation
	out = append(out, CheckSchema(s, resources)...)
	out = append(out, CheckNames(resources)...)
	// Templates a workload creates at run time are checked like the
	// plan's own objects from here on.
	resources, vs := WithTemplates(resources)
	out = append(out, vs...)
	out = append(out, CheckOrder(resources)...)
	out = append(out, CheckManifests(crds, resources)...)
	out = append(out, CheckContract(resources)...)
	Sort(out)
	return out, nil
}
