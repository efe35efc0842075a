package main

import (
	"slices"
	"testing"

	"github.com/sluicehq/sluice/infra/internal/plancheck"
)

const resourcePy = `
@pulumi.input_type
class ThingArgs:
    def __init__(__self__, *,
                 resource_group_name: pulumi.Input[str]):
        pass

    @property
    @pulumi.getter(name="resourceGroupName")
    def resource_group_name(self) -> pulumi.Input[str]:
        return pulumi.get(self, "resource_group_name")

    @property
    @pulumi.getter(name="publicNetworkAccess")
    def public_network_access(self) -> pulumi.Input[Union[_builtins.str, 'PublicNetworkAccess']]:
        return 1

    @property
    @pulumi.getter
    def sku(self) -> Optional[pulumi.Input['SkuArgs']]:
        return 1

    @property
    @pulumi.getter
    def zones(self) -> Optional[pulumi.Input[Sequence[pulumi.Input[str]]]]:
        return 1

    @property
    @pulumi.getter
    def tags(self) -> pulumi.Input[Optional[Mapping[str, pulumi.Input[str]]]]:
        return 1


class Thing(pulumi.CustomResource):
    def _internal_init(__self__):
        """
        Uses Azure REST API version 2025-07-01.
        """
        super(Thing, __self__).__init__(
            'azure-native:mod:Thing',
            resource_name)
`

const inputsPy = `
@pulumi.input_type
class SkuArgs:
    def __init__(__self__, *, name):
        pass

    @property
    @pulumi.getter
    def name(self) -> pulumi.Input['SkuName']:
        return 1

    @property
    @pulumi.getter
    def capacity(self) -> Optional[pulumi.Input[int]]:
        return 1
`

const enumsPy = `
class PublicNetworkAccess(builtins.str, Enum):
    """
    Whether.
    """
    ENABLED = "Enabled"
    DISABLED = "Disabled"


class SkuName(str, Enum):
    BALANCED_B0 = "Balanced_B0"
`

func TestReadsResourcesTypesAndEnumsFromTheSDK(t *testing.T) {
	k := &sdk{name: "w", version: "3.29.0", tokens: map[string]string{"azure-native:mod:Thing": "mod/thing.py"}, files: map[string]string{
		"mod/thing.py": resourcePy, "mod/_inputs.py": inputsPy, "mod/_enums.py": enumsPy,
	}}
	s := &plancheck.Schema{Resources: map[string]*plancheck.Object{}, Types: map[string]*plancheck.Object{}, Enums: map[string][]string{}}
	b := &builder{sdk: k, schema: s}
	if err := b.resource("azure-native:mod:Thing"); err != nil {
		t.Fatal(err)
	}
	r := s.Resources["azure-native:mod:Thing"]
	if r.APIVersion != "2025-07-01" || r.Provider != "3.29.0" {
		t.Errorf("api %q provider %q", r.APIVersion, r.Provider)
	}
	if !slices.Equal(r.Required, []string{"publicNetworkAccess", "resourceGroupName"}) {
		t.Errorf("required %v", r.Required)
	}
	if p := r.Properties["publicNetworkAccess"]; p.Kind != "string" || p.Enum != "mod:PublicNetworkAccess" || p.Strict {
		t.Errorf("publicNetworkAccess %+v", p)
	}
	if z := r.Properties["zones"]; z.Kind != "array" || z.Items.Kind != "string" {
		t.Errorf("zones %+v", z)
	}
	if m := r.Properties["tags"]; m.Kind != "map" {
		t.Errorf("tags %+v", m)
	}
	sku := s.Types[r.Properties["sku"].Ref]
	if sku == nil || !slices.Equal(sku.Required, []string{"name"}) || !sku.Properties["name"].Strict || sku.Properties["capacity"].Kind != "integer" {
		t.Errorf("sku type %+v", sku)
	}
	if !slices.Equal(s.Enums["mod:PublicNetworkAccess"], []string{"Enabled", "Disabled"}) || !slices.Equal(s.Enums["mod:SkuName"], []string{"Balanced_B0"}) {
		t.Errorf("enums %v", s.Enums)
	}
	if err := b.resource("azure-native:mod:Missing"); err == nil {
		t.Error("a token no wheel has was read")
	}
}
