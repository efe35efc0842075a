package scripts

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const pulumiCLIModule = "../pulumi-cli"

// pinnedModule is what the tests need of infra/delivery/pulumi-cli/go.mod: the
// required versions, the replace directives and the tools.
type pinnedModule struct {
	require  map[string]string
	replace  map[string]string // old path -> "new path version"
	tools    []string
	sumLines []string
}

// parseGoMod reads the require, replace and tool directives of a go.mod, in
// both the one-line and the block form (enough for a file `go mod tidy` wrote).
func parseGoMod(data string) (pinnedModule, error) {
	m := pinnedModule{require: map[string]string{}, replace: map[string]string{}}
	block := ""
	for i, line := range strings.Split(data, "\n") {
		if c := strings.Index(line, "//"); c >= 0 {
			line = line[:c]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if block != "" && f[0] == ")" {
			block = ""
			continue
		}
		verb := block
		if verb == "" {
			verb, f = f[0], f[1:]
			if len(f) == 1 && f[0] == "(" {
				block = verb
				continue
			}
		}
		switch verb {
		case "require":
			if len(f) != 2 {
				return m, fmt.Errorf("go.mod:%d: malformed require %q", i+1, line)
			}
			m.require[f[0]] = f[1]
		case "replace":
			arrow := slices.Index(f, "=>")
			if arrow < 1 || arrow > 2 || len(f)-arrow < 2 || len(f)-arrow > 3 {
				return m, fmt.Errorf("go.mod:%d: malformed replace %q", i+1, line)
			}
			m.replace[f[0]] = strings.Join(f[arrow+1:], " ")
		case "tool":
			if len(f) != 1 {
				return m, fmt.Errorf("go.mod:%d: malformed tool %q", i+1, line)
			}
			m.tools = append(m.tools, f[0])
		}
	}
	return m, nil
}

func loadPinnedModule(t *testing.T) pinnedModule {
	t.Helper()
	mod, err := os.ReadFile(filepath.Join(pulumiCLIModule, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseGoMod(string(mod))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(pulumiCLIModule, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	m.sumLines = strings.Split(string(sum), "\n")
	return m
}

// hasSums says whether go.sum pins both the module's content and its go.mod.
func (m pinnedModule) hasSums(path, version string) bool {
	var zip, mod bool
	h1 := regexp.MustCompile(`^h1:[A-Za-z0-9+/]{43}=$`)
	for _, l := range m.sumLines {
		f := strings.Fields(l)
		if len(f) != 3 || f[0] != path || !h1.MatchString(f[2]) {
			continue
		}
		zip = zip || f[1] == version
		mod = mod || f[1] == version+"/go.mod"
	}
	return zip && mod
}

// moduleOf finds the required module that holds a package.
func (m pinnedModule) moduleOf(pkg string) string {
	best := ""
	for p := range m.require {
		if (pkg == p || strings.HasPrefix(pkg, p+"/")) && len(p) > len(best) {
			best = p
		}
	}
	return best
}

var (
	defaultVersionRE = regexp.MustCompile(`PULUMI_VERSION:-(v[0-9]+\.[0-9]+\.[0-9]+)\}`)
	makeCLIVersionRE = regexp.MustCompile(`(?m)^pulumi-cli: ## .*?(v[0-9]+\.[0-9]+\.[0-9]+)`)
)

// TestPulumiCLIModulePinsTheBuild: the committed module builds the version the
// rest of the repository names, with pkg/v3 and sdk/v3 in step, the clipboard
// replace pkg/v3 needs, go.sum lines for every module a tool comes from, and a
// script that builds exactly the module's tools.
func TestPulumiCLIModulePinsTheBuild(t *testing.T) {
	for _, p := range checkPinnedModule(t, loadPinnedModule(t)) {
		t.Error(p)
	}
}

// checkPinnedModule lists what is wrong with m against the repository's
// scripts and Makefile.
func checkPinnedModule(t *testing.T, m pinnedModule) []string {
	t.Helper()
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	read := func(path string) string {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	const pkg, sdk = "github.com/pulumi/pulumi/pkg/v3", "github.com/pulumi/pulumi/sdk/v3"
	version := m.require[pkg]
	if version == "" {
		return []string{"infra/delivery/pulumi-cli/go.mod does not require " + pkg}
	}
	if m.require[sdk] != version {
		fail("go.mod requires %s %s but %s %q: the CLI needs them in step", pkg, version, sdk, m.require[sdk])
	}
	// The release installer and the make target name the same version.
	if v := defaultVersionRE.FindStringSubmatch(read("install-pulumi.sh")); v == nil || v[1] != version {
		fail("install-pulumi.sh defaults to %v, the pinned module builds %s", v, version)
	}
	if v := makeCLIVersionRE.FindStringSubmatch(read("../../../mk/delivery.mk")); v == nil || v[1] != version {
		fail("mk/delivery.mk's pulumi-cli target names %v, the pinned module builds %s", v, version)
	}
	if r := m.replace["github.com/atotto/clipboard"]; !strings.HasPrefix(r, "github.com/tgummerer/clipboard v") {
		fail("go.mod lacks pkg/v3's clipboard replace (github.com/atotto/clipboard => github.com/tgummerer/clipboard …), have %q", r)
	} else if f := strings.Fields(r); !m.hasSums(f[0], f[1]) {
		fail("go.sum has no lines for the clipboard replacement %s", r)
	}
	for _, p := range []string{pkg, sdk} {
		if !m.hasSums(p, m.require[p]) {
			fail("go.sum has no h1 lines (module and go.mod) for %s %s", p, m.require[p])
		}
	}
	if !slices.Contains(m.tools, pkg+"/cmd/pulumi") {
		fail("go.mod has no tool directive for %s/cmd/pulumi (has %v)", pkg, m.tools)
	}
	built := map[string]bool{}
	for _, b := range regexp.MustCompile(`(?m)^\w+_pkg="([^"]+)"`).FindAllStringSubmatch(read("pulumi-cli.sh"), -1) {
		built[b[1]] = true
	}
	for _, tool := range m.tools {
		mod := m.moduleOf(tool)
		if mod == "" {
			fail("tool %s comes from no required module", tool)
		} else if !m.hasSums(mod, m.require[mod]) {
			fail("go.sum has no h1 lines for %s %s (tool %s)", mod, m.require[mod], tool)
		}
		if !built[tool] {
			fail("pulumi-cli.sh does not build the tool %s", tool)
		}
		delete(built, tool)
	}
	for b := range built {
		fail("pulumi-cli.sh builds %s, which go.mod does not pin as a tool", b)
	}
	return bad
}

// The checks can fail: a module out of step with the script is caught.
func TestPulumiCLIModuleCheckCatchesDrift(t *testing.T) {
	good := loadPinnedModule(t)
	if p := checkPinnedModule(t, good); len(p) != 0 {
		t.Fatalf("the committed module is reported: %v", p)
	}
	cases := map[string]func(m *pinnedModule){
		"other version": func(m *pinnedModule) {
			m.require["github.com/pulumi/pulumi/pkg/v3"] = "v3.251.0"
			m.require["github.com/pulumi/pulumi/sdk/v3"] = "v3.251.0"
		},
		"sdk out of step": func(m *pinnedModule) { m.require["github.com/pulumi/pulumi/sdk/v3"] = "v3.249.0" },
		"no clipboard":    func(m *pinnedModule) { delete(m.replace, "github.com/atotto/clipboard") },
		"no pkg sums":     func(m *pinnedModule) { m.sumLines = dropLines(m.sumLines, "github.com/pulumi/pulumi/pkg/v3 ") },
		"tool not built":  func(m *pinnedModule) { m.tools = append(m.tools, "github.com/pulumi/pulumi/sdk/v3/go/pulumi") },
		"no tool":         func(m *pinnedModule) { m.tools = nil },
		"unsummed tool module": func(m *pinnedModule) {
			m.require["example.com/host/v3"] = "v3.0.0"
			m.tools = append(m.tools, "example.com/host/v3/cmd/host")
		},
	}
	for name, mutate := range cases {
		m := good
		m.require = maps.Clone(good.require)
		m.replace = maps.Clone(good.replace)
		m.tools = slices.Clone(good.tools)
		m.sumLines = slices.Clone(good.sumLines)
		mutate(&m)
		if len(checkPinnedModule(t, m)) == 0 {
			t.Errorf("%s: the pinned-module check passed", name)
		}
	}
}

func dropLines(lines []string, prefix string) []string {
	var out []string
	for _, l := range lines {
		if !strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

func TestParseGoMod(t *testing.T) {
	m, err := parseGoMod("module x\n\ngo 1.26\n\nrequire a.b/c v1.0.0\nrequire (\n\td.e/f v2.0.0 // indirect\n)\n" +
		"replace g.h/i => j.k/l v0.0.1 // why\ntool (\n\ta.b/c/cmd/x\n)\ntool d.e/f/y\n")
	if err != nil {
		t.Fatal(err)
	}
	if m.require["a.b/c"] != "v1.0.0" || m.require["d.e/f"] != "v2.0.0" || m.replace["g.h/i"] != "j.k/l v0.0.1" ||
		!slices.Equal(m.tools, []string{"a.b/c/cmd/x", "d.e/f/y"}) {
		t.Errorf("parsed %+v", m)
	}
	if _, err := parseGoMod("require a.b/c\n"); err == nil {
		t.Error("a require without a version was accepted")
	}
}

// pulumiCLIEnv runs pulumi-cli.sh from a copy under a temporary root with a
// fake go command that answers `go list -m` from the pinned go.mod and logs
// every call with the GOFLAGS, GOWORK and GONOSUMDB it saw.
func pulumiCLIEnv(t *testing.T) (root, bin, log string) {
	t.Helper()
	root, bin = t.TempDir(), t.TempDir()
	log = filepath.Join(t.TempDir(), "go.log")
	for _, f := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(pulumiCLIModule, f))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(root, "infra", "delivery", "pulumi-cli", f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, dst, string(data))
	}
	script, err := os.ReadFile("pulumi-cli.sh")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "infra", "delivery", "scripts"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(root, "infra", "delivery", "scripts", "pulumi-cli.sh"), string(script))
	write(t, filepath.Join(bin, "go"), `#!/bin/bash
echo "go $* | GOFLAGS=$GOFLAGS GOWORK=$GOWORK GONOSUMDB=${GONOSUMDB-unset} pwd=$PWD" >> "`+log+`"
case "$1 $2" in
"list -m") awk -v m="${@: -1}" '$1 == m { print $2 }' go.mod ;;
"build -trimpath")
	while [[ $# -gt 0 && "$1" != -o ]]; do shift; done
	printf '#!/bin/sh\necho %s\n' "$FAKE_BUILT_VERSION" > "$2" && chmod +x "$2" ;;
esac
`)
	return root, bin, log
}

func runPulumiCLI(t *testing.T, root, bin string, env ...string) run {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(root, "infra", "delivery", "scripts", "pulumi-cli.sh"))
	cmd.Env = append([]string{"PATH=" + bin + ":/usr/bin:/bin", "HOME=" + t.TempDir(), "FAKE_BUILT_VERSION=v3.250.0"}, env...)
	return runCmd(t, cmd)
}

// TestPulumiCLIScriptBuildsThePinnedModule: the script builds in the committed
// module with -mod=readonly whatever the caller's GOFLAGS, outside any
// workspace and with GONOSUMDB unset, stamps the pinned version, and refuses a
// PULUMI_VERSION other than the pinned one.
func TestPulumiCLIScriptBuildsThePinnedModule(t *testing.T) {
	root, bin, log := pulumiCLIEnv(t)
	r := runPulumiCLI(t, root, bin, "GOFLAGS=-mod=mod -p=1", "GONOSUMDB=*", "GOWORK=/elsewhere/go.work")
	if r.code != 0 || !strings.Contains(r.out, "built v3.250.0") {
		t.Fatalf("exit %d\n%s", r.code, r.out)
	}
	calls, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	modDir := filepath.Join(root, "infra", "delivery", "pulumi-cli")
	var built bool
	for _, c := range strings.Split(strings.TrimSpace(string(calls)), "\n") {
		if !strings.Contains(c, "GOFLAGS=-p=1 -mod=readonly GOWORK=off GONOSUMDB=unset pwd="+modDir) {
			t.Errorf("go ran outside the pinned, read-only module: %s", c)
		}
		if strings.HasPrefix(c, "go mod tidy") || strings.HasPrefix(c, "go get") || strings.Contains(c, "-mod=mod") {
			t.Errorf("the script may change the pinned module: %s", c)
		}
		if strings.HasPrefix(c, "go build ") && strings.Contains(c, "version.Version=v3.250.0") &&
			strings.Contains(c, " github.com/pulumi/pulumi/pkg/v3/cmd/pulumi |") {
			built = true
		}
	}
	if !built {
		t.Errorf("no build of the CLI with the pinned version stamped in:\n%s", calls)
	}
	if _, err := os.Stat(filepath.Join(root, ".sluice", "bin", "pulumi")); err != nil {
		t.Fatal(err)
	}
	// Already built: nothing to do.
	if r := runPulumiCLI(t, root, bin); r.code != 0 || !strings.Contains(r.out, "already v3.250.0") {
		t.Errorf("second run: exit %d\n%s", r.code, r.out)
	}

	// A version other than the pinned one is refused before anything is built.
	root, bin, log = pulumiCLIEnv(t)
	expectFail(t, runPulumiCLI(t, root, bin, "PULUMI_VERSION=v3.251.0"), "pins v3.250.0; change the version there")
	if calls, _ := os.ReadFile(log); strings.Contains(string(calls), "go build") {
		t.Errorf("built although PULUMI_VERSION differed:\n%s", calls)
	}
	// A binary that reports another version is not installed.
	expectFail(t, runPulumiCLI(t, root, bin, "FAKE_BUILT_VERSION=v0.0.0"), "reports v0.0.0, want v3.250.0")
	if _, err := os.Stat(filepath.Join(root, ".sluice", "bin", "pulumi")); err == nil {
		t.Error("installed a CLI that reports the wrong version")
	}
}
