package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeAzure is a stand-in az (and kubectl) backed by files in its folder:
// primary and secondary (the account's keys), kv (the secret's value), and
// calls.log (every command line). regenerate writes a new key.
type fakeAzure struct {
	dir string
}

func newFakeAzure(t *testing.T, podsSwitched bool) *fakeAzure {
	t.Helper()
	f := &fakeAzure{dir: t.TempDir()}
	d := f.dir
	az := `#!/bin/bash
set -eu
D="` + d + `"
echo "az $*" >> "$D/calls.log"
args=" $* "
case "$args" in
*" cosmosdb keys list "*"--type read-only-keys "*)
  jq -n --arg p "$(cat "$D/primaryReadonly")" --arg s "$(cat "$D/secondaryReadonly")" \
    '{primaryReadonlyMasterKey: $p, secondaryReadonlyMasterKey: $s}' ;;
*" cosmosdb keys list "*"--type keys "*)
  jq -n --arg p "$(cat "$D/primary")" --arg s "$(cat "$D/secondary")" \
    '{primaryMasterKey: $p, secondaryMasterKey: $s}' ;;
*" keyvault secret show "*)
  jq -n --arg v "$(cat "$D/kv")" '{value: $v, contentType: "Cosmos DB key", tags: {project: "sluice", environment: "dev"}}' ;;
*" keyvault secret set "*)
  file=""; prev=""
  for a in "$@"; do [ "$prev" = "--file" ] && file="$a"; prev="$a"; done
  [ -n "$file" ] || { echo "no --file" >&2; exit 1; }
  cp "$file" "$D/kv" ;;
*" cosmosdb keys regenerate "*)
  kind=""; prev=""
  for a in "$@"; do [ "$prev" = "--key-kind" ] && kind="$a"; prev="$a"; done
  echo "regenerated-$kind-$RANDOM$RANDOM" > "$D/$kind.tmp"; tr -d '\n' < "$D/$kind.tmp" > "$D/$kind"; rm "$D/$kind.tmp" ;;
*) echo "unexpected az call: $*" >&2; exit 1 ;;
esac
`
	kubectl := `#!/bin/bash
set -eu
echo "kubectl $*" >> "` + d + `/calls.log"
case " $* " in
*" get pods "*)
  case " $* " in *"name=ingest "*) echo "ingest-a ingest-b" ;; *"name=api "*) echo "api-a" ;; esac ;;
*" logs "*)
  ` + map[bool]string{true: `echo '{"level":"INFO","msg":"cassandra password changed: new statements use a new session"}'`, false: `echo '{"level":"INFO","msg":"stored"}'`}[podsSwitched] + ` ;;
esac
`
	write(t, filepath.Join(d, "az"), az)
	write(t, filepath.Join(d, "kubectl"), kubectl)
	for name, v := range map[string]string{"primary": "key-p0", "secondary": "key-s0", "kv": "key-p0",
		"primaryReadonly": "ro-p0", "secondaryReadonly": "ro-s0"} {
		if err := os.WriteFile(filepath.Join(d, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fakeAzure) read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (f *fakeAzure) rotate(t *testing.T, args ...string) run {
	t.Helper()
	cmd := exec.Command("bash", append([]string{"rotate-cosmos-key.sh", "--resource-group", "rg-sluice-dev", "--account", "cosmos-sluice", "--vault", "kv-sluice"}, args...)...)
	cmd.Env = []string{"PATH=" + f.dir + ":/usr/bin:/bin", "HOME=" + t.TempDir(), "ROTATE_POLL_SECONDS=0"}
	return runCmd(t, cmd)
}

func TestRotateAlternatesKeys(t *testing.T) {
	f := newFakeAzure(t, true)
	r := f.rotate(t)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.out)
	}
	if kv := f.read(t, "kv"); kv != "key-s0" {
		t.Fatalf("after the first rotation Key Vault holds %q, want the secondary key", kv)
	}
	if p := f.read(t, "primary"); p == "key-p0" || !strings.HasPrefix(p, "regenerated-primary-") {
		t.Fatalf("the primary key was not regenerated: %q", p)
	}
	calls := f.read(t, "calls.log")
	set, regen := strings.Index(calls, "keyvault secret set"), strings.Index(calls, "cosmosdb keys regenerate")
	logs := strings.LastIndex(calls, "kubectl logs")
	if set < 0 || regen < 0 || logs < 0 || !(set < logs && logs < regen) {
		t.Fatalf("want: write the secret, check every pod, then regenerate; calls:\n%s", calls)
	}
	// The read-write key's long-running users: ingest and changefeed.
	for _, pod := range []string{"ingest-a", "ingest-b"} {
		if !strings.Contains(calls, "logs --namespace sluice "+pod) {
			t.Errorf("pod %s was not checked", pod)
		}
	}
	if !strings.Contains(calls, "name=changefeed") || strings.Contains(calls, "api-a") {
		t.Errorf("want the changefeed pods checked and the api's (read-only key) left alone:\n%s", calls)
	}
	if !strings.Contains(calls, "--tags project=sluice environment=dev") || !strings.Contains(calls, "--content-type Cosmos DB key") {
		t.Errorf("the secret lost its tags or content type:\n%s", calls)
	}
	// The next rotation goes back to the (new) primary key and regenerates
	// the secondary.
	newPrimary := f.read(t, "primary")
	if r := f.rotate(t); r.code != 0 {
		t.Fatalf("second rotation: exit %d\n%s", r.code, r.out)
	}
	if kv := f.read(t, "kv"); kv != newPrimary {
		t.Fatalf("after the second rotation Key Vault holds %q, want the new primary %q", kv, newPrimary)
	}
	if s := f.read(t, "secondary"); !strings.HasPrefix(s, "regenerated-secondary-") {
		t.Fatalf("the secondary key was not regenerated: %q", s)
	}
	// No key ever appears on a command line.
	all := f.read(t, "calls.log")
	for _, key := range []string{"key-p0", "key-s0", newPrimary, f.read(t, "secondary")} {
		if strings.Contains(all, key) {
			t.Errorf("key %q appeared on a command line", key)
		}
	}
}

func TestRotateStopsWhenPodsDoNotSwitch(t *testing.T) {
	f := newFakeAzure(t, false)
	r := f.rotate(t, "--timeout", "0")
	if r.code == 0 || !strings.Contains(r.out, "NOT regenerating the primary key") {
		t.Fatalf("want a refusal to regenerate, got exit %d:\n%s", r.code, r.out)
	}
	if strings.Contains(f.read(t, "calls.log"), "regenerate") || f.read(t, "primary") != "key-p0" {
		t.Fatal("a key was regenerated while pods still used it")
	}
}

func TestRotateRefusesAnUnknownSecret(t *testing.T) {
	f := newFakeAzure(t, true)
	if err := os.WriteFile(filepath.Join(f.dir, "kv"), []byte("stale"), 0o600); err != nil {
		t.Fatal(err)
	}
	expectFail(t, f.rotate(t), "holds neither key")
	if calls := f.read(t, "calls.log"); strings.Contains(calls, "secret set") || strings.Contains(calls, "regenerate") {
		t.Fatalf("changed something:\n%s", calls)
	}
	g := newFakeAzure(t, true)
	r := g.rotate(t, "--dry-run")
	if r.code != 0 || !strings.Contains(r.out, "moving them to the secondary key") {
		t.Fatalf("dry run: exit %d\n%s", r.code, r.out)
	}
	if calls := g.read(t, "calls.log"); strings.Contains(calls, "secret set") || strings.Contains(calls, "regenerate") {
		t.Fatalf("a dry run changed something:\n%s", calls)
	}
	h := newFakeAzure(t, true)
	cmd := exec.Command("bash", "rotate-cosmos-key.sh")
	cmd.Env = []string{"PATH=" + h.dir + ":/usr/bin:/bin", "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "say which account") {
		t.Fatalf("no account named: %v\n%s", err, out)
	}
}

// api and enrich read with the read-only key: its rotation moves that secret
// between the read-only keys, checks the api's pods, and leaves the
// read-write keys alone.
func TestRotateReadOnlyKey(t *testing.T) {
	f := newFakeAzure(t, true)
	if err := os.WriteFile(filepath.Join(f.dir, "kv"), []byte("ro-p0"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := f.rotate(t, "--key", "readonly")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.out)
	}
	if kv := f.read(t, "kv"); kv != "ro-s0" {
		t.Fatalf("Key Vault holds %q, want the secondary read-only key", kv)
	}
	if p := f.read(t, "primaryReadonly"); !strings.HasPrefix(p, "regenerated-primaryReadonly-") {
		t.Fatalf("the primary read-only key was not regenerated: %q", p)
	}
	if f.read(t, "primary") != "key-p0" || f.read(t, "secondary") != "key-s0" {
		t.Fatal("a read-write key changed")
	}
	calls := f.read(t, "calls.log")
	for _, want := range []string{"--type read-only-keys", "--name cosmos-cassandra-readonly-key", "logs --namespace sluice api-a"} {
		if !strings.Contains(calls, want) {
			t.Errorf("calls lack %q:\n%s", want, calls)
		}
	}
	if strings.Contains(calls, "ingest-a") {
		t.Errorf("the ingest pods (read-write key) were checked:\n%s", calls)
	}
	expectFail(t, f.rotate(t, "--key", "admin"), "want readwrite or readonly")
}
