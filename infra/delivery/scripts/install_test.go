package scripts

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// installEnv is a sandbox for an install script: a copy of the repository's
// scripts under a fake root (so .sluice/bin lands in a temp dir), a fake curl
// that serves files from a directory, and a pinned-sums file.
type installEnv struct {
	root, serve, sums, bin string
}

func newInstallEnv(t *testing.T) *installEnv {
	t.Helper()
	e := &installEnv{root: t.TempDir(), serve: t.TempDir(), bin: t.TempDir()}
	dst := filepath.Join(e.root, "infra", "delivery", "scripts")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"install-tool.sh", "install-pulumi.sh", "install-kubelogin.sh"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dst, f), string(data))
	}
	e.sums = filepath.Join(e.root, "sums")
	// curl -fsSL --retry 3 -o DEST URL: copy <serve>/<last path element of URL>.
	write(t, filepath.Join(e.bin, "curl"), `#!/bin/sh
out=""; url=""
while [ $# -gt 0 ]; do case "$1" in -o) out="$2"; shift 2 ;; -*) shift ;; *) url="$1"; shift ;; esac; done
echo "$url" >> "`+e.serve+`/requests.log"
cp "`+e.serve+`/$(basename "$url")" "$out"
`)
	return e
}

func (e *installEnv) pin(t *testing.T, lines ...string) {
	t.Helper()
	if err := os.WriteFile(e.sums, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (e *installEnv) run(t *testing.T, script string, env ...string) run {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(e.root, "infra", "delivery", "scripts", script))
	cmd.Env = append([]string{"PATH=" + e.bin + ":/usr/bin:/bin", "HOME=" + t.TempDir(), "SLUICE_TOOL_SUMS=" + e.sums,
		"PULUMI_DOWNLOAD_BASE=https://releases.invalid/sdk", "KUBELOGIN_DOWNLOAD_BASE=https://releases.invalid/kubelogin"}, env...)
	return runCmd(t, cmd)
}

func sum(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

func kubeloginPlatform() string {
	return map[string]string{"amd64": "linux-amd64", "arm64": "linux-arm64"}[runtime.GOARCH]
}

// kubeloginZip serves a release-shaped zip with a stand-in binary.
func (e *installEnv) kubeloginZip(t *testing.T, platform string) string {
	t.Helper()
	path := filepath.Join(e.serve, "kubelogin-"+platform+".zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	z := zip.NewWriter(f)
	w, err := z.Create("bin/" + strings.Replace(platform, "-", "_", 1) + "/kubelogin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("#!/bin/sh\necho kubelogin version v0.2.20\n")); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return sum(t, path)
}

func TestKubeloginInstallChecksPinnedSum(t *testing.T) {
	if runtime.GOOS != "linux" || kubeloginPlatform() == "" {
		t.Fatalf("the install test fakes a linux release; this is %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	if _, err := exec.LookPath("unzip"); err != nil {
		t.Fatal("unzip is needed by install-kubelogin.sh and its test")
	}
	p := kubeloginPlatform()
	e := newInstallEnv(t)
	good := e.kubeloginZip(t, p)

	// No pinned line: refuse, download nothing.
	e.pin(t, "kubelogin 0.2.19 "+p+" "+good)
	expectFail(t, e.run(t, "install-kubelogin.sh"), "no SHA-256 pinned for kubelogin 0.2.20 "+p)
	if _, err := os.Stat(filepath.Join(e.serve, "requests.log")); err == nil {
		t.Error("downloaded although no digest was pinned")
	}
	// A wrong digest: refuse and install nothing.
	e.pin(t, "kubelogin 0.2.20 "+p+" "+strings.Repeat("0", 64))
	expectFail(t, e.run(t, "install-kubelogin.sh"), "checksum mismatch for kubelogin 0.2.20 "+p)
	if _, err := os.Stat(filepath.Join(e.root, ".sluice", "bin", "kubelogin")); err == nil {
		t.Fatal("installed a binary whose digest did not match")
	}
	// The pinned digest: installed.
	e.pin(t, "kubelogin 0.2.20 "+p+" "+good)
	if r := e.run(t, "install-kubelogin.sh"); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.out)
	}
	if _, err := os.Stat(filepath.Join(e.root, ".sluice", "bin", "kubelogin")); err != nil {
		t.Fatal(err)
	}
	reqs, _ := os.ReadFile(filepath.Join(e.serve, "requests.log"))
	if strings.Contains(string(reqs), "sha256") || strings.Contains(string(reqs), "checksums") {
		t.Errorf("fetched a digest from the download server: %s", reqs)
	}
}

func TestPulumiInstallFailsClosedWithoutPinnedSum(t *testing.T) {
	e := newInstallEnv(t)
	e.pin(t, "# nothing pinned")
	r := e.run(t, "install-pulumi.sh")
	expectFail(t, r, "no SHA-256 pinned for pulumi 3.250.0")
	expectFail(t, r, "refusing to install an unverified download")
	expectFail(t, r, "'make pulumi-cli' builds the CLI from")
	if _, err := os.Stat(filepath.Join(e.serve, "requests.log")); err == nil {
		t.Error("downloaded although no digest was pinned")
	}
	// A malformed pin is refused too.
	e.pin(t, "pulumi 3.250.0 linux-x64 abc", "pulumi 3.250.0 linux-arm64 abc")
	expectFail(t, e.run(t, "install-pulumi.sh"), "malformed")
}

func TestPulumiInstallChecksPinnedSum(t *testing.T) {
	platform := map[string]string{"amd64": "linux-x64", "arm64": "linux-arm64"}[runtime.GOARCH]
	if runtime.GOOS != "linux" || platform == "" {
		t.Fatalf("the install test fakes a linux release; this is %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	e := newInstallEnv(t)
	src := filepath.Join(t.TempDir(), "pulumi")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(src, "pulumi"), "#!/bin/sh\necho v3.250.0\n")
	write(t, filepath.Join(src, "pulumi-language-go"), "#!/bin/sh\n")
	archive := filepath.Join(e.serve, "pulumi-v3.250.0-"+platform+".tar.gz")
	if out, err := exec.Command("tar", "-czf", archive, "-C", filepath.Dir(src), "pulumi").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	e.pin(t, "pulumi 3.250.0 "+platform+" "+strings.Repeat("a", 64))
	expectFail(t, e.run(t, "install-pulumi.sh"), "checksum mismatch")
	e.pin(t, "pulumi 3.250.0 "+platform+" "+sum(t, archive))
	if r := e.run(t, "install-pulumi.sh"); r.code != 0 || !strings.Contains(r.out, "installed v3.250.0") {
		t.Fatalf("exit %d\n%s", r.code, r.out)
	}
}

// The committed pins are well formed and name only published releases' files.
func TestPinnedSumsFile(t *testing.T) {
	data, err := os.ReadFile("../tools.sha256")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 4 || len(f[3]) != 64 || strings.Trim(f[3], "0123456789abcdef") != "" {
			t.Errorf("tools.sha256:%d: %q is not '<tool> <version> <platform> <sha256>'", i+1, line)
		}
		n++
	}
	if n == 0 {
		t.Error("tools.sha256 pins nothing")
	}
}
