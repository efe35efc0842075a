// Command bootstrap is a separate Pulumi program (project sluice-bootstrap) that
// creates, once, what the sluice stacks' self-managed backend and CI need:
//
//   - a resource group;
//   - a storage account (StorageV2, ZRS, HTTPS only, TLS 1.2 minimum, no public blob
//     access, no shared-key access so only Entra ID identities get in, blob
//     versioning and soft delete for blobs and containers) with one private state
//     container per stack level (state-review, state-dev, state-staging, state-prod);
//   - a Key Vault with RBAC authorization, soft delete and purge protection, holding
//     one RSA key per stack level that encrypts that level's secrets, and a custom
//     role that can only read a key and decrypt with it;
//   - the build registry the images built on main are pushed to;
//   - the trust plan of package trust: one user-assigned identity per trust level,
//     its one GitHub federated credential and its role assignments, each scoped to
//     its level's subscription (config subscriptions), state container and key;
//   - for the identity running the program and every object id in config
//     principalIds (operators): Storage Blob Data Contributor on the account and
//     Key Vault Crypto User on the vault.
//
// The storage account, containers, vault and keys are protected: `pulumi destroy`
// refuses them. It exports backendUrls and secretsProviders (per stack level),
// clientIds (per repository variable), buildRegistry and the names. See
// infra/DELIVERY.md.
//
// Config: githubRepository (owner/repo, required), subscriptions (required: one
// distinct subscription id per stack level), location (default westeurope),
// resourceGroupName (default sluice-state), storageAccountName, keyVaultName,
// buildRegistryName (default: derived from the subscription id so they are stable
// and globally unique), principalIds (a list of object ids), softDeleteDays
// (default 30).
package main

import (
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/delivery/langhost"
)

// With arguments the binary hosts itself for one CLI operation
// (`sluice-bootstrap -- pulumi --cwd infra/bootstrap up`, package langhost), so
// the CLI built by make pulumi-cli runs it; without, the Go language host does.
func main() {
	if len(os.Args) > 1 {
		os.Exit(langhost.Main("sluice-bootstrap", program, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	pulumi.Run(program)
}
