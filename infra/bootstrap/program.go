package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-azure-native-sdk/authorization/v2"
	"github.com/pulumi/pulumi-azure-native-sdk/containerregistry/v2"
	"github.com/pulumi/pulumi-azure-native-sdk/keyvault/v2"
	"github.com/pulumi/pulumi-azure-native-sdk/resources/v2"
	"github.com/pulumi/pulumi-azure-native-sdk/storage/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/sluicehq/sluice/infra/bootstrap/trust"
	"github.com/sluicehq/sluice/infra/internal/azurenative/managedidentity"
)

// Built-in Azure role definition ids the operators get (the same in every tenant).
var (
	roleStorageBlobDataContributor = trust.BuiltinRoles["Storage Blob Data Contributor"]
	roleKeyVaultCryptoUser         = trust.BuiltinRoles["Key Vault Crypto User"]
)

var (
	storageNameRE = regexp.MustCompile(`^[a-z0-9]{3,24}$`)
	vaultNameRE   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$`)
	acrNameRE     = regexp.MustCompile(`^[a-zA-Z0-9]{5,50}$`)
	repoRE        = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
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
	// repository is the GitHub owner/name whose tokens the identities trust.
	repository string
	// subscriptions holds each stack level's subscription id.
	subscriptions map[trust.Level]string
	buildRegistry string
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
	s.repository = cfg.Get("githubRepository")
	if s.buildRegistry = cfg.Get("buildRegistryName"); s.buildRegistry == "" {
		s.buildRegistry = "sluicebuild" + suffix(subscriptionID)
	}
	var subs map[string]string
	if err := cfg.TryObject("subscriptions", &subs); err != nil && cfg.Get("subscriptions") != "" {
		return s, fmt.Errorf("config subscriptions: %w", err)
	}
	if err := s.checkTrust(subs); err != nil {
		return s, err
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

// checkTrust validates what the trust plan needs: the repository whose
// tokens are trusted, and one subscription per stack level, each different,
// so that no level's role on "its subscription" reaches another level.
func (s *settings) checkTrust(subs map[string]string) error {
	if !repoRE.MatchString(s.repository) {
		return fmt.Errorf("config githubRepository %q: want <owner>/<repo>, the repository whose workflows the identities trust", s.repository)
	}
	if !acrNameRE.MatchString(s.buildRegistry) {
		return fmt.Errorf("config buildRegistryName %q: want 5-50 letters and digits", s.buildRegistry)
	}
	s.subscriptions = map[trust.Level]string{}
	owner := map[string]trust.Level{}
	for _, l := range trust.StateLevels {
		id := subs[string(l)]
		if !guidRE.MatchString(id) {
			return fmt.Errorf("config subscriptions.%s %q: want the subscription id (GUID) of the %s stacks", l, id, l)
		}
		id = strings.ToLower(id)
		if other, dup := owner[id]; dup {
			return fmt.Errorf("config subscriptions: %s and %s share subscription %s; every stack level needs its own", other, l, id)
		}
		owner[id] = l
		s.subscriptions[l] = id
	}
	for k := range subs {
		if _, ok := s.subscriptions[trust.Level(k)]; !ok {
			return fmt.Errorf("config subscriptions.%s: unknown stack level (want %v)", k, trust.StateLevels)
		}
	}
	return nil
}

// BackendURL is the `pulumi login` URL for a state container.
func BackendURL(storageAccount, container string) string {
	return fmt.Sprintf("azblob://%s?storage_account=%s", container, storageAccount)
}

// SecretsProviderURL is the `--secrets-provider` URL for a Key Vault key.
func SecretsProviderURL(vault, key string) string {
	return fmt.Sprintf("azurekeyvault://%s.vault.azure.net/keys/%s", vault, key)
}

// stateBackend holds the outputs a stack owner needs, per stack level.
type stateBackend struct {
	ResourceGroup  pulumi.StringOutput
	StorageAccount pulumi.StringOutput
	KeyVault       pulumi.StringOutput
	// BackendURLs and SecretsProviders are keyed by stack level.
	BackendURLs      map[trust.Level]pulumi.StringOutput
	SecretsProviders map[trust.Level]pulumi.StringOutput
	// ClientIDs are keyed by the repository variable that holds them.
	ClientIDs       map[string]pulumi.StringOutput
	BuildRegistry   pulumi.StringOutput
	BuildRegistryID pulumi.StringOutput
}

func program(ctx *pulumi.Context) error {
	b, err := deploy(ctx)
	if err != nil {
		return err
	}
	ctx.Export("resourceGroup", b.ResourceGroup)
	ctx.Export("storageAccount", b.StorageAccount)
	ctx.Export("keyVault", b.KeyVault)
	ctx.Export("buildRegistry", b.BuildRegistry)
	ctx.Export("buildRegistryId", b.BuildRegistryID)
	backends, providers, clients := pulumi.StringMap{}, pulumi.StringMap{}, pulumi.StringMap{}
	for l, v := range b.BackendURLs {
		backends[string(l)] = v
	}
	for l, v := range b.SecretsProviders {
		providers[string(l)] = v
	}
	for name, v := range b.ClientIDs {
		clients[name] = v
	}
	ctx.Export("backendUrls", backends)
	ctx.Export("secretsProviders", providers)
	ctx.Export("clientIds", clients)
	return nil
}

// scopes are the ARM ids role assignments are scoped to.
type scopes struct {
	containers map[trust.Level]pulumi.StringOutput
	keys       map[trust.Level]pulumi.StringOutput
	registry   pulumi.StringOutput
	subs       map[trust.Level]string
}

func (sc scopes) of(g trust.Grant) (pulumi.StringInput, error) {
	switch g.Scope {
	case trust.ScopeSubscription:
		if id, ok := sc.subs[g.Of]; ok {
			return pulumi.String("/subscriptions/" + id), nil
		}
	case trust.ScopeStateContainer:
		if v, ok := sc.containers[g.Of]; ok {
			return v, nil
		}
	case trust.ScopeStateKey:
		if v, ok := sc.keys[g.Of]; ok {
			return v, nil
		}
	case trust.ScopeBuildRegistry:
		return sc.registry, nil
	}
	return nil, fmt.Errorf("grant %s: no such scope", g)
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

	sc := scopes{
		containers: map[trust.Level]pulumi.StringOutput{},
		keys:       map[trust.Level]pulumi.StringOutput{},
		subs:       s.subscriptions,
	}
	out := &stateBackend{
		ResourceGroup:    rg.Name,
		StorageAccount:   account.Name,
		BackendURLs:      map[trust.Level]pulumi.StringOutput{},
		SecretsProviders: map[trust.Level]pulumi.StringOutput{},
		ClientIDs:        map[string]pulumi.StringOutput{},
	}
	// One container per stack level: a level's identity can be given its own
	// state and nothing else (Azure RBAC stops at the container).
	for _, l := range trust.StateLevels {
		c, err := storage.NewBlobContainer(ctx, trust.StateContainer(l), &storage.BlobContainerArgs{
			AccountName:       account.Name,
			ResourceGroupName: rg.Name,
			ContainerName:     pulumi.String(trust.StateContainer(l)),
			PublicAccess:      storage.PublicAccessNone,
		}, pulumi.DependsOn([]pulumi.Resource{blobService}), pulumi.Protect(true))
		if err != nil {
			return nil, fmt.Errorf("state container %s: %w", l, err)
		}
		sc.containers[l] = c.ID().ToStringOutput()
		out.BackendURLs[l] = pulumi.All(account.Name, c.Name).ApplyT(func(v []any) string {
			return BackendURL(v[0].(string), v[1].(string))
		}).(pulumi.StringOutput)
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

	out.KeyVault = vault.Name
	// One key per stack level: a level decrypts its own stacks' secrets only.
	for _, l := range trust.StateLevels {
		key, err := keyvault.NewKey(ctx, trust.StateKey(l), &keyvault.KeyArgs{
			KeyName:           pulumi.String(trust.StateKey(l)),
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
			return nil, fmt.Errorf("state key %s: %w", l, err)
		}
		sc.keys[l] = key.ID().ToStringOutput()
		out.SecretsProviders[l] = pulumi.All(vault.Name, key.Name).ApplyT(func(v []any) string {
			return SecretsProviderURL(v[0].(string), v[1].(string))
		}).(pulumi.StringOutput)
	}

	// The build registry: images are built once from main, pushed here, and
	// imported by digest into each stack's own registry.
	registry, err := containerregistry.NewRegistry(ctx, "build", &containerregistry.RegistryArgs{
		RegistryName:      pulumi.String(s.buildRegistry),
		ResourceGroupName: rg.Name,
		Location:          rg.Location,
		Sku:               containerregistry.SkuArgs{Name: pulumi.String(string(containerregistry.SkuNameStandard))},
		AdminUserEnabled:  pulumi.Bool(false),
		Tags:              tags,
	})
	if err != nil {
		return nil, fmt.Errorf("build registry: %w", err)
	}
	sc.registry = registry.ID().ToStringOutput()
	out.BuildRegistry = registry.LoginServer
	out.BuildRegistryID = sc.registry

	decrypt, err := authorization.NewRoleDefinition(ctx, "state-decrypt", &authorization.RoleDefinitionArgs{
		RoleDefinitionId: pulumi.String(stableUUID(client.SubscriptionId + "/" + s.vaultName + "/" + trust.StateDecryptRole)),
		RoleName:         pulumi.String(trust.StateDecryptRole + " (" + s.vaultName + ")"),
		Description:      pulumi.String("Read a sluice state key and decrypt with it; nothing else."),
		Scope:            vault.ID().ToStringOutput(),
		AssignableScopes: pulumi.StringArray{vault.ID().ToStringOutput()},
		Permissions: authorization.PermissionArray{authorization.PermissionArgs{
			DataActions: pulumi.ToStringArray(trust.StateDecryptActions),
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("state decrypt role: %w", err)
	}

	if err := identities(ctx, client.SubscriptionId, s, rg, sc, decrypt, out); err != nil {
		return nil, err
	}

	// Operators: the identity running bootstrap and config principalIds keep
	// full access to state (break glass), as before the trust plan.
	principals := append([]string{client.ObjectId}, s.principalIDs...)
	seen := map[string]bool{}
	for _, p := range principals {
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		if err := grant(ctx, "blob-"+p, account.ID().ToStringOutput(), roleID(client.SubscriptionId, roleStorageBlobDataContributor), pulumi.String(p), nil, ""); err != nil {
			return nil, err
		}
		if err := grant(ctx, "crypto-"+p, vault.ID().ToStringOutput(), roleID(client.SubscriptionId, roleKeyVaultCryptoUser), pulumi.String(p), nil, ""); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// identities declares trust.Plan(): per level a user-assigned identity, its
// one federated credential and its role assignments.
func identities(ctx *pulumi.Context, home string, s settings, rg *resources.ResourceGroup, sc scopes, decrypt *authorization.RoleDefinition, out *stateBackend) error {
	for _, id := range trust.Plan() {
		mi, err := managedidentity.NewUserAssignedIdentity(ctx, id.ResourceName(), &managedidentity.UserAssignedIdentityArgs{
			ResourceName:      pulumi.String(id.ResourceName()),
			ResourceGroupName: rg.Name,
			Location:          rg.Location,
			Tags:              pulumi.StringMap{"project": pulumi.String("sluice"), "trust-level": pulumi.String(string(id.Level))},
		})
		if err != nil {
			return fmt.Errorf("identity %s: %w", id.Level, err)
		}
		out.ClientIDs[id.ClientIDVar] = mi.ClientId
		// Azure refuses concurrent writes of credentials on one identity;
		// each identity has one, and a second would depend on the first.
		if _, err := managedidentity.NewFederatedIdentityCredential(ctx, id.ResourceName()+"-github", &managedidentity.FederatedIdentityCredentialArgs{
			FederatedIdentityCredentialResourceName: pulumi.String("github-" + slug(id.Subject)),
			ResourceGroupName:                       rg.Name,
			ResourceName:                            mi.Name,
			Issuer:                                  pulumi.String(trust.Issuer),
			Subject:                                 pulumi.String(id.FullSubject(s.repository)),
			Audiences:                               pulumi.StringArray{pulumi.String(trust.Audience)},
		}); err != nil {
			return fmt.Errorf("federated credential %s: %w", id.Level, err)
		}
		for _, g := range id.Grants {
			scope, err := sc.of(g)
			if err != nil {
				return err
			}
			var role pulumi.StringInput
			deps := []pulumi.Resource{}
			if g.Role == trust.StateDecryptRole {
				role, deps = decrypt.ID().ToStringOutput(), []pulumi.Resource{decrypt}
			} else {
				guid, ok := trust.BuiltinRoles[g.Role]
				if !ok {
					return fmt.Errorf("grant %s: unknown role", g)
				}
				// A role definition id names the subscription of its scope.
				sub := home
				if g.Scope == trust.ScopeSubscription {
					sub = sc.subs[g.Of]
				}
				role = roleID(sub, guid)
			}
			name := fmt.Sprintf("%s-%s-%s", id.ResourceName(), slug(g.Role), slug(string(g.Scope)+"-"+string(g.Of)))
			condition := ""
			if g.Role == "Role Based Access Control Administrator" {
				condition = trust.RBACAdminCondition()
			}
			if err := grant(ctx, name, scope, role, mi.PrincipalId, deps, condition); err != nil {
				return err
			}
		}
	}
	return nil
}

func roleID(subscriptionID, guid string) pulumi.StringInput {
	return pulumi.String(fmt.Sprintf("/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s", subscriptionID, guid))
}

func slug(v string) string {
	v = strings.ToLower(v)
	var b strings.Builder
	for _, r := range v {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// stableUUID derives a UUID-shaped id from seed, so a custom role keeps its id.
func stableUUID(seed string) string {
	h := sha256.Sum256([]byte(seed))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// grant assigns role on scope. Managed identities (deps != nil, possibly
// empty) are ServicePrincipals: saying so lets Azure accept the assignment
// before the new identity has replicated.
// A condition, when set, is an ABAC condition (version 2.0) on the assignment.
func grant(ctx *pulumi.Context, name string, scope pulumi.StringInput, role pulumi.StringInput, principal pulumi.StringInput, deps []pulumi.Resource, condition string) error {
	args := &authorization.RoleAssignmentArgs{
		Scope:            scope,
		PrincipalId:      principal,
		RoleDefinitionId: role,
	}
	if condition != "" {
		args.Condition = pulumi.String(condition)
		args.ConditionVersion = pulumi.String("2.0")
	}
	if deps != nil {
		args.PrincipalType = pulumi.String("ServicePrincipal")
	}
	_, err := authorization.NewRoleAssignment(ctx, name, args, pulumi.DependsOn(deps))
	if err != nil {
		return fmt.Errorf("role assignment %s: %w", name, err)
	}
	return nil
}
