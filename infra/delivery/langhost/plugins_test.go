package langhost

import (
	"reflect"
	"runtime/debug"
	"strings"
	"testing"
)

func buildInfo(deps ...*debug.Module) *debug.BuildInfo { return &debug.BuildInfo{Deps: deps} }

func TestPluginsFromBuildInfo(t *testing.T) {
	got, err := PluginsFromBuildInfo(buildInfo(
		&debug.Module{Path: "github.com/pulumi/pulumi/sdk/v3", Version: "v3.250.0"},
		&debug.Module{Path: "github.com/pulumi/pulumi-kubernetes/sdk/v4", Version: "v4.25.0"},
		&debug.Module{Path: "github.com/pulumi/pulumi-azure-native-sdk/network/v2", Version: "v2.92.3"},
		&debug.Module{Path: "github.com/pulumi/pulumi-azure-native-sdk/v2", Version: "v2.92.3"},
		&debug.Module{Path: "github.com/pulumi/esc", Version: "v0.24.0"},
		&debug.Module{Path: "google.golang.org/grpc", Version: "v1.75.0"},
	))
	if err != nil {
		t.Fatal(err)
	}
	want := []Plugin{{Name: "azure-native", Version: "v2.92.3"}, {Name: "kubernetes", Version: "v4.25.0"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("plugins = %v, want %v", got, want)
	}
}

func TestPluginsFromBuildInfoFollowsReplacements(t *testing.T) {
	got, err := PluginsFromBuildInfo(buildInfo(&debug.Module{
		Path: "github.com/pulumi/pulumi-kubernetes/sdk/v4", Version: "v4.25.0",
		Replace: &debug.Module{Path: "github.com/pulumi/pulumi-kubernetes/sdk/v4", Version: "v4.26.0"},
	}))
	if err != nil || len(got) != 1 || got[0].Version != "v4.26.0" {
		t.Fatalf("plugins = %v, %v; want kubernetes at the replacement's v4.26.0", got, err)
	}
}

func TestPluginsFromBuildInfoRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		bi   *debug.BuildInfo
		want string
	}{
		"two versions of one plugin": {buildInfo(
			&debug.Module{Path: "github.com/pulumi/pulumi-azure-native-sdk/network/v2", Version: "v2.92.3"},
			&debug.Module{Path: "github.com/pulumi/pulumi-azure-native-sdk/storage/v2", Version: "v2.90.0"},
		), "pin one version"},
		"a provider SDK with no plugin name": {buildInfo(
			&debug.Module{Path: "github.com/pulumi/pulumi-random/sdk/v4", Version: "v4.18.0"},
		), "add it to sdkPlugins"},
		"no build information": {nil, "no build information"},
	} {
		_, err := PluginsFromBuildInfo(tc.bi)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one containing %q", name, err, tc.want)
		}
	}
}
