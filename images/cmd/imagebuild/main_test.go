package main

import (
	"github.com/sluicehq/sluice/images/imagestest"

	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

var pinned = "apache/spark:3.5.7-scala2.12-java17-ubuntu@sha256:" + strings.Repeat("a", 64)

func TestCheckStream(t *testing.T) {
	for _, c := range []struct {
		workloads []string
		base      string
		skipped   bool
		err       string
	}{
		{nil, "", true, ""},
		{[]string{"api"}, "", false, ""},
		{[]string{"api", "stream"}, "", false, "needs its base: set SPARK_BASE_IMAGE=apache/spark:3.5.7-scala2.12-java17-ubuntu@sha256:<digest>"},
		{nil, pinned, false, ""},
		{[]string{"stream"}, pinned, false, ""},
		{nil, "apache/spark:3.5.7-scala2.12-java17-ubuntu", false, "not pinned by digest"},
		{[]string{"api"}, "apache/spark:latest", false, "not pinned by digest"},
	} {
		skipped, err := checkStream(c.workloads, c.base)
		if skipped != c.skipped || (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("checkStream(%q, %q) = %v, %v; want %v, %q", c.workloads, c.base, skipped, err, c.skipped, c.err)
		}
	}
	if !strings.Contains(streamSkippedNote, "SPARK_BASE_IMAGE=apache/spark:") {
		t.Errorf("the skip note does not say how to set the base: %s", streamSkippedNote)
	}
}

func clearEnv(t *testing.T) {
	for _, k := range []string{"PUSH", "REGISTRY", "BASE_IMAGE", "SPARK_BASE_IMAGE", "SPARK_JARS", "VERSION", "REVISION", "SOURCE_URL", "CA_BUNDLE"} {
		t.Setenv(k, "")
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1772366400")
}

func TestStreamWithoutBaseIsAnError(t *testing.T) {
	clearEnv(t)
	var out bytes.Buffer
	err := run(context.Background(), []string{"-workloads", "stream", "-out", t.TempDir()}, &out)
	if err == nil || !strings.Contains(err.Error(), "SPARK_BASE_IMAGE") {
		t.Fatalf("run -workloads stream without a base = %v", err)
	}
}

// TestStreamImageCommand builds the stream image alone on a stand-in base
// served in-process, and reads digests.json back.
func TestStreamImageCommand(t *testing.T) {
	clearEnv(t)
	base, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: "linux", Architecture: "amd64",
		Config: v1.Config{Entrypoint: []string{"/opt/entrypoint.sh"}, User: "185", WorkingDir: "/opt/spark/work-dir"}})
	if err != nil {
		t.Fatal(err)
	}
	baseRef := imagestest.Serve(t, "apache/spark:3.5.7", base)
	jars := t.TempDir()
	for _, n := range []string{"sluice-spark.jar", "kafka-clients-3.4.1.jar"} {
		if err := os.WriteFile(filepath.Join(jars, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	var out bytes.Buffer
	args := []string{"-workloads", "stream", "-out", dir, "-spark-base", baseRef, "-spark-jars", jars}
	if err := run(context.Background(), args, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	raw, err := os.ReadFile(filepath.Join(dir, "digests.json"))
	if err != nil {
		t.Fatal(err)
	}
	var refs map[string]string
	if err := json.Unmarshal(raw, &refs); err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || !strings.HasPrefix(refs["stream"], "stream@sha256:") {
		t.Errorf("digests.json = %s", raw)
	}
	if !strings.Contains(out.String(), refs["stream"]) || strings.Contains(out.String(), "skipped") {
		t.Errorf("output:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "oci", "index.json")); err != nil {
		t.Errorf("no OCI layout: %v", err)
	}
}
