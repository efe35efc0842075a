package platform

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/components/base"
	"github.com/sluicehq/sluice/infra/internal/components/cosmos"
	"github.com/sluicehq/sluice/infra/internal/config"
	"github.com/sluicehq/sluice/infra/internal/mocks"
)

const listKeysToken = "azure-native:documentdb:listDatabaseAccountKeys"

// TestPreviewNeverReadsTheCosmosKey: the pull-request preview runs as a
// read-only identity that must not read the account key (listKeys is an
// action it does not hold), so a dry run never invokes it; `up` does, and
// stores the key in Key Vault.
func TestPreviewNeverReadsTheCosmosKey(t *testing.T) {
	// The Cosmos component alone: a mocked dry run of the whole program
	// stops at the Kubernetes provider's unknown kubeconfig, which the SDK's
	// mock monitor cannot marshal.
	program := func(ctx *pulumi.Context) error {
		cfg, err := config.Load(ctx.Stack(), func(k string) (string, bool) { return ctx.GetConfig(k) })
		if err != nil {
			return err
		}
		id := func(s string) pulumi.StringOutput { return pulumi.String(s).ToStringOutput() }
		env := &base.Env{
			Config: cfg, SubscriptionID: mocks.SubscriptionID, TenantID: mocks.TenantID, DeployerObjectID: mocks.DeployerObject,
			ResourceGroupName: id("rg-sluice-" + cfg.Stack), WorkspaceID: id("/workspaces/ws"),
			VNetID: id("/vnets/vnet"), PrivateEndpointsSubnetID: id("/vnets/vnet/subnets/pe"),
		}
		_, err = cosmos.New(ctx, "cosmos-sluice", env, cosmos.Args{VaultName: id("kv"), VaultURI: id("https://kv.vault.azure.net/")})
		return err
	}
	for _, stack := range []string{"dev", "staging", "prod"} {
		invokes := func(m *mocks.Monitor) int {
			n := 0
			for _, c := range m.Calls() {
				if c.Token == listKeysToken {
					n++
				}
			}
			return n
		}
		preview, err := mocks.RunPreview(program, stack, stackValues(t, stack, nil))
		if err != nil {
			t.Fatalf("%s preview: %v", stack, err)
		}
		if n := invokes(preview); n != 0 {
			t.Errorf("%s: a preview invokes %s %d times", stack, listKeysToken, n)
		}
		secrets := preview.OfType("azure-native:keyvault:Secret")
		found := 0
		for _, s := range secrets {
			if name := mocks.String(s.Inputs, "secretName"); name == cosmos.KeySecretName || name == cosmos.ReadOnlyKeySecretName {
				found++
				if got := mocks.String(s.Inputs, "properties.value"); got != cosmos.PreviewKeyPlaceholder {
					t.Errorf("%s: the preview's %s holds %q, want the placeholder", stack, name, got)
				}
			}
		}
		if found != 2 {
			t.Errorf("%s: %d key secrets in the preview, want the read-write and the read-only one", stack, found)
		}
		up, err := mocks.Run(program, stack, stackValues(t, stack, nil))
		if err != nil {
			t.Fatalf("%s up: %v", stack, err)
		}
		if n := invokes(up); n == 0 {
			t.Errorf("%s: an up never reads the account key into Key Vault", stack)
		}
	}
}
