// Package modroot finds the repository's root: the nearest directory at or
// above a start directory that holds go.mod. The local engines, the test
// launchers, the image builder and their tests all locate the repository
// this way.
//
// It sits with the dev tooling because nothing that ships needs it, and it
// is not internal, so the images and infra trees may import it as well; it
// imports only the standard library.
package modroot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrNotFound is wrapped when no directory up to the file system root
// holds go.mod.
var ErrNotFound = errors.New("no go.mod at or above the directory")

// Find returns the absolute path of the nearest directory at or above dir
// that holds go.mod.
func Find(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", dir, err)
	}
	for d := abs; ; {
		_, err := os.Stat(filepath.Join(d, "go.mod"))
		if err == nil {
			return d, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("look for go.mod in %s: %w", d, err)
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("%w %s", ErrNotFound, abs)
		}
		d = parent
	}
}
