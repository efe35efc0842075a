package main

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/infra/bootstrap/trust"
)

var ficNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$`)

// assignment is one deployed role assignment, read back from the mocks:
// whose it is, which role, and on what.
type assignment struct {
	level trust.Level
	role  string
	scope trust.ScopeKind
	of    trust.Level
}

func (a assignment) String() string {
	return fmt.Sprintf("%s: %s on %s of %q", a.level, a.role, a.scope, a.of)
}

// deployed runs bootstrap under mocks and reads back, from what was
// registered (not from the plan), every identity's credentials and roles.
func deployed(t *testing.T) (subjects map[trust.Level][]string, got []assignment) {
	t.Helper()
	m, _ := run(t, baseConfig(nil))

	levelOf := map[string]trust.Level{} // principal id -> level
	for _, r := range m.byType("azure-native:managedidentity:UserAssignedIdentity") {
		name := get(t, r.inputs, "resourceName").StringValue()
		l := trust.Level(strings.TrimPrefix(name, "id-sluice-ci-"))
		levelOf["principal-"+r.name] = l
	}
	subjects = map[trust.Level][]string{}
	for _, r := range m.byType("azure-native:managedidentity:FederatedIdentityCredential") {
		owner := trust.Level(strings.TrimPrefix(get(t, r.inputs, "resourceName").StringValue(), "id-sluice-ci-"))
		if iss := get(t, r.inputs, "issuer").StringValue(); iss != trust.Issuer {
			t.Errorf("%s: issuer %q", r.name, iss)
		}
		if aud := get(t, r.inputs, "audiences").ArrayValue(); len(aud) != 1 || aud[0].StringValue() != trust.Audience {
			t.Errorf("%s: audiences %v", r.name, aud)
		}
		// Azure's rule for credential names (3-120 of letters, digits, - and _,
		// starting with a letter or digit).
		if n := get(t, r.inputs, "federatedIdentityCredentialResourceName").StringValue(); !ficNameRE.MatchString(n) {
			t.Errorf("%s: credential name %q breaks Azure's naming rule", r.name, n)
		}
		subjects[owner] = append(subjects[owner], get(t, r.inputs, "subject").StringValue())
	}

	// What each scope id is: the resources bootstrap made, and the stack
	// levels' subscriptions.
	type scopeRef struct {
		kind trust.ScopeKind
		of   trust.Level
	}
	scopeOf := map[string]scopeRef{}
	for l, sub := range testSubs {
		scopeOf["/subscriptions/"+sub] = scopeRef{trust.ScopeSubscription, l}
	}
	for _, c := range m.byType("azure-native:storage:BlobContainer") {
		l := trust.Level(strings.TrimPrefix(get(t, c.inputs, "containerName").StringValue(), "state-"))
		scopeOf[mockID(c.typ, c.name)] = scopeRef{trust.ScopeStateContainer, l}
	}
	for _, k := range m.byType("azure-native:keyvault:Key") {
		l := trust.Level(strings.TrimPrefix(get(t, k.inputs, "keyName").StringValue(), "state-"))
		scopeOf[mockID(k.typ, k.name)] = scopeRef{trust.ScopeStateKey, l}
	}
	reg := m.one(t, "azure-native:containerregistry:Registry")
	scopeOf[mockID(reg.typ, reg.name)] = scopeRef{trust.ScopeBuildRegistry, ""}

	roleName := map[string]string{}
	for name, guid := range trust.BuiltinRoles {
		roleName[guid] = name
	}
	def := m.one(t, "azure-native:authorization:RoleDefinition")
	roleName[mockID(def.typ, def.name)] = trust.StateDecryptRole
	actions := get(t, def.inputs, "permissions").ArrayValue()[0].ObjectValue()
	if _, ok := actions["actions"]; ok {
		t.Errorf("the state decrypt role has control-plane actions: %v", actions)
	}
	var data []string
	for _, a := range actions["dataActions"].ArrayValue() {
		data = append(data, a.StringValue())
	}
	for _, a := range data {
		if !strings.HasPrefix(a, "Microsoft.KeyVault/vaults/keys/") || strings.Contains(a, "*") ||
			!(strings.HasSuffix(a, "/read") || strings.HasSuffix(a, "/decrypt/action") || strings.HasSuffix(a, "/encrypt/action")) {
			t.Errorf("state decrypt role allows %s", a)
		}
	}

	for _, r := range m.byType("azure-native:authorization:RoleAssignment") {
		principal := get(t, r.inputs, "principalId").StringValue()
		l, ok := levelOf[principal]
		if !ok {
			continue // an operator
		}
		if pt := get(t, r.inputs, "principalType").StringValue(); pt != "ServicePrincipal" {
			t.Errorf("%s: principalType %q", r.name, pt)
		}
		scope := get(t, r.inputs, "scope").StringValue()
		sc, ok := scopeOf[scope]
		if !ok {
			t.Errorf("%s: scope %s is none of the stack subscriptions or bootstrap's resources", r.name, scope)
			continue
		}
		rd := get(t, r.inputs, "roleDefinitionId").StringValue()
		name, ok := roleName[rd]
		if !ok {
			name, ok = roleName[rd[strings.LastIndexByte(rd, '/')+1:]]
			// A built-in role's id names the subscription of the scope.
			wantSub := testSubscription
			if sc.kind == trust.ScopeSubscription {
				wantSub = testSubs[sc.of]
			}
			if !strings.HasPrefix(rd, "/subscriptions/"+wantSub+"/providers/Microsoft.Authorization/roleDefinitions/") {
				t.Errorf("%s: role definition %s is not in subscription %s", r.name, rd, wantSub)
			}
		}
		if !ok {
			t.Errorf("%s: unknown role definition %s", r.name, rd)
			continue
		}
		// Role assignment rights never extend to the privileged roles.
		cond := ""
		if c, ok := r.inputs["condition"]; ok {
			cond = c.StringValue()
		}
		if name == "Role Based Access Control Administrator" || name == "User Access Administrator" || name == "Owner" {
			for _, guid := range trust.PrivilegedRoles {
				if strings.Count(cond, guid) != 2 || !strings.Contains(cond, "GuidNotEquals") {
					t.Errorf("%s: %s without a condition excluding %s: %q", r.name, name, guid, cond)
				}
			}
			if v := get(t, r.inputs, "conditionVersion").StringValue(); v != "2.0" {
				t.Errorf("%s: condition version %q", r.name, v)
			}
		} else if cond != "" {
			t.Errorf("%s: unexpected condition on %s", r.name, name)
		}
		got = append(got, assignment{l, name, sc.kind, sc.of})
	}
	return subjects, got
}

// untrusted are the subjects a pull request's own code can obtain: the
// pull_request subject itself, and the review environment (which has no
// reviewers and accepts every branch).
func untrusted(subject string) bool {
	return subject == "pull_request" || subject == "environment:review"
}

var writeRoles = []string{"Contributor", "Role Based Access Control Administrator", "Storage Blob Data Contributor",
	"Key Vault Crypto User", "AcrPush", "Azure Kubernetes Service RBAC Cluster Admin"}

// TestDeployedTrustMatchesThePlan: bootstrap creates exactly the declared
// identities, each with one federated credential for its own subject, and
// exactly the declared role assignments, no more and no fewer.
func TestDeployedTrustMatchesThePlan(t *testing.T) {
	subjects, got := deployed(t)
	var want []assignment
	for _, id := range trust.Plan() {
		if s := subjects[id.Level]; len(s) != 1 || s[0] != id.FullSubject(testRepo) {
			t.Errorf("identity %s trusts %v, want only %s", id.Level, s, id.FullSubject(testRepo))
		}
		for _, g := range id.Grants {
			want = append(want, assignment{id.Level, g.Role, g.Scope, g.Of})
		}
	}
	if len(subjects) != len(trust.Plan()) {
		t.Errorf("%d identities with credentials, want %d", len(subjects), len(trust.Plan()))
	}
	sortA := func(a []assignment) []string {
		var s []string
		for _, x := range a {
			s = append(s, x.String())
		}
		sort.Strings(s)
		return s
	}
	if g, w := sortA(got), sortA(want); !slices.Equal(g, w) {
		t.Errorf("deployed role assignments differ from the plan\n got %q\nwant %q", g, w)
	}
}

// TestTrustBoundaries checks the deployed assignments against the rules of
// the issue, whatever the plan says.
func TestTrustBoundaries(t *testing.T) {
	subjects, got := deployed(t)
	subjectOf := map[trust.Level]string{}
	for l, s := range subjects {
		subjectOf[l] = strings.TrimPrefix(s[0], "repo:"+testRepo+":")
	}
	if subjectOf[trust.Prod] != "environment:prod" {
		t.Errorf("prod deploy trusts %q, want environment:prod only", subjectOf[trust.Prod])
	}
	for _, a := range got {
		for _, v := range violations(a, subjectOf[a.level]) {
			t.Error(v)
		}
	}
	// Every deploying level can deploy its own stacks.
	for _, l := range []trust.Level{trust.Review, trust.Dev, trust.Staging, trust.Prod} {
		for _, need := range []assignment{
			{l, "Contributor", trust.ScopeSubscription, l},
			{l, "Storage Blob Data Contributor", trust.ScopeStateContainer, l},
			{l, "Key Vault Crypto User", trust.ScopeStateKey, l},
		} {
			if !slices.Contains(got, need) {
				t.Errorf("%s lacks %s", l, need)
			}
		}
	}
}

// violations are the trust rules assignment a breaks, given the subject its
// identity trusts.
func violations(a assignment, s string) []string {
	var v []string
	write := slices.Contains(writeRoles, a.role)
	// No pull-request subject touches prod: resources, state or key.
	if untrusted(s) && a.of == trust.Prod {
		v = append(v, fmt.Sprintf("%s (subject %s) has a role on prod: %s", a.level, s, a))
	}
	// Unreviewed code never reaches the registry prod promotes from.
	if untrusted(s) && a.scope == trust.ScopeBuildRegistry {
		v = append(v, fmt.Sprintf("%s (subject %s) has a role on the build registry: %s", a.level, s, a))
	}
	// ...nor writes anything outside the review level.
	if untrusted(s) && write && a.of != trust.Review {
		v = append(v, fmt.Sprintf("%s (subject %s) can write outside the review level: %s", a.level, s, a))
	}
	// The preview is read-only.
	if s == "pull_request" && write {
		v = append(v, fmt.Sprintf("preview has a write role: %s", a))
	}
	// Write access stays inside the identity's own level (the build
	// registry has no level: only the build identity pushes there).
	if write && a.scope != trust.ScopeBuildRegistry && a.of != a.level {
		v = append(v, fmt.Sprintf("%s can write to another level: %s", a.level, a))
	}
	if a.role == "AcrPush" && a.level != trust.Build {
		v = append(v, fmt.Sprintf("%s may push to the build registry: %s", a.level, a))
	}
	// A state key is used by its own level, or only decrypted by others.
	if a.scope == trust.ScopeStateKey && a.of != a.level && a.role != trust.StateDecryptRole {
		v = append(v, fmt.Sprintf("%s uses another level's state key beyond decrypt: %s", a.level, a))
	}
	return v
}

// TestTrustBoundariesCatch: each rule fails on an assignment that breaks it.
func TestTrustBoundariesCatch(t *testing.T) {
	for _, c := range []struct {
		a       assignment
		subject string
	}{
		{assignment{trust.Preview, trust.StateDecryptRole, trust.ScopeStateKey, trust.Prod}, "pull_request"},
		{assignment{trust.Preview, "Reader", trust.ScopeSubscription, trust.Prod}, "pull_request"},
		{assignment{trust.Review, "Contributor", trust.ScopeSubscription, trust.Dev}, "environment:review"},
		{assignment{trust.Preview, "Storage Blob Data Contributor", trust.ScopeStateContainer, trust.Preview}, "pull_request"},
		{assignment{trust.Review, "AcrPull", trust.ScopeBuildRegistry, ""}, "environment:review"},
		{assignment{trust.Dev, "Contributor", trust.ScopeSubscription, trust.Staging}, "environment:dev"},
		{assignment{trust.Dev, "AcrPush", trust.ScopeBuildRegistry, ""}, "environment:dev"},
		{assignment{trust.Dev, "Key Vault Crypto User", trust.ScopeStateKey, trust.Prod}, "environment:dev"},
	} {
		if len(violations(c.a, c.subject)) == 0 {
			t.Errorf("no rule catches %s (subject %s)", c.a, c.subject)
		}
	}
	if v := violations(assignment{trust.Drift, trust.StateDecryptRole, trust.ScopeStateKey, trust.Prod}, "environment:drift"); len(v) != 0 {
		t.Errorf("drift decrypting prod state from main is allowed, got %v", v)
	}
}

func TestStackLevels(t *testing.T) {
	for stack, want := range map[string]trust.Level{
		"dev": trust.Dev, "dev-alice": trust.Dev, "org/sluice/dev": trust.Dev, "review-pr12": trust.Review,
		"staging": trust.Staging, "prod": trust.Prod, "org/sluice/prod": trust.Prod,
	} {
		if got, err := trust.StackLevel(stack); err != nil || got != want {
			t.Errorf("StackLevel(%q) = %q, %v; want %q", stack, got, err, want)
		}
	}
	for _, stack := range []string{"production", "staging-2", "devx", "main", ""} {
		if l, err := trust.StackLevel(stack); err == nil {
			t.Errorf("StackLevel(%q) = %q, want an error", stack, l)
		}
	}
}
