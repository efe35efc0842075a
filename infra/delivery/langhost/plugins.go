package langhost

import (
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
)

// sdkPlugins maps the module path prefix of a provider's Go SDK to the name of
// the resource plugin it was generated for. A program that links a pulumi-*
// SDK missing here makes PluginsFromBuildInfo fail, so a new provider cannot
// be added without saying which plugin it needs.
var sdkPlugins = map[string]string{
	"github.com/pulumi/pulumi-azure-native-sdk/": "azure-native",
	"github.com/pulumi/pulumi-kubernetes/sdk/":   "kubernetes",
}

// notProviders are pulumi modules that are libraries, not provider SDKs.
var notProviders = map[string]bool{
	"github.com/pulumi/pulumi/sdk/v3": true,
	"github.com/pulumi/pulumi/pkg/v3": true,
	"github.com/pulumi/esc":           true,
	"github.com/pulumi/appdash":       true,
}

// PluginsFromBuildInfo lists the resource plugins of the provider SDKs linked
// into the binary, at the SDKs' versions (the azure-native SDK is many
// modules, which must agree on one version), sorted by name.
func PluginsFromBuildInfo(bi *debug.BuildInfo) ([]Plugin, error) {
	if bi == nil {
		return nil, fmt.Errorf("langhost: no build information in this binary")
	}
	versions := map[string]string{}
	for _, m := range bi.Deps {
		if m.Replace != nil {
			m = m.Replace
		}
		name, ok := pluginOf(m.Path)
		if !ok {
			if strings.HasPrefix(m.Path, "github.com/pulumi/pulumi-") {
				return nil, fmt.Errorf("langhost: module %s looks like a provider SDK but names no plugin (add it to sdkPlugins)", m.Path)
			}
			continue
		}
		if have, seen := versions[name]; seen && have != m.Version {
			return nil, fmt.Errorf("langhost: plugin %s is linked at %s and %s (module %s): pin one version", name, have, m.Version, m.Path)
		}
		versions[name] = m.Version
	}
	out := make([]Plugin, 0, len(versions))
	for n, v := range versions {
		out = append(out, Plugin{Name: n, Version: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func pluginOf(path string) (string, bool) {
	if notProviders[path] {
		return "", false
	}
	for prefix, name := range sdkPlugins {
		if strings.HasPrefix(path, prefix) {
			return name, true
		}
	}
	return "", false
}
