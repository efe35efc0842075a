package modroot

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFind(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Find(deep); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Find without go.mod: %v, want ErrNotFound", err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example.com/x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Find(deep)
	if err != nil || got != root {
		t.Fatalf("Find(%s) = %q, %v; want %q", deep, got, err, root)
	}
	// The repository this test runs in has its go.mod at the module root.
	here, err := Find(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(here, "workloads", "dev", "modroot")); err != nil {
		t.Fatalf("Find(.) = %s, not the repository root: %v", here, err)
	}
}
