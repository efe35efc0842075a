package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/infra/delivery/prcomment"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRender(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"prod.log":        "Resources:\n    5 unchanged\n",
		"prod.exit":       "0\n",
		"dev.log":         "error: boom\n",
		"dev.exit":        "255",
		"review-pr3.skip": "review stack not created",
		"staging.skip":    "",
	})
	out := filepath.Join(dir, "out", "comment.md")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := realMain([]string{"-dir", dir, "-o", out, "-commit", "abc123"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	body, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	text := string(body)
	if !strings.HasPrefix(text, prcomment.Marker) {
		t.Fatalf("no marker:\n%s", text)
	}
	iDev := strings.Index(text, "| `dev` | ❌ failed (exit 255)")
	iStaging := strings.Index(text, "| `staging` | ⏭️ skipped: not previewed")
	iProd := strings.Index(text, "| `prod` | ✅ succeeded | no changes | 5 |")
	iReview := strings.Index(text, "| `review-pr3` | ⏭️ skipped: review stack not created")
	if iDev < 0 || iStaging < 0 || iProd < 0 || iReview < 0 || !(iDev < iStaging && iStaging < iProd && iProd < iReview) {
		t.Fatalf("rows missing or out of order (%d %d %d %d):\n%s", iDev, iStaging, iProd, iReview, text)
	}
}

func TestRenderErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := realMain(nil, &stdout, &stderr); code != 2 {
		t.Fatalf("no -dir: exit %d", code)
	}
	empty := t.TempDir()
	if code := realMain([]string{"-dir", empty}, &stdout, &stderr); code != 1 {
		t.Fatalf("empty dir: exit %d", code)
	}
	noExit := t.TempDir()
	writeFiles(t, noExit, map[string]string{"dev.log": "x"})
	stderr.Reset()
	if code := realMain([]string{"-dir", noExit}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "stack dev: exit code") {
		t.Fatalf("missing exit file: exit %d, %s", code, stderr.String())
	}
	badExit := t.TempDir()
	writeFiles(t, badExit, map[string]string{"dev.log": "x", "dev.exit": "ok"})
	if code := realMain([]string{"-dir", badExit}, &stdout, &stderr); code != 1 {
		t.Fatalf("bad exit file: exit %d", code)
	}
	noLog := t.TempDir()
	writeFiles(t, noLog, map[string]string{"dev.exit": "0"})
	if code := realMain([]string{"-dir", noLog}, &stdout, &stderr); code != 1 {
		t.Fatalf("missing log: exit %d", code)
	}
}

func TestStackOrder(t *testing.T) {
	in := []string{"review-pr2", "prod", "a", "dev", "staging"}
	want := []string{"dev", "staging", "prod", "a", "review-pr2"}
	for i := range in {
		for j := range in {
			a, b := in[i], in[j]
			ia, ib := index(want, a), index(want, b)
			if stackLess(a, b) != (ia < ib) {
				t.Fatalf("stackLess(%s, %s) = %v", a, b, stackLess(a, b))
			}
		}
	}
}

func index(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

func TestAffectedCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	in := strings.NewReader("stacks/Pulumi.staging.yaml\nREADME.md\n")
	if code := affectedMain([]string{"-stacks", "dev, staging,prod"}, in, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if stdout.String() != "staging\n" {
		t.Fatalf("affected = %q", stdout.String())
	}
	stdout.Reset()
	if code := affectedMain(nil, strings.NewReader("infra/main.go\n"), &stdout, &stderr); code != 0 || stdout.String() != "dev\nstaging\nprod\n" {
		t.Fatalf("exit %d, affected = %q", code, stdout.String())
	}
}
