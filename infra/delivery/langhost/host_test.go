//go:build integration

// These tests drive the real Pulumi CLI (make test builds it with make
// pulumi-cli) against a local file backend.

package langhost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/sluicehq/sluice/internal/modroot/roottest"
)

// cli is the Pulumi CLI the tests drive: $SLUICE_PULUMI, else the one
// `make pulumi-cli` builds (make test builds it first). A missing CLI fails
// the test: these tests are the only proof that the delivery path runs.
func cli(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SLUICE_PULUMI"); p != "" {
		return p
	}
	root := roottest.Root(t)
	p := filepath.Join(root, ".sluice", "bin", "pulumi")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no Pulumi CLI at %s (run `make pulumi-cli`, or set SLUICE_PULUMI): %v", p, err)
	}
	return p
}

// project is a Pulumi project in a temporary directory with a local file
// backend and a passphrase secrets provider: nothing leaves the machine.
type project struct {
	t   *testing.T
	cli string
	dir string
	env []string
}

func newProject(t *testing.T) *project {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte("name: langhosttest\nruntime: go\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := &project{t: t, cli: cli(t), dir: dir, env: []string{
		// No Go language host anywhere on PATH: the operation must use ours.
		"PATH=/usr/bin:/bin",
		"HOME=" + dir,
		"PULUMI_HOME=" + filepath.Join(dir, "home"),
		"PULUMI_BACKEND_URL=file://" + filepath.Join(dir, "state"),
		"PULUMI_CONFIG_PASSPHRASE=langhost-test",
		"PULUMI_SKIP_UPDATE_CHECK=true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true",
	}}
	p.pulumi("stack", "init", "dev", "--secrets-provider", "passphrase")
	p.pulumi("config", "set", "greeting", "hello", "--stack", "dev")
	return p
}

// pulumi runs a CLI command that needs no program and fails the test on error.
func (p *project) pulumi(args ...string) string {
	p.t.Helper()
	cmd := exec.Command(p.cli, append([]string{"--cwd", p.dir, "--non-interactive"}, args...)...)
	cmd.Env = p.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		p.t.Fatalf("pulumi %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// op runs an operation on program through Exec and returns its exit code and output.
func (p *project) op(program pulumi.RunFunc, plugins []Plugin, args ...string) (int, string) {
	p.t.Helper()
	var out bytes.Buffer
	code, err := Exec(context.Background(), program, plugins, Command{
		CLI:    p.cli,
		Args:   append([]string{"--cwd", p.dir, "--non-interactive", "--color", "never"}, args...),
		Env:    p.env,
		Stdout: &out,
		Stderr: &out,
	})
	if err != nil {
		p.t.Fatalf("exec %v: %v", args, err)
	}
	return code, out.String()
}

type thing struct{ pulumi.ResourceState }

const secretValue = "s3cr3t-langhost-value"

// program registers a component with a child, exports a config value and a
// secret, and with extra one more component.
func program(extra bool) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		var parent, child thing
		if err := ctx.RegisterComponentResource("sluicetest:index:Thing", "parent", &parent); err != nil {
			return err
		}
		if err := ctx.RegisterComponentResource("sluicetest:index:Thing", "child", &child, pulumi.Parent(&parent)); err != nil {
			return err
		}
		if extra {
			var more thing
			if err := ctx.RegisterComponentResource("sluicetest:index:Thing", "more", &more); err != nil {
				return err
			}
		}
		ctx.Export("greeting", pulumi.String(config.Require(ctx, "greeting")))
		ctx.Export("token", pulumi.ToSecret(pulumi.String(secretValue)))
		ctx.Export("dryRunSeen", pulumi.Bool(ctx.DryRun()))
		return nil
	}
}

func TestOperationsRunTheProgramWithoutTheGoLanguageHost(t *testing.T) {
	p := newProject(t)

	if code, out := p.op(program(false), nil, "up", "--yes", "--stack", "dev"); code != 0 {
		t.Fatalf("up exited %d:\n%s", code, out)
	}
	var outputs map[string]any
	if err := json.Unmarshal([]byte(p.pulumi("stack", "output", "--json", "--show-secrets", "--stack", "dev")), &outputs); err != nil {
		t.Fatal(err)
	}
	if outputs["greeting"] != "hello" || outputs["token"] != secretValue || outputs["dryRunSeen"] != false {
		t.Fatalf("outputs after up = %v, want the stack config's greeting, the secret and dryRunSeen=false", outputs)
	}
	state, err := os.ReadFile(filepath.Join(p.dir, "state", ".pulumi", "stacks", "langhosttest", "dev.json"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(state, []byte(secretValue)) {
		t.Fatal("the state file holds the secret output in plain text")
	}
	if !bytes.Contains(state, []byte("sluicetest:index:Thing::child")) {
		t.Fatalf("the state file has no child component:\n%s", state)
	}

	if code, out := p.op(program(false), nil, "preview", "--expect-no-changes", "--stack", "dev"); code != 0 {
		t.Fatalf("preview of the unchanged program exited %d:\n%s", code, out)
	}
	code, out := p.op(program(true), nil, "preview", "--expect-no-changes", "--stack", "dev")
	if code == 0 {
		t.Fatalf("preview with one more resource and --expect-no-changes exited 0:\n%s", out)
	}
	if !strings.Contains(out, "more") {
		t.Fatalf("preview does not name the new resource:\n%s", out)
	}

	if code, out := p.op(program(false), nil, "destroy", "--yes", "--stack", "dev"); code != 0 {
		t.Fatalf("destroy exited %d:\n%s", code, out)
	}
	var exported struct {
		Deployment struct {
			Resources []json.RawMessage `json:"resources"`
		} `json:"deployment"`
	}
	if err := json.Unmarshal([]byte(p.pulumi("stack", "export", "--stack", "dev")), &exported); err != nil {
		t.Fatal(err)
	}
	if n := len(exported.Deployment.Resources); n != 0 {
		t.Fatalf("%d resources left after destroy", n)
	}
}

func TestProgramErrorsFailTheOperation(t *testing.T) {
	p := newProject(t)
	failing := func(ctx *pulumi.Context) error { return errors.New("bad stack config: region is empty") }
	code, out := p.op(failing, nil, "preview", "--stack", "dev")
	if code == 0 || !strings.Contains(out, "bad stack config: region is empty") {
		t.Fatalf("preview of a failing program: exit %d, output:\n%s", code, out)
	}
	panicking := func(ctx *pulumi.Context) error { panic("nil map in component") }
	code, out = p.op(panicking, nil, "up", "--yes", "--stack", "dev")
	if code == 0 || !strings.Contains(out, "program panicked: nil map in component") {
		t.Fatalf("up of a panicking program: exit %d, output:\n%s", code, out)
	}
}

// The engine asks the language runtime which plugins the program needs and
// installs the missing ones before the program runs (best effort: a failed
// install only shows in its log, the registration fails later). Its log at
// level 7 names each package the runtime reported.
func TestRequiredPluginsReachTheCLI(t *testing.T) {
	p := newProject(t)
	plugins := []Plugin{{Name: "sluicetestprovider", Version: "v0.0.1"}}
	code, out := p.op(program(false), plugins, "--logtostderr", "-v=7", "preview", "--stack", "dev")
	if code != 0 {
		t.Fatalf("preview exited %d:\n%s", code, out)
	}
	if !strings.Contains(out, "package sluicetestprovider") || !strings.Contains(out, "is required by language host") {
		t.Fatalf("the engine never learnt the program's required plugin:\n%s", lastLines(out, 40))
	}
	_, out = p.op(program(false), nil, "--logtostderr", "-v=7", "preview", "--stack", "dev")
	if strings.Contains(out, "sluicetestprovider") {
		t.Fatal("a program without plugins reported sluicetestprovider")
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
