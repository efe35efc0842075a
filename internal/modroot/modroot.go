package modroot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrNotFound is wrapped when no directory up to the file system root
// holds the file looked for.
var ErrNotFound = errors.New("not found at or above the directory")

// Find returns the absolute path of the nearest directory at or above dir
// that holds go.mod.
func Find(dir string) (string, error) { return FindFile(dir, "go.mod") }

// FindFile returns the absolute path of the nearest directory at or above
// dir that holds a file called name.
func FindFile(dir, name string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", dir, err)
	}
	for d := abs; ; {
		_, err := os.Stat(filepath.Join(d, name))
		if err == nil {
			return d, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("look for %s in %s: %w", name, d, err)
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("%s %w %s", name, ErrNotFound, abs)
		}
		d = parent
	}
}
