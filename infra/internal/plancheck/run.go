package plancheck

import (
	"os"
	"path/filepath"

	"github.com/sluicehq/sluice/infra/internal/mocks"
)

// SharedEnv overrides where the shared folder (published CRD schemas under
// schemas/crds) is; by default it is ../shared beside the repository root.
const SharedEnv = "SLUICE_SHARED_DIR"

// CRDDir is the folder of the published CRDs for the repository at root.
func CRDDir(root string) string {
	shared := os.Getenv(SharedEnv)
	if shared == "" {
		shared = filepath.Join(root, "..", "shared")
	}
	return filepath.Join(shared, "schemas", "crds")
}

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
	out = append(out, CheckOrder(resources)...)
	out = append(out, CheckManifests(crds, resources)...)
	out = append(out, CheckContract(resources)...)
	Sort(out)
	return out, nil
}
