package scripts

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const (
	digestA   = "sha256:" + "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
	digestB   = "sha256:" + "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"
	buildID   = "/subscriptions/s/resourceGroups/sluice-state/providers/Microsoft.ContainerRegistry/registries/sluicebuild1"
	targetACR = "acrsluiceprod.azurecr.io"
)

func promote(t *testing.T, digests string) (run, string, string) {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "calls.log")
	write(t, filepath.Join(dir, "az"), "#!/bin/sh\necho \"az $*\" >> "+log+"\n")
	file := filepath.Join(dir, "digests.json")
	if err := os.WriteFile(file, []byte(digests), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "promote-images.sh", file, buildID, targetACR)
	cmd.Env = []string{"PATH=" + dir + ":/usr/bin:/bin", "HOME=" + dir}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	calls, _ := os.ReadFile(log)
	return run{out: stderr.String(), code: code}, stdout.String(), string(calls)
}

func TestPromoteImportsByDigest(t *testing.T) {
	r, out, calls := promote(t, `{"ingest":"sluicebuild1.azurecr.io/ingest:1.2.3@`+digestA+`","api":"sluicebuild1.azurecr.io/api@`+digestB+`"}`)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.out)
	}
	for _, want := range []string{
		"az acr import --name acrsluiceprod --registry " + buildID + " --source ingest@" + digestA,
		"az acr import --name acrsluiceprod --registry " + buildID + " --source api@" + digestB,
	} {
		if !strings.Contains(calls, want) {
			t.Errorf("missing %q in\n%s", want, calls)
		}
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if got["ingest"] != targetACR+"/ingest@"+digestA || got["api"] != targetACR+"/api@"+digestB {
		t.Fatalf("stack digests %v: want the same digests under %s", got, targetACR)
	}
}

func TestPromoteRefusesTags(t *testing.T) {
	r, _, calls := promote(t, `{"ingest":"sluicebuild1.azurecr.io/ingest:latest"}`)
	if r.code == 0 || !strings.Contains(r.out, "must map every image") || calls != "" {
		t.Fatalf("a tag-only image was promoted: exit %d\n%s\n%s", r.code, r.out, calls)
	}
}
