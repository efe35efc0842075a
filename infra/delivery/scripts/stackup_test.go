package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/modroot/roottest"
)

// TestStackUpRegistryFirst: a deploy creates the registry first (a targeted
// up), imports the images built on main by digest into it, then updates the
// whole stack with the stack's own image references.
func TestStackUpRegistryFirst(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "calls.log")
	plan := `{"steps":[{"urn":"urn:rg","newState":{"urn":"urn:rg","type":"azure-native:resources:ResourceGroup"}},` +
		`{"urn":"urn:acr","newState":{"urn":"urn:acr","type":"azure-native:containerregistry:Registry","dependencies":["urn:rg"]}},` +
		`{"urn":"urn:aks","newState":{"urn":"urn:aks","type":"azure-native:containerservice:ManagedCluster","dependencies":["urn:rg"]}}]}`
	if err := os.WriteFile(filepath.Join(dir, "plan.json"), []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "pulumi"), `#!/bin/sh
echo "pulumi $* images=$SLUICE_IMAGES_FILE" >> "`+log+`"
case "$*" in
*" preview "*"--json"*) cat "`+dir+`/plan.json" ;;
*"stack output acrLoginServer"*) echo acrsluicedev.azurecr.io ;;
esac
exit 0
`)
	fakeHost(t, dir)
	write(t, filepath.Join(dir, "az"), "#!/bin/sh\necho \"az $*\" >> "+log+"\n")
	digests := filepath.Join(dir, "digests.json")
	if err := os.WriteFile(digests, []byte(`{"api":"sluicebuild1.azurecr.io/api:1@`+digestA+`"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	env := oidcEnv(dir, map[string]string{"SLUICE_IMAGES_FILE": digests, "BUILD_REGISTRY_ID": buildID})
	cmd := exec.Command("bash", "stack-up.sh", "dev")
	cmd.Env = withGo(t, dir)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("stack-up: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(log)
	calls := strings.Split(strings.TrimSpace(string(data)), "\n")
	var order []string
	for _, c := range calls {
		switch {
		case strings.Contains(c, " preview ") && strings.Contains(c, "--json"):
			if strings.Contains(c, "--diff") {
				t.Errorf("a machine-read preview got --diff: %s", c)
			}
			order = append(order, "preview")
		case strings.Contains(c, " up ") && strings.Contains(c, "--target=urn:acr --target=urn:rg"):
			if strings.Contains(c, "urn:aks") {
				t.Errorf("the registry-first up targets the cluster: %s", c)
			}
			order = append(order, "up-registry")
		case strings.HasPrefix(c, "az acr import --name acrsluicedev --registry "+buildID+" --source api@"+digestA):
			order = append(order, "import")
		case strings.Contains(c, " up --stack=dev") && !strings.Contains(c, "--target"):
			if !strings.HasSuffix(c, "images="+filepath.Join(roottest.Root(t), ".sluice", "stack-up", "dev", "images.json")) {
				t.Errorf("the full up does not use the stack's digests: %s", c)
			}
			order = append(order, "up")
		}
	}
	if strings.Join(order, ",") != "preview,up-registry,import,up" {
		t.Fatalf("order %v, want preview, registry-first up, import, up; calls:\n%s", order, data)
	}
	stackDigests, err := os.ReadFile(filepath.Join(roottest.Root(t), ".sluice", "stack-up", "dev", "images.json"))
	if err != nil || !strings.Contains(string(stackDigests), `"acrsluicedev.azurecr.io/api@`+digestA+`"`) {
		t.Fatalf("stack digests %s (%v)", stackDigests, err)
	}
}
