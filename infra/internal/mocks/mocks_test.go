package mocks

import (
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func TestHelpersReadThroughSecrets(t *testing.T) {
	inputs := resource.NewPropertyMapFromMap(map[string]any{
		"spec": map[string]any{
			"name":  "api",
			"ports": []any{"80", 443, "8080"},
			"flags": resource.MakeSecret(resource.NewArrayProperty([]resource.PropertyValue{
				resource.NewStringProperty("a"), resource.MakeSecret(resource.NewStringProperty("b")),
			})),
		},
	})
	r := &Resource{Type: "t:index:Thing", Name: "thing", Inputs: inputs}
	if got := String(inputs, "spec.name"); got != "api" {
		t.Errorf("String = %q", got)
	}
	if got := String(inputs, "spec.missing"); got != "" {
		t.Errorf("String of a missing path = %q", got)
	}
	if got := Strings(inputs, "spec.ports"); !slices.Equal(got, []string{"80", "8080"}) {
		t.Errorf("Strings = %v, want the string elements only", got)
	}
	if got := Strings(inputs, "spec.flags"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Strings through secrets = %v", got)
	}
	if m := Mismatches(r, map[string]any{"spec.name": "api", "spec.ports.1": float64(443)}); len(m) != 0 {
		t.Errorf("mismatches of matching inputs: %v", m)
	}
	m := Mismatches(r, map[string]any{"spec.name": "web", "spec.missing": true})
	if len(m) != 2 || !strings.Contains(m[0], `spec.missing = <nil>, want true`) || !strings.Contains(m[1], `spec.name = "api", want "web"`) {
		t.Errorf("mismatches %q", m)
	}
}

func TestOfType(t *testing.T) {
	m := New("p", "s")
	for _, r := range []*Resource{{URN: "b", Type: "x"}, {URN: "a", Type: "x"}, {URN: "c", Type: "y"}} {
		m.record(r)
	}
	got := m.OfType("x")
	if len(got) != 2 || got[0].URN != "a" || got[1].URN != "b" {
		t.Fatalf("OfType(x) = %v, want a and b in URN order", got)
	}
	if len(m.OfType("z")) != 0 {
		t.Fatal("OfType of an absent type is not empty")
	}
}

func TestGenericResources(t *testing.T) {
	m := New("p", "s")
	in := resource.NewPropertyMapFromMap(map[string]any{
		"resourceGroupName": "rg", "resourceProviderNamespace": "Microsoft.Cache", "parentResourcePath": "redisEnterprise/c1",
		"resourceType": "databases", "resourceName": "default",
	})
	id, state := outputs(GenericToken, "logical", in)
	if id != "/subscriptions/"+SubscriptionID+"/resourceGroups/rg/providers/Microsoft.Cache/redisEnterprise/c1/databases/default" {
		t.Errorf("id = %s", id)
	}
	if String(state, "name") != "default" {
		t.Errorf("name = %q, want the resourceName", String(state, "name"))
	}
	m.record(&Resource{URN: "a", Type: GenericToken, Inputs: in})
	m.record(&Resource{URN: "b", Type: GenericToken, Inputs: resource.NewPropertyMapFromMap(map[string]any{
		"resourceProviderNamespace": "Microsoft.Cache", "parentResourcePath": "", "resourceType": "redisEnterprise"})})
	if got := m.OfType(GenericType("Microsoft.Cache/redisEnterprise/databases")); len(got) != 1 || got[0].URN != "a" {
		t.Errorf("databases = %v", got)
	}
	if got := m.OfType(GenericType("Microsoft.Cache/redisEnterprise")); len(got) != 1 || got[0].URN != "b" {
		t.Errorf("clusters = %v", got)
	}
	if got := m.OfType(GenericToken); len(got) != 2 {
		t.Errorf("every generic resource: %d", len(got))
	}
}

type testRes struct{ pulumi.CustomResourceState }

func TestRecordsPropertyDependencies(t *testing.T) {
	m, err := Run(func(ctx *pulumi.Context) error {
		var a testRes
		if err := ctx.RegisterResource("t:index:A", "a", pulumi.Map{"x": pulumi.String("1")}, &a); err != nil {
			return err
		}
		var b testRes
		return ctx.RegisterResource("t:index:B", "b", pulumi.Map{"ref": a.ID()}, &b)
	}, "s", nil)
	if err != nil {
		t.Fatal(err)
	}
	b := m.OfType("t:index:B")
	if len(b) != 1 {
		t.Fatalf("registered %d B", len(b))
	}
	a := m.OfType("t:index:A")[0]
	if !slices.Contains(b[0].PropertyDependencies["ref"], a.URN) || !slices.Contains(b[0].Dependencies, a.URN) {
		t.Errorf("dependencies of b: %v, by property %v; want %s", b[0].Dependencies, b[0].PropertyDependencies, a.URN)
	}
}
