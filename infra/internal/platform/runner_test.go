package platform

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"github.com/sluicehq/sluice/infra/internal/components/base"
	"github.com/sluicehq/sluice/infra/internal/components/runner"
	"github.com/sluicehq/sluice/infra/internal/config"
	"github.com/sluicehq/sluice/infra/internal/mocks"
	"github.com/sluicehq/sluice/internal/modroot/roottest"
)

// prod's private API server is reached from the runner the program declares
// in prod's VNet: no public address, no inbound traffic, egress through NAT,
// the pinned release, the label the workflows select, and read access to its
// GitHub App secret only (TestLeastPrivilegeRoleAssignments).
func TestProdDeclaresItsDeployRunner(t *testing.T) {
	r := runStack(t, "prod", nil)
	vmss := r.named(tScaleSet, "deploy-runner-vmss")
	subnet := r.named(tSubnet, "network-deploy-runner")
	r.expect(vmss, map[string]any{
		"identity.type": "SystemAssigned",
		"overprovision": false,
		"virtualMachineProfile.osProfile.linuxConfiguration.disablePasswordAuthentication":                   true,
		"virtualMachineProfile.networkProfile.networkInterfaceConfigurations.0.ipConfigurations.0.subnet.id": subnet.ID,
		"virtualMachineProfile.securityProfile.securityType":                                                 "TrustedLaunch",
		"virtualMachineProfile.osProfile.linuxConfiguration.ssh.publicKeys.0.keyData":                        runner.NoLoginSSHKey,
		"virtualMachineProfile.storageProfile.imageReference.offer":                                          "ubuntu-24_04-lts",
	})
	if v := mocks.Lookup(vmss.Inputs, "virtualMachineProfile.networkProfile.networkInterfaceConfigurations.0.ipConfigurations.0.publicIPAddressConfiguration"); v != nil {
		t.Errorf("the runner has a public address: %v", v)
	}
	nsg := r.named("azure-native:network:NetworkSecurityGroup", "network-runner-nsg")
	r.expect(nsg, map[string]any{"securityRules.0.direction": "Inbound", "securityRules.0.access": "Deny", "securityRules.0.sourceAddressPrefix": "*", "securityRules.0.destinationPortRange": "*"})
	nat := r.named("azure-native:network:NatGateway", "network-runner-nat")
	r.expect(subnet, map[string]any{"networkSecurityGroup.id": nsg.ID, "natGateway.id": nat.ID, "addressPrefix": "10.60.9.0/28"})

	raw, err := base64.StdEncoding.DecodeString(str(vmss.Inputs, "virtualMachineProfile.osProfile.customData"))
	if err != nil {
		t.Fatalf("customData is not base64: %v", err)
	}
	if !strings.HasPrefix(string(raw), "#cloud-config\n") {
		t.Fatalf("customData is not cloud-config:\n%s", raw)
	}
	var doc struct {
		Apt struct {
			Sources map[string]struct{ Keyid, Source string } `yaml:"sources"`
		} `yaml:"apt"`
		Packages   []string `yaml:"packages"`
		WriteFiles []struct {
			Path, Content, Encoding string
		} `yaml:"write_files"`
		Runcmd [][]string `yaml:"runcmd"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("cloud-init does not parse: %v", err)
	}
	if doc.Apt.Sources["azure-cli.list"].Keyid != runner.MicrosoftKeyFingerprint {
		t.Errorf("the Azure CLI repository is not pinned to Microsoft's key: %+v", doc.Apt.Sources)
	}
	files := map[string]string{}
	for _, f := range doc.WriteFiles {
		files[f.Path] = f.Content
		if f.Encoding == "b64" {
			b, err := base64.StdEncoding.DecodeString(f.Content)
			if err != nil {
				t.Fatal(err)
			}
			files[f.Path] = string(b)
		}
	}
	vaultURI := str(r.one(tVault).Outputs, "properties.vaultUri")
	env := files["/etc/sluice-runner/runner.env"]
	for _, want := range []string{
		"RUNNER_REPOSITORY=sluicehq/sluice\n", "RUNNER_LABELS=sluice-prod\n",
		"RUNNER_VERSION=" + runner.RunnerVersion + "\n", "RUNNER_SHA256=" + runner.RunnerSHA256 + "\n",
		"KEY_SECRET_URI=" + vaultURI + "secrets/" + runner.KeySecretName + "\n",
	} {
		if !strings.Contains(env, want) {
			t.Errorf("runner.env lacks %q:\n%s", want, env)
		}
	}
	root := roottest.Root(t)
	script, err := os.ReadFile(filepath.Join(root, "infra/internal/components/runner/runner.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if files["/usr/local/bin/sluice-runner"] != string(script) {
		t.Error("the instances do not get runner.sh as it is in the repository")
	}
	if len(doc.Runcmd) == 0 || doc.Runcmd[0][len(doc.Runcmd[0])-1] != "install" {
		t.Errorf("runcmd does not install the runner first: %v", doc.Runcmd)
	}
	secret := r.named(tSecret, "deploy-runner-app-key")
	if v := secret.Inputs["properties"].ObjectValue()["value"]; !v.IsSecret() {
		t.Error("the GitHub App reaches Key Vault in clear")
	}
	if str(secret.Inputs, "secretName") != runner.KeySecretName {
		t.Errorf("secret name %q", str(secret.Inputs, "secretName"))
	}
	for _, stack := range []string{"dev", "staging"} {
		if n := len(runStack(t, stack, nil).all(tScaleSet)); n != 0 {
			t.Errorf("%s declares %d runners; its API server is public", stack, n)
		}
	}
}

// A real up refuses a stack without the GitHub App secret before creating
// anything; a preview uses a placeholder.
func TestDeployRunnerNeedsItsGitHubApp(t *testing.T) {
	values := stackValues(t, "prod", nil)
	delete(values, config.GitHubAppConfig)
	if _, err := mocks.Run(Program, "prod", values); err == nil || !strings.Contains(err.Error(), config.GitHubAppConfig+" is not set") {
		t.Fatalf("up without the app: err %v", err)
	}
	// The runner component alone: a mocked dry run of the whole program stops
	// at the Kubernetes provider's unknown kubeconfig (see the Cosmos test).
	program := func(ctx *pulumi.Context) error {
		cfg, err := config.Load(ctx.Stack(), func(k string) (string, bool) { return ctx.GetConfig(k) })
		if err != nil {
			return err
		}
		id := func(s string) pulumi.StringOutput { return pulumi.String(s).ToStringOutput() }
		env := &base.Env{Config: cfg, SubscriptionID: mocks.SubscriptionID, TenantID: mocks.TenantID, ResourceGroupName: id("rg-sluice-prod")}
		_, err = runner.New(ctx, "deploy-runner", env, runner.Args{SubnetID: id("/subnets/deploy-runner"), VaultName: id("kv"), VaultURI: id("https://kv.vault.azure.net/")})
		return err
	}
	preview, err := mocks.RunPreview(program, "prod", values)
	if err != nil {
		t.Fatalf("preview without the app: %v", err)
	}
	for _, s := range preview.OfType(tSecret) {
		if s.Name == "deploy-runner-app-key" {
			if got := mocks.String(s.Inputs, "properties.value"); got != runner.PreviewAppPlaceholder {
				t.Errorf("preview secret %q, want the placeholder", got)
			}
			return
		}
	}
	t.Fatal("the preview has no runner secret")
}

// A malformed GitHub App fails the update with a message naming the setting.
func TestDeployRunnerRefusesAMalformedGitHubApp(t *testing.T) {
	values := stackValues(t, "prod", nil)
	values[config.GitHubAppConfig] = `{"appId":"x"}`
	_, err := mocks.Run(Program, "prod", values)
	if err == nil || !strings.Contains(err.Error(), config.GitHubAppConfig) {
		t.Fatalf("up with a malformed app: err %v", err)
	}
}

// With sluice:powerBIGatewaySubnetCidr the VNet gets the subnet a Power BI
// VNet data gateway is created on: delegated to the Power Platform, closed
// to the internet, written after the other subnets, and exported for the
// administrator who creates the gateway. Without it there is none.
func TestPowerBIGatewaySubnet(t *testing.T) {
	r := runStack(t, "prod", map[string]string{"powerBIGatewaySubnetCidr": "10.60.10.0/27"})
	subnet := r.named(tSubnet, "network-powerbi-gateway")
	nsg := r.named("azure-native:network:NetworkSecurityGroup", "network-powerbi-gateway-nsg")
	r.expect(subnet, map[string]any{
		"addressPrefix":             "10.60.10.0/27",
		"subnetName":                "powerbi-gateway",
		"delegations.0.serviceName": "Microsoft.PowerPlatform/vnetaccesslinks",
		"networkSecurityGroup.id":   nsg.ID,
	})
	r.expect(nsg, map[string]any{"securityRules.0.direction": "Inbound", "securityRules.0.access": "Deny", "securityRules.0.sourceAddressPrefix": "Internet"})
	if !r.dependsOn(subnet, r.named(tSubnet, "network-deploy-runner")) {
		t.Error("the gateway subnet does not wait for the subnet written before it (Azure serialises writes to a VNet)")
	}
	if got := r.exports["powerBIGatewaySubnetId"]; got != subnet.ID {
		t.Errorf("powerBIGatewaySubnetId exported as %v, want %s", got, subnet.ID)
	}
	plain := runStack(t, "prod", nil)
	for _, s := range plain.all(tSubnet) {
		if s.Name == "network-powerbi-gateway" {
			t.Fatal("a gateway subnet without sluice:powerBIGatewaySubnetCidr")
		}
	}
	if _, ok := plain.exports["powerBIGatewaySubnetId"]; ok {
		t.Error("powerBIGatewaySubnetId exported without a gateway subnet")
	}
}
