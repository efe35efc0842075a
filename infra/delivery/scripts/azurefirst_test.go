package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAzureFirstTargetsTheAzureSideOfTheOfflinePlan: prod's Azure-only
// update targets its Azure resources, the deploy runner among them, and no
// Kubernetes object, through the program host like every operation.
func TestAzureFirstTargetsTheAzureSideOfTheOfflinePlan(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "calls.log")
	write(t, filepath.Join(dir, "pulumi"), "#!/bin/sh\necho \"pulumi $*\" >> \""+log+"\"\nexit 0\n")
	fakeHost(t, dir)
	cmd := exec.Command("bash", "azure-first.sh", "prod")
	cmd.Env = withGo(t, dir)
	for k, v := range oidcEnv(dir, nil) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("azure-first: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(log)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	up := lines[len(lines)-1]
	if !strings.Contains(up, " up --stack=prod") || !strings.HasSuffix(up, fakeClient) {
		t.Fatalf("last call %q, want up of prod through the program host", up)
	}
	for _, want := range []string{
		"--target=urn:pulumi:prod::sluice::sluice:components:DeployRunner$azure-native:compute:VirtualMachineScaleSet::deploy-runner-vmss",
		"--target=urn:pulumi:prod::sluice::sluice:components:Network$azure-native:network:Subnet::network-deploy-runner",
		"--target=urn:pulumi:prod::sluice::azure-native:resources:ResourceGroup::rg",
	} {
		if !strings.Contains(up, want) {
			t.Errorf("the update lacks %s", want)
		}
	}
	if strings.Contains(up, "kubernetes:") {
		t.Errorf("the Azure-only update targets a Kubernetes object:\n%s", up)
	}
	if !strings.Contains(string(data), "stack select --create --stack=prod") {
		t.Errorf("the stack is not created first:\n%s", data)
	}
}
