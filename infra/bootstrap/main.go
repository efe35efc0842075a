// Command bootstrap is a separate Pulumi program (project sluice-bootstrap) that
// creates, once per Azure subscription, what a self-managed Pulumi backend for the
// sluice stacks needs:
//
//   - a resource group;
//   - a storage account (StorageV2, ZRS, HTTPS only, TLS 1.2 minimum, no public blob
//     access, no shared-key access so only Entra ID identities get in, blob
//     versioning and soft delete for blobs and containers) with a private `state`
//     container for the stacks' checkpoints;
//   - a Key Vault with RBAC authorization, soft delete and purge protection, holding
//     an RSA key that encrypts the stacks' secrets;
//   - role assignments: Storage Blob Data Contributor on the account and Key Vault
//     Crypto User on the vault for the identity running the program and for every
//     object id in config `principalIds` (for example the CI service principal).
//
// The storage account, vault and key are protected: `pulumi destroy` refuses
// them. It exports `backendUrl` (for `pulumi login`) and `secretsProvider` (for
// `pulumi stack init --secrets-provider`). See infra/DELIVERY.md.
//
// Config (all optional): location (default westeurope), resourceGroupName
// (default sluice-state), storageAccountName, keyVaultName (default: derived from
// the subscription id so they are stable and globally unique), principalIds (a
// list of object ids), softDeleteDays (default 30).
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	pulumi.Run(program)
}
