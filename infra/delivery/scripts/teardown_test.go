package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// teardownBin makes stand-in pulumi and az that log every call to calls.log.
// az reports one lock on the group and one soft-deleted vault of the stack
// (purge protection as given).
func teardownBin(t *testing.T, purgeProtected bool) (dir string) {
	t.Helper()
	dir = t.TempDir()
	log := filepath.Join(dir, "calls.log")
	write(t, filepath.Join(dir, "pulumi"), `#!/bin/sh
echo "pulumi $*" >> "`+log+`"
case "$*" in
*"stack output resourceGroupName"*) echo rg-sluice-dev-alice ;;
*"stack output keyVaultName"*) echo kv-sluice-abc ;;
*"config get sluice:protect "*) echo false ;;
*"stack tag get"*) exit 1 ;;
esac
exit 0
`)
	prot := "False"
	if purgeProtected {
		prot = "True"
	}
	fakeHost(t, dir)
	write(t, filepath.Join(dir, "az"), `#!/bin/sh
echo "az $*" >> "`+log+`"
case "$*" in
"group exists"*) echo true ;;
"lock list"*) echo /subscriptions/s/resourceGroups/rg-sluice-dev-alice/providers/Microsoft.Authorization/locks/keep ;;
"keyvault list-deleted"*) printf 'kv-sluice-abc\twesteurope\t`+prot+`\n' ;;
esac
exit 0
`)
	return dir
}

func teardown(t *testing.T, bin, stack string) run {
	t.Helper()
	cmd := exec.Command("bash", "teardown-stack.sh", stack)
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "HOME=" + t.TempDir(), "PULUMI=" + filepath.Join(bin, "pulumi"), "SLUICE_PROGRAMHOST=" + filepath.Join(bin, "programhost"),
		"PULUMI_BACKEND_URL=azblob://state-dev?storage_account=x", "ARM_USE_OIDC=true", "ARM_CLIENT_ID=c", "ARM_TENANT_ID=t",
		"ARM_SUBSCRIPTION_ID=s", "ACTIONS_ID_TOKEN_REQUEST_URL=https://token.invalid", "ACTIONS_ID_TOKEN_REQUEST_TOKEN=x"}
	return runCmd(t, cmd)
}

func TestTeardownRefusesLongLivedStacks(t *testing.T) {
	for _, stack := range []string{"staging", "prod", "org/sluice/prod", "org/sluice/staging", "production", "main", "-rf"} {
		bin := teardownBin(t, false)
		r := teardown(t, bin, stack)
		if r.code == 0 || !strings.Contains(r.out, "refusing to tear down") {
			t.Errorf("%s: want a refusal, got exit %d\n%s", stack, r.code, r.out)
		}
		if _, err := os.Stat(filepath.Join(bin, "calls.log")); err == nil {
			calls, _ := os.ReadFile(filepath.Join(bin, "calls.log"))
			t.Errorf("%s: ran commands before refusing:\n%s", stack, calls)
		}
	}
}

func TestTeardownLeavesNothingBehind(t *testing.T) {
	bin := teardownBin(t, false)
	r := teardown(t, bin, "dev-alice")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.out)
	}
	data, _ := os.ReadFile(filepath.Join(bin, "calls.log"))
	calls := string(data)
	lock := strings.Index(calls, "az lock delete --ids /subscriptions/s/resourceGroups/rg-sluice-dev-alice/providers/Microsoft.Authorization/locks/keep")
	destroy := strings.Index(calls, "destroy --stack=dev-alice --yes --remove")
	purge := strings.Index(calls, "az keyvault purge --name kv-sluice-abc --location westeurope")
	if lock < 0 || destroy < 0 || purge < 0 || !(lock < destroy && destroy < purge) {
		t.Fatalf("want: delete the lock, destroy and remove, purge the vault; calls:\n%s", calls)
	}
	// A vault with purge protection cannot be purged: said, and the run fails.
	bin = teardownBin(t, true)
	r = teardown(t, bin, "review-pr4")
	if r.code == 0 || !strings.Contains(r.out, "has purge protection") {
		t.Fatalf("purge-protected vault: exit %d\n%s", r.code, r.out)
	}
}
