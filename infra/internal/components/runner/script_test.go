package runner

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeCloud plays IMDS, Key Vault and the GitHub API on loopback. GitHub
// checks the app JWT's RS256 signature against the app's public key, as the
// real one does, so a token the script signs wrongly is refused.
type fakeCloud struct {
	t        *testing.T
	srv      *httptest.Server
	appKey   *rsa.PrivateKey // the app's key: GitHub knows its public half
	vaultPEM []byte          // what the Key Vault secret holds
	tarball  []byte
}

func newFakeCloud(t *testing.T) *fakeCloud {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeCloud{t: t, appKey: key, vaultPEM: pemOf(key), tarball: runnerTarball(t)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metadata/identity/oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Metadata") != "true" || r.URL.Query().Get("resource") != "https://vault.azure.net" {
			http.Error(w, "bad IMDS request", http.StatusBadRequest)
			return
		}
		writeJSON(w, map[string]string{"access_token": "vault-token"})
	})
	mux.HandleFunc("GET /secrets/"+KeySecretName, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer vault-token" || r.URL.Query().Get("api-version") == "" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		app, _ := json.Marshal(map[string]string{"appId": "123", "installationId": "42", "privateKey": string(f.vaultPEM)})
		writeJSON(w, map[string]string{"value": string(app)})
	})
	mux.HandleFunc("POST /app/installations/42/access_tokens", func(w http.ResponseWriter, r *http.Request) {
		if err := f.checkJWT(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")); err != "" {
			http.Error(w, err, http.StatusUnauthorized)
			return
		}
		writeJSON(w, map[string]string{"token": "installation-token"})
	})
	mux.HandleFunc("POST /repos/acme/sluice/actions/runners/registration-token", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer installation-token" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		writeJSON(w, map[string]string{"token": "registration-token"})
	})
	mux.HandleFunc("GET /runner.tar.gz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(f.tarball) })
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeCloud) checkJWT(jwt string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "not a JWT"
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "signature is not base64url"
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&f.appKey.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return "bad signature"
	}
	var head struct{ Alg string }
	var claims struct {
		Iat, Exp int64
		Iss      string
	}
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	c, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(h, &head) != nil || json.Unmarshal(c, &claims) != nil {
		return "unreadable JWT"
	}
	now := time.Now().Unix()
	if head.Alg != "RS256" || claims.Iss != "123" || claims.Iat > now || claims.Exp <= now || claims.Exp-claims.Iat > 600 {
		return "bad claims"
	}
	return ""
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func pemOf(key *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

// runnerTarball is a stand-in runner release: config.sh and run.sh log their
// arguments to $RUNNER_DIR/calls.log.
func runnerTarball(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, name := range []string{"config.sh", "run.sh"} {
		body := "#!/bin/sh\necho \"" + name + " $*\" >> \"$(dirname \"$0\")/calls.log\"\n"
		if err := tw.WriteHeader(&tar.Header{Name: "./" + name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// script runs runner.sh with args and the settings cloud-init would write.
func (f *fakeCloud) script(t *testing.T, dir string, extra map[string]string, args ...string) (string, error) {
	t.Helper()
	sum := sha256.Sum256(f.tarball)
	env := map[string]string{
		"PATH":                "/usr/bin:/bin",
		"RUNNER_DIR":          dir,
		"RUNNER_VERSION":      RunnerVersion,
		"RUNNER_SHA256":       hex.EncodeToString(sum[:]),
		"RUNNER_DOWNLOAD_URL": f.srv.URL + "/runner.tar.gz",
		"RUNNER_REPOSITORY":   "acme/sluice",
		"RUNNER_LABELS":       "sluice-prod",
		"KEY_SECRET_URI":      f.srv.URL + "/secrets/" + KeySecretName,
		"IMDS_URL":            f.srv.URL,
		"GITHUB_API_URL":      f.srv.URL,
		"GITHUB_URL":          "https://github.example",
		"RUNNER_ONCE":         "1",
	}
	for k, v := range extra {
		env[k] = v
	}
	cmd := exec.Command("bash", append([]string{"runner.sh"}, args...)...)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func calls(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "calls.log"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(data)
}

func TestRunnerInstallsThePinnedReleaseAndRegistersEphemerally(t *testing.T) {
	f := newFakeCloud(t)
	dir := t.TempDir()
	if out, err := f.script(t, dir, nil, "install"); err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	out, err := f.script(t, dir, nil)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	got := calls(t, dir)
	for _, want := range []string{
		"config.sh --unattended --ephemeral --replace --url https://github.example/acme/sluice --token registration-token",
		"--labels sluice-prod --work _work",
		"run.sh",
	} {
		if !strings.Contains(got, want) {
			t.Fatalf("runner calls lack %q:\n%s\nscript output:\n%s", want, got, out)
		}
	}
	if strings.Index(got, "config.sh") > strings.Index(got, "run.sh") {
		t.Fatalf("run.sh before config.sh:\n%s", got)
	}
	leftovers, _ := filepath.Glob(filepath.Join(os.TempDir(), "tmp.*"))
	for _, l := range leftovers {
		if data, err := os.ReadFile(l); err == nil && bytes.Contains(data, []byte("PRIVATE KEY")) {
			t.Fatalf("the app key was left on disk in %s", l)
		}
	}
}

func TestRunnerRefusesAReleaseWithAnotherDigest(t *testing.T) {
	f := newFakeCloud(t)
	dir := t.TempDir()
	out, err := f.script(t, dir, map[string]string{"RUNNER_SHA256": strings.Repeat("0", 64)}, "install")
	if err == nil || !strings.Contains(out, "refusing it") {
		t.Fatalf("install with a wrong digest: err %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "config.sh")); err == nil {
		t.Fatal("the unverified release was unpacked")
	}
}

func TestRunnerDoesNotRegisterWithTheWrongKey(t *testing.T) {
	f := newFakeCloud(t)
	dir := t.TempDir()
	if out, err := f.script(t, dir, nil, "install"); err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f.vaultPEM = pemOf(other) // a key that is not the app's
	out, err := f.script(t, dir, nil)
	if err == nil || !strings.Contains(out, "GitHub refused the app token") {
		t.Fatalf("run with the wrong key: err %v\n%s", err, out)
	}
	if got := calls(t, dir); got != "" {
		t.Fatalf("the runner was configured anyway:\n%s", got)
	}
	f.vaultPEM = []byte("not a key")
	out, err = f.script(t, dir, nil)
	if err == nil || !strings.Contains(out, "privateKey a PEM private key") {
		t.Fatalf("run with a malformed key: err %v\n%s", err, out)
	}
}

func TestRunnerNamesAMissingSetting(t *testing.T) {
	f := newFakeCloud(t)
	out, err := f.script(t, t.TempDir(), map[string]string{"RUNNER_LABELS": ""})
	if err == nil || !strings.Contains(out, "RUNNER_LABELS is not set") {
		t.Fatalf("err %v\n%s", err, out)
	}
}
