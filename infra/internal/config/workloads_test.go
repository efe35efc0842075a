package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBadWorkloadSettings(t *testing.T) {
	digest := strings.Repeat("ab", 32)
	cases := []struct {
		name      string
		stack     string
		overrides map[string]string
		want      string
	}{
		{"image by tag", "dev", map[string]string{"imageIngest": "sluice.azurecr.io/ingest:1.0"}, "sluice:imageIngest \"sluice.azurecr.io/ingest:1.0\" is not an image pinned by digest"},
		{"image without registry", "dev", map[string]string{"imageApi": "api@sha256:" + digest}, "sluice:imageApi"},
		{"short digest", "dev", map[string]string{"imageMigrate": "sha256:abc"}, "sluice:imageMigrate"},
		{"ingest beyond partitions", "staging", map[string]string{"ingestMaxReplicas": "9"}, "sluice:ingestMaxReplicas is 9; it must be between sluice:ingestMinReplicas (1) and the events hub's partitions (sluice:eventHubsPartitions = 8)"},
		{"ingest max below min", "dev", map[string]string{"ingestMinReplicas": "2", "ingestMaxReplicas": "1"}, "sluice:ingestMaxReplicas is 1"},
		{"no ingest replica", "dev", map[string]string{"ingestMinReplicas": "0"}, "sluice:ingestMinReplicas is 0"},
		{"lag threshold", "dev", map[string]string{"ingestLagThreshold": "0"}, "sluice:ingestLagThreshold is 0"},
		{"api max below min", "staging", map[string]string{"apiMaxReplicas": "1"}, "sluice:apiMaxReplicas is 1"},
		{"single api replica across zones", "prod", map[string]string{"apiMinReplicas": "1"}, "sluice:apiMinReplicas is 1 while zones are configured"},
		{"single changefeed across zones", "prod", map[string]string{"changefeedReplicas": "1"}, "sluice:changefeedReplicas is 1 while zones are configured"},
		{"cron with six fields", "dev", map[string]string{"enrichSchedule": "0 5 * * * *"}, "not a 5-field cron schedule"},
		{"cron field", "dev", map[string]string{"enrichSchedule": "5 * * * mon"}, `field "mon" is not a cron field`},
		{"bad key hash", "dev", map[string]string{"apiCredentialHashes": `["not-a-hash"]`}, `sluice:apiCredentialHashes contains "not-a-hash"`},
		{"interactive login", "dev", map[string]string{"kubeLoginMode": "devicecode"}, "sluice:kubeLoginMode"},
		{"seed switch not a boolean", "dev", map[string]string{"seedReferenceData": "sometimes"}, `sluice:seedReferenceData must be true or false, got "sometimes"`},
	}
	for _, c := range cases {
		_, err := load(c.stack, values(t, c.stack, c.overrides))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
		}
	}
}

func TestImageReferences(t *testing.T) {
	digest := strings.Repeat("0f", 32)
	for _, ok := range []string{
		"acrsluice.azurecr.io/ingest@sha256:" + digest,
		"acrsluice.azurecr.io/sluice/ingest@sha256:" + digest,
		"127.0.0.1:5000/ingest@sha256:" + digest,
		"localhost:5000/ingest@sha256:" + digest,
	} {
		if !IsDigestRef(ok) {
			t.Errorf("%s rejected", ok)
		}
	}
	for _, bad := range []string{
		"ingest@sha256:" + digest,
		"acrsluice.azurecr.io/ingest:latest",
		"acrsluice.azurecr.io/ingest@sha256:" + digest[:60],
		"acrsluice.azurecr.io/Ingest@sha256:" + digest,
		"acrsluice.azurecr.io/ingest:1@sha256:" + digest,
		"sha256:" + digest,
	} {
		if IsDigestRef(bad) {
			t.Errorf("%s accepted as a full digest reference", bad)
		}
	}
	if !IsBareDigest("sha256:"+digest) || IsBareDigest("sha256:"+strings.ToUpper(digest)) {
		t.Error("bare digest check is wrong")
	}
}

func TestImagesFileAndReadiness(t *testing.T) {
	c, err := load("dev", values(t, "dev", nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WorkloadsReady(); err != nil {
		t.Fatalf("dev stack is not deployable: %v", err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "digests.json")
	ref := "sluiceci.azurecr.io/api@sha256:" + strings.Repeat("1", 64)
	if err := os.WriteFile(file, []byte(`{"api": "`+ref+`"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ingestBefore := c.Workloads.Images["ingest"]
	if err := ApplyImagesFile(c, file); err != nil {
		t.Fatal(err)
	}
	if c.Workloads.Images["api"] != ref || c.Workloads.Images["ingest"] != ingestBefore {
		t.Errorf("images after the file: %v", c.Workloads.Images)
	}
	if err := ApplyImagesFile(c, filepath.Join(dir, "missing.json")); err == nil {
		t.Error("a missing images file was accepted")
	}

	defaults := values(t, "dev", map[string]string{"imageEnrich": "", "apiCredentialHashes": "[]"})
	d, err := load("dev", defaults)
	if err != nil {
		t.Fatal(err)
	}
	err = d.WorkloadsReady()
	if err == nil || !strings.Contains(err.Error(), "no image for enrich") || !strings.Contains(err.Error(), "apiCredentialHashes is empty") ||
		strings.Contains(err.Error(), "no image for ingest") {
		t.Errorf("readiness of a stack without enrich image and keys: %v", err)
	}
	for _, w := range ImageWorkloads {
		if _, ok := Keys()[ImageKey(w)]; !ok {
			t.Errorf("the program does not read %s", ImageKey(w))
		}
	}
}
