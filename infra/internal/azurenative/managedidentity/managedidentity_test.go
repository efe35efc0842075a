package managedidentity

import (
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/sluicehq/sluice/infra/internal/azurenative"
	"github.com/sluicehq/sluice/infra/internal/mocks"
)

// Transcribed from pulumi-azure-native-sdk v2.92.3, managedidentity
// (userAssignedIdentity.go, federatedIdentityCredential.go).
var sdkInputs = map[string][]string{
	"UserAssignedIdentityArgs": {"location", "resourceGroupName", "resourceName", "tags"},
	"FederatedIdentityCredentialArgs": {"audiences", "federatedIdentityCredentialResourceName", "issuer",
		"resourceGroupName", "resourceName", "subject"},
}

func TestTokensAndAPIVersion(t *testing.T) {
	if APIVersion != "2023-01-31" {
		t.Errorf("APIVersion = %s", APIVersion)
	}
	if UserAssignedIdentityToken != "azure-native:managedidentity:UserAssignedIdentity" {
		t.Errorf("UserAssignedIdentityToken = %s", UserAssignedIdentityToken)
	}
	if FederatedIdentityCredentialToken != "azure-native:managedidentity:FederatedIdentityCredential" {
		t.Errorf("FederatedIdentityCredentialToken = %s", FederatedIdentityCredentialToken)
	}
}

func TestInputNamesAreTheSDKs(t *testing.T) {
	for name, in := range map[string]pulumi.Input{
		"UserAssignedIdentityArgs":        UserAssignedIdentityArgs{},
		"FederatedIdentityCredentialArgs": FederatedIdentityCredentialArgs{},
	} {
		got := azurenative.InputNames(in)
		for _, n := range sdkInputs[name] {
			if !slices.Contains(got, n) {
				t.Errorf("%s: SDK input %q not modelled", name, n)
			}
		}
		for _, n := range got {
			if !slices.Contains(sdkInputs[name], n) {
				t.Errorf("%s: input %q is not an SDK input", name, n)
			}
		}
		if err := azurenative.CheckArgs(in); err != nil {
			t.Error(err)
		}
	}
}

func TestRegistration(t *testing.T) {
	var clientID pulumi.StringOutput
	m, err := mocks.Run(func(ctx *pulumi.Context) error {
		if _, err := NewFederatedIdentityCredential(ctx, "bad", &FederatedIdentityCredentialArgs{ResourceGroupName: pulumi.String("rg")}); err == nil {
			t.Error("credential without audiences, issuer, identity and subject accepted")
		}
		id, err := NewUserAssignedIdentity(ctx, "id", &UserAssignedIdentityArgs{ResourceGroupName: pulumi.String("rg"), Location: pulumi.String("westeurope")})
		if err != nil {
			return err
		}
		clientID = id.ClientId
		_, err = NewFederatedIdentityCredential(ctx, "fic", &FederatedIdentityCredentialArgs{
			ResourceGroupName: pulumi.String("rg"),
			ResourceName:      id.Name,
			Issuer:            pulumi.String("https://issuer.example/"),
			Subject:           pulumi.String("system:serviceaccount:sluice:api"),
			Audiences:         pulumi.StringArray{pulumi.String("api://AzureADTokenExchange")},
		})
		return err
	}, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*mocks.Resource{}
	for _, r := range m.Resources() {
		got[r.Name] = r
		if r.Version != azurenative.ProviderVersion {
			t.Errorf("%s: provider version %q", r.Name, r.Version)
		}
	}
	if got["id"] == nil || got["id"].Type != UserAssignedIdentityToken {
		t.Fatalf("identity not registered with its token: %+v", got["id"])
	}
	fic := got["fic"]
	if fic == nil || fic.Type != FederatedIdentityCredentialToken {
		t.Fatalf("credential not registered with its token: %+v", fic)
	}
	if mocks.Lookup(fic.Inputs, "resourceName") != "id" || mocks.Lookup(fic.Inputs, "audiences.0") != "api://AzureADTokenExchange" {
		t.Errorf("credential inputs: %v", fic.Inputs)
	}
	if pulumi.IsSecret(clientID) {
		t.Error("client id must not be secret")
	}
}
