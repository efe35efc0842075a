package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-azure-native-sdk/authorization/v2"
	"github.com/pulumi/pulumi-azure-native-sdk/keyvault/v2"
	"github.com/pulumi/pulumi-azure-native-sdk/resources/v2"
	"github.com/pulumi/pulumi-azure-native-sdk/storage/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// Names and built-in role definitions the program uses.
const (
	StateContainer = "state"
	StateKeyName   = "pulumi-state"
	// Built-in Azure role definition ids (the same in every tenant).
	roleStorageBlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
	roleKeyVaultCryptoUser         = "12338af0-0e69-4776-bea7-57ae8d297424"
)

var (
	storageNameRE = regexp.MustCompile(`^[a-z0-9]{3,24}$`)
	vaultNameRE   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$`)
	guidRE        = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// settings is the program's configuration after defaults and validation.
type settings struct {
	location      string
	resourceGroup string
	storageName   string
	vaultName     string
	principalIDs  []string
	softDeleteDay int
}

// suffix derives an 8-character stable suffix from the subscription id.
func suffix(subscriptionID string) string {
	sum := sha256.Sum256([]byte(subscriptionID))
	return hex.EncodeToString(sum[:])[:8]
}

func loadSettings(ctx *pulumi.Context, subscriptionID string) (settings, error) {
	cfg := config.New(ctx, "")
	s := settings{
		location:      cfg.Get("location"),
		resourceGroup: cfg.Get("resourceGroupName"),
		storageName:   cfg.Get("storageAccountName"),
		vaultName:     cfg.Get("keyVaultName"),
		softDeleteDay: 30,
	}
	if s.location == "" {
		s.location = "westeurope"
	}
	if s.resourceGroup == "" {
		s.resourceGroup = "sluice-state"
	}
	if s.storageName == "" {
		s.storageName = "sluicestate" + suffix(subscriptionID)
	}
	if s.vaultName == "" {
		s.vaultName = "sluice-state-" + suffix(subscriptionID)
	}
	if v, err := cfg.TryInt("softDeleteDays"); err == nil {
		s.softDeleteDay = v
	}
	if err := cfg.TryObject("principalIds", &s.principalIDs); err != nil && cfg.Get("principalIds") != "" {
		return s, fmt.Errorf("config principalIds: %w", err)
	}
	if !storageNameRE.MatchString(s.storageName) {
		return s, fmt.Errorf("config storageAccountName %q: want 3-24 lowercase letters and digits", s.storageName)
	}
	if !vaultNameRE.MatchString(s.vaultName) {
		return s, fmt.Errorf("config keyVaultName %q: want 3-24 letters, digits and hyphens, starting with a letter", s.vaultName)
	}
	if s.softDeleteDay < 1 || s.softDeleteDay > 365 {
		return s, fmt.Errorf("config softDeleteDays %d: want 1-365", s.softDeleteDay)
	}
	for _, id := range s.principalIDs {
		if !guidRE.MatchString(id) {
			return s, fmt.Errorf("config principalIds: %q is not an object id (GUID)", id)
		}
	}
	return s, nil
}

// BackendURL is the `pulumi login` URL for a state container.
func BackendURL(storageAccount string) string {
	return fmt.Sprintf("azblob://%s?storage_account=%s", StateContainer, storageAccount)
}

// SecretsProviderURL is the `--secrets-provider` URL for a Key Vault key.
func SecretsProviderURL(vault, key string) string {
	return fmt.Sprintf("azurekeyvault://%s.vault.azure.net/keys/%s", vault, key)
}

// stateBackend holds the outputs a stack owner needs.
type stateBackend struct {
	ResourceGroup   pulumi.StringOutput
	StorageAccount  pulumi.StringOutput
	KeyVault        pulumi.StringOutput
	KeyName         pulumi.StringOutput
	BackendURL      pulumi.StringOutput
	SecretsProvider pulumi.StringOutput
}

func program(ctx *pulumi.Context) error {
	b, err := deploy(ctx)
	if err != nil {
		return err
	}
	ctx.Export("resourceGroup", b.ResourceGroup)
	ctx.Export("storageAccount", b.StorageAccount)
	ctx.Export("keyVault", b.KeyVault)
	ctx.Export("keyName", b.KeyName)
	ctx.Export("backendUrl", b.BackendURL)
	ctx.Export("secretsProvider", b.SecretsProvider)
	return nil
}

func deploy(ctx *pulumi.Context) (*stateBackend, error) {
	client, err := authorization.GetClientConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("read azure client config: %w", err)
	}
	s, err := loadSettings(ctx, client.SubscriptionId)
	if err != nil {
		return nil, err
	}
	tags := pulumi.StringMap{"project": pulumi.String("sluice"), "purpose": pulumi.String("pulumi-state")}

	rg, err := resources.NewResourceGroup(ctx, "state", &resources.ResourceGroupArgs{
		ResourceGroupName: pulumi.String(s.resourceGroup),
		Location:          pulumi.String(s.location),
		Tags:              tags,
	}, pulumi.Protect(true))
	if err != nil {
		return nil, fmt.Errorf("resource group: %w", err)
	}

	account, err := storage.NewStorageAccount(ctx, "state", &storage.StorageAccountArgs{
		AccountName:                  pulumi.String(s.storageName),
		ResourceGroupName:            rg.Name,
		Location:                     rg.Location,
		Kind:                         pulumi.String(string(storage.KindStorageV2)),
		Sku:                          &storage.SkuArgs{Name: pulumi.String(string(storage.SkuName_Standard_ZRS))},
		MinimumTlsVersion:            pulumi.String(string(storage.MinimumTlsVersion_TLS1_2)),
		EnableHttpsTrafficOnly:       pulumi.Bool(true),
		AllowBlobPublicAccess:        pulumi.Bool(false),
		AllowSharedKeyAccess:         pulumi.Bool(false),
		DefaultToOAuthAuthentication: pulumi.Bool(true),
		AllowCrossTenantReplication:  pulumi.Bool(false),
		Tags:                         tags,
	}, pulumi.Protect(true))
	if err != nil {
		return nil, fmt.Errorf("storage account: %w", err)
	}

	blobService, err := storage.NewBlobServiceProperties(ctx, "state", &storage.BlobServicePropertiesArgs{
		AccountName:         account.Name,
		ResourceGroupName:   rg.Name,
		BlobServicesName:    pulumi.String("default"),
		IsVersioningEnabled: pulumi.Bool(true),
		DeleteRetentionPolicy: &storage.DeleteRetentionPolicyArgs{
			Enabled: pulumi.Bool(true),
			Days:    pulumi.Int(s.softDeleteDay),
		},
		ContainerDeleteRetentionPolicy: &storage.DeleteRetentionPolicyArgs{
			Enabled: pulumi.Bool(true),
			Days:    pulumi.Int(s.softDeleteDay),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("blob service properties: %w", err)
	}

	_, err = storage.NewBlobContainer(ctx, "state", &storage.BlobContainerArgs{
		AccountName:       account.Name,
		ResourceGroupName: rg.Name,
		ContainerName:     pulumi.String(StateContainer),
		PublicAccess:      storage.PublicAccessNone,
	}, pulumi.DependsOn([]pulumi.Resource{blobService}), pulumi.Protect(true))
	if err != nil {
		return nil, fmt.Errorf("state container: %w", err)
	}

	vault, err := keyvault.NewVault(ctx, "state", &keyvault.VaultArgs{
		VaultName:         pulumi.String(s.vaultName),
		ResourceGroupName: rg.Name,
		Location:          rg.Location,
		Properties: &keyvault.VaultPropertiesArgs{
			TenantId:                  pulumi.String(client.TenantId),
			Sku:                       &keyvault.SkuArgs{Family: pulumi.String(string(keyvault.SkuFamilyA)), Name: keyvault.SkuNameStandard},
			EnableRbacAuthorization:   pulumi.Bool(true),
			EnableSoftDelete:          pulumi.Bool(true),
			SoftDeleteRetentionInDays: pulumi.Int(90),
			EnablePurgeProtection:     pulumi.Bool(true),
		},
		Tags: tags,
	}, pulumi.Protect(true))
	if err != nil {
		return nil, fmt.Errorf("key vault: %w", err)
	}

	key, err := keyvault.NewKey(ctx, "state", &keyvault.KeyArgs{
		KeyName:           pulumi.String(StateKeyName),
		VaultName:         vault.Name,
		ResourceGroupName: rg.Name,
		Properties: &keyvault.KeyPropertiesArgs{
			Kty:     pulumi.String(string(keyvault.JsonWebKeyTypeRSA)),
			KeySize: pulumi.Int(3072),
			KeyOps: pulumi.StringArray{
				pulumi.String(string(keyvault.JsonWebKeyOperationEncrypt)),
				pulumi.String(string(keyvault.JsonWebKeyOperationDecrypt)),
				pulumi.String(string(keyvault.JsonWebKeyOperationWrapKey)),
				pulumi.String(string(keyvault.JsonWebKeyOperationUnwrapKey)),
			},
		},
	}, pulumi.Protect(true))
	if err != nil {
		return nil, fmt.Errorf("state key: %w", err)
	}

	principals := append([]string{client.ObjectId}, s.principalIDs...)
	seen := map[string]bool{}
	for _, p := range principals {
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		if err := grant(ctx, "blob-"+p, account.ID(), client.SubscriptionId, roleStorageBlobDataContributor, p); err != nil {
			return nil, err
		}
		if err := grant(ctx, "crypto-"+p, vault.ID(), client.SubscriptionId, roleKeyVaultCryptoUser, p); err != nil {
			return nil, err
		}
	}

	return &stateBackend{
		ResourceGroup:  rg.Name,
		StorageAccount: account.Name,
		KeyVault:       vault.Name,
		KeyName:        key.Name,
		BackendURL:     account.Name.ApplyT(BackendURL).(pulumi.StringOutput),
		SecretsProvider: pulumi.All(vault.Name, key.Name).ApplyT(func(v []any) string {
			return SecretsProviderURL(v[0].(string), v[1].(string))
		}).(pulumi.StringOutput),
	}, nil
}

func grant(ctx *pulumi.Context, name string, scope pulumi.IDOutput, subscriptionID, role, principal string) error {
	_, err := authorization.NewRoleAssignment(ctx, name, &authorization.RoleAssignmentArgs{
		Scope:       scope.ToStringOutput(),
		PrincipalId: pulumi.String(principal),
		RoleDefinitionId: pulumi.String(fmt.Sprintf(
			"/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s", subscriptionID, role)),
	})
	if err != nil {
		return fmt.Errorf("role assignment %s: %w", name, err)
	}
	return nil
}
