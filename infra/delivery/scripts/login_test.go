package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/infra/bootstrap/trust"
)

// ciLogin runs ci-pulumi-login.sh for stack and returns what it wrote to
// $GITHUB_ENV.
func ciLogin(t *testing.T, stack string) (run, string) {
	t.Helper()
	dir := t.TempDir()
	envFile := filepath.Join(dir, "github_env")
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "ci-pulumi-login.sh")
	cmd.Env = append(os.Environ(), "GITHUB_ENV="+envFile, "STACK="+stack, "PULUMI_STATE_ACCOUNT=sluicestate01",
		"PULUMI_STATE_VAULT=sluice-state-01", "PATH="+filepath.Dir(goBin)+":/usr/bin:/bin")
	r := runCmd(t, cmd)
	data, _ := os.ReadFile(envFile)
	return r, string(data)
}

// Each stack gets its own level's container and key, the names bootstrap
// creates (trust.StateContainer, trust.StateKey), and nothing else.
func TestCILoginPicksTheStackLevelsState(t *testing.T) {
	for stack, level := range map[string]trust.Level{"review-pr3": trust.Review, "dev-alice": trust.Dev, "staging": trust.Staging, "prod": trust.Prod} {
		r, env := ciLogin(t, stack)
		if r.code != 0 {
			t.Fatalf("%s: exit %d\n%s", stack, r.code, r.out)
		}
		for _, want := range []string{
			"PULUMI_BACKEND_URL=azblob://" + trust.StateContainer(level) + "?storage_account=sluicestate01\n",
			"PULUMI_SECRETS_PROVIDER=azurekeyvault://sluice-state-01.vault.azure.net/keys/" + trust.StateKey(level) + "\n",
		} {
			if !strings.Contains(env, want) {
				t.Errorf("%s: GITHUB_ENV lacks %q:\n%s", stack, want, env)
			}
		}
	}
	r, env := ciLogin(t, "production")
	if r.code == 0 || !strings.Contains(r.out, "has no trust level") || env != "" {
		t.Fatalf("an unknown stack got a backend: exit %d\n%s\n%s", r.code, r.out, env)
	}
}
