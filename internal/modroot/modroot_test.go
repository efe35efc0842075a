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
	if _, err := os.Stat(filepath.Join(here, "internal", "modroot")); err != nil {
		t.Fatalf("Find(.) = %s, not the repository root: %v", here, err)
	}
}

func TestFindFile(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "a", "Pulumi.yaml"), []byte("name: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := FindFile(deep, "Pulumi.yaml")
	if err != nil || got != filepath.Join(root, "a") {
		t.Fatalf("FindFile(%s, Pulumi.yaml) = %q, %v; want %q", deep, got, err, filepath.Join(root, "a"))
	}
	if _, err := FindFile(deep, "no-such-marker"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("FindFile of a missing name: %v, want ErrNotFound", err)
	}
}
