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

func TestAzureFirst(t *testing.T) {
	// The offline plan's form: a list of resources.
	plan := `[
	{"urn":"` + stack + `","type":"pulumi:pulumi:Stack"},
	{"urn":"rg","type":"azure-native:resources:ResourceGroup","parent":"` + stack + `"},
	{"urn":"runner","type":"sluice:components:DeployRunner","parent":"` + stack + `"},
	{"urn":"vmss","type":"azure-native:compute:VirtualMachineScaleSet","parent":"runner","dependencies":["rg","subnet"]},
	{"urn":"subnet","type":"azure-native:network:Subnet","dependencies":["rg"]},
	{"urn":"wl","type":"sluice:components:Workloads","parent":"` + stack + `"},
	{"urn":"k8s","type":"pulumi:providers:kubernetes","parent":"wl"},
	{"urn":"deploy","type":"kubernetes:apps/v1:Deployment","parent":"wl","dependencies":["vmss"]}
	]`
	got, err := AzureFirst(strings.NewReader(plan))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "rg runner subnet vmss" {
		t.Fatalf("targets %v, want every Azure resource and its component, no Kubernetes object", got)
	}
	bad := strings.Replace(plan, `"dependencies":["rg","subnet"]`, `"dependencies":["rg","subnet","deploy"]`, 1)
	if _, err := AzureFirst(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "depends on the Kubernetes object deploy") {
		t.Fatalf("an Azure resource that needs a Kubernetes object: err %v", err)
	}
	if _, err := AzureFirst(strings.NewReader(`{"steps":[]}`)); err == nil || !strings.Contains(err.Error(), "no Azure resource") {
		t.Fatalf("empty preview: err %v", err)
	}
}
