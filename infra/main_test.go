package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/infra/delivery/langhost"
	"github.com/sluicehq/sluice/infra/internal/platform"
)

// The plugins the binary reports are the provider SDK versions go.mod pins: the
// CLI installs exactly the providers the program's SDKs were generated for.
func TestPluginsAreTheSDKVersionsOfGoMod(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := langhost.Main("sluice-infra", platform.Program, []string{"-plugins"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("sluice-infra -plugins exited %d: %s", code, errOut.String())
	}
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s*github\.com/pulumi/pulumi-(azure-native)-sdk\S*\s+(v\S+)`).FindAllStringSubmatch(string(mod), -1) {
		want[m[1]] = m[2]
	}
	for _, m := range regexp.MustCompile(`(?m)^\s*github\.com/pulumi/pulumi-kubernetes/sdk/v\d+\s+(v\S+)`).FindAllStringSubmatch(string(mod), -1) {
		want["kubernetes"] = m[1]
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			t.Fatalf("line %q is not <plugin> <version>", line)
		}
		got[f[0]] = f[1]
	}
	if len(want) != 2 || len(got) != 2 || got["azure-native"] != want["azure-native"] || got["kubernetes"] != want["kubernetes"] {
		t.Fatalf("sluice-infra -plugins = %v, go.mod pins %v", got, want)
	}
}

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := langhost.Main("sluice-infra", platform.Program, nil, nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "usage: sluice-infra") {
		t.Fatalf("no arguments: exit %d, %q", code, errOut.String())
	}
	if code := langhost.Main("sluice-infra", platform.Program, []string{"--", "pulumi", "stack", "ls"}, nil, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "runs no program operation") {
		t.Fatalf("stack ls: exit %d, %q", code, errOut.String())
	}
}
