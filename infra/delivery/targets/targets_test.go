package targets

import (
	"strings"
	"testing"
)

const stack = "urn:pulumi:dev::sluice::pulumi:pulumi:Stack::sluice-dev"

func TestRegistryFirst(t *testing.T) {
	plan := `{"steps":[
	{"op":"create","urn":"` + stack + `","newState":{"urn":"` + stack + `","type":"pulumi:pulumi:Stack"}},
	{"op":"create","urn":"rg","newState":{"urn":"rg","type":"azure-native:resources:ResourceGroup","parent":"` + stack + `"}},
	{"op":"create","urn":"ws","newState":{"urn":"ws","type":"azure-native:operationalinsights:Workspace","parent":"mon","dependencies":["rg"]}},
	{"op":"create","urn":"mon","newState":{"urn":"mon","type":"sluice:components:Monitoring","parent":"` + stack + `"}},
	{"op":"create","urn":"comp","newState":{"urn":"comp","type":"sluice:components:Registry","parent":"` + stack + `"}},
	{"op":"create","urn":"acr","newState":{"urn":"acr","type":"azure-native:containerregistry:Registry","parent":"comp","propertyDependencies":{"resourceGroupName":["rg"]}}},
	{"op":"create","urn":"diag","newState":{"urn":"diag","type":"azure-native:insights:DiagnosticSetting","parent":"comp","dependencies":["acr","ws"]}},
	{"op":"create","urn":"aks","newState":{"urn":"aks","type":"azure-native:containerservice:ManagedCluster","dependencies":["rg"]}},
	{"op":"create","urn":"prov","newState":{"urn":"prov","type":"pulumi:providers:azure-native"}},
	{"op":"same","urn":"deploy","oldState":{"urn":"deploy","type":"kubernetes:apps/v1:Deployment","dependencies":["acr","aks"]}}
	]}`
	got, err := RegistryFirst(strings.NewReader(plan))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "acr comp rg" {
		t.Fatalf("targets %v, want the registry, its component and its resource group only", got)
	}
	if _, err := RegistryFirst(strings.NewReader(`{"steps":[]}`)); err == nil || !strings.Contains(err.Error(), "no azure-native:containerregistry:Registry") {
		t.Fatalf("a plan without a registry: %v", err)
	}
	if _, err := RegistryFirst(strings.NewReader(`not json`)); err == nil {
		t.Fatal("bad json accepted")
	}
}
