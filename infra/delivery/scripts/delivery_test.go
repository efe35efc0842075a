package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/modroot/roottest"
)

// fakeClient is what the stand-in program host adds, as the real one adds
// --client=<its address>.
const fakeClient = " --client=127.0.0.1:1"

// fakeBin makes a directory with a stand-in pulumi that appends its arguments to
// args.log and answers `config get sluice:protect` with $FAKE_PROTECTED and
// `stack tag get sluice:protected` with $FAKE_TAG_PROTECTED, and a stand-in
// program host that runs the command after its "--" with fakeClient added.
func fakeBin(t *testing.T) (dir, log string) {
	t.Helper()
	dir = t.TempDir()
	log = filepath.Join(dir, "args.log")
	pulumi := `#!/bin/sh
echo "$*" >> "` + log + `"
case "$*" in
*"config get sluice:protect "*) [ -n "$FAKE_PROTECTED" ] && echo "$FAKE_PROTECTED" && exit 0; exit 1 ;;
*"stack tag get sluice:protected"*) [ -n "$FAKE_TAG_PROTECTED" ] && echo "$FAKE_TAG_PROTECTED" && exit 0; exit 1 ;;
esac
exit 0
`
	write(t, filepath.Join(dir, "pulumi"), pulumi)
	fakeHost(t, dir)
	// An az that is not logged in, so a machine's real Azure CLI never leaks in.
	write(t, filepath.Join(dir, "az"), "#!/bin/sh\nexit 1\n")
	return dir, log
}

// fakeHost writes dir/programhost, a stand-in program host that runs the
// command after its "--" with fakeClient added.
func fakeHost(t *testing.T, dir string) {
	t.Helper()
	write(t, filepath.Join(dir, "programhost"), "#!/bin/sh\n[ \"$1\" = -- ] || exit 9\nshift\nexec \"$@\""+fakeClient+"\n")
}

// withGo is an environment whose PATH has bin, the go command and the base
// system, with this machine's Go caches: for scripts that run go.
func withGo(t *testing.T, bin string) []string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + bin + ":" + filepath.Dir(goBin) + ":/usr/bin:/bin", "HOME=" + os.Getenv("HOME")}
	for _, v := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOFLAGS"} {
		if out, err := exec.Command("go", "env", v).Output(); err == nil {
			env = append(env, v+"="+strings.TrimSpace(string(out)))
		}
	}
	return env
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

type run struct {
	out  string
	code int
}

// runCmd runs cmd and returns its combined output and exit code; a command
// that cannot start at all fails the test.
func runCmd(t *testing.T, cmd *exec.Cmd) run {
	t.Helper()
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", cmd.Args, err)
	}
	return run{out: string(out), code: code}
}

// deliver runs delivery.sh with exactly the given environment (plus PATH and HOME).
func deliver(t *testing.T, bin, action string, env map[string]string) run {
	t.Helper()
	cmd := exec.Command("bash", "delivery.sh", action)
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return runCmd(t, cmd)
}

func oidcEnv(bin string, extra map[string]string) map[string]string {
	env := map[string]string{
		"PULUMI":                         filepath.Join(bin, "pulumi"),
		"SLUICE_PROGRAMHOST":             filepath.Join(bin, "programhost"),
		"PULUMI_BACKEND_URL":             "azblob://state?storage_account=x",
		"ARM_USE_OIDC":                   "true",
		"ARM_CLIENT_ID":                  "c",
		"ARM_TENANT_ID":                  "t",
		"ARM_SUBSCRIPTION_ID":            "s",
		"ACTIONS_ID_TOKEN_REQUEST_URL":   "https://token.invalid",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "x",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func lastArgs(t *testing.T, log string) string {
	t.Helper()
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatalf("pulumi was not run: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return lines[len(lines)-1]
}

func expectFail(t *testing.T, r run, want string) {
	t.Helper()
	if r.code == 0 || !strings.Contains(r.out, want) {
		t.Fatalf("want failure mentioning %q, got exit %d:\n%s", want, r.code, r.out)
	}
}

func TestStackRequired(t *testing.T) {
	bin, _ := fakeBin(t)
	expectFail(t, deliver(t, bin, "preview", oidcEnv(bin, nil)), "STACK is required: make preview STACK=<name>")
	expectFail(t, deliver(t, bin, "preview", oidcEnv(bin, map[string]string{"STACK": "-rf"})), "not a valid stack name")
	expectFail(t, deliver(t, bin, "apply", oidcEnv(bin, map[string]string{"STACK": "dev"})), "usage")
}

func TestMissingCLI(t *testing.T) {
	bin, _ := fakeBin(t)
	expectFail(t, deliver(t, bin, "preview", oidcEnv(bin, map[string]string{"STACK": "dev", "PULUMI": "/nonexistent/pulumi"})),
		"is not an executable")
}

// Every operation runs through the program host; the commands around it
// (stack select, config get) go to the CLI directly.
func TestOperationsGoThroughTheProgramHost(t *testing.T) {
	bin, log := fakeBin(t)
	for _, action := range []string{"preview", "up", "destroy", "refresh"} {
		r := deliver(t, bin, action, oidcEnv(bin, map[string]string{"STACK": "dev", "CREATE": "1", "FAKE_PROTECTED": "false"}))
		if r.code != 0 {
			t.Fatalf("%s: exit %d\n%s", action, r.code, r.out)
		}
		if got := lastArgs(t, log); !strings.Contains(got, " "+action+" --stack=dev") || !strings.HasSuffix(got, fakeClient) {
			t.Fatalf("%s: args %q, want the operation through the program host", action, got)
		}
	}
	data, _ := os.ReadFile(log)
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if (strings.Contains(line, "stack select") || strings.Contains(line, "config get")) && strings.Contains(line, "--client") {
			t.Fatalf("a command that runs no program went through the host: %q", line)
		}
	}
}

func TestMissingProgramHost(t *testing.T) {
	bin, _ := fakeBin(t)
	// No SLUICE_PROGRAMHOST and no go on PATH: it cannot be built.
	env := oidcEnv(bin, map[string]string{"STACK": "dev", "GO": "/nonexistent/go"})
	delete(env, "SLUICE_PROGRAMHOST")
	expectFail(t, deliver(t, bin, "preview", env), "cannot build the program host")
	expectFail(t, deliver(t, bin, "up", oidcEnv(bin, map[string]string{"STACK": "dev", "SLUICE_PROGRAMHOST": "/nonexistent/host"})),
		"is not an executable")
}

func TestBackendLogin(t *testing.T) {
	bin, _ := fakeBin(t)
	env := oidcEnv(bin, map[string]string{"STACK": "dev"})
	delete(env, "PULUMI_BACKEND_URL")
	expectFail(t, deliver(t, bin, "preview", env), "not logged in to a Pulumi backend")
}

func TestAzureCredentials(t *testing.T) {
	bin, _ := fakeBin(t)
	env := oidcEnv(bin, map[string]string{"STACK": "dev"})
	delete(env, "ARM_TENANT_ID")
	expectFail(t, deliver(t, bin, "preview", env), "ARM_USE_OIDC=true but missing: ARM_TENANT_ID")

	env = oidcEnv(bin, map[string]string{"STACK": "dev"})
	delete(env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	expectFail(t, deliver(t, bin, "preview", env), "id-token: write")

	env = map[string]string{"STACK": "dev", "PULUMI": filepath.Join(bin, "pulumi"), "PULUMI_BACKEND_URL": "file:///tmp/x"}
	expectFail(t, deliver(t, bin, "preview", env), "run 'az login'")

	env["ARM_CLIENT_ID"] = "c"
	expectFail(t, deliver(t, bin, "preview", env), "missing: ARM_TENANT_ID ARM_SUBSCRIPTION_ID ARM_CLIENT_SECRET")
}

func TestCommandLine(t *testing.T) {
	bin, log := fakeBin(t)
	root := roottest.Root(t)
	r := deliver(t, bin, "preview", oidcEnv(bin, map[string]string{"STACK": "staging", "ARGS": "--refresh --expect-no-changes"}))
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.out)
	}
	if got, want := lastArgs(t, log), "--cwd "+root+" preview --stack=staging --diff --refresh --expect-no-changes"+fakeClient; got != want {
		t.Fatalf("args\n got %q\nwant %q", got, want)
	}

	r = deliver(t, bin, "up", oidcEnv(bin, map[string]string{"STACK": "dev", "CI": "true", "CREATE": "1",
		"PULUMI_SECRETS_PROVIDER": "azurekeyvault://kv.vault.azure.net/keys/k"}))
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.out)
	}
	data, _ := os.ReadFile(log)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	ci := "--cwd " + root + " --non-interactive --color never "
	if got, want := lines[len(lines)-2], ci+"stack select --create --stack=dev --secrets-provider azurekeyvault://kv.vault.azure.net/keys/k"; got != want {
		t.Fatalf("create\n got %q\nwant %q", got, want)
	}
	if got, want := lines[len(lines)-1], ci+"up --stack=dev --yes --diff"+fakeClient; got != want {
		t.Fatalf("up\n got %q\nwant %q", got, want)
	}
}

func TestDestroyGuards(t *testing.T) {
	bin, log := fakeBin(t)
	for _, stack := range []string{"prod", "staging", "org/sluice/prod"} {
		expectFail(t, deliver(t, bin, "destroy", oidcEnv(bin, map[string]string{"STACK": stack})),
			"set CONFIRM_DESTROY="+stack)
		// Confirming another stack's name is not a confirmation.
		expectFail(t, deliver(t, bin, "destroy", oidcEnv(bin, map[string]string{"STACK": stack, "CONFIRM_DESTROY": "dev"})),
			"refusing to destroy long-lived stack")
	}
	r := deliver(t, bin, "destroy", oidcEnv(bin, map[string]string{"STACK": "prod", "CONFIRM_DESTROY": "prod", "CI": "true"}))
	if r.code != 0 || !strings.HasSuffix(lastArgs(t, log), "destroy --stack=prod --yes"+fakeClient) {
		t.Fatalf("confirmed destroy: exit %d, args %q\n%s", r.code, lastArgs(t, log), r.out)
	}
	// Protected stacks are refused whatever the confirmation.
	for _, stack := range []string{"prod", "dev"} {
		expectFail(t, deliver(t, bin, "destroy", oidcEnv(bin, map[string]string{
			"STACK": stack, "CONFIRM_DESTROY": stack, "FAKE_PROTECTED": "True"})), "it is protected")
	}
	// The tag protects even when the config says false.
	expectFail(t, deliver(t, bin, "destroy", oidcEnv(bin, map[string]string{
		"STACK": "dev", "FAKE_PROTECTED": "false", "FAKE_TAG_PROTECTED": "true"})), "it is protected")
	r = deliver(t, bin, "destroy", oidcEnv(bin, map[string]string{"STACK": "review-pr3", "REMOVE": "1", "FAKE_PROTECTED": "false"}))
	if r.code != 0 || !strings.HasSuffix(lastArgs(t, log), "destroy --stack=review-pr3 --remove"+fakeClient) {
		t.Fatalf("review destroy: exit %d, args %q\n%s", r.code, lastArgs(t, log), r.out)
	}
}

// `delivery.sh host` prints the program binary to run operations through:
// the one named (stack-up.sh builds it once for its three operations), or
// a clear error.
func TestHostAction(t *testing.T) {
	bin, _ := fakeBin(t)
	r := deliver(t, bin, "host", map[string]string{"SLUICE_PROGRAMHOST": filepath.Join(bin, "programhost")})
	if r.code != 0 || strings.TrimSpace(r.out) != filepath.Join(bin, "programhost") {
		t.Fatalf("host: exit %d, %q", r.code, r.out)
	}
	expectFail(t, deliver(t, bin, "host", map[string]string{"GO": "/nonexistent/go"}), "cannot build the program host")
}
