package trust

import (
	"fmt"
	"sort"
	"strings"
)

// Level names a trust level: one Azure identity, one GitHub OIDC subject.
type Level string

// The trust levels, from least to most trusted code.
const (
	// Preview runs the pull request's own code: read-only on dev and staging.
	Preview Level = "preview"
	// Review runs the pull request's own code too, with write access to the
	// review subscription only.
	Review Level = "review"
	// Build pushes the images built from main to the build registry.
	Build Level = "build"
	// Dev, Staging and Prod deploy reviewed code (main) to their stacks.
	Dev     Level = "dev"
	Staging Level = "staging"
	Prod    Level = "prod"
	// Drift previews the long-lived stacks from main, read-only.
	Drift Level = "drift"
)

// Levels lists every level in a fixed order (the order of the delivery table).
var Levels = []Level{Preview, Review, Build, Dev, Staging, Prod, Drift}

// StateLevels are the levels that own a state container and a state key: the
// stacks of one level can never read or write another level's state.
// Exactly the levels that deploy stacks own state.
var StateLevels = []Level{Review, Dev, Staging, Prod}

// GitHub's OIDC issuer and the audience Entra ID expects from it.
const (
	Issuer   = "https://token.actions.githubusercontent.com"
	Audience = "api://AzureADTokenExchange"
)

// Built-in Azure role definitions (the same id in every tenant), by the name
// Azure gives them.
var BuiltinRoles = map[string]string{
	"Reader":      "acdd72a7-3385-48ef-bd42-f606fba81ae7",
	"Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
	"Role Based Access Control Administrator":     "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
	"Storage Blob Data Reader":                    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
	"Storage Blob Data Contributor":               "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
	"Key Vault Crypto User":                       "12338af0-0e69-4776-bea7-57ae8d297424",
	"AcrPush":                                     "8311e382-0749-4cb8-b61a-304f252e45ec",
	"AcrPull":                                     "7f951dda-4ed3-4680-a7ca-43fe172d538d",
	"Azure Kubernetes Service Cluster User Role":  "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
	"Azure Kubernetes Service RBAC Reader":        "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
	"Azure Kubernetes Service RBAC Cluster Admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
}

// PrivilegedRoles are the roles a deploy identity may never assign or remove:
// with any of them it could widen its own access.
var PrivilegedRoles = map[string]string{
	"Owner":                     "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
	"User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
	"Role Based Access Control Administrator": "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
}

// RBACAdminCondition is the ABAC condition (version 2.0) on every
// Role Based Access Control Administrator assignment: it may write and delete
// role assignments except those of the privileged roles.
func RBACAdminCondition() string {
	var guids []string
	for _, g := range PrivilegedRoles {
		guids = append(guids, g)
	}
	sort.Strings(guids)
	set := "{" + strings.Join(guids, ", ") + "}"
	return "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR " +
		"(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidNotEquals " + set + ")) AND " +
		"((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR " +
		"(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidNotEquals " + set + "))"
}

// StateDecryptRole is the custom role the read-only levels get on a state
// key: read the key and decrypt (encrypting with the public key reveals
// nothing). No built-in role is that narrow; bootstrap declares it.
const StateDecryptRole = "Sluice state key decrypt"

// StateDecryptActions are the data actions of StateDecryptRole.
var StateDecryptActions = []string{
	"Microsoft.KeyVault/vaults/keys/read",
	"Microsoft.KeyVault/vaults/keys/decrypt/action",
	"Microsoft.KeyVault/vaults/keys/encrypt/action",
}

// ScopeKind says what a role assignment is scoped to.
type ScopeKind string

// Scope kinds. Subscription is a stack level's own subscription; the others
// are bootstrap's own resources.
const (
	ScopeSubscription   ScopeKind = "subscription"
	ScopeStateContainer ScopeKind = "state container"
	ScopeStateKey       ScopeKind = "state key"
	ScopeBuildRegistry  ScopeKind = "build registry"
)

// Grant is one role assignment: Role on the Scope of level Of (the
// subscription of that stack level, its state container, its state key;
// Of is empty for the build registry).
type Grant struct {
	Role  string
	Scope ScopeKind
	Of    Level
}

// String is the grant as the delivery table shows it.
func (g Grant) String() string {
	role := g.Role
	if role == "Role Based Access Control Administrator" {
		role += " (conditioned: never assigns or removes Owner, User Access Administrator or itself)"
	}
	if g.Of == "" {
		return fmt.Sprintf("%s on the %s", role, g.Scope)
	}
	return fmt.Sprintf("%s on the %s of %s", role, g.Scope, g.Of)
}

// Identity is one user-assigned managed identity and what it may do.
type Identity struct {
	Level Level
	// Subject is the OIDC subject after "repo:<owner>/<repo>:", e.g.
	// "pull_request", "environment:prod", "ref:refs/heads/main".
	Subject string
	// ClientIDVar is the GitHub repository variable that holds the
	// identity's client id; the workflows sign in with it.
	ClientIDVar string
	Grants      []Grant
	// Purpose says what the identity is for; CannotTouch what it can never
	// reach (both for the delivery table).
	Purpose     string
	CannotTouch string
}

// FullSubject is the subject GitHub puts in the job's token.
func (id Identity) FullSubject(repo string) string { return "repo:" + repo + ":" + id.Subject }

// ResourceName is the Azure name of the identity.
func (id Identity) ResourceName() string { return "id-sluice-ci-" + string(id.Level) }

// Environment is the GitHub environment the subject names, or "".
func (id Identity) Environment() string {
	if e, ok := strings.CutPrefix(id.Subject, "environment:"); ok {
		return e
	}
	return ""
}

// Names of bootstrap's per-level state objects.
func StateContainer(l Level) string { return "state-" + string(l) }

// StateKey is the Key Vault key that encrypts the secrets of level l's stacks.
func StateKey(l Level) string { return "state-" + string(l) }

// ClientIDVar is the repository variable holding level l's client id.
func ClientIDVar(l Level) string {
	return "AZURE_CLIENT_ID_" + strings.ToUpper(strings.ReplaceAll(string(l), "-", "_"))
}

// SubscriptionVar is the repository variable holding the subscription of
// stack level l.
func SubscriptionVar(l Level) string {
	return "AZURE_SUBSCRIPTION_ID_" + strings.ToUpper(string(l))
}

func readOnly(of ...Level) []Grant {
	var g []Grant
	for _, l := range of {
		g = append(g,
			Grant{"Reader", ScopeSubscription, l},
			Grant{"Azure Kubernetes Service Cluster User Role", ScopeSubscription, l},
			Grant{"Azure Kubernetes Service RBAC Reader", ScopeSubscription, l},
			Grant{"Storage Blob Data Reader", ScopeStateContainer, l},
			Grant{StateDecryptRole, ScopeStateKey, l},
		)
	}
	return g
}

func deployer(l Level, pullsBuilds bool) []Grant {
	g := []Grant{
		{"Contributor", ScopeSubscription, l},
		// The program assigns roles (workload identities, the cluster).
		{"Role Based Access Control Administrator", ScopeSubscription, l},
		{"Storage Blob Data Contributor", ScopeStateContainer, l},
		{"Key Vault Crypto User", ScopeStateKey, l},
	}
	if pullsBuilds {
		// az acr import of the images built once on main.
		g = append(g, Grant{"AcrPull", ScopeBuildRegistry, ""})
	}
	return g
}

// Plan is the declared trust plan: bootstrap creates exactly these
// identities, credentials and role assignments, the workflow tests check the
// workflows sign in accordingly, and the delivery table is generated from it.
func Plan() []Identity {
	ids := []Identity{
		{Level: Preview, Subject: "pull_request", Grants: readOnly(Dev, Staging),
			Purpose:     "pulumi preview of dev and staging for a pull request",
			CannotTouch: "anything in prod (resources, state, state key); any write"},
		{Level: Review, Subject: "environment:review", Grants: deployer(Review, false),
			Purpose:     "review-pr<N> stacks: build, push to the stack's own registry, up, destroy",
			CannotTouch: "dev, staging, prod (resources, state, keys), the build registry"},
		{Level: Build, Subject: "ref:refs/heads/main", Grants: []Grant{{"AcrPush", ScopeBuildRegistry, ""}},
			Purpose:     "push the images built from main to the build registry",
			CannotTouch: "every stack, all state"},
		{Level: Dev, Subject: "environment:dev", Grants: deployer(Dev, true),
			Purpose:     "pulumi up of dev; teardown of idle dev-* stacks",
			CannotTouch: "review, staging, prod"},
		{Level: Staging, Subject: "environment:staging", Grants: deployer(Staging, true),
			Purpose:     "pulumi up of staging",
			CannotTouch: "review, dev, prod"},
		{Level: Prod, Subject: "environment:prod", Grants: deployer(Prod, true),
			Purpose:     "pulumi up of prod, after a required reviewer approves",
			CannotTouch: "review, dev, staging"},
		{Level: Drift, Subject: "environment:drift", Grants: readOnly(Dev, Staging, Prod),
			Purpose:     "nightly preview --refresh of dev, staging, prod from main",
			CannotTouch: "review; any write"},
	}
	for i := range ids {
		ids[i].ClientIDVar = ClientIDVar(ids[i].Level)
	}
	return ids
}

// ByLevel returns the identity of level l.
func ByLevel(l Level) (Identity, bool) {
	for _, id := range Plan() {
		if id.Level == l {
			return id, true
		}
	}
	return Identity{}, false
}

// BySubject returns the identity that trusts subject (without the repo).
func BySubject(subject string) (Identity, bool) {
	for _, id := range Plan() {
		if id.Subject == subject {
			return id, true
		}
	}
	return Identity{}, false
}

// StackLevel is the state level of a stack: review-* stacks are review, dev
// and dev-<name> are dev, staging and prod are themselves. Any other name
// has no level (and no state anyone may write).
func StackLevel(stack string) (Level, error) {
	short := stack[strings.LastIndexByte(stack, '/')+1:]
	switch {
	case short == "dev" || strings.HasPrefix(short, "dev-"):
		return Dev, nil
	case short == "staging":
		return Staging, nil
	case short == "prod":
		return Prod, nil
	case strings.HasPrefix(short, "review-"):
		return Review, nil
	}
	return "", fmt.Errorf("stack %q has no trust level (want dev, dev-<name>, review-<name>, staging or prod)", stack)
}

// Environments are the GitHub environments the plan relies on, sorted.
func Environments() []string {
	var envs []string
	for _, id := range Plan() {
		if e := id.Environment(); e != "" {
			envs = append(envs, e)
		}
	}
	sort.Strings(envs)
	return envs
}
