package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestFirstTargets(t *testing.T) {
	plan := `[{"urn":"rg","type":"azure-native:resources:ResourceGroup"},
	{"urn":"acr","type":"azure-native:containerregistry:Registry","dependencies":["rg"]},
	{"urn":"ws","type":"azure-native:operationalinsights:Workspace","dependencies":["rg"]}]`
	for first, want := range map[string]string{"registry": "--target=acr\n--target=rg\n", "azure": "--target=acr\n--target=rg\n--target=ws\n"} {
		var out, errOut bytes.Buffer
		if code := realMain([]string{"-first", first}, strings.NewReader(plan), &out, &errOut); code != 0 || out.String() != want {
			t.Errorf("-first %s: exit %d, %q (%s); want %q", first, code, out.String(), errOut.String(), want)
		}
	}
	var out, errOut bytes.Buffer
	if code := realMain([]string{"-first", "cluster"}, strings.NewReader(plan), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "want registry or azure") {
		t.Errorf("unknown kind: exit %d, %q", code, errOut.String())
	}
}
